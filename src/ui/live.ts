/**
 * The live data of `sts-doctor ui`: a small typed seam between where snapshots come from and the
 * app that shows them. The app only ever calls {@link LiveSource.subscribe}; what is behind it
 * can change without touching the app:
 * - now: {@link pollingSource}, a full re-read through the ordinary read path
 *   (commands/load.ts `loadSnapshots`, one connection per process) every ~2 s;
 * - later: a list+watch cache, which calls `onSnapshot` whenever an object in scope changes.
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
import { isTransient, NotFoundError } from '../errors.js';
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

/**
 * A source that re-reads everything in scope with `read` (e.g. `() => loadSnapshots(undefined,
 * opts)`) every `intervalMs` milliseconds, after the previous read ended (reads never overlap).
 * The first read starts at once. A NotFoundError (nothing matched) is delivered as an empty
 * list of snapshots, not as an error: a StatefulSet may appear. A transient error is reported
 * with `retrying: true` and the reads go on; any other error is reported with `retrying: false`
 * and the source stops.
 */
export function pollingSource(read: () => Promise<Snapshot[]>, intervalMs = 2000): LiveSource {
  return {
    subscribe(onSnapshot, onError) {
      const stop = new AbortController();
      void (async () => {
        let since: number | undefined;
        while (!stop.signal.aborted) {
          let snapshots: Snapshot[] | undefined;
          let failure: unknown;
          try {
            snapshots = await read();
          } catch (err) {
            if (err instanceof NotFoundError) snapshots = [];
            else failure = err;
          }
          if (stop.signal.aborted) return;
          if (snapshots) {
            since = undefined;
            onSnapshot(snapshots);
          } else {
            since ??= Date.now();
            const retrying = isTransient(failure);
            onError({ error: failure instanceof Error ? failure : new Error(String(failure)), retrying, since });
            if (!retrying) return;
          }
          try {
            await sleep(intervalMs, undefined, { signal: stop.signal });
          } catch {
            return;
          }
        }
      })();
      return () => stop.abort();
    },
  };
}
