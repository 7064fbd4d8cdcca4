/**
 * Exec credential plugins (kubeconfig `users[].user.exec`), run by sts-doctor itself per the
 * `client.authentication.k8s.io` ExecCredential protocol (v1 and v1beta1), because
 * client-node's ExecAuth runs them without a timeout (a plugin that never returns hangs every
 * command) and without `KUBERNETES_EXEC_INFO`. The rest of the kubeconfig (CA, client
 * certificates, tokens, auth providers, proxy) stays with client-node: the credential reaches
 * it through an Authenticator ({@link ExecCredentialAuthenticator}), so a client certificate
 * from a plugin goes into client-node's TLS agent like any other.
 *
 * The protocol, as kubectl implements it (k8s.io/client-go/plugin/pkg/client/auth/exec):
 * - the plugin runs with the kubeconfig's `command`, `args` and `env` (added to our environment)
 *   and `KUBERNETES_EXEC_INFO` = `{"apiVersion": <exec.apiVersion>, "kind": "ExecCredential",
 *   "spec": {"interactive": <bool>, "cluster": {...} when provideClusterInfo}}`;
 * - `interactiveMode` `Never` (or no terminal on stdin): stdin is not given to the plugin;
 *   `Always` without a terminal is an error; `IfAvailable` (v1beta1's default) uses a terminal
 *   when there is one;
 * - it prints an ExecCredential of the same apiVersion whose `status` holds a `token` and/or
 *   `clientCertificateData` + `clientKeyData` (PEM), and optionally `expirationTimestamp`;
 * - a credential is reused until `expirationTimestamp`, or for the life of the process when it
 *   has none; a 401 runs the plugin once more (KubeClient).
 *
 * Bounds: the plugin is killed after the request timeout (`--request-timeout`, cut to a
 * command's deadline); its stdout is read up to 1 MiB; of its stderr only the first line is
 * shown, at most 200 characters, control characters escaped.
 */
import { spawn } from 'node:child_process';
import type { KubeConfig, User } from '@kubernetes/client-node';

/** client-node's Authenticator interface (not exported by its index). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];
import { CredentialPluginError } from '../errors.js';
import { sanitizeText } from '../report/sanitize.js';

/** One line of untrusted text (a plugin's name or stderr), control characters shown escaped. */
const escapeLine = (s: string): string => sanitizeText(s, false);

/** The `exec` stanza of a kubeconfig user. */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

/** The cluster as `KUBERNETES_EXEC_INFO` shows it with `provideClusterInfo`. */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
}

/** What a plugin returned: the `status` of its ExecCredential. */
export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** When it expires (ms since the epoch); undefined: valid for the life of the process. */
  expiresAt?: number;
}

/** The API versions of the protocol that sts-doctor speaks. */
export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** Most bytes of a plugin's stdout read (1 MiB). */
export const MAX_PLUGIN_OUTPUT = 2 ** 20;

/** The first line of a plugin's stderr, at most 200 characters, escaped; '' when none. */
export function firstStderrLine(stderr: string): string {
  const line = stderr.split(/\r?\n/).find((l) => l.trim()) ?? '';
  const short = line.trim().length > 200 ? `${line.trim().slice(0, 200)}…` : line.trim();
  return escapeLine(short);
}

/**
 * Validates a kubeconfig `exec` stanza.
 * @throws CredentialPluginError naming `user` when the command or apiVersion is missing or not spoken
 */
export function execConfigOf(user: string, exec: unknown): ExecConfig {
  const e = (exec ?? {}) as Record<string, unknown>;
  if (typeof e.command !== 'string' || !e.command) throw new CredentialPluginError(`The exec credential plugin of user "${escapeLine(user)}" names no command.`);
  const apiVersion = typeof e.apiVersion === 'string' ? e.apiVersion : '';
  if (!EXEC_API_VERSIONS.includes(apiVersion)) {
    throw new CredentialPluginError(`The exec credential plugin of user "${escapeLine(user)}" asks for apiVersion "${escapeLine(apiVersion)}"; sts-doctor speaks ${EXEC_API_VERSIONS.join(' and ')}.`);
  }
  const mode = e.interactiveMode;
  const cfg: ExecConfig = { command: e.command, apiVersion };
  if (Array.isArray(e.args)) cfg.args = e.args.map(String);
  if (Array.isArray(e.env)) cfg.env = e.env.filter((v): v is { name: string; value: string } => !!v && typeof (v as { name?: unknown }).name === 'string').map((v) => ({ name: v.name, value: String(v.value ?? '') }));
  if (typeof e.installHint === 'string') cfg.installHint = e.installHint;
  if (e.provideClusterInfo === true) cfg.provideClusterInfo = true;
  if (mode === 'Never' || mode === 'IfAvailable' || mode === 'Always') cfg.interactiveMode = mode;
  return cfg;
}

/**
 * Runs the plugin once and returns its credential.
 * @param timeoutMs kill it after this many milliseconds (0: no limit)
 * @throws CredentialPluginError (one sentence) when it cannot start, times out, fails, or
 *   prints no valid ExecCredential
 */
export function runExecPlugin(exec: ExecConfig, opts: { timeoutMs: number; cluster?: ExecClusterInfo; stdinIsTTY?: boolean }): Promise<ExecCredential> {
  const name = `The exec credential plugin "${escapeLine(exec.command)}"`;
  const tty = opts.stdinIsTTY ?? process.stdin.isTTY === true;
  const mode = exec.interactiveMode ?? 'IfAvailable';
  if (mode === 'Always' && !tty) return Promise.reject(new CredentialPluginError(`${name} needs an interactive terminal (interactiveMode: Always), and standard input is not one.`));
  const interactive = mode !== 'Never' && tty;
  const info = { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive, ...(exec.provideClusterInfo && opts.cluster ? { cluster: opts.cluster } : {}) } };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of exec.env ?? []) env[v.name] = v.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(exec.command, exec.args ?? [], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const finish = (err: Error | undefined, value?: ExecCredential): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        // A plugin that hangs, or a child of it that keeps the pipes open, must not keep us alive.
        child.kill('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.unref();
        reject(err);
      } else resolve(value!);
    };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      stdout += d;
      if (stdout.length > MAX_PLUGIN_OUTPUT) finish(new CredentialPluginError(`${name} wrote more than ${MAX_PLUGIN_OUTPUT / 2 ** 20} MiB.`));
    });
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'not executable' : (err.message.split('\n')[0] ?? '');
      const hint = exec.installHint ? ` ${firstStderrLine(exec.installHint)}` : '';
      finish(new CredentialPluginError(`${name} could not be started: ${escapeLine(why)}.${hint}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const line = firstStderrLine(stderr);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        return finish(new CredentialPluginError(`${name} ${how}${line ? `: ${line.replace(/\.$/, '')}` : ''}.`));
      }
      try {
        finish(undefined, parseExecCredential(stdout, exec.apiVersion));
      } catch (err) {
        finish(new CredentialPluginError(`${name} printed no valid ExecCredential: ${(err as Error).message}.`));
      }
    });
    if (opts.timeoutMs > 0) {
      timer = setTimeout(() => finish(new CredentialPluginError(`${name} did not finish within ${formatSeconds(opts.timeoutMs)} (--request-timeout).`)), opts.timeoutMs);
    }
  });
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * Parses a plugin's stdout.
 * @throws Error with a short reason when it is not an ExecCredential of `apiVersion` with a usable status
 */
export function parseExecCredential(stdout: string, apiVersion: string): ExecCredential {
  let obj: unknown;
  try {
    obj = JSON.parse(stdout);
  } catch {
    throw new Error('its output is not JSON');
  }
  const o = (obj ?? {}) as { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  if (o.kind !== 'ExecCredential') throw new Error('its output is not an ExecCredential');
  if (o.apiVersion !== apiVersion) throw new Error(`it answered with apiVersion "${escapeLine(String(o.apiVersion))}", not "${apiVersion}"`);
  const s = o.status;
  if (!s || typeof s !== 'object') throw new Error('it has no status');
  const str = (k: string): string | undefined => (typeof s[k] === 'string' && s[k] ? (s[k] as string) : undefined);
  const cred: ExecCredential = {};
  const token = str('token');
  const cert = str('clientCertificateData');
  const key = str('clientKeyData');
  if (token) cred.token = token;
  if (cert || key) {
    if (!cert || !key) throw new Error('it has a client certificate without its key, or a key without its certificate');
    cred.clientCertificateData = cert;
    cred.clientKeyData = key;
  }
  if (!token && !cert) throw new Error('it holds neither a token nor a client certificate');
  const exp = str('expirationTimestamp');
  if (exp) {
    const t = Date.parse(exp);
    if (Number.isNaN(t)) throw new Error(`its expirationTimestamp "${escapeLine(exp)}" is not a time`);
    cred.expiresAt = t;
  }
  return cred;
}

interface CacheEntry {
  promise: Promise<ExecCredential>;
  credential?: ExecCredential;
}

/**
 * The credentials obtained so far in this process, by plugin (command, args, env, apiVersion
 * and the cluster it is given): a `wait` that re-reads every few seconds, or a client made
 * anew, reuses a credential until it expires instead of running the plugin each time.
 * Parallel requests share one run.
 */
const cache = new Map<string, CacheEntry>();

/** Forgets every cached credential (tests). */
export function clearExecCredentialCache(): void {
  cache.clear();
}

/** The plugin of one kubeconfig user, its cached credential, and its refresh. */
export class ExecPlugin {
  readonly user: string;
  readonly config: ExecConfig;
  private readonly cluster: ExecClusterInfo | undefined;
  private readonly key: string;

  constructor(user: string, config: ExecConfig, cluster?: ExecClusterInfo) {
    this.user = user;
    this.config = config;
    this.cluster = config.provideClusterInfo ? cluster : undefined;
    this.key = JSON.stringify([config.command, config.args, config.env, config.apiVersion, config.interactiveMode, this.cluster]);
  }

  /** The credential now in use, if one was obtained and has not expired. */
  current(): ExecCredential | undefined {
    const c = cache.get(this.key)?.credential;
    return c && (c.expiresAt === undefined || c.expiresAt > Date.now()) ? c : undefined;
  }

  /**
   * A valid credential: the cached one, or a fresh run of the plugin (bounded by `timeoutMs`).
   * @throws CredentialPluginError
   */
  async refresh(timeoutMs: number): Promise<ExecCredential> {
    const entry = cache.get(this.key);
    if (entry && (!entry.credential || this.current())) return entry.promise;
    const next: CacheEntry = {
      promise: runExecPlugin(this.config, { timeoutMs, ...(this.cluster ? { cluster: this.cluster } : {}) }).then(
        (c) => {
          next.credential = c;
          return c;
        },
        (err: unknown) => {
          if (cache.get(this.key) === next) cache.delete(this.key);
          throw err;
        },
      ),
    };
    cache.set(this.key, next);
    return next.promise;
  }

  /** Drops the cached credential (after a 401), so that the next refresh runs the plugin. */
  invalidate(): void {
    cache.delete(this.key);
  }
}

/**
 * Hands the credential of an {@link ExecPlugin} to client-node: a bearer token header, or the
 * client certificate and key for its TLS agent. KubeClient refreshes the plugin before it asks
 * client-node for the connection options, so this only applies the cached credential.
 */
export class ExecCredentialAuthenticator implements Authenticator {
  private readonly plugins: Map<string, ExecPlugin>;

  constructor(plugins: Map<string, ExecPlugin>) {
    this.plugins = plugins;
  }

  isAuthProvider(user: User): boolean {
    return this.plugins.has(user.name);
  }

  async applyAuthentication(user: User, opts: { headers?: Record<string, unknown>; cert?: unknown; key?: unknown }): Promise<void> {
    const plugin = this.plugins.get(user.name)!;
    const cred = plugin.current() ?? (await plugin.refresh(30_000));
    if (cred.clientCertificateData) {
      opts.cert = cred.clientCertificateData;
      opts.key = cred.clientKeyData;
    }
    if (cred.token) {
      opts.headers ??= {};
      opts.headers.Authorization = `Bearer ${cred.token}`;
    }
  }
}
