/**
 * The one watch loop of sts-doctor: `wait` (the CI gate) and the verify step of `recover` both
 * re-read the StatefulSet (a full collection, the same reads as `diagnose`) and re-evaluate
 * every rule each round, print what changed with the elapsed time, and stop when
 * - the StatefulSet is healthy (`done`),
 * - a permanent finding (Finding.permanent: a volume pinned to a lost node, a missing
 *   StorageClass, an image that does not exist, a quota) is seen in two rounds in a row, when
 *   `stopOnPermanent` (`recover`: a dead end is reported at once with the next offer),
 * - `abortOn` returns a finding (the rollout guard: a permanent finding on a replica of the new
 *   revision; `wait`'s fail-fast: any permanent finding): at once, in the round that saw it,
 * - the deadline passes (`--timeout`; the client's own deadline cuts the last requests short,
 *   so the loop ends within about a second of it),
 * - or the signal aborts it (Ctrl+C).
 * A transient read error (API server unreachable, 429, 5xx: errors.isTransient) is reported as
 * progress ("API server unreachable, retrying (12 s)") and retried until the deadline. Never writes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { diagnose, type Diagnosis } from '../diagnosis.js';
import { isTransient } from '../errors.js';
import type { Finding } from '../rules/types.js';
import type { Snapshot } from '../snapshot/types.js';
import { formatReplicaCounts } from '../snapshot/view.js';

/**
 * Where the loop reads from: `collect` gives the current Snapshot, `nextChange` waits until it
 * may have changed. The default, {@link pollingSource}, collects in full (the reads of
 * `diagnose`) and waits `intervalMs`; a watch-based source (src/snapshot/cache.ts CacheSource)
 * builds the Snapshot from a cache kept by watches and wakes on the next change.
 */
export interface WatchSource {
  /** The current Snapshot. @throws as a read (transient errors are retried by the loop). */
  collect(): Promise<Snapshot>;
  /**
   * Resolves when the state may have changed, at the latest after `timeoutMs`.
   * @throws when `signal` aborts
   */
  nextChange(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** The polling source: `collect` every `intervalMs`. */
export function pollingSource(collect: () => Promise<Snapshot>, intervalMs: number): WatchSource {
  return {
    collect,
    nextChange: (timeoutMs, signal) => sleep(Math.min(intervalMs, timeoutMs), undefined, signal ? { signal } : {}),
  };
}

export interface WatchOptions {
  /** A full collection (the same reads as `diagnose`), polled every `intervalMs` unless `source` is given. */
  collect: () => Promise<Snapshot>;
  /** Where to read from instead of polling `collect` (see {@link WatchSource}). */
  source?: WatchSource;
  /** True when the diagnosis is what we wait for (healthy); `snapshot` is the round's read. */
  done: (d: Diagnosis, snapshot: Snapshot) => boolean;
  /**
   * Checked every round after `done`: a finding returned here ends the loop at once with
   * outcome `aborted` (no second round, unlike `stopOnPermanent`). Pure; must not write.
   */
  abortOn?: (d: Diagnosis, snapshot: Snapshot) => Finding | undefined;
  /** Total time in milliseconds. */
  timeoutMs: number;
  /** Pause between rounds in milliseconds (the polling source's interval). */
  intervalMs: number;
  /** The client whose `deadline` is set to the loop's, so that no request outlasts it. */
  client?: { deadline: number | undefined };
  /** Stop early on a permanent finding (recover's verify); `wait` keeps waiting. */
  stopOnPermanent?: boolean;
  /** Only these StatefulSets' findings count for stopping early (default: all). */
  statefulSet?: string;
  /** Progress lines, already prefixed with the elapsed time (`[12s] ...`). */
  progress: (line: string) => void;
  /**
   * The state lines of a round, keyed (e.g. `pod quiz-0` → `Ready on n1`); only the lines that
   * changed since the previous round are printed. Default: one line per StatefulSet.
   */
  describe?: (snapshot: Snapshot, d: Diagnosis) => Map<string, string>;
  signal?: AbortSignal;
}

export type WatchOutcome = 'done' | 'dead-end' | 'aborted' | 'timeout' | 'interrupted';

export interface WatchResult {
  outcome: WatchOutcome;
  /** The last diagnosis read (undefined only when no read ever succeeded). */
  diagnosis: Diagnosis | undefined;
  /** For `dead-end`: the permanent finding. */
  deadEnd?: Finding;
  /** For `aborted`: the finding `abortOn` returned. */
  abortedOn?: Finding;
  elapsedMs: number;
  /** The last transient error, when the last rounds failed. */
  lastError?: unknown;
}

/**
 * One line describing where each StatefulSet stands: `quiz: 1/3 ready; image-pull quiz-0: ...`,
 * with the kept ordinals' readiness and the condemned pods apart (`1/2 ready, 1 condemned`), and
 * the top root cause (a finding folded under another is never the one named).
 */
export function progressLine(d: Diagnosis): string {
  return d.statefulSets
    .map((s) => {
      const top = d.findings.find((f) => f.statefulSet.name === s.name && f.severity !== 'info' && !f.causedBy);
      return `${s.name}: ${formatReplicaCounts({ ready: s.replicas.ready, replicas: s.replicas.desired, condemned: s.replicas.condemned })}${s.healthy ? ', healthy' : top ? `; ${top.rule} ${top.subject.name}: ${top.summary}` : ''}`;
    })
    .join(' | ');
}

const defaultDescribe = (_s: Snapshot, d: Diagnosis): Map<string, string> => new Map([['', progressLine(d)]]);

const keyOf = (f: Finding): string => `${f.statefulSet.name}/${f.rule}/${f.subject.kind}/${f.subject.uid ?? f.subject.name}`;

/**
 * Runs the loop (see the module comment).
 * @throws a non-transient error of a read (forbidden, not found...), or the last transient one
 *   when no read succeeded before the deadline.
 */
export async function watch(opts: WatchOptions): Promise<WatchResult> {
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  if (opts.client) opts.client.deadline = deadline;
  const elapsed = (): string => `[${Math.round((Date.now() - start) / 1000)}s]`;
  const seen = new Map<string, string>();
  let last: Diagnosis | undefined;
  let lastError: unknown;
  let unreachableSince: number | undefined;
  let permanentBefore = new Set<string>();
  const source = opts.source ?? pollingSource(opts.collect, opts.intervalMs);
  const result = (outcome: WatchOutcome, extra: Partial<WatchResult> = {}): WatchResult => ({ outcome, diagnosis: last, elapsedMs: Date.now() - start, ...(lastError ? { lastError } : {}), ...extra });
  try {
    for (;;) {
      if (opts.signal?.aborted) return result('interrupted');
      let snapshot: Snapshot | undefined;
      try {
        snapshot = await source.collect();
        lastError = undefined;
        unreachableSince = undefined;
      } catch (err) {
        if (opts.signal?.aborted) return result('interrupted');
        if (!isTransient(err)) throw err;
        lastError = err;
        if (Date.now() < deadline) {
          unreachableSince ??= Date.now();
          opts.progress(`${elapsed()} API server unreachable, retrying (${Math.round((Date.now() - unreachableSince) / 1000)} s): ${(err as Error).message}`);
        }
      }
      if (snapshot) {
        const d = diagnose(snapshot);
        last = d;
        for (const [key, text] of (opts.describe ?? defaultDescribe)(snapshot, d)) {
          if (seen.get(key) === text) continue;
          seen.set(key, text);
          opts.progress(`${elapsed()} ${key ? `${key}: ` : ''}${text}`);
        }
        if (opts.done(d, snapshot)) return result('done');
        const abort = opts.abortOn?.(d, snapshot);
        if (abort) return result('aborted', { abortedOn: abort });
        if (opts.stopOnPermanent) {
          const permanent = d.findings.filter((f) => f.permanent && f.severity !== 'info' && (!opts.statefulSet || f.statefulSet.name === opts.statefulSet));
          const again = permanent.find((f) => permanentBefore.has(keyOf(f)));
          if (again) return result('dead-end', { deadEnd: again });
          permanentBefore = new Set(permanent.map(keyOf));
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        if (!last && lastError) throw lastError;
        return result('timeout');
      }
      try {
        await source.nextChange(left, opts.signal);
      } catch {
        return result('interrupted');
      }
    }
  } finally {
    if (opts.client) opts.client.deadline = undefined;
  }
}
