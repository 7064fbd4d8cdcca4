/**
 * Recovery plans: pure functions that turn a Snapshot, a Finding and a chosen recovery into
 * data — the exact API calls (verb, path, object with uid and resourceVersion, body, query),
 * the kubectl command a human would type for the same effect, the risk in words, and what the
 * user must confirm. Nothing here calls the API, the clock or the console; src/recovery/execute.ts
 * is the only code that writes.
 */
import { StsDoctorError } from '../errors.js';
import { nodeState, type NodeState } from '../rules/facts.js';
import type { Finding, ObjectRef, RecoveryId, RecoveryOption } from '../rules/types.js';
import type { ControllerRevision, Node, PersistentVolume, Pod, StatefulSet, Taint } from '../snapshot/types.js';
import { formatAge, isPodReady, isTerminating, REVISION_LABEL, type SnapshotView } from '../snapshot/view.js';

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
  recovery: RecoveryId;
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
  /** The node whose state the plan rests on (a lost node), if any: the command adds its Lease renewal to the facts. */
  node?: string;
}

/** The plan cannot be made: the recovery does not fit the current state. One sentence. */
export class PlanError extends StsDoctorError {}

/** What the user asked for: the recovery and, optionally, its target. */
export interface PlanRequest {
  recovery: RecoveryId;
  /** `--pod`: the pod to act on. */
  pod?: string;
  /** `--node`: the node to act on. */
  node?: string;
  /** The finding the user picked; else the planner finds one that offers the recovery. */
  finding?: Finding;
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

/** Findings of this StatefulSet that offer `id`, matching `pod`/`node` when given. */
export function findingsOffering(findings: Finding[], sts: StatefulSet, id: RecoveryId, target: { pod?: string; node?: string } = {}): { finding: Finding; option: RecoveryOption }[] {
  const out: { finding: Finding; option: RecoveryOption }[] = [];
  for (const f of findings) {
    if (f.statefulSet.name !== sts.metadata.name) continue;
    for (const o of f.recoveries) {
      if (o.id !== id) continue;
      const t = o.target ?? f.subject;
      if (target.pod && !(t.kind === 'Pod' && t.name === target.pod) && !(f.subject.kind === 'Pod' && f.subject.name === target.pod) && f.details?.pod !== target.pod) continue;
      if (target.node && !(t.kind === 'Node' && t.name === target.node) && f.details?.node !== target.node) continue;
      out.push({ finding: f, option: o });
    }
  }
  return out;
}

function findingInfo(f: Finding | undefined): Plan['finding'] {
  return f ? { rule: f.rule, summary: f.summary, subject: f.subject } : undefined;
}

function podFor(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Pod {
  let name = req.pod;
  if (!name && req.finding) {
    const o = req.finding.recoveries.find((r) => r.id === req.recovery);
    const t = o?.target ?? req.finding.subject;
    if (t.kind === 'Pod') name = t.name;
    else if (typeof req.finding.details?.pod === 'string') name = req.finding.details.pod;
  }
  if (!name) throw new PlanError(`${req.recovery} needs a pod: pass --pod <name>.`);
  const pod = view.podsOf(sts).find((p) => p.metadata.name === name);
  if (!pod) throw new PlanError(`Pod ${name} of StatefulSet ${sts.metadata.name} does not exist in namespace ${ns(view, sts)}.`);
  return pod;
}

function nodeFor(view: SnapshotView, req: PlanRequest): string {
  let name = req.node;
  if (!name && req.finding) {
    const o = req.finding.recoveries.find((r) => r.id === req.recovery);
    if (o?.target?.kind === 'Node') name = o.target.name;
    else if (typeof req.finding.details?.node === 'string') name = req.finding.details.node;
  }
  if (!name) throw new PlanError(`${req.recovery} needs a node: pass --node <name>.`);
  return name;
}

function heartbeatFact(state: NodeState): string {
  const ready = state.node?.status?.conditions?.find((c) => c.type === 'Ready');
  const words = state.state === 'Unreachable' ? 'stopped reporting (Ready=Unknown)' : state.state === 'NotReady' ? 'reports NotReady' : state.state === 'Deleted' ? 'no longer exists' : `is ${state.state}`;
  const hb = state.lastHeartbeat ? `; last heartbeat ${state.lastHeartbeat}, ${formatAge(state.heartbeatAge)} ago` : '; no heartbeat recorded';
  const reason = ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : '';
  return `Node ${state.name} ${words}${reason}${state.state === 'Deleted' ? '' : hb}.`;
}

const TWO_COPIES = (pod: string, node: string): string =>
  `If node ${node} is only cut off from the network and not powered off, its containers keep running: a second ${pod} will start elsewhere, two copies of this identity will run at once and may corrupt its data. Confirm that the machine is down first.`;

/** `force-delete-pod`: only for a pod on a node that stopped reporting, is NotReady, or is gone. */
function planForceDelete(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const pod = podFor(view, sts, req);
  const node = pod.spec.nodeName;
  if (!node) throw new PlanError(`Pod ${pod.metadata.name} is not bound to a node; a force delete is only for a pod on a lost node (use delete-pod).`);
  const state = nodeState(view, node);
  if (state.state === 'Ready' || state.state === 'Unknown')
    throw new PlanError(`Node ${node} of pod ${pod.metadata.name} is ${state.state === 'Ready' ? 'Ready' : 'not readable'}: a force delete is only for a pod on a node that stopped reporting. Refusing.`);
  const t = targetOf(pod, 'Pod');
  const n = ns(view, sts);
  return {
    recovery: 'force-delete-pod',
    title: `Force-delete pod ${pod.metadata.name} on lost node ${node}`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(req.finding),
    facts: [
      heartbeatFact(state),
      isTerminating(pod) ? `Pod ${pod.metadata.name} has been Terminating since ${pod.metadata.deletionTimestamp}: the API server waits for a kubelet that does not answer.` : `Pod ${pod.metadata.name} is not Ready.`,
      `The StatefulSet controller recreates ${pod.metadata.name} once the pod object is gone; its PVCs are kept.`,
    ],
    risks: [TWO_COPIES(pod.metadata.name, node)],
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

/** `out-of-service-taint`: taint a node that is down so its pods are deleted and their volumes detached. */
function planOutOfService(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const name = nodeFor(view, req);
  const state = nodeState(view, name);
  if (state.state === 'Deleted') throw new PlanError(`Node ${name} no longer exists: there is nothing to taint (force-delete the pod instead).`);
  if (state.state === 'Ready') throw new PlanError(`Node ${name} is Ready: the out-of-service taint is only for a node that is shut down. Refusing.`);
  if (state.state === 'Unknown' || !state.node) throw new PlanError(`Node ${name} could not be read; cannot plan the out-of-service taint.`);
  const node = state.node;
  const existing = node.spec?.taints ?? [];
  if (existing.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) throw new PlanError(`Node ${name} already has the ${OUT_OF_SERVICE_TAINT.key} taint.`);
  const stranded = view.snapshot.pods.filter((p) => p.spec.nodeName === name).map((p) => p.metadata.name);
  return {
    recovery: 'out-of-service-taint',
    title: `Mark node ${name} out of service (non-graceful node shutdown)`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(req.finding),
    facts: [
      heartbeatFact(state),
      `Pods of namespace ${view.snapshot.namespace} on ${name}: ${stranded.join(', ') || 'none'}. With the taint, the pod garbage collector deletes them (on every namespace) and the attach-detach controller detaches their volumes at once; the StatefulSet controller then recreates them on other nodes.`,
    ],
    risks: [TWO_COPIES(stranded.join('/') || 'each pod', name), `Every pod on ${name}, of any namespace, that does not tolerate the taint is deleted.`],
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

/** `remove-out-of-service-taint`: after the node is repaired. */
function planRemoveOutOfService(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const name = nodeFor(view, req);
  const state = nodeState(view, name);
  if (!state.node) throw new PlanError(`Node ${name} ${state.state === 'Deleted' ? 'no longer exists' : 'could not be read'}.`);
  const node = state.node;
  const existing = node.spec?.taints ?? [];
  if (!existing.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) throw new PlanError(`Node ${name} has no ${OUT_OF_SERVICE_TAINT.key} taint.`);
  const risks = state.state === 'Ready' ? [] : [`Node ${name} is not Ready yet (${state.state}): pods may be scheduled there again before it is repaired.`];
  return {
    recovery: 'remove-out-of-service-taint',
    title: `Remove the out-of-service taint from node ${name}`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(req.finding),
    facts: [state.state === 'Ready' ? `Node ${name} is Ready again.` : heartbeatFact(state)],
    risks,
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

function nodesOfAffinity(pv: PersistentVolume): string[] {
  const out: string[] = [];
  for (const term of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? [])
    for (const e of term.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In') out.push(...(e.values ?? []));
  return out;
}

/** `delete-pvc-and-pod`: for a volume pinned to a node that is gone, or a claim that can never bind. */
function planDeletePvcAndPod(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const pod = podFor(view, sts, req);
  const n = ns(view, sts);
  const claims = view.claimsOf(pod).filter((c) => c.claim);
  const templates = new Set((sts.spec.volumeClaimTemplates ?? []).map((t) => `${t.metadata.name}-${pod.metadata.name}`));
  const own = claims.filter((c) => templates.has(c.claimName));
  if (own.length === 0) throw new PlanError(`Pod ${pod.metadata.name} has no claim from the StatefulSet's claim templates; nothing to rebuild.`);
  // Applies only when each claim is stuck: Pending/Lost, or bound to a PV pinned to nodes that are all down or gone.
  const facts: string[] = [];
  const why: string[] = [];
  for (const c of own) {
    const claim = c.claim!;
    const phase = claim.status?.phase ?? 'Pending';
    const pv = view.volumeOf(claim);
    const size = claim.status?.capacity?.storage ?? claim.spec.resources?.requests?.storage ?? '?';
    facts.push(
      `PVC ${claim.metadata.name}: ${phase}, ${size}${pv ? `, PV ${pv.metadata.name} (reclaim policy ${pv.spec.persistentVolumeReclaimPolicy ?? 'Delete'})` : ''}.`,
    );
    if (phase !== 'Bound') {
      why.push(`PVC ${claim.metadata.name} is ${phase}`);
      continue;
    }
    const pinned = pv ? nodesOfAffinity(pv) : [];
    const down = pinned.filter((nn) => {
      const s = nodeState(view, nn).state;
      return s !== 'Ready' && s !== 'Unknown';
    });
    if (pinned.length && down.length === pinned.length) {
      why.push(`PV ${pv!.metadata.name} is pinned to ${pinned.join(', ')}, which ${pinned.length === 1 ? 'is' : 'are'} ${down.map((d) => nodeState(view, d).state).join('/')}`);
      for (const d of down) facts.push(heartbeatFact(nodeState(view, d)));
    }
  }
  if (why.length === 0)
    throw new PlanError(`The claims of pod ${pod.metadata.name} are bound to volumes whose nodes are Ready (or not pinned): deleting them would only destroy data. Refusing.`);
  const retention = sts.spec.persistentVolumeClaimRetentionPolicy ?? {};
  facts.push(`StatefulSet PVC retention policy: whenDeleted=${retention.whenDeleted ?? 'Retain'}, whenScaled=${retention.whenScaled ?? 'Retain'}.`);
  facts.push(`Why: ${why.join('; ')}.`);
  const podNode = pod.spec.nodeName;
  const podNodeDown = podNode ? !['Ready', 'Unknown'].includes(nodeState(view, podNode).state) : false;
  const podT = targetOf(pod, 'Pod');
  const steps: PlanStep[] = [];
  for (const c of own) {
    const t = targetOf(c.claim!, 'PersistentVolumeClaim');
    steps.push({
      title: `Delete PVC ${c.claimName} (uid ${t.uid}, resourceVersion ${t.resourceVersion}); it stays Terminating (kubernetes.io/pvc-protection) until the pod is gone`,
      call: deleteCall(`/api/v1/namespaces/${n}/persistentvolumeclaims/${c.claimName}`, t),
      kubectl: `kubectl -n ${n} delete pvc ${c.claimName} --wait=false`,
    });
  }
  steps.push({
    title: `Delete pod ${pod.metadata.name} (uid ${podT.uid}; not its resourceVersion, which deleting the claim changes)${podNodeDown ? ' with grace period 0 (its node is down)' : ''}`,
    call: deleteCall(`/api/v1/namespaces/${n}/pods/${pod.metadata.name}`, podT, podNodeDown, true),
    kubectl: `kubectl -n ${n} delete pod ${pod.metadata.name}${podNodeDown ? ' --grace-period=0 --force' : ''}`,
  });
  for (const c of own)
    steps.push({
      title: `Wait until PVC ${c.claimName} (uid ${c.claim!.metadata.uid}) is gone, so that the controller creates a new one`,
      waitGone: { path: `/api/v1/namespaces/${n}/persistentvolumeclaims/${c.claimName}`, uid: c.claim!.metadata.uid, what: `PVC ${c.claimName}`, timeoutSeconds: 60 },
    });
  return {
    recovery: 'delete-pvc-and-pod',
    title: `Delete the claims of ${pod.metadata.name} and the pod, so the replica is rebuilt on a new volume`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(req.finding),
    facts,
    risks: [
      `The data of replica ${pod.metadata.name} on ${own.map((c) => c.claimName).join(', ')} is lost for this replica: the new volume starts empty and the workload must rebuild it (as a MongoDB replica set member resyncs from its peers).`,
      ...own
        .map((c) => view.volumeOf(c.claim!))
        .filter((pv): pv is PersistentVolume => Boolean(pv))
        .map((pv) =>
          (pv.spec.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete'
            ? `PV ${pv.metadata.name} has reclaim policy Delete: the volume itself is deleted with the claim.`
            : `PV ${pv.metadata.name} has reclaim policy ${pv.spec.persistentVolumeReclaimPolicy}: it is kept (Released) and its data can still be recovered by hand.`,
        ),
      ...(podNodeDown ? [TWO_COPIES(pod.metadata.name, podNode!)] : []),
    ],
    confirm: { type: 'name', name: own[0]!.claimName, question: `Type the claim name ${own[0]!.claimName} to delete it and its pod` },
    steps,
    commands: [],
    followUp: [],
  };
}

/** `delete-pod`: the stuck pod, after the template was fixed; the controller recreates it from the update revision. */
function planDeletePod(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const pod = podFor(view, sts, req);
  const n = ns(view, sts);
  if (isPodReady(pod) && !isTerminating(pod)) throw new PlanError(`Pod ${pod.metadata.name} is Ready; delete-pod is for a stuck pod. Refusing.`);
  if (pod.spec.nodeName && !['Ready', 'Unknown'].includes(nodeState(view, pod.spec.nodeName).state))
    throw new PlanError(`Pod ${pod.metadata.name} is on node ${pod.spec.nodeName}, which is not Ready: a graceful delete would never finish; use force-delete-pod or out-of-service-taint.`);
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  const update = sts.status?.updateRevision;
  const facts = [`Pod ${pod.metadata.name} is on revision ${rev ?? '?'}; the StatefulSet's update revision is ${update ?? '?'}.`];
  const risks: string[] = [];
  if (rev && update && rev === update)
    risks.push(`${pod.metadata.name} is already on the update revision: the new pod gets the same template, so this only helps if the cause is outside the template (or was fixed outside it).`);
  else facts.push(`The controller recreates ${pod.metadata.name} from revision ${update ?? 'the update revision'}; its PVCs are kept.`);
  const t = targetOf(pod, 'Pod');
  return {
    recovery: 'delete-pod',
    title: `Delete pod ${pod.metadata.name} so it is recreated from the current template`,
    automated: true,
    statefulSet: targetOf(sts, 'StatefulSet'),
    finding: findingInfo(req.finding),
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

/** `rollback`: like `kubectl rollout undo sts`: the previous revision's data as a strategic merge patch, then delete the pods stuck on the bad revision. */
function planRollback(view: SnapshotView, sts: StatefulSet, req: PlanRequest): Plan {
  const n = ns(view, sts);
  const revisions = view.revisionsOf(sts);
  const updateName = sts.status?.updateRevision;
  const current = revisions.find((r) => r.metadata.name === updateName) ?? revisions[0];
  if (!current) throw new PlanError(`StatefulSet ${sts.metadata.name} has no ControllerRevisions to roll back to.`);
  const previous = revisions.find((r) => r.revision < current.revision);
  if (!previous?.data) throw new PlanError(`StatefulSet ${sts.metadata.name} has no revision before ${current.metadata.name} (revision ${current.revision}).`);
  // kubectl (pkg/polymorphichelpers/rollback.go, StatefulSetRollbacker) applies revision.Data as a strategic merge patch;
  // the data holds spec.template with "$patch": "replace". resourceVersion makes it conditional.
  const patch = { ...(previous.data as Record<string, unknown>), metadata: { resourceVersion: sts.metadata.resourceVersion } };
  const stsT = targetOf(sts, 'StatefulSet');
  const steps: PlanStep[] = [
    {
      title: `Patch StatefulSet ${sts.metadata.name} (resourceVersion ${sts.metadata.resourceVersion}) with the template of revision ${previous.revision} (${previous.metadata.name})`,
      call: { verb: 'patch', method: 'PATCH', path: `/apis/apps/v1/namespaces/${n}/statefulsets/${sts.metadata.name}`, object: stsT, body: patch, contentType: 'application/strategic-merge-patch+json' },
      kubectl: `kubectl -n ${n} rollout undo statefulset/${sts.metadata.name} --to-revision=${previous.revision}`,
    },
  ];
  const stuck = view.podsOf(sts).filter((p) => p.metadata.labels?.[REVISION_LABEL] === current.metadata.name && !isPodReady(p) && !isTerminating(p));
  for (const p of stuck) {
    const t = targetOf(p, 'Pod');
    steps.push({
      title: `Delete pod ${p.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion}), stuck on revision ${current.metadata.name}`,
      call: deleteCall(`/api/v1/namespaces/${n}/pods/${p.metadata.name}`, t),
      kubectl: `kubectl -n ${n} delete pod ${p.metadata.name}`,
    });
  }
  return {
    recovery: 'rollback',
    title: `Roll StatefulSet ${sts.metadata.name} back to revision ${previous.revision}${stuck.length ? ` and delete ${stuck.map((p) => p.metadata.name).join(', ')}` : ''}`,
    automated: true,
    statefulSet: stsT,
    finding: findingInfo(req.finding),
    facts: [
      `Update revision ${current.metadata.name} (revision ${current.revision}): ${images(current)}.`,
      `Previous revision ${previous.metadata.name} (revision ${previous.revision}): ${images(previous)}.`,
      stuck.length ? `Pods stuck on ${current.metadata.name} (not Ready): ${stuck.map((p) => p.metadata.name).join(', ')}; the controller does not replace them by itself (kubernetes#67250).` : `No pod is stuck on ${current.metadata.name}.`,
    ],
    risks: ['The pod template returns to the previous revision: any other change made in the bad revision is undone too.'],
    confirm: { type: 'yes', question: `Roll back ${sts.metadata.name} to revision ${previous.revision}${stuck.length ? ' and delete the stuck pods' : ''}?` },
    steps,
    commands: [],
    followUp: [],
  };
}

/** A manual recovery: the finding's own steps, or, without one, what is in the way now. Never executed. */
function planManual(view: SnapshotView, sts: StatefulSet, req: PlanRequest, findings: Finding[]): Plan {
  const f = req.finding;
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
 * Plans `req.recovery` for StatefulSet `sts` over the snapshot `view`. Pure.
 * @param findings the diagnosis' findings (used to name what is in the way for a manual plan)
 * @throws PlanError (one sentence) when the recovery does not fit the current state: the node of
 *   a force delete is Ready, the claims of delete-pvc-and-pod are healthy, there is no previous
 *   revision, the target is missing...
 */
export function planRecovery(view: SnapshotView, sts: StatefulSet, req: PlanRequest, findings: Finding[] = []): Plan {
  switch (req.recovery) {
    case 'force-delete-pod':
      return planForceDelete(view, sts, req);
    case 'out-of-service-taint':
      return planOutOfService(view, sts, req);
    case 'remove-out-of-service-taint':
      return planRemoveOutOfService(view, sts, req);
    case 'delete-pvc-and-pod':
      return planDeletePvcAndPod(view, sts, req);
    case 'delete-pod':
      return planDeletePod(view, sts, req);
    case 'rollback':
      return planRollback(view, sts, req);
    case 'manual':
      return planManual(view, sts, req, findings);
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
