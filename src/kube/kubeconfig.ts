/**
 * Finds and loads the kubeconfig the way kubectl does, through client-node's KubeConfig (which
 * also supplies TLS and credentials: certificates, tokens, exec and auth-provider plugins), but
 * without its silent fallback to http://localhost:8080 when there is none.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeconfigError } from '../errors.js';

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
  /** The API server URL, without a trailing slash. */
  server: string;
  namespace: string;
  /** Where it came from: file paths, or `in-cluster`. */
  origin: string;
}

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads the kubeconfig from `--kubeconfig`, else `$KUBECONFIG` (a list; missing files are
 * skipped, as kubectl does), else `~/.kube/config`, else the in-cluster service account.
 * @throws KubeconfigError when none exists, a file cannot be parsed, the context is unknown,
 *   or the context names no cluster with a server.
 */
export function resolveKubeconfig(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const kc = new KubeConfig();
  let origin: string;
  const load = (file: string, into: KubeConfig): void => {
    try {
      into.loadFromFile(file);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : firstLine(err);
      throw new KubeconfigError(`Cannot load kubeconfig ${file}: ${reason}.`, { cause: err });
    }
  };
  if (opts.kubeconfig) {
    load(opts.kubeconfig, kc);
    origin = opts.kubeconfig;
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) throw new KubeconfigError(`None of the files in KUBECONFIG exist (${env.KUBECONFIG}).`);
    load(files[0]!, kc);
    for (const f of files.slice(1)) {
      const more = new KubeConfig();
      load(f, more);
      kc.mergeConfig(more);
    }
    origin = files.join(delimiter);
  } else if (existsSync(join(homedir(), '.kube', 'config'))) {
    origin = join(homedir(), '.kube', 'config');
    load(origin, kc);
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    origin = 'in-cluster';
  } else {
    throw new KubeconfigError('No kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config.');
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
  const namespace = opts.namespace || ctx.namespace || 'default';
  return { kubeConfig: kc, context, server: cluster.server.replace(/\/+$/, ''), namespace, origin };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.replace(/\.$/, '');
}
