/**
 * The diagnosis: every rule run over a Snapshot, plus a per-replica view of each StatefulSet.
 * This is what the reporters render and what `-o json` prints (README, "JSON output").
 */
import { evaluate } from './rules/registry.js';
import type { Finding, Severity } from './rules/types.js';
import type { Gap, KubeEvent, Pod, Snapshot, SnapshotSource, StatefulSet, Timestamp } from './snapshot/types.js';
import {
  claimName,
  claimOrdinal,
  condition,
  desiredReplicas,
  eventCount,
  eventTimestamp,
  isPodReady,
  isTerminating,
  ordinalStart,
  podName,
  REVISION_LABEL,
  SnapshotView,
} from './snapshot/view.js';

/** Version of the JSON shape; bumped on incompatible changes. */
export const DIAGNOSIS_API_VERSION = 'sts-doctor.dev/v1';

/**
 * One row of the per-replica table: one pod (existing or missing), or a run of missing ones.
 * The table shows the ordinals the spec wants (`[start, start + spec.replicas)`) and every pod
 * that exists; a run of more than {@link MAX_MISSING_ROWS} consecutive missing ordinals without
 * a claim is one row from `ordinal` to `lastOrdinal`, so its size is linear in the pods and
 * claims that exist, never in `spec.replicas` or ordinal values.
 */
export interface ReplicaRow {
  ordinal: number;
  /** For a run of missing pods: its last ordinal (`pod` … `lastPod`). */
  lastOrdinal?: number;
  pod: string;
  /** For a run of missing pods: the last pod's name. */
  lastPod?: string;
  /** False when no pod with this name exists. */
  exists: boolean;
  uid?: string;
  /** `status.phase`. */
  phase?: string;
  /** What kubectl's STATUS column would show: Running, Pending, ContainerCreating, ImagePullBackOff, Terminating... */
  status: string;
  ready: boolean;
  /** Ready containers over containers, like kubectl's READY column (`1/2`). */
  readyContainers?: string;
  restarts?: number;
  /** The newest `lastState.terminated.finishedAt` of its containers: when it last restarted (kubectl's `2 (12s ago)`). */
  lastRestart?: Timestamp;
  /** `metadata.creationTimestamp` of the pod (kubectl's AGE). */
  created?: Timestamp;
  node?: string;
  revision?: string;
  /**
   * Claims of this ordinal's claim templates, with `status.phase` (`Missing` if none; `Unknown`
   * if claims could not be read). For a run: one entry per template, named `first … last`.
   */
  claims: { name: string; phase: string }[];
  /** Ordinal at or above `spec.replicas`: being removed by a scale-down. */
  condemned: boolean;
  /** The most telling recent event of the pod: the newest Warning, else the newest event. */
  event?: { type: string; reason: string; message: string; time?: Timestamp; count: number };
}

/** The state of one StatefulSet. */
export interface StatefulSetReport {
  name: string;
  namespace: string;
  uid?: string;
  /** No critical or warning finding, and the controller's status shows every replica ready and updated. */
  healthy: boolean;
  podManagementPolicy: string;
  updateStrategy: string;
  serviceName?: string;
  /**
   * `desired`: spec.replicas; `existing`: pods that exist; `ready`: pods Running and Ready among
   * the kept ordinals [start, start + desired) (SnapshotView.replicaCounts); `condemned`: pods
   * outside them (a scale-down not yet done); `statusReady`, `available`, `updated`, `current`:
   * the controller's status fields (readyReplicas, availableReplicas, ...), which count condemned
   * pods too.
   */
  replicas: { desired: number; existing: number; ready: number; condemned: number; statusReady: number; available: number; updated: number; current: number };
  currentRevision?: string;
  updateRevision?: string;
  table: ReplicaRow[];
}

/** Runs of missing pods longer than this are one table row. */
export const MAX_MISSING_ROWS = 3;
/** Evidence lines kept per finding; the rest are counted in `evidenceOmitted`. */
export const MAX_EVIDENCE = 20;
/** Characters kept of any message, summary or explanation; the rest are counted in the text. */
export const MAX_TEXT = 2000;

/** The whole diagnosis document. */
export interface Diagnosis {
  apiVersion: typeof DIAGNOSIS_API_VERSION;
  kind: 'Diagnosis';
  source: SnapshotSource;
  now: Timestamp;
  namespace: string;
  statefulSets: StatefulSetReport[];
  findings: Finding[];
  gaps: Gap[];
  summary: { statefulSets: number; healthy: number } & Record<Severity, number>;
}

/** Runs every rule over the snapshot and builds the per-replica tables. Pure. */
export function diagnose(snapshot: Snapshot): Diagnosis {
  const view = new SnapshotView(snapshot);
  const findings = evaluate(view).map(boundFinding);
  const statefulSets = snapshot.statefulSets.map((sts) => report(view, sts, findings));
  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  return {
    apiVersion: DIAGNOSIS_API_VERSION,
    kind: 'Diagnosis',
    source: snapshot.source,
    now: snapshot.now,
    namespace: snapshot.namespace,
    statefulSets,
    findings,
    gaps: snapshot.gaps,
    summary: {
      statefulSets: statefulSets.length,
      healthy: statefulSets.filter((s) => s.healthy).length,
      critical: count('critical'),
      warning: count('warning'),
      info: count('info'),
    },
  };
}

/**
 * Why a replica fails, as the rollout guard (`rollout`) and `wait`'s fail-fast read it:
 * - permanent (will not heal by retrying; abort at once): `image-not-found` (image-pull with
 *   cause not-found or invalid-name), `image-unauthorized`, `crash-loop`, `config-error`
 *   (container-config-error), `pod-creation-denied`, `unschedulable`, `pinned-volume`
 *   (volume-node-affinity);
 * - transient (keep waiting, up to a deadline): `image-pulling` (any other pull failure: the
 *   registry unreachable or rate-limiting, a pull in progress), `claim-binding` (unschedulable
 *   only because a claim of the pod is not bound yet: WaitForFirstConsumer, a claim being created;
 *   pvc-unbound names a claim that will not bind), `probe-not-passing` (probe-failing,
 *   pod-not-ready).
 */
export type FailureCause =
  | 'image-not-found'
  | 'image-unauthorized'
  | 'crash-loop'
  | 'config-error'
  | 'pod-creation-denied'
  | 'unschedulable'
  | 'pinned-volume'
  | 'image-pulling'
  | 'claim-binding'
  | 'probe-not-passing';

/** The class of a finding: its {@link FailureCause} and whether it is permanent. */
export interface FailureClass {
  cause: FailureCause;
  permanent: boolean;
}

const PERMANENT_CAUSES: ReadonlySet<FailureCause> = new Set(['image-not-found', 'image-unauthorized', 'crash-loop', 'config-error', 'pod-creation-denied', 'unschedulable', 'pinned-volume']);

/** The pull cause the image-pull rule recorded (src/rules/image-pull.ts `PullCause`), if any. */
function pullCauseOf(f: Finding): string | undefined {
  const cause = f.details?.cause;
  return typeof cause === 'string' ? cause : undefined;
}

/**
 * Classifies a finding as a permanent or transient failure of a replica (see
 * {@link FailureCause}); undefined for a finding that is not about a replica failing to start
 * (a missing Service, a retention risk, a lost node...), which neither aborts nor is waited on.
 * Pure; one place for the rule → class mapping.
 */
export function classifyFinding(f: Finding): FailureClass | undefined {
  const cls = (cause: FailureCause): FailureClass => ({ cause, permanent: PERMANENT_CAUSES.has(cause) });
  switch (f.rule) {
    case 'image-pull': {
      const cause = pullCauseOf(f);
      if (cause === 'not-found' || cause === 'invalid-name') return cls('image-not-found');
      if (cause === 'unauthorized') return cls('image-unauthorized');
      return cls('image-pulling');
    }
    case 'crash-loop':
      return cls('crash-loop');
    case 'container-config-error':
      return cls('config-error');
    case 'pod-creation-denied':
      return cls('pod-creation-denied');
    case 'unschedulable': {
      // The scheduler's message about a claim not bound yet is stale once the claim binds (a
      // freshly created replica): transient; the pvc-unbound rule reports a claim that will not bind.
      const dominant = f.details?.dominant;
      const category = typeof dominant === 'object' && dominant !== null ? (dominant as { category?: unknown }).category : undefined;
      const waiting = Array.isArray(f.details?.waitingClaims) && f.details.waitingClaims.length > 0;
      return cls(waiting || category === 'unbound-claims' || category === 'volume-binding' ? 'claim-binding' : 'unschedulable');
    }
    case 'volume-node-affinity':
      return cls('pinned-volume');
    case 'probe-failing':
    case 'pod-not-ready':
      return cls('probe-not-passing');
    default:
      return undefined;
  }
}

/** True when the controller's status shows the StatefulSet converged: every replica ready, available and on the update revision. */
export function statusConverged(sts: StatefulSet): boolean {
  const s = sts.status ?? {};
  const want = desiredReplicas(sts);
  if ((s.observedGeneration ?? 0) < (sts.metadata.generation ?? 0)) return false;
  if ((s.replicas ?? 0) !== want || (s.readyReplicas ?? 0) !== want) return false;
  if (s.availableReplicas !== undefined && s.availableReplicas !== want) return false;
  if (sts.spec.updateStrategy?.type !== 'OnDelete' && !(sts.spec.updateStrategy?.rollingUpdate?.partition)) {
    if (s.updateRevision && s.currentRevision !== s.updateRevision) return false;
    if ((s.updatedReplicas ?? want) !== want) return false;
  }
  return true;
}

function report(view: SnapshotView, sts: StatefulSet, findings: Finding[]): StatefulSetReport {
  const pods = view.podsOf(sts);
  const start = ordinalStart(sts);
  const want = desiredReplicas(sts);
  const end = start + want;
  const byOrdinal = view.podsByOrdinal(sts);
  // Ordinals that get a row of their own: every pod, and every wanted ordinal with a claim.
  const own = new Set(byOrdinal.keys());
  for (const c of view.snapshot.persistentVolumeClaims) {
    const o = claimOrdinal(sts, c.metadata.name)?.ordinal;
    if (o !== undefined && o >= start && o < end) own.add(o);
  }
  const table: ReplicaRow[] = [];
  const missingRun = (from: number, to: number): void => {
    if (to - from + 1 <= MAX_MISSING_ROWS) for (let o = from; o <= to; o++) table.push(row(view, sts, o, undefined, false));
    else table.push(missingRange(view, sts, from, to));
  };
  // Walk the sorted ordinals; `cursor` is the lowest wanted ordinal not yet shown.
  let cursor = start;
  for (const ord of [...own].sort((a, b) => a - b)) {
    if (ord >= start && cursor < Math.min(ord, end)) {
      missingRun(cursor, Math.min(ord, end) - 1);
      cursor = Math.min(ord, end);
    }
    table.push(row(view, sts, ord, byOrdinal.get(ord), ord < start || ord >= end));
    if (ord >= cursor && ord < end) cursor = ord + 1;
  }
  if (cursor < end) missingRun(cursor, end - 1);
  const mine = findings.filter((f) => f.statefulSet.uid === sts.metadata.uid && f.statefulSet.name === sts.metadata.name);
  const s = sts.status ?? {};
  const counts = view.replicaCounts(sts);
  const r: StatefulSetReport = {
    name: sts.metadata.name,
    namespace: sts.metadata.namespace ?? view.snapshot.namespace,
    healthy: statusConverged(sts) && !mine.some((f) => f.severity !== 'info'),
    podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
    updateStrategy: sts.spec.updateStrategy?.type ?? 'RollingUpdate',
    replicas: {
      desired: want,
      existing: pods.length,
      ready: counts.ready,
      condemned: counts.condemned,
      statusReady: s.readyReplicas ?? 0,
      available: s.availableReplicas ?? 0,
      updated: s.updatedReplicas ?? 0,
      current: s.currentReplicas ?? 0,
    },
    table,
  };
  if (sts.metadata.uid) r.uid = sts.metadata.uid;
  if (sts.spec.serviceName) r.serviceName = sts.spec.serviceName;
  if (s.currentRevision) r.currentRevision = s.currentRevision;
  if (s.updateRevision) r.updateRevision = s.updateRevision;
  return r;
}

/** One row for the missing pods `from` … `to` (none has a pod or a claim). */
function missingRange(view: SnapshotView, sts: StatefulSet, from: number, to: number): ReplicaRow {
  const phase = view.canSee('persistentvolumeclaims') ? 'Missing' : 'Unknown';
  return {
    ordinal: from,
    lastOrdinal: to,
    pod: podName(sts, from),
    lastPod: podName(sts, to),
    exists: false,
    status: view.canSee('pods') ? 'Missing' : 'Unknown',
    ready: false,
    claims: (sts.spec.volumeClaimTemplates ?? []).map((t) => ({ name: `${claimName(sts, t.metadata.name, from)} … ${claimName(sts, t.metadata.name, to)}`, phase })),
    condemned: false,
  };
}

/**
 * A finding within its bounds: at most {@link MAX_EVIDENCE} evidence lines (the number left out
 * in `evidenceOmitted`) and no text longer than {@link MAX_TEXT} characters.
 */
export function boundFinding(f: Finding): Finding {
  const out: Finding = { ...f, summary: clipText(f.summary), explanation: clipText(f.explanation) };
  out.evidence = f.evidence.slice(0, MAX_EVIDENCE).map((e) => (e.text.length > MAX_TEXT ? { ...e, text: clipText(e.text) } : e));
  if (f.evidence.length > MAX_EVIDENCE) out.evidenceOmitted = f.evidence.length - MAX_EVIDENCE;
  return out;
}

/** `text` cut to {@link MAX_TEXT} characters, saying how many were left out. */
export function clipText(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}… (${text.length - MAX_TEXT} more characters)`;
}

function row(view: SnapshotView, sts: StatefulSet, ordinal: number, pod: Pod | undefined, condemned: boolean): ReplicaRow {
  // A claim or pod that could not be read is Unknown, never Missing.
  const claims = view.templateClaims(sts, ordinal).map((c) => ({
    name: c.claimName,
    phase: c.claim?.status?.phase ?? (c.claim ? 'Pending' : view.canSee('persistentvolumeclaims') ? 'Missing' : 'Unknown'),
  }));
  if (!pod) return { ordinal, pod: podName(sts, ordinal), exists: false, status: view.canSee('pods') ? 'Missing' : 'Unknown', ready: false, claims, condemned };
  const statuses = pod.status?.containerStatuses ?? [];
  const r: ReplicaRow = {
    ordinal,
    pod: pod.metadata.name,
    exists: true,
    status: podStatus(pod),
    ready: isPodReady(pod),
    readyContainers: `${statuses.filter((c) => c.ready).length}/${pod.spec.containers.length}`,
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    claims,
    condemned,
  };
  if (pod.metadata.uid) r.uid = pod.metadata.uid;
  if (pod.metadata.creationTimestamp) r.created = pod.metadata.creationTimestamp;
  const finished = [...statuses, ...(pod.status?.initContainerStatuses ?? [])].map((c) => c.lastState?.terminated?.finishedAt).filter((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  if (finished.length) r.lastRestart = finished.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  if (pod.status?.phase) r.phase = pod.status.phase;
  if (pod.spec.nodeName) r.node = pod.spec.nodeName;
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  if (rev) r.revision = rev;
  // A Ready pod's old warnings are history: show its newest event; otherwise the newest Warning.
  const events = view.eventsFor(pod, 'Pod');
  const ev = r.ready ? events[0] : tellingEvent(events, Boolean(pod.spec.nodeName));
  if (ev) {
    r.event = { type: ev.type ?? 'Normal', reason: ev.reason ?? '', message: clipText(ev.message ?? ''), count: eventCount(ev) };
    const t = eventTimestamp(ev);
    if (t) r.event.time = t;
  }
  return r;
}

/**
 * The newest Warning event, else the newest event (events are newest first). For a pod already
 * on a node (`scheduled`), the scheduler's `FailedScheduling` warnings are history, not news.
 */
export function tellingEvent(events: KubeEvent[], scheduled = false): KubeEvent | undefined {
  return events.find((e) => e.type === 'Warning' && !(scheduled && e.reason === 'FailedScheduling')) ?? events[0];
}

/**
 * The pod's status as kubectl's STATUS column computes it (simplified from
 * `printPod` in pkg/printers/internalversion/printers.go): Terminating, a container's waiting or
 * terminated reason, `Init:<reason>` / `Init:ExitCode:<n>` / `Init:Signal:<n>` for a failed init
 * container, `Init:<i>/<n>` while init container i runs (sidecars that started are skipped),
 * else the phase.
 */
export function podStatus(pod: Pod): string {
  if (isTerminating(pod)) return 'Terminating';
  let reason = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  const inits = pod.spec.initContainers ?? [];
  for (const [i, c] of (pod.status?.initContainerStatuses ?? []).entries()) {
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (inits.find((x) => x.name === c.name)?.restartPolicy === 'Always' && c.started) continue; // a started sidecar
    if (t) return t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`;
    return `Init:${i}/${inits.length}`;
  }
  for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  if (reason === 'Running' && condition(pod.status?.conditions, 'Ready')?.status !== 'True') return 'Running';
  return reason;
}
