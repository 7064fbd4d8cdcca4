/**
 * `peer-discovery-blocked`: the governing headless Service publishes DNS records only for Ready
 * pods (`publishNotReadyAddresses` unset or false), while replicas are Running and failing their
 * readiness probe. Members that must resolve their own or each other's stable names to become
 * Ready (a MongoDB replica set initiating with `quiz-0.quiz-pods`, a quorum finding its peers)
 * then never can: a deadlock with no event.
 *
 * Kubernetes source: the EndpointSlice controller (pkg/controller/endpointslice, 1.21+) marks an
 * endpoint `ready: false` for a pod that is not Ready unless the Service sets
 * `spec.publishNotReadyAddresses: true`; cluster DNS (kube-dns, CoreDNS's kubernetes plugin)
 * answers per-pod names only for ready endpoints. The symptom is the kubelet's Warning
 * `Unhealthy` `Readiness probe failed: …` (pkg/kubelet/prober/prober.go). Version-independent.
 * A warning, never on a healthy set, and only when the Service exists, is headless and selects
 * the pods (otherwise `headless-service-missing` says what is wrong with it).
 */
import type { Pod } from '../snapshot/types.js';
import { isRunningAndReady } from '../snapshot/view.js';
import { governingService, podEvents } from './facts.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Rule } from './types.js';

/** A replica Running, not Ready, with a readiness probe failure reported by the kubelet. */
function readinessFailing(view: Parameters<Rule['evaluate']>[0]['view'], pod: Pod): ReturnType<typeof podEvents>[number] | undefined {
  if (pod.status?.phase !== 'Running' || isRunningAndReady(pod) || pod.metadata.deletionTimestamp) return undefined;
  return podEvents(view, pod, 'Unhealthy').find((e) => /^Readiness probe (failed|errored)/.test(e.message ?? ''));
}

export const peerDiscoveryBlocked: Rule = {
  id: 'peer-discovery-blocked',
  title: 'Not-Ready replicas have no DNS names (publishNotReadyAddresses unset)',
  rank: 52,
  doc: {
    severities: ['warning'],
    meaning: 'Replicas are Running but fail their readiness probe, and the governing headless Service does not set `publishNotReadyAddresses`: the EndpointSlice marks them not ready, so the cluster DNS answers none of their names (`quiz-0.quiz-pods`). Members that resolve their own or their peers\' names before reporting Ready never do. Only when the Service exists, is headless and selects the pods.',
    signals: 'Service `spec.publishNotReadyAddresses`, `spec.clusterIP`, `spec.selector`; Warning `Unhealthy` `Readiness probe failed: …`',
    recoveries: 'manual: `kubectl patch service … publishNotReadyAddresses: true`',
  },
  evaluate({ view, sts }) {
    const gov = governingService(view, sts);
    // Only a Service that exists, is headless and selects the pods; otherwise headless-service-missing speaks.
    if (!gov?.service || !gov.headless || !gov.selectsPods) return [];
    const { name, service: svc } = gov;
    if (svc.spec.publishNotReadyAddresses === true) return [];
    const failing = view
      .podsOf(sts)
      .map((p) => ({ pod: p, event: readinessFailing(view, p) }))
      .filter((x): x is { pod: Pod; event: NonNullable<typeof x.event> } => x.event !== undefined);
    if (failing.length === 0) return [];
    const first = failing[0]!;
    const ns = view.snapshot.namespace;
    const names = failing.map((x) => x.pod.metadata.name);
    return [
      {
        rule: 'peer-discovery-blocked',
        severity: 'warning',
        statefulSet: stsRef({ view, sts }),
        subject: ref(svc, 'Service'),
        summary: `Service ${name} publishes DNS names only for Ready pods, and ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not Ready: ${first.pod.metadata.name}.${name} does not resolve`,
        explanation:
          `${names.join(', ')} ${names.length === 1 ? 'runs' : 'run'} but ${names.length === 1 ? 'fails its' : 'fail their'} readiness probe. Service ${name} does not set publishNotReadyAddresses, so the EndpointSlice marks ${names.length === 1 ? 'it' : 'them'} not ready and the cluster DNS answers no name such as ${first.pod.metadata.name}.${name}.${ns}.svc. ` +
          'If the application must resolve its own or its peers\' names before it reports Ready (a replica set initiating, a quorum forming), it never becomes Ready. Publishing not-ready addresses on the governing headless Service is the usual setting for StatefulSets; clients that must reach only Ready pods should use a separate Service.',
        evidence: [
          fieldEvidence(svc, 'Service', 'spec.publishNotReadyAddresses', 'not set (false)', undefined, 'spec'),
          eventEvidence(first.event),
        ],
        recoveries: [
          {
            id: 'manual',
            title: `Publish the not-Ready pods of Service ${name}`,
            description: 'Safe: no pod restarts. DNS names of every replica resolve within seconds, Ready or not.',
            automated: false,
            commands: [`kubectl -n ${ns} patch service ${name} --type=merge -p '{"spec":{"publishNotReadyAddresses":true}}'`],
          },
        ],
        confidence: 'high',
        details: { service: name, pods: names },
      },
    ];
  },
};
