// End to end: the quiz scenario on the real control plane, one fault at a time, each in a
// fresh namespace; sts-doctor is run as a user runs it (bin/sts-doctor.js, a kubeconfig).
import { describe, expect, it } from 'vitest';
import { scenarios } from '../scenarios/quiz.mjs';
import { diagnoseJson, onlyFinding, runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const setUp = (name: keyof typeof scenarios) => namespaces.scenario(scenarios, name);
const only = onlyFinding;

describe('diagnose on the real control plane', () => {
  it('healthy quiz: exit 0, no findings, three Ready replicas', async () => {
    const { ns } = await setUp('healthy');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(diagnosis.findings).toEqual([]);
    expect(result.code).toBe(0);
    const sts = diagnosis.statefulSets[0]!;
    expect(sts.healthy).toBe(true);
    expect(sts.table.map((r) => [r.pod, r.status, r.ready, r.claims[0]?.phase])).toEqual([
      ['quiz-0', 'Running', true, 'Bound'],
      ['quiz-1', 'Running', true, 'Bound'],
      ['quiz-2', 'Running', true, 'Bound'],
    ]);
    // A healthy StatefulSet: 1 GET of the StatefulSet, 7 LISTs, its events (by involvedObject), 1 GET
    // /version, and its nodes and PVs by name (the nodes by hostname label, a GET per PV, the PV Table).
    expect(diagnosis.source).toMatchObject({ type: 'cluster', requests: 15 });

    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('StatefulSet ' + ns + '/quiz  healthy  3/3 ready');
    expect(text.stdout).toContain('No problems found');
  });

  it('image pull failure: image-pull on quiz-0, cause not-found, quoting the kubelet', async () => {
    const { ns, expected } = await setUp('image-pull');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'image-pull');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0', namespace: ns });
    expect(f.details).toMatchObject({ image: expected.image, cause: 'not-found', container: 'mongo' });
    expect(f.evidence.some((e) => e.label.endsWith('state.waiting') && e.text.startsWith('ImagePullBackOff'))).toBe(true);
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning Failed' && e.text.includes(`Failed to pull image "${expected.image}"`))).toBe(true);
    // Root cause first; the OrderedReady stall it causes comes after.
    expect(diagnosis.findings[0]!.rule).toBe('image-pull');
  });

  it('OrderedReady stall: quiz-0 never Ready, quiz-1 and quiz-2 never created', async () => {
    const { ns } = await setUp('ordered-ready-stall');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'ordered-ready-stall');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-0' });
    expect(f.details).toMatchObject({ blocker: 'quiz-0', missingOrdinals: [1, 2], reason: 'readiness probe failing' });
    expect(f.evidence.some((e) => e.label === 'Warning Unhealthy' && /^Readiness probe failed: /.test(e.text))).toBe(true);
    expect(f.evidence.filter((e) => e.type === 'absence').map((e) => e.object.name)).toEqual(['quiz-1', 'quiz-2']);
  });

  it('node lost: quiz-1 stuck Terminating on a node that stopped reporting', async () => {
    const { ns, expected } = await setUp('node-lost');
    try {
      const { result, diagnosis } = await diagnoseJson(ns);
      expect(result.code).toBe(1);
      const f = only(diagnosis.findings, 'node-lost');
      expect(f.subject).toMatchObject({ kind: 'Pod', name: 'quiz-1' });
      expect(f.details).toMatchObject({ node: expected.node, nodeState: 'Unreachable', terminating: true });
      expect(f.evidence.some((e) => e.object.kind === 'Node' && e.label === 'status.conditions[Ready]' && e.text.includes('NodeStatusUnknown') && e.text.includes('Kubelet stopped posting node status.'))).toBe(true);
      expect(f.evidence.some((e) => e.label === 'spec.taints' && e.text.includes('node.kubernetes.io/unreachable'))).toBe(true);
      expect(f.evidence.some((e) => e.label === 'metadata.deletionTimestamp')).toBe(true);
      // quiz-1's local PV is pinned to the lost node: freeing the pod would not let it run elsewhere (issue 7).
      expect(f.recoveries[0]).toMatchObject({ id: 'manual', title: `Bring node ${expected.node} back` });
      expect(f.recoveries.map((r) => r.id)).not.toContain('force-delete-pod');
      expect(diagnosis.findings[0]!.rule).toBe('node-lost');
    } finally {
      await scenarios['node-lost'].teardown(ns, expected);
    }
  });

  it('PVC never binds: no storage class and no PV', async () => {
    const { ns, expected } = await setUp('pvc-unbound');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = only(diagnosis.findings, 'pvc-unbound');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: expected.claim });
    expect(f.details).toMatchObject({ cause: 'no-storage-class', pod: 'quiz-0' });
    expect(f.evidence.some((e) => e.label === 'Normal FailedBinding' && e.text === 'no persistent volumes available for this claim and no storage class is set')).toBe(true);
    expect(diagnosis.findings[0]!.rule).toBe('pvc-unbound');
  });
});
