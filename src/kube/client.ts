/**
 * A small JSON client over client-node's authentication: client-node's KubeConfig supplies the
 * TLS agent and credentials (certificates, tokens, exec and OIDC plugins); requests return the
 * API's plain JSON, the same shape a `kubectl get -o json` dump holds. Every request is counted
 * so that tests and benchmarks can check that the count does not grow with replicas.
 */
import fetch, { type RequestInit } from 'node-fetch';
import { ApiError } from '../errors.js';
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
  readonly server: string;
  private readonly config: ResolvedConfig;
  private readonly timeoutMs: number;
  private init: Promise<RequestInit> | undefined;

  /**
   * @param config a resolved kubeconfig (see resolveKubeconfig)
   * @param timeoutMs per-request timeout in milliseconds; 0 for none
   */
  constructor(config: ResolvedConfig, timeoutMs = 30_000) {
    this.config = config;
    this.server = config.server;
    this.timeoutMs = timeoutMs;
  }

  private baseInit(): Promise<RequestInit> {
    this.init ??= this.config.kubeConfig.applyToFetchOptions({}) as unknown as Promise<RequestInit>;
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
    const headers: Record<string, string> = { ...(base.headers as Record<string, string>), Accept: 'application/json' };
    const method = opts.method ?? 'GET';
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    const init: RequestInit = { ...base, method, headers };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    const controller = this.timeoutMs > 0 ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : undefined;
    if (controller) init.signal = controller.signal as RequestInit['signal'];
    this.requests++;
    let res;
    try {
      res = await fetch(url.toString(), init);
    } catch (err) {
      throw new ApiError(`Cannot reach the API server at ${this.server}: ${networkReason(err, this.timeoutMs)}.`, undefined, { cause: err });
    } finally {
      if (timer) clearTimeout(timer);
    }
    const text = await res.text();
    if (!res.ok) {
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
