// End to end: what a diagnosis costs in a busy namespace (issue 13). quiz with 3 Ready replicas
// beside 2,000 events about other objects and 300 more PVs (scripts/bench-cluster.mjs; no extra
// nodes here: the other test files count the nodes in scheduler messages), read through the
// counting TLS proxy of the fault tests (test/faults/proxy.mjs, no faults). The cost must not
// follow the namespace's events: the events are read by involvedObject, the answers gzip-
// compressed, on a few kept-alive connections. `npm run bench` measures the larger fixture.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDir, kubeconfigPath, temporaryDir } from '../scenarios/cluster.mjs';
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
  it('quiz healthy beside 2,000 events: 13 requests (no cluster DNS read), under 1 MiB received, at most 8 connections', async () => {
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as Diagnosis;
    expect(d.statefulSets[0]!.healthy).toBe(true);
    const log = proxy.log.slice(before);
    expect(d.source).toMatchObject({ type: 'cluster', requests: log.length });
    // The 300 PVs take a page of their own at most: 13 or 14 requests.
    expect(log.length).toBeLessThanOrEqual(14);
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
    const paths = proxy.log.slice(before).map((l) => decodeURIComponent(l.path)).filter((p) => p.startsWith(`/api/v1/namespaces/${bad}/events`));
    expect(paths.every((p) => p.includes('fieldSelector=involvedObject.kind='))).toBe(true);
    expect(paths.some((p) => p.includes('involvedObject.kind=Pod,involvedObject.name=quiz-0'))).toBe(true);
    const f = d.findings.find((x) => x.rule === 'image-pull');
    expect(f?.evidence.some((e) => e.type === 'event')).toBe(true);
  });

  it('wait on a replica failing its probe: its log is read in the first round only, not every --interval', async () => {
    const waiting = namespaces.fresh('perf-wait-logs');
    try {
      await logScenarios['logs-probe-failing'].setup(waiting);
      proxy.setRules([]);
      const before = proxy.log.length;
      const r = await runCli(['wait', 'quiz', '-n', waiting, '--timeout', '6s', '--interval', '1s', '-o', 'json'], { KUBECONFIG: kubeconfig });
      expect(r.code, r.stderr).toBe(1);
      const log = proxy.log.slice(before).map((l) => decodeURIComponent(l.path));
      // Each round starts with the GET of the StatefulSet.
      const starts = log.map((p, i) => (p.startsWith(`/apis/apps/v1/namespaces/${waiting}/statefulsets/quiz`) ? i : -1)).filter((i) => i >= 0);
      expect(starts.length).toBeGreaterThanOrEqual(3);
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
