/**
 * Finds and loads the kubeconfig the way kubectl does, through client-node's KubeConfig (which
 * also supplies TLS and credentials: certificates, tokens, auth-provider plugins), but without
 * its silent fallback to http://localhost:8080 when there is none, with kubectl's merge of
 * several `KUBECONFIG` files, and with exec credential plugins run by sts-doctor under a
 * timeout (src/kube/exec-credential.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, sep } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { KubeconfigError } from '../errors.js';
import { displayServer } from './server-url.js';
import { ExecCredentialAuthenticator, ExecPlugin, execConfigOf, type ExecClusterInfo } from './exec-credential.js';

/** kubectl-compatible connection flags. */
export interface ConnectionOptions {
  /** `--kubeconfig`: one file; overrides $KUBECONFIG. */
  kubeconfig?: string;
  /** `--context`: a context of the kubeconfig; default its current-context. */
  context?: string;
  /** `-n/--namespace`; default the context's namespace, else `default`. */
  namespace?: string;
}

/** A loaded kubeconfig, the context in use and the namespace to read. */
export interface ResolvedConfig {
  kubeConfig: KubeConfig;
  context: string;
  /** The API server URL, without a trailing slash (may hold userinfo: print {@link displayServer} of it). */
  server: string;
  namespace: string;
  /** Where it came from: file paths, or `in-cluster`. */
  origin: string;
  /** The exec credential plugin of the context's user, when it has one. */
  execPlugin?: ExecPlugin;
  /** The Authenticator of {@link execPlugin}, added to {@link kubeConfig} (and to the KubeConfig of connectionConfig). */
  execAuthenticator?: ExecCredentialAuthenticator;
}

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

interface LoadedFile {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

/**
 * Loads one kubeconfig file: relative certificate and key paths are made absolute against its
 * directory, and so is an exec plugin's `command` when it contains a path separator (as
 * kubectl does). An empty file is an empty config.
 * @throws KubeconfigError when the file cannot be read or parsed
 */
function loadFile(file: string): LoadedFile {
  const kc = new KubeConfig();
  try {
    if (!statSync(file).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    const text = readFileSync(file, 'utf8');
    if (text.trim()) {
      kc.loadFromString(text);
      kc.makePathsAbsolute(dirname(file));
    }
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : firstLine(err);
    throw new KubeconfigError(`Cannot load kubeconfig ${file}: ${reason}.`, { cause: err });
  }
  const users = kc.getUsers().map((u): User => {
    const exec = u.exec as { command?: unknown } | null | undefined;
    if (!exec || typeof exec.command !== 'string' || isAbsolute(exec.command) || !exec.command.includes(sep)) return u;
    return { ...u, exec: { ...exec, command: join(dirname(file), exec.command) } };
  });
  return { clusters: kc.getClusters(), users, contexts: kc.getContexts(), currentContext: kc.getCurrentContext() || undefined };
}

/**
 * Merges kubeconfig files as kubectl does (k8s.io/client-go/tools/clientcmd, loader.go): for
 * clusters, users and contexts, the first file that has an entry of a name wins, and the same
 * name in a later file is not an error; `current-context` is the first file's that sets one.
 */
export function mergeKubeconfigs(files: LoadedFile[]): LoadedFile {
  const first = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: first(files.map((f) => f.clusters)),
    users: first(files.map((f) => f.users)),
    contexts: first(files.map((f) => f.contexts)),
    currentContext: files.find((f) => f.currentContext)?.currentContext,
  };
}

/**
 * Loads the kubeconfig from `--kubeconfig`, else `$KUBECONFIG` (a list; missing files are
 * skipped and the rest merged, as kubectl does), else `~/.kube/config`, else the in-cluster
 * service account.
 * @throws KubeconfigError when none exists, a file cannot be parsed, the context is unknown,
 *   the context names no cluster with an http(s) server, or its user's exec plugin is invalid
 */
export function resolveKubeconfig(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const kc = new KubeConfig();
  let origin: string;
  let loaded: LoadedFile | undefined;
  if (opts.kubeconfig) {
    loaded = loadFile(opts.kubeconfig);
    origin = opts.kubeconfig;
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) throw new KubeconfigError(`None of the files in KUBECONFIG exist (${env.KUBECONFIG}).`);
    loaded = mergeKubeconfigs(files.map(loadFile));
    origin = files.join(delimiter);
  } else if (existsSync(join(homedir(), '.kube', 'config'))) {
    origin = join(homedir(), '.kube', 'config');
    loaded = loadFile(origin);
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    origin = 'in-cluster';
  } else {
    throw new KubeconfigError('No kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config.');
  }
  // Exec plugins are run by sts-doctor (with a timeout), not by client-node's ExecAuth: the
  // `exec` stanza moves from the user to an ExecPlugin that an Authenticator applies.
  const plugins = new Map<string, ExecPlugin>();
  let pendingExec: { user: string; exec: unknown }[] = [];
  if (loaded) {
    const users = loaded.users.map((u) => {
      if (!u.exec) return u;
      pendingExec.push({ user: u.name, exec: u.exec });
      return { ...u, exec: undefined };
    });
    kc.loadFromOptions({ clusters: loaded.clusters, users, contexts: loaded.contexts, currentContext: loaded.currentContext });
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) throw new KubeconfigError(`Context "${opts.context}" is not in the kubeconfig (${origin}).`);
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getCurrentContext();
  if (!context) throw new KubeconfigError(`The kubeconfig (${origin}) has no current-context; pass --context.`);
  const ctx = kc.getContextObject(context);
  if (!ctx) throw new KubeconfigError(`Context "${context}" is not in the kubeconfig (${origin}).`);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new KubeconfigError(`Context "${context}" names no cluster with a server in the kubeconfig (${origin}).`);
  const server = cluster.server.replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  if (!url || !['https:', 'http:'].includes(url.protocol)) {
    throw new KubeconfigError(`The server of context "${context}" (${displayServer(server)}) is not an http(s) URL, in the kubeconfig (${origin}).`);
  }
  // Only the context's user matters; a broken plugin of another user is not an error.
  pendingExec = pendingExec.filter((p) => p.user === ctx.user);
  for (const { user, exec } of pendingExec) plugins.set(user, new ExecPlugin(user, execConfigOf(user, exec), clusterInfo(cluster)));
  const execAuthenticator = plugins.size ? new ExecCredentialAuthenticator(plugins) : undefined;
  if (execAuthenticator) kc.addAuthenticator(execAuthenticator);
  const namespace = opts.namespace || ctx.namespace || 'default';
  const resolved: ResolvedConfig = { kubeConfig: kc, context, server, namespace, origin };
  if (execAuthenticator) resolved.execAuthenticator = execAuthenticator;
  const plugin = plugins.get(ctx.user);
  if (plugin) resolved.execPlugin = plugin;
  return resolved;
}

/**
 * The KubeConfig to build connections from (TLS options and credentials): `config.kubeConfig`,
 * or, when the context's user names an `auth-provider` (azure, gcp, oidc, the legacy exec
 * provider) or its cluster a `proxy-url`, the same clusters, users and contexts in a KubeConfig
 * of the package loaded with `import()`. In the sts-doctor bundle only that one has client-node's
 * auth providers and proxy agents, which cost about 11 ms of start-up (scripts/build.mjs
 * kubeConfigOnly); unbundled, both are the same class.
 */
export async function connectionConfig(config: ResolvedConfig): Promise<KubeConfig> {
  const kc = config.kubeConfig;
  if (!kc.getCurrentUser()?.authProvider && !kc.getCurrentCluster()?.proxyUrl) return kc;
  const { KubeConfig: WithProviders } = await import('@kubernetes/client-node');
  const full = new WithProviders();
  full.loadFromOptions({ clusters: kc.getClusters(), users: kc.getUsers(), contexts: kc.getContexts(), currentContext: kc.getCurrentContext() });
  if (config.execAuthenticator) full.addAuthenticator(config.execAuthenticator);
  return full;
}

/** The cluster as an exec plugin with `provideClusterInfo` sees it. */
function clusterInfo(c: Cluster): ExecClusterInfo {
  const info: ExecClusterInfo = { server: c.server };
  if (c.tlsServerName) info['tls-server-name'] = c.tlsServerName;
  if (c.skipTLSVerify) info['insecure-skip-tls-verify'] = true;
  if (c.proxyUrl) info['proxy-url'] = c.proxyUrl;
  if (c.caData) info['certificate-authority-data'] = c.caData;
  else if (c.caFile) {
    try {
      info['certificate-authority-data'] = readFileSync(c.caFile).toString('base64');
    } catch {
      /* client-node reports an unreadable CA file when it builds the TLS agent */
    }
  }
  return info;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.replace(/\.$/, '');
}
