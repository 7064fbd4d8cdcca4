/**
 * A small JSON client over node's http(s): requests return the API's plain JSON, the same shape
 * a `kubectl get -o json` dump holds. TLS and credentials come from client-node's KubeConfig
 * (see connectionInit). Every request is counted so that tests and benchmarks can check that
 * the count does not grow with replicas.
 */
import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiError, KubeconfigError } from '../errors.js';
import type { ResolvedConfig } from './kubeconfig.js';

/** A Kubernetes `Status` error body. */
interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** For PATCH: `application/merge-patch+json` (default), `application/strategic-merge-patch+json`, `application/json-patch+json`. */
  contentType?: string;
}

/** One list page size; lists are read in pages of this many items. */
export const PAGE_SIZE = 500;

export class KubeClient {
  /** Requests sent so far (each page of a list counts). */
  requests = 0;
  /**
   * An absolute deadline (milliseconds since the epoch) that no request outlasts: each request's
   * timeout is cut to the time left, and a request started after it fails at once with a
   * transient ApiError. Set by commands with an overall `--timeout` (`wait`, `recover`'s watch).
   */
  deadline: number | undefined;
  readonly server: string;
  private readonly config: ResolvedConfig;
  private readonly timeoutMs: number;
  private init: Promise<ConnectionInit> | undefined;

  /**
   * @param config a resolved kubeconfig (see resolveKubeconfig)
   * @param timeoutMs per-request timeout in milliseconds; 0 for none
   */
  constructor(config: ResolvedConfig, timeoutMs = 30_000) {
    this.config = config;
    this.server = config.server;
    this.timeoutMs = timeoutMs;
  }

  private baseInit(): Promise<ConnectionInit> {
    this.init ??= connectionInit(this.config);
    return this.init;
  }

  /**
   * Sends one request and returns the parsed JSON body.
   * @throws ApiError with the HTTP status (and the server's Status message) for any non-2xx
   *   answer, or without status when the server cannot be reached.
   */
  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
    const base = await this.baseInit();
    const headers: Record<string, string> = { ...base.headers, Accept: 'application/json' };
    const method = opts.method ?? 'GET';
    const body = opts.body !== undefined ? JSON.stringify(opts.body) : undefined;
    if (body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    let timeoutMs = this.timeoutMs;
    if (this.deadline !== undefined) {
      const left = this.deadline - Date.now();
      if (left <= 0) throw new ApiError(`${method} ${url.pathname}: not sent, the deadline has passed.`, undefined, { transient: true });
      timeoutMs = timeoutMs > 0 ? Math.min(timeoutMs, left) : left;
    }
    this.requests++;
    let res: RawResponse;
    try {
      res = await send(url, method, headers, body, base.agent, timeoutMs);
    } catch (err) {
      throw new ApiError(`Cannot reach the API server at ${this.server}: ${networkReason(err, timeoutMs)}.`, undefined, { cause: err });
    }
    const text = res.text;
    if (res.status < 200 || res.status > 299) {
      let status: StatusBody = {};
      try {
        status = JSON.parse(text) as StatusBody;
      } catch {
        /* not a Status body */
      }
      const what = status.message ?? (text.trim().split('\n')[0] || res.statusText);
      throw new ApiError(`${method} ${url.pathname}: ${res.status} ${status.reason ?? res.statusText}: ${what}`, res.status);
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ApiError(`${method} ${url.pathname}: the server at ${this.server} did not answer with JSON (is it a Kubernetes API server?).`, res.status, { cause: err });
    }
  }

  /** GETs one object. */
  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>(path, query ? { query } : {});
  }

  /**
   * Lists a collection, following `metadata.continue` in pages of {@link PAGE_SIZE}.
   * @returns the items; each gets `apiVersion` and `kind` from the list when it lacks them.
   */
  async list<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.request<{ apiVersion?: string; kind?: string; items?: T[]; metadata?: { continue?: string } }>(path, {
        query: { ...query, limit: PAGE_SIZE, continue: cont },
      });
      const kind = page.kind?.replace(/List$/, '');
      for (const item of page.items ?? []) {
        const o = item as { apiVersion?: string; kind?: string };
        o.apiVersion ??= page.apiVersion;
        o.kind ??= kind;
        items.push(item);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }
}

/** How to reach the server: the TLS agent (CA, client certificate) and headers (Authorization). */
interface ConnectionInit {
  agent?: HttpAgent;
  headers: Record<string, string>;
}

interface RawResponse {
  status: number;
  statusText: string;
  text: string;
}

/**
 * One HTTP(S) exchange with node's own client (no fetch polyfill on the start-up path).
 * `timeoutMs` bounds the whole exchange; 0 for none. Rejects on network errors and timeouts
 * (an error named AbortError).
 */
function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, agent: HttpAgent | undefined, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const doRequest = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let timer: NodeJS.Timeout | undefined;
    const req = doRequest(url, { method, headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (timeoutMs > 0) {
      timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'AbortError' })), timeoutMs);
    }
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/**
 * The TLS agent and headers for a resolved kubeconfig, from client-node's KubeConfig
 * (`applyToHTTPSOptions`: CA, client certificate, bearer token, exec and auth-provider plugins,
 * basic auth, proxy).
 * @throws KubeconfigError when a credential it names cannot be read or a plugin fails
 */
async function connectionInit(config: ResolvedConfig): Promise<ConnectionInit> {
  const opts: RequestOptionsWithAuth = {};
  try {
    await config.kubeConfig.applyToHTTPSOptions(opts);
  } catch (err) {
    throw new KubeconfigError(`Cannot use the credentials of context "${config.context}": ${((err as Error).message ?? String(err)).split('\n')[0]!.replace(/\.$/, '')}.`, { cause: err });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  if (opts.auth && !headers.Authorization) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const init: ConnectionInit = { headers };
  if (opts.agent) init.agent = opts.agent as HttpAgent;
  return init;
}

type RequestOptionsWithAuth = Parameters<ResolvedConfig['kubeConfig']['applyToHTTPSOptions']>[0] & { headers?: Record<string, unknown>; auth?: string; agent?: unknown };

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; type?: string };
  if (e.name === 'AbortError' || e.type === 'aborted') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_HAS_EXPIRED':
      return `TLS certificate not trusted (${e.code})`;
    default:
      return (e.message ?? String(err)).split('\n')[0]!.replace(/^request to \S+ failed, reason: /, '').replace(/\.$/, '');
  }
}
