// End to end: `sts-doctor rollout` on the real control plane. The real StatefulSet controller
// does the partitioned update; the kubelet-side failures of a bad revision come from the KWOK
// fault stages (test/cluster/stages), selected by a template label that the bad change adds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getJson, kubeconfigPath, kubectl, repoRoot, temporaryDir, waitFor } from '../scenarios/cluster.mjs';
import { FAULT_LABEL, deployQuiz, isReady, quizPods, waitHealthy } from '../scenarios/quiz.mjs';
import { runCli, testNamespaces, type CliResult } from './helpers.js';
import type { RolloutReport } from '../../src/rollout/report.js';
import { runRollout } from '../../src/commands/rollout.js';
import type { RecoverIO } from '../../src/commands/recover.js';
import type { Prompter } from '../../src/ui/prompter.js';

const namespaces = testNamespaces();
const work = temporaryDir('sts-doctor-rollout-');
const ANNOTATION = 'sts-doctor.io/rollout';

/** The StatefulSet quiz. */
const sts = (ns: string) => getJson(['-n', ns, 'statefulset', 'quiz']);

/** uid and resourceVersion of the StatefulSet and every pod of quiz. */
function versions(ns: string): Record<string, string> {
  const out: Record<string, string> = {};
  const s = sts(ns);
  out['statefulset/quiz'] = `${s.metadata.uid}@${s.metadata.resourceVersion}`;
  for (const [name, p] of Object.entries(quizPods(ns))) out[`pod/${name}`] = `${(p as { metadata: { uid: string; resourceVersion: string } }).metadata.uid}@${(p as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`;
  return out;
}

/** A strategic merge patch file: a new mongo image and a fault label on the template. */
function badPatch(name: string, labels: Record<string, string>, image: string): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, JSON.stringify({ spec: { template: { metadata: { labels }, spec: { containers: [{ name: 'mongo', image }] } } } }));
  return file;
}

function report(r: CliResult): RolloutReport {
  try {
    return JSON.parse(r.stdout) as RolloutReport;
  } catch {
    throw new Error(`not a JSON report (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** The CLI in the background, for a test that acts while it runs. */
function startCli(args: string[]): { child: ChildProcess; done: Promise<CliResult>; stderr: () => string } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sts-doctor.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/** Seconds between two RFC 3339 times of the report's timeline. */
const secs = (a: string, b: string): number => (Date.parse(b) - Date.parse(a)) / 1000;

/** The abort timeline: first failure event → abort decision → rollback → healthy, in seconds. */
function timeline(r: RolloutReport): string {
  const first = r.abort?.firstFailureAt;
  const at = r.abort?.at;
  const rb = r.rollback;
  const entries = r.timeline.map((t) => `\n    [${t.seconds}s] ${t.time} ${t.event.slice(0, 140)}`).join('');
  return `${entries}\n  first failure ${first} → abort ${at} (+${first && at ? secs(first, at).toFixed(1) : '?'} s) → rollback ${rb?.started} (+${at && rb ? secs(at, rb.started).toFixed(1) : '?'} s) → healthy ${rb?.healthyAt} (+${rb?.healthyAt ? secs(rb.started, rb.healthyAt).toFixed(1) : '?'} s)`;
}

/** After a rollback: every pod Ready on `revision`, the partition back to 0, no record. */
function expectRolledBack(ns: string, revision: string, canary: string, canaryUid: string): void {
  const s = sts(ns);
  expect(s.status.updateRevision).toBe(revision);
  expect(s.spec.updateStrategy.rollingUpdate?.partition ?? 0).toBe(0);
  expect(s.metadata.annotations?.[ANNOTATION]).toBeUndefined();
  const pods = quizPods(ns);
  for (const p of Object.values(pods)) {
    expect(isReady(p)).toBe(true);
    expect((p as { metadata: { labels: Record<string, string> } }).metadata.labels['controller-revision-hash']).toBe(revision);
  }
  // The canary pod of the bad revision was replaced (kubernetes#67250 would have kept it).
  expect((pods[canary] as { metadata: { uid: string } }).metadata.uid).not.toBe(canaryUid);
}

describe('sts-doctor rollout', () => {
  it('rolls out 5 replicas with canary 1 and steps 1,50%,100%: exit 0, every pod on the new revision, Events recorded', async () => {
    const ns = namespaces.fresh('ro-good');
    await deployQuiz(ns, { replicas: 5 });
    await waitHealthy(ns, 5, 300_000);
    const from = sts(ns).status.currentRevision;
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.1', '--canary', '1', '--steps', '1,50%,100%', '--soak', '2s', '--interval', '1s', '--yes', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const r = report(res);
    expect(r.outcome).toBe('rolled-out');
    // 5 replicas: canary 1 (partition 4), 50% = 3 (partition 2), 100% (partition 0).
    expect(r.steps.map((s) => [s.partition, s.updatedReplicas, s.outcome])).toEqual([
      [4, 1, 'done'],
      [2, 3, 'done'],
      [0, 5, 'done'],
    ]);
    const s = sts(ns);
    expect(r.fromRevision).toBe(from);
    expect(s.status.currentRevision).toBe(s.status.updateRevision);
    expect(s.status.updateRevision).not.toBe(from);
    expect(r.toRevision).toBe(s.status.updateRevision);
    expect(s.metadata.annotations?.[ANNOTATION]).toBeUndefined();
    expect(s.spec.template.spec.containers.find((c: { name: string }) => c.name === 'mongo').image).toBe('mongo:5.0.1');
    for (const p of Object.values(quizPods(ns))) expect((p as { metadata: { labels: Record<string, string> } }).metadata.labels['controller-revision-hash']).toBe(s.status.updateRevision);
    const events = getJson(['-n', ns, 'events', '--field-selector', 'reason=StsDoctorRollout']).items;
    expect(events.length).toBeGreaterThanOrEqual(4); // start, two steps, finish
  }, 600_000);

  it('a bad image: aborted within one watch round of ErrImagePull, rolled back, the canary replaced, healthy: exit 1', async () => {
    const ns = namespaces.fresh('ro-image');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const from = sts(ns).status.currentRevision;
    const canaryUid = quizPods(ns)['quiz-2'].metadata.uid;
    const file = badPatch('bad-image', { [`${FAULT_LABEL}/image-pull`]: 'not-found' }, 'registry.sts-doctor.test/library/mongo:does-not-exist');
    const started = Date.now();
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--patch', file, '--soak', '5s', '--interval', '1s', '--progress-deadline', '3m', '--rollback-on-failure', '--yes', '-o', 'json']);
    const took = (Date.now() - started) / 1000;
    expect(res.code, res.stderr).toBe(1);
    const r = report(res);
    expect(r.outcome).toBe('rolled-back');
    expect(r.abort?.reason).toBe('permanent-finding');
    expect(r.abort?.finding?.rule).toBe('image-pull');
    expect(r.abort?.finding?.subject.name).toBe('quiz-2');
    expect(r.abort?.finding?.class).toEqual({ cause: 'image-not-found', permanent: true });
    expect(r.abort?.finding?.evidence.map((e) => e.text).join('\n')).toMatch(/not found/);
    // Within one watch round (1 s) plus a read after the kubelet's first ErrImagePull event (event times have 1 s resolution).
    expect(secs(r.abort!.firstFailureAt!, r.abort!.at)).toBeLessThan(4);
    expect(r.rollback).toMatchObject({ toRevision: from, deletedPods: ['quiz-2'], healthy: true });
    expectRolledBack(ns, from, 'quiz-2', canaryUid);
    console.log(`bad image: ${timeline(r)}; whole run ${took.toFixed(1)} s (a helm --atomic style wait: the configured --progress-deadline, 180 s, before any rollback)`);
  }, 600_000);

  it('a crash-looping new revision under OrderedReady: aborted at once, rolled back, healthy: exit 1', async () => {
    const ns = namespaces.fresh('ro-crash');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const from = sts(ns).status.currentRevision;
    const canaryUid = quizPods(ns)['quiz-2'].metadata.uid;
    const file = badPatch('crash', { [`${FAULT_LABEL}/crash-loop`]: '1' }, 'mongo:5.0.2');
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--patch', file, '--soak', '5s', '--interval', '1s', '--progress-deadline', '3m', '--rollback-on-failure', '--yes', '-o', 'json']);
    expect(res.code, res.stderr).toBe(1);
    const r = report(res);
    expect(r.abort?.finding?.rule).toBe('crash-loop');
    expect(r.abort?.finding?.class).toEqual({ cause: 'crash-loop', permanent: true });
    expect(secs(r.abort!.firstFailureAt!, r.abort!.at)).toBeLessThan(4);
    expect(r.rollback).toMatchObject({ toRevision: from, deletedPods: ['quiz-2'], healthy: true });
    expectRolledBack(ns, from, 'quiz-2', canaryUid);
    console.log(`crash loop: ${timeline(r)} (a helm --atomic style wait: the configured --progress-deadline, 180 s)`);
  }, 600_000);

  it('a concurrent kubectl set image during the soak: exit 3, nothing more written', async () => {
    const ns = namespaces.fresh('ro-race');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const audit = join(work, `${ns}.audit`);
    const run = startCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.3', '--soak', '120s', '--interval', '1s', '--yes', '-o', 'json', '--audit-log', audit]);
    // The canary soaks: quiz-2 Ready on the new revision.
    await waitFor('the canary quiz-2 Ready on the new revision', () => {
      const s = sts(ns);
      const p = quizPods(ns)['quiz-2'];
      return s.status.updateRevision !== s.status.currentRevision && p?.metadata.labels['controller-revision-hash'] === s.status.updateRevision && isReady(p);
    });
    kubectl(['-n', ns, 'set', 'image', 'statefulset/quiz', 'mongo=mongo:6']);
    const res = await run.done;
    expect(res.code, res.stderr).toBe(3);
    const r = report(res);
    expect(r.outcome).toBe('refused');
    expect(r.message).toMatch(/changed by someone else/);
    // Nothing more written: one real write (the start), the partition still the canary's.
    const writes = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((a) => !a.dryRun);
    expect(writes.map((w) => w.method)).toEqual(['PATCH']);
    const s = sts(ns);
    expect(s.spec.updateStrategy.rollingUpdate.partition).toBe(2);
    expect(s.spec.template.spec.containers.find((c: { name: string }) => c.name === 'mongo').image).toBe('mongo:6');
  }, 600_000);

  it('killed mid-step (by its PID), then run again: it resumes from the annotation and completes', async () => {
    const ns = namespaces.fresh('ro-resume');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const args = ['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.4', '--steps', '2,100%', '--interval', '1s', '--yes', '-o', 'json'];
    const run = startCli([...args, '--soak', '120s']);
    await waitFor('the canary quiz-2 Ready on the new revision', () => {
      const s = sts(ns);
      const p = quizPods(ns)['quiz-2'];
      return s.status.updateRevision !== s.status.currentRevision && p?.metadata.labels['controller-revision-hash'] === s.status.updateRevision && isReady(p);
    });
    run.child.kill('SIGKILL');
    await run.done;
    const record = JSON.parse(sts(ns).metadata.annotations[ANNOTATION]);
    expect(record).toMatchObject({ v: 1, step: 0, partitions: [2, 1, 0], partitionBefore: 0 });
    const res = await runCli([...args, '--soak', '1s']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/resuming the rollout recorded on quiz: step 1 of 3/);
    const r = report(res);
    expect(r.resumed).toBe(true);
    expect(r.outcome).toBe('rolled-out');
    const s = sts(ns);
    expect(s.status.currentRevision).toBe(s.status.updateRevision);
    expect(s.metadata.annotations?.[ANNOTATION]).toBeUndefined();
  }, 600_000);

  it('a transient failure (registry unreachable) is waited on, not aborted, until --progress-deadline; then rolled back', async () => {
    const ns = namespaces.fresh('ro-transient');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const from = sts(ns).status.currentRevision;
    const canaryUid = quizPods(ns)['quiz-2'].metadata.uid;
    const file = badPatch('unreachable', { [`${FAULT_LABEL}/image-pull`]: 'unreachable' }, 'registry.sts-doctor.test/library/mongo:5.0.6');
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--patch', file, '--soak', '1s', '--interval', '1s', '--progress-deadline', '8s', '--rollback-on-failure', '--yes', '-o', 'json']);
    expect(res.code, res.stderr).toBe(1);
    const r = report(res);
    expect(r.abort?.reason).toBe('progress-deadline');
    expect(r.abort?.finding?.rule).toBe('image-pull');
    expect(r.abort?.finding?.class).toEqual({ cause: 'image-pulling', permanent: false });
    // Waited through the transient failure: the abort comes at the deadline (--progress-deadline 8s
    // plus --soak 1s after the step started), not at the first failure seen. (Under load the canary
    // may be recreated late, so the time from the first failure to the deadline is not bounded below.)
    expect(secs(r.steps[0]!.started!, r.abort!.at)).toBeGreaterThanOrEqual(8);
    expect(secs(r.abort!.firstFailureAt!, r.abort!.at)).toBeGreaterThanOrEqual(0);
    expect(r.rollback).toMatchObject({ toRevision: from, deletedPods: ['quiz-2'], healthy: true });
    expectRolledBack(ns, from, 'quiz-2', canaryUid);
  }, 600_000);

  it('on a terminal it shows each step and asks; declined before step 2 it stops with the record kept, and a rerun resumes', async () => {
    const ns = namespaces.fresh('ro-tty');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const shown: string[] = [];
    const questions: string[] = [];
    const prompter: Prompter = {
      interactive: true,
      chooseFinding: async () => undefined,
      chooseRecovery: async () => undefined,
      showPlan: async () => false,
      confirmPlan: async (text, c) => (shown.push(text), questions.push(c.question), questions.length === 1),
    };
    const out: string[] = [];
    const io: RecoverIO = { out: (l) => void out.push(l), err: () => undefined, prompter };
    const code = await runRollout('quiz', { kubeconfig: kubeconfigPath(), namespace: ns, image: ['mongo=mongo:5.0.7'], soak: '1s', interval: '1s' }, io);
    expect(code).toBe(130);
    expect(shown[0]).toMatch(/Plan: Start the rollout of quiz: mongo=mongo:5.0.7, canary of 1 replica/);
    expect(shown[0]).toMatch(/kubectl -n \S+ set image statefulset\/quiz mongo=mongo:5.0.7/);
    expect(questions).toEqual(['Start the rollout (partition 2)?', 'Lower the partition to 0 (3 of 3 replicas on the new revision)?']);
    expect(out.join('\n')).toMatch(/Stopped before step 2: nothing more is written/);
    expect(JSON.parse(sts(ns).metadata.annotations[ANNOTATION])).toMatchObject({ step: 0, partitions: [2, 0] });
    expect(sts(ns).spec.updateStrategy.rollingUpdate.partition).toBe(2);
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.7', '--soak', '1s', '--interval', '1s', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Rolled out: StatefulSet \S+\/quiz has 3 replicas on revision/);
  }, 600_000);

  it('refuses what it must not drive: OnDelete, another change while a rollout is recorded, no --yes without a terminal (exit 3, nothing written)', async () => {
    const ns = namespaces.fresh('ro-refuse');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const before = versions(ns);
    const noYes = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.8']);
    expect(noYes.code).toBe(3);
    expect(noYes.stdout).toMatch(/Plan: Start the rollout/);
    expect(noYes.stdout).toMatch(/without a terminal, pass --yes/);
    expect(versions(ns)).toEqual(before);
    // A record of another rollout: a different change is refused.
    const record = { v: 1, from: sts(ns).status.currentRevision, partitionBefore: 0, partitions: [2, 0], step: 0, started: new Date().toISOString() };
    kubectl(['-n', ns, 'annotate', 'statefulset', 'quiz', `${ANNOTATION}=${JSON.stringify(record)}`]);
    const other = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.9', '--yes']);
    expect(other.code).toBe(3);
    expect(other.stdout).toMatch(/Another rollout is in progress on StatefulSet quiz/);
    kubectl(['-n', ns, 'annotate', 'statefulset', 'quiz', `${ANNOTATION}-`]);
    kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } })]);
    const onDelete = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.8', '--yes']);
    expect(onDelete.code).toBe(3);
    expect(onDelete.stdout).toMatch(/updateStrategy OnDelete/);
    expect(sts(ns).spec.template.spec.containers.find((c: { name: string }) => c.name === 'mongo').image).toBe('mongo:5');
  }, 300_000);

  it('an existing partition is never lowered without --lower-partition; --from-current drives a change made with kubectl; Ctrl+C stops with exit 130 and the record kept', async () => {
    const ns = namespaces.fresh('ro-part');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=strategic', '-p', JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: 1 } } } })]);
    const from = sts(ns).status.currentRevision;
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.10', '--soak', '1s', '--interval', '1s', '--yes', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const r = report(res);
    // Partition 1 of 3: two replicas may be updated, canary first; the partition ends where it was.
    expect(r.steps.map((s) => s.partition)).toEqual([2, 1]);
    const s = sts(ns);
    expect(s.spec.updateStrategy.rollingUpdate.partition).toBe(1);
    const pods = quizPods(ns);
    expect(pods['quiz-0'].metadata.labels['controller-revision-hash']).toBe(from);
    expect(pods['quiz-1'].metadata.labels['controller-revision-hash']).toBe(s.status.updateRevision);
    expect(pods['quiz-2'].metadata.labels['controller-revision-hash']).toBe(s.status.updateRevision);

    // Someone else changes the template (the controller starts at once, partition 1); rollout drives it.
    kubectl(['-n', ns, 'set', 'image', 'statefulset/quiz', 'mongo=mongo:5.0.11']);
    const run = startCli(['rollout', 'quiz', '-n', ns, '--from-current', '--lower-partition', '--soak', '60s', '--interval', '1s', '--yes']);
    await waitFor('the record of the --from-current rollout', () => sts(ns).metadata.annotations?.[ANNOTATION]);
    // The rollback target: the revision quiz-1 and quiz-2 were Running and Ready on, not quiz-0's older one.
    expect(JSON.parse(sts(ns).metadata.annotations[ANNOTATION])).toMatchObject({ from: s.status.updateRevision, partitionBefore: 1, partitions: [2, 0], step: 0 });
    await waitFor('the canary soaking', () => /pod quiz-2: Ready/.test(run.stderr().split('step 1 written')[1] ?? ''));
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stdout).toMatch(/Interrupted at step 1 of 2: nothing more is written/);
    expect(sts(ns).metadata.annotations?.[ANNOTATION]).toBeDefined();
    const resumed = await runCli(['rollout', 'quiz', '-n', ns, '--from-current', '--lower-partition', '--soak', '1s', '--interval', '1s', '--yes']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = sts(ns);
    expect(after.spec.updateStrategy.rollingUpdate.partition).toBe(0);
    expect(after.status.currentRevision).toBe(after.status.updateRevision);
  }, 600_000);

  it('OnDelete with --on-delete: it deletes the pods itself, highest ordinal first; a bad revision is aborted and rolled back the same way', async () => {
    const ns = namespaces.fresh('ro-ondelete');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } })]);
    const audit = join(work, `${ns}.audit`);
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--on-delete', '--image', 'mongo=mongo:5.0.12', '--soak', '1s', '--interval', '1s', '--yes', '-o', 'json', '--audit-log', audit]);
    expect(res.code, res.stderr).toBe(0);
    const deletes = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((a) => !a.dryRun && a.method === 'DELETE');
    expect(deletes.map((d) => d.object.name)).toEqual(['quiz-2', 'quiz-1', 'quiz-0']);
    expect(deletes.every((d) => d.object.uid && d.object.resourceVersion)).toBe(true);
    const s = sts(ns);
    expect(s.spec.updateStrategy.type).toBe('OnDelete');
    for (const p of Object.values(quizPods(ns))) expect((p as { metadata: { labels: Record<string, string> } }).metadata.labels['controller-revision-hash']).toBe(s.status.updateRevision);
    // The controller leaves currentRevision behind under OnDelete; the pods say there is nothing to roll out.
    expect(s.status.currentRevision).not.toBe(s.status.updateRevision);
    const again = await runCli(['rollout', 'quiz', '-n', ns, '--on-delete', '--from-current', '--yes', '-o', 'json']);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toMatch(/every pod of StatefulSet quiz already runs its update revision .*: nothing to roll out/);

    const from = s.status.updateRevision;
    const canaryUid = quizPods(ns)['quiz-2'].metadata.uid;
    const file = badPatch('ondelete-bad', { [`${FAULT_LABEL}/image-pull`]: 'not-found' }, 'registry.sts-doctor.test/library/mongo:does-not-exist');
    const bad = await runCli(['rollout', 'quiz', '-n', ns, '--on-delete', '--patch', file, '--soak', '1s', '--interval', '1s', '--rollback-on-failure', '--yes', '-o', 'json']);
    expect(bad.code, bad.stderr).toBe(1);
    const r = report(bad);
    expect(r.abort?.finding?.rule).toBe('image-pull');
    expect(r.rollback).toMatchObject({ toRevision: from, deletedPods: ['quiz-2'], healthy: true });
    const after = sts(ns);
    expect(after.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    expect(after.metadata.annotations?.[ANNOTATION]).toBeUndefined();
    expect(quizPods(ns)['quiz-2'].metadata.uid).not.toBe(canaryUid);
    for (const p of Object.values(quizPods(ns))) expect(isReady(p)).toBe(true);
  }, 600_000);

  it('ordinals.start 5 (quiz-5..7): the canary is quiz-7, the partitions count from the first replica; a bad canary is rolled back, a good change rolls out', async () => {
    const ns = namespaces.fresh('ro-ordinals');
    await deployQuiz(ns, { ordinalsStart: 5 });
    await waitHealthy(ns, 3, 300_000);
    expect(Object.keys(quizPods(ns)).sort()).toEqual(['quiz-5', 'quiz-6', 'quiz-7']);
    const from = sts(ns).status.currentRevision;
    const file = badPatch('ordinals-bad', { [`${FAULT_LABEL}/image-pull`]: 'not-found' }, 'registry.sts-doctor.test/library/mongo:does-not-exist');
    const bad = await runCli(['rollout', 'quiz', '-n', ns, '--patch', file, '--soak', '1s', '--interval', '1s', '--rollback-on-failure', '--yes', '-o', 'json']);
    expect(bad.code, bad.stderr).toBe(1);
    const b = report(bad);
    expect(b.steps[0]).toMatchObject({ partition: 2, outcome: 'aborted' });
    expect(b.abort?.finding).toMatchObject({ rule: 'image-pull', subject: { kind: 'Pod', name: 'quiz-7' } });
    expect(b.rollback).toMatchObject({ toRevision: from, deletedPods: ['quiz-7'], healthy: true });
    for (const p of Object.values(quizPods(ns))) expect((p as { metadata: { labels: Record<string, string> } }).metadata.labels['controller-revision-hash']).toBe(from);

    const good = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.9', '--steps', '1,100%', '--soak', '1s', '--interval', '1s', '--yes', '-o', 'json']);
    expect(good.code, good.stderr).toBe(0);
    expect(report(good).steps.map((x) => [x.partition, x.updatedReplicas, x.outcome])).toEqual([
      [2, 1, 'done'],
      [0, 3, 'done'],
    ]);
    const s = sts(ns);
    expect(s.status.currentRevision).toBe(s.status.updateRevision);
    for (const p of Object.values(quizPods(ns))) expect(isReady(p)).toBe(true);
    expect(Object.keys(quizPods(ns)).sort()).toEqual(['quiz-5', 'quiz-6', 'quiz-7']);
  }, 600_000);

  it('--dry-run=server: every step planned and dry-run on the server; every uid and resourceVersion unchanged', async () => {
    const ns = namespaces.fresh('ro-dry');
    await deployQuiz(ns);
    await waitHealthy(ns, 3, 300_000);
    const before = versions(ns);
    const res = await runCli(['rollout', 'quiz', '-n', ns, '--image', 'mongo=mongo:5.0.5', '--steps', '1,100%', '--dry-run=server']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Start the rollout of quiz/);
    expect(res.stdout).toMatch(/Step 2 of 2/);
    expect(res.stdout).toMatch(/Dry run \(server-side, dryRun=All\)/);
    expect(res.stderr).toMatch(/"dryRun":true/);
    expect(versions(ns)).toEqual(before);
  }, 300_000);
});

describe('wait fails fast on a permanent finding', () => {
  it('an image that does not exist ends wait at once with exit 1; --no-fail-fast waits for --timeout', async () => {
    const ns = namespaces.fresh('ro-wait');
    await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/image-pull`]: 'not-found' } });
    await waitFor('quiz-0 in ErrImagePull', () => (quizPods(ns)['quiz-0']?.status?.containerStatuses ?? []).some((c: { state?: { waiting?: { reason?: string } } }) => /ErrImagePull|ImagePullBackOff/.test(c.state?.waiting?.reason ?? '')));
    let started = Date.now();
    const fast = await runCli(['wait', 'quiz', '-n', ns, '--timeout', '60s', '--interval', '1s']);
    const fastS = (Date.now() - started) / 1000;
    expect(fast.code, fast.stderr).toBe(1);
    expect(fast.stderr).toMatch(/not healthy, and it will not heal by waiting: image-pull Pod\/quiz-0: .*\(stopped after \d+ s, before --timeout; --no-fail-fast keeps waiting\)/);
    expect(fast.stdout).toMatch(/image-pull/);
    expect(fastS).toBeLessThan(10);
    started = Date.now();
    const slow = await runCli(['wait', 'quiz', '-n', ns, '--timeout', '4s', '--interval', '1s', '--no-fail-fast']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/not healthy after 4s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    console.log(`wait fail-fast: exit 1 after ${fastS.toFixed(1)} s of a 60 s --timeout`);
  }, 300_000);
});
