/**
 * Facts several rules share: why a pod is not Ready, what state a node is in. Pure functions
 * of the snapshot; each returns the evidence it relied on.
 */
import type { ContainerStatus, KubeEvent, Node, Pod } from '../snapshot/types.js';
import { ageSeconds, condition, formatAge, isPodReady, isTerminating, type SnapshotView } from '../snapshot/view.js';
import { absenceEvidence, eventEvidence, fieldEvidence, type Evidence } from './types.js';
import type { OrdinalRange } from '../snapshot/ordinals.js';

/** A container with a waiting reason, with where it sits in the pod's status. */
export interface WaitingContainer {
  status: ContainerStatus;
  init: boolean;
  field: string;
}

/** Containers (init first) whose `state.waiting.reason` is set, other than the transient ContainerCreating/PodInitializing. */
export function waitingContainers(pod: Pod): WaitingContainer[] {
  const out: WaitingContainer[] = [];
  const visit = (list: ContainerStatus[] | undefined, init: boolean): void => {
    for (const c of list ?? []) {
      const reason = c.state?.waiting?.reason;
      if (reason && reason !== 'ContainerCreating' && reason !== 'PodInitializing') {
        out.push({ status: c, init, field: `status.${init ? 'initContainerStatuses' : 'containerStatuses'}[${c.name}].state.waiting` });
      }
    }
  };
  visit(pod.status?.initContainerStatuses, true);
  visit(pod.status?.containerStatuses, false);
  return out;
}

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
    const kind = /^(Readiness|Liveness|Startup) probe/.exec(probe.message ?? '')?.[1] ?? 'A';
    return { reason: `${kind.toLowerCase()} probe failing`, text: `its ${kind.toLowerCase()} probe fails: ${probe.message}`, evidence: [eventEvidence(probe)] };
  }
  const mount = podEvents(view, pod, 'FailedMount', 'FailedAttachVolume')[0];
  if (mount) return { reason: mount.reason!, text: `its volumes cannot be ${mount.reason === 'FailedMount' ? 'mounted' : 'attached'}: ${mount.message}`, evidence: [eventEvidence(mount)] };
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

/** What sts-doctor knows of a node. */
export interface NodeState {
  name: string;
  /** `Ready`, `NotReady` (Ready=False), `Unreachable` (Ready=Unknown), `Deleted` (no such Node), `Unknown` (nodes not readable). */
  state: 'Ready' | 'NotReady' | 'Unreachable' | 'Deleted' | 'Unknown';
  node?: Node;
  /** Age in seconds of the last heartbeat of the Ready condition. */
  heartbeatAge?: number;
  lastHeartbeat?: string;
  cordoned: boolean;
  evidence: Evidence[];
}

/** The state of node `name`, with its Ready condition and taints as evidence. */
export function nodeState(view: SnapshotView, name: string): NodeState {
  const node = view.nodes.get(name);
  if (!node) {
    if (!view.canSee('nodes')) return { name, state: 'Unknown', cordoned: false, evidence: [] };
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
  if (ready?.lastHeartbeatTime) {
    s.lastHeartbeat = ready.lastHeartbeatTime;
    s.heartbeatAge = ageSeconds(view.snapshot.now, ready.lastHeartbeatTime);
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
