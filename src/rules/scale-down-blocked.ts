/**
 * `scale-down-blocked`: `spec.replicas` was lowered, but the pods above it (the "condemned"
 * ordinals) are not deleted because the controller waits on an unhealthy pod.
 *
 * Kubernetes source: pkg/controller/statefulset/stateful_set_control.go (1.29-1.36),
 * `updateStatefulSet` / `processCondemned`. With `monotonic` (podManagementPolicy OrderedReady):
 * - the replica loop walks the kept ordinals [start, start+replicas) upwards and returns at the
 *   first one that is Terminating, not Running and Ready, or not Available (minReadySeconds): the
 *   condemned pods are not even looked at;
 * - the condemned pods are then processed from the highest ordinal down, one per pass; a
 *   Terminating one is waited for (progress), and one that is not Running and Ready blocks unless
 *   it is the "first unhealthy pod" (the lowest unhealthy kept replica, else the lowest unhealthy
 *   condemned pod), which may be deleted.
 * Parallel never waits. The controller logs this at V(4) only ("StatefulSet is waiting for Pod to
 * be Running and Ready prior to scale down"): no event, no status field. The signal is the
 * condemned pods' presence plus the state of the pod waited on.
 */
import type { Pod, StatefulSet } from '../snapshot/types.js';
import { ageSeconds, condition, desiredReplicas, isOrderedReady, isPodReady, isRunningAndReady, isTerminating, ordinalStart, podOrdinal } from '../snapshot/view.js';
import { whyNotReady } from './facts.js';
import { deletePodOption } from './offers.js';
import { fieldEvidence, ref, stsRef, type Finding, type Rule } from './types.js';

/**
 * The controller's notion of a healthy pod in monotonic mode: Running, Ready, not Terminating and
 * Available (Ready for at least `minReadySeconds`, measured at `now`).
 */
export function isHealthyForController(pod: Pod, sts: StatefulSet, now: string): boolean {
  if (!isRunningAndReady(pod)) return false;
  const min = sts.spec.minReadySeconds ?? 0;
  if (min <= 0) return true;
  const since = ageSeconds(now, condition(pod.status?.conditions, 'Ready')?.lastTransitionTime);
  return since === undefined || since >= min;
}

export const scaleDownBlocked: Rule = {
  id: 'scale-down-blocked',
  title: 'Scale-down blocked behind an unhealthy pod',
  rank: 62,
  doc: {
    severities: ['critical'],
    meaning: '`spec.replicas` was lowered but the condemned pods (ordinals ≥ start + replicas) stay, because under OrderedReady the controller waits on an unhealthy pod (a kept replica, or a lower unhealthy condemned pod); names that pod and the condemned ones.',
    signals: '`spec.replicas`, `spec.podManagementPolicy`, the pods above the range and their state, the waited-on pod\'s conditions (the controller emits nothing)',
    recoveries: 'manual (make the pod Ready), `delete-pod` (the condemned pod)',
  },
  evaluate({ view, sts }) {
    if (!isOrderedReady(sts)) return [];
    const now = view.snapshot.now;
    const start = ordinalStart(sts);
    const replicas = desiredReplicas(sts);
    const kept: Pod[] = [];
    const condemned: Pod[] = [];
    for (const p of view.podsOf(sts)) {
      const o = podOrdinal(sts, p.metadata.name);
      if (o === undefined) continue;
      (o >= start && o < start + replicas ? kept : condemned).push(p);
    }
    const ord = (p: Pod): number => podOrdinal(sts, p.metadata.name)!;
    kept.sort((a, b) => ord(a) - ord(b));
    condemned.sort((a, b) => ord(b) - ord(a)); // highest first, the controller's order
    const live = condemned.filter((p) => !isTerminating(p));
    if (live.length === 0) return [];
    // A Terminating condemned pod above the live ones is progress: the controller waits for it.
    if (isTerminating(condemned[0]!)) return [];

    let waitingOn: Pod | undefined = kept.find((p) => !isHealthyForController(p, sts, now));
    let where: 'kept' | 'condemned' = 'kept';
    if (!waitingOn) {
      const target = condemned[0]!;
      const firstUnhealthy = [...condemned].reverse().find((p) => !isHealthyForController(p, sts, now));
      if (isHealthyForController(target, sts, now) || target === firstUnhealthy || !firstUnhealthy) return [];
      waitingOn = firstUnhealthy;
      where = 'condemned';
    }
    const why = whyNotReady(view, waitingOn);
    const all = live.map((p) => p.metadata.name).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    // Bounded: at most 10 names in a sentence, 20 in details; the rest counted.
    const names = all.length > 10 ? [...all.slice(0, 10), `… and ${all.length - 10} more`] : all;
    const ns = view.snapshot.namespace;
    const f: Finding = {
      rule: 'scale-down-blocked',
      severity: 'critical',
      statefulSet: stsRef({ view, sts }),
      subject: ref(waitingOn, 'Pod'),
      summary: `Scale-down to ${replicas} is blocked: the controller waits for ${waitingOn.metadata.name} (${why?.reason ?? 'not Ready'}) before deleting ${names.join(', ')}`,
      consequence: `therefore the scale-down to ${replicas} is blocked: the controller waits for ${waitingOn.metadata.name} before deleting ${names.join(', ')}`,
      explanation:
        `StatefulSet ${sts.metadata.name} wants ${replicas} replica${replicas === 1 ? '' : 's'}, but ${names.join(', ')} still exist${all.length === 1 ? 's' : ''}. ` +
        `Under OrderedReady the controller deletes condemned pods one at a time, highest ordinal first, and only ${where === 'kept' ? 'once every kept replica is Running, Ready and Available' : 'after the lower unhealthy condemned pod it waits on'}: ` +
        `${waitingOn.metadata.name} is not, because ${why?.text ?? 'it is not Ready'}. ` +
        'The controller records no event and no status field for this wait. Fixing that pod releases the scale-down; deleting a condemned pod by hand also works (the controller does not recreate ordinals above spec.replicas).',
      evidence: [
        fieldEvidence(sts, 'StatefulSet', 'spec.replicas', String(replicas), undefined, 'spec'),
        fieldEvidence(sts, 'StatefulSet', 'spec.podManagementPolicy', sts.spec.podManagementPolicy ?? 'OrderedReady (default)', undefined, 'spec'),
        fieldEvidence(sts, 'StatefulSet', 'status', `replicas=${sts.status?.replicas ?? 0} readyReplicas=${sts.status?.readyReplicas ?? 0}`),
        ...live.map((p) => fieldEvidence(p, 'Pod', 'status.phase', `${p.status?.phase ?? 'Unknown'}${isPodReady(p) ? ', Ready' : ', not Ready'} (ordinal ${ord(p)} >= ${start + replicas}: condemned)`)),
        ...(why?.evidence ?? []),
      ],
      recoveries: [
        {
          id: 'manual',
          title: `Make ${waitingOn.metadata.name} Ready again`,
          description: `Fix what keeps ${waitingOn.metadata.name} from being Ready (see its own finding); the controller then deletes ${names.join(', ')} by itself, highest first.`,
          automated: false,
          commands: [`kubectl -n ${ns} describe pod ${waitingOn.metadata.name}`],
        },
        // sts-doctor deletes only a pod that is stuck (delete-pod refuses a Ready one); a Ready
        // condemned pod is the user's call, with kubectl.
        isRunningAndReady(live[0]!)
          ? {
              id: 'manual',
              title: `Or delete the condemned pod ${live[0]!.metadata.name} yourself`,
              description: `${live[0]!.metadata.name} is Ready and serving; the StatefulSet no longer wants it (ordinal above spec.replicas), so once deleted it is not recreated. Its PVCs follow persistentVolumeClaimRetentionPolicy.whenScaled (${sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain'}).`,
              automated: false,
              commands: [`kubectl -n ${ns} delete pod ${live[0]!.metadata.name}`],
            }
          : deletePodOption(
              live[0]!,
              `Deletes the condemned pod ${live[0]!.metadata.name}, which the StatefulSet no longer wants (ordinal above spec.replicas), so it is not recreated. Its PVCs follow persistentVolumeClaimRetentionPolicy.whenScaled (${sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain'}).`,
            ),
      ],
      confidence: 'high',
      details: { waitingOn: waitingOn.metadata.name, waitingOnReason: why?.reason, waitingOnIs: where, condemned: all.slice(0, 20), condemnedCount: all.length, replicas },
    };
    return [f];
  },
};
