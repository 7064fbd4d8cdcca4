// End to end: what a diagnosis costs in a busy namespace (issue 13). quiz with 3 Ready replicas
// beside 2,000 events about other objects and 300 more PVs (scripts/bench-cluster.mjs; no extra
// nodes here: the other test files count the nodes in scheduler messages), read through the
// counting TLS proxy of the fault tests (test/faults/proxy.mjs, no faults). The cost must not
// follow the namespace's events: the events are read by involvedObject, the answers gzip-
// compressed, on a few kept-alive connections. `npm run bench` measures the larger fixture.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { apply, clusterDir, kubectl, kubeconfigPath, repoRoot, temporaryDir, waitFor } from '../scenarios/cluster.mjs';
import { createNamespace, NODES } from '../scenarios/quiz.mjs';
import { startFaultProxy } from '../faults/proxy.mjs';
import { deployRealistic, dropRealistic } from '../../scripts/bench-cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { deleteLogsNamespace, logScenarios } from '../scenarios/logs.mjs';
import { runCli, testNamespaces } from './helpers.js';
import type { Diagnosis } from '../../src/diagnosis.js';

const namespaces = testNamespaces((ns) => dropRealistic(ns));
const work = temporaryDir('sts-doctor-perf-');
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let kubeconfig: string;
let ns: string;

beforeAll(async () => {
  const upstream = /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))![1]!;
  proxy = await startFaultProxy({ clusterDir, upstream });
  kubeconfig = proxy.kubeconfig(join(work, 'kubeconfig'));
  ns = namespaces.fresh('perf-busy');
  await deployRealistic(ns, { events: 2000, pvs: 300, nodes: 0 });
}, 300_000);
afterAll(() => proxy?.close());

describe('a busy namespace: the cost follows the suspects, not the namespace', () => {
  it('quiz healthy beside 2,000 events and 300 PVs: nodes and PVs by name, 15 requests (no cluster DNS read), under 1 MiB received, at most 8 connections', async () => {
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as Diagnosis;
    expect(d.statefulSets[0]!.healthy).toBe(true);
    const log = proxy.log.slice(before);
    expect(d.source).toMatchObject({ type: 'cluster', requests: log.length });
    // Nodes and PVs by name: the pods' nodes in one LIST by hostname label, one GET per PV of the
    // claims, and the PV Table (one row per PV, no objects); no LIST of all nodes, PVs or attachments.
    const paths = log.map((l) => decodeURIComponent(l.path.replace(/\+/g, ' ')));
    const nodes = [...new Set(d.statefulSets[0]!.table.map((r) => r.node))].sort();
    expect(paths.filter((p) => p.startsWith('/api/v1/nodes'))).toEqual([expect.stringContaining(`labelSelector=kubernetes.io/hostname in (${nodes.join(',')})`)]);
    expect(paths.filter((p) => /^\/api\/v1\/persistentvolumes\/[^?]+$/.test(p))).toHaveLength(3);
    expect(paths.filter((p) => p.startsWith('/api/v1/persistentvolumes?'))).toEqual([expect.stringContaining('includeObject=None')]);
    expect(paths.filter((p) => /volumeattachments/.test(p))).toEqual([]);
    expect(log.length).toBe(15);
    // The namespace's events are never listed whole: only the StatefulSet's, by involvedObject.
    const events = log.filter((l) => l.path.startsWith(`/api/v1/namespaces/${ns}/events`));
    expect(events).toHaveLength(1);
    expect(decodeURIComponent(events[0]!.path)).toContain('fieldSelector=involvedObject.kind=StatefulSet,involvedObject.name=quiz');
    expect(proxy.bytes()).toBeLessThan(2 ** 20);
    expect(proxy.connections()).toBeLessThanOrEqual(8);
    // The cluster DNS is not read for a healthy set (13 stay 13).
    expect(log.filter((l) => l.path.includes('/endpointslices'))).toEqual([]);
  });

  it('a replica Running but not Ready: the cluster DNS EndpointSlices LIST by label, one request', async () => {
    const stalled = (await namespaces.scenario(scenarios, 'ordered-ready-stall')).ns;
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await runCli(['diagnose', 'quiz', '-n', stalled, '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout) as Diagnosis;
    const log = proxy.log.slice(before);
    expect(d.source).toMatchObject({ type: 'cluster', requests: log.length });
    const dns = log.map((l) => decodeURIComponent(l.path)).filter((p) => p.includes('/endpointslices'));
    expect(dns).toHaveLength(1);
    expect(dns[0]).toMatch(/^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/kube-system\/endpointslices\?(.*&)?labelSelector=kubernetes\.io\/service-name=kube-dns(&|$)/);
    // The test cluster has no kube-system/kube-dns: a gap with the hint, never a finding.
    expect(d.findings.map((f) => f.rule)).not.toContain('cluster-dns-unavailable');
    expect(d.gaps).toEqual([expect.objectContaining({ resource: 'endpointslices', reason: 'absent' })]);
    // --cluster-dns names another Service: still one read, of that one.
    const before2 = proxy.log.length;
    const r2 = await runCli(['diagnose', 'quiz', '-n', stalled, '-o', 'json', '--cluster-dns', `${stalled}/dns`], { KUBECONFIG: kubeconfig });
    expect(r2.code, r2.stderr).toBe(1);
    const dns2 = proxy.log.slice(before2).map((l) => decodeURIComponent(l.path)).filter((p) => p.includes('/endpointslices'));
    expect(dns2).toHaveLength(1);
    expect(dns2[0]).toContain(`/apis/discovery.k8s.io/v1/namespaces/${stalled}/endpointslices?`);
    expect(dns2[0]).toContain('labelSelector=kubernetes.io/service-name=dns');
  });

  it('image-pull: the failing pod events are read by involvedObject and quoted as evidence', async () => {
    const bad = (await namespaces.scenario(scenarios, 'image-pull')).ns;
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await runCli(['diagnose', 'quiz', '-n', bad, '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout) as Diagnosis;
    const all = proxy.log.slice(before).map((l) => decodeURIComponent(l.path));
    // A pod that is not Ready: nodes, PVs and attachments are listed whole (any node may matter).
    expect(all.filter((p) => /^\/api\/v1\/(nodes|persistentvolumes)\?/.test(p) && !p.includes('includeObject')).length).toBeGreaterThanOrEqual(2);
    const paths = all.filter((p) => p.startsWith(`/api/v1/namespaces/${bad}/events`));
    expect(paths.every((p) => p.includes('fieldSelector=involvedObject.kind='))).toBe(true);
    expect(paths.some((p) => p.includes('involvedObject.kind=Pod,involvedObject.name=quiz-0'))).toBe(true);
    const f = d.findings.find((x) => x.rule === 'image-pull');
    expect(f?.evidence.some((e) => e.type === 'event')).toBe(true);
  });

  it('wait on a replica failing its probe: two full reads around the watches, its log read in the first only', async () => {
    const waiting = namespaces.fresh('perf-wait-logs');
    try {
      await logScenarios['logs-probe-failing'].setup(waiting);
      proxy.setRules([]);
      const before = proxy.log.length;
      const r = await runCli(['wait', 'quiz', '-n', waiting, '--timeout', '6s', '--interval', '1s', '-o', 'json'], { KUBECONFIG: kubeconfig });
      expect(r.code, r.stderr).toBe(1);
      const log = proxy.log.slice(before).map((l) => decodeURIComponent(l.path));
      // A full read starts with the GET of the StatefulSet: wait makes two, the first and the final
      // one (its report); in between it follows the set by watches (a LIST and WATCH each).
      const starts = log.map((p, i) => (p.startsWith(`/apis/apps/v1/namespaces/${waiting}/statefulsets/quiz`) ? i : -1)).filter((i) => i >= 0);
      expect(starts.length).toBe(2);
      expect(log.filter((p) => p.includes('watch=')).length).toBeGreaterThan(0);
      const isLog = (p: string): boolean => /\/pods\/[^/]+\/log(\?|$)/.test(p);
      const firstRound = log.slice(0, starts[1]).filter(isLog);
      expect(firstRound.length).toBeGreaterThan(0);
      // The container still runs the same run: reused for 30 s, so no later round reads it.
      expect(log.slice(starts[1]).filter(isLog)).toEqual([]);
      const d = JSON.parse(r.stdout) as Diagnosis;
      expect(d.findings.find((f) => f.rule === 'probe-failing')!.evidence.some((e) => e.type === 'log')).toBe(true);
    } finally {
      if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) deleteLogsNamespace(waiting);
    }
  });
});

// Issue 13: `-A` over 100 StatefulSets used to send up to 434 requests at once, and the API
// server's priority and fairness rejected a non-admin ServiceAccount's with 429. 100 small
// StatefulSets (1 replica each, no volumes, KWOK pods on the stable nodes) in 10 namespaces,
// read by a ServiceAccount bound to the gate's read-only rules (deploy/gate/base/rbac.yaml: the
// Role's namespaced rules and the ClusterRole's, as one ClusterRole for all namespaces), through
// the counting proxy: never more than 8 requests in flight, no 429, the cluster-scoped LISTs once.
describe('-A over 100 StatefulSets under a non-admin ServiceAccount', () => {
  const run = Date.now().toString(36);
  const many = Array.from({ length: 10 }, (_, i) => namespaces.fresh(`perf-many-${i}`));
  let saKubeconfig: string;
  const name = `sts-doctor-perf-${run}`;

  beforeAll(async () => {
    await Promise.all(many.map((n) => createNamespace(n)));
    const sets = many.flatMap((n) =>
      Array.from({ length: 10 }, (_, j) => ({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: `small-${j}`, namespace: n, labels: { 'sts-doctor.test/many': run } },
        spec: {
          replicas: 1,
          serviceName: `small-${j}`,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: `small-${j}` } },
          template: {
            metadata: { labels: { app: `small-${j}` } },
            spec: {
              affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: NODES }] }] } } },
              containers: [{ name: 'app', image: 'registry.example/small:1', resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
            },
          },
        },
      })),
    );
    apply(sets);
    // The gate's rules, cluster-wide, for a ServiceAccount of the first namespace.
    const rbac = parseAllDocuments(readFileSync(join(repoRoot, 'deploy', 'gate', 'base', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; rules?: unknown[] });
    const rules = rbac.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
    apply([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: many[0] } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: many[0] }] },
    ]);
    const token = kubectl(['-n', many[0]!, 'create', 'token', 'reader', '--duration', '1h']).trim();
    saKubeconfig = proxy.kubeconfig(join(work, 'reader-kubeconfig'), { user: { token } });
    await waitFor('100 small StatefulSets with a Running pod', () => {
      const pods = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app', '-o', 'json'])) as { items: { metadata: { namespace: string }; status?: { phase?: string } }[] };
      return pods.items.filter((p) => many.includes(p.metadata.namespace) && p.status?.phase === 'Running').length === 100;
    }, 240_000);
  }, 300_000);

  afterAll(() => {
    kubectl(['delete', 'clusterrolebinding,clusterrole', name, '--ignore-not-found'], { allowFail: true });
  });

  it('diagnose -A, 3 runs: exit 0 or 1, no 429, at most 8 in flight, nodes/PVs/classes/attachments listed once; wall time beside one StatefulSet', async () => {
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
      proxy.setRules([]);
      const before = proxy.log.length;
      const t0 = Date.now();
      const r = await runCli(['diagnose', '-A', '-l', `sts-doctor.test/many=${run}`, '-o', 'json'], { KUBECONFIG: saKubeconfig });
      walls.push(Date.now() - t0);
      expect([0, 1], r.stderr).toContain(r.code);
      expect(r.stderr).not.toMatch(/429|Too Many Requests/);
      const d = JSON.parse(r.stdout) as Diagnosis;
      expect(d.statefulSets).toHaveLength(100);
      expect(d.gaps.filter((g) => g.reason === 'unavailable' || g.reason === 'forbidden')).toEqual([]);
      expect(proxy.maxInFlight()).toBeLessThanOrEqual(8);
      const paths = proxy.log.slice(before).map((l) => l.path.replace(/\?.*/, ''));
      expect(d.source).toMatchObject({ type: 'cluster', requests: paths.length });
      // Listed once: one first page each (a cluster with more than 500 PVs, as other test files
      // make it, adds `continue=` pages of that one LIST).
      const firstPages = proxy.log.slice(before).filter((l) => !/[?&]continue=/.test(l.path)).map((l) => l.path.replace(/\?.*/, ''));
      for (const p of ['/api/v1/nodes', '/api/v1/persistentvolumes', '/apis/storage.k8s.io/v1/storageclasses', '/apis/storage.k8s.io/v1/volumeattachments', '/version']) expect(firstPages.filter((x) => x === p), p).toHaveLength(1);
    }
    proxy.setRules([]);
    const t0 = Date.now();
    const one = await runCli(['diagnose', 'small-0', '-n', many[0]!, '-o', 'json'], { KUBECONFIG: saKubeconfig });
    const single = Date.now() - t0;
    expect([0, 1], one.stderr).toContain(one.code);
    // Reported, not asserted (the machine's load decides): README "How it reads the cluster".
    console.log(`perf: diagnose -A over 100 StatefulSets in 10 namespaces: ${walls.join(', ')} ms; one StatefulSet: ${single} ms`);
  }, 300_000);
});
