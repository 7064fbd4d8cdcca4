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
  /**
   * `event`: an Event; `status`/`spec`: a field of the object; `absence`: something that should
   * exist and does not; `log`: the last lines a container wrote (`kubectl logs [--previous]`),
   * one line per `\n` of `text`.
   */
  type: 'event' | 'status' | 'spec' | 'absence' | 'log';
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

/** A pod an offer acts on: its name and, when known, the uid that the plan must find again. */
export interface PodTarget {
  name: string;
  uid?: string;
}

/** A node an offer acts on. */
export interface NodeTarget {
  name: string;
  uid?: string;
}

/** A claim an offer deletes. */
export interface ClaimTarget {
  name: string;
  uid?: string;
}

/** A ControllerRevision by name and number (`kubectl rollout undo --to-revision=<revision>`). */
export interface RevisionTarget {
  name: string;
  revision: number;
}

/**
 * Where the new claim of a rebuilt replica will bind: a StorageClass with a provisioner, an
 * Available PV (and the Ready nodes its affinity allows; empty when it has none), or
 * `unchecked` when PVs or classes could not be read.
 */
export type BindExpectation =
  | { via: 'provisioner'; claim: string; storageClass: string; provisioner: string }
  | { via: 'volume'; claim: string; storageClass: string; volume: string; nodes: string[] }
  | { via: 'unchecked'; claim: string };

/**
 * What an automated recovery will act on, exactly: produced by the rule from the snapshot it
 * diagnosed, re-validated by the planner against a fresh one (src/recovery/plan.ts), which
 * never looks for a target of its own. One variant per action.
 */
export type RecoveryOffer =
  /** Delete a stuck pod so the controller recreates it from the update revision. */
  | { action: 'delete-pod'; pod: PodTarget }
  /** Delete a pod on a lost node with grace period 0. */
  | { action: 'force-delete-pod'; pod: PodTarget; node: string }
  /** Taint a lost node `node.kubernetes.io/out-of-service`; `pods` are this StatefulSet's pods on it. */
  | { action: 'out-of-service-taint'; node: NodeTarget; pods: PodTarget[] }
  /** Remove that taint once the node is back. */
  | { action: 'remove-out-of-service-taint'; node: NodeTarget }
  /**
   * Delete the claims of a replica and its pod (grace 0 when `forcePod`: the pod is on a lost
   * node), so that the controller rebuilds it on new, empty volumes that `expectBind` says can bind.
   */
  | { action: 'delete-pvc-and-pod'; pod: PodTarget; claims: ClaimTarget[]; expectBind: BindExpectation[]; forcePod: boolean }
  /** Patch the template back to `toRevision` and delete the pods stuck on other revisions. */
  | { action: 'rollback'; toRevision: RevisionTarget; fromRevision: string; deletePods: PodTarget[] };

/** The actions of {@link RecoveryOffer}. */
export type OfferAction = RecoveryOffer['action'];

/**
 * A recovery a finding proposes. Automated ones carry their {@link RecoveryOffer}; `manual`
 * ones are steps for a human, with ready commands. `target` repeats the offer's main object
 * for older readers of the JSON report.
 */
export interface RecoveryOption {
  id: RecoveryId;
  title: string;
  /** What it does and what it risks, in words. */
  description: string;
  automated: boolean;
  /** The object the recovery acts on (the pod to delete, the node to taint). Informational: the planner reads `offer`. */
  target?: ObjectRef;
  /** For automated recoveries: exactly what they act on. */
  offer?: RecoveryOffer;
  /** For manual steps: commands or a manifest to apply. */
  commands?: string[];
  /**
   * On a manual step that stands for an automated recovery sts-doctor would refuse now: which
   * action, for which pod or node, and why (e.g. no new claim could bind). `recover --action`
   * quotes the reason when asked for it.
   */
  withheld?: { action: OfferAction; pod?: string; node?: string; reason: string };
}

/** A finding named by its rule and subject: what `causedBy` points at. */
export interface FindingRef {
  rule: string;
  subject: ObjectRef;
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
  /**
   * True when the state will not heal by itself, whatever the controllers retry (a volume
   * pinned to a lost node, a missing StorageClass, an image that does not exist, a quota): the
   * watch after a recovery stops early on it.
   */
  permanent?: boolean;
  /**
   * Set when this finding is only a consequence of another finding of the same StatefulSet
   * about the same pod (src/rules/causes.ts): e.g. `ordered-ready-stall` caused by `image-pull`.
   * The text report folds it under its cause; JSON keeps both.
   */
  causedBy?: FindingRef;
  /**
   * What this finding adds when it is shown under its cause, one line starting with
   * "therefore" (e.g. `therefore quiz-1, quiz-2 are never created`). Only rules that can be
   * consequences set it.
   */
  consequence?: string;
  /**
   * Set by a cause beyond one pod (`cluster-dns-unavailable`, `dns-egress-blocked`,
   * `network-policy-isolation`): the pods of the StatefulSet whose symptom it explains. The findings about these pods that the catalog lists
   * (src/rules/causes.ts CLUSTER_CAUSES) are folded under it.
   */
  explains?: string[];
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
  /** The rule's row of the README rule table (written by `npm run readme:rules`, src/rules/rule-table.ts). */
  doc: RuleDoc;
  evaluate(ctx: RuleContext): Finding[];
}

/**
 * What the README says about a rule, one Markdown cell each (inline code and links allowed; no
 * `|` outside inline code, no line break).
 */
export interface RuleDoc {
  /** The severities its findings can have. */
  severities: Severity[];
  /** What a finding means, in the user's terms. */
  meaning: string;
  /** The Kubernetes signals it reads: fields, conditions, event reasons and messages. */
  signals: string;
  /** The recoveries it proposes (the ids of `--action`, or manual steps); `—` for none. */
  recoveries: string;
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
