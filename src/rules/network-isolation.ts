/**
 * Network rules: NetworkPolicies that keep a StatefulSet's replicas from reaching each other, or
 * from reaching the cluster DNS. Both show up only as readiness failures (pods Running, not
 * Ready, a quorum that never forms): no controller reports a NetworkPolicy decision, so these
 * rules read the policies themselves (src/rules/network-policy.ts has the semantics and their
 * upstream sources) and fire only when a replica is Running and not Ready.
 *
 * - `network-policy-isolation`: a replica is isolated for ingress (or a peer for egress) and no
 *   rule allows another replica of the same StatefulSet on the ports peers use: the governing
 *   headless Service's ports (`targetPort` resolved on the pod, named ports included), else the
 *   ports the pod template declares. The peer is another replica as the template makes it
 *   (labels plus its own `statefulset.kubernetes.io/pod-name`), so a set stalled at its first
 *   replica under OrderedReady is covered too.
 * - `dns-egress-blocked`: a replica is isolated for egress and no rule allows UDP 53 to the
 *   cluster DNS pods (`k8s-app: kube-dns` in `kube-system`, the label kube-dns and CoreDNS
 *   deployments share), so no peer name resolves.
 *
 * Signals: networking.k8s.io/v1 NetworkPolicy objects of the namespace; the pod's Ready
 * condition and Warning `Unhealthy` events (pkg/kubelet/prober/prober.go) as the symptom.
 * Version-independent: the policy API is GA since 1.7, `endPort` since 1.25.
 */
import type { LabelSelector, NetworkPolicy, Pod, Service, StatefulSet } from '../snapshot/types.js';
import { isRunningAndReady, podName, POD_INDEX_LABEL, POD_NAME_LABEL, podOrdinal, ordinalStart, desiredReplicas, type SnapshotView } from '../snapshot/view.js';
import { governingService, waitingContainers, whyNotReady } from './facts.js';
import { applyCommand, type ManifestValue } from './manifest.js';
import { connection, policyTypes, type ConnectionResult, type Endpoint, type Traffic } from './network-policy.js';
import { fieldEvidence, ref, stsRef, type Evidence, type Finding, type Rule } from './types.js';

/** Replicas checked per StatefulSet: the policies are the same for all but a pod-name selector. */
const MAX_PODS_CHECKED = 5;

/** The cluster DNS pods as kube-dns and CoreDNS deployments label them. */
const DNS_ENDPOINT: Endpoint = {
  namespace: 'kube-system',
  labels: { 'k8s-app': 'kube-dns' },
  ports: [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
  ],
};

/** A port peers use, with where it comes from (for the evidence). */
interface PeerPort extends Traffic {
  /** `Service quiz-pods port mongodb` or `container mongo port mongodb`. */
  from: string;
}

/** The pod as a NetworkPolicy endpoint: namespace, labels, IP and declared container ports. */
function endpointOf(pod: Pod, namespace: string): Endpoint {
  const e: Endpoint = { namespace: pod.metadata.namespace ?? namespace, labels: pod.metadata.labels ?? {}, ports: pod.spec.containers.flatMap((c) => c.ports ?? []) };
  if (pod.status?.podIP) e.ip = pod.status.podIP;
  return e;
}

/** Another replica, `ordinal`, as the controller would create it from the template. */
function replicaEndpoint(sts: StatefulSet, ordinal: number, namespace: string): Endpoint {
  return {
    namespace,
    labels: { ...(sts.spec.template.metadata?.labels ?? {}), [POD_NAME_LABEL]: podName(sts, ordinal), [POD_INDEX_LABEL]: String(ordinal) },
    ports: sts.spec.template.spec.containers.flatMap((c) => c.ports ?? []),
  };
}

/** The ports peers use on `dest`: the governing Service's (targetPort resolved), else the declared container ports. */
function peerPorts(svc: Service | undefined, sts: StatefulSet, dest: Endpoint): PeerPort[] {
  const out: PeerPort[] = [];
  for (const p of svc?.spec.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP').toUpperCase();
    const target = p.targetPort ?? p.port;
    const port = typeof target === 'number' ? target : /^\d+$/.test(target) ? Number(target) : dest.ports?.find((cp) => cp.name === target && (cp.protocol ?? 'TCP').toUpperCase() === protocol)?.containerPort;
    if (port !== undefined) out.push({ port, protocol, from: `Service ${svc!.metadata.name} port ${p.name ?? p.port}` });
  }
  if (out.length) return out;
  for (const c of sts.spec.template.spec.containers)
    for (const cp of c.ports ?? []) out.push({ port: cp.containerPort, protocol: (cp.protocol ?? 'TCP').toUpperCase(), from: `container ${c.name} port ${cp.name ?? cp.containerPort}` });
  return out;
}

/** A replica whose readiness fails while its containers run: the symptom these rules explain. */
function runningNotReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !isRunningAndReady(pod) && !pod.metadata.deletionTimestamp && waitingContainers(pod).length === 0;
}

/** A selector in one line: `app=quiz,tier in (db)`, `{}` for all. */
function selectorText(s: LabelSelector | undefined): string {
  const parts = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s?.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(',')})` : ''}`);
  return parts.length ? parts.join(',') : '{} (all pods)';
}

/** One policy as evidence: what it selects, its types, and its rules in one line each. */
function policyEvidence(p: NetworkPolicy, kind: 'Ingress' | 'Egress'): Evidence {
  const rules = kind === 'Ingress' ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
  const peerText = (peers: typeof rules[number]['peers']): string =>
    !peers?.length
      ? 'any peer'
      : peers
          .map((x) => (x.ipBlock ? `ipBlock ${x.ipBlock.cidr}${x.ipBlock.except?.length ? ` except ${x.ipBlock.except.join(',')}` : ''}` : [x.namespaceSelector ? `namespaces ${selectorText(x.namespaceSelector)}` : '', x.podSelector ? `pods ${selectorText(x.podSelector)}` : ''].filter(Boolean).join(' and ')))
          .join(' | ');
  const portText = (ports: typeof rules[number]['ports']): string =>
    !ports?.length ? 'any port' : ports.map((x) => `${(x.protocol ?? 'TCP').toUpperCase()}/${x.port ?? '*'}${x.endPort ? `-${x.endPort}` : ''}`).join(',');
  const ruleText = rules.length ? rules.map((r, i) => `${kind.toLowerCase()}[${i}]: ${kind === 'Ingress' ? 'from' : 'to'} ${peerText(r.peers)} on ${portText(r.ports)}`).join('; ') : `no ${kind.toLowerCase()} rule (allows nothing)`;
  return fieldEvidence(p, 'NetworkPolicy', 'spec', `podSelector ${selectorText(p.spec.podSelector)}; policyTypes ${policyTypes(p).join(',')}; ${ruleText}`, undefined, 'spec');
}

/** The StatefulSet's selector as a NetworkPolicy podSelector (it selects exactly its pods). */
function stsSelector(sts: StatefulSet): ManifestValue {
  const s: Record<string, ManifestValue> = {};
  if (sts.spec.selector.matchLabels) s.matchLabels = sts.spec.selector.matchLabels;
  if (sts.spec.selector.matchExpressions?.length) s.matchExpressions = sts.spec.selector.matchExpressions.map((e) => ({ key: e.key, operator: e.operator, values: e.values }));
  return s;
}

function policyManifest(name: string, namespace: string, spec: ManifestValue): ManifestValue {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

/** The symptom: the first replica Running and not Ready, with why (its readiness evidence). */
function symptom(view: SnapshotView, sts: StatefulSet): { pods: Pod[]; evidence: Evidence[] } | undefined {
  const pods = view.podsOf(sts).filter(runningNotReady);
  if (pods.length === 0) return undefined;
  return { pods, evidence: whyNotReady(view, pods[0]!)?.evidence ?? [] };
}

/** A peer ordinal of `ordinal`: the next kept one, else the previous one. */
function otherOrdinal(sts: StatefulSet, ordinal: number): number {
  return ordinal + 1 < ordinalStart(sts) + desiredReplicas(sts) || ordinal - 1 < ordinalStart(sts) ? ordinal + 1 : ordinal - 1;
}

export const networkPolicyIsolation: Rule = {
  id: 'network-policy-isolation',
  title: 'NetworkPolicy keeps the replicas from reaching each other',
  rank: 48,
  doc: {
    severities: ['critical'],
    meaning: 'A replica is Running but not Ready, and the NetworkPolicies that select it (ingress) or its peers (egress) allow no other replica of the StatefulSet on the ports peers use: the governing Service\'s ports (`targetPort` resolved, named ports included), else the template\'s container ports. The classic quorum that never forms; no event says why. Follows NetworkPolicy semantics: pod and namespace selectors (matchLabels, matchExpressions), named ports, `endPort`, policyTypes defaults, the union of all policies. A root cause: `probe-failing`, `ordered-ready-stall`, `scale-down-blocked` and `rollout-stuck` about the replicas it keeps apart fold under it.',
    signals: 'NetworkPolicy `spec.podSelector`, `policyTypes`, `ingress[].from`/`egress[].to`/`ports`; the Service\'s `spec.ports`; the template\'s `containers[].ports`; pod Ready condition, Warning `Unhealthy`',
    recoveries: 'manual: one NetworkPolicy allowing the replicas on those ports (YAML for `kubectl apply`)',
  },
  evaluate({ view, sts }) {
    if (!view.canSee('networkpolicies') || view.snapshot.networkPolicies.length === 0 || desiredReplicas(sts) < 2) return [];
    const sick = symptom(view, sts);
    if (!sick) return [];
    const ns = view.snapshot.namespace;
    const gov = governingService(view, sts);
    const svc = gov?.selectsPods ? gov.service : undefined;
    const policies = view.snapshot.networkPolicies;
    const own = new Map(view.podsOf(sts).map((p) => [podOrdinal(sts, p.metadata.name), p]));
    const blocked: { dest: Pod; port: PeerPort; result: ConnectionResult }[] = [];
    for (const dest of sick.pods.slice(0, MAX_PODS_CHECKED)) {
      const ordinal = podOrdinal(sts, dest.metadata.name);
      if (ordinal === undefined) continue;
      const destEp = endpointOf(dest, ns);
      const peerOrdinal = otherOrdinal(sts, ordinal);
      const peer = own.get(peerOrdinal);
      const sourceEp = peer ? endpointOf(peer, ns) : replicaEndpoint(sts, peerOrdinal, ns);
      for (const port of peerPorts(svc, sts, destEp)) {
        const result = connection(policies, sourceEp, destEp, port);
        if (result.verdict === 'denied') blocked.push({ dest, port, result });
      }
    }
    if (blocked.length === 0) return [];
    const first = blocked[0]!;
    const ingressBlocked = blocked.some((b) => b.result.ingress.verdict === 'denied');
    const egressBlocked = blocked.some((b) => b.result.egress.verdict === 'denied');
    const ports = [...new Map(blocked.map((b) => [`${b.port.protocol}/${b.port.port}`, b.port])).values()];
    const portList = ports.map((p) => `${p.protocol}/${p.port} (${p.from})`).join(', ');
    const deciding = [...new Map([...(ingressBlocked ? first.result.ingress.policies : []), ...(egressBlocked ? blocked.find((b) => b.result.egress.verdict === 'denied')!.result.egress.policies : [])].map((p) => [p.metadata.name, p])).values()];
    const evidence: Evidence[] = [
      ...deciding.slice(0, 5).map((p) => policyEvidence(p, ingressBlocked && first.result.ingress.policies.includes(p) ? 'Ingress' : 'Egress')),
      ...(svc ? [fieldEvidence(svc, 'Service', 'spec.ports', (svc.spec.ports ?? []).map((p) => `${p.name ?? ''} ${p.port}/${p.protocol ?? 'TCP'} → ${p.targetPort ?? p.port}`.trim()).join(', '), undefined, 'spec')] : []),
      ...sick.evidence,
    ];
    const allow: ManifestValue = {
      podSelector: stsSelector(sts),
      policyTypes: [...(ingressBlocked ? ['Ingress'] : []), ...(egressBlocked ? ['Egress'] : [])],
      ingress: ingressBlocked ? [{ from: [{ podSelector: stsSelector(sts) }], ports: ports.map((p) => ({ protocol: p.protocol, port: p.port })) }] : undefined,
      egress: egressBlocked ? [{ to: [{ podSelector: stsSelector(sts) }], ports: ports.map((p) => ({ protocol: p.protocol, port: p.port })) }] : undefined,
    };
    const stuckNames = [...new Set(blocked.map((b) => b.dest.metadata.name))];
    const finding: Finding = {
      rule: 'network-policy-isolation',
      severity: 'critical',
      statefulSet: stsRef({ view, sts }),
      subject: ref(first.dest, 'Pod'),
      summary: `NetworkPolicy ${deciding.map((p) => p.metadata.name).join(', ')} blocks the replicas of ${sts.metadata.name} from each other on ${ports.map((p) => `${p.protocol}/${p.port}`).join(', ')}; ${stuckNames.join(', ')} ${stuckNames.length === 1 ? 'is' : 'are'} Running but not Ready`,
      explanation:
        `${first.dest.metadata.name} is ${ingressBlocked ? 'isolated for ingress' : 'reachable'}${egressBlocked ? ' and its peers are isolated for egress' : ''} by the NetworkPolicies that select it, and no rule of theirs allows another replica of ${sts.metadata.name} on the ports peers use: ${portList}. ` +
        'Replicas that must talk to each other to become Ready (a replica set electing a primary, a quorum) then never do; no Kubernetes event says why, the pods simply stay Running and not Ready. ' +
        'NetworkPolicies only add allowances, so the fix is one more policy that allows the replicas on those ports.',
      evidence,
      recoveries: [
        {
          id: 'manual',
          title: `Allow the replicas of ${sts.metadata.name} to reach each other on ${ports.map((p) => `${p.protocol}/${p.port}`).join(', ')}`,
          description: 'Adds one NetworkPolicy; policies are additive, so nothing else is opened. Safe: no pod restarts, readiness recovers once the replicas connect.',
          automated: false,
          commands: [applyCommand(policyManifest(`${sts.metadata.name}-allow-peers`, ns, allow))],
        },
      ],
      confidence: view.canSee('services') ? 'high' : 'low',
      details: { policies: deciding.map((p) => p.metadata.name), ports: ports.map((p) => `${p.protocol}/${p.port}`), pods: stuckNames, ingress: ingressBlocked, egress: egressBlocked },
      // The replicas it keeps from their peers: their failing readiness folds under it (causes.ts).
      explains: stuckNames,
    };
    return [finding];
  },
};

export const dnsEgressBlocked: Rule = {
  id: 'dns-egress-blocked',
  title: 'NetworkPolicy blocks DNS (egress to kube-dns)',
  rank: 47,
  doc: {
    severities: ['critical'],
    meaning: 'A replica is Running but not Ready, it is isolated for egress by the NetworkPolicies that select it, and none of their egress rules allows UDP 53 to the cluster DNS pods (`k8s-app: kube-dns` in `kube-system`): no peer name resolves. Fires only while a replica is not Ready. A root cause: `probe-failing`, `peer-discovery-blocked`, `init-container-stuck`, `ordered-ready-stall`, `scale-down-blocked` and `rollout-stuck` about the replicas whose DNS it blocks fold under it.',
    signals: 'networking.k8s.io/v1 NetworkPolicy `spec.podSelector`, `policyTypes` (defaulted as the API server does), `egress[].to`/`ports` (named ports, `endPort`); pod Ready condition, Warning `Unhealthy`',
    recoveries: 'manual: one NetworkPolicy allowing UDP/TCP 53 to kube-dns (YAML for `kubectl apply`)',
  },
  evaluate({ view, sts }) {
    if (!view.canSee('networkpolicies') || view.snapshot.networkPolicies.length === 0) return [];
    const sick = symptom(view, sts);
    if (!sick) return [];
    const ns = view.snapshot.namespace;
    const dns = (p: Pod): ConnectionResult => connection(view.snapshot.networkPolicies, endpointOf(p, ns), DNS_ENDPOINT, { port: 53, protocol: 'UDP' });
    // Every Running-but-not-Ready replica whose DNS egress is denied: the first is the subject, and
    // their failing readiness folds under the finding (causes.ts).
    const denied = sick.pods.map((p) => ({ p, udp: dns(p) })).filter((x) => x.udp.verdict === 'denied' && x.udp.egress.verdict === 'denied');
    if (denied.length === 0) return [];
    const { p: pod, udp } = denied[0]!;
    const blocked = denied.map((x) => x.p.metadata.name);
    const policies = udp.egress.policies;
    const allow = {
      podSelector: stsSelector(sts),
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    };
    return [
      {
        rule: 'dns-egress-blocked',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `NetworkPolicy ${policies.map((p) => p.metadata.name).join(', ')} blocks DNS from ${pod.metadata.name}: no egress rule allows UDP 53 to kube-dns, so peer names such as ${sts.metadata.name}-0.${sts.spec.serviceName ?? '<service>'} do not resolve`,
        explanation:
          `${pod.metadata.name} is isolated for egress by the NetworkPolicies that select it, and none of their egress rules allows UDP port 53 to the cluster DNS pods (k8s-app=kube-dns in kube-system). ` +
          'Every name lookup times out, so replicas that find each other by their stable DNS names never connect and stay Running but not Ready. No Kubernetes event says why.',
        evidence: [...policies.slice(0, 5).map((p) => policyEvidence(p, 'Egress')), ...(whyNotReady(view, pod)?.evidence ?? [])],
        recoveries: [
          {
            id: 'manual',
            title: `Allow DNS egress for the pods of ${sts.metadata.name}`,
            description: 'Adds one NetworkPolicy allowing UDP and TCP 53 to kube-dns; nothing else is opened. Safe: no pod restarts.',
            automated: false,
            commands: [applyCommand(policyManifest(`${sts.metadata.name}-allow-dns`, ns, allow))],
          },
        ],
        confidence: 'high',
        details: { policies: policies.map((p) => p.metadata.name), pod: pod.metadata.name, pods: blocked },
        explains: blocked,
      },
    ];
  },
};
