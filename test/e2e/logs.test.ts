// End to end: application logs as evidence. The log lines travel the real path, API server
// `pods/<pod>/log` → kwok's kubelet API (verified TLS) → the files a ClusterLogs names; the
// crash loop, the failing probe and the waiting init container come from the KWOK stages.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { CRASH_LINES, CURRENT_LINES, deleteLogsNamespace, logScenarios } from '../scenarios/logs.mjs';
import { LIMITED_RULES, limitedKubeconfig } from '../scenarios/reading.mjs';
import type { Diagnosis } from '../../src/diagnosis.js';
import { diagnoseJson, onlyFinding, runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces(deleteLogsNamespace);
const setUp = (name: keyof typeof logScenarios) => namespaces.scenario<Record<string, string>>(logScenarios, name);

describe.concurrent('application logs on the real control plane', () => {
  it('crash-loop quotes the crashed run (logs --previous), neutralised in text, the same offline; --no-logs leaves them out', async () => {
    const { ns, expected } = await setUp('logs-crash-loop');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = onlyFinding(diagnosis.findings, 'crash-loop');
    const log = f.evidence.find((e) => e.type === 'log');
    expect(log, JSON.stringify(f.evidence)).toMatchObject({ object: { kind: 'Pod', name: expected.pod }, label: `logs -c ${expected.container} --previous` });
    expect(log!.text.split('\n')).toEqual(CRASH_LINES);
    expect(diagnosis.gaps).toEqual([]);

    // Text: the hostile line is shown escaped, never raw.
    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout).toContain('Pod/quiz-0 logs -c mongo --previous');
    expect(text.stdout).toContain('Permission denied');
    expect(text.stdout).toContain('\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mFATAL');
    expect(text.stdout).not.toContain('\u001b');

    // The snapshot stores the excerpt: --from gives the same evidence offline.
    const dir = temporaryDir('sts-doctor-logs-snap-');
    const snap = await runCli(['snapshot', 'quiz', '-n', ns]);
    expect(snap.code, snap.stderr).toBe(0);
    writeFileSync(join(dir, 'with.yaml'), snap.stdout);
    const offline = await runCli(['diagnose', '--from', join(dir, 'with.yaml'), '-o', 'json']);
    const fo = onlyFinding((JSON.parse(offline.stdout) as Diagnosis).findings, 'crash-loop');
    expect(fo.evidence.find((e) => e.type === 'log')).toEqual(log);

    // --no-logs: no excerpt read or stored, and the gap says so.
    const bare = await runCli(['snapshot', 'quiz', '-n', ns, '--no-logs']);
    expect(bare.stdout).not.toContain('containerLogs');
    expect(bare.stdout).not.toContain('Permission denied');
    writeFileSync(join(dir, 'without.yaml'), bare.stdout);
    const d2 = JSON.parse((await runCli(['diagnose', '--from', join(dir, 'without.yaml'), '-o', 'json'])).stdout) as Diagnosis;
    expect(onlyFinding(d2.findings, 'crash-loop').evidence.filter((e) => e.type === 'log')).toEqual([]);
    expect(d2.gaps).toEqual([{ resource: 'podlogs', reason: 'absent', message: 'podlogs: not read (--no-logs)' }]);
  });

  it('pods/log forbidden: a podlogs gap, the crash-loop finding still stands (exit 1, never 2)', async () => {
    const ns = namespaces.fresh('logs-forbidden');
    await logScenarios['logs-crash-loop'].setup(ns);
    const kubeconfig = limitedKubeconfig(ns, 'no-logs', [...LIMITED_RULES, { apiGroups: [''], resources: ['events', 'resourcequotas'], verbs: ['list'] }, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] }]);
    const r = await runCli(['diagnose', 'quiz', '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout) as Diagnosis;
    const gap = d.gaps.find((g) => g.resource === 'podlogs');
    expect(gap, JSON.stringify(d.gaps)).toMatchObject({ reason: 'forbidden' });
    expect(gap!.message).toMatch(/cannot get resource "pods\/log"/);
    expect(onlyFinding(d.findings, 'crash-loop').evidence.filter((e) => e.type === 'log')).toEqual([]);
    // With pods/log allowed the same identity reads them.
    const allowed = limitedKubeconfig(ns, 'with-logs', [...LIMITED_RULES, { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]);
    const r2 = JSON.parse((await runCli(['diagnose', 'quiz', '-o', 'json'], { KUBECONFIG: allowed })).stdout) as Diagnosis;
    expect(r2.gaps.map((g) => g.resource)).not.toContain('podlogs');
    expect(onlyFinding(r2.findings, 'crash-loop').evidence.some((e) => e.type === 'log')).toBe(true);
  });

  it('probe-failing quotes what the container writes now (logs, not --previous)', async () => {
    const { ns, expected } = await setUp('logs-probe-failing');
    const { diagnosis } = await diagnoseJson(ns);
    const f = onlyFinding(diagnosis.findings, 'probe-failing');
    const log = f.evidence.find((e) => e.type === 'log');
    expect(log, JSON.stringify(f.evidence)).toMatchObject({ label: `logs -c ${expected.container}` });
    expect(log!.text).toContain('GET /healthz/ready 503: replica set not initiated');
  });

  it('init-container-stuck quotes the init container output', async () => {
    const { ns, expected } = await setUp('logs-init-container-stuck');
    const { diagnosis } = await diagnoseJson(ns);
    const f = onlyFinding(diagnosis.findings, 'init-container-stuck');
    const log = f.evidence.find((e) => e.type === 'log');
    expect(log, JSON.stringify(f.evidence)).toMatchObject({ label: `logs -c ${expected.container}` });
    expect(log!.text.split('\n')).toEqual(CURRENT_LINES);
  });
});
