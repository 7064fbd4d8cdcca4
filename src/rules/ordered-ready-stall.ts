/**
 * `ordered-ready-stall`: under OrderedReady, a pod that is not Running and Ready keeps the
 * controller from creating the ordinals above it.
 *
 * Kubernetes source: pkg/controller/statefulset/stateful_set_control.go. With `monotonic` true
 * (podManagementPolicy OrderedReady, the default) the controller, walking ordinals upwards,
 * stops at the first pod that is not Running and Ready (and Available for minReadySeconds) or is
 * Terminating, and creates nothing above it. It emits no event and sets no status field for
 * this wait: the signal is the absence of the higher pods, plus the blocker's own state.
 *
 * Bounded: missing ordinals are ranges (`quiz-3 … quiz-999`), so `spec.replicas` of two billion
 * costs no more than three; the work is linear in the number of pods.
 */
import { desiredReplicas, isOrderedReady, isRunningAndReady, ordinalStart, podOrdinal } from '../snapshot/view.js';
import { firstOrdinals, formatOrdinalRanges, formatPodRanges, missingOrdinalRanges, rangeCount, rangesAbove } from '../snapshot/ordinals.js';
import { absentPods, whyNotReady } from './facts.js';
import { deletePodOption } from './offers.js';
import { confidenceFor, fieldEvidence, ref, stsRef, type Finding, type Rule } from './types.js';

export const orderedReadyStall: Rule = {
  id: 'ordered-ready-stall',
  title: 'OrderedReady rollout stalled behind a pod that is not Ready',
  rank: 60,
  doc: {
    severities: ['critical'],
    meaning: 'Under OrderedReady, a pod that is not Running and Ready keeps the controller from creating the ordinals above it. Names the blocker, why it is not Ready, and the ordinals never created.',
    signals: '`spec.podManagementPolicy`, missing pods, the blocker\'s conditions, waiting reasons, `Unhealthy` probe events (the controller emits nothing for this wait)',
    recoveries: '`delete-pod` after the fix, manual readiness change',
  },
  evaluate({ view, sts }) {
    if (!isOrderedReady(sts)) return [];
    const want = desiredReplicas(sts);
    const pods = view.podsByOrdinal(sts);
    const missing = missingOrdinalRanges(sts, pods.keys());
    if (missing.length === 0) return [];
    const highestMissing = missing.at(-1)!.to;
    // The blocker: the lowest existing ordinal below a missing one that is not Running and Ready.
    let blocker;
    for (const o of [...pods.keys()].sort((a, b) => a - b)) {
      if (o >= highestMissing) break;
      const p = pods.get(o)!;
      if (o >= ordinalStart(sts) && !isRunningAndReady(p)) {
        blocker = p;
        break;
      }
    }
    if (!blocker) return [];
    const blockerOrdinal = podOrdinal(sts, blocker.metadata.name)!;
    const stranded = rangesAbove(missing, blockerOrdinal);
    if (stranded.length === 0) return [];
    const count = rangeCount(stranded);
    const why = whyNotReady(view, blocker);
    const readinessFailure = !why || /readiness probe|NotReady|ContainersNotReady/.test(why.reason);
    const names = formatPodRanges(sts, stranded);
    // The kept ordinals' readiness (one fact: SnapshotView.replicaCounts), not status.readyReplicas, which counts condemned pods.
    const ready = view.replicaCounts(sts).ready;
    const f: Finding = {
      rule: 'ordered-ready-stall',
      severity: 'critical',
      statefulSet: stsRef({ view, sts }),
      subject: ref(blocker, 'Pod'),
      summary: `${blocker.metadata.name} is not Ready (${why?.reason ?? 'not Ready'}), so ${names} ${count === 1 ? 'is' : 'are'} never created`,
      consequence: `therefore ${names} ${count === 1 ? 'is' : 'are'} never created: under OrderedReady the controller waits for ${blocker.metadata.name} to be Ready (${ready}/${want} replicas ready)`,
      explanation:
        `StatefulSet ${sts.metadata.name} uses podManagementPolicy OrderedReady: the controller creates pods one at a time and waits for each to be Running and Ready before creating the next. ` +
        `${blocker.metadata.name} is not Ready because ${why?.text ?? 'it is not Ready'}, so ordinals ${formatOrdinalRanges(stranded)} are not created (${ready}/${want} replicas ready). ` +
        'The controller records no event for this wait. ' +
        (readinessFailure ? 'If readiness depends on the missing peers (a quorum), this is a deadlock. ' : '') +
        'Fixing the pod template does not replace the blocked pod: after the fix, delete it so it is recreated from the new revision.',
      evidence: [
        fieldEvidence(sts, 'StatefulSet', 'spec.podManagementPolicy', sts.spec.podManagementPolicy ?? 'OrderedReady (default)', undefined, 'spec'),
        fieldEvidence(sts, 'StatefulSet', 'status', `replicas=${sts.status?.replicas ?? 0} readyReplicas=${sts.status?.readyReplicas ?? 0} spec.replicas=${want}`),
        ...(why?.evidence ?? []),
        ...absentPods(view.snapshot.namespace, sts.metadata.name, stranded),
      ],
      recoveries: [
        deletePodOption(blocker, `After fixing the cause: deletes ${blocker.metadata.name} (its PVCs are kept) so the controller recreates it from the current template; the next ordinals follow once it is Ready.`),
        // Only a readiness failure can be the quorum deadlock; a pod that cannot start is fixed elsewhere.
        ...(readinessFailure ? [{
          id: 'manual' as const,
          title: 'Make readiness independent of the peers that do not exist yet',
          description:
            'If the readiness probe needs a quorum of replicas, it can never pass under OrderedReady. Point the readiness probe at a local check, or recreate the StatefulSet with podManagementPolicy: Parallel (the field is immutable: delete with --cascade=orphan, then apply).',
          automated: false,
          commands: [`kubectl -n ${view.snapshot.namespace} edit sts ${sts.metadata.name}`],
        }] : []),
      ],
      // Why the blocker is not Ready often comes from its events (probe failures).
      confidence: confidenceFor(view, 'events'),
      details: { blocker: blocker.metadata.name, blockerOrdinal, reason: why?.reason, missingOrdinals: firstOrdinals(stranded), missingCount: count, missingRanges: stranded.slice(0, 20) },
    };
    return [f];
  },
};

