// Network scenarios of the quiz StatefulSet on the real control plane: NetworkPolicies (real API
// objects, validated and defaulted by the real API server) that isolate the replicas or block
// their DNS, while the readiness probe fails. No network plugin enforces policies on this
// cluster, and none needs to: sts-doctor reads the policies, and the symptom (Running, not
// Ready, Warning Unhealthy) comes from the KWOK readiness stage, as a kubelet reports it
// (test/cluster/stages/fault-readiness.yaml). Pods are pinned to the stable nodes; no node fails.
import { apply, kubectl, waitFor } from './cluster.mjs';
import { FAULT_LABEL, createNamespace, deployQuiz, localStorageObjects, quizObjects, quizPods, waitHealthy, waitReadinessFailing } from './quiz.mjs';
import { CONTAINER_LABEL, stableNodesByLoad } from './workload.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A NetworkPolicy of namespace `ns`. */
export function networkPolicy(ns, name, spec) {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

/** Every pod of the namespace isolated for ingress, nothing allowed. */
export const denyAllIngress = (ns) => networkPolicy(ns, 'deny-all-ingress', { podSelector: {}, policyTypes: ['Ingress'] });

/** The replicas may talk to each other (TCP 27017) and to nothing else: DNS is blocked. */
export const peersOnlyEgress = (ns) =>
  networkPolicy(ns, 'quiz-egress-peers-only', {
    podSelector: { matchLabels: { app: 'quiz' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ podSelector: { matchLabels: { app: 'quiz' } } }], ports: [{ protocol: 'TCP', port: 27017 }] }],
  });

/** What a careful operator writes: peers on the mongodb port (by name) and DNS to kube-dns. */
export const allowPeersAndDns = (ns) => [
  networkPolicy(ns, 'quiz-peers', {
    podSelector: { matchLabels: { app: 'quiz' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'quiz' } } }], ports: [{ port: 'mongodb' }] }],
  }),
  networkPolicy(ns, 'quiz-dns', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: 'quiz' } } }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  }),
];

/**
 * quiz (Parallel, so every replica exists) with `policies` applied first and the readiness probe
 * of quiz-api failing; waits until every replica is Running, not Ready, with an Unhealthy event.
 */
async function deployIsolated(ns, policies) {
  await deployQuiz(ns, { nodes: stableNodesByLoad(), podManagementPolicy: 'Parallel', podLabels: { [`${FAULT_LABEL}/readiness`]: '503', [CONTAINER_LABEL]: 'quiz-api' } });
  apply(policies);
  await waitReadinessFailing(ns, ['quiz-0', 'quiz-1', 'quiz-2']);
}

/**
 * The ports the EndpointSlices of Service quiz-pods publish (the real EndpointSlice controller's).
 * @param {string} ns
 * @returns {number[]}
 */
export function endpointSlicePorts(ns) {
  const out = kubectl(['-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=quiz-pods', '-o', 'json']);
  return JSON.parse(out).items.flatMap((s) => (s.ports ?? []).map((p) => p.port));
}

/** The label of the test's own cluster DNS pods (never kube-system's `k8s-app: kube-dns`: other tests would see it). */
export const TEST_DNS_LABEL = { 'k8s-app': 'test-dns' };

/**
 * A cluster DNS of the test's own, in namespace `ns` (never in kube-system, which every parallel
 * test file reads): Service `dns` (UDP/TCP 53, selecting {@link TEST_DNS_LABEL}) and Deployment
 * `coredns` with `replicas` pods pinned to the stable nodes. With `ready: false` the pods carry
 * the readiness fault (the KWOK stage reports them Running, not Ready, as a kubelet whose
 * readiness probe fails); the real Deployment, ReplicaSet and EndpointSlice controllers do the
 * rest. Pass `--cluster-dns <ns>/dns`.
 */
export function testDnsObjects(ns, { ready, replicas = 2 }) {
  const podLabels = { ...TEST_DNS_LABEL, ...(ready ? {} : { [`${FAULT_LABEL}/readiness`]: '503' }) };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'dns', namespace: ns, labels: TEST_DNS_LABEL },
      spec: { selector: TEST_DNS_LABEL, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels: TEST_DNS_LABEL },
      spec: {
        replicas,
        selector: { matchLabels: TEST_DNS_LABEL },
        template: {
          metadata: { labels: podLabels },
          spec: {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: stableNodesByLoad() }] }] } } },
            containers: [
              {
                name: 'coredns',
                image: 'registry.k8s.io/coredns/coredns:v1.12.1',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
              },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The endpoints the real EndpointSlice controller publishes for Service `dns` of `ns`: each one's
 * `ready` condition.
 * @returns {boolean[]}
 */
export function testDnsEndpointsReady(ns) {
  const out = kubectl(['-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=dns', '-o', 'json']);
  return JSON.parse(out).items.flatMap((s) => (s.endpoints ?? []).map((e) => e.conditions?.ready !== false));
}

/** Waits until the test DNS Service publishes `n` endpoints, all ready (`ready` true) or all not. */
export async function waitTestDns(ns, ready, n = 2) {
  await waitFor(`${n} ${ready ? 'ready' : 'not-ready'} endpoints of Service dns in ${ns}`, () => {
    const eps = testDnsEndpointsReady(ns);
    return eps.length === n && eps.every((r) => r === ready);
  });
}

/**
 * quiz (OrderedReady) whose quiz-0 fails its readiness probe, beside the test's own cluster DNS
 * (`dnsReady`: its pods Ready or not). The governing Service publishes only Ready pods, as in
 * peer-discovery-blocked, so that finding is there to fold.
 */
async function deployWithTestDns(ns, dnsReady) {
  await deployQuiz(ns, { nodes: stableNodesByLoad(), podLabels: { [`${FAULT_LABEL}/readiness`]: '503', [CONTAINER_LABEL]: 'quiz-api' } });
  kubectl(['-n', ns, 'patch', 'service', 'quiz-pods', '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":false}}']);
  apply(testDnsObjects(ns, { ready: dnsReady }));
  await waitTestDns(ns, dnsReady);
  await waitReadinessFailing(ns);
  return { clusterDns: `${ns}/dns`, service: 'dns', pod: 'quiz-0', snapshotArgs: ['--cluster-dns', `${ns}/dns`] };
}

/** The network scenarios: `setup(ns)` deploys and waits for the signal, returning what the test expects. */
export const networkScenarios = {
  /** A deny-all ingress policy: the replicas cannot reach each other on 27017. */
  'network-policy-isolation': {
    async setup(ns) {
      await deployIsolated(ns, [denyAllIngress(ns)]);
      return { policy: 'deny-all-ingress', port: 'TCP/27017' };
    },
  },
  /** An egress policy that allows only the peers: no DNS. */
  'dns-egress-blocked': {
    async setup(ns) {
      await deployIsolated(ns, [peersOnlyEgress(ns)]);
      return { policy: 'quiz-egress-peers-only' };
    },
  },
  /**
   * The headless Service publishes only Ready pods (publishNotReadyAddresses false) while quiz-0
   * fails its readiness probe (OrderedReady: quiz-1 and quiz-2 are never created).
   */
  'peer-discovery-blocked': {
    async setup(ns) {
      await deployQuiz(ns, { nodes: stableNodesByLoad(), podLabels: { [`${FAULT_LABEL}/readiness`]: '503', [CONTAINER_LABEL]: 'quiz-api' } });
      kubectl(['-n', ns, 'patch', 'service', 'quiz-pods', '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":false}}']);
      await waitReadinessFailing(ns);
      return { service: 'quiz-pods', pod: 'quiz-0' };
    },
  },
  /**
   * quiz-0's init container waits for quiz-1's DNS name (`until nslookup quiz-1.quiz-pods`), which
   * OrderedReady never creates before quiz-0 is Ready: the running init container comes from the
   * KWOK stage fault-init-waiting (as the kubelet reports it), the deadlock from the real
   * StatefulSet controller. Waits until the init container has run past the rule's 60 s grace.
   */
  'init-container-stuck': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorageObjects(ns, 3, stableNodesByLoad()));
      const objects = quizObjects(ns, { podLabels: { [`${FAULT_LABEL}/init-waiting`]: 'true' } });
      const sts = objects.find((o) => o.kind === 'StatefulSet');
      sts.spec.template.spec.initContainers = [{ name: 'wait-for-peers', image: 'busybox:1.36', command: ['sh', '-c', 'until nslookup quiz-1.quiz-pods; do echo waiting for quiz-1; sleep 2; done'] }];
      apply(objects);
      await waitFor('quiz-0 Pending in init container wait-for-peers', () => {
        const p = quizPods(ns)['quiz-0'];
        return p?.status?.phase === 'Pending' && (p.status.initContainerStatuses ?? []).some((c) => c.name === 'wait-for-peers' && c.state?.running);
      });
      const started = Date.parse(quizPods(ns)['quiz-0'].status.initContainerStatuses[0].state.running.startedAt);
      await sleep(Math.max(0, started + 62_000 - Date.now()));
      return { pod: 'quiz-0', container: 'wait-for-peers', waitsFor: 'quiz-1' };
    },
  },
  /**
   * The governing headless Service lists port mongodb 27018 (targetPort defaulted to 27018) while
   * mongo declares 27017: the real EndpointSlice controller publishes 27018. All replicas Ready.
   */
  'service-port-mismatch': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorageObjects(ns, 3, stableNodesByLoad()));
      const objects = quizObjects(ns);
      objects.find((o) => o.kind === 'Service' && o.metadata.name === 'quiz-pods').spec.ports = [{ name: 'mongodb', port: 27018 }];
      apply(objects);
      await waitHealthy(ns, 3);
      await waitFor('an EndpointSlice of quiz-pods with port 27018', () => endpointSlicePorts(ns).includes(27018));
      return { service: 'quiz-pods', port: '27018', containerPort: '27017' };
    },
  },
  /**
   * The cluster DNS (the test's own Service `dns`, `--cluster-dns <ns>/dns`) has two endpoints,
   * neither ready, while quiz-0 fails its readiness probe.
   */
  'cluster-dns-unavailable': {
    async setup(ns) {
      return deployWithTestDns(ns, false);
    },
  },
  /** The same, with the DNS pods Ready: the readiness failure is the application's own. */
  'cluster-dns-ready': {
    async setup(ns) {
      return deployWithTestDns(ns, true);
    },
  },
  /** Policies that allow the peers and DNS: the readiness failure is the application's own. */
  'network-allowed': {
    async setup(ns) {
      await deployIsolated(ns, [denyAllIngress(ns), peersOnlyEgress(ns), ...allowPeersAndDns(ns)]);
      return {};
    },
  },
};
