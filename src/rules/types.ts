/**
 * Findings and rules: the vocabulary shared by the rules, the reporters and the recovery planner.
 * The JSON report serialises {@link Finding} as it is (see README, "JSON output").
 */
import type { KubeEvent, KubeObject, StatefulSet, Timestamp } from '../snapshot/types.js';
import { eventCount, eventSource, eventTimestamp, type SnapshotView } from '../snapshot/view.js';

/** How bad a finding is: `critical` keeps replicas from running, `warning` risks it, `info` is context. */
export type Severity = 'critical' | 'warning' | 'info';

/** A reference to a Kubernetes object, as findings and evidence name it. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/**
 * One quoted fact a finding rests on: an event, or a status or spec line, of one object. `text`
 * is the API's own words (the event message, the condition message), never a paraphrase.
 */
export interface Evidence {
  /** `event`: an Event; `status`/`spec`: a field of the object; `absence`: something that should exist and does not. */
  type: 'event' | 'status' | 'spec' | 'absence';
  object: ObjectRef;
  /** For events: `Warning FailedScheduling`; for fields: the field path, e.g. `status.conditions[Ready]`. */
  label: string;
  /** The quoted message or value. */
  text: string;
  /** When it happened or was last observed (RFC 3339). */
  time?: Timestamp;
  /** For events: how many times it was observed. */
  count?: number;
  /** For events: the component that reported it (display only; rules never filter on it). */
  source?: string;
}

/** Ids of the recoveries sts-doctor can plan (see src/recovery and README, "Recoveries"). */
export type RecoveryId =
  | 'force-delete-pod'
  | 'out-of-service-taint'
  | 'remove-out-of-service-taint'
  | 'delete-pvc-and-pod'
  | 'delete-pod'
  | 'rollback'
  | 'manual';

/** A recovery a finding proposes. `automated: false` ones are steps for a human, with a ready command. */
export interface RecoveryOption {
  id: RecoveryId;
  title: string;
  /** What it does and what it risks, in words. */
  description: string;
  automated: boolean;
  /** The object the recovery acts on (the pod to delete, the node to taint). */
  target?: ObjectRef;
  /** For manual steps: commands or a manifest to apply. */
  commands?: string[];
}

/** One diagnosis: what is wrong, the evidence, and the way out. */
export interface Finding {
  /** Stable rule id, e.g. `ordered-ready-stall` (README, "Rules"). */
  rule: string;
  severity: Severity;
  /** The StatefulSet the finding belongs to. */
  statefulSet: ObjectRef;
  /** The object the finding is about (a pod, a claim, a node, the StatefulSet). */
  subject: ObjectRef;
  /** One line. */
  summary: string;
  /** A few sentences: why this happens and what it blocks. */
  explanation: string;
  evidence: Evidence[];
  /** Evidence lines left out beyond the cap (src/diagnosis.ts, MAX_EVIDENCE); absent when none. */
  evidenceOmitted?: number;
  recoveries: RecoveryOption[];
  /** `low` when a read the rule needs was not possible (see Snapshot gaps). */
  confidence: 'high' | 'low';
  /** Extra machine-readable details specific to the rule (ordinals, node names, cause). */
  details?: Record<string, unknown>;
}

/** What a rule sees: the snapshot's indexes and the StatefulSet under diagnosis. */
export interface RuleContext {
  view: SnapshotView;
  sts: StatefulSet;
}

/** A diagnosis rule: a pure function from a snapshot to findings. */
export interface Rule {
  id: string;
  /** Short title for the README table. */
  title: string;
  /**
   * Order in the report: lower first. Root causes rank before the symptoms they produce
   * (a lost node before the pods it strands).
   */
  rank: number;
  evaluate(ctx: RuleContext): Finding[];
}

/** The reference to an object as findings print it. */
export function ref(obj: KubeObject, kind: string): ObjectRef {
  const r: ObjectRef = { kind, name: obj.metadata.name };
  if (obj.metadata.namespace) r.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) r.uid = obj.metadata.uid;
  return r;
}

/** Evidence quoting an event: type, reason, message, last time, count and reporter. */
export function eventEvidence(e: KubeEvent): Evidence {
  const io = e.involvedObject;
  const object: ObjectRef = { kind: io.kind ?? 'Unknown', name: io.name ?? '' };
  if (io.namespace) object.namespace = io.namespace;
  if (io.uid) object.uid = io.uid;
  const ev: Evidence = {
    type: 'event',
    object,
    label: `${e.type ?? 'Normal'} ${e.reason ?? ''}`.trim(),
    text: e.message ?? '',
    count: eventCount(e),
  };
  const t = eventTimestamp(e);
  if (t) ev.time = t;
  const s = eventSource(e);
  if (s) ev.source = s;
  return ev;
}

/** Evidence quoting a field of an object: `label` is the field path, `text` its value. */
export function fieldEvidence(obj: KubeObject, kind: string, label: string, text: string, time?: Timestamp, type: 'status' | 'spec' = 'status'): Evidence {
  const ev: Evidence = { type, object: ref(obj, kind), label, text };
  if (time) ev.time = time;
  return ev;
}

/** Evidence that an object the StatefulSet needs does not exist (and could be read). */
export function absenceEvidence(object: ObjectRef, text: string): Evidence {
  return { type: 'absence', object, label: 'not found', text };
}

/** The StatefulSet reference every finding carries. */
export function stsRef(ctx: RuleContext): ObjectRef {
  return ref(ctx.sts, 'StatefulSet');
}

/** Confidence of a finding whose reasoning needed `resources`: low if any could not be read. */
export function confidenceFor(view: SnapshotView, ...resources: Parameters<SnapshotView['canSee']>[0][]): 'high' | 'low' {
  return resources.every((r) => view.canSee(r)) ? 'high' : 'low';
}
