// cluster-dns-unavailable: the EndpointSlice semantics (table tests on small inline slices), the
// rule on the snapshot recorded from the real control plane (examples/cluster-dns-unavailable.yaml)
// and its mutations, the causal folding, the flag, and the one extra read (a fake client serving
// the recorded objects: only for suspects, forbidden and absent are gaps).
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { clusterDnsEndpoints, clusterDnsUnavailable } from '../../src/rules/cluster-dns.js';
import { linkCauses, rootCauses } from '../../src/rules/causes.js';
import { parseClusterDns } from '../../src/commands/options.js';
import { collectFromCluster } from '../../src/snapshot/from-cluster.js';
import { snapshotFromDump } from '../../src/snapshot/from-dump.js';
import { snapshotToList } from '../../src/commands/snapshot.js';
import { SnapshotView } from '../../src/snapshot/view.js';
import type { EndpointSlice, SliceEndpoint, Snapshot } from '../../src/snapshot/types.js';
import type { Finding } from '../../src/rules/types.js';
import { diagnoseFixture, fixturePath, loadFixture } from './fixtures.js';
import { standInClient } from './stand-in-client.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ep = (conditions: SliceEndpoint['conditions'], name = 'coredns-1'): SliceEndpoint => ({ addresses: ['10.0.0.1'], conditions, targetRef: { kind: 'Pod', name } });
const slice = (endpoints: SliceEndpoint[] | null, name = 'kube-dns-abcde', addressType = 'IPv4'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
  addressType,
  endpoints,
});

describe('the EndpointSlice semantics of the cluster DNS', () => {
  it.each([
    ['no slices', [], 'no-slices'],
    ['a slice with no endpoints', [slice([])], 'no-endpoints'],
    ['a slice with endpoints: null', [slice(null)], 'no-endpoints'],
    ['all not ready', [slice([ep({ ready: false, serving: false, terminating: false }), ep({ ready: false })])], 'none-ready'],
    ['some ready', [slice([ep({ ready: false }), ep({ ready: true, serving: true, terminating: false })])], 'available'],
    ['ready unset: the API says to read it as ready', [slice([ep({})])], 'available'],
    ['conditions absent: ready', [slice([{ addresses: ['10.0.0.2'] }])], 'available'],
    ['ready null: ready', [slice([ep({ ready: null })])], 'available'],
    ['serving while terminating, none ready: kube-proxy falls back to it', [slice([ep({ ready: false, serving: true, terminating: true })])], 'terminating-fallback'],
    ['serving but not terminating and not ready: kube-proxy uses ready only', [slice([ep({ ready: false, serving: true, terminating: false })])], 'none-ready'],
    ['terminating and not serving', [slice([ep({ ready: false, serving: false, terminating: true })])], 'none-ready'],
    ['terminating with serving unset and ready false', [slice([ep({ ready: false, terminating: true })])], 'none-ready'],
    ['dual stack: the IPv6 slice has the ready endpoint', [slice([ep({ ready: false })]), slice([ep({ ready: true })], 'kube-dns-v6', 'IPv6')], 'available'],
    ['two slices, one empty, one not ready', [slice([]), slice([ep({ ready: false })], 'kube-dns-2')], 'none-ready'],
  ] as const)('%s → %s', (_what, slices, verdict) => {
    expect(clusterDnsEndpoints(slices as unknown as EndpointSlice[]).verdict).toBe(verdict);
  });

  it('counts every endpoint, the ready ones and the serving-terminating ones', () => {
    expect(clusterDnsEndpoints([slice([ep({ ready: false }), ep({ ready: false, serving: true, terminating: true }), ep({})])])).toEqual({ verdict: 'available', total: 3, ready: 1, servingTerminating: 1 });
  });
});

/** The example's findings with the DNS slices edited by `edit`. */
async function withSlices(edit: (slices: EndpointSlice[], s: Snapshot) => void): Promise<Finding[]> {
  return (await diagnoseFixture('cluster-dns-unavailable', (s) => edit(s.endpointSlices!, s))).findings;
}

describe('cluster-dns-unavailable on the recorded snapshot', () => {
  it('the recording: the slices of the test DNS Service, both endpoints not ready; quiz-0 explained; the readiness findings fold under it', async () => {
    const d = await diagnoseFixture('cluster-dns-unavailable');
    const f = d.findings.find((x) => x.rule === 'cluster-dns-unavailable')!;
    expect(f).toMatchObject({ severity: 'critical', subject: { kind: 'Service', name: 'dns' }, explains: ['quiz-0'], details: { verdict: 'none-ready', endpoints: 2, ready: 0 } });
    expect(f.evidence.filter((e) => e.object.kind === 'EndpointSlice').map((e) => e.text.split(';')[0])).toEqual(['ready=false serving=false terminating=false', 'ready=false serving=false terminating=false']);
    expect(d.findings[0]!.rule).toBe('cluster-dns-unavailable');
    const roots = rootCauses(d.findings);
    expect(roots).toHaveLength(1);
    expect(roots[0]!.consequences.map((c) => c.rule).sort()).toEqual(['ordered-ready-stall', 'peer-discovery-blocked', 'probe-failing']);
  });

  it('an endpoint ready (or readiness unset) → no finding; the probe is the root cause again', async () => {
    const ready = await withSlices((slices) => (slices[0]!.endpoints![1]!.conditions = { ready: true, serving: true, terminating: false }));
    expect(ready.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
    expect(ready.find((f) => f.rule === 'probe-failing')!.causedBy).toBeUndefined();
    const unset = await withSlices((slices) => delete slices[0]!.endpoints![0]!.conditions);
    expect(unset.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
  });

  it('serving while terminating (kube-proxy still sends to it) → no finding; a slice with no endpoints → a finding that says so', async () => {
    const fallback = await withSlices((slices) => (slices[0]!.endpoints![0]!.conditions = { ready: false, serving: true, terminating: true }));
    expect(fallback.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
    const empty = await withSlices((slices) => (slices[0]!.endpoints = []));
    const f = empty.find((x) => x.rule === 'cluster-dns-unavailable')!;
    expect(f.summary).toContain('has no endpoint at all');
    expect(f.evidence[0]).toMatchObject({ object: { kind: 'EndpointSlice' }, label: 'endpoints', text: 'none (addressType IPv4)' });
  });

  it('no slices, a gap on endpointslices, or no Service named → never a finding', async () => {
    expect((await withSlices((slices) => slices.splice(0))).map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
    const forbidden = await withSlices((_slices, s) => s.gaps.push({ resource: 'endpointslices', reason: 'forbidden', message: 'endpointslices: forbidden' }));
    expect(forbidden.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
    const unnamed = await withSlices((_slices, s) => delete s.clusterDns);
    expect(unnamed.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
  });

  it('only while a replica shows what a DNS outage explains: quiz-0 Ready → no finding', async () => {
    const s = await loadFixture('cluster-dns-unavailable');
    const pod = s.pods.find((p) => p.metadata.name === 'quiz-0')!;
    pod.status!.conditions = pod.status!.conditions!.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'True' as const } : c));
    for (const c of pod.status!.containerStatuses!) c.ready = true;
    const view = new SnapshotView(s);
    expect(clusterDnsUnavailable.evaluate({ view, sts: s.statefulSets[0]! })).toEqual([]);
  });

  it('a pod stuck in an init container (the recorded init-container-stuck) is explained too: init-container-stuck and ordered-ready-stall fold under it', async () => {
    const d = await diagnoseFixture('init-container-stuck', (s) => {
      s.clusterDns = { namespace: 'kube-system', name: 'kube-dns' };
      s.endpointSlices = [slice([ep({ ready: false, serving: false, terminating: false })])];
    });
    const f = d.findings.find((x) => x.rule === 'cluster-dns-unavailable')!;
    expect(f.explains).toEqual(['quiz-0']);
    expect(f.summary).toContain('quiz-0 is not Ready');
    // The default Service: the DNS pods by the label kube-dns and CoreDNS installs share; a manual step only.
    expect(f.recoveries).toHaveLength(1);
    expect(f.recoveries[0]!.automated).toBe(false);
    expect(f.recoveries[0]!.commands).toEqual([
      'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide',
      'kubectl -n kube-system describe pods -l k8s-app=kube-dns',
      'kubectl -n kube-system describe service kube-dns',
      'kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns -o yaml',
      'kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50',
      'kubectl -n kube-system rollout restart deployment coredns',
    ]);
    const roots = rootCauses(d.findings);
    expect(roots.map((r) => r.finding.rule)).toEqual(['cluster-dns-unavailable']);
    expect(roots[0]!.consequences.map((c) => c.rule).sort()).toEqual(['init-container-stuck', 'ordered-ready-stall']);
  });

  it('the evidence stays bounded: 40 not-ready endpoints quote 5 and count the rest', async () => {
    const many = await withSlices((slices) => (slices[0]!.endpoints = Array.from({ length: 40 }, (_, i) => ep({ ready: false }, `coredns-${i}`))));
    const f = many.find((x) => x.rule === 'cluster-dns-unavailable')!;
    const quoted = f.evidence.filter((e) => e.object.kind === 'EndpointSlice');
    expect(quoted).toHaveLength(6);
    expect(quoted[5]!.text).toBe('35 more endpoints, none ready');
    expect(f.recoveries[0]!.commands![0]!.split(' ').filter((w) => w.startsWith('coredns-'))).toHaveLength(10);
  });

  it('snapshot → --from keeps the slices and which Service they are of', async () => {
    const s = await loadFixture('cluster-dns-unavailable');
    const dir = mkdtempSync(join(tmpdir(), 'sts-doctor-dns-'));
    writeFileSync(join(dir, 's.json'), JSON.stringify(snapshotToList(s)));
    const again = await snapshotFromDump(join(dir, 's.json'), {});
    expect(again.clusterDns).toEqual(s.clusterDns);
    expect(again.endpointSlices).toEqual(s.endpointSlices);
    // A header naming the DNS Service with what no kubectl command should print is refused in one sentence.
    const list = snapshotToList(s);
    list.stsDoctor.clusterDns = { namespace: 'kube-system; rm -rf ~', name: 'kube-dns' };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(list));
    await expect(snapshotFromDump(join(dir, 'bad.json'), {})).rejects.toThrow('stsDoctor.clusterDns.namespace is not a DNS label (lowercase letters, digits and -)');
    // --cluster-dns naming another Service: its slices are not in the dump, so nothing is judged.
    const other = await snapshotFromDump(fixturePath('cluster-dns-unavailable'), { clusterDns: { namespace: 'kube-system', name: 'kube-dns' } });
    expect(other.endpointSlices).toEqual([]);
    expect(other.gaps).toEqual([{ resource: 'endpointslices', reason: 'absent', message: expect.stringMatching(/^endpointslices: the dump holds the EndpointSlices of Service e2e-[\w-]+\/dns, not of kube-system\/kube-dns; the cluster DNS was not checked$/) }]);
  });
});

describe('causal folding under a cluster-level cause', () => {
  const f = (rule: string, subject: Finding['subject'], extra: Partial<Finding> = {}): Finding => ({
    rule,
    severity: 'critical',
    statefulSet: { kind: 'StatefulSet', name: 'quiz' },
    subject,
    summary: rule,
    explanation: '',
    evidence: [],
    recoveries: [],
    confidence: 'high',
    ...extra,
  });
  const pod = (name: string): Finding['subject'] => ({ kind: 'Pod', name });
  const sts = { metadata: { name: 'quiz' }, spec: { selector: {}, template: { spec: { containers: [] } } } } as never;

  it('folds the listed rules about the pods it explains, never the others; a consequence of a folded cause points at the root', () => {
    const dns = f('cluster-dns-unavailable', { kind: 'Service', namespace: 'kube-system', name: 'kube-dns' }, { explains: ['quiz-0'] });
    const probe0 = f('probe-failing', pod('quiz-0'));
    const probe1 = f('probe-failing', pod('quiz-1'));
    const crash0 = f('crash-loop', pod('quiz-0'));
    const scale = f('scale-down-blocked', pod('quiz-0'));
    const peers = f('peer-discovery-blocked', { kind: 'Service', name: 'quiz-pods' }, { severity: 'warning' });
    const all = [dns, probe0, probe1, crash0, scale, peers];
    linkCauses(all, sts);
    const root = { rule: 'cluster-dns-unavailable', subject: dns.subject };
    expect(probe0.causedBy).toEqual(root);
    expect(peers.causedBy).toEqual(root);
    expect(scale.causedBy).toEqual(root);
    expect(probe1.causedBy).toBeUndefined();
    expect(crash0.causedBy).toBeUndefined();
    expect(dns.causedBy).toBeUndefined();
    const roots = rootCauses(all);
    expect(roots.map((r) => r.finding.rule)).toEqual(['cluster-dns-unavailable', 'probe-failing', 'crash-loop']);
    expect(roots[0]!.consequences).toEqual([probe0, scale, peers]);
  });

  it('without it, the pod-level links are as before', () => {
    const probe0 = f('probe-failing', pod('quiz-0'));
    const stall = f('ordered-ready-stall', pod('quiz-0'));
    linkCauses([probe0, stall], sts);
    expect(stall.causedBy).toEqual({ rule: 'probe-failing', subject: pod('quiz-0') });
  });
});

describe('--cluster-dns', () => {
  it('parses <namespace>/<service>; refuses anything else in one sentence', () => {
    expect(parseClusterDns(undefined)).toBeUndefined();
    expect(parseClusterDns('kube-system/coredns')).toEqual({ namespace: 'kube-system', name: 'coredns' });
    for (const bad of ['kube-dns', 'a/b/c', '/x', 'x/', '../x', 'kube-system/Kube_DNS']) expect(() => parseClusterDns(bad), bad).toThrow(/--cluster-dns/);
  });
});

/** The stand-in client (stand-in-client.ts) whose EndpointSlice LIST answers `slices` (a function, so that a test can make it fail). */
function fakeClient(s: Snapshot, slices: () => Promise<EndpointSlice[]>) {
  return standInClient(s, { list: (path) => (path.endsWith('/endpointslices') ? slices() : undefined) });
}

describe('the read: one LIST, only for suspects; forbidden and absent are gaps', () => {
  it('a replica not Ready: one LIST of the DNS Service slices by label in its namespace', async () => {
    const s = await loadFixture('cluster-dns-unavailable');
    const { client, paths } = fakeClient(s, async () => s.endpointSlices!);
    const live = await collectFromCluster(client as never, { namespace: s.namespace, name: 'quiz', clusterDns: s.clusterDns! });
    const dnsReads = paths.filter((p) => p.includes('endpointslices'));
    expect(dnsReads).toEqual([`/apis/discovery.k8s.io/v1/namespaces/${s.clusterDns!.namespace}/endpointslices?labelSelector=kubernetes.io/service-name=dns`]);
    expect(live.endpointSlices).toHaveLength(1);
    expect(live.clusterDns).toEqual(s.clusterDns);
  });

  it('a healthy StatefulSet: no DNS read at all', async () => {
    const s = await loadFixture('healthy');
    const { client, paths } = fakeClient(s, async () => {
      throw new Error('must not be read');
    });
    const live = await collectFromCluster(client as never, { namespace: s.namespace, name: 'quiz' });
    expect(paths.filter((p) => p.includes('endpointslices'))).toEqual([]);
    expect(live.gaps).toEqual([]);
    // The exact count of a healthy read (with nodes and PVs by name) is the e2e perf test's.
  });

  it('forbidden: an endpointslices gap naming the DNS not checked, never an error; none at all: an absent gap with the --cluster-dns hint', async () => {
    const s = await loadFixture('cluster-dns-unavailable');
    const forbidden = fakeClient(s, async () => {
      throw new ApiError('GET endpointslices: 403 Forbidden: endpointslices.discovery.k8s.io is forbidden', 403);
    });
    const a = await collectFromCluster(forbidden.client as never, { namespace: s.namespace, name: 'quiz' });
    expect(a.gaps).toEqual([expect.objectContaining({ resource: 'endpointslices', reason: 'forbidden', message: expect.stringContaining('the cluster DNS (Service kube-system/kube-dns) was not checked') })]);
    const none = fakeClient(s, async () => []);
    const b = await collectFromCluster(none.client as never, { namespace: s.namespace, name: 'quiz' });
    expect(b.gaps).toEqual([
      {
        resource: 'endpointslices',
        reason: 'absent',
        message:
          'endpointslices: Service kube-system/kube-dns has no EndpointSlice, so the cluster DNS (Service kube-system/kube-dns) was not checked; if the cluster DNS Service has another name, pass --cluster-dns <namespace>/<service>',
      },
    ]);
  });
});
