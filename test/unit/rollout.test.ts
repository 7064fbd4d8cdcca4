// The pure parts of `sts-doctor rollout`: the failure classification (diagnosis.ts
// classifyFinding) over snapshots recorded from the real control plane, which findings abort a
// rollout (only those about replicas of the new revision), the steps and partitions, the
// template change, the rollout record, and the report's renderings.
import { describe, expect, it } from 'vitest';
import { classifyFinding, diagnose } from '../../src/diagnosis.js';
import { abortFinding, stepReady } from '../../src/commands/rollout.js';
import { permanentFailure } from '../../src/commands/wait.js';
import { PlanError } from '../../src/recovery/plan.js';
import { changePatch, parseImages, partitionsFor, planDeleteForUpdate, planStart, planStep, readRecord, refuseOnDelete, ROLLOUT_ANNOTATION, stepCounts, type RolloutRecord } from '../../src/rollout/plan.js';
import { renderRolloutGithub, renderRolloutJunit, renderRolloutText, type RolloutReport } from '../../src/rollout/report.js';
import type { StatefulSet } from '../../src/snapshot/types.js';
import { SnapshotView } from '../../src/snapshot/view.js';
import { loadFixture } from './fixtures.js';

describe('classifyFinding', () => {
  it.each([
    ['image-pull', 'image-pull', { cause: 'image-not-found', permanent: true }],
    ['workload-image-pull-unauthorized', 'image-pull', { cause: 'image-unauthorized', permanent: true }],
    ['workload-image-pull-unreachable', 'image-pull', { cause: 'image-pulling', permanent: false }],
    ['workload-crash-loop', 'crash-loop', { cause: 'crash-loop', permanent: true }],
    ['workload-config-error', 'container-config-error', { cause: 'config-error', permanent: true }],
    ['pod-quota', 'pod-creation-denied', { cause: 'pod-creation-denied', permanent: true }],
    ['unschedulable-cpu', 'unschedulable', { cause: 'unschedulable', permanent: true }],
    ['volume-node-affinity', 'volume-node-affinity', { cause: 'pinned-volume', permanent: true }],
    ['workload-probe-failing', 'probe-failing', { cause: 'probe-not-passing', permanent: false }],
  ])('%s: %s is %o', async (fixture, rule, expected) => {
    const d = diagnose(await loadFixture(fixture));
    const f = d.findings.find((x) => x.rule === rule);
    expect(f, d.findings.map((x) => x.rule).join(', ')).toBeDefined();
    expect(classifyFinding(f!)).toEqual(expected);
  });

  it('unschedulable only for a claim not bound yet (a freshly created replica) is transient: claim-binding', async () => {
    const d = diagnose(await loadFixture('unschedulable-cpu'));
    const f = d.findings.find((x) => x.rule === 'unschedulable')!;
    const stale = { ...f, details: { ...f.details, dominant: { category: 'unbound-claims', reason: 'pod has unbound immediate PersistentVolumeClaims', count: null } } };
    expect(classifyFinding(stale)).toEqual({ cause: 'claim-binding', permanent: false });
    expect(classifyFinding({ ...f, details: { ...f.details, waitingClaims: ['db-data-quiz-0'] } })).toEqual({ cause: 'claim-binding', permanent: false });
  });

  it('a finding that is not about a replica failing to start has no class (neither aborts nor is waited on)', async () => {
    const d = diagnose(await loadFixture('headless-missing'));
    const f = d.findings.find((x) => x.rule === 'headless-service-missing');
    expect(f).toBeDefined();
    expect(classifyFinding(f!)).toBeUndefined();
  });
});

describe('abortFinding: only replicas of the new revision abort a rollout', () => {
  it('the bad revision\'s pod (recorded: quiz-2 in ImagePullBackOff on the update revision) aborts', async () => {
    const s = await loadFixture('recovery-bad-rollout');
    const d = diagnose(s);
    const sts = s.statefulSets[0]!;
    const f = abortFinding(d, s, 'quiz', sts.status!.currentRevision!, 2);
    expect(f?.rule).toBe('image-pull');
    expect(f?.subject.name).toBe('quiz-2');
  });

  it('nothing aborts while the update revision is the one the rollout started from', async () => {
    const s = await loadFixture('recovery-bad-rollout');
    const d = diagnose(s);
    expect(abortFinding(d, s, 'quiz', s.statefulSets[0]!.status!.updateRevision!, 2)).toBeUndefined();
  });

  it('a permanent finding about a pod of the old revision does not abort', async () => {
    const s = await loadFixture('recovery-bad-rollout');
    const sts = s.statefulSets[0]!;
    // The same pod, labelled with the old revision: a failure the rollout did not cause.
    const pods = s.pods.map((p) => (p.metadata.name === 'quiz-2' ? { ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, 'controller-revision-hash': sts.status!.currentRevision! } } } : p));
    const old = { ...s, pods };
    expect(abortFinding(diagnose(old), old, 'quiz', sts.status!.currentRevision!, 2)).toBeUndefined();
  });

  it('a pod being deleted (Terminating) does not abort a rollout, nor end wait early', async () => {
    const s = await loadFixture('recovery-bad-rollout');
    const sts = s.statefulSets[0]!;
    const pods = s.pods.map((p) => (p.metadata.name === 'quiz-2' ? { ...p, metadata: { ...p.metadata, deletionTimestamp: s.now } } : p));
    const deleting = { ...s, pods };
    const d = diagnose(deleting);
    expect(d.findings.some((f) => f.rule === 'image-pull' && f.subject.name === 'quiz-2')).toBe(true);
    expect(abortFinding(d, deleting, 'quiz', sts.status!.currentRevision!, 2)).toBeUndefined();
    expect(permanentFailure(d, deleting)).toBeUndefined();
    expect(permanentFailure(diagnose(s), s)?.subject.name).toBe('quiz-2');
  });

  it('stepReady: not while the canary is not Ready; yes on a healthy set with the partition at its size', async () => {
    const bad = await loadFixture('recovery-bad-rollout');
    expect(stepReady(new SnapshotView(bad), bad.statefulSets[0]!, 2)).toBe(false);
    const good = await loadFixture('healthy');
    expect(stepReady(new SnapshotView(good), good.statefulSets[0]!, 3)).toBe(true);
    expect(stepReady(new SnapshotView(good), good.statefulSets[0]!, 0)).toBe(true);
  });
});

describe('steps and partitions', () => {
  it('canary 1, steps 1,50%,100% of 5: 1, 3, 5 replicas, partitions 4, 2, 0', () => {
    const counts = stepCounts('1,50%,100%', 1, 5);
    expect(counts).toEqual([1, 3, 5]);
    expect(partitionsFor(counts, 5)).toEqual([4, 2, 0]);
  });
  it('always ends at every updatable replica; steps that add none are dropped', () => {
    expect(stepCounts('1', 2, 3)).toEqual([2, 3]);
    expect(stepCounts('10%,20%', 1, 3)).toEqual([1, 3]);
    // An existing partition of 2 of 5: 3 may be updated; the partitions never go below 2.
    expect(partitionsFor(stepCounts('100%', 1, 3), 5)).toEqual([4, 2]);
  });
  it('refuses malformed steps and a canary of 0 or above the updatable replicas', () => {
    expect(() => stepCounts('1,x', 1, 3)).toThrow(/--steps/);
    expect(() => stepCounts('0%', 1, 3)).toThrow(/between 1% and 100%/);
    expect(() => stepCounts('100%', 0, 3)).toThrow(/--canary/);
    expect(() => stepCounts('100%', 4, 3)).toThrow(/more than the 3/);
  });
});

const sts = (annotations: Record<string, string> = {}): StatefulSet => ({
  metadata: { name: 'quiz', namespace: 'demo', uid: 'u1', resourceVersion: '42', generation: 3, annotations },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'quiz' } },
    template: { metadata: { labels: { app: 'quiz' } }, spec: { containers: [{ name: 'mongo', image: 'mongo:5' }], initContainers: [{ name: 'init', image: 'busybox' }] } },
  },
  status: { currentRevision: 'quiz-a', updateRevision: 'quiz-a' },
});

describe('the template change and the record', () => {
  it('--image merges containers by name (init containers too) into the --patch document', () => {
    expect(changePatch(sts(), parseImages(['mongo=mongo:7', 'init=busybox:2']), { spec: { template: { metadata: { labels: { a: 'b' } } } } })).toEqual({
      spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'mongo', image: 'mongo:7' }], initContainers: [{ name: 'init', image: 'busybox:2' }] } } },
    });
  });
  it('refuses an unknown container, a malformed --image and a patch of updateStrategy or metadata', () => {
    expect(() => changePatch(sts(), parseImages(['nope=x']), undefined)).toThrow(/has no container nope \(it has: mongo, init\)/);
    expect(() => parseImages(['mongo'])).toThrow(/container=image/);
    expect(() => changePatch(sts(), [], { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })).toThrow(/updateStrategy/);
    expect(() => changePatch(sts(), [], { metadata: { labels: {} } })).toThrow(/metadata/);
  });

  const record: RolloutRecord = { v: 1, from: 'quiz-a', partitionBefore: 0, partitions: [2, 0], step: 0, started: '2026-01-01T00:00:00Z' };

  it('the start is one conditional strategic merge patch: change, partition, record', () => {
    const plan = planStart(sts(), changePatch(sts(), parseImages(['mongo=mongo:7']), undefined), record, { change: 'mongo=mongo:7', kubectl: ['kubectl -n demo set image statefulset/quiz mongo=mongo:7'] });
    expect(plan.recovery).toBe('rollout');
    expect(plan.steps).toHaveLength(1);
    const call = plan.steps[0]!.call!;
    expect(call.contentType).toBe('application/strategic-merge-patch+json');
    expect(call.body).toEqual({
      spec: { template: { spec: { containers: [{ name: 'mongo', image: 'mongo:7' }] } }, updateStrategy: { rollingUpdate: { partition: 2 } } },
      metadata: { resourceVersion: '42', annotations: { [ROLLOUT_ANNOTATION]: JSON.stringify(record) } },
    });
    expect(readRecord(sts({ [ROLLOUT_ANNOTATION]: JSON.stringify(record) }))).toEqual(record);
  });

  it('OnDelete: the start and the steps write no partition (the API refuses rollingUpdate there); a pod is updated by a conditional delete', () => {
    const od: StatefulSet = { ...sts(), spec: { ...sts().spec, updateStrategy: { type: 'OnDelete' } } };
    const start = planStart(od, {}, record, { change: 'x', kubectl: [] }).steps[0]!.call!.body as Record<string, unknown>;
    expect(start.spec).toBeUndefined();
    expect((planStep(od, { ...record, step: 1 }).steps[0]!.call!.body as Record<string, unknown>).spec).toBeUndefined();
    const pod = { metadata: { name: 'quiz-2', namespace: 'demo', uid: 'p2', resourceVersion: '7', labels: { 'controller-revision-hash': 'quiz-a' } }, spec: { containers: [] } };
    const del = planDeleteForUpdate(od, pod, 'quiz-b').steps[0]!.call!;
    expect(del.method).toBe('DELETE');
    expect(del.body).toMatchObject({ preconditions: { uid: 'p2', resourceVersion: '7' } });
    expect(() => refuseOnDelete(od, false)).toThrow(/--on-delete/);
    expect(() => refuseOnDelete(od, true)).not.toThrow();
  });

  it('a step lowers the partition with the resourceVersion precondition and records the step', () => {
    const plan = planStep(sts(), { ...record, step: 1, to: 'quiz-b' });
    expect(plan.steps[0]!.call!.body).toEqual({ metadata: { resourceVersion: '42', annotations: { [ROLLOUT_ANNOTATION]: JSON.stringify({ ...record, step: 1, to: 'quiz-b' }) } }, spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
  });

  it('a record that is not one (hostile or from another version) is refused, never guessed at', () => {
    for (const bad of ['{', '{"v":2}', JSON.stringify({ ...record, step: 5 }), JSON.stringify({ ...record, partitions: [-1] }), 'x'.repeat(5000)])
      expect(() => readRecord(sts({ [ROLLOUT_ANNOTATION]: bad }))).toThrow(PlanError);
    expect(readRecord(sts())).toBeUndefined();
  });
});

describe('the rollout report', () => {
  const r: RolloutReport = {
    apiVersion: 'sts-doctor.dev/v1',
    kind: 'RolloutReport',
    statefulSet: { namespace: 'demo', name: 'quiz' },
    outcome: 'rolled-back',
    exitCode: 1,
    message: 'Aborted at step 1 of 2; rolled back.',
    resumed: false,
    steps: [
      { step: 0, partition: 2, updatedReplicas: 1, outcome: 'aborted' },
      { step: 1, partition: 0, updatedReplicas: 3, outcome: 'pending' },
    ],
    abort: { reason: 'permanent-finding', at: '2026-01-01T00:00:02Z', finding: { rule: 'image-pull', subject: { kind: 'Pod', name: 'quiz-2' }, summary: 'Pod quiz-2 cannot pull image "x\u001b[31m"', class: { cause: 'image-not-found', permanent: true }, evidence: [] } },
    rollback: { toRevision: 'quiz-a', deletedPods: ['quiz-2'], started: '2026-01-01T00:00:02Z', healthy: true },
    timeline: [],
  };
  it('text names the finding and its class; control characters are neutralised', () => {
    const t = renderRolloutText(r);
    expect(t).toMatch(/Aborted on: image-pull Pod\/quiz-2 \(image-not-found, permanent\)/);
    expect(t).not.toContain('\u001b');
  });
  it('junit fails the aborted step, skips the pending one, passes the healthy rollback', () => {
    const x = renderRolloutJunit(r);
    expect(x).toMatch(/tests="3" failures="1"/);
    expect(x).toMatch(/<failure message="Pod quiz-2 cannot pull image/);
    expect(x).toMatch(/<skipped \/>/);
    expect(x).not.toContain('\u001b');
  });
  it('github: an error for the abort and the outcome', () => {
    const g = renderRolloutGithub(r);
    expect(g).toMatch(/^::error title=sts-doctor rollout demo\/quiz::aborted on image-pull/m);
    expect(g.trim().split('\n').at(-1)).toMatch(/^::error .*Aborted at step 1/);
  });
});
