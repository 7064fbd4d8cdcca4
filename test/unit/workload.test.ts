// The workload rules (crash-loop, probe-failing, container-config-error, scale-down-blocked,
// rollout-stuck) on snapshots recorded from the real control plane by test/e2e/workload.test.ts
// (STS_DOCTOR_RECORD=1), and the same snapshots reworded as other Kubernetes versions write the
// messages, or edited into the neighbouring cases (a Ready pod, Parallel, OnDelete, a partition).
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { explainExit } from '../../src/rules/crash-loop.js';
import { parseMissing } from '../../src/rules/container-config-error.js';
import { describeProbe, parseProbeMessage } from '../../src/rules/probe-failing.js';
import type { Finding } from '../../src/rules/types.js';
import type { Pod, Snapshot } from '../../src/snapshot/types.js';
import { diagnoseFixture, loadFixture, rewordEvents } from './fixtures.js';

function one(findings: Finding[], rule: string): Finding {
  const f = findings.filter((x) => x.rule === rule);
  expect(f, findings.map((x) => `${x.rule}:${x.subject.name}`).join(' ')).toHaveLength(1);
  return f[0]!;
}
const none = (findings: Finding[], rule: string): void => {
  expect(findings.filter((x) => x.rule === rule).map((x) => x.subject.name)).toEqual([]);
};
const pod = (s: Snapshot, name: string): Pod => s.pods.find((p) => p.metadata.name === name)!;
const container = (p: Pod, name: string) => p.status!.containerStatuses!.find((c) => c.name === name)!;

/** Makes a recorded pod Running and Ready (as the kubelet reports it once its containers are ready). */
function makeReady(p: Pod): void {
  p.status!.phase = 'Running';
  for (const c of p.status!.conditions ?? []) if (c.type === 'Ready' || c.type === 'ContainersReady') Object.assign(c, { status: 'True', reason: undefined, message: undefined });
  for (const c of p.status!.containerStatuses ?? []) {
    c.ready = true;
    c.state = { running: { startedAt: p.status!.startTime } };
  }
}
/** Makes a recorded pod Running but not Ready (a failing readiness probe). */
function makeNotReady(p: Pod): void {
  for (const c of p.status!.conditions ?? []) if (c.type === 'Ready' || c.type === 'ContainersReady') Object.assign(c, { status: 'False', reason: 'ContainersNotReady' });
  p.status!.containerStatuses![0]!.ready = false;
}

describe('crash-loop (recorded: mongo OOM-killed, CrashLoopBackOff)', () => {
  it('names the container, the OOM kill, the restarts, and quotes BackOff and lastState', async () => {
    const d = await diagnoseFixture('workload-crash-loop');
    const f = one(d.findings, 'crash-loop');
    expect(f.subject.name).toBe('quiz-0');
    expect(f.details).toMatchObject({ container: 'mongo', exitCode: 137, lastReason: 'OOMKilled', oomKilled: true });
    expect(f.details!.restartCount).toBeGreaterThanOrEqual(1);
    expect(f.evidence.find((e) => e.label === 'status.containerStatuses[mongo].state.waiting')!.text).toMatch(/^CrashLoopBackOff: back-off \d+\w* restarting failed container=mongo pod=quiz-0_/);
    expect(f.evidence.find((e) => e.label.endsWith('lastState.terminated'))!.text).toMatch(/^reason=OOMKilled exitCode=137/);
    expect(f.evidence.find((e) => e.label === 'Warning BackOff')!.text).toMatch(/^Back-off restarting failed container mongo in pod quiz-0_/);
    expect(f.evidence.find((e) => e.label === 'spec.containers[mongo].resources.limits.memory')!.text).toBe('(none)');
    expect(f.recoveries[0]!.commands![0]).toMatch(/logs quiz-0 -c mongo --previous$/);
    // quiz-api runs: nothing names it; the crash loop is the root cause, the stall its consequence.
    expect(d.findings.filter((x) => x.details?.container === 'quiz-api')).toEqual([]);
    expect(d.findings[0]).toBe(f);
    expect(d.findings.map((x) => x.rule)).toContain('ordered-ready-stall');
  });

  it('accepts the BackOff event without the container name (older kubelets)', async () => {
    const s = await loadFixture('workload-crash-loop');
    rewordEvents(s, (m) => m.replace(/^Back-off restarting failed container mongo in pod .*$/, 'Back-off restarting failed container'));
    const f = one(diagnose(s).findings, 'crash-loop');
    expect(f.evidence.find((e) => e.label === 'Warning BackOff')!.text).toBe('Back-off restarting failed container');
  });

  it('explains exit 127 (recorded) and 143 / 126 / 0 (edited)', async () => {
    const f = one((await diagnoseFixture('workload-crash-loop-exit')).findings, 'crash-loop');
    expect(f.details).toMatchObject({ exitCode: 127, lastReason: 'Error', oomKilled: false });
    expect(f.explanation).toMatch(/command was not found/);
    expect(f.evidence.some((e) => e.label.endsWith('limits.memory'))).toBe(false);
    for (const [code, words] of [[143, /SIGTERM/], [126, /not executable/], [0, /restartPolicy Always/]] as const) {
      const d = await diagnoseFixture('workload-crash-loop-exit', (s) => {
        container(pod(s, 'quiz-0'), 'mongo').lastState!.terminated!.exitCode = code;
      });
      expect(one(d.findings, 'crash-loop').explanation).toMatch(words);
    }
    expect(explainExit(139, 'Error')).toMatch(/signal 11/);
  });

  it('is silent for a Terminating pod and for a healthy StatefulSet', async () => {
    const d = await diagnoseFixture('workload-crash-loop', (s) => {
      pod(s, 'quiz-0').metadata.deletionTimestamp = s.now;
    });
    none(d.findings, 'crash-loop');
    none((await diagnoseFixture('healthy')).findings, 'crash-loop');
  });
});

describe('probe-failing (recorded: quiz-api readiness probe answers 503)', () => {
  it('names the probe, quotes Unhealthy and the probe definition, and ranks before ordered-ready-stall', async () => {
    const d = await diagnoseFixture('workload-probe-failing');
    const f = one(d.findings, 'probe-failing');
    expect(f.subject.name).toBe('quiz-0');
    expect(f.details).toMatchObject({ container: 'quiz-api', probe: 'readiness', output: 'HTTP probe failed with statuscode: 503', probeDefined: true });
    expect(f.evidence.find((e) => e.label === 'Warning Unhealthy')!.text).toBe('Readiness probe failed: HTTP probe failed with statuscode: 503');
    expect(f.evidence.find((e) => e.label === 'spec.containers[quiz-api].readinessProbe')!.text).toBe('httpGet http://:8080/healthz/ready period=10s timeout=1s failureThreshold=3');
    const rules = d.findings.map((x) => x.rule);
    expect(rules.indexOf('probe-failing')).toBeLessThan(rules.indexOf('ordered-ready-stall'));
    expect(one(d.findings, 'ordered-ready-stall').details).toMatchObject({ blocker: 'quiz-0', missingOrdinals: [1, 2] });
  });

  it('reads the "errored" forms of 1.29+ and of older kubelets', async () => {
    for (const wording of ['Readiness probe errored and resulted in unknown state: rpc error: code = Unknown desc = timeout', 'Readiness probe errored: rpc error: code = Unknown desc = timeout']) {
      const s = await loadFixture('workload-probe-failing');
      rewordEvents(s, (m) => (m.startsWith('Readiness probe failed') ? wording : m));
      const f = one(diagnose(s).findings, 'probe-failing');
      expect(f.details).toMatchObject({ probe: 'readiness', output: 'rpc error: code = Unknown desc = timeout' });
    }
  });

  it('reports a liveness failure of a restarted container, with "(not defined)" when the spec has no such probe', async () => {
    const s = await loadFixture('workload-probe-failing');
    rewordEvents(s, (m) => m.replace(/^Readiness probe failed/, 'Liveness probe failed'));
    container(pod(s, 'quiz-0'), 'quiz-api').restartCount = 2;
    const f = one(diagnose(s).findings, 'probe-failing');
    expect(f.details).toMatchObject({ probe: 'liveness', restartCount: 2, probeDefined: false });
    expect(f.evidence.find((e) => e.label === 'spec.containers[quiz-api].livenessProbe')!.text).toBe('(not defined in the pod spec)');
  });

  it('is silent once the container is ready again', async () => {
    const d = await diagnoseFixture('workload-probe-failing', (s) => makeReady(pod(s, 'quiz-0')));
    none(d.findings, 'probe-failing');
  });

  it('parses and describes probes', () => {
    expect(parseProbeMessage('Startup probe failed: dial tcp 10.0.0.1:8080: connect: connection refused')).toEqual({ probe: 'startup', output: 'dial tcp 10.0.0.1:8080: connect: connection refused' });
    expect(parseProbeMessage('Back-off restarting failed container')).toBeUndefined();
    expect(describeProbe({ exec: { command: ['mongosh', '--eval', 'db.ping()'] }, periodSeconds: 5 })).toBe('exec ["mongosh","--eval","db.ping()"] period=5s timeout=1s failureThreshold=3');
  });
});

describe('container-config-error (recorded: CreateContainerConfigError, FailedMount)', () => {
  it('names the missing ConfigMap, the container and the envFrom reference', async () => {
    const d = await diagnoseFixture('workload-config-error');
    const f = one(d.findings, 'container-config-error');
    expect(f.details).toMatchObject({ container: 'quiz-api', reason: 'CreateContainerConfigError', missing: { kind: 'ConfigMap', name: 'quiz-config' } });
    expect(f.evidence.find((e) => e.label === 'Warning Failed')!.text).toBe('Error: configmap "quiz-config" not found');
    expect(f.evidence.find((e) => e.type === 'spec')).toMatchObject({ label: 'spec.containers[quiz-api].envFrom[0].configMapRef', text: 'name=quiz-config' });
    expect(f.recoveries[0]!.commands![0]).toMatch(/create configmap quiz-config/);
    expect(d.findings[0]).toBe(f);
    // mongo was started by the kubelet: only quiz-api is named.
    expect(d.findings.filter((x) => x.rule === 'container-config-error').map((x) => x.details?.container)).toEqual(['quiz-api']);
  });

  it('reads the API server wording (configmaps "x" not found), missing keys and Secrets', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['configmaps "quiz-config" not found', { kind: 'ConfigMap', name: 'quiz-config' }],
      ["couldn't find key MONGODB_URI in ConfigMap NS/quiz-config", { kind: 'ConfigMap', name: 'quiz-config', key: 'MONGODB_URI' }],
      ['secret "quiz-credentials" not found', { kind: 'Secret', name: 'quiz-credentials' }],
    ];
    for (const [text, missing] of cases) {
      const s = await loadFixture('workload-config-error');
      const words = text.replace('NS', s.namespace);
      rewordEvents(s, (m) => m.replace('configmap "quiz-config" not found', words));
      container(pod(s, 'quiz-0'), 'quiz-api').state!.waiting!.message = words;
      const f = one(diagnose(s).findings, 'container-config-error');
      expect(f.details!.missing).toEqual(missing);
    }
    expect(parseMissing('secrets "db" not found')).toEqual({ kind: 'Secret', name: 'db' });
    expect(parseMissing('failed to create containerd task')).toBeUndefined();
  });

  it('reports a runtime refusal (CreateContainerError) without inventing a missing object', async () => {
    const d = await diagnoseFixture('workload-config-error', (s) => {
      const w = container(pod(s, 'quiz-0'), 'quiz-api').state!.waiting!;
      w.reason = 'CreateContainerError';
      w.message = 'failed to generate container spec: failed to apply OCI options: no such file or directory';
      s.events = s.events.filter((e) => e.reason !== 'Failed');
    });
    const f = one(d.findings, 'container-config-error');
    expect(f.details).toMatchObject({ reason: 'CreateContainerError' });
    expect(f.details!.missing).toBeUndefined();
    expect(f.summary).toMatch(/the runtime refused it/);
  });

  it('FailedMount: names the volume and the ConfigMap; the pod is ContainerCreating', async () => {
    const d = await diagnoseFixture('workload-mount-error');
    const f = one(d.findings, 'container-config-error');
    expect(f.details).toMatchObject({ reason: 'FailedMount', volume: 'config', missing: { kind: 'ConfigMap', name: 'quiz-config' } });
    expect(f.evidence.find((e) => e.label === 'Warning FailedMount')!.text).toBe('MountVolume.SetUp failed for volume "config" : configmap "quiz-config" not found');
    expect(f.evidence.some((e) => e.label === 'spec.volumes[config].configMap' && e.text === 'name=quiz-config')).toBe(true);
    expect(d.statefulSets[0]!.table[0]!.status).toBe('ContainerCreating');
  });

  it('FailedMount of a Secret volume (reworded), and nothing once the pod runs', async () => {
    const s = await loadFixture('workload-mount-error');
    rewordEvents(s, (m) => m.replace('configmap "quiz-config" not found', 'secret "quiz-tls" not found'));
    expect(one(diagnose(s).findings, 'container-config-error').details!.missing).toEqual({ kind: 'Secret', name: 'quiz-tls' });
    const d = await diagnoseFixture('workload-mount-error', (x) => makeReady(pod(x, 'quiz-0')));
    none(d.findings, 'container-config-error');
  });
});

describe('scale-down-blocked (recorded: replicas 3 → 2 while quiz-0 is not Ready)', () => {
  it('names the pod the controller waits on and the condemned pod', async () => {
    const d = await diagnoseFixture('workload-scale-down-blocked');
    const f = one(d.findings, 'scale-down-blocked');
    expect(f.subject.name).toBe('quiz-0');
    expect(f.details).toMatchObject({ waitingOn: 'quiz-0', waitingOnIs: 'kept', condemned: ['quiz-2'], replicas: 2 });
    expect(f.evidence.find((e) => e.label === 'spec.replicas')!.text).toBe('2');
    expect(f.evidence.some((e) => e.object.name === 'quiz-2' && /condemned/.test(e.text))).toBe(true);
    // quiz-2 is Ready: sts-doctor does not offer to delete it (delete-pod is for stuck pods); the kubectl command is there.
    expect(f.recoveries.filter((r) => r.automated)).toEqual([]);
    expect(f.recoveries.find((r) => r.title.includes('quiz-2'))!.commands).toEqual([expect.stringContaining('delete pod quiz-2')]);
    // The failing probe is the cause and ranks first.
    const rules = d.findings.map((x) => x.rule);
    expect(rules.indexOf('probe-failing')).toBeLessThan(rules.indexOf('scale-down-blocked'));
  });

  it('is silent when quiz-0 is Ready (the controller deletes quiz-2), under Parallel, or while quiz-2 terminates', async () => {
    none((await diagnoseFixture('workload-scale-down-blocked', (s) => makeReady(pod(s, 'quiz-0')))).findings, 'scale-down-blocked');
    none((await diagnoseFixture('workload-scale-down-blocked', (s) => (s.statefulSets[0]!.spec.podManagementPolicy = 'Parallel'))).findings, 'scale-down-blocked');
    none((await diagnoseFixture('workload-scale-down-blocked', (s) => (pod(s, 'quiz-2').metadata.deletionTimestamp = s.now))).findings, 'scale-down-blocked');
  });

  it('monotonic: an unhealthy condemned pod above the first unhealthy one blocks', async () => {
    const d = await diagnoseFixture('workload-scale-down-blocked', (s) => {
      s.statefulSets[0]!.spec.replicas = 1;
      makeReady(pod(s, 'quiz-0'));
      makeNotReady(pod(s, 'quiz-1'));
      makeNotReady(pod(s, 'quiz-2'));
    });
    const f = one(d.findings, 'scale-down-blocked');
    expect(f.details).toMatchObject({ waitingOn: 'quiz-1', waitingOnIs: 'condemned', condemned: ['quiz-1', 'quiz-2'], replicas: 1 });
    // The highest condemned pod being the first unhealthy one: it may be deleted, no block.
    const ok = await diagnoseFixture('workload-scale-down-blocked', (s) => {
      s.statefulSets[0]!.spec.replicas = 1;
      makeReady(pod(s, 'quiz-0'));
      makeNotReady(pod(s, 'quiz-2'));
    });
    none(ok.findings, 'scale-down-blocked');
  });
});

describe('rollout-stuck (recorded: kubernetes#67250, quiz-2 stuck on the broken middle revision)', () => {
  it('names quiz-2, its revision, and the current and update revisions; proposes delete-pod and rollback', async () => {
    const s = await loadFixture('workload-rollout-stuck');
    const st = s.statefulSets[0]!.status!;
    const rev = pod(s, 'quiz-2').metadata.labels!['controller-revision-hash']!;
    expect(new Set([st.currentRevision, st.updateRevision, rev]).size).toBe(3);
    const d = diagnose(s);
    const f = one(d.findings, 'rollout-stuck');
    expect(f.subject.name).toBe('quiz-2');
    expect(f.details).toMatchObject({ pod: 'quiz-2', podRevision: rev, currentRevision: st.currentRevision, updateRevision: st.updateRevision, revisionKind: 'intermediate', strategy: 'RollingUpdate', reason: 'ImagePullBackOff' });
    expect(f.explanation).toMatch(/67250/);
    // The template was fixed after the broken revision: delete-pod, not a rollback (issue 7, case 1).
    expect(f.recoveries.map((r) => r.id)).toEqual(['delete-pod', 'manual']);
    expect(f.recoveries[0]!.target).toMatchObject({ kind: 'Pod', name: 'quiz-2' });
    expect(f.evidence.find((e) => e.label === 'metadata.labels[controller-revision-hash]')!.text).toBe(rev);
    // The image-pull finding is the cause of the stuck pod and comes first.
    const rules = d.findings.map((x) => x.rule);
    expect(rules.indexOf('image-pull')).toBeLessThan(rules.indexOf('rollout-stuck'));
  });

  it('OnDelete: says the controller never deletes; a partition above the ordinal: recreated from currentRevision', async () => {
    const onDelete = one((await diagnoseFixture('workload-rollout-stuck', (s) => (s.statefulSets[0]!.spec.updateStrategy = { type: 'OnDelete' }))).findings, 'rollout-stuck');
    expect(onDelete.details).toMatchObject({ strategy: 'OnDelete' });
    expect(onDelete.explanation).toMatch(/never deletes a pod/);
    const s = await loadFixture('workload-rollout-stuck');
    s.statefulSets[0]!.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 3 } };
    const f = one(diagnose(s).findings, 'rollout-stuck');
    expect(f.details).toMatchObject({ partition: 3 });
    expect(f.explanation).toMatch(/below the partition/);
    expect(f.recoveries[0]!.description).toContain(s.statefulSets[0]!.status!.currentRevision!);
  });

  it('counts the partition from ordinals.start', async () => {
    const s = await loadFixture('workload-rollout-stuck');
    // Ordinals 1..3 (quiz-3 missing); quiz-2 has index 1, below a partition of 2, though its ordinal is not.
    s.statefulSets[0]!.spec.ordinals = { start: 1 };
    s.statefulSets[0]!.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
    const f = one(diagnose(s).findings, 'rollout-stuck');
    expect(f.details).toMatchObject({ pod: 'quiz-2', ordinal: 2, partition: 2 });
    expect(f.explanation).toMatch(/below the partition/);
    s.statefulSets[0]!.spec.ordinals = { start: 0 };
    expect(one(diagnose(s).findings, 'rollout-stuck').explanation).not.toMatch(/below the partition/);
  });

  it('is silent when the revisions agree, when quiz-2 is Ready, and under Parallel (the controller deletes the stale pod)', async () => {
    none((await diagnoseFixture('workload-rollout-stuck', (s) => makeReady(pod(s, 'quiz-2')))).findings, 'rollout-stuck');
    none((await diagnoseFixture('workload-rollout-stuck', (s) => (s.statefulSets[0]!.spec.podManagementPolicy = 'Parallel'))).findings, 'rollout-stuck');
  });

  it('Parallel: an unhealthy pod already on the update revision blocks', async () => {
    const d = await diagnoseFixture('workload-rollout-stuck', (s) => {
      s.statefulSets[0]!.spec.podManagementPolicy = 'Parallel';
      pod(s, 'quiz-2').metadata.labels!['controller-revision-hash'] = s.statefulSets[0]!.status!.updateRevision!;
    });
    const f = one(d.findings, 'rollout-stuck');
    expect(f.details).toMatchObject({ pod: 'quiz-2', revisionKind: 'update' });
    // On the update revision, deleting it recreates the same broken pod: a rollback to the revision pods were Ready on.
    expect(f.recoveries.map((r) => r.id)).toEqual(['rollback', 'manual']);
    expect(f.recoveries[0]!.offer).toMatchObject({ action: 'rollback', toRevision: { name: f.details!.currentRevision, revision: 1 }, deletePods: [{ name: 'quiz-2' }] });
  });

  it('a reverted template (updateRevision = currentRevision) with a pod still on the bad revision is a stuck rollout (kubernetes#67250)', async () => {
    const d = await diagnoseFixture('workload-rollout-stuck', (s) => (s.statefulSets[0]!.status!.currentRevision = s.statefulSets[0]!.status!.updateRevision));
    const f = one(d.findings, 'rollout-stuck');
    expect(f.details).toMatchObject({ pod: 'quiz-2', reverted: true });
    expect(f.summary).toMatch(/reverted/);
    expect(f.recoveries[0]).toMatchObject({ id: 'delete-pod', offer: { pod: { name: 'quiz-2' } } });
  });
});

describe('image-pull variants (recorded)', () => {
  it('unauthorized: cause, and the absent imagePullSecrets quoted', async () => {
    const f = one((await diagnoseFixture('workload-image-pull-unauthorized')).findings, 'image-pull');
    expect(f.details).toMatchObject({ container: 'mongo', cause: 'unauthorized', imagePullSecrets: [] });
    expect(f.evidence.find((e) => e.label === 'spec.imagePullSecrets')!.text).toBe('(none)');
  });

  it('unreachable: cause, quoting the DNS failure', async () => {
    const f = one((await diagnoseFixture('workload-image-pull-unreachable')).findings, 'image-pull');
    expect(f.details).toMatchObject({ container: 'mongo', cause: 'unreachable' });
    expect(f.evidence.some((e) => e.text.includes('dial tcp: lookup registry-1.docker.io: no such host'))).toBe(true);
  });
});
