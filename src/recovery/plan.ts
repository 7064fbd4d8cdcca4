/**
 * Recovery plans: pure functions that turn a Snapshot, a Finding and a chosen recovery into
 * data — the exact API calls (verb, path, object with uid and resourceVersion, body, query),
 * the kubectl command a human would type for the same effect, the risk in words, and what the
 * user must confirm. Nothing here calls the API, the clock or the console; src/recovery/execute.ts
 * is the only code that writes.
 */
import { ExitCode, StsDoctorError } from '../errors.js';
import {
  claimsPinnedToLostNodes,
  heartbeatSource,
  isAttachedTo,
  isLostNode,
  isPinned,
  newClaimBinding,
  nodeState,
  pinnedNodes,
  podsToReplace,
  reclaimPolicy,
  rollbackTarget,
  type NodeState,
} from '../rules/facts.js';
import { bindWords, offerTitle, podTarget } from '../rules/offers.js';
import { diffTemplates } from '../rules/template-diff.js';
import type { BindExpectation, Finding, ObjectRef, OfferAction, PodTarget, RecoveryId, RecoveryOffer, RecoveryOption, RevisionTarget } from '../rules/types.js';
import type { ControllerRevision, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, Taint } from '../snapshot/types.js';
import { desiredReplicas, formatAge, isPodReady, isRunningAndReady, isTerminating, ordinalStart, podOrdinal, REVISION_LABEL, type SnapshotView } from '../snapshot/view.js';

/** The taint of the non-graceful node shutdown path (Kubernetes 1.28+ GA). */
export const OUT_OF_SERVICE_TAINT: Taint = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' };

/** A reference to the exact version of the object a call acts on. */
export interface TargetRef extends ObjectRef {
  uid?: string;
  resourceVersion?: string;
}

/**
 * One API call. `DELETE`s carry `DeleteOptions.preconditions` (uid and resourceVersion) in
 * `body`; `PATCH`es carry `metadata.resourceVersion` in the patch, which the API server treats
 * as a precondition (409 Conflict when the object changed).
 */
export interface ApiCall {
  verb: 'delete' | 'patch';
  method: 'DELETE' | 'PATCH';
  /** API path, e.g. `/api/v1/namespaces/demo/pods/quiz-1`. */
  path: string;
  object: TargetRef;
  body: unknown;
  /** For PATCH: the patch type. */
  contentType?: string;
  /** Extra query parameters (e.g. `gracePeriodSeconds`); `dryRun` is added by the executor. */
  query?: Record<string, string | number>;
}

/** One step of a plan: a call, or a wait for an object to be gone (no write). */
export interface PlanStep {
  /** One line: "Delete pod quiz-1 (uid …)". */
  title: string;
  call?: ApiCall;
  /**
   * After the call: wait until this object (same uid) no longer exists, e.g. a PVC held by the
   * `kubernetes.io/pvc-protection` finalizer until its pod is gone.
   */
  waitGone?: { path: string; uid?: string; what: string; timeoutSeconds: number };
  /** The equivalent kubectl command. */
  kubectl?: string;
}

/** What the user must confirm before anything is written. */
export type Confirmation = { type: 'yes'; question: string } | { type: 'name'; name: string; question: string };

/** A recovery turned into data. */
export interface Plan {
  /** The recovery, or `rollout` for a step of `sts-doctor rollout` (src/rollout/plan.ts). */
  recovery: RecoveryId | 'rollout';
  title: string;
  /** False for steps a human must carry out; the executor never runs those. */
  automated: boolean;
  statefulSet: TargetRef;
  /** The finding the plan answers, if any. */
  finding?: { rule: string; summary: string; subject: ObjectRef };
  /** Facts to read before confirming (node heartbeat, reclaim policy, revisions...). */
  facts: string[];
  /** The risk in words; empty when there is none beyond the obvious. */
  risks: string[];
  confirm: Confirmation;
  steps: PlanStep[];
  /** Manual steps: commands for a human. */
  commands: string[];
  /** What to do afterwards (e.g. remove the out-of-service taint once the node is repaired). */
  followUp: string[];
  /** The node whose state the plan rests on (a lost node), if any. */
  node?: string;
  /** The offer the plan was made from (absent for manual steps). */
  offer?: RecoveryOffer;
  /** For a rollback: the ControllerRevision the template returns to. */
  toRevision?: RevisionTarget;
}

/** The plan cannot be made: the recovery does not fit the current state. One sentence; exit code 3 (refused). */
export class PlanError extends StsDoctorError {
  override readonly exitCode: number = ExitCode.Refused;
}

/**
 * What `recover --action` asked for, when no finding offers it and the user passed
 * `--force-unrelated`: the planner turns it into an offer from the flags alone.
 */
export interface ForcedRequest {
  action: OfferAction;
  pod?: string;
  node?: string;
  /** `--to-revision`: the revision number (or ControllerRevision name) to roll back to. */
  toRevision?: string;
}

/** The finding and option an offer came from, for the plan's header. */
export interface PlanContext {
  finding?: Finding;
  /** True with `--force-unrelated`: the offer came from the flags, not from a finding; said in the Risk. */
  forced?: boolean;
  /**
   * For a rollback that ends a `sts-doctor rollout`: the same conditional patch also sets
   * `spec.updateStrategy.rollingUpdate.partition` back to `partition` and removes the
   * annotation `annotation` (the rollout's record).
   */
  restore?: { partition?: number; annotation: string };
  /**
   * For a rollback: leave the stuck pods out of this plan; they are deleted by a second plan
   * ({@link planReplaceStuck}) once the controller has observed the restored template, so that
   * no pod is recreated from the template being replaced.
   */
  deferDeletes?: boolean;
}

const ns = (view: SnapshotView, sts: StatefulSet): string => sts.metadata.namespace ?? view.snapshot.namespace;

function targetOf(obj: { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string } }, kind: string): TargetRef {
  const r: TargetRef = { kind, name: obj.metadata.name };
  if (obj.metadata.namespace) r.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) r.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion) r.resourceVersion = obj.metadata.resourceVersion;
  return r;
}

function preconditions(t: TargetRef): { uid?: string; resourceVersion?: string } {
  const p: { uid?: string; resourceVersion?: string } = {};
  if (t.uid) p.uid = t.uid;
  if (t.resourceVersion) p.resourceVersion = t.resourceVersion;
  return p;
}

/**
 * A DELETE with uid and resourceVersion preconditions (and grace period 0 when `force`). With
 * `uidOnly` the precondition is the uid alone: for an object that an earlier step of the same
 * plan makes others update (deleting a Pending pod's claim makes the scheduler rewrite the pod's
 * status), while still never touching a replacement that took the name.
 */
export function deleteCall(path: string, target: TargetRef, force = false, uidOnly = false): ApiCall {
  const pre = preconditions(target);
  if (uidOnly) delete pre.resourceVersion;
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: pre };
  const call: ApiCall = { verb: 'delete', method: 'DELETE', path, object: target, body };
  if (force) {
    body.gracePeriodSeconds = 0;
    call.query = { gracePeriodSeconds: 0 };
  } else body.propagationPolicy = 'Background';
  return call;
}


function findingInfo(f: Finding | undefined): Plan['finding'] {
  return f ? { rule: f.rule, summary: f.summary, subject: f.subject } : undefined;
}

/** The pod an offer names, as it is now: refused when it is gone or was replaced (another uid). */
function currentPod(view: SnapshotView, sts: StatefulSet, t: PodTarget): Pod {
  const pod = view.podsOf(sts).find((p) => p.metadata.name === t.name);
  if (!pod) throw new PlanError(`Pod ${t.name} of StatefulSet ${sts.metadata.name} no longer exists in namespace ${ns(view, sts)}: the state changed since the diagnosis. Refusing; run sts-doctor diagnose again.`);
  if (t.uid && pod.metadata.uid !== t.uid)
    throw new PlanError(`Pod ${t.name} was replaced since the diagnosis (uid ${t.uid} → ${pod.metadata.uid}): refusing to act on the new pod; run sts-doctor diagnose again.`);
  return pod;
}

function heartbeatFact(state: NodeState): string {
  const ready = state.node?.status?.conditions?.find((c) => c.type === 'Ready');
  const words = state.state === 'Unreachable' ? 'stopped reporting (Ready=Unknown)' : state.state === 'NotReady' ? 'reports NotReady' : state.state === 'Deleted' ? 'no longer exists' : `is ${state.state}`;
  const hb = state.heartbeat ? `; last heartbeat ${state.heartbeat.time} (${heartbeatSource(state.heartbeat, state.name)}), ${formatAge(state.heartbeat.age)} ago` : '; no heartbeat recorded';
  const reason = ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : '';
  return `Node ${state.name} ${words}${reason}${state.state === 'Deleted' ? '' : hb}.`;
}

const TWO_COPIES = (pod: string, node: string): string =>
  `If node ${node} is only cut off from the network and not powered off, its containers keep running: a second ${pod} will start elsewhere, two copies of this identity will run at once and may corrupt its data. Confirm that the machine is down first.`;

const FORCED = 'Forced with --force-unrelated: no current finding offers this recovery for this target; only sts-doctor\'s own checks below applied.';

/**
 * Look-ahead for a pod that a plan frees from a lost node: where can its replacement go? Facts
 * and risks for each claim bound to a PV pinned to lost nodes (the replacement stays Pending).
 */
function pinnedLookAhead(view: SnapshotView, pod: Pod): { facts: string[]; risks: string[] } {
  const pinned = claimsPinnedToLostNodes(view, pod);
  return {
    facts: pinned.map((p) => `PV ${p.pv.metadata.name} (claim ${p.claim}) is pinned to ${p.nodes.join(', ') || 'no existing node'}, which ${p.nodes.length === 1 ? 'is' : 'are'} ${p.nodes.map((n) => nodeState(view, n).state).join('/') || 'gone'}.`),
    risks: pinned.map(
      (p) =>
        `The replacement ${pod.metadata.name} will not run elsewhere: its claim ${p.claim} is bound to PV ${p.pv.metadata.name}, pinned to ${p.nodes.join(', ')}; it stays Pending until that node is back, or until the claim is replaced (delete-pvc-and-pod, which loses this replica's data).`,
    ),
  };
}

function planForceDelete(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'force-delete-pod' }>, ctx: PlanContext): Plan {
  const pod = currentPod(view, sts, offer.pod);
  const node = pod.spec.nodeName;
  if (!node) throw new PlanError(`Pod ${pod.metadata.name} is not bound to a node; a force delete is only for a pod on a lost node (use delete-pod).`);
  if (node !== offer.node) throw new PlanError(`Pod ${pod.metadata.name} is now on node ${node}, not ${offer.node}: refusing; run sts-doctor diagnose again.`);
  const state = nodeState(view, node);
  if (!isLostNode(state))
    throw new PlanError(`Node ${node} of pod ${pod.metadata.name} is ${state.state === 'Ready' ? 'Ready' : 'not readable'}: a force delete is only for a pod on a node that stopped reporting. Refusing.`);
  const t = targetOf(pod, 'Pod');
  const n = ns(view, sts);
  const look = pinnedLookAhead(view, pod);
  return {
    recovery: 'force-delete-pod',
    title: offerTitle(offer),
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(ctx.finding),
    offer,
    facts: [
      heartbeatFact(state),
      isTerminating(pod) ? `Pod ${pod.metadata.name} has been Terminating since ${pod.metadata.deletionTimestamp}: the API server waits for a kubelet that does not answer.` : `Pod ${pod.metadata.name} is not Ready.`,
      look.facts.length ? `The StatefulSet controller recreates ${pod.metadata.name} once the pod object is gone; its PVCs are kept.` : `The StatefulSet controller recreates ${pod.metadata.name} once the pod object is gone, on another node; its PVCs are kept.`,
      ...look.facts,
    ],
    risks: [...(ctx.forced ? [FORCED] : []), ...look.risks, TWO_COPIES(pod.metadata.name, node)],
    confirm: { type: 'name', name: pod.metadata.name, question: `Type the pod name ${pod.metadata.name} to force-delete it` },
    steps: [
      {
        title: `Force-delete pod ${pod.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion}) with grace period 0`,
        call: deleteCall(`/api/v1/namespaces/${n}/pods/${pod.metadata.name}`, t, true),
        kubectl: `kubectl -n ${n} delete pod ${pod.metadata.name} --grace-period=0 --force`,
      },
    ],
    commands: [],
    followUp: [],
    node,
  };
}

/**
 * The call that sets a node's taints to `taints`, conditional on the taints being exactly those
 * of the plan: a JSON patch whose `test` ops check `metadata.uid` and `spec.taints` (a failed
 * test is answered 422 and treated as a conflict). A node's resourceVersion changes with every
 * status update of a live node, so it is not the precondition; when the node had no taints at
 * all (nothing to `test`), a merge patch carrying `metadata.resourceVersion` is used instead.
 */
function taintsCall(node: Node, taints: Taint[]): ApiCall {
  const existing = node.spec?.taints ?? [];
  const base = { verb: 'patch' as const, method: 'PATCH' as const, path: `/api/v1/nodes/${node.metadata.name}`, object: targetOf(node, 'Node') };
  if (existing.length === 0)
    return { ...base, body: { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints } }, contentType: 'application/merge-patch+json' };
  const ops: unknown[] = [];
  if (node.metadata.uid) ops.push({ op: 'test', path: '/metadata/uid', value: node.metadata.uid });
  ops.push({ op: 'test', path: '/spec/taints', value: existing }, { op: 'replace', path: '/spec/taints', value: taints });
  return { ...base, body: ops, contentType: 'application/json-patch+json' };
}

function taintString(t: Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}


function planOutOfService(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'out-of-service-taint' }>, ctx: PlanContext): Plan {
  const name = offer.node.name;
  const state = nodeState(view, name);
  if (state.state === 'Deleted') throw new PlanError(`Node ${name} no longer exists: there is nothing to taint (force-delete the pod instead).`);
  if (state.state === 'Ready') throw new PlanError(`Node ${name} is Ready: the out-of-service taint is only for a node that is shut down. Refusing.`);
  if (state.state === 'Unknown' || !state.node) throw new PlanError(`Node ${name} could not be read; cannot plan the out-of-service taint.`);
  const node = state.node;
  if (offer.node.uid && node.metadata.uid !== offer.node.uid) throw new PlanError(`Node ${name} was re-registered since the diagnosis (uid ${offer.node.uid} → ${node.metadata.uid}). Refusing; run sts-doctor diagnose again.`);
  const existing = node.spec?.taints ?? [];
  if (existing.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) throw new PlanError(`Node ${name} already has the ${OUT_OF_SERVICE_TAINT.key} taint.`);
  const mine = view.podsOf(sts).filter((p) => p.spec.nodeName === name);
  const pinnedHere = view
    .podsOf(sts)
    .flatMap((p) => view.claimsOf(p))
    .map((c) => (c.claim ? view.volumeOf(c.claim) : undefined))
    .filter((pv): pv is PersistentVolume => Boolean(pv && pinnedNodes(view, pv).includes(name)));
  const attachedHere = view
    .podsOf(sts)
    .flatMap((p) => view.claimsOf(p))
    .map((c) => (c.claim ? view.volumeOf(c.claim) : undefined))
    .some((pv) => pv !== undefined && isAttachedTo(view, pv, name));
  if (mine.length === 0 && pinnedHere.length === 0 && !attachedHere)
    throw new PlanError(`Node ${name} hosts no pod, no pinned and no attached volume of StatefulSet ${sts.metadata.name}: the out-of-service taint would only evict other workloads. Refusing.`);
  for (const t of offer.pods) currentPod(view, sts, t);
  const stranded = view.snapshot.pods.filter((p) => p.spec.nodeName === name).map((p) => p.metadata.name);
  const look = mine.map((p) => pinnedLookAhead(view, p));
  return {
    recovery: 'out-of-service-taint',
    title: offerTitle(offer),
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(ctx.finding),
    offer,
    facts: [
      heartbeatFact(state),
      `Pods of namespace ${view.snapshot.namespace} on ${name}: ${stranded.join(', ') || 'none'}. With the taint, the pod garbage collector deletes them (on every namespace) and the attach-detach controller detaches their volumes at once; the StatefulSet controller then recreates them${look.some((l) => l.facts.length) ? '' : ' on other nodes'}.`,
      ...look.flatMap((l) => l.facts),
    ],
    risks: [
      ...(ctx.forced ? [FORCED] : []),
      ...look.flatMap((l) => l.risks),
      TWO_COPIES(mine.map((p) => p.metadata.name).join('/') || 'each pod', name),
      `Every pod on ${name}, of any namespace, that does not tolerate the taint is deleted.`,
    ],
    confirm: { type: 'name', name, question: `Type the node name ${name} to taint it out of service` },
    steps: [
      {
        title: `Add taint ${taintString(OUT_OF_SERVICE_TAINT)} to node ${name} (uid ${node.metadata.uid}), if its taints are still ${existing.map(taintString).join(', ') || 'none'}`,
        call: taintsCall(node, [...existing.map(stripTime), OUT_OF_SERVICE_TAINT]),
        kubectl: `kubectl taint node ${name} ${taintString(OUT_OF_SERVICE_TAINT)}`,
      },
    ],
    commands: [],
    followUp: [`Once node ${name} is repaired and Ready again, remove the taint: sts-doctor recover ${sts.metadata.name} -n ${ns(view, sts)} --action remove-out-of-service-taint --node ${name}`],
    node: name,
  };
}

function stripTime(t: Taint): Taint {
  const c: Taint = { key: t.key, effect: t.effect };
  if (t.value !== undefined) c.value = t.value;
  if (t.timeAdded) c.timeAdded = t.timeAdded;
  return c;
}


function planRemoveOutOfService(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'remove-out-of-service-taint' }>, ctx: PlanContext): Plan {
  const name = offer.node.name;
  const state = nodeState(view, name);
  if (!state.node) throw new PlanError(`Node ${name} ${state.state === 'Deleted' ? 'no longer exists' : 'could not be read'}.`);
  const node = state.node;
  if (offer.node.uid && node.metadata.uid !== offer.node.uid) throw new PlanError(`Node ${name} was re-registered since the diagnosis (uid ${offer.node.uid} → ${node.metadata.uid}). Refusing; run sts-doctor diagnose again.`);
  const existing = node.spec?.taints ?? [];
  if (!existing.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) throw new PlanError(`Node ${name} has no ${OUT_OF_SERVICE_TAINT.key} taint.`);
  const risks = state.state === 'Ready' ? [] : [`Node ${name} is not Ready yet (${state.state}): pods may be scheduled there again before it is repaired.`];
  return {
    recovery: 'remove-out-of-service-taint',
    title: offerTitle(offer),
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(ctx.finding),
    offer,
    facts: [state.state === 'Ready' ? `Node ${name} is Ready again.` : heartbeatFact(state)],
    risks: [...(ctx.forced ? [FORCED] : []), ...risks],
    confirm: { type: 'yes', question: `Remove the taint from node ${name}?` },
    steps: [
      {
        title: `Remove taint ${OUT_OF_SERVICE_TAINT.key} from node ${name} (uid ${node.metadata.uid}), if its taints are still ${existing.map(taintString).join(', ')}`,
        call: taintsCall(node, existing.filter((t) => t.key !== OUT_OF_SERVICE_TAINT.key).map(stripTime)),
        kubectl: `kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT.key}-`,
      },
    ],
    commands: [],
    followUp: [],
  };
}

function planDeletePvcAndPod(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'delete-pvc-and-pod' }>, ctx: PlanContext): Plan {
  const pod = currentPod(view, sts, offer.pod);
  const n = ns(view, sts);
  const ordinal = podOrdinal(sts, pod.metadata.name);
  const templateOf = new Map(ordinal === undefined ? [] : view.templateClaims(sts, ordinal).map((c) => [c.claimName, c.template]));
  if (offer.claims.length === 0) throw new PlanError(`Pod ${pod.metadata.name} has no claim from the StatefulSet's claim templates; nothing to rebuild.`);
  const facts: string[] = [];
  const why: string[] = [];
  const lostNodes = new Set<string>();
  const claims: PersistentVolumeClaim[] = [];
  for (const c of offer.claims) {
    const claim = view.claims.get(c.name);
    if (!claim || !templateOf.has(c.name)) throw new PlanError(`PVC ${c.name} of pod ${pod.metadata.name} no longer exists: the state changed since the diagnosis. Refusing; run sts-doctor diagnose again.`);
    if (c.uid && claim.metadata.uid !== c.uid) throw new PlanError(`PVC ${c.name} was replaced since the diagnosis (uid ${c.uid} → ${claim.metadata.uid}): refusing to delete the new claim.`);
    claims.push(claim);
    const phase = claim.status?.phase ?? 'Pending';
    const pv = view.volumeOf(claim);
    const size = claim.status?.capacity?.storage ?? claim.spec.resources?.requests?.storage ?? '?';
    facts.push(`PVC ${claim.metadata.name}: ${phase}, ${size}${pv ? `, PV ${pv.metadata.name} (reclaim policy ${reclaimPolicy(pv)})` : ''}.`);
    if (phase !== 'Bound') {
      why.push(`PVC ${claim.metadata.name} is ${phase}`);
      continue;
    }
    const pinned = pv && isPinned(pv) ? pinnedNodes(view, pv) : [];
    const down = pinned.filter((nn) => isLostNode(nodeState(view, nn)));
    if (pinned.length && down.length === pinned.length) {
      why.push(`PV ${pv!.metadata.name} is pinned to ${pinned.join(', ')}, which ${pinned.length === 1 ? 'is' : 'are'} ${down.map((d) => nodeState(view, d).state).join('/')}`);
      for (const d of down) {
        lostNodes.add(d);
        facts.push(heartbeatFact(nodeState(view, d)));
      }
    }
  }
  if (why.length === 0)
    throw new PlanError(`The claims of pod ${pod.metadata.name} are bound to volumes whose nodes are Ready (or not pinned): deleting them would only destroy data. Refusing.`);
  // Look ahead: the new claims must be able to bind, or the replica is stranded.
  const binds: BindExpectation[] = [];
  for (const c of offer.claims) {
    const b = newClaimBinding(view, sts, templateOf.get(c.name)!, ordinal!, [...lostNodes]);
    if (!b.ok) throw new PlanError(`${b.reason}; deleting the claim now would leave ${pod.metadata.name} Pending. Refusing.`);
    binds.push(b.expect);
  }
  const retention = sts.spec.persistentVolumeClaimRetentionPolicy ?? {};
  facts.push(`StatefulSet PVC retention policy: whenDeleted=${retention.whenDeleted ?? 'Retain'}, whenScaled=${retention.whenScaled ?? 'Retain'}.`);
  facts.push(`Why: ${why.join('; ')}.`);
  facts.push(`Afterwards: ${binds.map(bindWords).join('; ')}.`);
  const podNode = pod.spec.nodeName;
  const podNodeState = podNode ? nodeState(view, podNode) : undefined;
  const podNodeDown = podNodeState ? isLostNode(podNodeState) : false;
  if (podNodeDown && !lostNodes.has(podNode!)) facts.push(heartbeatFact(podNodeState!));
  const podT = targetOf(pod, 'Pod');
  const steps: PlanStep[] = [];
  for (const claim of claims) {
    const t = targetOf(claim, 'PersistentVolumeClaim');
    steps.push({
      title: `Delete PVC ${claim.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion}); it stays Terminating (kubernetes.io/pvc-protection) until the pod is gone`,
      call: deleteCall(`/api/v1/namespaces/${n}/persistentvolumeclaims/${claim.metadata.name}`, t),
      kubectl: `kubectl -n ${n} delete pvc ${claim.metadata.name} --wait=false`,
    });
  }
  steps.push({
    title: `${podNodeDown ? 'Force-delete' : 'Delete'} pod ${pod.metadata.name} (uid ${podT.uid}; not its resourceVersion, which deleting the claim changes)${podNodeDown ? ` with grace period 0 (its node ${podNode} is down)` : ''}`,
    call: deleteCall(`/api/v1/namespaces/${n}/pods/${pod.metadata.name}`, podT, podNodeDown, true),
    kubectl: `kubectl -n ${n} delete pod ${pod.metadata.name}${podNodeDown ? ' --grace-period=0 --force' : ''}`,
  });
  for (const claim of claims)
    steps.push({
      title: `Wait until PVC ${claim.metadata.name} (uid ${claim.metadata.uid}) is gone, so that the controller creates a new one`,
      waitGone: { path: `/api/v1/namespaces/${n}/persistentvolumeclaims/${claim.metadata.name}`, uid: claim.metadata.uid, what: `PVC ${claim.metadata.name}`, timeoutSeconds: 60 },
    });
  return {
    recovery: 'delete-pvc-and-pod',
    title: offerTitle({ ...offer, forcePod: podNodeDown }),
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(ctx.finding),
    offer,
    facts,
    risks: [
      ...(ctx.forced ? [FORCED] : []),
      `The data of replica ${pod.metadata.name} on ${claims.map((c) => c.metadata.name).join(', ')} is lost for this replica: the new volume starts empty and the workload must rebuild it (as a MongoDB replica set member resyncs from its peers).`,
      ...claims
        .map((c) => view.volumeOf(c))
        .filter((pv): pv is PersistentVolume => Boolean(pv))
        .map((pv) =>
          reclaimPolicy(pv) === 'Delete'
            ? `PV ${pv.metadata.name} has reclaim policy Delete: the volume itself is deleted with the claim.`
            : `PV ${pv.metadata.name} has reclaim policy ${reclaimPolicy(pv)}: it is kept (Released) and its data can still be recovered by hand; sts-doctor diagnose then lists it.`,
        ),
      ...(podNodeDown ? [TWO_COPIES(pod.metadata.name, podNode!)] : []),
    ],
    confirm: { type: 'name', name: claims[0]!.metadata.name, question: `Type the claim name ${claims[0]!.metadata.name} to delete it and its pod` },
    steps,
    commands: [],
    followUp: [],
    ...(podNodeDown ? { node: podNode! } : {}),
  };
}

function planDeletePod(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'delete-pod' }>, ctx: PlanContext): Plan {
  const pod = currentPod(view, sts, offer.pod);
  const n = ns(view, sts);
  if (isPodReady(pod) && !isTerminating(pod)) throw new PlanError(`Pod ${pod.metadata.name} is Ready; delete-pod is for a stuck pod. Refusing.`);
  if (pod.spec.nodeName && isLostNode(nodeState(view, pod.spec.nodeName)))
    throw new PlanError(`Pod ${pod.metadata.name} is on node ${pod.spec.nodeName}, which is not Ready: a graceful delete would never finish; use force-delete-pod or out-of-service-taint.`);
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  const update = sts.status?.updateRevision;
  const ordinal = podOrdinal(sts, pod.metadata.name);
  const condemned = ordinal !== undefined && ordinal >= ordinalStart(sts) + desiredReplicas(sts);
  const facts = [`Pod ${pod.metadata.name} is on revision ${rev ?? '?'}; the StatefulSet's update revision is ${update ?? '?'}.`];
  const risks: string[] = ctx.forced ? [FORCED] : [];
  if (condemned) facts.push(`${pod.metadata.name} is above spec.replicas: the controller does not recreate it.`);
  else if (rev && update && rev === update)
    risks.push(`${pod.metadata.name} is already on the update revision: the new pod gets the same template, so this only helps if the cause is outside the template (or was fixed outside it).`);
  else facts.push(`The controller recreates ${pod.metadata.name} from revision ${update ?? 'the update revision'}; its PVCs are kept.`);
  const t = targetOf(pod, 'Pod');
  return {
    recovery: 'delete-pod',
    title: offerTitle(offer),
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(ctx.finding),
    offer,
    facts,
    risks,
    confirm: { type: 'yes', question: `Delete pod ${pod.metadata.name}?` },
    steps: [
      {
        title: `Delete pod ${pod.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion})`,
        call: deleteCall(`/api/v1/namespaces/${n}/pods/${pod.metadata.name}`, t),
        kubectl: `kubectl -n ${n} delete pod ${pod.metadata.name}`,
      },
    ],
    commands: [],
    followUp: [],
  };
}

function images(rev: ControllerRevision | undefined): string {
  return (rev?.data?.spec?.template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? '?'}`).join(', ');
}

/** `rollback`: like `kubectl rollout undo --to-revision`: the target revision's data as a strategic merge patch, then delete the pods the offer names. */
function planRollback(view: SnapshotView, sts: StatefulSet, offer: Extract<RecoveryOffer, { action: 'rollback' }>, ctx: PlanContext): Plan {
  const n = ns(view, sts);
  const revisions = view.revisionsOf(sts);
  const updateName = sts.status?.updateRevision;
  const target = revisions.find((r) => r.metadata.name === offer.toRevision.name);
  if (!target?.data) throw new PlanError(`ControllerRevision ${offer.toRevision.name} (revision ${offer.toRevision.revision}) of StatefulSet ${sts.metadata.name} no longer exists. Refusing; run sts-doctor diagnose again.`);
  if (target.revision !== offer.toRevision.revision) throw new PlanError(`ControllerRevision ${target.metadata.name} is now revision ${target.revision}, not ${offer.toRevision.revision}: the template changed since the diagnosis. Refusing.`);
  if (target.metadata.name === updateName) throw new PlanError(`Revision ${target.revision} (${target.metadata.name}) is already the update revision: there is nothing to roll back to. Refusing.`);
  if (offer.fromRevision && updateName && offer.fromRevision !== updateName) throw new PlanError(`The update revision changed since the diagnosis (${offer.fromRevision} → ${updateName}). Refusing; run sts-doctor diagnose again.`);
  const update = revisions.find((r) => r.metadata.name === updateName);
  if (update && target.revision > update.revision) throw new PlanError(`Revision ${target.revision} is newer than the update revision ${update.revision}. Refusing.`);
  const pods = view.podsOf(sts);
  if (pods.every(isRunningAndReady) && pods.length >= desiredReplicas(sts) && sts.status?.currentRevision === updateName)
    throw new PlanError(`StatefulSet ${sts.metadata.name} is healthy (every pod Running and Ready on revision ${updateName}): a rollback would only restart its pods. Refusing.`);
  const stuck = ctx.deferDeletes ? [] : offer.deletePods.map((t) => currentPod(view, sts, t));
  for (const p of stuck) if (isRunningAndReady(p)) throw new PlanError(`Pod ${p.metadata.name} is Running and Ready now: the state changed since the diagnosis. Refusing; run sts-doctor diagnose again.`);
  // kubectl (pkg/polymorphichelpers/rollback.go, StatefulSetRollbacker) applies revision.Data as a strategic merge patch;
  // the data holds spec.template with "$patch": "replace". resourceVersion makes it conditional.
  const patch: Record<string, unknown> = { ...(target.data as Record<string, unknown>), metadata: { resourceVersion: sts.metadata.resourceVersion } };
  if (ctx.restore) {
    const spec = (patch.spec ?? {}) as Record<string, unknown>;
    // OnDelete has no partition to restore (the API refuses rollingUpdate there).
    if (ctx.restore.partition !== undefined) patch.spec = { ...spec, updateStrategy: { rollingUpdate: { partition: ctx.restore.partition } } };
    patch.metadata = { resourceVersion: sts.metadata.resourceVersion, annotations: { [ctx.restore.annotation]: null } };
  }
  const stsT = targetOf(sts, 'StatefulSet');
  const steps: PlanStep[] = [
    {
      title: `Patch StatefulSet ${sts.metadata.name} (resourceVersion ${sts.metadata.resourceVersion}) with the template of revision ${target.revision} (${target.metadata.name})${ctx.restore ? `${ctx.restore.partition !== undefined ? `, partition ${ctx.restore.partition}` : ''}, without annotation ${ctx.restore.annotation}` : ''}`,
      call: { verb: 'patch', method: 'PATCH', path: `/apis/apps/v1/namespaces/${n}/statefulsets/${sts.metadata.name}`, object: stsT, body: patch, contentType: 'application/strategic-merge-patch+json' },
      kubectl: `kubectl -n ${n} rollout undo statefulset/${sts.metadata.name} --to-revision=${target.revision}`,
    },
  ];
  for (const p of stuck) {
    const t = targetOf(p, 'Pod');
    steps.push({
      title: `Delete pod ${p.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion}), stuck on revision ${p.metadata.labels?.[REVISION_LABEL] ?? '?'}`,
      call: deleteCall(`/api/v1/namespaces/${n}/pods/${p.metadata.name}`, t),
      kubectl: `kubectl -n ${n} delete pod ${p.metadata.name}`,
    });
  }
  const diff = update ? templateDiff(update.data?.spec?.template, target.data.spec?.template) : [];
  return {
    recovery: 'rollback',
    title: offerTitle(offer),
    automated: true,
    statefulSet: stsT,
    finding: findingInfo(ctx.finding),
    offer,
    toRevision: { name: target.metadata.name, revision: target.revision },
    facts: [
      `Update revision ${updateName ?? '?'}${update ? ` (revision ${update.revision})` : ''}: ${images(update)}.`,
      `Target revision ${target.metadata.name} (revision ${target.revision}), the newest one whose pods were Running and Ready: ${images(target)}.`,
      ...diff.map((d) => `Changes back: ${d}.`),
      ctx.deferDeletes
        ? `Pods not Ready and not on ${target.metadata.name} (${offer.deletePods.map((p) => p.name).join(', ') || 'none now'}) are deleted, with uid preconditions, once the controller has observed the restored template: it does not replace them by itself (kubernetes#67250).`
        : stuck.length
          ? `Pods stuck (not Ready, not on ${target.metadata.name}): ${stuck.map((p) => p.metadata.name).join(', ')}; the controller does not replace them by itself (kubernetes#67250).`
          : `No pod is stuck.`,
      ...(ctx.restore?.partition !== undefined ? [`spec.updateStrategy.rollingUpdate.partition returns to ${ctx.restore.partition}, its value before the rollout.`] : []),
    ],
    risks: [...(ctx.forced ? [FORCED] : []), `The pod template returns to revision ${target.revision}: any other change made since is undone too.`],
    confirm: { type: 'yes', question: `Roll back ${sts.metadata.name} to revision ${target.revision}${stuck.length ? ` and delete ${stuck.map((p) => p.metadata.name).join(', ')}` : ''}?` },
    steps,
    commands: [],
    followUp: [],
  };
}

/**
 * The second half of a rollback whose deletes were deferred (PlanContext.deferDeletes): delete
 * exactly the pods that are not Running and Ready, not Terminating and not on revision
 * `target` (facts.ts `podsToReplace`), each with a uid precondition only (a failing pod's
 * status, hence its resourceVersion, keeps changing; the uid still keeps a replacement that
 * took the name from being touched). Pure. An empty plan (no steps) when there is none.
 */
export function planReplaceStuck(view: SnapshotView, sts: StatefulSet, target: string, recovery: Plan['recovery'] = 'rollback'): Plan {
  const n = ns(view, sts);
  const pods = podsToReplace(view, sts, target);
  return {
    recovery,
    title: `Delete the pods of ${sts.metadata.name} not Ready and not on revision ${target}`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    facts: [pods.length ? `Not Ready and not on ${target}: ${pods.map((p) => `${p.metadata.name} (revision ${p.metadata.labels?.[REVISION_LABEL] ?? '?'})`).join(', ')}; the controller does not replace them by itself (kubernetes#67250).` : `Every pod is Ready or on ${target}.`],
    risks: [],
    confirm: { type: 'yes', question: `Delete ${pods.map((p) => p.metadata.name).join(', ')}?` },
    steps: pods.map((p) => {
      const t = targetOf(p, 'Pod');
      return {
        title: `Delete pod ${p.metadata.name} (uid ${t.uid}), not Ready, on revision ${p.metadata.labels?.[REVISION_LABEL] ?? '?'}`,
        call: deleteCall(`/api/v1/namespaces/${n}/pods/${p.metadata.name}`, t, false, true),
        kubectl: `kubectl -n ${n} delete pod ${p.metadata.name}`,
      };
    }),
    commands: [],
    followUp: [],
  };
}

/**
 * The differences between two pod templates, one line per container field (`mongo image:
 * a → b`), labels and annotations; at most 20 lines. Used by rollback plans and rollout-stuck.
 */
export function templateDiff(from: PodTemplateSpec | undefined, to: PodTemplateSpec | undefined): string[] {
  return diffTemplates(from, to);
}

/** A manual recovery: the finding's own steps, or, without one, what is in the way now. Never executed. */
export function planManual(view: SnapshotView, sts: StatefulSet, f: Finding | undefined, findings: Finding[]): Plan {
  const options = f ? f.recoveries.filter((r) => !r.automated) : [];
  const commands = options.flatMap((o) => o.commands ?? []);
  const facts = f ? [f.summary, ...options.map((o) => `${o.title}: ${o.description}`)] : findings.filter((x) => x.statefulSet.name === sts.metadata.name).map((x) => `${x.rule} ${x.subject.kind}/${x.subject.name}: ${x.summary}`);
  return {
    recovery: 'manual',
    title: f ? `Steps for you to carry out: ${options[0]?.title ?? f.summary}` : `Steps for you to carry out on StatefulSet ${sts.metadata.name}`,
    automated: false,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(f),
    facts: facts.length ? facts : ['No finding: nothing is in the way.'],
    risks: [],
    confirm: { type: 'yes', question: 'Wait for the StatefulSet to become healthy after you carried out the steps?' },
    steps: [],
    commands,
    followUp: [],
  };
}

/**
 * Plans `offer` for StatefulSet `sts` over a fresh snapshot `view`. Pure. Every target the offer
 * names is looked up again (same name, same uid, still in the state the offer assumed); the
 * planner never picks a target of its own.
 * @throws PlanError (one sentence; exit code 3) when a target is gone, was replaced or changed,
 *   or the recovery does not fit the current state (a Ready node for a force delete, healthy
 *   claims for delete-pvc-and-pod, a healthy StatefulSet for a rollback, a new claim that
 *   could not bind...).
 */
export function planOffer(view: SnapshotView, sts: StatefulSet, offer: RecoveryOffer, ctx: PlanContext = {}): Plan {
  switch (offer.action) {
    case 'force-delete-pod':
      return planForceDelete(view, sts, offer, ctx);
    case 'out-of-service-taint':
      return planOutOfService(view, sts, offer, ctx);
    case 'remove-out-of-service-taint':
      return planRemoveOutOfService(view, sts, offer, ctx);
    case 'delete-pvc-and-pod':
      return planDeletePvcAndPod(view, sts, offer, ctx);
    case 'delete-pod':
      return planDeletePod(view, sts, offer, ctx);
    case 'rollback':
      return planRollback(view, sts, offer, ctx);
  }
}

/** The offers of this StatefulSet's findings for `action`, matching `--pod`/`--node` when given. */
export function findOffers(findings: Finding[], sts: StatefulSet, action: OfferAction, target: { pod?: string; node?: string } = {}): { finding: Finding; option: RecoveryOption; offer: RecoveryOffer }[] {
  const out: { finding: Finding; option: RecoveryOption; offer: RecoveryOffer }[] = [];
  for (const f of findings) {
    if (f.statefulSet.name !== sts.metadata.name) continue;
    for (const o of f.recoveries) {
      const offer = o.offer;
      if (!offer || offer.action !== action) continue;
      const pod = 'pod' in offer ? offer.pod.name : undefined;
      const node = offer.action === 'force-delete-pod' ? offer.node : 'node' in offer ? offer.node.name : undefined;
      if (target.pod && pod !== target.pod && !(offer.action === 'rollback' && offer.deletePods.some((p) => p.name === target.pod))) continue;
      if (target.node && node !== target.node) continue;
      out.push({ finding: f, option: o, offer });
    }
  }
  return out;
}

/** A rollback offer re-targeted to the revision `--to-revision` names (number or name), deleting the pods not Ready and not on it. */
export function retargetRollback(view: SnapshotView, sts: StatefulSet, toRevision: string): RecoveryOffer {
  const rev = view.revisionsOf(sts).find((r) => r.metadata.name === toRevision || String(r.revision) === toRevision);
  if (!rev) throw new PlanError(`StatefulSet ${sts.metadata.name} has no revision ${toRevision} (it has: ${view.revisionsOf(sts).map((r) => `${r.revision} ${r.metadata.name}`).join(', ') || 'none'}).`);
  return { action: 'rollback', toRevision: { name: rev.metadata.name, revision: rev.revision }, fromRevision: sts.status?.updateRevision ?? '', deletePods: podsToReplace(view, sts, rev.metadata.name).map(podTarget) };
}

/**
 * The offer `--force-unrelated` stands for: built from the flags alone, for an action no
 * finding offers. The planner's own checks still apply, and the plan's Risk says it was forced.
 * @throws PlanError when a flag the action needs is missing or names nothing
 */
export function forcedOffer(view: SnapshotView, sts: StatefulSet, req: ForcedRequest): RecoveryOffer {
  const needPod = (): Pod => {
    if (!req.pod) throw new PlanError(`${req.action} needs a pod: pass --pod <name>.`);
    const pod = view.podsOf(sts).find((p) => p.metadata.name === req.pod);
    if (!pod) throw new PlanError(`Pod ${req.pod} of StatefulSet ${sts.metadata.name} does not exist in namespace ${ns(view, sts)}.`);
    return pod;
  };
  const needNode = (): string => {
    if (!req.node) throw new PlanError(`${req.action} needs a node: pass --node <name>.`);
    return req.node;
  };
  switch (req.action) {
    case 'delete-pod':
      return { action: 'delete-pod', pod: podTarget(needPod()) };
    case 'force-delete-pod': {
      const pod = needPod();
      if (!pod.spec.nodeName) throw new PlanError(`Pod ${pod.metadata.name} is not bound to a node; a force delete is only for a pod on a lost node (use delete-pod).`);
      return { action: 'force-delete-pod', pod: podTarget(pod), node: pod.spec.nodeName };
    }
    case 'out-of-service-taint': {
      const node = needNode();
      return { action: 'out-of-service-taint', node: { name: node }, pods: view.podsOf(sts).filter((p) => p.spec.nodeName === node).map(podTarget) };
    }
    case 'remove-out-of-service-taint':
      return { action: 'remove-out-of-service-taint', node: { name: needNode() } };
    case 'delete-pvc-and-pod': {
      // The planner checks the claims (stuck, or only data destroyed) and where new ones bind.
      const pod = needPod();
      const ordinal = podOrdinal(sts, pod.metadata.name);
      const claims = ordinal === undefined ? [] : view.templateClaims(sts, ordinal).filter((c) => c.claim);
      const lost = claimsPinnedToLostNodes(view, pod).flatMap((c) => c.nodes);
      return {
        action: 'delete-pvc-and-pod',
        pod: podTarget(pod),
        claims: claims.map((c) => ({ name: c.claimName, ...(c.claim!.metadata.uid ? { uid: c.claim!.metadata.uid } : {}) })),
        expectBind: [],
        forcePod: lost.includes(pod.spec.nodeName ?? ''),
      };
    }
    case 'rollback': {
      if (req.toRevision) return retargetRollback(view, sts, req.toRevision);
      const target = rollbackTarget(view, sts);
      if (!target) throw new PlanError(`StatefulSet ${sts.metadata.name} has no older revision that pods were Running and Ready on: nothing to roll back to.`);
      return retargetRollback(view, sts, target.metadata.name);
    }
  }
}

/** Plain-text rendering of a plan (the same words the interactive prompt shows). */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [`Plan: ${plan.title}${plan.automated ? '' : ' (manual: sts-doctor writes nothing)'}`];
  if (plan.finding) lines.push(`  For: ${plan.finding.rule} ${plan.finding.subject.kind}/${plan.finding.subject.name}: ${plan.finding.summary}`);
  if (plan.facts.length) {
    lines.push('  Facts:');
    for (const f of plan.facts) lines.push(`    • ${f}`);
  }
  if (plan.risks.length) {
    lines.push('  Risk:');
    for (const r of plan.risks) lines.push(`    ! ${r}`);
  }
  if (plan.steps.length) {
    lines.push('  Steps:');
    plan.steps.forEach((s, i) => {
      lines.push(`    ${i + 1}. ${s.title}`);
      if (s.call) lines.push(`       ${s.call.method} ${s.call.path}${s.call.query ? `?${Object.entries(s.call.query).map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`);
      if (s.kubectl) lines.push(`       $ ${s.kubectl}`);
    });
  }
  if (plan.commands.length) {
    lines.push('  Commands for you:');
    for (const c of plan.commands) lines.push(`    $ ${c}`);
  }
  if (plan.followUp.length) {
    lines.push('  Afterwards:');
    for (const f of plan.followUp) lines.push(`    → ${f}`);
  }
  if (plan.automated) lines.push(`  Confirmation: ${plan.confirm.type === 'name' ? `type "${plan.confirm.name}"` : 'yes'}`);
  return lines.join('\n') + '\n';
}

