/**
 * `pod-not-ready`: the fallback. When no other rule explains why a StatefulSet is not healthy,
 * name each pod that is not Running and Ready (with what its status and events say), each
 * replica that does not exist, or a controller status that has not converged. sts-doctor never
 * calls a StatefulSet healthy that its controller does not.
 *
 * Kubernetes source: StatefulSet status fields written by pkg/controller/statefulset
 * (`replicas`, `readyReplicas`, `availableReplicas`, `updatedReplicas`, `currentRevision`,
 * `updateRevision`, `observedGeneration`), and the pod facts in ./facts.ts.
 */
import { statusConverged } from '../diagnosis.js';
import { desiredReplicas, eventCount, podOrdinal } from '../snapshot/view.js';
import { firstOrdinals, formatPodRanges, missingOrdinalRanges, rangeCount } from '../snapshot/ordinals.js';
import { absentPods, whyNotReady } from './facts.js';
import { confidenceFor, eventEvidence, fieldEvidence, ref, stsRef, type Finding, type Rule } from './types.js';

export const notReadyUnexplained: Rule = {
  id: 'pod-not-ready',
  title: 'Replica not Ready, cause not recognised',
  rank: 90,
  doc: {
    severities: ['warning', 'info'],
    meaning: 'Fallback when no other rule explains why the StatefulSet is not healthy: each pod not Ready with what its status says, missing replicas, or a status that has not converged.',
    signals: 'pod status and events, StatefulSet status',
    recoveries: '—',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    // The fallback says no other rule recognises a cause: with events, nodes, claims, volumes or
    // classes unread, another rule may simply not have been able to see it.
    const base = { rule: 'pod-not-ready', statefulSet: stsRef({ view, sts }), confidence: confidenceFor(view, 'events', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'storageclasses') };
    const pods = view.podsOf(sts);
    for (const pod of pods) {
      const why = whyNotReady(view, pod);
      if (!why) continue;
      out.push({
        ...base,
        severity: 'warning',
        subject: ref(pod, 'Pod'),
        summary: `Pod ${pod.metadata.name} is not Ready: ${why.reason}`,
        explanation: `Pod ${pod.metadata.name} is not Ready because ${why.text}. No rule of sts-doctor recognises a more specific cause; the evidence below is what the cluster says.`,
        evidence: why.evidence,
        recoveries: [],
        details: { reason: why.reason },
      });
    }
    const missing = missingOrdinalRanges(sts, pods.map((p) => podOrdinal(sts, p.metadata.name)!));
    if (missing.length && out.length === 0 && view.canSee('pods')) {
      const failures = view.eventsFor(sts, 'StatefulSet').filter((e) => e.type === 'Warning').slice(0, 3);
      out.push({
        ...base,
        severity: 'warning',
        subject: ref(sts, 'StatefulSet'),
        summary: `Replicas ${formatPodRanges(sts, missing)} do not exist`,
        explanation: `The StatefulSet wants ${desiredReplicas(sts)} replicas but pods ${formatPodRanges(sts, missing)} do not exist.`,
        evidence: [
          ...absentPods(view.snapshot.namespace, sts.metadata.name, missing),
          ...failures.map(eventEvidence),
        ],
        recoveries: [],
        details: { missingOrdinals: firstOrdinals(missing), missingCount: rangeCount(missing), warnings: failures.map((e) => ({ reason: e.reason, count: eventCount(e) })) },
      });
    }
    if (out.length === 0 && !statusConverged(sts)) {
      const s = sts.status ?? {};
      out.push({
        ...base,
        severity: 'info',
        subject: ref(sts, 'StatefulSet'),
        summary: `StatefulSet ${sts.metadata.name} has not converged yet (every pod is Ready; the controller is still working)`,
        explanation: 'Every pod is Running and Ready, but the controller\'s status does not show the StatefulSet converged: a rollout or scale operation is in progress, or the status is not updated yet.',
        evidence: [
          fieldEvidence(
            sts,
            'StatefulSet',
            'status',
            `replicas=${s.replicas ?? 0} readyReplicas=${s.readyReplicas ?? 0} availableReplicas=${s.availableReplicas ?? 0} updatedReplicas=${s.updatedReplicas ?? 0} currentRevision=${s.currentRevision ?? ''} updateRevision=${s.updateRevision ?? ''} observedGeneration=${s.observedGeneration ?? 0} generation=${sts.metadata.generation ?? 0}`,
          ),
        ],
        recoveries: [],
      });
    }
    return out;
  },
};
