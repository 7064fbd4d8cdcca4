// Volume rules (volume-node-affinity, multi-attach) and node-lost for a deleted node, on
// snapshots recorded from the real control plane by test/e2e/volumes.test.ts
// (STS_DOCTOR_RECORD=1), and the same snapshots reworded as other Kubernetes versions word them.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { parseSchedulingMessage } from '../../src/rules/scheduling-message.js';
import { attachEventVolume, isMultiAttachMessage } from '../../src/rules/multi-attach.js';
import type { Finding } from '../../src/rules/types.js';
import { VOLUME_AFFINITY_REASON } from '../../src/rules/volume-node-affinity.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { diagnoseFixture, loadFixture, rewordEvents } from './fixtures.js';

function one(findings: Finding[], rule: string): Finding {
  const f = findings.filter((x) => x.rule === rule);
  expect(f, findings.map((x) => `${x.rule}:${x.subject.name}`).join(' ')).toHaveLength(1);
  return f[0]!;
}

/** Rewrites the pods' condition messages too (PodScheduled carries the scheduler's message). */
function rewordAll(s: Snapshot, rewrite: (m: string) => string): void {
  rewordEvents(s, rewrite);
  for (const p of s.pods) for (const c of p.status?.conditions ?? []) if (c.message) c.message = rewrite(c.message);
}

/** 1.33+ (recorded, 1.36) wording -> 1.29–1.32 wording of the scheduler's reasons. */
function to132(m: string): string {
  return m
    .replace("node(s) didn't match PersistentVolume's node affinity", 'node(s) had volume node affinity conflict')
    .replace('node(s) had untolerated taint(s)', 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }')
    .replace('. no new claims to deallocate, preemption:', '. preemption:');
}

describe('parseSchedulingMessage on the volume messages', () => {
  const reasons = (m: string): { count?: number; reason: string; category: string }[] | undefined =>
    parseSchedulingMessage(m)?.reasons.map(({ count, reason, category }) => ({ ...(count === undefined ? {} : { count }), reason, category }));

  it('parses the 1.36 message recorded here, with the DRA post-filter text', () => {
    const m =
      "0/6 nodes are available: 1 node(s) had untolerated taint(s), 5 node(s) didn't match PersistentVolume's node affinity. no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.";
    const p = parseSchedulingMessage(m)!;
    expect(p.nodes).toBe(6);
    expect(reasons(m)).toEqual([
      { count: 1, reason: 'node(s) had untolerated taint(s)', category: 'taint' },
      { count: 5, reason: "node(s) didn't match PersistentVolume's node affinity", category: 'volume-node-affinity' },
    ]);
    expect(p.dominant.category).toBe('volume-node-affinity');
    expect(p.preemption).toBe('0/6 nodes are available: 6 Preemption is not helpful for scheduling.');
  });

  it('keeps the dots of an old taint key inside one reason', () => {
    const m = '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    expect(reasons(m)).toEqual([
      { count: 1, reason: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }', category: 'taint' },
      { count: 2, reason: 'node(s) had volume node affinity conflict', category: 'volume-node-affinity' },
    ]);
  });

  it('does not read counts by position (10 sorts before 2)', () => {
    expect(reasons('0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.')).toEqual([
      { count: 10, reason: 'Insufficient cpu', category: 'insufficient-resources' },
      { count: 2, reason: 'node(s) were unschedulable', category: 'cordoned' },
    ]);
  });

  it('gives a PreFilter failure as one reason without a count, and rejects other messages', () => {
    const m = '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.';
    expect(parseSchedulingMessage(m)?.nodes).toBe(3);
    expect(reasons(m)).toEqual([{ reason: 'pod has unbound immediate PersistentVolumeClaims', category: 'unbound-claims' }]);
    expect(parseSchedulingMessage('running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded')).toBeUndefined();
  });
});

describe('volume-node-affinity (recorded: quiz-1 recreated, its local PV pinned to unreachable kwok-node-4)', () => {
  it('follows pod -> claim -> PV -> node and names the node unreachable, with evidence', async () => {
    const d = await diagnoseFixture('volume-node-affinity');
    const f = one(d.findings, 'volume-node-affinity');
    expect(d.findings[0]!.rule).toBe('volume-node-affinity');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-1' });
    expect(f.details).toMatchObject({ claim: 'db-data-quiz-1', nodes: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Unreachable' }, reclaimPolicy: 'Retain' });
    expect(f.details!.pv).toMatch(/-pv-1$/);
    // The lost node fails on its taint, the others on the volume's node affinity (or on whatever
    // else the shared cluster had at recording time, e.g. a full node's "Too many pods").
    const reasons = f.details!.reasons as { count: number; reason: string }[];
    expect(reasons).toContainEqual({ count: 1, reason: 'node(s) had untolerated taint(s)', category: 'taint' });
    expect(reasons.some((r) => r.reason === "node(s) didn't match PersistentVolume's node affinity" && r.count >= 1)).toBe(true);
    expect(reasons.reduce((n, r) => n + r.count, 0)).toBe(6);
    expect(f.summary).toBe(`Pod quiz-1 cannot be scheduled: its volume ${f.details!.pv as string} (claim db-data-quiz-1) can only be used on kwok-node-4, and node kwok-node-4 is unreachable (Ready=Unknown)`);
    expect(f.evidence.map((e) => `${e.object.kind} ${e.label}`)).toEqual([
      'Pod Warning FailedScheduling',
      'PersistentVolumeClaim spec.volumeName',
      'PersistentVolume spec.nodeAffinity',
      'PersistentVolume spec.persistentVolumeReclaimPolicy',
      'Node status.conditions[Ready]',
      'Node spec.taints',
    ]);
    expect(f.evidence[2]!.text).toBe('kubernetes.io/hostname In [kwok-node-4]');
    expect(f.evidence[4]!.text).toContain('Unknown NodeStatusUnknown: Kubelet stopped posting node status.');
    expect(f.evidence[5]!.text).toContain('node.kubernetes.io/unreachable:NoExecute');
    // No spare volume: rebuilding the replica would strand it, so it is not offered; the step says what to create first.
    expect(f.recoveries.map((r) => r.id)).toEqual(['manual', 'manual']);
    expect(f.recoveries[0]!.target).toEqual({ kind: 'Node', name: 'kwok-node-4' });
    expect(f.recoveries[1]!.description).toContain("Gives up this replica's data");
    expect(f.recoveries[1]!.description).toContain("reclaim policy is Retain");
    expect(f.recoveries[1]!.description).toMatch(/no PersistentVolume can bind the new claim db-data-quiz-1/);
    expect(f.permanent).toBe(true);
    expect(f.confidence).toBe('high');
  });

  it('reads the 1.29–1.32 wording (volume node affinity conflict, taint key shown)', async () => {
    const s = await loadFixture('volume-node-affinity');
    rewordAll(s, to132);
    expect(s.events.some((e) => e.message?.includes('had volume node affinity conflict'))).toBe(true);
    const f = one(diagnose(s).findings, 'volume-node-affinity');
    expect(f.details).toMatchObject({ nodes: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Unreachable' } });
    const reasons = f.details!.reasons as { count: number; reason: string }[];
    expect(reasons).toContainEqual({ count: 1, reason: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }', category: 'taint' });
    expect(reasons.some((r) => r.reason === 'node(s) had volume node affinity conflict')).toBe(true);
  });

  it('does not fire when the scheduler gives another reason', async () => {
    const s = await loadFixture('volume-node-affinity');
    rewordAll(s, (m) => m.replace("node(s) didn't match PersistentVolume's node affinity", 'Insufficient cpu'));
    expect(diagnose(s).findings.filter((f) => f.rule === 'volume-node-affinity')).toEqual([]);
  });

  it('falls back on the PodScheduled condition when events cannot be read (low confidence)', async () => {
    const s = await loadFixture('volume-node-affinity');
    s.events = [];
    s.gaps.push({ resource: 'events', reason: 'forbidden', message: 'events: forbidden' });
    const f = one(diagnose(s).findings, 'volume-node-affinity');
    expect(f.evidence[0]).toMatchObject({ label: 'status.conditions[PodScheduled]' });
    expect(f.evidence[0]!.text).toContain("didn't match PersistentVolume's node affinity");
    expect(f.confidence).toBe('low');
  });

  it('says cordoned when the node is Ready but unschedulable', async () => {
    const s = await loadFixture('volume-node-affinity');
    const node = s.nodes.find((n) => n.metadata.name === 'kwok-node-4')!;
    node.status!.conditions = node.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' } : c));
    node.spec = { ...node.spec, unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] };
    const f = one(diagnose(s).findings, 'volume-node-affinity');
    expect(f.details).toMatchObject({ nodeStates: { 'kwok-node-4': 'Cordoned' } });
    expect(f.summary).toContain('node kwok-node-4 is cordoned');
    expect(f.recoveries[0]!.commands).toContain('kubectl uncordon kwok-node-4');
    expect(f.evidence.some((e) => e.label === 'spec.unschedulable')).toBe(true);
  });

  it('stays silent when the volume node is Ready and schedulable (unschedulable names what fails there)', async () => {
    const s = await loadFixture('volume-node-affinity');
    const node = s.nodes.find((n) => n.metadata.name === 'kwok-node-4')!;
    node.status!.conditions = node.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' } : c));
    node.spec = { ...node.spec, taints: [] };
    expect(diagnose(s).findings.filter((f) => f.rule === 'volume-node-affinity')).toEqual([]);
  });

  it('says the node no longer exists when it is absent from a readable node list, and unknown when nodes are unreadable', async () => {
    const s = await loadFixture('volume-node-affinity');
    s.nodes = s.nodes.filter((n) => n.metadata.name !== 'kwok-node-4');
    const f = one(diagnose(s).findings, 'volume-node-affinity');
    expect(f.details).toMatchObject({ nodeStates: { 'kwok-node-4': 'Deleted' } });
    expect(f.evidence.some((e) => e.type === 'absence' && e.object.name === 'kwok-node-4')).toBe(true);

    const t = await loadFixture('volume-node-affinity');
    t.nodes = [];
    t.gaps.push({ resource: 'nodes', reason: 'forbidden', message: 'nodes: forbidden' });
    const g = one(diagnose(t).findings, 'volume-node-affinity');
    expect(g.details).toMatchObject({ nodeStates: { 'kwok-node-4': 'Unknown' } });
    expect(g.confidence).toBe('low');
  });

  it('matches both wordings of the reason', () => {
    expect(VOLUME_AFFINITY_REASON.test('0/3 nodes are available: 3 node(s) had volume node affinity conflict.')).toBe(true);
    expect(VOLUME_AFFINITY_REASON.test("0/3 nodes are available: 3 node(s) didn't match PersistentVolume's node affinity.")).toBe(true);
    expect(VOLUME_AFFINITY_REASON.test("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")).toBe(false);
  });
});

describe('node deleted (recorded: kwok-node-4 failed, then its Node object deleted)', () => {
  it('node-lost reports the pod bound to a Node that no longer exists, and proposes only the force delete', async () => {
    const d = await diagnoseFixture('node-lost-deleted');
    const f = one(d.findings, 'node-lost');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-1' });
    expect(f.details).toMatchObject({ node: 'kwok-node-4', nodeState: 'Deleted' });
    expect(f.summary).toContain('node kwok-node-4 no longer exists');
    expect(f.explanation).toContain('pod GC controller');
    expect(f.evidence[0]).toMatchObject({ type: 'absence', object: { kind: 'Node', name: 'kwok-node-4' }, text: 'Node kwok-node-4 does not exist' });
    // Its local PV is pinned to the deleted node: a force delete would only strand the replacement.
    expect(f.recoveries.map((r) => r.id)).toEqual(['manual', 'manual']);
    expect(f.recoveries[0]!.title).toBe('Bring node kwok-node-4 back');
    expect(d.findings[0]!.rule).toBe('node-lost');
  });

  it('node-lost stays silent when the node list could not be read (unknown is not deleted)', async () => {
    const s = await loadFixture('node-lost-deleted');
    s.gaps.push({ resource: 'nodes', reason: 'forbidden', message: 'nodes: forbidden' });
    expect(diagnose(s).findings.filter((f) => f.rule === 'node-lost')).toEqual([]);
  });

  it('volume-node-affinity: the recreated quiz-1 is pinned to the deleted node', async () => {
    const d = await diagnoseFixture('volume-node-affinity-deleted');
    const f = one(d.findings, 'volume-node-affinity');
    expect(f.details).toMatchObject({ nodes: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Deleted' } });
    // The deleted node is not counted at all: only the five remaining nodes.
    const reasons = f.details!.reasons as { count: number; reason: string }[];
    expect(reasons.some((r) => r.reason === "node(s) didn't match PersistentVolume's node affinity")).toBe(true);
    expect(reasons.reduce((n, r) => n + r.count, 0)).toBe(5);
    expect(f.summary).toMatch(/can only be used on kwok-node-4, and node kwok-node-4 no longer exists$/);
    expect(f.evidence.some((e) => e.type === 'absence' && e.object.name === 'kwok-node-4')).toBe(true);
    expect(f.recoveries.map((r) => r.id)).toEqual(['manual', 'manual']);
    // No node-lost: the recreated pod is bound to no node.
    expect(d.findings.filter((x) => x.rule === 'node-lost')).toEqual([]);
  });

  it('volume-node-affinity reads the 1.32 wording of the deleted-node case', async () => {
    const s = await loadFixture('volume-node-affinity-deleted');
    rewordAll(s, to132);
    const f = one(diagnose(s).findings, 'volume-node-affinity');
    expect(f.details).toMatchObject({ nodeStates: { 'kwok-node-4': 'Deleted' } });
    expect((f.details!.reasons as { reason: string }[]).some((r) => r.reason === 'node(s) had volume node affinity conflict')).toBe(true);
  });
});

/** Recorded 1.36 text -> the 2026 "Waiting for detach" rewording (prefix and tail differ, reason and PV name kept). */
function toWaitingForDetach(m: string): string {
  return m.replace(/^Multi-Attach error for volume ("[^"]+") .*$/, 'Waiting for detach for volume $1 Volume is already attached to another node, waiting on detach before it can be attached to another node');
}

describe('multi-attach (recorded: iSCSI volume of quiz-1 still attached to unreachable kwok-node-4)', () => {
  it('names the volume, the node still holding it, its state, and proposes the out-of-service taint', async () => {
    const d = await diagnoseFixture('multi-attach');
    const f = one(d.findings, 'multi-attach');
    expect(d.findings[0]!.rule).toBe('multi-attach');
    expect(f.severity).toBe('critical');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-1' });
    const pv = f.details!.pv as string;
    expect(pv).toMatch(/-pv-1$/);
    expect(f.details).toMatchObject({ claim: 'db-data-quiz-1', attachedTo: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Unreachable' }, usedBy: [] });
    expect(f.details!.podNode).not.toBe('kwok-node-4');
    expect(f.summary).toBe(`Pod quiz-1 on ${f.details!.podNode as string} cannot attach volume ${pv}: it is still attached to node kwok-node-4, which is unreachable (Ready=Unknown)`);
    expect(f.evidence.map((e) => `${e.object.kind} ${e.label}`)).toEqual([
      'Pod Warning FailedAttachVolume',
      'PersistentVolumeClaim spec.volumeName',
      'PersistentVolume spec.accessModes',
      'Node status.volumesAttached',
      'Node status.volumesInUse',
      'Node status.conditions[Ready]',
      'Node spec.taints',
    ]);
    expect(f.evidence[0]!.text).toBe(`Multi-Attach error for volume "${pv}" Volume is already exclusively attached to one node and can't be attached to another`);
    expect(f.evidence[3]!.text).toMatch(/^kubernetes\.io\/iscsi\/127\.0\.0\.1:3260:iqn\..+:0$/);
    expect(f.recoveries.map((r) => r.id)).toEqual(['out-of-service-taint', 'manual']);
    expect(f.recoveries[0]!.target).toEqual({ kind: 'Node', name: 'kwok-node-4' });
    expect(f.recoveries[0]!.description).toContain('powered off');
    expect(f.recoveries[1]!.description).toContain('6 minutes');
    expect(f.confidence).toBe('high');
  });

  it('reads the 2026 "Waiting for detach" wording by reason and PV name', async () => {
    const s = await loadFixture('multi-attach');
    rewordEvents(s, (m, e) => (e.reason === 'FailedAttachVolume' ? toWaitingForDetach(m) : m));
    expect(s.events.some((e) => e.message?.startsWith('Waiting for detach'))).toBe(true);
    const f = one(diagnose(s).findings, 'multi-attach');
    expect(f.details).toMatchObject({ attachedTo: ['kwok-node-4'] });
  });

  it('names the pods of the "already used by pod(s)" wording', async () => {
    const s = await loadFixture('multi-attach');
    rewordEvents(s, (m, e) => (e.reason === 'FailedAttachVolume' ? m.replace(/Volume is already exclusively attached.*$/, 'Volume is already used by pod(s) quiz-1-old, other-0') : m));
    const f = one(diagnose(s).findings, 'multi-attach');
    expect(f.details!.usedBy).toEqual(['quiz-1-old', 'other-0']);
  });

  it('without a readable node list, still names nothing it cannot see (low confidence)', async () => {
    const s = await loadFixture('multi-attach');
    s.nodes = [];
    s.gaps.push({ resource: 'nodes', reason: 'forbidden', message: 'nodes: forbidden' });
    const f = one(diagnose(s).findings, 'multi-attach');
    // In-tree iSCSI makes no VolumeAttachment: only node.status.volumesAttached says where it is.
    expect(f.details).toMatchObject({ attachedTo: [] });
    expect(f.summary).toContain('another node (sts-doctor could not see which)');
    expect(f.confidence).toBe('low');
  });

  it('does not fire for an ordinary attach failure, nor once the pod is Ready', async () => {
    const s = await loadFixture('multi-attach');
    rewordEvents(s, (m, e) => (e.reason === 'FailedAttachVolume' ? m.replace(/^Multi-Attach error for volume ("[^"]+").*$/, 'AttachVolume.Attach failed for volume $1 : rpc error: code = DeadlineExceeded') : m));
    expect(diagnose(s).findings.filter((f) => f.rule === 'multi-attach')).toEqual([]);

    const t = await loadFixture('multi-attach');
    const pod = t.pods.find((p) => p.metadata.name === 'quiz-1')!;
    pod.status = { ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    expect(diagnose(t).findings.filter((f) => f.rule === 'multi-attach')).toEqual([]);
  });

  it('matches the three wordings and extracts the PV name', () => {
    for (const m of [
      'Multi-Attach error for volume "pv-1" Volume is already exclusively attached to one node and can\'t be attached to another',
      'Multi-Attach error for volume "pv-1" Volume is already used by pod(s) web-0 and 1 pod(s) in different namespaces',
      'Waiting for detach for volume "pv-1" waiting on detach before it can be attached to another node',
    ]) {
      expect(isMultiAttachMessage(m)).toBe(true);
      expect(attachEventVolume(m)).toBe('pv-1');
    }
    expect(isMultiAttachMessage('AttachVolume.Attach failed for volume "pv-1" : timed out waiting for external-attacher')).toBe(false);
    // The volume's own name does not count.
    expect(isMultiAttachMessage('AttachVolume.Attach failed for volume "db-multi-attach-1" : rpc error: code = DeadlineExceeded')).toBe(false);
  });
});

describe('multi-attach, CSI (recorded: the controller VolumeAttachment to unreachable kwok-node-4 still attached)', () => {
  it('quotes the VolumeAttachment (spec.nodeName, status.attached) and the node status.volumesAttached', async () => {
    const d = await diagnoseFixture('multi-attach-csi');
    const f = one(d.findings, 'multi-attach');
    expect(d.findings[0]!.rule).toBe('multi-attach');
    const pv = f.details!.pv as string;
    expect(f.details).toMatchObject({ claim: 'db-data-quiz-1', attachedTo: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Unreachable' } });
    expect(f.evidence.map((e) => `${e.object.kind} ${e.label}`)).toEqual([
      'Pod Warning FailedAttachVolume',
      'PersistentVolumeClaim spec.volumeName',
      'PersistentVolume spec.accessModes',
      'VolumeAttachment spec.nodeName',
      'VolumeAttachment status.attached',
      'Node status.volumesAttached',
      'Node status.volumesInUse',
      'Node status.conditions[Ready]',
      'Node spec.taints',
    ]);
    expect(f.evidence[0]!.text).toBe(`Multi-Attach error for volume "${pv}" Volume is already exclusively attached to one node and can't be attached to another`);
    expect(f.evidence[3]!.text).toBe('kwok-node-4');
    expect(f.evidence[4]!.text).toBe('true');
    expect(f.evidence[5]!.text).toMatch(/^kubernetes\.io\/csi\/csi\.sts-doctor\.test\^.+-vol-1$/);
    expect(f.recoveries.map((r) => r.id)).toEqual(['out-of-service-taint', 'manual']);
    expect(f.recoveries[1]!.commands![0]).toBe(`kubectl get volumeattachment -o wide | grep ${pv}`);
  });

  it('finds the holder from the VolumeAttachment alone when nodes cannot be read', async () => {
    const s = await loadFixture('multi-attach-csi');
    s.nodes = [];
    s.gaps.push({ resource: 'nodes', reason: 'forbidden', message: 'nodes: forbidden' });
    const f = one(diagnose(s).findings, 'multi-attach');
    expect(f.details).toMatchObject({ attachedTo: ['kwok-node-4'], nodeStates: { 'kwok-node-4': 'Unknown' } });
    // Node state unknown: no out-of-service taint is proposed on a node sts-doctor cannot see.
    expect(f.recoveries.map((r) => r.id)).toEqual(['manual']);
    expect(f.confidence).toBe('low');
  });

  it('reads the 2026 "Waiting for detach" wording', async () => {
    const s = await loadFixture('multi-attach-csi');
    rewordEvents(s, (m, e) => (e.reason === 'FailedAttachVolume' ? toWaitingForDetach(m) : m));
    expect(one(diagnose(s).findings, 'multi-attach').details).toMatchObject({ attachedTo: ['kwok-node-4'] });
  });
});
