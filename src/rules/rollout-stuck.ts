/**
 * `rollout-stuck`: a rolling update (status.updateRevision != status.currentRevision) cannot
 * progress because a pod that is not Running and Ready blocks it, and the controller will not
 * replace that pod by itself: kubernetes#67250 (open), the "forced rollback" of the docs.
 *
 * Kubernetes source: pkg/controller/statefulset/stateful_set_control.go (1.29-1.36),
 * `updateStatefulSet`. No event or status field says so; the signals are the revisions in the
 * status, each pod's `controller-revision-hash` label and the pod's own state.
 * - The rolling update runs only after the replica loop. With `monotonic` (OrderedReady) that loop
 *   returns at the first kept ordinal that is not Running and Ready: a broken pod there, on any
 *   revision, stops the update forever. Only a Failed/Succeeded pod is recreated; one stuck in
 *   ImagePullBackOff, CrashLoopBackOff or CreateContainerConfigError is not, so a fixed template
 *   (a newer updateRevision) never reaches it: it must be deleted by hand.
 * - The update loop walks ordinals from the highest down to `rollingUpdate.partition` (relative to
 *   `ordinals.start`): a pod not on updateRevision is deleted (even if unhealthy), a pod on
 *   updateRevision that is not healthy is waited for. So in Parallel mode only an unhealthy pod
 *   on the update revision blocks. Ordinals below the partition are never updated; a deleted one
 *   is recreated from currentRevision.
 * - `maxUnavailable` (feature MaxUnavailableStatefulSet: alpha to 1.34, on by default only in
 *   1.35.0-1.35.3) lets up to that many pods be unavailable at once; without the feature it is
 *   ignored (1 at a time).
 * - `OnDelete`: the controller never deletes a pod for an update; pods change revision only when
 *   someone deletes them.
 * Reading of bergerx/kubectl-status (StatefulSet template): it flags "Stuck Rollout?" when a
 * rollout is not done and no replica is updated yet ("still replacing the first Pod"); it does not
 * name a pod. Here the pod is the one the controller's loops stop at, as described above.
 */
import type { Pod, StatefulSet } from '../snapshot/types.js';
import { ageSeconds, condition, desiredReplicas, isOrderedReady, isRunningAndReady, isTerminating, ordinalStart, podOrdinal, REVISION_LABEL } from '../snapshot/view.js';
import { templateFixedFor, waitingContainers, whyNotReady } from './facts.js';
import { deletePodOption, rollbackOption } from './offers.js';
import { diffTemplates } from './template-diff.js';
import { fieldEvidence, ref, stsRef, type Evidence, type RecoveryOption, type Rule } from './types.js';

/** Seconds a pod must have been not Ready, without an error signal, to count as stuck rather than starting. */
const STARTING_GRACE_SECONDS = 60;

/** True when a not-Ready pod shows it is stuck, not merely starting: an error waiting reason, unschedulable, or not Ready for a while. */
function looksStuck(p: Pod, now: string): boolean {
  if (isTerminating(p)) return false;
  if (waitingContainers(p).length > 0) return true;
  if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') return false; // the controller recreates these
  if (condition(p.status?.conditions, 'PodScheduled')?.status === 'False') return true;
  const ready = condition(p.status?.conditions, 'Ready');
  const since = ageSeconds(now, ready?.lastTransitionTime ?? p.metadata.creationTimestamp);
  return since !== undefined && since >= STARTING_GRACE_SECONDS;
}

/** `rollingUpdate.partition` (default 0) and `maxUnavailable` of a StatefulSet. */
function strategyOf(sts: StatefulSet): { type: 'RollingUpdate' | 'OnDelete'; partition: number; maxUnavailable: number | string | undefined } {
  const u = sts.spec.updateStrategy;
  return { type: u?.type ?? 'RollingUpdate', partition: u?.rollingUpdate?.partition ?? 0, maxUnavailable: u?.rollingUpdate?.maxUnavailable };
}

export const rolloutStuck: Rule = {
  id: 'rollout-stuck',
  title: 'Rolling update stuck on a pod the controller will not replace (kubernetes#67250)',
  rank: 55,
  doc: {
    severities: ['critical'],
    meaning: 'A rolling update (`updateRevision` ≠ `currentRevision`) waits forever on a pod that never became Running and Ready; the controller does not replace it, so a fixed template never reaches it (kubernetes#67250). Also a reverted template (`updateRevision` = `currentRevision`) with a pod still on the bad revision. Names the pod, its revision (old, intermediate or update) and both revisions, and the template diff between the pod\'s revision and where the recovery takes it; honours `partition`, `ordinals.start`, `OnDelete`, Parallel.',
    signals: 'StatefulSet `status.currentRevision`/`updateRevision`, `spec.updateStrategy`, pod label `controller-revision-hash`, the pod\'s own state (the controller emits nothing)',
    recoveries: '`delete-pod`, `rollback` (then delete), manual',
  },
  evaluate({ view, sts }) {
    const current = sts.status?.currentRevision;
    const update = sts.status?.updateRevision;
    if (!current || !update) return [];
    const now = view.snapshot.now;
    const start = ordinalStart(sts);
    const replicas = desiredReplicas(sts);
    const strategy = strategyOf(sts);
    const pods = view
      .podsOf(sts)
      .filter((p) => {
        const o = podOrdinal(sts, p.metadata.name);
        return o !== undefined && o >= start && o < start + replicas;
      })
      .sort((a, b) => podOrdinal(sts, a.metadata.name)! - podOrdinal(sts, b.metadata.name)!);
    const rev = (p: Pod): string => p.metadata.labels?.[REVISION_LABEL] ?? '';

    let stuck: Pod | undefined;
    let reverted = false;
    if (current === update) {
      // A reverted template (kubernetes#67250): the update went back to the current revision, but a
      // pod created from the bad revision is still there, not Ready, and is never replaced.
      stuck = pods.find((p) => rev(p) && rev(p) !== update && !isRunningAndReady(p) && looksStuck(p, now));
      if (!stuck) return [];
      reverted = true;
    } else if (strategy.type === 'OnDelete') {
      stuck = pods.find((p) => rev(p) !== update && !isRunningAndReady(p) && looksStuck(p, now));
    } else if (isOrderedReady(sts)) {
      const first = pods.find((p) => !isRunningAndReady(p));
      if (first && looksStuck(first, now)) stuck = first;
    } else {
      // Parallel: the update loop, highest ordinal first, down to the partition.
      for (const p of [...pods].reverse()) {
        if (podOrdinal(sts, p.metadata.name)! - start < strategy.partition) break;
        if (rev(p) !== update && !isTerminating(p)) break; // it would be deleted and updated: progress
        if (!isRunningAndReady(p)) {
          if (looksStuck(p, now)) stuck = p;
          break;
        }
      }
    }
    if (!stuck) return [];

    const ordinal = podOrdinal(sts, stuck.metadata.name)!;
    const podRevision = rev(stuck);
    const onUpdate = podRevision === update;
    const belowPartition = strategy.type === 'RollingUpdate' && ordinal - start < strategy.partition;
    const revisionKind = onUpdate ? 'the update revision' : podRevision === current ? 'the current (old) revision' : 'an intermediate revision (neither current nor update)';
    const why = whyNotReady(view, stuck);
    const updated = pods.filter((p) => rev(p) === update).map((p) => p.metadata.name);
    const ns = view.snapshot.namespace;
    const knownRevisions = new Set(view.revisionsOf(sts).map((r) => r.metadata.name));

    const evidence: Evidence[] = [
      fieldEvidence(sts, 'StatefulSet', 'status', `currentRevision=${current} updateRevision=${update} updatedReplicas=${sts.status?.updatedReplicas ?? 0} readyReplicas=${sts.status?.readyReplicas ?? 0} replicas=${sts.status?.replicas ?? 0}`),
      fieldEvidence(
        sts,
        'StatefulSet',
        'spec.updateStrategy',
        strategy.type === 'OnDelete' ? 'OnDelete' : `RollingUpdate partition=${strategy.partition}${strategy.maxUnavailable !== undefined ? ` maxUnavailable=${strategy.maxUnavailable}` : ''}`,
        undefined,
        'spec',
      ),
      fieldEvidence(stuck, 'Pod', `metadata.labels[${REVISION_LABEL}]`, podRevision || '(none)'),
      ...(why?.evidence ?? []),
    ];
    if (podRevision && !onUpdate && podRevision !== current && knownRevisions.size > 0 && !knownRevisions.has(podRevision)) {
      evidence.push({ type: 'absence', object: { kind: 'ControllerRevision', namespace: ns, name: podRevision }, label: 'not found', text: `ControllerRevision ${podRevision} no longer exists (pruned by revisionHistoryLimit)` });
    }

    let mechanism: string;
    if (strategy.type === 'OnDelete') {
      mechanism = `The update strategy is OnDelete: the controller never deletes a pod to update it, so ${stuck.metadata.name} stays on revision ${podRevision} until someone deletes it.`;
    } else if (isOrderedReady(sts)) {
      mechanism =
        `Under OrderedReady the controller only runs the rolling update once every replica is Running and Ready; it stops at ${stuck.metadata.name}, the first that is not. ` +
        `It recreates only Failed pods, and ${stuck.metadata.name} is ${stuck.status?.phase ?? 'Pending'}, so it is never replaced: ` +
        (onUpdate ? 'the update revision itself does not start.' : 'a newer template (a fixed image, a rollback) does not reach it (kubernetes#67250). It must be deleted by hand.');
    } else {
      mechanism = `The controller updates from the highest ordinal down and waits for each updated pod to be healthy; ${stuck.metadata.name}, on the update revision, is not.`;
    }
    if (reverted)
      mechanism = `The template was reverted to revision ${update}, but ${stuck.metadata.name} was created from ${podRevision} and is not Running and Ready: the controller counts the rollout as done and never replaces it (kubernetes#67250). It must be deleted by hand.`;
    if (belowPartition) mechanism += ` Its ordinal is below the partition (${strategy.partition}): it is not updated, and if deleted it is recreated from currentRevision ${current}.`;

    // What helps: a template that changed since the stuck pod was created reaches it once it is
    // deleted; a template that still runs what breaks it needs a rollback (to the newest revision
    // pods were Running and Ready on), never a delete that recreates the same broken pod.
    const fixed = belowPartition ? podRevision !== current : templateFixedFor(view, sts, stuck);
    const rollback = fixed ? undefined : rollbackOption(view, sts);
    const recoveries: RecoveryOption[] = [];
    if (fixed)
      recoveries.push(
        deletePodOption(
          stuck,
          `Deletes ${stuck.metadata.name} (its PVCs are kept); the controller recreates it from ${belowPartition ? `currentRevision ${current} (ordinal below the partition)` : `updateRevision ${update}, whose template differs from the one ${stuck.metadata.name} runs`}. Without the delete the new template never reaches it (kubernetes#67250).`,
        ),
      );
    if (rollback) recoveries.push(rollback);
    // The diff between the stuck pod's revision and where the recovery takes it, as kubectl-status shows it.
    const diffTo = rollback?.offer?.action === 'rollback' ? rollback.offer.toRevision.name : fixed ? (belowPartition ? current : update) : undefined;
    const fromRev = view.revisionsOf(sts).find((r) => r.metadata.name === podRevision);
    const toRev = view.revisionsOf(sts).find((r) => r.metadata.name === diffTo);
    const diff = fromRev && toRev && fromRev !== toRev ? diffTemplates(fromRev.data?.spec?.template, toRev.data?.spec?.template) : [];
    if (diff.length) evidence.push({ type: 'spec', object: { kind: 'ControllerRevision', namespace: ns, name: podRevision }, label: `template diff ${podRevision} → ${diffTo}`, text: diff.join('; ') });
    const undo = rollback?.offer?.action === 'rollback' ? rollback.offer : undefined;
    recoveries.push({
      id: 'manual',
      title: 'The same by hand',
      description: undo
        ? `Roll back to revision ${undo.toRevision.revision} (not merely the previous one, which may be the broken one), then delete the stuck pods; watch the rollout finish.`
        : fixed
          ? `Delete ${stuck.metadata.name} so the current template reaches it; watch the rollout finish.`
          : `Fix the template (a new revision), then delete ${stuck.metadata.name}; watch the rollout finish.`,
      automated: false,
      commands: [
        ...(undo ? [`kubectl -n ${ns} rollout undo sts/${sts.metadata.name} --to-revision=${undo.toRevision.revision}`, ...undo.deletePods.map((p) => `kubectl -n ${ns} delete pod ${p.name}`)] : [`kubectl -n ${ns} delete pod ${stuck.metadata.name}`]),
        `kubectl -n ${ns} rollout status sts/${sts.metadata.name}`,
      ],
    });

    return [
      {
        rule: 'rollout-stuck',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(stuck, 'Pod'),
        summary: reverted
          ? `The template was reverted to ${update}, but ${stuck.metadata.name} still runs revision ${podRevision} (${why?.reason ?? 'not Ready'}), which the controller will not replace`
          : `Rolling update ${current} → ${update} is stuck on ${stuck.metadata.name} (revision ${podRevision || 'unknown'}, ${why?.reason ?? 'not Ready'}), which the controller will not replace`,
        consequence: reverted
          ? `therefore ${stuck.metadata.name} stays on revision ${podRevision} although the template was reverted to ${update}: the controller does not replace it (kubernetes#67250)`
          : `therefore the rolling update ${current} → ${update} is stuck on ${stuck.metadata.name}, which the controller does not replace (kubernetes#67250)`,
        explanation:
          (reverted
            ? `The template of StatefulSet ${sts.metadata.name} is back on revision ${update} (updateRevision = currentRevision). `
            : `StatefulSet ${sts.metadata.name} is updating from revision ${current} to ${update} (${updated.length}/${replicas} pods updated). `) +
          `${stuck.metadata.name} is on ${revisionKind} ${podRevision} and is not Running and Ready because ${why?.text ?? 'it is not Ready'}. ${mechanism}`,
        evidence,
        recoveries,
        confidence: 'high',
        details: {
          pod: stuck.metadata.name,
          ordinal,
          podRevision,
          currentRevision: current,
          updateRevision: update,
          revisionKind: onUpdate ? 'update' : podRevision === current ? 'current' : 'intermediate',
          strategy: strategy.type,
          partition: strategy.partition,
          maxUnavailable: strategy.maxUnavailable,
          podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
          reason: why?.reason,
          updatedPods: updated,
          reverted,
          templateFixed: fixed,
        },
      },
    ];
  },
};
