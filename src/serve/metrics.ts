/**
 * The Prometheus metrics of `sts-doctor serve` (prom-client, the text exposition format), named
 * after the Prometheus conventions (base units, `_total` counters, `_seconds`):
 *
 *   sts_doctor_finding{namespace,statefulset,rule,severity,subject_kind,subject}       1 while it holds
 *   sts_doctor_finding_first_seen_timestamp_seconds{same labels}                        when serve first saw it
 *   sts_doctor_finding_info{namespace,statefulset,rule,subject_kind,subject,summary}   1; the current summary
 *   sts_doctor_finding_caused_by{namespace,statefulset,rule,subject_kind,subject,
 *                                cause_rule,cause_subject_kind,cause_subject}         1 while the finding is a consequence of another
 *   sts_doctor_statefulset_healthy{namespace,statefulset}                               1 healthy, 0 not
 *   sts_doctor_evaluations_total{trigger}                                               change | resync
 *   sts_doctor_evaluation_duration_seconds{trigger}                                     histogram, one per evaluated StatefulSet
 *   sts_doctor_watch_restarts_total{resource,namespace}                                 watches started again after an error
 *   sts_doctor_watch_relists_total{resource,namespace}                                  LISTs again after 410 Gone
 *   sts_doctor_watch_last_sync_age_seconds{resource,namespace}                          since the last event or LIST
 *   sts_doctor_ready                                                                    1 once the first LISTs are in
 *   plus prom-client's process_* and nodejs_* defaults (resident memory, CPU seconds).
 *
 * Bounded cardinality: at most one series per (StatefulSet, rule, subject), at most
 * {@link MAX_FINDINGS_PER_STATEFULSET} per StatefulSet (the most severe first); a finding that
 * ends, or a StatefulSet that goes, removes its series. `summary` is cut to
 * {@link MAX_SUMMARY_CHARS} characters and passes the sanitiser.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Diagnosis } from '../diagnosis.js';
import type { Finding } from '../rules/types.js';
import type { WatchHealth } from '../snapshot/cache.js';
import { sanitizeText } from '../report/sanitize.js';

/** Most finding series per StatefulSet. */
export const MAX_FINDINGS_PER_STATEFULSET = 50;
/** Longest `summary` label value (characters). */
export const MAX_SUMMARY_CHARS = 300;

const FINDING_LABELS = ['namespace', 'statefulset', 'rule', 'severity', 'subject_kind', 'subject'] as const;
type FindingLabels = Record<(typeof FINDING_LABELS)[number], string>;

/** One finding as exported: its labels and when serve first saw it. */
export interface FindingSeries {
  /** `namespace/statefulset/rule/subject_kind/subject`: one series per key. */
  key: string;
  labels: FindingLabels;
  firstSeenMs: number;
  summary: string;
  /** The labels of its `sts_doctor_finding_caused_by` series, when the finding is a consequence (Finding.causedBy). */
  cause: Record<string, string> | undefined;
  finding: Finding;
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** The series key of a finding: at most one series per (StatefulSet, rule, subject). */
export const seriesKey = (f: Finding): string => [f.statefulSet.namespace ?? '', f.statefulSet.name, f.rule, f.subject.kind, f.subject.name].join('/');

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly finding: Gauge<string>;
  private readonly firstSeen: Gauge<string>;
  private readonly info: Gauge<string>;
  private readonly causedBy: Gauge<string>;
  private readonly healthy: Gauge<string>;
  readonly evaluations: Counter<string>;
  readonly duration: Histogram<string>;
  /** The exported findings of each StatefulSet (`namespace/name`). */
  private readonly bySet = new Map<string, Map<string, FindingSeries>>();

  constructor(health: () => WatchHealth[], ready: () => boolean) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.finding = new Gauge({ name: 'sts_doctor_finding', help: 'A finding of sts-doctor that holds now (1); the series goes when the finding ends.', labelNames: FINDING_LABELS, registers });
    this.firstSeen = new Gauge({ name: 'sts_doctor_finding_first_seen_timestamp_seconds', help: 'When sts-doctor serve first saw the finding (Unix time, seconds).', labelNames: FINDING_LABELS, registers });
    this.info = new Gauge({ name: 'sts_doctor_finding_info', help: "The finding's current summary (always 1; one series per finding, replaced when the summary changes), for alert annotations.", labelNames: ['namespace', 'statefulset', 'rule', 'subject_kind', 'subject', 'summary'], registers });
    this.causedBy = new Gauge({
      name: 'sts_doctor_finding_caused_by',
      help: 'The finding is a consequence of another finding of the same StatefulSet (cause_*: its rule and subject), which the text report folds it under (1). Alert on the findings without this series: their root causes.',
      labelNames: ['namespace', 'statefulset', 'rule', 'subject_kind', 'subject', 'cause_rule', 'cause_subject_kind', 'cause_subject'],
      registers,
    });
    this.healthy = new Gauge({ name: 'sts_doctor_statefulset_healthy', help: 'Whether the StatefulSet is healthy: no critical or warning finding, every replica ready and updated (1), or not (0).', labelNames: ['namespace', 'statefulset'], registers });
    this.evaluations = new Counter({ name: 'sts_doctor_evaluations_total', help: 'StatefulSets evaluated, by trigger (change: a watched object changed; resync: the periodic full evaluation).', labelNames: ['trigger'], registers });
    this.duration = new Histogram({ name: 'sts_doctor_evaluation_duration_seconds', help: 'Time to build the snapshot of one StatefulSet from the cache and run every rule over it.', labelNames: ['trigger'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers });
    const watchLabels = ['resource', 'namespace'];
    new Counter({
      name: 'sts_doctor_watch_restarts_total',
      help: 'Watches started again after they failed (connection lost, 410 Gone, an error answer).',
      labelNames: watchLabels,
      registers,
      collect() {
        this.reset();
        for (const h of health()) this.inc({ resource: h.resource, namespace: h.namespace }, h.restarts);
      },
    });
    new Counter({
      name: 'sts_doctor_watch_relists_total',
      help: 'Full LISTs after the first one (the watch resourceVersion was too old: 410 Gone).',
      labelNames: watchLabels,
      registers,
      collect() {
        this.reset();
        for (const h of health()) this.inc({ resource: h.resource, namespace: h.namespace }, h.relists);
      },
    });
    new Gauge({
      name: 'sts_doctor_watch_last_sync_age_seconds',
      help: 'Seconds since the watch last heard from the API server (an event, a bookmark or a LIST); -1 before the first LIST.',
      labelNames: watchLabels,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const h of health()) this.set({ resource: h.resource, namespace: h.namespace }, h.lastSyncMs ? (now - h.lastSyncMs) / 1000 : -1);
      },
    });
    new Gauge({
      name: 'sts_doctor_ready',
      help: 'Whether the first LIST of every watched resource has been read (1), as /readyz.',
      registers,
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
  }

  /**
   * Replaces the series of StatefulSet `key` (`namespace/name`) by those of `d` (its one-set
   * diagnosis), or removes them all when it is gone (`d` undefined).
   * @returns the findings that started now (not exported before)
   */
  update(key: string, d: Diagnosis | undefined, now = Date.now()): FindingSeries[] {
    const [namespace, statefulset] = splitKey(key);
    const before = this.bySet.get(key) ?? new Map<string, FindingSeries>();
    const after = new Map<string, FindingSeries>();
    const started: FindingSeries[] = [];
    if (d) {
      const report = d.statefulSets.find((s) => s.name === statefulset);
      if (report) this.healthy.set({ namespace, statefulset }, report.healthy ? 1 : 0);
      const findings = d.findings.filter((f) => f.statefulSet.name === statefulset).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
      for (const f of findings) {
        const k = seriesKey(f);
        if (after.has(k)) continue;
        if (after.size >= MAX_FINDINGS_PER_STATEFULSET) break;
        const labels: FindingLabels = { namespace, statefulset, rule: f.rule, severity: f.severity, subject_kind: f.subject.kind, subject: f.subject.name };
        const old = before.get(k);
        if (old && old.labels.severity !== f.severity) this.removeSeries(old);
        const summary = boundSummary(f.summary);
        // The info series follows the summary (one series at a time: the old one goes).
        if (old && old.summary !== summary && old.labels.severity === f.severity) this.info.remove(infoLabels(old));
        const cause = f.causedBy ? { namespace, statefulset, rule: f.rule, subject_kind: f.subject.kind, subject: f.subject.name, cause_rule: f.causedBy.rule, cause_subject_kind: f.causedBy.subject.kind, cause_subject: f.causedBy.subject.name } : undefined;
        // The cause series follows the cause (one at a time: the old one goes).
        if (old?.cause && JSON.stringify(old.cause) !== JSON.stringify(cause)) this.causedBy.remove(old.cause);
        const s: FindingSeries = { key: k, labels, firstSeenMs: old?.firstSeenMs ?? now, summary, cause, finding: f };
        if (!old) started.push(s);
        after.set(k, s);
        this.finding.set(labels, 1);
        this.firstSeen.set(labels, s.firstSeenMs / 1000);
        this.info.set(infoLabels(s), 1);
        if (cause) this.causedBy.set(cause, 1);
      }
    } else this.healthy.remove({ namespace, statefulset });
    for (const [k, s] of before) if (!after.has(k)) this.removeSeries(s);
    if (after.size) this.bySet.set(key, after);
    else this.bySet.delete(key);
    return started;
  }

  private removeSeries(s: FindingSeries): void {
    this.finding.remove(s.labels);
    this.firstSeen.remove(s.labels);
    this.info.remove(infoLabels(s));
    if (s.cause) this.causedBy.remove(s.cause);
  }

  /** Every StatefulSet key with exported series (for tests and `/statefulsets`). */
  keys(): string[] {
    return [...this.bySet.keys()];
  }
}

function infoLabels(s: FindingSeries): Record<string, string> {
  const { namespace, statefulset, rule, subject_kind, subject } = s.labels;
  return { namespace, statefulset, rule, subject_kind, subject, summary: s.summary };
}

function boundSummary(text: string): string {
  const clean = sanitizeText(text, false);
  return clean.length > MAX_SUMMARY_CHARS ? `${clean.slice(0, MAX_SUMMARY_CHARS - 1)}…` : clean;
}

/** `namespace/name` → [namespace, name]. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
