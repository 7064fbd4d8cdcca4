/**
 * The live data of `sts-doctor ui`: a small typed seam between where snapshots come from and the
 * app that shows them. The app only ever calls {@link LiveSource.subscribe}; what is behind it
 * can change without touching the app. Today it is
 * {@link watchedSource}, the list+watch cache of `serve` and `wait` (src/snapshot/cache.ts),
 * which calls `onSnapshot` whenever an object in scope changes.
 *
 * Contract of a source (what the app relies on):
 * - `onSnapshot(snapshots)` gets everything in scope, one Snapshot per namespace (several only
 *   with `-A`), each complete as `diagnose` needs it (`evaluate` is pure over it). An empty list
 *   means nothing matched (the scope holds no StatefulSet).
 * - `onError(e)` reports a read that failed; `e.retrying` says whether the source keeps trying
 *   (a transient error: API server unreachable, 429, 5xx, errors.isTransient; or nothing
 *   matched yet) or has stopped for good (forbidden, a kubeconfig error: one sentence to show).
 *   A later `onSnapshot` means the source has recovered.
 * - Calls never overlap and never come after `unsubscribe()`. Nothing here writes.
 * This module loads no React or ink: a source is plain data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from '../errors.js';
import type { Snapshot } from '../snapshot/types.js';

/** A failed read, as a source reports it. */
export interface LiveError {
  /** The error; its message is one sentence (cluster text: sanitise before showing it). */
  error: Error;
  /** True when the source keeps trying; false when it has stopped. */
  retrying: boolean;
  /** When the current run of failures began (ms since the epoch). */
  since: number;
}

/** Where the app's snapshots come from (see the module comment for the contract). */
export interface LiveSource {
  /** Starts delivering; returns the function that stops it. */
  subscribe(onSnapshot: (snapshots: Snapshot[]) => void, onError: (e: LiveError) => void): () => void;
}

/** What {@link watchedSource} needs of the watch cache (src/snapshot/cache.ts ClusterCache). */
export interface WatchedCache {
  start(): void;
  stop(): Promise<void>;
  whenSynced(): Promise<void>;
  /** The error of a core resource that keeps failing (the store may be stale), if any. */
  coreFailure(): unknown;
  /** Namespaces that hold a StatefulSet in the cache. */
  namespaces(): string[];
  /** The Snapshot of namespace `ns`, built without a request. */
  snapshot(ns: string): Snapshot;
  /** Calls `listener` on every change; returns the function that removes it. */
  onTouch(listener: () => void): () => void;
}

/**
 * A source that follows everything in scope by watches: `cache` (the list+watch cache of `serve`
 * and `wait`, already scoped to the namespace or to all of them and to `-l`) is started on
 * subscribe and stopped on unsubscribe; after its first LISTs, one Snapshot per namespace that
 * holds a StatefulSet is built from it, without a request, whenever a change arrives (changes
 * within `debounceMs` milliseconds are delivered once) and at least every `intervalMs` (ages and
 * durations move on). A core resource whose watch keeps failing is reported as pollingSource
 * reports a failed read (transient: retrying, as the cache retries it; otherwise the source
 * stops). The cache holds no container logs: a `podlogs` gap says so in each Snapshot.
 */
export function watchedSource(cache: WatchedCache, intervalMs = 2000, debounceMs = 150): LiveSource {
  return {
    subscribe(onSnapshot, onError) {
      const stop = new AbortController();
      let wake: (() => void) | undefined;
      const off = cache.onTouch(() => wake?.());
      cache.start();
      void (async () => {
        let since: number | undefined;
        try {
          await cache.whenSynced();
          while (!stop.signal.aborted) {
            const failure = cache.coreFailure();
            if (failure) {
              since ??= Date.now();
              const retrying = isTransient(failure);
              onError({ error: failure instanceof Error ? failure : new Error(String(failure)), retrying, since });
              if (!retrying) return;
            } else {
              since = undefined;
              onSnapshot(cache.namespaces().map((ns) => cache.snapshot(ns)));
            }
            // The next change, at the latest after intervalMs (or the end).
            await new Promise<void>((resolve) => {
              const done = (): void => {
                clearTimeout(timer);
                wake = undefined;
                stop.signal.removeEventListener('abort', done);
                resolve();
              };
              const timer = setTimeout(done, intervalMs);
              wake = done;
              stop.signal.addEventListener('abort', done, { once: true });
            });
            try {
              await sleep(debounceMs, undefined, { signal: stop.signal });
            } catch {
              return;
            }
          }
        } finally {
          off();
          await cache.stop();
        }
      })();
      return () => stop.abort();
    },
  };
}
