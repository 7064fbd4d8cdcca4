/**
 * A small JSON client over node's http(s): requests return the API's plain JSON, the same shape
 * a `kubectl get -o json` dump holds. TLS and credentials come from client-node's KubeConfig
 * (see connectionInit), exec credential plugins from src/kube/exec-credential.ts. Every request
 * sent is counted so that tests and benchmarks can check that the count does not grow with
 * replicas.
 *
 * Bounded by construction (README, "How it reads the cluster"):
 * - each request is bounded by the per-request timeout (`--request-timeout`, headers and body
 *   together) and by the client's absolute {@link KubeClient.deadline};
 * - an answer is read up to {@link MAX_RESPONSE_BYTES}, a list up to {@link MAX_PAGES} pages;
 * - reads are retried on 429 (honouring `Retry-After`), 500/502/503/504, refused, reset and
 *   truncated connections, at most {@link MAX_ATTEMPTS} times in all, with exponential backoff,
 *   never past the deadline. A write is sent again only when the first attempt surely did not
 *   reach the server (connection refused) and it carries a precondition (see
 *   {@link hasPrecondition}); every other failed write is reported as it is;
 * - at most {@link MAX_IN_FLIGHT} requests of one client are in flight at once (the others wait
 *   their turn), on keep-alive connections of one agent (see keepAliveAgent), so that a process
 *   does one TLS handshake per connection, not per request; answers are asked for gzip-compressed
 *   and the byte cap applies to the decompressed body.
 */
import { Agent as PlainAgent, request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as TlsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { createGunzip } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, KubeconfigError, ResponseLimitError, StsDoctorError } from '../errors.js';
import { VERSION } from '../cli/version.js';
import { connectionConfig, type ResolvedConfig } from './kubeconfig.js';
import { displayServer } from './server-url.js';

export { displayServer };

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
  /** The answer is text, not JSON (`pods/<pod>/log`): returned as a string, sent accepting any media type. */
  text?: boolean;
  /** The `Accept` header of a JSON answer (default `application/json`), e.g. the server-side Table of {@link KubeClient.listTable}. */
  accept?: string;
}

/** A LIST as the server-side printer's Table (meta.k8s.io/v1 Table, `includeObject=None`): the column names and each row's cells. */
export interface TableList {
  columns: string[];
  rows: unknown[][];
}

/** Rows per page of a {@link KubeClient.listTable} (a row is a few hundred bytes, not an object). */
export const TABLE_PAGE_SIZE = 10_000;

/** The Accept header of a Table LIST: the Table, else (a server that cannot print one) plain JSON. */
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

/** One list page size; lists are read in pages of this many items. */
export const PAGE_SIZE = 500;
/** Most pages one list follows (`metadata.continue`): 200 pages of 500, 100,000 items. */
export const MAX_PAGES = 200;
/** Largest answer read, in bytes (256 MiB); a larger one is abandoned while it streams in. */
export const MAX_RESPONSE_BYTES = 256 * 2 ** 20;
/** Most attempts of one request (the first and four retries). */
export const MAX_ATTEMPTS = 5;
/** First retry delay (ms); it doubles on each retry (250 ms, 500 ms, 1 s, 2 s), with jitter. */
export const RETRY_BASE_MS = 250;
/** Longest `Retry-After` honoured (ms); a server that asks for more is not retried. */
export const MAX_RETRY_AFTER_MS = 10_000;

/** Most requests of one client in flight at once (`-A` over many namespaces included). */
export const MAX_IN_FLIGHT = 8;

/** The user agent of every request: `sts-doctor/<version>`. */
export const USER_AGENT = `sts-doctor/${VERSION}`;

/**
 * True when a write carries a precondition that makes sending it twice harmless: a DELETE with
 * `preconditions.uid` (and usually `resourceVersion`), a merge or strategic patch that sets
 * `metadata.resourceVersion`, or a JSON patch with a `test` op. Such a write is retried only on
 * "connection refused" (it never reached the server); never on 429, 5xx, a reset or a timeout,
 * after which it may have been applied.
 */
export function hasPrecondition(method: string, body: unknown, contentType: string | undefined): boolean {
  if (method === 'DELETE') return typeof (body as { preconditions?: { uid?: unknown } } | undefined)?.preconditions?.uid === 'string';
  if (method !== 'PATCH') return false;
  if (contentType === 'application/json-patch+json') return Array.isArray(body) && body.some((op) => (op as { op?: unknown })?.op === 'test');
  return typeof (body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion === 'string';
}

export class KubeClient {
  /** Requests sent so far (each page of a list and each retry counts). */
  requests = 0;
  /** Bytes of answer bodies received so far, as they came over the wire (compressed). */
  bytesReceived = 0;
  /** Requests in flight now, and the most at once so far (never above {@link MAX_IN_FLIGHT}). */
  inFlight = 0;
  maxInFlight = 0;
  /** Requests waiting for one of the {@link MAX_IN_FLIGHT} slots, first come first served. */
  private readonly queue: (() => void)[] = [];
  /**
   * An absolute deadline (milliseconds since the epoch) that no request outlasts: each request's
   * timeout is cut to the time left, no retry waits past it, and a request started after it
   * fails at once with a transient ApiError. Set by commands with an overall `--timeout`
   * (`wait`, `recover`'s watch).
   */
  deadline: number | undefined;
  /** The API server URL, without userinfo (safe to print). */
  readonly server: string;
  private readonly url: string;
  private readonly config: ResolvedConfig;
  private readonly timeoutMs: number;
  private init: Promise<ConnectionInit> | undefined;
  private initExpiresAt: number | undefined;

  /**
   * @param config a resolved kubeconfig (see resolveKubeconfig)
   * @param timeoutMs per-request timeout in milliseconds; 0 for none. It also bounds an exec
   *   credential plugin's run.
   */
  constructor(config: ResolvedConfig, timeoutMs = 30_000) {
    this.config = config;
    this.url = config.server;
    this.server = displayServer(config.server);
    this.timeoutMs = timeoutMs;
  }

  /** Milliseconds a step may take now: the per-request timeout cut to the deadline (0: none). */
  private budget(): { ms: number; byDeadline: boolean } {
    if (this.deadline === undefined) return { ms: this.timeoutMs, byDeadline: false };
    const left = Math.max(1, this.deadline - Date.now());
    return this.timeoutMs > 0 && this.timeoutMs < left ? { ms: this.timeoutMs, byDeadline: false } : { ms: left, byDeadline: true };
  }

  /** Waits for a free slot of the {@link MAX_IN_FLIGHT}; pair with {@link release}. */
  private async acquire(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  private release(): void {
    this.inFlight--;
    this.queue.shift()?.();
  }

  /** TLS agent and headers; re-made when an exec credential has expired, or when `renew`. */
  private connection(renew = false): Promise<ConnectionInit> {
    if (renew || !this.init || (this.initExpiresAt !== undefined && Date.now() >= this.initExpiresAt)) {
      if (renew) this.config.execPlugin?.invalidate();
      const init = connectionInit(this.config, this.budget().ms);
      this.init = init;
      this.initExpiresAt = undefined;
      init.then(
        (i) => {
          if (this.init === init) this.initExpiresAt = i.expiresAt;
        },
        () => {
          if (this.init === init) this.init = undefined;
        },
      );
    }
    return this.init;
  }

  /**
   * Sends one request and returns the parsed JSON body, retrying as described in the module
   * comment.
   * @throws ApiError with the HTTP status (and the server's Status message) for any non-2xx
   *   answer, or without status when the server cannot be reached; `transient` when trying
   *   again later may succeed. ResponseLimitError when the answer exceeds MAX_RESPONSE_BYTES.
   *   KubeconfigError when the credentials cannot be obtained.
   */
  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
    const method = opts.method ?? 'GET';
    const what = `${method} ${url.pathname}`;
    const body = opts.body !== undefined ? JSON.stringify(opts.body) : undefined;
    const headers: Record<string, string> = { Accept: opts.text ? '*/*' : (opts.accept ?? 'application/json'), 'Accept-Encoding': 'gzip', 'User-Agent': USER_AGENT };
    if (body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const isRead = method === 'GET';
    const resendIfRefused = isRead || hasPrecondition(method, opts.body, opts.contentType);
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      if (this.deadline !== undefined && Date.now() >= this.deadline) throw new ApiError(`${what}: not sent, the deadline has passed.`, undefined, { transient: true });
      let failure: { error: ApiError; retryAfterMs?: number; retry: boolean };
      let base: ConnectionInit;
      try {
        base = await this.connection();
      } catch (err) {
        // An exec credential plugin cut short by the deadline (not by its own timeout): the
        // request is not sent because the deadline passed, as below, not because the plugin failed.
        if (this.deadline !== undefined && Date.now() >= this.deadline - 50 && this.budget().byDeadline) throw new ApiError(`${what}: not sent, the deadline has passed.`, undefined, { transient: true, cause: err });
        throw err;
      }
      await this.acquire();
      const { ms, byDeadline } = this.budget();
      this.requests++;
      try {
        let res: RawResponse;
        try {
          res = await send(url, method, { ...base.headers, ...headers }, body, base.agent, ms);
        } finally {
          this.release();
        }
        this.bytesReceived += res.wireBytes;
        if (res.status >= 200 && res.status <= 299) return opts.text ? (res.body.toString('utf8') as T) : parseJson<T>(res.body, what, this.server, res.status);
        const error = statusError(what, res);
        // An expired or revoked exec credential: run the plugin again, once (as kubectl does).
        if (res.status === 401 && this.config.execPlugin && !renewed) {
          renewed = true;
          await this.connection(true);
          attempt--;
          continue;
        }
        const retryable = isRead && [429, 500, 502, 503, 504].includes(res.status);
        failure = { error, retry: retryable, ...(res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}) };
      } catch (err) {
        if (err instanceof StsDoctorError) throw err;
        const e = err as NodeJS.ErrnoException;
        const reason = networkReason(err, ms, byDeadline);
        const error = new ApiError(`Cannot reach the API server at ${this.server}: ${reason}${attempt > 1 ? ` (${attempt} attempts)` : ''}.`, undefined, { cause: err });
        const timedOut = e.name === 'AbortError';
        // A kept-alive connection the server had just closed: the request never reached it (Node's advice: send it again).
        const notSent = e.code === 'ECONNREFUSED' || ((err as { reusedSocket?: boolean }).reusedSocket === true && e.code === 'ECONNRESET');
        failure = { error, retry: !timedOut && (notSent ? resendIfRefused : isRead && RETRYABLE_NETWORK.has(e.code ?? '')) };
      }
      if (!failure.retry || attempt >= MAX_ATTEMPTS) throw withAttempts(failure.error, attempt);
      const backoff = RETRY_BASE_MS * 2 ** (attempt - 1);
      const jittered = backoff / 2 + (Math.random() * backoff) / 2;
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > MAX_RETRY_AFTER_MS) throw withAttempts(failure.error, attempt);
      const delay = Math.max(jittered, failure.retryAfterMs ?? 0);
      if (this.deadline !== undefined && Date.now() + delay >= this.deadline) throw withAttempts(failure.error, attempt);
      await sleep(delay);
    }
  }

  /** GETs a text answer (a container's log), with the same retries and bounds as {@link get}. */
  getText(path: string, query?: RequestOptions['query']): Promise<string> {
    return this.request<string>(path, query ? { query, text: true } : { text: true });
  }

  /** GETs one object. */
  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>(path, query ? { query } : {});
  }

  /**
   * Lists a collection, following `metadata.continue` in pages of {@link PAGE_SIZE}, at most
   * {@link MAX_PAGES} pages; when a continue token has expired (410 Gone) the list starts over
   * once.
   * @returns the items; each gets `apiVersion` and `kind` from the list when it lacks them.
   * @throws ResponseLimitError when the list has more than MAX_PAGES pages; as {@link request}.
   */
  async list<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    return (await this.listWithVersion<T>(path, query)).items;
  }

  /**
   * As {@link list}, with the list's `metadata.resourceVersion` (of its first page: every page
   * of one paged list is read at that version), from which a watch resumes (see {@link watch}).
   */
  async listWithVersion<T>(path: string, query: Record<string, string | undefined> = {}): Promise<{ items: T[]; resourceVersion: string | undefined }> {
    let items: T[] = [];
    let resourceVersion: string | undefined;
    let cont: string | undefined;
    let pages = 0;
    let restarted = false;
    for (;;) {
      if (++pages > MAX_PAGES) throw new ResponseLimitError(`LIST ${path}: more than ${MAX_PAGES} pages of ${PAGE_SIZE} (metadata.continue never ends).`);
      type Page = { apiVersion?: string; kind?: string; items?: T[]; metadata?: { continue?: string; resourceVersion?: string } };
      let page: Page;
      try {
        page = await this.request<Page>(path, { query: { ...query, limit: PAGE_SIZE, continue: cont } });
      } catch (err) {
        // 410 Gone: the continue token expired (etcd compacted the revision) while paging. Start
        // the list over, once, as kubectl's pager does; the pages read so far are dropped.
        if (cont !== undefined && !restarted && err instanceof ApiError && err.status === 410) {
          restarted = true;
          items = [];
          cont = undefined;
          continue;
        }
        throw err;
      }
      if (cont === undefined) resourceVersion = typeof page.metadata?.resourceVersion === 'string' ? page.metadata.resourceVersion : undefined;
      const kind = page.kind?.replace(/List$/, '');
      for (const item of Array.isArray(page.items) ? page.items : []) {
        const o = item as { apiVersion?: string; kind?: string };
        if (o && typeof o === 'object') {
          o.apiVersion ??= page.apiVersion;
          o.kind ??= kind;
        }
        items.push(item);
      }
      cont = typeof page.metadata?.continue === 'string' && page.metadata.continue ? page.metadata.continue : undefined;
      if (!cont) return { items, resourceVersion };
    }
  }


  /**
   * Lists a collection as the server-side printer's Table, as `kubectl get` does: one row of
   * printed columns per object (for PVs: Name, Capacity, Access Modes, Reclaim Policy, Status,
   * Claim, StorageClass, ...), without the objects (`includeObject=None`), in pages of
   * {@link TABLE_PAGE_SIZE} rows, at most {@link MAX_PAGES} pages.
   * @throws ApiError (without status) when the server answers something other than a Table; as {@link request}.
   */
  async listTable(path: string, query: Record<string, string | undefined> = {}): Promise<TableList> {
    const out: TableList = { columns: [], rows: [] };
    let cont: string | undefined;
    for (let pages = 1; ; pages++) {
      if (pages > MAX_PAGES) throw new ResponseLimitError(`LIST ${path}: more than ${MAX_PAGES} pages of ${TABLE_PAGE_SIZE} rows (metadata.continue never ends).`);
      type Page = { kind?: string; columnDefinitions?: { name?: unknown }[]; rows?: { cells?: unknown }[]; metadata?: { continue?: string } };
      const page = await this.request<Page>(path, { query: { ...query, includeObject: 'None', limit: TABLE_PAGE_SIZE, continue: cont }, accept: TABLE_ACCEPT });
      if (page?.kind !== 'Table' || !Array.isArray(page.columnDefinitions) || !Array.isArray(page.rows)) throw new ApiError(`LIST ${path}: the API server did not answer with a Table.`);
      if (pages === 1) out.columns = page.columnDefinitions.map((c) => (typeof c?.name === 'string' ? c.name : ''));
      for (const row of page.rows) if (Array.isArray(row?.cells)) out.rows.push(row.cells as unknown[]);
      cont = typeof page.metadata?.continue === 'string' && page.metadata.continue ? page.metadata.continue : undefined;
      if (!cont) return out;
    }
  }

  /**
   * One watch request (`GET path?watch=1&resourceVersion=...`, as an informer sends it): the
   * answer streams one JSON event per line, each handed to `onEvent` as it arrives. Not retried
   * and not counted against {@link MAX_IN_FLIGHT} (a watch is open for minutes; it has its own
   * connection from a second agent with the same TLS options). Counted in {@link requests}.
   * Resolves when the server ends the watch (its `timeoutSeconds`) or `signal` aborts it;
   * `onOpen` is called when the server has accepted it (a 2xx status, before any event).
   * @param timeoutSeconds asked of the server; the client gives up when nothing arrived for 30 s
   *   more than that (a half-open connection)
   * @throws ApiError with the HTTP status for a non-2xx answer, or with the code of an `ERROR`
   *   event's Status (410 when the resourceVersion is too old: list again); a transient ApiError
   *   when the connection fails or is cut; ResponseLimitError for one event over
   *   {@link MAX_WATCH_EVENT_BYTES}; KubeconfigError when the credentials cannot be obtained.
   */
  async watch(path: string, query: Record<string, string | undefined>, timeoutSeconds: number, onEvent: (e: WatchEvent) => void, signal?: AbortSignal, onOpen?: () => void): Promise<void> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries({ ...query, watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) })) if (v !== undefined) url.searchParams.set(k, v);
    const what = `WATCH ${url.pathname}`;
    const base = await this.connection();
    base.watchAgent ??= base.agent ? watchAgent(base.agent) : undefined;
    this.requests++;
    const status = await stream(url, { ...base.headers, Accept: 'application/json', 'User-Agent': USER_AGENT }, base.watchAgent, (timeoutSeconds + 30) * 1000, signal, (line) => {
      let e: WatchEvent;
      try {
        e = JSON.parse(line) as WatchEvent;
      } catch (err) {
        throw new ApiError(`${what}: the server sent an event that is not JSON.`, 200, { cause: err, transient: true });
      }
      if (e?.type === 'ERROR') {
        const st = (e.object ?? {}) as StatusBody;
        const code = typeof st.code === 'number' ? st.code : 500;
        throw new ApiError(`${what}: ${code} ${st.reason ?? 'Error'}: ${st.message ?? 'watch error'}`, code);
      }
      if (e && typeof e === 'object' && typeof e.type === 'string' && e.object && typeof e.object === 'object') onEvent(e);
    }, (n) => (this.bytesReceived += n), onOpen);
    if (status.status !== 0 && (status.status < 200 || status.status > 299)) {
      if (status.status === 401 && this.config.execPlugin) await this.connection(true);
      throw statusError(what, status);
    }
  }
}

/** One event of a watch: `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK` (only `metadata.resourceVersion` is meaningful). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { resourceVersion?: string; name?: string; namespace?: string; uid?: string } } & Record<string, unknown>;
}

/** Largest single watch event read (16 MiB); a larger one ends the watch with a ResponseLimitError. */
export const MAX_WATCH_EVENT_BYTES = 16 * 2 ** 20;

/**
 * A streaming GET: each newline-terminated line of a 2xx answer goes to `onLine` (an exception
 * it throws ends the stream and rejects); resolves with the status (and the error body, bounded)
 * when the answer ends or `signal` aborts (status 0). `idleMs` without a byte ends it as a
 * network failure.
 */
function stream(url: URL, headers: Record<string, string>, agent: HttpAgent | undefined, idleMs: number, signal: AbortSignal | undefined, onLine: (line: string) => void, onBytes: (n: number) => void, onOpen?: () => void): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const doRequest = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (err: unknown, value?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) {
        if (err instanceof StsDoctorError) reject(err);
        else reject(new ApiError(`WATCH ${url.pathname}: the watch failed: ${networkReason(err, idleMs, false)}.`, undefined, { cause: err, transient: true }));
      } else resolve(value!);
    };
    const onAbort = (): void => done(undefined, { status: 0, statusText: 'aborted', body: Buffer.alloc(0), wireBytes: 0 });
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => done(Object.assign(new Error(`no answer within ${idleMs} ms`), { name: 'AbortError' })), idleMs);
    };
    const req = doRequest(url, { method: 'GET', headers, ...(agent ? { agent } : {}) }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      idle();
      if (status >= 200 && status <= 299) onOpen?.();
      res.on('data', (c: Buffer) => {
        idle();
        onBytes(c.length);
        if (status < 200 || status > 299) {
          if (size < 64 * 1024) chunks.push(c);
          size += c.length;
          return;
        }
        let start = 0;
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, start)) {
          chunks.push(c.subarray(start, i));
          const line = Buffer.concat(chunks).toString('utf8');
          chunks.length = 0;
          size = 0;
          start = i + 1;
          if (!line.trim()) continue;
          try {
            onLine(line);
          } catch (err) {
            return done(err);
          }
        }
        if (start < c.length) {
          chunks.push(c.subarray(start));
          size += c.length - start;
          if (size > MAX_WATCH_EVENT_BYTES) done(new ResponseLimitError(`WATCH ${url.pathname}: one event is larger than ${MAX_WATCH_EVENT_BYTES / 2 ** 20} MiB.`));
        }
      });
      res.on('error', (err) => done(err));
      res.on('end', () => done(undefined, { status, statusText: res.statusMessage ?? '', body: status >= 200 && status <= 299 ? Buffer.alloc(0) : Buffer.concat(chunks), wireBytes: 0 }));
      res.on('close', () => {
        if (!res.complete) done(truncated());
      });
    });
    // First, so that a request destroyed at once (an aborted signal) has its error handled.
    req.on('error', (err: Error) => done(err));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    idle();
    req.end();
  });
}

/** An agent with the TLS options of `agent` for watches: keep-alive, no socket limit (each watch holds one connection). */
function watchAgent(agent: HttpAgent): HttpAgent {
  const options = (agent as HttpAgent & { options?: Record<string, unknown> }).options ?? {};
  const shared = { ...options, keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4 };
  if (agent instanceof TlsAgent) return new TlsAgent(shared);
  if (agent.constructor === PlainAgent) return new PlainAgent(shared);
  return agent;
}

/** Network error codes after which a read is tried again. */
const RETRYABLE_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ETRUNCATED']);

function withAttempts(err: ApiError, attempts: number): ApiError {
  if (attempts <= 1 || err.status === undefined) return err;
  return new ApiError(`${err.message.replace(/\.$/, '')} (${attempts} attempts).`, err.status, { cause: err.cause, transient: err.transient });
}

function parseJson<T>(body: Buffer, what: string, server: string, status: number): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new ApiError(`${what}: the server at ${server} did not answer with JSON (is it a Kubernetes API server?).`, status, { cause: err, transient: false });
  }
}

/** The ApiError for a non-2xx answer: `GET /path: 503 ServiceUnavailable: <the Status message>`. */
function statusError(what: string, res: RawResponse): ApiError {
  const text = res.body.toString('utf8');
  let status: StatusBody = {};
  try {
    status = JSON.parse(text) as StatusBody;
  } catch {
    /* not a Status body */
  }
  const message = typeof status.message === 'string' ? status.message : text.trim().split('\n')[0] || res.statusText;
  const reason = typeof status.reason === 'string' && status.reason ? status.reason : res.statusText;
  return new ApiError(`${what}: ${res.status} ${reason}: ${message.length > 500 ? `${message.slice(0, 500)}…` : message}`, res.status);
}

/** How to reach the server: the TLS agent (CA, client certificate) and headers (Authorization). */
interface ConnectionInit {
  agent?: HttpAgent;
  headers: Record<string, string>;
  /** When the credential expires (ms since the epoch), for an exec credential that says so. */
  expiresAt?: number;
  /** The agent for watches (see watchAgent), made on the first watch. */
  watchAgent?: HttpAgent | undefined;
}

interface RawResponse {
  status: number;
  statusText: string;
  /** The body, decompressed. */
  body: Buffer;
  /** The body's size as received (before decompression). */
  wireBytes: number;
  /** `Retry-After` in milliseconds (seconds or an HTTP date), when the server sent one. */
  retryAfterMs?: number;
}

/** `Retry-After`: delay-seconds or an HTTP date, in milliseconds from now; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * One HTTP(S) exchange with node's own client (no fetch polyfill on the start-up path).
 * `timeoutMs` bounds the whole exchange, body included; 0 for none. Rejects on network errors,
 * on timeouts (an error named AbortError), on a body cut short (code ETRUNCATED), and with a
 * ResponseLimitError on an answer larger than MAX_RESPONSE_BYTES.
 */
function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, agent: HttpAgent | undefined, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const doRequest = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const tooLarge = (): ResponseLimitError =>
      new ResponseLimitError(`${method} ${url.pathname}: the answer is larger than ${MAX_RESPONSE_BYTES / 2 ** 20} MiB, the most sts-doctor reads in one response.`);
    const req = doRequest(url, { method, headers, ...(agent ? { agent } : {}) }, (res: IncomingMessage) => {
      const gzip = /^\s*gzip\s*$/i.test(String(res.headers['content-encoding'] ?? ''));
      if (!gzip && Number(res.headers['content-length']) > MAX_RESPONSE_BYTES) return fail(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      let wireBytes = 0;
      // The decompressed body is what the cap bounds: a small gzip answer may inflate a thousandfold.
      const body = gzip ? createGunzip() : undefined;
      const take = (c: Buffer): void => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) return fail(tooLarge());
        chunks.push(c);
      };
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks), wireBytes, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      };
      res.on('data', (c: Buffer) => {
        wireBytes += c.length;
        if (body) body.write(c);
        else take(c);
      });
      res.on('error', (err) => fail(res.complete ? err : truncated(err)));
      res.on('close', () => {
        if (!res.complete) fail(truncated());
      });
      if (body) {
        body.on('data', take);
        body.on('error', (err) => fail(Object.assign(new Error(`the gzip-compressed answer is corrupt (${err.message})`), { code: 'ETRUNCATED' })));
        body.on('end', finish);
        res.on('end', () => body.end());
        req.on('close', () => {
          if (settled) body.destroy();
        });
      } else res.on('end', finish);
    });
    if (timeoutMs > 0) timer = setTimeout(() => fail(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'AbortError' })), timeoutMs);
    req.on('error', (err: Error) => fail(req.reusedSocket && !settled ? Object.assign(err, { reusedSocket: true }) : err));
    req.end(body);
  });
}

function truncated(cause?: unknown): Error {
  return Object.assign(new Error('the connection closed before the whole answer arrived', cause ? { cause } : {}), { code: 'ETRUNCATED' });
}

/**
 * The TLS agent and headers for a resolved kubeconfig, from client-node's KubeConfig
 * (`applyToHTTPSOptions`: CA, client certificate, bearer token, auth-provider plugins, basic
 * auth, proxy) and, for a user with an exec credential plugin, the plugin's credential (run
 * with `timeoutMs`, cached per process until it expires; see exec-credential.ts).
 * @throws KubeconfigError when a credential it names cannot be read or a plugin fails
 */
async function connectionInit(config: ResolvedConfig, timeoutMs: number): Promise<ConnectionInit> {
  const expiresAt = config.execPlugin ? (await config.execPlugin.refresh(timeoutMs)).expiresAt : undefined;
  const opts: RequestOptionsWithAuth = {};
  try {
    await (await connectionConfig(config)).applyToHTTPSOptions(opts);
  } catch (err) {
    if (err instanceof StsDoctorError) throw err;
    throw new KubeconfigError(`Cannot use the credentials of context "${config.context}": ${((err as Error).message ?? String(err)).split('\n')[0]!.replace(/\.$/, '')}.`, { cause: err });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  if (opts.auth && !headers.Authorization) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const init: ConnectionInit = { headers };
  if (opts.agent) init.agent = keepAliveAgent(opts.agent as HttpAgent);
  if (expiresAt !== undefined) init.expiresAt = expiresAt;
  return init;
}

/**
 * The agent client-node built (CA, client certificate and key, TLS server name, skip-verify), as
 * one with keep-alive connections, at most {@link MAX_IN_FLIGHT} sockets: the same options, so
 * that every request of the process reuses a few TLS connections instead of a handshake each.
 * A proxy agent (cluster `proxy-url`: hpagent, SOCKS) is kept as it is.
 */
export function keepAliveAgent(agent: HttpAgent): HttpAgent {
  const options = (agent as HttpAgent & { options?: Record<string, unknown> }).options ?? {};
  const shared: Record<string, unknown> = { ...options, keepAlive: true, maxSockets: MAX_IN_FLIGHT, maxFreeSockets: MAX_IN_FLIGHT };
  // One TLS context (CA, certificate and key parsed once) for every connection of the process;
  // without it Node builds one per connection (about 1 ms each). A context that cannot be made
  // here is left to the connection, which reports the error as before.
  if (agent.constructor === TlsAgent && !shared.secureContext) {
    try {
      shared.secureContext = createSecureContext(shared as SecureContextOptions);
    } catch {
      /* reported by the first connection */
    }
  }
  if (agent.constructor === TlsAgent) return new TlsAgent(shared);
  if (agent.constructor === PlainAgent) return new PlainAgent(shared);
  return agent;
}

type RequestOptionsWithAuth = Parameters<ResolvedConfig['kubeConfig']['applyToHTTPSOptions']>[0] & { headers?: Record<string, unknown>; auth?: string; agent?: unknown };

function networkReason(err: unknown, timeoutMs: number, byDeadline: boolean): string {
  const e = err as { name?: string; code?: string; message?: string; type?: string };
  if (e.name === 'AbortError' || e.type === 'aborted') return byDeadline ? 'no answer before the deadline (--timeout)' : `no answer within ${Math.round(timeoutMs / 1000)} s`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ETRUNCATED':
      return 'the connection closed before the whole answer arrived';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_HAS_EXPIRED':
      return `TLS certificate not trusted (${e.code})`;
    default:
      return displayServer((e.message ?? String(err)).split('\n')[0]!.replace(/^request to \S+ failed, reason: /, '').replace(/\.$/, ''));
  }
}
