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
  it('quiz healthy beside 2,000 events and 300 PVs: nodes and PVs by name, at most 18 requests, under 1 MiB received, at most 8 connections', async () => {
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as Diagnosis;
    expect(d.statefulSets[0]!.healthy).toBe(true);
    const log = proxy.log.slice(before);
    expect(d.source).toMatchObject({ type: 'cluster', requests: log.length });
    // Nodes and PVs by name: one GET per node of the pods and per PV of the claims, and the PV
    // Table (one row per PV, no objects); no LIST of nodes, PVs or attachments.
    const paths = log.map((l) => decodeURIComponent(l.path));
    const nodes = new Set(d.statefulSets[0]!.table.map((r) => r.node));
    expect(paths.filter((p) => p.startsWith('/api/v1/nodes/')).sort()).toEqual([...nodes].map((n) => `/api/v1/nodes/${n}`).sort());
    expect(paths.filter((p) => /^\/api\/v1\/persistentvolumes\/[^?]+$/.test(p))).toHaveLength(3);
    expect(paths.filter((p) => p.startsWith('/api/v1/persistentvolumes?'))).toEqual([expect.stringContaining('includeObject=None')]);
    expect(paths.filter((p) => /^\/api\/v1\/nodes(\?|$)|volumeattachments(\?|$)/.test(p))).toEqual([]);
    expect(log.length).toBe(10 + nodes.size + 3 + 1);
    // The namespace's events are never listed whole: only the StatefulSet's, by involvedObject.
    const events = log.filter((l) => l.path.startsWith(`/api/v1/namespaces/${ns}/events`));
    expect(events).toHaveLength(1);
    expect(decodeURIComponent(events[0]!.path)).toContain('fieldSelector=involvedObject.kind=StatefulSet,involvedObject.name=quiz');
    expect(proxy.bytes()).toBeLessThan(2 ** 20);
    expect(proxy.connections()).toBeLessThanOrEqual(8);
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
});
