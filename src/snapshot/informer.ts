/**
 * An informer: one resource (in one namespace, or cluster-wide) kept current by LIST + WATCH,
 * as client-go's reflector does, over our own client (src/kube/client.ts: credentials, TLS,
 * retries and caps are the same as every other read's):
 *
 * - LIST (paged), remember the list's resourceVersion, then WATCH from it; each event updates
 *   the store and is passed on; BOOKMARK events only move the resourceVersion on;
 * - when the server ends a watch (its timeoutSeconds, 5 to 10 minutes) or the connection drops,
 *   WATCH again from the last resourceVersion seen (no re-list, no lost event);
 * - 410 Gone (the resourceVersion is older than etcd keeps): LIST again and replace the store;
 * - a transient failure (errors.isTransient: unreachable, 429, 5xx, a cut connection): retried
 *   after a backoff of 0.5 s doubling to at most {@link MAX_TRANSIENT_BACKOFF_MS}, with jitter, for as long
 *   as the informer runs; the first success resets it. Any other failure (403, 404) is kept as
 *   `error` (the snapshot gets a Gap) and retried after {@link MAX_BACKOFF_MS}.
 *
 * Objects pass `admit` on the way in (schema check and trimming, see cache.ts); the store holds
 * only what it returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../errors.js';
import type { KubeClient, WatchEvent } from '../kube/client.js';
import type { KubeObject } from './types.js';

/** Longest pause between two attempts after a failure that is not transient (403, 404), in ms. */
export const MAX_BACKOFF_MS = 30_000;
/** Longest pause between two attempts after a transient failure (unreachable, 5xx), in ms: an apiserver back after a restart is watched again within this. */
export const MAX_TRANSIENT_BACKOFF_MS = 4_000;

/** What happened to one object, as passed to `onChange`. */
export type InformerChange<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T; old: T | undefined }
  /** The store was replaced by a LIST (the first one, or after a 410 Gone). */
  | { type: 'RELIST' };

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  /** The collection's path (`/api/v1/pods`, `/api/v1/namespaces/x/pods`). */
  path: string;
  /** Server-side selectors (`labelSelector`, `fieldSelector`). */
  query?: Record<string, string | undefined>;
  /** Checks and trims one object; undefined drops it (it is then not in the store). */
  admit: (o: unknown) => T | undefined;
  /** Called after the store changed. */
  onChange: (c: InformerChange<T>) => void;
  /** The server's watch timeout (s); default a random 300 to 600, as client-go. */
  timeoutSeconds?: number;
  /** Told of state changes only (a failure after success, the recovery, a re-list): never one line per retry. */
  log?: (line: string) => void;
}

/** The store key of an object: `namespace/name`, or `name` for cluster-scoped ones. */
export const keyOf = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

/** One resource kept current by list+watch (see the module comment). */
export class Informer<T extends KubeObject> {
  readonly store = new Map<string, T>();
  /** True once the first LIST has been read (also true after a failed one: see `error`). */
  synced = false;
  /** Watches started again after one ended with an error (not after a normal end). */
  restarts = 0;
  /** LISTs after the first one (410 Gone). */
  relists = 0;
  /** When the store last matched the server (a LIST or a watch event, ms since the epoch). */
  lastSyncMs = 0;
  /** The last failure, until a read succeeds again. */
  error: unknown;
  /** Since when reads have been failing (ms since the epoch; meaningful while `error` is set). */
  errorSinceMs = 0;
  private resourceVersion: string | undefined;
  private readonly syncedWaiters: (() => void)[] = [];

  constructor(private readonly opts: InformerOptions<T>) {}

  /** Resolves once the first LIST has been answered (with its objects, or with an error kept in `error`). */
  whenSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncedWaiters.push(r));
  }

  private markSynced(): void {
    this.synced = true;
    for (const w of this.syncedWaiters.splice(0)) w();
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 500;
    const pause = async (ms: number): Promise<boolean> => {
      try {
        await sleep(ms / 2 + (Math.random() * ms) / 2, undefined, { signal });
        return true;
      } catch {
        return false;
      }
    };
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        const timeout = this.opts.timeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
        const opened = (): void => {
          backoff = 500;
          this.recovered();
        };
        await this.opts.client.watch(this.opts.path, { ...this.opts.query, resourceVersion: this.resourceVersion }, timeout, (e) => this.apply(e), signal, opened);
      } catch (err) {
        if (signal.aborted) return;
        this.restarts++;
        if (err instanceof ApiError && err.status === 410) {
          // Too old: etcd compacted past our resourceVersion. List again (client-go does the same).
          this.opts.log?.(`${err.message.replace(/\.$/, '')}; listing again`);
          this.resourceVersion = undefined;
          continue;
        }
        if (!this.error) {
          this.opts.log?.(`${(err as Error).message.replace(/\.$/, '')}; retrying`);
          this.errorSinceMs = Date.now();
        }
        this.error = err;
        this.markSynced();
        const transient = err instanceof ApiError && err.transient;
        if (!(await pause(transient ? backoff : MAX_BACKOFF_MS))) return;
        backoff = Math.min(backoff * 2, MAX_TRANSIENT_BACKOFF_MS);
      }
    }
  }

  private async list(): Promise<void> {
    const { items, resourceVersion } = await this.opts.client.listWithVersion<unknown>(this.opts.path, this.opts.query ?? {});
    if (this.synced) this.relists++;
    this.store.clear();
    for (const item of items) {
      const o = this.opts.admit(item);
      if (o) this.store.set(keyOf(o), o);
    }
    this.resourceVersion = resourceVersion;
    this.recovered();
    this.lastSyncMs = Date.now();
    this.markSynced();
    this.opts.onChange({ type: 'RELIST' });
  }

  /** The server answers again: the error is over (said once). */
  private recovered(): void {
    if (this.error) this.opts.log?.(`WATCH ${this.opts.path}: watching again`);
    this.error = undefined;
  }

  private apply(e: WatchEvent): void {
    const rv = e.object.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv) this.resourceVersion = rv;
    this.lastSyncMs = Date.now();
    this.recovered();
    if (e.type === 'BOOKMARK') return;
    const o = this.opts.admit(e.object);
    if (!o) return;
    const key = keyOf(o);
    const old = this.store.get(key);
    if (e.type === 'DELETED') {
      this.store.delete(key);
      this.opts.onChange({ type: 'DELETED', object: old ?? o, old });
    } else {
      this.store.set(key, o);
      this.opts.onChange({ type: old ? 'MODIFIED' : 'ADDED', object: o, old });
    }
  }
}
