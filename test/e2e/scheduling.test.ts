// End to end, scheduling area: pods the real scheduler cannot place, pods and claims the real
// admission plugins refuse (ResourceQuota, PodSecurity) as the real StatefulSet controller
// reports them, the governing headless Service, retention risks, and claims the real PV
// controller cannot bind. Each test deploys quiz in a fresh namespace and runs the built CLI.
import { describe, expect, it } from 'vitest';
import { getJson } from '../scenarios/cluster.mjs';
import { cleanup, HEALTHY_TIMEOUT, schedulingScenarios } from '../scenarios/scheduling.mjs';
import { diagnoseJson, onlyFinding, testNamespaces } from './helpers.js';
import type { Finding } from '../../src/rules/types.js';

type Expected = Record<string, string>;
const namespaces = testNamespaces(cleanup);
const setUp = (name: string) => namespaces.scenario<Expected>(schedulingScenarios, name);
const only = onlyFinding;

function none(findings: Finding[], rule: string): void {
  expect(findings.filter((f) => f.rule === rule).map((f) => f.summary)).toEqual([]);
}

/** Scenarios that wait for Ready pods: KWOK lags on a busy shared cluster (HEALTHY_TIMEOUT per wait). */
const SLOW = { timeout: 2 * HEALTHY_TIMEOUT + 60_000 };

const nodeCount = (): number => getJson(['nodes']).items.length;

describe('unschedulable on the real scheduler', () => {
  it('64 cpu requested, 4 per node: Insufficient cpu, the request and the largest node named', async () => {
    const { ns, expected } = await setUp('unschedulable-cpu');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'unschedulable');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0', namespace: ns });
    expect(f.details).toMatchObject({
      pod: 'quiz-0',
      nodes: nodeCount(),
      dominant: { category: 'insufficient-resources', reason: 'Insufficient cpu' },
      request: { resource: 'cpu', requested: '64', largestAllocatable: '4' },
    });
    expect(f.summary).toContain('requests 64 cpu');
    const ev = f.evidence.find((e) => e.label === 'Warning FailedScheduling');
    expect(ev?.text).toBe(expected.message);
    expect(ev?.text).toMatch(/^0\/\d+ nodes are available: .*\d+ Insufficient cpu[.,]/);
    expect(f.evidence.some((e) => e.label === 'status.conditions[PodScheduled]' && e.text.startsWith('False Unschedulable: 0/'))).toBe(true);
    expect(f.evidence.some((e) => e.label === 'status.allocatable.cpu' && e.text === '4')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('unschedulable');
    none(diagnosis.findings, 'pvc-unbound');
  });

  it('nodeSelector disktype=ssd matches no node', async () => {
    const { ns } = await setUp('unschedulable-selector');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'unschedulable');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ dominant: { category: 'node-affinity', reason: "node(s) didn't match Pod's node affinity/selector" } });
    expect(f.evidence.some((e) => e.label === 'Warning FailedScheduling' && e.text.includes("node(s) didn't match Pod's node affinity/selector"))).toBe(true);
    expect(f.evidence.some((e) => e.label === 'spec.nodeSelector' && e.text === 'disktype=ssd')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('unschedulable');
  });
});

describe('pod-creation-denied on real admission', () => {
  it('ResourceQuota pods: 0: no pod, FailedCreate exceeded quota on the StatefulSet', async () => {
    const { ns, expected } = await setUp('pod-quota');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pod-creation-denied');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0', namespace: ns });
    expect(f.details).toMatchObject({ pod: 'quiz-0', object: 'Pod', cause: 'quota', quota: { name: 'no-pods', requested: 'pods=1', used: 'pods=0', limited: 'pods=0' } });
    const ev = f.evidence.find((e) => e.label === 'Warning FailedCreate');
    expect(ev?.object).toMatchObject({ kind: 'StatefulSet', name: 'quiz' });
    expect(ev?.text).toBe(expected.message);
    expect(ev?.text).toMatch(/^create Pod quiz-0 in StatefulSet quiz failed error: pods "quiz-0" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0$/i);
    expect(f.evidence.some((e) => e.type === 'absence' && e.object.name === 'quiz-0')).toBe(true);
    expect(f.evidence.some((e) => e.object.kind === 'ResourceQuota' && e.text === 'hard: pods=0; used: pods=0')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('pod-creation-denied');
  });

  it('storage quota: the claim is refused (Claim variant), no pod, no pvc-unbound', async () => {
    const { ns, expected } = await setUp('claim-quota');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pod-creation-denied');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'db-data-quiz-0', namespace: ns });
    expect(f.details).toMatchObject({ pod: 'quiz-0', object: 'Claim', claim: 'db-data-quiz-0', cause: 'quota', quota: { name: 'storage', requested: 'requests.storage=1Gi', limited: 'requests.storage=500Mi' } });
    expect(f.evidence[0]!.text).toBe(expected.message);
    expect(f.evidence[0]!.text).toMatch(/^create Claim db-data-quiz-0 for Pod quiz-0 in StatefulSet quiz failed error: persistentvolumeclaims "db-data-quiz-0" is forbidden: exceeded quota: storage, requested: requests.storage=1Gi, used: requests.storage=0, limited: requests.storage=500Mi$/i);
    // The Pod event that repeats it is quoted too.
    expect(f.evidence.some((e) => /^create Pod quiz-0 in StatefulSet quiz failed error: failed to create PVC db-data-quiz-0: /i.test(e.text))).toBe(true);
    none(diagnosis.findings, 'pvc-unbound');
  });

  it('PodSecurity restricted: the template is refused', async () => {
    const { ns } = await setUp('pod-security');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pod-creation-denied');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ cause: 'pod-security', podSecurityLevel: 'restricted:latest' });
    expect(f.evidence.some((e) => e.label === 'Warning FailedCreate' && e.text.includes('pods "quiz-0" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false'))).toBe(true);
  });
});

describe('headless-service-missing', SLOW, () => {
  it('serviceName quiz-pods names no Service', async () => {
    const { ns, expected } = await setUp('headless-missing');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'headless-service-missing');
    expect(f.severity).toBe('warning');
    expect(f.subject).toEqual({ kind: 'Service', namespace: ns, name: expected.service });
    expect(f.details).toMatchObject({ service: 'quiz-pods', problem: 'missing' });
    expect(f.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ label: 'spec.serviceName', text: 'quiz-pods' }),
        expect.objectContaining({ type: 'absence', text: 'Service quiz-pods does not exist' }),
      ]),
    );
    expect(diagnosis.findings).toHaveLength(1);
    expect(diagnosis.statefulSets[0]!.healthy).toBe(false);
  });

  it('quiz-pods has a cluster IP: not headless', async () => {
    const { ns, expected } = await setUp('headless-not-headless');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'headless-service-missing');
    expect(f.severity).toBe('warning');
    expect(f.subject).toMatchObject({ kind: 'Service', name: 'quiz-pods' });
    expect(f.details).toMatchObject({ problem: 'not-headless', clusterIP: expected.clusterIP });
    expect(f.evidence.some((e) => e.label === 'spec.clusterIP' && e.text === expected.clusterIP)).toBe(true);
  });
});

describe('retention-risk', SLOW, () => {
  it('whenScaled: Delete with reclaim policy Delete: named with the volumes, info while healthy (exit 0)', async () => {
    const { ns } = await setUp('retention-when-scaled-delete');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(0);
    const f = only(diagnosis.findings, 'retention-risk');
    expect(f.severity).toBe('info');
    expect(f.subject).toMatchObject({ kind: 'StatefulSet', name: 'quiz' });
    expect(f.details).toMatchObject({
      risk: 'when-scaled-delete',
      volumes: [0, 1, 2].map((i) => ({ claim: `db-data-quiz-${i}`, volume: `${ns}-pv-${i}`, reclaimPolicy: 'Delete' })),
    });
    expect(f.evidence.some((e) => e.label === 'spec.persistentVolumeClaimRetentionPolicy' && e.text === 'whenDeleted: Retain, whenScaled: Delete')).toBe(true);
  });

  it('scaled 3 -> 2 with whenScaled Retain: the leftover claim is info, exit 0', async () => {
    const { ns, expected } = await setUp('retention-leftover-claim');
    const { result, diagnosis } = await diagnoseJson(ns);
    const f = only(diagnosis.findings, 'retention-risk');
    expect(f.severity).toBe('info');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: expected.claim });
    expect(f.details).toMatchObject({ risk: 'leftover-claim', ordinal: 2, volume: expected.volume, reclaimPolicy: 'Retain' });
    expect(f.evidence.some((e) => e.type === 'absence' && e.object.name === 'quiz-2')).toBe(true);
    // Info only: the StatefulSet is healthy.
    expect(diagnosis.statefulSets[0]!.healthy).toBe(true);
    expect(result.code).toBe(0);
  });

  it('a replica not Ready whose volume has reclaim policy Delete', async () => {
    const { ns, expected } = await setUp('retention-reclaim-delete');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'retention-risk');
    expect(f.severity).toBe('warning');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolume', name: expected.volume });
    expect(f.details).toMatchObject({ risk: 'reclaim-delete', volumes: [{ claim: expected.claim, volume: expected.volume, pod: 'quiz-0' }] });
    expect(f.evidence.some((e) => e.label === 'spec.persistentVolumeReclaimPolicy' && e.text === 'Delete')).toBe(true);
    // The cause of the unhealthy replica (a critical finding of another rule) ranks first.
    expect(diagnosis.findings[0]!.severity).toBe('critical');
    expect(diagnosis.findings.indexOf(f)).toBeGreaterThan(0);
  });
});

describe('pvc-unbound on the real PV controller', () => {
  it('storageClassName does-not-exist: ProvisioningFailed, no unschedulable finding', async () => {
    const { ns, expected } = await setUp('pvc-missing-class');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pvc-unbound');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: expected.claim });
    expect(f.details).toMatchObject({ cause: 'storage-class-missing', pod: 'quiz-0', storageClassName: 'does-not-exist' });
    expect(f.evidence.some((e) => e.label === 'Warning ProvisioningFailed' && e.text === 'storageclass.storage.k8s.io "does-not-exist" not found')).toBe(true);
    none(diagnosis.findings, 'unschedulable');
    expect(diagnosis.findings[0]!.rule).toBe('pvc-unbound');
  });

  it('provisioner example.com/nobody not running: ExternalProvisioning', async () => {
    const { ns, expected } = await setUp('pvc-no-provisioner');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pvc-unbound');
    expect(f.severity).toBe('critical');
    expect(f.details).toMatchObject({ cause: 'provisioner-not-running', claim: expected.claim });
    expect(f.summary).toContain('"example.com/nobody"');
    expect(f.evidence.some((e) => e.label === 'Normal ExternalProvisioning' && e.text === expected.message)).toBe(true);
    expect(expected.message).toBe(
      "Waiting for a volume to be created either by the external provisioner 'example.com/nobody' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
    none(diagnosis.findings, 'unschedulable');
  });

  it('WaitForFirstConsumer waiting on a pod that cannot schedule: unschedulable is the cause, the claim its context', async () => {
    const { ns, expected } = await setUp('pvc-wffc-unschedulable');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    none(diagnosis.findings, 'pvc-unbound');
    const f = only(diagnosis.findings, 'unschedulable');
    expect(f.severity).toBe('critical');
    expect(f.details).toMatchObject({ dominant: { category: 'insufficient-resources' }, waitingClaims: [expected.claim] });
    expect(f.evidence.some((e) => e.label === 'Normal WaitForPodScheduled' && e.text === 'waiting for pod quiz-0 to be scheduled')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('unschedulable');
  });
});
