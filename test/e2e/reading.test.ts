// End to end: how sts-doctor reads. Offline dumps (real `kubectl cluster-info dump` and
// `kubectl get -o yaml|json` output, `sts-doctor snapshot`), malformed dumps, scope (-A, -l,
// several StatefulSets), the request count at 3 and 50 replicas, and limited permissions (a
// ServiceAccount that may not read events, nodes, PVs or classes), all on the real control plane.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDir, clusterEnv, getJson, kubeconfigPath, kubectl, temporaryDir } from '../scenarios/cluster.mjs';
import { startFaultProxy } from '../faults/proxy.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { deployCrashingQuiz, deployScaledQuiz, dropNamespace, labelQuiz, LIMITED_RULES, limitedKubeconfig, writeKubeconfig } from '../scenarios/reading.mjs';
import { namespaceFor, runCli, type CliResult } from './helpers.js';
import type { Diagnosis } from '../../src/diagnosis.js';
import type { Finding } from '../../src/rules/types.js';

const created: string[] = [];
afterAll(() => {
  if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) for (const ns of created) dropNamespace(ns);
});

function ns(tag: string): string {
  const n = namespaceFor(`reading-${tag}`);
  created.push(n);
  return n;
}

const work = temporaryDir('sts-doctor-reading-');
function file(name: string, content: string): string {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
}

function json(r: CliResult): Diagnosis {
  if (r.code === 2 || !r.stdout.trim()) throw new Error(`sts-doctor failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Diagnosis;
}

/** Exit 2 with exactly one line on stderr, no stack trace, nothing on stdout. */
function expectOneSentence(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sts-doctor: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** What a finding says, without how sure it is. */
function gist(f: Finding): unknown {
  return { rule: f.rule, subject: f.subject, summary: f.summary, explanation: f.explanation, evidence: f.evidence, details: f.details };
}

/** Evidence claiming that a Node, PV, StorageClass or claim does not exist. */
function claimsAbsent(d: Diagnosis, kinds: string[]): string[] {
  return d.findings.flatMap((f) => f.evidence.filter((e) => e.type === 'absence' && kinds.includes(e.object.kind)).map((e) => `${f.rule}: ${e.text}`));
}

describe('offline: dumps of a real namespace (image-pull scenario)', () => {
  let nsA: string;
  beforeAll(async () => {
    nsA = ns('dump');
    await scenarios['image-pull'].setup(nsA);
  });

  it('snapshot, then diagnose --from it: the same findings, table and text as the live diagnosis', async () => {
    const snap = await runCli(['snapshot', 'quiz', '-n', nsA]);
    expect(snap.code, snap.stderr).toBe(0);
    const path = file('snapshot.yaml', snap.stdout);
    const live = json(await runCli(['diagnose', 'quiz', '-n', nsA, '-o', 'json']));
    expect(live.findings.map((f) => f.rule)).toContain('image-pull');
    const offline = json(await runCli(['diagnose', 'quiz', '--from', path, '--now', live.now, '-o', 'json']));
    expect(offline.source).toEqual({ type: 'dump', path });
    expect(offline.now).toBe(live.now);
    expect(offline.findings).toEqual(live.findings);
    expect(offline.statefulSets).toEqual(live.statefulSets);
    expect(offline.gaps).toEqual(live.gaps);
    const liveText = await runCli(['diagnose', 'quiz', '-n', nsA, '-o', 'wide']);
    // Text: the same report when judged at the same instant (ages aside; -o wide: no cell truncated to a width that depends on them).
    const t1 = await runCli(['diagnose', 'quiz', '--from', path, '--now', live.now, '-o', 'wide']);
    expect(t1.code).toBe(1);
    expect(liveText.code).toBe(1);
    const sameInstant = (t: string): string => t.replace(/\b\d+[smhd](\d+[smh])?\b/g, 'N').replace(/[ \t]+/g, ' ');
    expect(sameInstant(t1.stdout)).toBe(sameInstant(liveText.stdout));
    // Standard input works the same.
    const stdin = json(await runCli(['diagnose', '--from', '-', '--now', live.now, '-o', 'json'], {}, snap.stdout));
    expect(stdin.findings).toEqual(live.findings);
    // Without --now, ages are judged against the snapshot's own time.
    const own = json(await runCli(['diagnose', '--from', path, '-o', 'json']));
    expect(own.now).toBe(/now: "?([^"\n]+)"?/.exec(snap.stdout)![1]);
  });

  it('snapshot redacts env values and never holds Secrets; it holds every resource diagnose reads', async () => {
    kubectl(['-n', nsA, 'create', 'secret', 'generic', 'quiz-credentials', '--from-literal=password=hunter2-secret']);
    const snap = await runCli(['snapshot', 'quiz', '-n', nsA, '-o', 'json']);
    expect(snap.code).toBe(0);
    expect(snap.stdout).not.toContain('mongodb://localhost/quiz');
    expect(snap.stdout).not.toContain('hunter2');
    const list = JSON.parse(snap.stdout) as { stsDoctor: { namespace: string; gaps: unknown[]; now: string }; items: { kind: string; spec?: { template?: { spec: { containers: { env?: { value?: string }[] }[] } } } }[] };
    expect(list.stsDoctor).toMatchObject({ namespace: nsA, gaps: [] });
    const kinds = new Set(list.items.map((i) => i.kind));
    expect(kinds.has('Secret')).toBe(false);
    for (const k of ['StatefulSet', 'Pod', 'PersistentVolumeClaim', 'Event', 'Service', 'ControllerRevision', 'Node', 'PersistentVolume', 'StorageClass']) expect(kinds, k).toContain(k);
    const sts = list.items.find((i) => i.kind === 'StatefulSet')!;
    expect(sts.spec!.template!.spec.containers[0]!.env).toEqual([{ name: 'MONGODB_URI', value: '<redacted>' }]);
    expect(snap.stdout).not.toContain('last-applied-configuration');
    expect(snap.stdout).not.toContain('managedFields');
  });

  it('a real kubectl cluster-info dump: says StatefulSets are not in it; with them added, diagnoses and names what was not in the dump', async () => {
    const env = clusterEnv();
    const dir = join(work, 'cluster-info');
    const res = spawnSync(env.STS_DOCTOR_KUBECTL!, ['--kubeconfig', kubeconfigPath(), 'cluster-info', 'dump', '--namespaces', nsA, '--output-directory', dir], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expectOneSentence(await runCli(['diagnose', 'quiz', '--from', dir]), /is a kubectl cluster-info dump, which does not include StatefulSets: add them with "kubectl get statefulsets/);

    writeFileSync(join(dir, nsA, 'statefulsets.json'), kubectl(['-n', nsA, 'get', 'statefulsets', '-o', 'json']));
    const r = await runCli(['diagnose', 'quiz', '--from', dir, '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const d = json(r);
    expect(d.findings.some((f) => f.rule === 'image-pull' && f.subject.name === 'quiz-0')).toBe(true);
    // cluster-info dump has pods, events, services and nodes (even as empty lists), not the rest.
    expect(d.gaps.map((g) => [g.resource, g.reason]).sort()).toEqual(
      ['controllerrevisions', 'networkpolicies', 'persistentvolumeclaims', 'persistentvolumes', 'resourcequotas', 'storageclasses', 'volumeattachments'].map((r) => [r, 'absent']),
    );
    expect(d.statefulSets[0]!.table.map((row) => row.claims.map((c) => c.phase))).toEqual([['Unknown'], ['Unknown'], ['Unknown']]);
    expect(claimsAbsent(d, ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass', 'Node'])).toEqual([]);
    const text = await runCli(['diagnose', 'quiz', '--from', dir]);
    expect(text.stdout).toContain('Not checked (could not read):');
    expect(text.stdout).toContain('persistentvolumeclaims: not in the dump');
    expect(text.stdout).not.toMatch(/db-data-quiz-\d Missing/);
  });

  it('kubectl get ... -o yaml and -o json Lists: the same findings as the live diagnosis', async () => {
    const resources = 'statefulsets,pods,persistentvolumeclaims,events,services,controllerrevisions,resourcequotas,networkpolicies,nodes,persistentvolumes,storageclasses,volumeattachments';
    const live = json(await runCli(['diagnose', 'quiz', '-n', nsA, '-o', 'json']));
    for (const fmt of ['yaml', 'json']) {
      const path = file(`list.${fmt}`, kubectl(['-n', nsA, 'get', resources, '-o', fmt]));
      const d = json(await runCli(['diagnose', 'quiz', '--from', path, '--now', live.now, '-o', 'json']));
      expect(d.findings.map(gist), fmt).toEqual(live.findings.map(gist));
      expect(d.statefulSets, fmt).toEqual(live.statefulSets);
      // An untyped List cannot show that a resource was read and empty: those are named, never taken as missing.
      for (const g of d.gaps) expect(g.reason).toBe('absent');
    }
    // Multi-document YAML: the same objects, one per document.
    const docs = kubectl(['-n', nsA, 'get', resources, '-o', 'json']);
    const items = (JSON.parse(docs) as { items: unknown[] }).items;
    const { stringify } = await import('yaml');
    const multi = file('multi.yaml', items.map((i) => stringify(i)).join('---\n'));
    const d = json(await runCli(['diagnose', 'quiz', '--from', multi, '--now', live.now, '-o', 'json']));
    expect(d.findings.map(gist)).toEqual(live.findings.map(gist));
  });

  it('malformed and partial dumps: one sentence on stderr, exit 2', async () => {
    const good = file('good.json', kubectl(['-n', nsA, 'get', 'statefulsets,pods', '-o', 'json']));
    expectOneSentence(await runCli(['diagnose', '--from', file('bad.yaml', 'items: [a, b\nkind: {')]), /bad\.yaml: not valid YAML or JSON/);
    expectOneSentence(await runCli(['diagnose', '--from', file('bad.json', '{"kind": "List", "items": [')]), /bad\.json: not valid JSON/);
    expectOneSentence(await runCli(['diagnose', '--from', file('config.yaml', 'server:\n  port: 8080\nlogLevel: debug\n')]), /config\.yaml: expected Kubernetes objects \(with kind and metadata\), found a document without "kind"/);
    expectOneSentence(await runCli(['diagnose', '--from', file('scalar.yaml', 'just some text\n')]), /scalar\.yaml: expected Kubernetes objects/);
    expectOneSentence(await runCli(['diagnose', '--from', file('empty.yaml', '')]), /empty\.yaml: the dump is empty/);
    const emptyDir = join(work, 'empty-dir');
    mkdirSync(join(emptyDir, 'sub'), { recursive: true });
    writeFileSync(join(emptyDir, 'sub', 'notes.txt'), 'not a dump');
    expectOneSentence(await runCli(['diagnose', '--from', emptyDir]), /empty-dir: the directory holds no \.json or \.yaml files/);
    expectOneSentence(await runCli(['diagnose', '--from', join(work, 'nothing-here.yaml')]), /Cannot read dump .*nothing-here\.yaml: no such file or directory/);
    expectOneSentence(await runCli(['diagnose', 'nosuch', '--from', good]), new RegExp(`StatefulSet "nosuch" is not in the dump for namespace "${nsA}" \\(it has: quiz\\)`));
    expectOneSentence(await runCli(['diagnose', '--from', file('pods-only.json', kubectl(['-n', nsA, 'get', 'pods', '-o', 'json']))]), /the dump holds no StatefulSet/);
    // StatefulSets of two namespaces in one dump: this namespace's, and the same one as if it
    // were in a second namespace (whatever else runs on the cluster).
    const list = JSON.parse(kubectl(['-n', nsA, 'get', 'statefulsets', '-o', 'json'])) as { items: { metadata: { namespace: string } }[] };
    const twin = JSON.parse(JSON.stringify(list.items[0]!)) as { metadata: { namespace: string; uid?: string } };
    twin.metadata.namespace = `${nsA}-twin`;
    delete twin.metadata.uid;
    list.items.push(twin);
    const everywhere = file('all.json', JSON.stringify(list));
    expectOneSentence(await runCli(['diagnose', '--from', everywhere]), /The dump holds StatefulSets in several namespaces \(.*\); pass -n <namespace> or -A/);
    expectOneSentence(await runCli(['diagnose', '--now', '2026-01-01T00:00:00Z', '-n', nsA]), /--now applies only with --from/);
    expectOneSentence(await runCli(['diagnose', '--from', good, '--now', 'yesterday']), /--now must be an RFC 3339 time/);
    // With -n, the same many-namespace dump is fine.
    const r = await runCli(['diagnose', '--from', everywhere, '-n', nsA, '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(json(r).statefulSets.map((s) => `${s.namespace}/${s.name}`)).toEqual([`${nsA}/quiz`]);
  });
});

describe('scope: several StatefulSets in several namespaces', () => {
  let bad: string;
  let good: string;
  const run = `reading-${Date.now().toString(36)}`;
  beforeAll(async () => {
    bad = ns('scope-bad');
    good = ns('scope-good');
    await Promise.all([scenarios['image-pull'].setup(bad), scenarios.healthy.setup(good)]);
    labelQuiz(bad, `sts-doctor.test/run=${run}`);
    labelQuiz(good, `sts-doctor.test/run=${run}`);
  });

  it('-A -l: one Diagnosis holding both, one overview line each, findings grouped, requests independent of replicas', async () => {
    const r = await runCli(['diagnose', '-A', '-l', `sts-doctor.test/run=${run}`, '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const d = json(r);
    expect(d.namespace).toBe('*');
    expect(d.statefulSets.map((s) => [s.namespace, s.name, s.healthy])).toEqual(
      [
        [bad, 'quiz', false],
        [good, 'quiz', true],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(d.summary).toMatchObject({ statefulSets: 2, healthy: 1 });
    expect(d.findings.every((f) => f.statefulSet.namespace === bad)).toBe(true);
    expect(d.findings.some((f) => f.rule === 'image-pull')).toBe(true);
    // 1 LIST of StatefulSets in all namespaces, 4 cluster-scoped LISTs + /version, 6 LISTs per
    // namespace, and per namespace one events read for the StatefulSet and for each suspect: a pod
    // that is not Ready, a claim that is not Bound (src/snapshot/from-cluster.ts eventSubjects).
    const suspects = d.statefulSets.reduce((n, s) => n + 1 + s.table.filter((r) => r.exists && !r.ready).length + s.table.flatMap((r) => r.claims).filter((c) => !['Bound', 'Missing', 'Unknown'].includes(c.phase)).length, 0);
    expect(suspects).toBeGreaterThan(2);
    expect(d.source).toMatchObject({ type: 'cluster', requests: 1 + 5 + 6 * 2 + suspects });

    const text = await runCli(['diagnose', '--all-namespaces', '-l', `sts-doctor.test/run=${run}`]);
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS$/);
    expect(lines.find((l) => l.startsWith(good))).toMatch(new RegExp(`^${good}\\s+quiz\\s+3/3\\s+healthy$`));
    // At the default 80 columns of piped output the STATUS cell is truncated to the room left.
    expect(lines.find((l) => l.startsWith(bad))).toMatch(new RegExp(`^${bad}\\s+quiz\\s+0/3\\s+✖ image-pull: Pod quiz-0 cannot`));
    expect(text.stdout).toContain('2 StatefulSets, 1 healthy');
    expect(text.stdout).toContain(`── StatefulSet ${bad}/quiz`);
    expect(text.stdout).not.toContain(`── StatefulSet ${good}/quiz`);
    expect(text.stdout).not.toContain('ORDINAL');
  });

  it('-A snapshot read back with --from -A gives the same diagnosis; -l filters; nothing matching is exit 2', async () => {
    const snap = await runCli(['snapshot', '-A', '-l', `sts-doctor.test/run=${run}`]);
    expect(snap.code, snap.stderr).toBe(0);
    const path = file('all-namespaces.yaml', snap.stdout);
    const live = json(await runCli(['diagnose', '-A', '-l', `sts-doctor.test/run=${run}`, '-o', 'json']));
    const offline = json(await runCli(['diagnose', '-A', '--from', path, '--now', live.now, '-o', 'json']));
    expect(offline.statefulSets).toEqual(live.statefulSets);
    expect(offline.findings).toEqual(live.findings);
    expectOneSentence(await runCli(['diagnose', '--from', path]), /several namespaces .*pass -n <namespace> or -A/);
    const one = json(await runCli(['diagnose', '--from', path, '-n', good, '-o', 'json']));
    expect(one.statefulSets.map((s) => s.namespace)).toEqual([good]);

    // Nothing matched is an error (exit 2, one sentence), never a green result.
    expectOneSentence(await runCli(['diagnose', '-A', '-l', `sts-doctor.test/run=${run}-nothing`]), /No StatefulSet matches -l sts-doctor\.test\/run=\S+-nothing in any namespace\.$/);
    const nsOnly = json(await runCli(['diagnose', '-n', good, '-o', 'json']));
    expect(nsOnly.statefulSets.map((s) => s.name)).toEqual(['quiz']);
    expectOneSentence(await runCli(['diagnose', 'quiz', '-A']), /cannot be combined with -A/);
    expectOneSentence(await runCli(['diagnose', '-A', '-n', good]), /either -n\/--namespace or -A\/--all-namespaces/);
  });
});

describe('cost: the number of requests does not grow with replicas', () => {
  // 1 GET of the StatefulSet, 6 namespaced LISTs, 1 LIST of the StatefulSet's events
  // (fieldSelector involvedObject: a Ready pod's events are not read), the storage classes LIST,
  // GET /version; then nodes, PVs and attachments: with 3 replicas by name (the nodes in one LIST
  // by hostname label, one GET per PV, the PV Table, no attachment of local PVs), with 50 (more
  // than 20 PVs) the PV Table, which shows that 50 are not few beside this cluster's PVs (fewer
  // than 50 × 20: src/snapshot/from-cluster.ts pvsByName), then the 3 LISTs.
  it('quiz with 3 Ready replicas: nodes and PVs by name, 15 requests; with 50: the PV Table, then listed, 14', async () => {
    const small = ns('cost-3');
    const large = ns('cost-50');
    try {
      await Promise.all([deployScaledQuiz(small, 3), deployScaledQuiz(large, 50)]);
      const a = json(await runCli(['diagnose', 'quiz', '-n', small, '-o', 'json']));
      const b = json(await runCli(['diagnose', 'quiz', '-n', large, '-o', 'json']));
      expect(b.statefulSets[0]!.table.filter((r) => r.ready)).toHaveLength(50);
      const nodes = new Set(a.statefulSets[0]!.table.map((r) => r.node)).size;
      expect(a.source.type === 'cluster' && a.source.requests).toBe(10 + 1 + 3 + 1);
      expect(b.source.type === 'cluster' && b.source.requests).toBe(13 + 1);
      // What that count assumes: this cluster holds fewer than 1,000 PVs (the bench's holds 4,000:
      // there 50 are read by name, see npm run bench).
      expect(getJson(['pv']).items.length).toBeLessThan(50 * 20);
      // The by-name read is in the snapshot's header, and a dump of it diagnoses the same.
      const snap = await runCli(['snapshot', 'quiz', '-n', small, '-o', 'json']);
      expect(snap.code, snap.stderr).toBe(0);
      const list = JSON.parse(snap.stdout) as { stsDoctor: { scope?: unknown }; items: { kind: string }[] };
      expect(list.stsDoctor.scope).toEqual({ nodes: 'named', persistentvolumes: 'named', volumeattachments: 'named' });
      expect(list.items.filter((i) => i.kind === 'Node')).toHaveLength(nodes);
      expect(list.items.filter((i) => i.kind === 'PersistentVolume')).toHaveLength(3);
      const large50 = JSON.parse((await runCli(['snapshot', 'quiz', '-n', large, '-o', 'json'])).stdout) as { stsDoctor: { scope?: unknown } };
      expect(large50.stsDoctor.scope).toBeUndefined();
    } finally {
      // Fifty pods take node capacity every other test needs: release it now.
      if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) dropNamespace(large);
    }
  });
});

describe('cost with logs: the log reads do not grow with replicas', () => {
  // Counted through the counting proxy of the fault tests, so that what other files do to the
  // shared cluster meanwhile is told apart: a LIST's `continue=` pages (more than 500 PVs while
  // other files create theirs) and the Lease GET of a pod's node that another area has failed.
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  afterAll(() => proxy?.close());

  it('quiz with 3 and with 50 crash-looping replicas: bounded, 13 + the suspects\' events + 3 pods × 2 containers log reads', async () => {
    const small = ns('cost-crash-3');
    const large = ns('cost-crash-50');
    try {
      const upstream = /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))![1]!;
      proxy = await startFaultProxy({ clusterDir, upstream });
      const kubeconfig = proxy.kubeconfig(join(work, 'cost-crash.kubeconfig'));
      await Promise.all([deployCrashingQuiz(small, 3), deployCrashingQuiz(large, 50)]);
      const counted = async (namespace: string): Promise<{ d: Diagnosis; first: string[] }> => {
        const before = proxy!.log.length;
        const d = json(await runCli(['diagnose', 'quiz', '-n', namespace, '-o', 'json'], { KUBECONFIG: kubeconfig }));
        const log = proxy!.log.slice(before).map((l) => l.path);
        expect(d.source).toMatchObject({ type: 'cluster', requests: log.length });
        return { d, first: log.filter((p) => !/[?&]continue=/.test(p) && !p.includes('/leases/')) };
      };
      const { d: a, first: aReads } = await counted(small);
      const { d: b, first: bReads } = await counted(large);
      expect(b.findings.filter((f) => f.rule === 'crash-loop').length).toBeGreaterThanOrEqual(50);
      // 3 replicas: the namespace-wide events LIST becomes one per suspect (the StatefulSet and 3
      // not-Ready pods); 50: more than 10 suspects, so one namespace-wide LIST again, beside the
      // StatefulSet's own events, read before the pods showed the suspects. Logs: 3 pods × 2.
      // Pods that are not Ready: nodes, PVs and attachments listed whole (3 LISTs).
      // Plus the cluster DNS read when a crash-looping container happened to be Running but not
      // Ready at that moment (this cluster has no kube-dns: the read leaves an endpointslices gap).
      const dns = (d: Diagnosis): number => (d.gaps.some((g) => g.resource === 'endpointslices') ? 1 : 0);
      expect(aReads).toHaveLength(13 - 1 + (1 + 3) + 3 * 2 + dns(a));
      expect(bReads).toHaveLength(13 + 1 + 3 * 2 + dns(b));
      const logs = (reads: string[]): number => reads.filter((p) => /\/pods\/[^/]+\/log(\?|$)/.test(p)).length;
      expect([logs(aReads), logs(bReads)]).toEqual([3 * 2, 3 * 2]);
    } finally {
      if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) {
        dropNamespace(small);
        dropNamespace(large);
      }
    }
  });
});

describe('limited permissions', () => {
  let nsP: string;
  beforeAll(async () => {
    nsP = ns('rbac');
    await scenarios['pvc-unbound'].setup(nsP);
  });

  it('no events, nodes, PVs, classes: still answers, names the gaps, lowers confidence, never calls them missing', async () => {
    const kubeconfig = limitedKubeconfig(nsP, 'reader', LIMITED_RULES);
    const r = await runCli(['diagnose', 'quiz', '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(1);
    const d = json(r);
    expect(d.namespace).toBe(nsP);
    expect(d.gaps.map((g) => [g.resource, g.reason]).sort()).toEqual(
      ['events', 'networkpolicies', 'nodes', 'persistentvolumes', 'resourcequotas', 'storageclasses', 'volumeattachments'].map((x) => [x, 'forbidden']),
    );
    for (const g of d.gaps) expect(g.message).toMatch(/forbidden.*cannot list resource/);
    const f = d.findings.find((x) => x.rule === 'pvc-unbound' && x.subject.name === 'db-data-quiz-0');
    expect(f, JSON.stringify(d.findings.map((x) => x.rule))).toBeDefined();
    expect(f!.confidence).toBe('low');
    expect(f!.summary).not.toMatch(/no event explains/);
    expect(claimsAbsent(d, ['Node', 'PersistentVolume', 'StorageClass'])).toEqual([]);
    // Events could not be read: no finding quotes one.
    for (const x of d.findings) expect(x.evidence.filter((e) => e.type === 'event')).toEqual([]);

    const text = await runCli(['diagnose', 'quiz'], { KUBECONFIG: kubeconfig });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Not checked (could not read):');
    expect(text.stdout).toMatch(/events: forbidden/);
    expect(text.stdout).toContain('low confidence');
  });

  it('forbidden to read the StatefulSet, a closed port, a rejected token: one sentence, exit 2', async () => {
    const nobody = limitedKubeconfig(nsP, 'nobody', []);
    expectOneSentence(await runCli(['diagnose', 'quiz'], { KUBECONFIG: nobody }), new RegExp(`Forbidden to read StatefulSet "quiz" in namespace "${nsP}" \\(403\\): .*cannot get resource "statefulsets"`));
    expectOneSentence(await runCli(['diagnose', '-A'], { KUBECONFIG: nobody }), /Forbidden to read StatefulSets in all namespaces \(403\)/);

    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const closed = writeKubeconfig({ token: 'unused', namespace: nsP, server: `https://127.0.0.1:${port}` });
    expectOneSentence(await runCli(['diagnose', 'quiz', '--request-timeout', '5'], { KUBECONFIG: closed }), new RegExp(`Cannot reach the API server at https://127.0.0.1:${port}: connection refused \\(5 attempts\\)\\.`));

    const badToken = writeKubeconfig({ token: 'not-a-valid-token', namespace: nsP });
    expectOneSentence(await runCli(['diagnose', 'quiz'], { KUBECONFIG: badToken }), /rejected the credentials \(401 Unauthorized\)/);
  });
});
