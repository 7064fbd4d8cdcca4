/**
 * Evaluation on change for `serve`: the StatefulSets a change touches (ClusterCache.touched) are
 * collected for {@link DEBOUNCE_MS} (at most {@link MAX_DELAY_MS} after the first change), then
 * each is evaluated alone: `diagnose(cache.snapshot(ns, [set]))`, the same pure function as
 * every command. Every `resyncMs` every StatefulSet is evaluated (ages and durations in the rules
 * move on without any change). Results go to `onResult`; a StatefulSet that is gone gets
 * `undefined`.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { diagnose, type Diagnosis } from '../diagnosis.js';
import type { ClusterCache, Touched } from '../snapshot/cache.js';
import { splitKey } from './metrics.js';

/** Quiet time after a change before evaluating (ms). */
export const DEBOUNCE_MS = 100;
/** Longest delay between a change and its evaluation under a steady stream of changes (ms). */
export const MAX_DELAY_MS = 500;

export type Trigger = 'change' | 'resync';

export interface EvaluatorOptions {
  cache: ClusterCache;
  /** Full re-evaluation period (ms); 0: none. */
  resyncMs: number;
  /** Called after each StatefulSet's evaluation, with its duration (s). */
  onResult: (key: string, d: Diagnosis | undefined, trigger: Trigger, seconds: number) => void;
}

export class Evaluator {
  private readonly pending = new Set<string>();
  private all = false;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;
  /** The latest diagnosis of each StatefulSet (`namespace/name`). */
  readonly diagnoses = new Map<string, Diagnosis>();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: EvaluatorOptions) {
    this.unsubscribe = opts.cache.onTouch((t) => this.touch(t));
  }

  /** Evaluates every StatefulSet now, then every `resyncMs`. */
  start(): Promise<void> {
    this.started = true;
    if (this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.schedule(() => this.evaluateAll('resync')), this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    return this.schedule(() => this.evaluateAll('resync'));
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    clearTimeout(this.timer);
    clearInterval(this.resyncTimer);
    return this.running;
  }

  /** Records what a change touched and (re)arms the debounce timer (after {@link start}: the first LISTs are evaluated once, by it). */
  touch(t: Touched): void {
    if (this.stopped || !this.started) return;
    if (t.all) this.all = true;
    for (const k of t.keys) this.pending.add(k);
    if (!this.all && this.pending.size === 0) return;
    const now = Date.now();
    if (!this.timer) this.firstPendingAt = now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstPendingAt + MAX_DELAY_MS - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const all = this.all;
      const keys = [...this.pending];
      this.all = false;
      this.pending.clear();
      void this.schedule(() => (all ? this.evaluateAll('change') : this.evaluate(keys, 'change')));
    }, wait);
  }

  /** Runs `job` after the previous one (evaluations never overlap). */
  private schedule(job: () => Promise<void>): Promise<void> {
    this.running = this.running.then(() => (this.stopped ? undefined : job()));
    return this.running;
  }

  private async evaluateAll(trigger: Trigger): Promise<void> {
    const keys = new Set([...this.opts.cache.statefulSetKeys(), ...this.diagnoses.keys()]);
    await this.evaluate([...keys], trigger);
  }

  private async evaluate(keys: string[], trigger: Trigger): Promise<void> {
    let n = 0;
    for (const key of keys.sort()) {
      if (this.stopped) return;
      const [ns, name] = splitKey(key);
      const sts = this.opts.cache.statefulSets(ns).find((s) => s.metadata.name === name);
      const t0 = process.hrtime.bigint();
      let d: Diagnosis | undefined;
      if (sts) {
        d = diagnose(this.opts.cache.snapshot(ns, [sts]));
        this.diagnoses.set(key, d);
      } else this.diagnoses.delete(key);
      this.opts.onResult(key, d, trigger, Number(process.hrtime.bigint() - t0) / 1e9);
      // Let the HTTP server answer between evaluations of a large resync.
      if (++n % 10 === 0) await yieldToLoop();
    }
  }
}
