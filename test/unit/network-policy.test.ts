// NetworkPolicy semantics (src/rules/network-policy.ts): small inline cases, one per rule of the
// API, including the ones that must NOT block.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cidrContains, connection, policyTypes, selectorVerdict, type Endpoint, type NetworkPolicy, type Traffic } from '../../src/rules/network-policy.js';

const policies = (yaml: string): NetworkPolicy[] => parse(yaml) as NetworkPolicy[];

const quiz = (n: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  namespace: 'demo',
  labels: { app: 'quiz', 'statefulset.kubernetes.io/pod-name': `quiz-${n}` },
  ip: `10.244.0.${10 + n}`,
  ports: [{ name: 'mongodb', containerPort: 27017 }],
  ...extra,
});
const other: Endpoint = { namespace: 'demo', labels: { app: 'web' }, ip: '10.244.1.5' };
const dns: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.2', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] };
const mongo: Traffic = { port: 27017, protocol: 'TCP' };
const dnsUdp: Traffic = { port: 53, protocol: 'UDP' };

const DENY_ALL_INGRESS = `
- metadata: { name: deny-all, namespace: demo }
  spec: { podSelector: {}, policyTypes: [Ingress] }
`;

describe('policyTypes defaulting (SetDefaults_NetworkPolicy)', () => {
  it.each([
    ['no policyTypes, no egress', { podSelector: {} }, ['Ingress']],
    ['no policyTypes, egress rules', { podSelector: {}, egress: [{}] }, ['Ingress', 'Egress']],
    ['no policyTypes, empty egress list', { podSelector: {}, egress: [] }, ['Ingress']],
    ['explicit Egress only', { podSelector: {}, policyTypes: ['Egress'] }, ['Egress']],
  ])('%s', (_name, spec, want) => {
    expect(policyTypes({ metadata: { name: 'p' }, spec } as NetworkPolicy)).toEqual(want);
  });
});

describe('connection between two replicas on the mongodb port', () => {
  it.each<[string, string, 'allowed' | 'denied' | 'unknown']>([
    ['no policy at all', '[]', 'allowed'],
    ['deny-all ingress in the namespace', DENY_ALL_INGRESS, 'denied'],
    [
      'deny-all plus a rule allowing the replicas by label on the port number',
      `${DENY_ALL_INGRESS}
- metadata: { name: allow-peers, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }], ports: [{ port: 27017 }] }]
`,
      'allowed',
    ],
    [
      'allowed by named port',
      `${DENY_ALL_INGRESS}
- metadata: { name: allow-named, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }], ports: [{ port: mongodb }] }]
`,
      'allowed',
    ],
    [
      'a named port the pod does not declare',
      `- metadata: { name: allow-named, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }], ports: [{ port: mongo }] }]
`,
      'denied',
    ],
    [
      'allowed by a port range (endPort)',
      `- metadata: { name: range, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 27000, endPort: 28000 }] }]
`,
      'allowed',
    ],
    [
      'a port range that stops short',
      `- metadata: { name: range, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 27000, endPort: 27010 }] }]
`,
      'denied',
    ],
    [
      'the right port but UDP',
      `- metadata: { name: udp, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ ports: [{ port: 27017, protocol: UDP }] }]
`,
      'denied',
    ],
    [
      'a rule with no from and no ports allows everything',
      `- metadata: { name: open, namespace: demo }
  spec: { podSelector: {}, ingress: [{}] }
`,
      'allowed',
    ],
    [
      'matchExpressions NotIn excludes the replicas',
      `- metadata: { name: expr, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: app, operator: NotIn, values: [quiz] }] } }] }]
`,
      'denied',
    ],
    [
      'matchExpressions In admits the replicas',
      `- metadata: { name: expr, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: app, operator: In, values: [quiz, web] }] } }] }]
`,
      'allowed',
    ],
    [
      'a policy that selects other pods only does not isolate the replicas',
      `- metadata: { name: web-only, namespace: demo }
  spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }
`,
      'allowed',
    ],
    [
      'a deny-all of another namespace does not apply',
      `- metadata: { name: deny-all, namespace: prod }
  spec: { podSelector: {}, policyTypes: [Ingress] }
`,
      'allowed',
    ],
    [
      'namespaceSelector by metadata.name and podSelector together',
      `${DENY_ALL_INGRESS}
- metadata: { name: by-ns, namespace: demo }
  spec:
    podSelector: {}
    ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: demo } }, podSelector: { matchLabels: { app: quiz } } }]
`,
      'allowed',
    ],
    [
      'namespaceSelector on a label that was not read: cannot tell',
      `${DENY_ALL_INGRESS}
- metadata: { name: by-team, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: db } } }] }]
`,
      'unknown',
    ],
    [
      'only a namespaceSelector for another namespace',
      `${DENY_ALL_INGRESS}
- metadata: { name: from-monitoring, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } } }] }]
`,
      'denied',
    ],
    [
      'egress deny-all on the source blocks it though ingress is open',
      `- metadata: { name: no-egress, namespace: demo }
  spec: { podSelector: { matchLabels: { app: quiz } }, policyTypes: [Egress] }
`,
      'denied',
    ],
    [
      'an ipBlock covering the pod network: depends on the plugin',
      `${DENY_ALL_INGRESS}
- metadata: { name: cidr, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ ipBlock: { cidr: 10.244.0.0/16 } }] }]
`,
      'unknown',
    ],
    [
      'an ipBlock whose except removes the peer',
      `${DENY_ALL_INGRESS}
- metadata: { name: cidr, namespace: demo }
  spec:
    podSelector: {}
    ingress: [{ from: [{ ipBlock: { cidr: 10.244.0.0/16, except: [10.244.0.0/24] } }] }]
`,
      'denied',
    ],
  ])('%s → %s', (_name, yaml, want) => {
    expect(connection(policies(yaml), quiz(1), quiz(0), mongo).verdict).toBe(want);
  });

  it('names the rule that allows and the policies that isolate', () => {
    const r = connection(
      policies(`${DENY_ALL_INGRESS}
- metadata: { name: allow-peers, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }] }]
`),
      quiz(1),
      quiz(0),
      mongo,
    );
    expect(r.ingress).toMatchObject({ verdict: 'allowed', isolated: true, matchedBy: 'allow-peers ingress[0]' });
    expect(r.ingress.policies.map((p) => p.metadata.name)).toEqual(['deny-all', 'allow-peers']);
    expect(r.egress.isolated).toBe(false);
  });

  it('a web pod is still denied where the replicas are allowed', () => {
    const p = policies(`${DENY_ALL_INGRESS}
- metadata: { name: allow-peers, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }] }]
`);
    expect(connection(p, other, quiz(0), mongo).verdict).toBe('denied');
  });
});

describe('egress to cluster DNS', () => {
  const EGRESS_ONLY_PEERS = `
- metadata: { name: peers-only, namespace: demo }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    policyTypes: [Egress]
    egress: [{ to: [{ podSelector: { matchLabels: { app: quiz } } }] }]
`;
  it('an egress policy that allows only the peers blocks DNS', () => {
    const r = connection(policies(EGRESS_ONLY_PEERS), quiz(0), dns, dnsUdp);
    expect(r.verdict).toBe('denied');
    expect(r.egress.isolated).toBe(true);
  });
  it('an egress rule for UDP 53 to kube-dns in kube-system allows it', () => {
    const p = policies(`${EGRESS_ONLY_PEERS}
- metadata: { name: dns, namespace: demo }
  spec:
    podSelector: {}
    policyTypes: [Egress]
    egress:
    - to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }]
      ports: [{ port: 53, protocol: UDP }, { port: 53, protocol: TCP }]
`);
    expect(connection(p, quiz(0), dns, dnsUdp).verdict).toBe('allowed');
  });
  it('a DNS rule by named port resolves on the destination (kube-dns) pod', () => {
    const p = policies(`${EGRESS_ONLY_PEERS}
- metadata: { name: dns, namespace: demo }
  spec:
    podSelector: {}
    policyTypes: [Egress]
    egress: [{ ports: [{ port: dns, protocol: UDP }] }]
`);
    expect(connection(p, quiz(0), dns, dnsUdp).verdict).toBe('allowed');
  });
  it('TCP 53 only does not allow UDP', () => {
    const p = policies(`${EGRESS_ONLY_PEERS}
- metadata: { name: dns, namespace: demo }
  spec:
    podSelector: {}
    policyTypes: [Egress]
    egress: [{ ports: [{ port: 53 }] }]
`);
    expect(connection(p, quiz(0), dns, dnsUdp).verdict).toBe('denied');
  });
});

describe('selectors and CIDRs', () => {
  it('Exists and DoesNotExist', () => {
    expect(selectorVerdict({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, { app: 'x' })).toBe('allowed');
    expect(selectorVerdict({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, { app: 'x' })).toBe('denied');
    expect(selectorVerdict({}, {})).toBe('allowed');
  });
  it.each([
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.1.2.3', false],
    ['10.1.2.3/32', '10.1.2.3', true],
    ['0.0.0.0/0', '192.0.2.1', true],
    ['fd00::/8', 'fd12::1', true],
    ['fd00::/8', 'fe80::1', false],
    ['10.0.0.0/8', 'fd12::1', false],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['not-a-cidr', '10.0.0.1', false],
  ])('%s contains %s: %s', (cidr, ip, want) => {
    expect(cidrContains(cidr, ip)).toBe(want);
  });
});
