/**
 * Facts several rules share: why a pod is not Ready, what state a node is in. Pure functions
 * of the snapshot; each returns the evidence it relied on.
 */
import { parseQuantity } from './quantity.js';
import { canonical } from './template-diff.js';
import type { Container, ControllerRevision, KubeEvent, Node, PersistentVolume, Pod, Service, StatefulSet, StorageClass, Taint, Timestamp, Toleration } from '../snapshot/types.js';
import {
  ageSeconds,
  claimName,
  condition,
  formatAge,
  hostTermNodes,
  isPodReady,
  isRunningAndReady,
  isTerminating,
  REVISION_LABEL,
  selectorMatches,
  toTimestamp,
  type SnapshotView,
  type WaitingContainer,
  waitingContainers,
} from '../snapshot/view.js';
import { absenceEvidence, eventEvidence, fieldEvidence, ref, type BindExpectation, type Evidence } from './types.js';
import type { OrdinalRange } from '../snapshot/ordinals.js';

// The waiting containers are a fact of the pod's status (view.ts), shared with the live read.
export { waitingContainers, type WaitingContainer };

/** Evidence quoting a waiting container: `<reason>: <message>`. */
export function waitingEvidence(pod: Pod, w: WaitingContainer): Evidence {
  const { reason, message } = w.status.state!.waiting!;
  return fieldEvidence(pod, 'Pod', w.field, message ? `${reason}: ${message}` : (reason ?? ''));
}

/** Pod events with one of the given reasons, newest first. */
export function podEvents(view: SnapshotView, pod: Pod, ...reasons: string[]): KubeEvent[] {
  return view.eventsFor(pod, 'Pod').filter((e) => reasons.length === 0 || reasons.includes(e.reason ?? ''));
}

/** Why a pod is not Running and Ready, in one phrase, with the evidence. */
export interface NotReadyReason {
  /** Short cause: `Terminating`, `Unschedulable`, `ImagePullBackOff`, `readiness probe failing`, ... */
  reason: string;
  /** One sentence for humans. */
  text: string;
  evidence: Evidence[];
}

/**
 * Explains why `pod` is not Running and Ready: Terminating, not scheduled (PodScheduled=False),
 * a waiting container, an init container still running (`Init:<i>/<n>`), a failing probe
 * (Warning `Unhealthy`), or the Ready condition's own message. Undefined when the pod is
 * Running and Ready.
 */
export function whyNotReady(view: SnapshotView, pod: Pod): NotReadyReason | undefined {
  if (isTerminating(pod)) {
    const age = formatAge(ageSeconds(view.snapshot.now, pod.metadata.deletionTimestamp));
    return {
      reason: 'Terminating',
      text: `it has been Terminating for ${age}`,
      evidence: [fieldEvidence(pod, 'Pod', 'metadata.deletionTimestamp', pod.metadata.deletionTimestamp!, pod.metadata.deletionTimestamp)],
    };
  }
  if (pod.status?.phase === 'Running' && isPodReady(pod)) return undefined;
  const scheduled = condition(pod.status?.conditions, 'PodScheduled');
  if (!pod.spec.nodeName && scheduled?.status === 'False') {
    const ev = podEvents(view, pod, 'FailedScheduling')[0];
    return {
      reason: scheduled.reason ?? 'Unschedulable',
      text: `it cannot be scheduled: ${ev?.message ?? scheduled.message ?? scheduled.reason}`,
      evidence: [fieldEvidence(pod, 'Pod', 'status.conditions[PodScheduled]', `${scheduled.reason ?? ''}: ${scheduled.message ?? ''}`, scheduled.lastTransitionTime ?? undefined), ...(ev ? [eventEvidence(ev)] : [])],
    };
  }
  const waiting = waitingContainers(pod)[0];
  if (waiting) {
    const w = waiting.status.state!.waiting!;
    const evs = podEvents(view, pod, 'Failed', 'BackOff', 'InspectFailed', 'ErrImageNeverPull', 'FailedMount').slice(0, 2);
    return {
      reason: w.reason!,
      // The waiting message (often the runtime's long error) is in the evidence, not the sentence.
      text: `container ${waiting.status.name} is waiting with ${w.reason}`,
      evidence: [waitingEvidence(pod, waiting), ...evs.map(eventEvidence)],
    };
  }
  const initialized = condition(pod.status?.conditions, 'Initialized');
  const initRunning = pod.status?.phase === 'Pending' && initialized?.status === 'False' ? (pod.status.initContainerStatuses ?? []).find((c) => c.state?.running && (pod.spec.initContainers ?? []).find((x) => x.name === c.name)?.restartPolicy !== 'Always') : undefined;
  if (initRunning) {
    const i = (pod.spec.initContainers ?? []).findIndex((c) => c.name === initRunning.name);
    return {
      reason: `Init:${Math.max(0, i)}/${(pod.spec.initContainers ?? []).length}`,
      text: `its init container ${initRunning.name} has been running since ${initRunning.state!.running!.startedAt ?? '?'} and has not finished`,
      evidence: [fieldEvidence(pod, 'Pod', 'status.conditions[Initialized]', `False ${initialized!.reason ?? ''}: ${initialized!.message ?? ''}`.replace(/ :/, ':'), initialized!.lastTransitionTime ?? undefined)],
    };
  }
  const probe = podEvents(view, pod, 'Unhealthy')[0];
  if (probe) {
    const kind = /^(Readiness|Liveness|Startup) probe/.exec(probe.message ?? '')?.[1];
    const what = kind ? `${kind.toLowerCase()} probe` : 'probe';
    return { reason: `${what} failing`, text: `its ${what} fails${probe.message ? `: ${probe.message}` : ' (Warning Unhealthy, with no message)'}`, evidence: [eventEvidence(probe)] };
  }
  const mount = podEvents(view, pod, 'FailedMount', 'FailedAttachVolume')[0];
  if (mount) return { reason: mount.reason!, text: `its volumes cannot be ${mount.reason === 'FailedMount' ? 'mounted' : 'attached'}${mount.message ? `: ${mount.message}` : ` (Warning ${mount.reason}, with no message)`}`, evidence: [eventEvidence(mount)] };
  const ready = condition(pod.status?.conditions, 'Ready');
  const evidence: Evidence[] = [fieldEvidence(pod, 'Pod', 'status.phase', pod.status?.phase ?? 'Unknown')];
  if (ready) evidence.push(fieldEvidence(pod, 'Pod', 'status.conditions[Ready]', `${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`, ready.lastTransitionTime ?? undefined));
  const phase = pod.status?.phase ?? 'Pending';
  return {
    reason: phase === 'Running' ? (ready?.reason ?? 'NotReady') : phase,
    text: phase === 'Running' ? `it is Running but not Ready${ready?.message ? ` (${ready.message})` : ''}` : `it is ${phase}`,
    evidence,
  };
}

/** The namespace of the kubelets' node Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** A node's last heartbeat and where it was read. */
export interface Heartbeat {
  /** RFC 3339, whole seconds. */
  time: Timestamp;
  /** `Lease`: `spec.renewTime` of Lease kube-node-lease/<node>; `Ready condition`: `status.conditions[Ready].lastHeartbeatTime`. */
  source: 'Lease' | 'Ready condition';
  /** Age in seconds relative to the snapshot's `now`. */
  age: number | undefined;
  evidence: Evidence;
}

/**
 * The last heartbeat of node `name`: the renewal of its Lease (kube-node-lease/<name>), which the
 * kubelet renews every 10 s (pkg/kubelet/nodelease, since 1.17), else the Ready condition's
 * `lastHeartbeatTime`, which a kubelet refreshes only on a change or every
 * `nodeStatusReportFrequency` (5 min by default). Undefined when neither is known. The one
 * place diagnosis and plans read a heartbeat from.
 */
export function nodeHeartbeat(view: SnapshotView, name: string): Heartbeat | undefined {
  const lease = view.leases.get(name);
  const renewed = lease?.spec?.renewTime;
  if (lease && renewed && !Number.isNaN(Date.parse(renewed))) {
    const time = toTimestamp(Date.parse(renewed));
    return {
      time,
      source: 'Lease',
      age: ageSeconds(view.snapshot.now, time),
      evidence: { type: 'status', object: { kind: 'Lease', namespace: NODE_LEASE_NAMESPACE, name, ...(lease.metadata.uid ? { uid: lease.metadata.uid } : {}) }, label: 'spec.renewTime', text: time, time },
    };
  }
  const node = view.nodes.get(name);
  const ready = condition(node?.status?.conditions, 'Ready');
  if (!node || !ready?.lastHeartbeatTime) return undefined;
  return {
    time: ready.lastHeartbeatTime,
    source: 'Ready condition',
    age: ageSeconds(view.snapshot.now, ready.lastHeartbeatTime),
    evidence: fieldEvidence(node, 'Node', 'status.conditions[Ready].lastHeartbeatTime', ready.lastHeartbeatTime, ready.lastHeartbeatTime),
  };
}

/** Where a heartbeat was read, as plans and explanations say it: `Lease kube-node-lease/n1` or `Ready condition`. */
export function heartbeatSource(h: Heartbeat, node: string): string {
  return h.source === 'Lease' ? `Lease ${NODE_LEASE_NAMESPACE}/${node}` : 'Ready condition';
}

/**
 * The nodes a PV's `spec.nodeAffinity` allows (one place for every rule and plan). Terms that
 * only name hosts (`kubernetes.io/hostname In` in matchExpressions, or `metadata.name In` in
 * matchFields) give those names even when the nodes no longer exist; other terms (a zone, a
 * custom label, several requirements) give the existing nodes whose labels and fields match.
 * Empty when the PV has no node affinity. With nodes read by name only (view.holdsAll), the
 * matching nodes are among those read: the live read reads every node when a PV it reads has
 * such a term (from-cluster.ts needsWholeReads).
 */
export function pinnedNodes(view: SnapshotView, pv: PersistentVolume): string[] {
  const names = new Set<string>();
  for (const term of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    const hosts = hostTermNodes(term);
    if (hosts) {
      for (const v of hosts) names.add(v);
      continue;
    }
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    for (const node of view.nodes.values()) {
      const labelsOk = selectorMatches({ matchExpressions: exprs }, node.metadata.labels);
      const fieldsOk = fields.every((f) => selectorMatches({ matchExpressions: [{ ...f, key: 'metadata.name' }] }, { 'metadata.name': node.metadata.name }));
      if (labelsOk && fieldsOk) names.add(node.metadata.name);
    }
  }
  return [...names].sort();
}

/**
 * Whether `tolerations` tolerate `taint`, as the scheduler's TaintToleration plugin decides it
 * (k8s.io/api core/v1 toleration.go `ToleratesTaint`): the effect is empty or equal; an empty
 * key with operator Exists tolerates every taint; otherwise the key is equal and, with operator
 * Equal (the default), the value too.
 */
export function tolerates(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** A node's taints that keep `pod` off it (NoSchedule and NoExecute ones it does not tolerate). */
export function untoleratedTaints(node: Node, pod: Pod): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec.tolerations, t));
}

/** True when a PV has a required node affinity (it can only be used on some nodes). */
export function isPinned(pv: PersistentVolume): boolean {
  return (pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.length ?? 0) > 0;
}

/**
 * A PV's reclaim policy. The API server defaults `persistentVolumeReclaimPolicy` to `Retain`
 * (pkg/apis/core/v1/defaults.go); dynamically provisioned volumes carry their class's policy.
 */
export function reclaimPolicy(pv: PersistentVolume): 'Retain' | 'Delete' | 'Recycle' {
  return pv.spec.persistentVolumeReclaimPolicy ?? 'Retain';
}

/** True when node state `s` cannot run pods: not Ready, deleted, or cordoned. `Unknown` (not readable) is not lost. */
export function isLostNode(s: NodeState): boolean {
  return s.state === 'NotReady' || s.state === 'Unreachable' || s.state === 'Deleted';
}

/** The claims of `pod` bound to a PV whose allowed nodes are all lost (NotReady, unreachable, deleted). */
export function claimsPinnedToLostNodes(view: SnapshotView, pod: Pod): { claim: string; pv: PersistentVolume; nodes: string[] }[] {
  const out: { claim: string; pv: PersistentVolume; nodes: string[] }[] = [];
  for (const { claimName: name, claim } of view.claimsOf(pod)) {
    const pv = claim ? view.volumeOf(claim) : undefined;
    if (!pv || !isPinned(pv)) continue;
    const nodes = pinnedNodes(view, pv);
    if (nodes.length === 0 || nodes.every((n) => isLostNode(nodeState(view, n)))) out.push({ claim: name, pv, nodes });
  }
  return out;
}

/** True when PV `pv` is attached to node `node`: a VolumeAttachment, or the node's `status.volumesAttached`. */
export function isAttachedTo(view: SnapshotView, pv: PersistentVolume, node: string): boolean {
  if (view.attachmentsOf(pv.metadata.name).some((va) => va.spec.nodeName === node)) return true;
  const names = attachedVolumeNames(pv);
  return names.length > 0 && (view.nodes.get(node)?.status?.volumesAttached ?? []).some((v) => names.includes(v.name));
}

/**
 * The unique names the attach-detach controller may use for `pv` in `node.status.volumesAttached`:
 * `kubernetes.io/csi/<driver>^<volumeHandle>` for CSI, `kubernetes.io/iscsi/<portal>:<iqn>:<lun>`
 * for in-tree iSCSI.
 */
export function attachedVolumeNames(pv: PersistentVolume): string[] {
  const names: string[] = [];
  const csi = pv.spec.csi;
  if (csi) names.push(`kubernetes.io/csi/${csi.driver}^${csi.volumeHandle}`);
  const iscsi = pv.spec.iscsi as { targetPortal?: string; iqn?: string; lun?: number } | undefined;
  if (iscsi?.targetPortal && iscsi.iqn) names.push(`kubernetes.io/iscsi/${iscsi.targetPortal}:${iscsi.iqn}:${iscsi.lun ?? 0}`);
  return names;
}

/** The StorageClass marked default (`storageclass.kubernetes.io/is-default-class: "true"`). */
export function defaultStorageClass(view: SnapshotView): StorageClass | undefined {
  return view.snapshot.storageClasses.find((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
}

/** The provisioner of static local volumes: a class with it never provisions. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** Where a new claim can bind, or why it cannot (with what to create). */
export type NewClaimBinding = { ok: true; expect: BindExpectation } | { ok: false; reason: string };

/**
 * Whether a new claim made from claim template `template` for ordinal `ordinal` can bind: its
 * StorageClass (the template's, else the default class) has a provisioner, or an Available PV of
 * that class, at least the requested size and every requested access mode, not pre-bound to
 * another claim, whose node affinity (if any) allows a node that is Ready, schedulable and not in
 * `avoid`. `unchecked` when PVs or classes could not be read, or PVs or nodes were read by name only.
 */
export function newClaimBinding(view: SnapshotView, sts: StatefulSet, template: string, ordinal: number, avoid: string[] = []): NewClaimBinding {
  const t = (sts.spec.volumeClaimTemplates ?? []).find((x) => x.metadata.name === template);
  const spec = t?.spec ?? {};
  const name = claimName(sts, template, ordinal);
  const className = spec.storageClassName === undefined || spec.storageClassName === null ? defaultStorageClass(view)?.metadata.name : spec.storageClassName;
  const size = spec.resources?.requests?.storage;
  const modes = spec.accessModes ?? [];
  // "No Available PV fits" needs every PV (and every node a PV may be pinned to), not only those read by name.
  if (!view.holdsAll('persistentvolumes') || view.snapshot.scope?.nodes === 'named' || !view.canSee('storageclasses')) return { ok: true, expect: { via: 'unchecked', claim: name } };
  const sc = className ? view.storageClasses.get(className) : undefined;
  if (sc && sc.provisioner !== NO_PROVISIONER) return { ok: true, expect: { via: 'provisioner', claim: name, storageClass: sc.metadata.name, provisioner: sc.provisioner } };
  const want = parseQuantity(size) ?? 0;
  for (const pv of view.snapshot.persistentVolumes) {
    const phase = pv.status?.phase ?? (pv.spec.claimRef ? 'Bound' : 'Available');
    if (phase !== 'Available') continue;
    const ref = pv.spec.claimRef;
    if (ref?.name && !(ref.name === name && (ref.namespace ?? view.snapshot.namespace) === view.snapshot.namespace)) continue;
    if ((pv.spec.storageClassName ?? '') !== (className ?? '')) continue;
    if ((parseQuantity(pv.spec.capacity?.storage) ?? 0) < want) continue;
    if (!modes.every((m) => (pv.spec.accessModes ?? []).includes(m))) continue;
    if (isPinned(pv)) {
      const usable = pinnedNodes(view, pv).filter((n) => {
        const s = nodeState(view, n);
        return s.state === 'Ready' && !s.cordoned && !avoid.includes(n);
      });
      if (usable.length === 0) continue;
      return { ok: true, expect: { via: 'volume', claim: name, storageClass: className ?? '', volume: pv.metadata.name, nodes: usable } };
    }
    return { ok: true, expect: { via: 'volume', claim: name, storageClass: className ?? '', volume: pv.metadata.name, nodes: [] } };
  }
  const what = `a PersistentVolume of StorageClass ${className || '""'} with at least ${size ?? 'the requested size'} and access mode ${modes.join(', ') || 'ReadWriteOnce'} on a Ready node`;
  const classWords = className ? (sc ? `StorageClass ${className} has no provisioner (${NO_PROVISIONER})` : `StorageClass ${className} does not exist`) : 'the claim has no StorageClass';
  return { ok: false, reason: `no PersistentVolume can bind the new claim ${name}: ${classWords} and no Available volume fits. First create ${what}${className && !sc ? ` (or create StorageClass ${className} with a provisioner)` : ''}` };
}

/** The fields of a container that decide whether it runs: what a template fix changes. */
function runSpec(c: Container | undefined): string {
  if (!c) return '';
  const r = c as unknown as Record<string, unknown>;
  return JSON.stringify(canonical(Object.fromEntries(['image', 'command', 'args', 'env', 'envFrom', 'resources', 'readinessProbe', 'livenessProbe', 'startupProbe', 'ports', 'volumeMounts'].map((k) => [k, r[k]]))) ?? null);
}

/** The service account token volume the admission plugin adds to every pod (not in any template). */
const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * True when the StatefulSet's template already changed what `pod` runs: the pod is not on the
 * update revision, and a container differs (image, command, args, env, resources, probes, ports,
 * mounts) between the template it was created from (its ControllerRevision; else its own spec,
 * without admission-added mounts) and `spec.template`. Then deleting the pod helps (it is
 * recreated from the new template) and a rollback is not needed; when nothing changed ("worse":
 * only labels or annotations), the pod would be recreated just as broken.
 */
export function templateFixedFor(view: SnapshotView, sts: StatefulSet, pod: Pod): boolean {
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  if (rev && rev === sts.status?.updateRevision) return false;
  const all = (spec: { containers?: Container[]; initContainers?: Container[] } | undefined): Container[] => [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const fromRevision = rev ? view.revisionsOf(sts).find((r) => r.metadata.name === rev)?.data?.spec?.template?.spec : undefined;
  const mine = fromRevision
    ? all(fromRevision)
    : all(pod.spec).map((c) => ({ ...c, volumeMounts: (c.volumeMounts ?? []).filter((m) => m.mountPath !== SERVICE_ACCOUNT_MOUNT) }));
  const theirs = all(sts.spec.template.spec);
  return mine.length !== theirs.length || mine.some((c) => runSpec(c) !== runSpec(theirs.find((t) => t.name === c.name)));
}

/** The template fields a finding can be about, for {@link templateChange}: `command` is command and args, `env` is env and envFrom, `volumes` the pod's volumes (ConfigMap and Secret references). */
export type TemplateField = 'image' | 'command' | 'env' | 'resources' | 'readinessProbe' | 'livenessProbe' | 'startupProbe' | 'volumes';

/** A template field that already differs from what a stuck pod runs: its value in the pod's template (`was`) and in `spec.template` now (`now`). */
export interface TemplateChange {
  field: TemplateField;
  /** The container (absent for `volumes`). */
  container?: string;
  /** The field path in `spec.template`, e.g. `spec.template.spec.containers[quiz-api].readinessProbe`. */
  path: string;
  was: unknown;
  now: unknown;
}

function fieldValue(spec: { containers?: Container[]; initContainers?: Container[]; volumes?: unknown } | undefined, container: string | undefined, field: TemplateField): unknown {
  if (field === 'volumes') return spec?.volumes;
  const c = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].find((x) => x.name === container) as (Container & Record<string, unknown>) | undefined;
  if (!c) return undefined;
  if (field === 'command') return { command: c.command, args: c.args };
  if (field === 'env') return { env: c.env, envFrom: c.envFrom };
  return c[field];
}

/**
 * "Already fixed": the first of `fields` (of container `container`) that differs between the
 * template `pod` was created from (its ControllerRevision; else its own spec) and the
 * StatefulSet's current `spec.template`. Undefined when the pod is on the update revision or
 * none of them changed. A rule whose finding is about that field then says the template is
 * already changed and offers `delete-pod` first (the controller does not replace a pod that
 * never became Ready, kubernetes#67250).
 */
export function templateChange(view: SnapshotView, sts: StatefulSet, pod: Pod, container: string | undefined, fields: TemplateField[]): TemplateChange | undefined {
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  if (rev && rev === sts.status?.updateRevision) return undefined;
  const fromRevision = rev ? view.revisionsOf(sts).find((r) => r.metadata.name === rev)?.data?.spec?.template?.spec : undefined;
  const mine = fromRevision ?? pod.spec;
  const theirs = sts.spec.template.spec;
  const kind = [...(theirs.initContainers ?? [])].some((c) => c.name === container) ? 'initContainers' : 'containers';
  for (const field of fields) {
    const was = fieldValue(mine, container, field);
    const now = fieldValue(theirs, container, field);
    // Without the revision, a pod's volumes carry what admission added (the service account token): not comparable.
    if (field === 'volumes' && !fromRevision) continue;
    if (JSON.stringify(canonical(was) ?? null) === JSON.stringify(canonical(now) ?? null)) continue;
    const path = field === 'volumes' ? 'spec.template.spec.volumes' : `spec.template.spec.${kind}[${container}].${field === 'command' ? 'command/args' : field === 'env' ? 'env/envFrom' : field}`;
    return { field, ...(field === 'volumes' ? {} : { container }), path, was, now };
  }
  return undefined;
}

/** What the template now has, in words: `other resources for container mongo`, `another command or arguments for container c`. */
export function templateChangeWords(c: TemplateChange): string {
  const of = c.container ? ` for container ${c.container}` : '';
  switch (c.field) {
    case 'image':
      return `another image${of} (${typeof c.now === 'string' ? `"${c.now}"` : '(none)'})`;
    case 'command':
      return `another command or arguments${of}`;
    case 'env':
      return `other environment references${of}`;
    case 'resources':
      return `other resources${of}`;
    case 'volumes':
      return 'other volumes';
    default:
      return `another ${c.field.replace(/Probe$/, ' probe')}${of}`;
  }
}

/** A template value in one bounded line (JSON, at most 300 characters), for evidence. */
export function templateValueText(v: unknown): string {
  const text = v === undefined ? '(none)' : (JSON.stringify(canonical(v)) ?? '(none)');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * The revision a rollback goes to: the newest ControllerRevision, older than the update
 * revision, that pods were Running and Ready on (a pod Running and Ready on it now, or it is
 * `status.currentRevision`, the last revision fully rolled out). Never the update revision.
 * Undefined when there is none (or its data is missing).
 */
export function rollbackTarget(view: SnapshotView, sts: StatefulSet): ControllerRevision | undefined {
  const update = sts.status?.updateRevision;
  const revisions = view.revisionsOf(sts);
  const updateRev = revisions.find((r) => r.metadata.name === update);
  const good = new Set(view.podsOf(sts).filter(isRunningAndReady).map((p) => p.metadata.labels?.[REVISION_LABEL] ?? ''));
  const current = sts.status?.currentRevision;
  if (current && current !== update) good.add(current);
  return revisions.find((r) => r.metadata.name !== update && good.has(r.metadata.name) && (!updateRev || r.revision < updateRev.revision) && r.data?.spec?.template);
}

/** The pods a rollback to `target` deletes: not Running and Ready, not Terminating, and not on `target`. */
export function podsToReplace(view: SnapshotView, sts: StatefulSet, target: string): Pod[] {
  return view.podsOf(sts).filter((p) => !isRunningAndReady(p) && !isTerminating(p) && p.metadata.labels?.[REVISION_LABEL] !== target);
}

/** What sts-doctor knows of a node. */
export interface NodeState {
  name: string;
  /** `Ready`, `NotReady` (Ready=False), `Unreachable` (Ready=Unknown), `Deleted` (no such Node), `Unknown` (nodes not readable). */
  state: 'Ready' | 'NotReady' | 'Unreachable' | 'Deleted' | 'Unknown';
  node?: Node;
  /** Age in seconds of the last heartbeat (see {@link nodeHeartbeat}: the Lease, else the Ready condition). */
  heartbeatAge?: number;
  lastHeartbeat?: string;
  heartbeat?: Heartbeat;
  cordoned: boolean;
  evidence: Evidence[];
}

/** The state of node `name`, with its Ready condition and taints as evidence. */
export function nodeState(view: SnapshotView, name: string): NodeState {
  const node = view.nodes.get(name);
  if (!node) {
    // Not read (forbidden), or nodes read by name only: unknown, never "deleted".
    if (!view.holdsAll('nodes')) return { name, state: 'Unknown', cordoned: false, evidence: [] };
    return { name, state: 'Deleted', cordoned: false, evidence: [{ type: 'absence', object: { kind: 'Node', name }, label: 'not found', text: `Node ${name} does not exist` }] };
  }
  const ready = condition(node.status?.conditions, 'Ready');
  const state: NodeState['state'] = !ready || ready.status === 'Unknown' ? 'Unreachable' : ready.status === 'False' ? 'NotReady' : 'Ready';
  const evidence: Evidence[] = [];
  if (ready) {
    evidence.push(fieldEvidence(node, 'Node', 'status.conditions[Ready]', `${ready.status} ${ready.reason ?? ''}: ${ready.message ?? ''}`.replace(/ :/, ':'), ready.lastTransitionTime ?? undefined));
  }
  const taints = (node.spec?.taints ?? []).filter((t) => t.key.startsWith('node.kubernetes.io/'));
  if (taints.length) evidence.push(fieldEvidence(node, 'Node', 'spec.taints', taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', '), undefined, 'spec'));
  const s: NodeState = { name, state, node, cordoned: Boolean(node.spec?.unschedulable), evidence };
  const hb = nodeHeartbeat(view, name);
  if (hb) {
    s.heartbeat = hb;
    s.lastHeartbeat = hb.time;
    if (hb.age !== undefined) s.heartbeatAge = hb.age;
    if (state !== 'Ready' && hb.source === 'Lease') evidence.push(hb.evidence);
  }
  return s;
}

/**
 * Absence evidence for the missing pods: one line per pod for short runs, one line per long run
 * (`Pods quiz-3 … quiz-999 (997) do not exist`), at most five lines.
 */
export function absentPods(namespace: string, sts: string, ranges: OrdinalRange[]): Evidence[] {
  const out: Evidence[] = [];
  for (const r of ranges) {
    if (out.length >= 5) break;
    if (r.to - r.from < 3) {
      for (let o = r.from; o <= r.to && out.length < 5; o++) out.push(absenceEvidence({ kind: 'Pod', namespace, name: `${sts}-${o}` }, `Pod ${sts}-${o} does not exist`));
    } else {
      out.push(absenceEvidence({ kind: 'Pod', namespace, name: `${sts}-${r.from}` }, `Pods ${sts}-${r.from} … ${sts}-${r.to} (${r.to - r.from + 1}) do not exist`));
    }
  }
  return out;
}

/** The governing Service of a StatefulSet (`spec.serviceName`), as the Service and network rules read it. */
export interface GoverningService {
  /** `spec.serviceName`. */
  name: string;
  /** The Service of that name in the namespace; undefined when there is none. */
  service: Service | undefined;
  /** The labels of the pods it should select: the template's, else the selector's matchLabels. */
  podLabels: Record<string, string>;
  /** `spec.clusterIP: None`. */
  headless: boolean;
  /** Its selector is not empty and every key of it matches `podLabels`. */
  selectsPods: boolean;
}

/**
 * The governing Service of `sts`, or undefined when `spec.serviceName` is unset (optional since
 * 1.33) or Services could not be read: nothing can be said then, and nothing is called missing.
 */
export function governingService(view: SnapshotView, sts: StatefulSet): GoverningService | undefined {
  const name = sts.spec.serviceName;
  if (!name || !view.canSee('services')) return undefined;
  const service = view.snapshot.services.find((x) => x.metadata.name === name);
  const podLabels = sts.spec.template.metadata?.labels ?? sts.spec.selector.matchLabels ?? {};
  const selector = service?.spec.selector ?? {};
  const selectsPods = Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  return { name, service, podLabels, headless: service?.spec.clusterIP === 'None', selectsPods };
}

/** One port of the governing Service, resolved against the pod template as the EndpointSlice controller resolves it. */
export interface ServicePortTarget {
  /** The Service port as written: `mongodb 27017/TCP → 27017`. */
  text: string;
  /** Its index in `spec.ports` (for a JSON patch). */
  index: number;
  name?: string;
  port: number;
  protocol: string;
  /** `targetPort` (default: `port`). */
  target: number | string;
  /**
   * The container port it reaches: a named target resolves only to a declared port of that name
   * and protocol (else the EndpointSlices carry no port for it); a number to whatever listens
   * there, undefined when no container declares it.
   */
  container?: { container: string; name?: string; containerPort: number };
}

/**
 * The ports of `svc` resolved against the containers (and sidecars) of `sts`'s pod template,
 * as pkg/api/v1/pod FindPort does for the EndpointSlice controller: a named `targetPort` is
 * looked up by name and protocol; a numeric one is taken as is (and here also matched to the
 * container that declares it, if any).
 */
export function servicePortTargets(svc: Service, sts: StatefulSet): ServicePortTarget[] {
  const containers = [...sts.spec.template.spec.containers, ...(sts.spec.template.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const declared = containers.flatMap((c) => (c.ports ?? []).map((p) => ({ container: c.name, name: p.name, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toUpperCase() })));
  return (svc.spec.ports ?? []).map((p, index) => {
    const protocol = (p.protocol ?? 'TCP').toUpperCase();
    const target = p.targetPort ?? p.port;
    const numeric = typeof target === 'number' ? target : /^\d+$/.test(target) ? Number(target) : undefined;
    const hit = numeric !== undefined ? declared.find((d) => d.containerPort === numeric && d.protocol === protocol) : declared.find((d) => d.name === target && d.protocol === protocol);
    const out: ServicePortTarget = { text: `${p.name ? `${p.name} ` : ''}${p.port}/${protocol} → ${target}`, index, port: p.port, protocol, target };
    if (p.name) out.name = p.name;
    if (hit) out.container = { container: hit.container, containerPort: hit.containerPort, ...(hit.name ? { name: hit.name } : {}) };
    return out;
  });
}

/**
 * Evidence quoting the last lines container `container` of `pod` wrote, as read by
 * `kubectl logs -c <container> [--previous] --tail=<n>` (src/snapshot/logs.ts bounds them; the
 * reporters neutralise control characters through src/report/sanitize.ts). Label
 * `logs -c <c> --previous` for the crashed run; text the lines, `…` last when the excerpt was
 * cut, `(no output)` when the container wrote nothing. Undefined when no logs were read for it
 * (forbidden, `--no-logs`, an older dump, more than 3 failing pods).
 */
export function logEvidence(view: SnapshotView, pod: Pod, container: string): Evidence | undefined {
  const l = view.containerLog(pod, container);
  if (!l) return undefined;
  const text = l.lines.length ? `${l.lines.join('\n')}${l.truncated ? '\n…' : ''}` : '(no output)';
  return { type: 'log', object: ref(pod, 'Pod'), label: `logs -c ${container}${l.previous ? ' --previous' : ''}`, text };
}
