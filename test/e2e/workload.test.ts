// End to end: workload failures of the quiz StatefulSet on the real control plane (crash loops,
// failing probes, missing configuration, a blocked scale-down, a stuck rolling update, image-pull
// variants), each in a fresh namespace; sts-doctor is run as a user runs it.
import { describe, expect, it } from 'vitest';
import { workloadScenarios } from '../scenarios/workload.mjs';
import { diagnoseJson, onlyFinding, runCli, testNamespaces } from './helpers.js';
import { getJson, kubectl, waitFor } from '../scenarios/cluster.mjs';
import type { Finding } from '../../src/rules/types.js';

type Name = keyof typeof workloadScenarios;
const namespaces = testNamespaces();
const setUp = (name: Name) => namespaces.scenario<Record<string, unknown>>(workloadScenarios, name);
const only = onlyFinding;

const rules = (findings: Finding[]): string[] => findings.map((f) => f.rule);

describe.concurrent('workload failures on the real control plane', () => {
  it('crash loop (OOMKilled): crash-loop on quiz-0 container mongo, exit 137, quoting BackOff', async () => {
    const { ns, expected } = await setUp('workload-crash-loop');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'crash-loop');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ container: 'mongo', exitCode: expected.exitCode, lastReason: 'OOMKilled', oomKilled: true });
    expect((f.details!.restartCount as number) >= 1).toBe(true);
    expect(f.summary).toMatch(/OOMKilled/);
    expect(f.evidence.some((e) => e.label.endsWith('lastState.terminated') && e.text.includes('exitCode=137'))).toBe(true);
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning BackOff' && e.text.startsWith('Back-off restarting failed container mongo in pod quiz-0'))).toBe(true);
    // quiz-api is running: no finding names it.
    expect(diagnosis.findings.every((x) => x.details?.container !== 'quiz-api')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('crash-loop');
    expect(rules(diagnosis.findings)).toContain('ordered-ready-stall');
  });

  it('crash loop (exit 127): explained as command not found', async () => {
    const { ns } = await setUp('workload-crash-loop-exit');
    const { diagnosis } = await diagnoseJson(ns);
    const f = only(diagnosis.findings, 'crash-loop');
    expect(f.details).toMatchObject({ container: 'mongo', exitCode: 127, lastReason: 'Error', oomKilled: false });
    expect(f.explanation).toMatch(/not found/);
  });

  it('probe failing: probe-failing names the readiness probe of quiz-api, before ordered-ready-stall', async () => {
    const { ns } = await setUp('workload-probe-failing');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'probe-failing');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ container: 'quiz-api', probe: 'readiness' });
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning Unhealthy' && e.text === 'Readiness probe failed: HTTP probe failed with statuscode: 503')).toBe(true);
    expect(f.evidence.some((e) => e.type === 'spec' && e.label === 'spec.containers[quiz-api].readinessProbe' && e.text.includes('httpGet'))).toBe(true);
    const stall = only(diagnosis.findings, 'ordered-ready-stall');
    expect(stall.details).toMatchObject({ blocker: 'quiz-0' });
    const order = rules(diagnosis.findings);
    expect(order.indexOf('probe-failing')).toBeLessThan(order.indexOf('ordered-ready-stall'));
  });

  it('probe fixed in the template (the book\'s readiness path change): probe-failing says so and offers delete-pod first; one CRITICAL root cause in text', async () => {
    const { ns } = await setUp('workload-probe-failing');
    const before = getJson(['-n', ns, 'statefulset', 'quiz']).status.updateRevision as string;
    const api = (getJson(['-n', ns, 'statefulset', 'quiz']).spec.template.spec.containers as { name: string }[]).findIndex((c) => c.name === 'quiz-api');
    kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/spec/template/spec/containers/${api}/readinessProbe/httpGet/path`, value: '/healthz/live' }])]);
    // The controller records the new template as a new update revision; quiz-0 (never Ready) is not replaced.
    await waitFor('a new update revision', () => getJson(['-n', ns, 'statefulset', 'quiz']).status.updateRevision !== before, 60_000);
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'probe-failing');
    expect(f.summary).toMatch(/the template already has another readiness probe/);
    expect(f.recoveries[0]!.offer).toMatchObject({ action: 'delete-pod', pod: { name: 'quiz-0' } });
    expect(f.recoveries.map((r) => r.title).join('\n')).not.toMatch(/Fix the application or the readiness probe/);
    expect(f.evidence.some((e) => e.object.kind === 'StatefulSet' && e.text.includes('/healthz/live'))).toBe(true);
    expect(only(diagnosis.findings, 'ordered-ready-stall').causedBy).toMatchObject({ rule: 'probe-failing', subject: { name: 'quiz-0' } });
    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout.match(/CRITICAL/g)).toHaveLength(1);
    expect(text.stdout).not.toMatch(/fix the readiness probe/i);
  });

  it('config error: container-config-error names ConfigMap quiz-config and container quiz-api', async () => {
    const { ns } = await setUp('workload-config-error');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'container-config-error');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ container: 'quiz-api', reason: 'CreateContainerConfigError', missing: { kind: 'ConfigMap', name: 'quiz-config' } });
    expect(f.evidence.some((e) => e.label.endsWith('state.waiting') && e.text === 'CreateContainerConfigError: configmap "quiz-config" not found')).toBe(true);
    expect(f.evidence.some((e) => e.type === 'event' && e.text === 'Error: configmap "quiz-config" not found')).toBe(true);
    expect(f.evidence.some((e) => e.type === 'spec' && e.text.includes('quiz-config'))).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('container-config-error');
  });

  it('mount error: container-config-error from FailedMount, volume config, pod ContainerCreating', async () => {
    const { ns } = await setUp('workload-mount-error');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'container-config-error');
    expect(f.details).toMatchObject({ reason: 'FailedMount', volume: 'config', missing: { kind: 'ConfigMap', name: 'quiz-config' } });
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning FailedMount' && e.text === 'MountVolume.SetUp failed for volume "config" : configmap "quiz-config" not found')).toBe(true);
    expect(diagnosis.statefulSets[0]!.table[0]!.status).toBe('ContainerCreating');
  });

  it('scale-down blocked: quiz-2 kept while the controller waits on quiz-0; released once quiz-0 is Ready', async () => {
    const { ns, expected } = await setUp('workload-scale-down-blocked');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'scale-down-blocked');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: expected.waitingOn });
    expect(f.details).toMatchObject({ waitingOn: 'quiz-0', condemned: ['quiz-2'], replicas: 2 });
    expect(f.evidence.some((e) => e.object.name === 'quiz-2')).toBe(true);
    expect(rules(diagnosis.findings)).toContain('probe-failing');

    await workloadScenarios['workload-scale-down-blocked'].release(ns);
    const after = await diagnoseJson(ns);
    // Only context may remain (retention-risk, info: the claim of ordinal 2 is kept by whenScaled Retain).
    expect(after.diagnosis.findings.filter((x) => x.severity !== 'info')).toEqual([]);
    expect(rules(after.diagnosis.findings)).not.toContain('scale-down-blocked');
    expect(after.diagnosis.statefulSets[0]!.healthy).toBe(true);
    expect(after.result.code).toBe(0);
  });

  it('rollout stuck (kubernetes#67250): quiz-2 on the broken revision is not replaced by the fixed one', async () => {
    const { ns, expected } = await setUp('workload-rollout-stuck');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'rollout-stuck');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-2' });
    expect(f.details).toMatchObject({
      pod: 'quiz-2',
      podRevision: expected.podRevision,
      currentRevision: expected.currentRevision,
      updateRevision: expected.updateRevision,
      strategy: 'RollingUpdate',
    });
    // The template was fixed after the broken revision: delete-pod, never a rollback to it (issue 7).
    expect(f.recoveries.map((r) => r.id)).toEqual(['delete-pod', 'manual']);
    expect(f.recoveries.find((r) => r.id === 'delete-pod')!.target).toMatchObject({ kind: 'Pod', name: 'quiz-2' });
    expect(rules(diagnosis.findings)).toContain('image-pull');

    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout).toContain('rollout-stuck');
  });

  it('image pull unauthorized: cause unauthorized, no imagePullSecrets', async () => {
    const { ns, expected } = await setUp('workload-image-pull-unauthorized');
    const { diagnosis } = await diagnoseJson(ns);
    const f = only(diagnosis.findings, 'image-pull');
    expect(f.details).toMatchObject({ container: 'mongo', image: expected.image, cause: 'unauthorized', imagePullSecrets: [] });
    expect(f.evidence.some((e) => e.label === 'spec.imagePullSecrets' && e.text === '(none)')).toBe(true);
    expect(f.evidence.some((e) => e.type === 'event' && e.text.includes('pull access denied'))).toBe(true);
  });

  it('image pull unreachable: cause unreachable, quoting the DNS failure', async () => {
    const { ns, expected } = await setUp('workload-image-pull-unreachable');
    const { diagnosis } = await diagnoseJson(ns);
    const f = only(diagnosis.findings, 'image-pull');
    expect(f.details).toMatchObject({ container: 'mongo', image: expected.image, cause: 'unreachable' });
    expect(f.evidence.some((e) => e.type === 'event' && /dial tcp: lookup registry-1\.docker\.io: no such host/.test(e.text))).toBe(true);
    expect(f.evidence.some((e) => e.label === 'spec.imagePullSecrets')).toBe(false);
  });
});
