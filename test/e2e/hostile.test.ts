// End to end, hostile data on the real control plane (issue 8): a pod named quiz-99999999 with
// the StatefulSet's labels, adopted by the real StatefulSet controller while the set is broken,
// and an Event whose message carries terminal escape sequences, created through the real API.
import { describe, expect, it } from 'vitest';
import { apply, getJson, waitFor } from '../scenarios/cluster.mjs';
import { quizPods, scenarios } from '../scenarios/quiz.mjs';
import type { Diagnosis } from '../../src/diagnosis.js';
import { runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/;

describe('hostile data on the real control plane', () => {
  it('an adopted pod quiz-99999999 on a broken set: diagnosed in seconds, one row, the stall still named', async () => {
    const { ns } = await namespaces.scenario(scenarios, 'ordered-ready-stall');
    // An orphan with the StatefulSet's labels and a name of its form: the controller adopts it
    // (ControllerRefManager), and, as the set is not healthy, does not delete it.
    apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'quiz-99999999', namespace: ns, labels: { app: 'quiz' } },
        spec: { containers: [{ name: 'quiz-api', image: 'luksa/quiz-api:0.1' }] },
      },
    ]);
    await waitFor('quiz-99999999 adopted by StatefulSet quiz', () => quizPods(ns)['quiz-99999999']?.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'StatefulSet'));

    const started = Date.now();
    const res = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    const elapsed = Date.now() - started;
    expect(res.code, res.stderr).toBe(1);
    // Before bounded tables this ran out of memory at 4 GB; a diagnosis takes well under 1 s on a
    // quiet machine, and up to about 2.5 s with the other e2e files running beside it.
    expect(elapsed).toBeLessThan(5000);
    const d = JSON.parse(res.stdout) as Diagnosis;
    expect(d.statefulSets[0]!.table.map((r) => [r.ordinal, r.exists, r.condemned])).toEqual([
      [0, true, false],
      [1, false, false],
      [2, false, false],
      [99999999, true, true],
    ]);
    expect(d.findings.find((f) => f.rule === 'ordered-ready-stall')?.details).toMatchObject({ blocker: 'quiz-0', missingOrdinals: [1, 2] });

    const t0 = Date.now();
    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(Date.now() - t0).toBeLessThan(5000); // as above: seconds, not a hang
    expect(text.stdout).toMatch(/99999999\* +quiz-99999999/);
    // wait reads the same way: one round, not healthy, exit 1 within about a second of --timeout.
    const w0 = Date.now();
    const waited = await runCli(['wait', 'quiz', '-n', ns, '--timeout', '1s', '-o', 'json']);
    expect(waited.code, waited.stderr).toBe(1);
    expect(Date.now() - w0).toBeLessThan(4000);
    expect((JSON.parse(waited.stdout) as Diagnosis).statefulSets[0]!.table).toHaveLength(4);

    // Nothing matched is exit 2 with one sentence that says where to look, never a green result.
    const missing = `${ns}-typo`;
    const notFound = await runCli(['diagnose', 'quiz', '-n', missing]);
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toMatch(new RegExp(`^sts-doctor: StatefulSet "quiz" not found in namespace "${missing}"; namespace "${missing}" does not exist; a StatefulSet named "quiz" exists in namespaces? .*"${ns}"`));
    for (const args of [
      ['wait', '-n', missing, '--timeout', '5s'],
      ['wait', '-n', ns, '-l', 'app=typo', '--timeout', '5s'],
      ['diagnose', '-A', '-l', `app=typo-${ns}`],
      ['snapshot', '-n', ns, '-l', 'app=typo'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^sts-doctor: No StatefulSet (matches -l \S+ )?in (any namespace|namespace "[\w-]+")/);
    }
    const r = await runCli(['wait', '-n', missing, '--timeout', '5s']);
    expect(r.stderr).toContain(`namespace "${missing}" does not exist`);
    // `.` and `..` never reach a URL.
    for (const args of [['diagnose', '.'], ['diagnose', 'quiz', '-n', '..']]) {
      const u = await runCli(args);
      expect(u.code).toBe(2);
      expect(u.stderr).toMatch(/must be a (Kubernetes object|namespace) name/);
    }
  });

  it('an Event message with terminal escapes, created through the API, is rendered escaped (and verbatim in JSON)', async () => {
    const { ns } = await namespaces.scenario(scenarios, 'ordered-ready-stall');
    const pod = quizPods(ns)['quiz-0'];
    const message = 'Readiness probe failed: \x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b[H✔ No problems found.\u009b31m \u202eevil';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    apply([
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `quiz-0.hostile${Date.now().toString(36)}`, namespace: ns },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'quiz-0', namespace: ns, uid: pod.metadata.uid },
        type: 'Warning',
        reason: 'Unhealthy',
        message,
        source: { component: 'kubelet', host: pod.spec.nodeName },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    ]);
    // The API server stored it as sent.
    const stored = getJson(['-n', ns, 'events', '--field-selector', 'reason=Unhealthy']).items.map((e: { message: string }) => e.message);
    expect(stored).toContain(message);

    for (const format of ['text', 'junit', 'github']) {
      const res = await runCli(['diagnose', 'quiz', '-n', ns, '-o', format]);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout, format).not.toMatch(RAW_CONTROL);
      expect(res.stdout, format).toContain('\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\x1b[H');
    }
    const json = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const d = JSON.parse(json.stdout) as Diagnosis;
    expect(d.findings.flatMap((f) => f.evidence).some((e) => e.text === message)).toBe(true);
  });
});
