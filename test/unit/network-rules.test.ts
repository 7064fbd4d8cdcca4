// network-policy-isolation and dns-egress-blocked over a snapshot recorded from the real control
// plane (quiz-0 Running, readiness failing: examples/workload-probe-failing.yaml), with
// NetworkPolicies added inline: the cases that must fire and the ones that must not.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { NetworkPolicy, Snapshot } from '../../src/snapshot/types.js';
import { toManifestYaml } from '../../src/rules/manifest.js';
import { peersNamed } from '../../src/rules/init-container-stuck.js';
import { diagnoseFixture } from './fixtures.js';

const withPolicies = (yaml: string) => (s: Snapshot): void => {
  s.gaps = s.gaps.filter((g) => g.resource !== 'networkpolicies');
  s.networkPolicies = (parse(yaml) as NetworkPolicy[]).map((p) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...p, metadata: { namespace: s.namespace, ...p.metadata } }));
};

const DENY_ALL = `
- metadata: { name: deny-all }
  spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
`;
const ALLOW_PEERS = `
- metadata: { name: allow-peers }
  spec:
    podSelector: { matchLabels: { app: quiz } }
    policyTypes: [Ingress, Egress]
    ingress: [{ from: [{ podSelector: { matchLabels: { app: quiz } } }], ports: [{ port: mongodb }] }]
    egress: [{ to: [{ podSelector: { matchLabels: { app: quiz } } }], ports: [{ port: 27017 }] }]
`;
const ALLOW_DNS = `
- metadata: { name: allow-dns }
  spec:
    podSelector: {}
    policyTypes: [Egress]
    egress:
    - to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }]
      ports: [{ port: 53, protocol: UDP }, { port: 53, protocol: TCP }]
`;

const rules = async (yaml: string | undefined): Promise<string[]> => {
  const d = await diagnoseFixture('workload-probe-failing', yaml === undefined ? undefined : withPolicies(yaml));
  return d.findings.map((f) => f.rule);
};

describe('network-policy-isolation', () => {
  it('a deny-all policy: the replicas cannot reach each other on the headless Service port', async () => {
    const d = await diagnoseFixture('workload-probe-failing', withPolicies(DENY_ALL));
    const f = d.findings.find((x) => x.rule === 'network-policy-isolation')!;
    expect(f, d.findings.map((x) => x.rule).join(', ')).toBeDefined();
    expect(f.severity).toBe('critical');
    expect(f.subject.name).toBe('quiz-0');
    expect(f.summary).toContain('deny-all');
    expect(f.summary).toContain('TCP/27017');
    expect(f.evidence.map((e) => `${e.object.kind} ${e.label}`)).toEqual(expect.arrayContaining(['NetworkPolicy spec', 'Service spec.ports']));
    expect(f.evidence.find((e) => e.object.kind === 'NetworkPolicy')!.text).toContain('no ingress rule (allows nothing)');
    // The proposed policy is valid YAML that allows exactly the replicas on the port.
    const cmd = f.recoveries[0]!.commands![0]!;
    const manifest = parse(cmd.split('\n').slice(1, -1).join('\n'));
    expect(manifest).toMatchObject({
      kind: 'NetworkPolicy',
      metadata: { name: 'quiz-allow-peers', namespace: d.namespace },
      spec: { podSelector: { matchLabels: { app: 'quiz' } }, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'quiz' } } }], ports: [{ protocol: 'TCP', port: 27017 }] }] },
    });
  });

  it('applying the proposed policy makes the finding go away', async () => {
    const d = await diagnoseFixture('workload-probe-failing', withPolicies(DENY_ALL));
    const f = d.findings.find((x) => x.rule === 'network-policy-isolation')!;
    const proposed = parse(f.recoveries[0]!.commands![0]!.split('\n').slice(1, -1).join('\n')) as NetworkPolicy;
    expect(await rules(`${DENY_ALL}\n${toManifestYaml([proposed as never])}\n${ALLOW_DNS}`)).not.toContain('network-policy-isolation');
  });

  it.each([
    ['no NetworkPolicy', ''],
    ['a policy that allows the peers on the named port', `${DENY_ALL}${ALLOW_PEERS}${ALLOW_DNS}`],
    ['a policy that selects other pods only', `- metadata: { name: web }\n  spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress, Egress] }`],
  ])('does not fire with %s', async (_name, yaml) => {
    expect(await rules(yaml || '[]')).not.toContain('network-policy-isolation');
  });

  it('an old snapshot that did not read NetworkPolicies: no finding, and the read is listed as not checked', async () => {
    const d = await diagnoseFixture('workload-probe-failing');
    expect(d.findings.map((f) => f.rule)).not.toContain('network-policy-isolation');
    expect(d.gaps.map((g) => g.resource)).toContain('networkpolicies');
  });

  it('a healthy StatefulSet under a deny-all policy gets no finding (nothing to explain)', async () => {
    const d = await diagnoseFixture('healthy', withPolicies(DENY_ALL));
    expect(d.findings.map((f) => f.rule)).toEqual([]);
  });
});

describe('dns-egress-blocked', () => {
  it('an egress policy that allows only the peers blocks DNS', async () => {
    const d = await diagnoseFixture('workload-probe-failing', withPolicies(ALLOW_PEERS));
    const f = d.findings.find((x) => x.rule === 'dns-egress-blocked')!;
    expect(f, d.findings.map((x) => x.rule).join(', ')).toBeDefined();
    expect(f.summary).toContain('allow-peers');
    expect(f.evidence[0]!.text).toContain('egress[0]: to pods app=quiz on TCP/27017');
    const manifest = parse(f.recoveries[0]!.commands![0]!.split('\n').slice(1, -1).join('\n'));
    expect(manifest.spec.egress[0].ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
  });

  it.each([
    ['an egress rule that allows DNS', `${ALLOW_PEERS}${ALLOW_DNS}`],
    ['ingress-only policies', `- metadata: { name: in }\n  spec: { podSelector: {}, policyTypes: [Ingress] }`],
  ])('does not fire with %s', async (_name, yaml) => {
    expect(await rules(yaml)).not.toContain('dns-egress-blocked');
  });
});

describe('manifest YAML', () => {
  it('quotes every string, so cluster-provided values cannot break out', () => {
    const y = toManifestYaml({ metadata: { name: 'a"b\nc: d', labels: { 'weird key': 'x' } }, list: [{ a: 1 }, 'z'], empty: [] });
    expect(parse(y)).toEqual({ metadata: { name: 'a"b\nc: d', labels: { 'weird key': 'x' } }, list: [{ a: 1 }, 'z'], empty: [] });
    expect(y).not.toMatch(/^c: d/m);
  });
});

describe('manifest YAML scalars', () => {
  it.each(['yes', 'No', 'true', 'null', 'on', '53', '1e3', '-x', 'a: b', 'a #b', '', ' x'])('%j stays a string', (v) => {
    expect(parse(toManifestYaml({ [v]: v }))).toEqual({ [v]: v });
  });
  it('simple names stay plain', () => {
    expect(toManifestYaml({ kind: 'NetworkPolicy', app: 'quiz-pods', key: 'kubernetes.io/metadata.name' })).toBe('kind: NetworkPolicy\napp: quiz-pods\nkey: kubernetes.io/metadata.name');
  });
});

describe('recorded on the real control plane', () => {
  it('network-allowed: policies that allow the peers by named port and DNS give no network finding', async () => {
    const d = await diagnoseFixture('network-allowed');
    expect(d.gaps).toEqual([]);
    expect(d.findings.map((f) => f.rule)).not.toEqual(expect.arrayContaining(['network-policy-isolation']));
    expect(d.findings.map((f) => f.rule)).not.toContain('dns-egress-blocked');
    expect(d.findings.map((f) => f.rule)).toContain('probe-failing');
  });
});

describe('peersNamed (init-container-stuck)', () => {
  const sts = { metadata: { name: 'quiz' }, spec: { serviceName: 'quiz-pods' } } as never;
  it.each([
    [['sh', '-c', 'until nslookup quiz-1.quiz-pods; do sleep 2; done'], [1]],
    [['sh', '-c', 'nc -z quiz-2.quiz-pods.demo.svc.cluster.local 27017 && nslookup quiz-0.quiz-pods'], [0, 2]],
    [['wait-for', 'http://quiz-10.quiz-pods:8080/health'], [10]],
    [['nslookup', 'myquiz-1.quiz-pods', 'quiz-1.quiz-podsx', 'quiz-x.quiz-pods'], []],
  ])('%j → %j', (words, want) => {
    expect(peersNamed(sts, words)).toEqual(want);
  });
});

describe('the network findings are root causes: the readiness they explain folds under them', () => {
  it.each([
    ['network-policy-isolation', 'network-policy-isolation'],
    ['dns-egress-blocked', 'dns-egress-blocked'],
  ])('%s (recorded example, 3 replicas failing readiness): one root cause, the 3 probe failures folded under it', async (example, rule) => {
    const d = await diagnoseFixture(example);
    const root = d.findings.filter((f) => f.rule === rule);
    expect(root).toHaveLength(1);
    expect(root[0]!.explains).toEqual(['quiz-0', 'quiz-1', 'quiz-2']);
    const probes = d.findings.filter((f) => f.rule === 'probe-failing');
    expect(probes.map((f) => f.subject.name)).toEqual(['quiz-0', 'quiz-1', 'quiz-2']);
    for (const f of probes) expect(f.causedBy).toEqual({ rule, subject: root[0]!.subject });
    expect(d.findings.filter((f) => !f.causedBy && f.severity !== 'info').map((f) => f.rule)).toEqual([rule]);
  });

  it('a probe failure of a replica the policy does not keep apart stays a root cause of its own', async () => {
    // DNS blocked only for quiz-1's label: quiz-0's failing probe is not explained by it.
    const d = await diagnoseFixture('dns-egress-blocked', (s) => {
      for (const p of s.networkPolicies) p.spec.podSelector = { matchLabels: { 'statefulset.kubernetes.io/pod-name': 'quiz-1' } };
    });
    const root = d.findings.find((f) => f.rule === 'dns-egress-blocked');
    expect(root?.explains).toEqual(['quiz-1']);
    const probes = new Map(d.findings.filter((f) => f.rule === 'probe-failing').map((f) => [f.subject.name, f.causedBy?.rule]));
    expect(probes.get('quiz-1')).toBe('dns-egress-blocked');
    expect(probes.get('quiz-0')).toBeUndefined();
    expect(probes.get('quiz-2')).toBeUndefined();
  });
});
