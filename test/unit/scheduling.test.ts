// Rules of the scheduling area on snapshots recorded from the real control plane
// (test/e2e/scheduling.test.ts, STS_DOCTOR_RECORD=1), plus the same failures reworded as other
// Kubernetes versions write them (kubernetes-signals.md sections 2, 7, 8, 11).
import { describe, expect, it } from 'vitest';
import { parseCreateFailure } from '../../src/rules/pod-creation-denied.js';
import { formatQuantity, parseQuantity } from '../../src/rules/unschedulable.js';
import { parseSchedulingMessage } from '../../src/rules/scheduling-message.js';
import type { Finding } from '../../src/rules/types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { diagnoseFixture, loadFixture, rewordEvents } from './fixtures.js';

function of(findings: Finding[], rule: string): Finding[] {
  return findings.filter((f) => f.rule === rule);
}

function one(findings: Finding[], rule: string): Finding {
  const m = of(findings, rule);
  expect(m, findings.map((f) => `${f.rule} ${f.subject.name}`).join(', ')).toHaveLength(1);
  return m[0]!;
}

/** Rewrites the FailedScheduling messages (and the PodScheduled condition message) of a snapshot. */
function rescheduleMessage(s: Snapshot, message: string): void {
  rewordEvents(s, (m, e) => (e.reason === 'FailedScheduling' ? message : m));
  for (const p of s.pods) for (const c of p.status?.conditions ?? []) if (c.type === 'PodScheduled' && c.status === 'False') c.message = message;
}

describe('parseSchedulingMessage', () => {
  it('parses counted entries, never by position (sorted as strings: 10 before 2)', () => {
    const p = parseSchedulingMessage(
      "0/12 nodes are available: 10 node(s) didn't match PersistentVolume's node affinity, 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/12 nodes are available: 12 Preemption is not helpful for scheduling.",
    )!;
    expect(p.nodes).toBe(12);
    expect(p.reasons).toEqual([
      { count: 10, reason: "node(s) didn't match PersistentVolume's node affinity", category: 'volume-node-affinity' },
      { count: 2, reason: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }', category: 'taint' },
    ]);
    expect(p.dominant.category).toBe('volume-node-affinity');
    expect(p.preemption).toBe('0/12 nodes are available: 12 Preemption is not helpful for scheduling.');
  });

  it.each([
    // 1.36 as recorded (DRA's postfilter text before preemption)
    ['0/6 nodes are available: 6 Insufficient cpu. no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.', [[6, 'Insufficient cpu', 'insufficient-resources']]],
    // 1.29-1.33
    ['0/3 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.', [[1, 'Insufficient memory', 'insufficient-resources'], [2, 'Insufficient cpu', 'insufficient-resources']]],
    ['0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.', [[1, 'node(s) had untolerated taint(s)', 'taint'], [2, 'node(s) had volume node affinity conflict', 'volume-node-affinity']]],
    ['0/4 nodes are available: 1 node(s) were unschedulable, 3 Too many pods. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.', [[1, 'node(s) were unschedulable', 'cordoned'], [3, 'Too many pods', 'too-many-pods']]],
    ["0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.", [[3, "node(s) didn't match Pod's node affinity/selector", 'node-affinity']]],
    ["0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.", [[3, "node(s) didn't find available persistent volumes to bind", 'volume-binding']]],
    ['0/2 nodes are available: 2 node(s) had taint {dedicated: db}, that the pod didn\'t tolerate.', [[2, "node(s) had taint {dedicated: db}, that the pod didn't tolerate", 'taint']]],
    ['0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.', [[3, 'Insufficient nvidia.com/gpu', 'insufficient-resources']]],
  ])('%s', (message, want) => {
    const p = parseSchedulingMessage(message)!;
    expect(p.reasons.map((r) => [r.count, r.reason, r.category])).toEqual(want);
  });

  it.each([
    ['0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.', 'pod has unbound immediate PersistentVolumeClaims'],
    // 1.36 as recorded: a stray " not found" after the PreFilter reason
    ['0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found', 'pod has unbound immediate PersistentVolumeClaims'],
    ['0/6 nodes are available: persistentvolumeclaim "db-data-quiz-2" not found. not found', 'persistentvolumeclaim "db-data-quiz-2" not found'],
  ])('PreFilter form without counts: %s', (message, reason) => {
    const p = parseSchedulingMessage(message)!;
    expect(p.reasons).toEqual([{ reason, category: 'unbound-claims' }]);
    expect(p.dominant.reason).toBe(reason);
  });

  it('is not fooled by other FailedScheduling texts', () => {
    expect(parseSchedulingMessage('running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded')).toBeUndefined();
  });

  it('insufficient resources win a tie against taints', () => {
    expect(parseSchedulingMessage('0/4 nodes are available: 2 Insufficient cpu, 2 node(s) had untolerated taint(s).')!.dominant.reason).toBe('Insufficient cpu');
  });
});

describe('quantities', () => {
  it.each([
    ['500m', 0.5, 'cpu', '500m'],
    ['64', 64, 'cpu', '64'],
    ['1Gi', 1024 ** 3, 'memory', '1Gi'],
    ['8Gi', 8 * 1024 ** 3, 'memory', '8Gi'],
    ['1e3', 1000, 'pods', '1000'],
  ])('%s', (q, value, resource, shown) => {
    expect(parseQuantity(q)).toBe(value);
    expect(formatQuantity(value, resource)).toBe(shown);
  });
  it('rejects nonsense', () => expect(parseQuantity('lots')).toBeUndefined());
});

describe('unschedulable (recorded)', () => {
  it('Insufficient cpu: the pod request (sum of containers) and the largest node', async () => {
    const d = await diagnoseFixture('unschedulable-cpu');
    // Every node of the recording lacks the cpu (the cluster had this many nodes then).
    const n = (await loadFixture('unschedulable-cpu')).nodes.length;
    const f = one(d.findings, 'unschedulable');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({
      nodes: n,
      dominant: { category: 'insufficient-resources', reason: 'Insufficient cpu', count: n },
      reasons: [{ count: n, reason: 'Insufficient cpu', category: 'insufficient-resources', resource: 'cpu' }],
      request: { resource: 'cpu', requested: '64', largestAllocatable: '4' },
    });
    expect(f.evidence.find((e) => e.label === 'Warning FailedScheduling')!.text).toBe(`0/${n} nodes are available: ${n} Insufficient cpu. no new claims to deallocate, preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`);
    expect(f.evidence.some((e) => e.label === 'spec.containers[*].resources.requests.cpu' && e.text === 'quiz-api=32, mongo=32')).toBe(true);
    expect(f.recoveries.map((r) => r.id)).toEqual(['manual', 'delete-pod']);
    expect(d.findings[0]!.rule).toBe('unschedulable');
    expect(d.statefulSets[0]!.healthy).toBe(false);
  });

  it('the 1.29-1.33 wording (no DRA text, other preemption words) gives the same finding', async () => {
    const d = await diagnoseFixture('unschedulable-cpu', (s) =>
      rescheduleMessage(s, '0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.'),
    );
    expect(one(d.findings, 'unschedulable').details).toMatchObject({ dominant: { reason: 'Insufficient cpu', count: 6 }, preemption: '0/6 nodes are available: 6 No preemption victims found for incoming pod.' });
  });

  it.each([
    ['up to 1.34.x', '0/6 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 5 Insufficient cpu. preemption: 0/6 nodes are available: 1 Preemption is not helpful for scheduling, 5 No preemption victims found for incoming pod.'],
    ['1.35+', '0/6 nodes are available: 1 node(s) had untolerated taint(s), 5 Insufficient cpu. preemption: 0/6 nodes are available: 1 Preemption is not helpful for scheduling, 5 No preemption victims found for incoming pod.'],
  ])('a tainted node besides Insufficient cpu (%s): breakdown kept, cpu dominant', async (_v, message) => {
    const d = await diagnoseFixture('unschedulable-cpu', (s) => rescheduleMessage(s, message));
    const f = one(d.findings, 'unschedulable');
    expect(f.details).toMatchObject({ nodes: 6, dominant: { category: 'insufficient-resources', count: 5 } });
    expect((f.details!.reasons as { category: string }[]).map((r) => r.category)).toEqual(['taint', 'insufficient-resources']);
  });

  it('volume node affinity with the volume\'s node Ready: the obstacle on that node is named instead', async () => {
    // quiz-0's PV is pinned to kwok-node-0, which is Ready in this recording.
    const d = await diagnoseFixture('unschedulable-cpu', (s) =>
      rescheduleMessage(s, "0/6 nodes are available: 1 Insufficient cpu, 5 node(s) didn't match PersistentVolume's node affinity. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling."),
    );
    expect(one(d.findings, 'unschedulable').details).toMatchObject({ dominant: { category: 'insufficient-resources', count: 1 } });
  });

  it('volume node affinity with the volume\'s node lost: left to volume-node-affinity', async () => {
    const d = await diagnoseFixture('volume-node-affinity');
    expect(of(d.findings, 'unschedulable')).toEqual([]);
    expect(of(d.findings, 'volume-node-affinity')).toHaveLength(1);
  });

  it('nodeSelector matching no node', async () => {
    const d = await diagnoseFixture('unschedulable-selector');
    const n = (await loadFixture('unschedulable-selector')).nodes.length;
    const f = one(d.findings, 'unschedulable');
    expect(f.details).toMatchObject({ nodes: n, dominant: { category: 'node-affinity', reason: "node(s) didn't match Pod's node affinity/selector", count: n } });
    expect(f.summary).toContain('disktype=ssd');
  });

  it('pinned by its local PV to a node that runs its maximum number of pods, among 12 tainted nodes: the pinned node\'s reason, not the most counted one', async () => {
    // Recorded on the test control plane with 12 more nodes tainted nvidia.com/gpu (a GPU pool):
    // kwok-node-full holds 1 pod and runs one; quiz-0's local PV is pinned to it.
    const s = await loadFixture('unschedulable-pinned-node-full');
    const d = await diagnoseFixture('unschedulable-pinned-node-full');
    const f = one(d.findings, 'unschedulable');
    const reasons = (f.details as { reasons: { category: string; count: number }[] }).reasons;
    const count = (c: string): number => reasons.find((r) => r.category === c)?.count ?? 0;
    // The scheduler's message puts the tainted nodes first by count.
    expect(count('taint')).toBeGreaterThan(count('too-many-pods'));
    expect(f.details).toMatchObject({ dominant: { category: 'too-many-pods' }, pinnedTo: ['kwok-node-full'] });
    expect(f.summary).toBe('Pod quiz-0 cannot be scheduled: its volume pins it to node kwok-node-full, which runs its maximum number of pods (status.allocatable.pods)');
    expect(f.evidence.map((e) => `${e.object.kind}/${e.object.name} ${e.label}`)).toContain('Node/kwok-node-full status.allocatable.pods');
    // Had the pinned node carried a taint the pod does not tolerate, the taint would be its reason.
    const tainted = await diagnoseFixture('unschedulable-pinned-node-full', (x) => {
      const n = x.nodes.find((m) => m.metadata.name === 'kwok-node-full')!;
      n.spec = { ...n.spec, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] };
    });
    expect(one(tainted.findings, 'unschedulable').details).toMatchObject({ dominant: { category: 'taint' } });
    // ... unless the pod tolerates it.
    const tolerated = await diagnoseFixture('unschedulable-pinned-node-full', (x) => {
      const n = x.nodes.find((m) => m.metadata.name === 'kwok-node-full')!;
      n.spec = { ...n.spec, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] };
      for (const p of x.pods) p.spec.tolerations = [{ key: 'dedicated', operator: 'Exists' }];
    });
    expect(one(tolerated.findings, 'unschedulable').details).toMatchObject({ dominant: { category: 'too-many-pods' } });
    expect(s.nodes.filter((n) => n.spec?.taints?.length).length).toBeGreaterThanOrEqual(12);
  });

  it('an unbound claim as the reason: left to pvc-unbound', async () => {
    const d = await diagnoseFixture('pvc-missing-class');
    expect(of(d.findings, 'unschedulable')).toEqual([]);
    expect(one(d.findings, 'pvc-unbound').details).toMatchObject({ cause: 'storage-class-missing' });
  });

  it('without readable events the PodScheduled condition still names the pod, with low confidence', async () => {
    const d = await diagnoseFixture('unschedulable-cpu', (s) => {
      s.events = [];
      s.gaps.push({ resource: 'events', reason: 'forbidden', message: 'events: forbidden' });
    });
    const f = one(d.findings, 'unschedulable');
    expect(f.confidence).toBe('low');
    expect(f.details).toMatchObject({ dominant: { reason: 'Insufficient cpu' } });
  });

  it('a healthy StatefulSet has no finding', async () => {
    const d = await diagnoseFixture('healthy');
    expect(of(d.findings, 'unschedulable')).toEqual([]);
  });
});

describe('parseCreateFailure', () => {
  it.each([
    // 1.29-1.35 (lowercase verb) and 1.36 (capitalised)
    ['create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2', { kind: 'Pod', pod: 'web-0', cause: 'quota', quota: { name: 'q', requested: 'pods=1', used: 'pods=2', limited: 'pods=2' } }],
    ['Create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: status unknown for quota: q, resources: pods', { kind: 'Pod', cause: 'quota', quota: { name: 'q' } }],
    ['create Claim data-web-1 for Pod web-1 in StatefulSet web failed error: persistentvolumeclaims "data-web-1" is forbidden: exceeded quota: s, requested: requests.storage=1Gi, used: requests.storage=0, limited: requests.storage=500Mi', { kind: 'Claim', pod: 'web-1', claim: 'data-web-1', cause: 'quota' }],
    ['create Pod web-0 in StatefulSet web failed error: admission webhook "policy.example.com" denied the request: images must come from registry.example', { cause: 'webhook', webhook: 'policy.example.com' }],
    ['create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: violates PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true)', { cause: 'pod-security', podSecurityLevel: 'baseline:v1.30' }],
    ['create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: error looking up service account ns/sa: serviceaccount "sa" not found', { cause: 'forbidden' }],
  ])('%s', (message, want) => {
    expect(parseCreateFailure(message)).toMatchObject(want);
  });
  it('ignores other StatefulSet events', () => {
    expect(parseCreateFailure('create Pod web-0 in StatefulSet web successful')).toBeUndefined();
  });
});

describe('pod-creation-denied (recorded)', () => {
  it('ResourceQuota pods: 0', async () => {
    const d = await diagnoseFixture('pod-quota');
    const f = one(d.findings, 'pod-creation-denied');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ object: 'Pod', cause: 'quota', quota: { name: 'no-pods', requested: 'pods=1', used: 'pods=0', limited: 'pods=0' } });
    expect(f.evidence.map((e) => e.type)).toEqual(['event', 'absence', 'status']);
    expect(d.findings[0]!.rule).toBe('pod-creation-denied');
    expect(of(d.findings, 'pod-not-ready')).toEqual([]);
  });

  it('1.29-1.35 wording (lowercase create) is read the same', async () => {
    const d = await diagnoseFixture('pod-quota', (s) => rewordEvents(s, (m) => m.replace(/^Create /, 'create ')));
    expect(one(d.findings, 'pod-creation-denied').details).toMatchObject({ cause: 'quota', quota: { name: 'no-pods' } });
  });

  it('a webhook denial on the same path', async () => {
    const d = await diagnoseFixture('pod-quota', (s) =>
      rewordEvents(s, (m, e) => (e.reason === 'FailedCreate' ? 'create Pod quiz-0 in StatefulSet quiz failed error: admission webhook "deny.example.com" denied the request: no pods today' : m)),
    );
    expect(one(d.findings, 'pod-creation-denied').details).toMatchObject({ cause: 'webhook', webhook: 'deny.example.com' });
  });

  it('storage quota: the Claim event is the cause, the Pod event repeats it', async () => {
    const d = await diagnoseFixture('claim-quota');
    const f = one(d.findings, 'pod-creation-denied');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'db-data-quiz-0' });
    expect(f.details).toMatchObject({ object: 'Claim', claim: 'db-data-quiz-0', cause: 'quota', quota: { name: 'storage', limited: 'requests.storage=500Mi' } });
    expect(f.evidence[0]!.text).toMatch(/^Create Claim db-data-quiz-0 for Pod quiz-0 /);
    expect(f.evidence[1]!.text).toMatch(/^Create Pod quiz-0 .*failed to create PVC db-data-quiz-0: /);
    expect(of(d.findings, 'pvc-unbound')).toEqual([]);
  });

  it('storage quota seen only through the Pod event (Claim event expired): still the claim', async () => {
    const d = await diagnoseFixture('claim-quota', (s) => (s.events = s.events.filter((e) => !/^create Claim /i.test(e.message ?? ''))));
    const f = one(d.findings, 'pod-creation-denied');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'db-data-quiz-0' });
    expect(f.details).toMatchObject({ object: 'Claim', cause: 'quota', quota: { name: 'storage' } });
  });

  it('PodSecurity restricted', async () => {
    const d = await diagnoseFixture('pod-security');
    expect(one(d.findings, 'pod-creation-denied').details).toMatchObject({ cause: 'pod-security', podSecurityLevel: 'restricted:latest' });
  });

  it('no finding once the pod exists (healthy)', async () => {
    const d = await diagnoseFixture('healthy');
    expect(of(d.findings, 'pod-creation-denied')).toEqual([]);
  });
});

describe('headless-service-missing (recorded)', () => {
  it('serviceName names no Service', async () => {
    const d = await diagnoseFixture('headless-missing');
    const f = one(d.findings, 'headless-service-missing');
    expect(f.severity).toBe('warning');
    expect(f.subject).toMatchObject({ kind: 'Service', name: 'quiz-pods' });
    expect(f.details).toEqual({ service: 'quiz-pods', problem: 'missing' });
    expect(d.statefulSets[0]!.healthy).toBe(false);
  });

  it('services forbidden: no finding, never "missing"', async () => {
    const d = await diagnoseFixture('headless-missing', (s) => {
      s.services = [];
      s.gaps.push({ resource: 'services', reason: 'forbidden', message: 'services: forbidden' });
    });
    expect(of(d.findings, 'headless-service-missing')).toEqual([]);
  });

  it('serviceName unset (optional from 1.33): nothing to check', async () => {
    const d = await diagnoseFixture('headless-missing', (s) => delete s.statefulSets[0]!.spec.serviceName);
    expect(of(d.findings, 'headless-service-missing')).toEqual([]);
  });

  it('a ClusterIP Service is not headless', async () => {
    const d = await diagnoseFixture('headless-not-headless');
    const f = one(d.findings, 'headless-service-missing');
    expect(f.details).toMatchObject({ problem: 'not-headless' });
    expect(f.details!.clusterIP).toMatch(/^10\.96\./);
  });

  it('a headless Service whose selector does not select the pods', async () => {
    const d = await diagnoseFixture('healthy', (s) => {
      s.services.find((x) => x.metadata.name === 'quiz-pods')!.spec.selector = { app: 'quiz-v2' };
    });
    expect(one(d.findings, 'headless-service-missing').details).toMatchObject({ problem: 'selector-mismatch', selector: { app: 'quiz-v2' } });
  });

  it('the healthy quiz has its headless Service', async () => {
    const d = await diagnoseFixture('healthy');
    expect(of(d.findings, 'headless-service-missing')).toEqual([]);
  });
});

describe('retention-risk (recorded)', () => {
  it('whenScaled: Delete names the claims and their Delete volumes; info while the StatefulSet is healthy', async () => {
    const d = await diagnoseFixture('retention-when-scaled-delete');
    const f = one(d.findings, 'retention-risk');
    expect(f.severity).toBe('info');
    expect(f.details).toMatchObject({ scalingDown: false, unhealthy: false });
    expect(f.details).toMatchObject({ risk: 'when-scaled-delete', whenScaled: 'Delete', whenDeleted: 'Retain' });
    expect((f.details!.volumes as { claim: string; reclaimPolicy: string }[]).map((v) => [v.claim, v.reclaimPolicy])).toEqual([
      ['db-data-quiz-0', 'Delete'],
      ['db-data-quiz-1', 'Delete'],
      ['db-data-quiz-2', 'Delete'],
    ]);
    // Every replica is Ready: the reclaim policy alone is not a finding.
    expect(of(d.findings, 'retention-risk')).toHaveLength(1);
  });

  it('whenScaled: Delete is a warning once a scale-down is pending or a replica is unhealthy', async () => {
    const scaling = one((await diagnoseFixture('retention-when-scaled-delete', (s) => void (s.statefulSets[0]!.spec.replicas = 2))).findings, 'retention-risk');
    expect(scaling.severity).toBe('warning');
    expect(scaling.details).toMatchObject({ scalingDown: true });
    const broken = (await diagnoseFixture('retention-when-scaled-delete', (s) => void (s.pods = s.pods.filter((p) => p.metadata.name !== 'quiz-2')))).findings.find(
      (f) => f.rule === 'retention-risk' && (f.details as { risk: string }).risk === 'when-scaled-delete',
    )!;
    expect(broken.severity).toBe('warning');
    expect(broken.details).toMatchObject({ unhealthy: true });
  });

  it('a claim left by a scale-down is info; the StatefulSet stays healthy', async () => {
    const d = await diagnoseFixture('retention-leftover-claim');
    const f = one(d.findings, 'retention-risk');
    expect(f.severity).toBe('info');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'db-data-quiz-2' });
    expect(f.details).toMatchObject({ risk: 'leftover-claim', ordinal: 2, reclaimPolicy: 'Retain' });
    expect(d.statefulSets[0]!.healthy).toBe(true);
  });

  it('with ordinals.start the range moves: ordinal 0 is then the leftover', async () => {
    const d = await diagnoseFixture('retention-leftover-claim', (s) => {
      // Same claims read as a StatefulSet numbered from 1 with 2 replicas (ordinals 1, 2).
      s.statefulSets[0]!.spec.ordinals = { start: 1 };
      s.pods = s.pods.filter((p) => p.metadata.name !== 'quiz-0');
    });
    const leftovers = of(d.findings, 'retention-risk').filter((f) => f.details!.risk === 'leftover-claim');
    expect(leftovers.map((f) => f.subject.name)).toEqual(['db-data-quiz-0']);
  });

  it('a replica not Ready on a Delete volume: warning naming claim and PV', async () => {
    const d = await diagnoseFixture('retention-reclaim-delete');
    const f = one(d.findings, 'retention-risk');
    expect(f.severity).toBe('warning');
    expect(f.subject.kind).toBe('PersistentVolume');
    expect(f.details).toMatchObject({ risk: 'reclaim-delete', volumes: [{ claim: 'db-data-quiz-0', pod: 'quiz-0' }] });
    expect(f.recoveries[0]!.commands![0]).toMatch(/^kubectl patch pv .*-pv-0 -p '\{"spec":\{"persistentVolumeReclaimPolicy":"Retain"\}\}'$/);
  });

  it('the healthy quiz (whenScaled Retain, Retain volumes) has no finding', async () => {
    const d = await diagnoseFixture('healthy');
    expect(of(d.findings, 'retention-risk')).toEqual([]);
  });
});

describe('pvc-unbound (recorded, extended)', () => {
  it('missing StorageClass: ProvisioningFailed quoted', async () => {
    const d = await diagnoseFixture('pvc-missing-class');
    const f = one(d.findings, 'pvc-unbound');
    expect(f.details).toMatchObject({ cause: 'storage-class-missing', storageClassName: 'does-not-exist' });
    expect(f.evidence.some((e) => e.label === 'Warning ProvisioningFailed' && e.text === 'storageclass.storage.k8s.io "does-not-exist" not found')).toBe(true);
  });

  it('missing StorageClass with storageclasses unreadable: still named from the event', async () => {
    const d = await diagnoseFixture('pvc-missing-class', (s) => {
      s.storageClasses = [];
      s.gaps.push({ resource: 'storageclasses', reason: 'forbidden', message: 'storageclasses: forbidden' });
    });
    const f = one(d.findings, 'pvc-unbound');
    expect(f.details).toMatchObject({ cause: 'storage-class-missing' });
    expect(f.confidence).toBe('low');
  });

  it('missing StorageClass with the claim\'s class field unset: named from the event, never "undefined" (fuzz seed 569898221, case 40)', async () => {
    const d = await diagnoseFixture('pvc-missing-class', (s) => {
      for (const c of s.persistentVolumeClaims) delete (c.spec as { storageClassName?: string }).storageClassName;
    });
    const f = one(d.findings, 'pvc-unbound');
    expect(f.summary).toContain('StorageClass "does-not-exist" does not exist');
    expect(JSON.stringify(f)).not.toContain('undefined');
  });

  it('provisioner not running: ExternalProvisioning names it', async () => {
    const d = await diagnoseFixture('pvc-no-provisioner');
    const f = one(d.findings, 'pvc-unbound');
    expect(f.details).toMatchObject({ cause: 'provisioner-not-running' });
    expect(f.summary).toContain('"example.com/nobody"');
    expect(of(d.findings, 'unschedulable')).toEqual([]);
  });

  it('WaitForFirstConsumer behind Insufficient cpu: unschedulable is the finding, the claim its context', async () => {
    const d = await diagnoseFixture('pvc-wffc-unschedulable');
    expect(of(d.findings, 'pvc-unbound')).toEqual([]);
    const f = one(d.findings, 'unschedulable');
    expect(f.details).toMatchObject({ waitingClaims: ['db-data-quiz-0'] });
    expect(f.evidence.some((e) => e.label === 'Normal WaitForPodScheduled' && e.text === 'waiting for pod quiz-0 to be scheduled')).toBe(true);
  });

  it('WaitForFirstConsumer behind a storage reason: pvc-unbound stays the finding', async () => {
    const d = await diagnoseFixture('pvc-wffc-unschedulable', (s) =>
      rescheduleMessage(s, "0/6 nodes are available: 6 node(s) didn't find available persistent volumes to bind. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling."),
    );
    expect(one(d.findings, 'pvc-unbound').details).toMatchObject({ cause: 'waiting-for-pod-scheduling' });
    expect(of(d.findings, 'unschedulable')).toEqual([]);
  });
});
