// The first rules on snapshots recorded from the real control plane (test/fixtures, recorded by
// test/e2e/diagnose.test.ts with STS_DOCTOR_RECORD=1), and the same snapshots reworded as
// other Kubernetes versions write the messages.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { exitCodeOf } from '../../src/commands/diagnose.js';
import type { Finding } from '../../src/rules/types.js';
import { condition } from '../../src/snapshot/view.js';
import { diagnoseFixture, loadFixture, rewordEvents } from './fixtures.js';

function one(findings: Finding[], rule: string): Finding {
  const f = findings.filter((x) => x.rule === rule);
  expect(f, findings.map((x) => `${x.rule}:${x.subject.name}`).join(' ')).toHaveLength(1);
  return f[0]!;
}

describe('healthy (recorded)', () => {
  it('has no findings, exit 0, and a full table', async () => {
    const d = await diagnoseFixture('healthy');
    expect(d.findings).toEqual([]);
    expect(exitCodeOf(d)).toBe(0);
    expect(d.statefulSets[0]!.table.map((r) => `${r.pod} ${r.status} ${r.readyContainers} ${r.claims[0]!.phase}`)).toEqual([
      'quiz-0 Running 2/2 Bound',
      'quiz-1 Running 2/2 Bound',
      'quiz-2 Running 2/2 Bound',
    ]);
  });

  it('is judged unhealthy when the controller status has not converged, even with no rule firing', async () => {
    const d = await diagnoseFixture('healthy', (s) => {
      s.statefulSets[0]!.status!.readyReplicas = 2;
    });
    expect(d.statefulSets[0]!.healthy).toBe(false);
    expect(exitCodeOf(d)).toBe(1);
    expect(d.findings.map((f) => f.rule)).toEqual(['pod-not-ready']);
  });
});

describe('node-lost (recorded: kwok-node-3 stopped renewing its lease)', () => {
  it('names the Terminating pod, the node, its heartbeat and the at-most-one risk', async () => {
    const d = await diagnoseFixture('node-lost');
    const f = one(d.findings, 'node-lost');
    expect(f.subject.name).toBe('quiz-1');
    expect(f.details).toMatchObject({ node: 'kwok-node-3', nodeState: 'Unreachable', terminating: true });
    expect(f.explanation).toMatch(/two copies/);
    expect(f.evidence.map((e) => e.label)).toEqual(expect.arrayContaining(['status.conditions[Ready]', 'spec.taints', 'metadata.deletionTimestamp', 'Warning NodeNotReady', 'Normal TaintManagerEviction']));
    expect(d.findings[0]).toBe(f);
  });

  it('reports a pod whose node object was deleted', async () => {
    const d = await diagnoseFixture('node-lost', (s) => {
      s.nodes = s.nodes.filter((n) => n.metadata.name !== 'kwok-node-3');
    });
    const f = one(d.findings, 'node-lost');
    expect(f.details).toMatchObject({ nodeState: 'Deleted' });
    expect(f.evidence.some((e) => e.type === 'absence' && e.object.name === 'kwok-node-3')).toBe(true);
  });

  it('says nothing about nodes it could not read', async () => {
    const d = await diagnoseFixture('node-lost', (s) => {
      s.nodes = [];
      s.gaps.push({ resource: 'nodes', reason: 'forbidden', message: 'nodes: forbidden' });
    });
    expect(d.findings.filter((f) => f.rule === 'node-lost')).toEqual([]);
    expect(d.findings.some((f) => f.summary.includes('kwok-node-3') && /does not exist|deleted/.test(f.summary))).toBe(false);
  });

  it('reads a kubelet that reports NotReady (Ready=False) as NotReady', async () => {
    const s = await loadFixture('node-lost');
    const node = s.nodes.find((n) => n.metadata.name === 'kwok-node-3')!;
    Object.assign(condition(node.status!.conditions, 'Ready')!, { status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
    const f = one(diagnose(s).findings, 'node-lost');
    expect(f.details).toMatchObject({ nodeState: 'NotReady' });
  });
});

describe('ordered-ready-stall (recorded: quiz-0 readiness probe fails)', () => {
  it('names the blocker, why, and the ordinals never created', async () => {
    const d = await diagnoseFixture('ordered-ready-stall');
    const f = one(d.findings, 'ordered-ready-stall');
    expect(f.subject.name).toBe('quiz-0');
    expect(f.details).toMatchObject({ blocker: 'quiz-0', missingOrdinals: [1, 2], reason: 'readiness probe failing' });
    expect(f.evidence.find((e) => e.label === 'Warning Unhealthy')!.text).toMatch(/^Readiness probe failed: /);
    expect(f.recoveries.map((r) => r.id)).toEqual(['delete-pod', 'manual']);
    expect(f.explanation).toMatch(/quorum/);
  });

  it('offers no readiness change when the blocker cannot even start (image pull)', async () => {
    const d = await diagnoseFixture('image-pull');
    const f = one(d.findings, 'ordered-ready-stall');
    expect(f.details).toMatchObject({ reason: 'ImagePullBackOff', missingOrdinals: [1, 2] });
    expect(f.recoveries.map((r) => r.id)).toEqual(['delete-pod']);
    expect(f.explanation).not.toMatch(/quorum/);
  });

  it('accepts the probe-errored wording', async () => {
    const d = await diagnoseFixture('ordered-ready-stall', (s) =>
      rewordEvents(s, (m, e) => (e.reason === 'Unhealthy' ? 'Readiness probe errored and resulted in unknown state: rpc error: code = Unknown desc = failed to exec in container' : m)),
    );
    expect(one(d.findings, 'ordered-ready-stall').details).toMatchObject({ reason: 'readiness probe failing' });
  });

  it('does not fire under Parallel', async () => {
    const d = await diagnoseFixture('ordered-ready-stall', (s) => {
      s.statefulSets[0]!.spec.podManagementPolicy = 'Parallel';
    });
    expect(d.findings.some((f) => f.rule === 'ordered-ready-stall')).toBe(false);
    expect(d.findings.length).toBeGreaterThan(0);
  });

  it('honours ordinals.start', async () => {
    const d = await diagnoseFixture('ordered-ready-stall', (s) => {
      const sts = s.statefulSets[0]!;
      sts.spec.ordinals = { start: 0 };
      sts.spec.replicas = 2;
    });
    expect(one(d.findings, 'ordered-ready-stall').details).toMatchObject({ missingOrdinals: [1] });
  });
});

describe('pvc-unbound (recorded: no class, no PV)', () => {
  it('names the claim and the cause with the PV controller event', async () => {
    const d = await diagnoseFixture('pvc-unbound');
    const f = one(d.findings, 'pvc-unbound');
    expect(f.subject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'db-data-quiz-0' });
    expect(f.details).toMatchObject({ cause: 'no-storage-class' });
    expect(f.evidence.some((e) => e.label === 'Normal FailedBinding' && e.text === 'no persistent volumes available for this claim and no storage class is set')).toBe(true);
    expect(d.findings[0]).toBe(f);
  });

  it('still finds the cause from the objects when events could not be read', async () => {
    const d = await diagnoseFixture('pvc-unbound', (s) => {
      s.events = [];
      s.gaps.push({ resource: 'events', reason: 'forbidden', message: 'events: forbidden' });
    });
    const f = one(d.findings, 'pvc-unbound');
    expect(f.details).toMatchObject({ cause: 'no-storage-class' });
    expect(f.confidence).toBe('low');
  });
});

describe('image-pull (recorded)', () => {
  it('finds the pull failure of quiz-0 with the kubelet events', async () => {
    const d = await diagnoseFixture('image-pull');
    const f = d.findings.find((x) => x.rule === 'image-pull' && (x.details as { container: string }).container === 'mongo')!;
    expect(f.subject.name).toBe('quiz-0');
    expect(f.details).toMatchObject({ cause: 'not-found', reason: 'ImagePullBackOff' });
    expect(f.evidence.some((e) => e.label === 'Warning Failed' && /^Failed to pull image "/.test(e.text))).toBe(true);
  });

  it('classifies from the events alone with the pre-1.32 waiting message', async () => {
    const d = await diagnoseFixture('image-pull', (s) => {
      for (const p of s.pods)
        for (const c of p.status?.containerStatuses ?? []) {
          const w = c.state?.waiting;
          if (w?.reason === 'ImagePullBackOff') w.message = `Back-off pulling image "${c.image}"`;
        }
    });
    const f = d.findings.find((x) => x.rule === 'image-pull' && (x.details as { container: string }).container === 'mongo')!;
    expect(f.details).toMatchObject({ cause: 'not-found' });
  });
});

describe('image-pull after the template was fixed (recorded rollout-stuck)', () => {
  it('proposes deleting the pod rather than fixing the image again', async () => {
    const d = await diagnoseFixture('workload-rollout-stuck');
    const f = d.findings.find((x) => x.rule === 'image-pull')!;
    const details = f.details as { image: string; templateImage?: string };
    expect(details.templateImage).toBeDefined();
    expect(details.templateImage).not.toBe(details.image);
    expect(f.recoveries.map((r) => r.id)).toEqual(['delete-pod']);
    expect(f.evidence.some((e) => e.type === 'spec' && e.text === details.templateImage)).toBe(true);
  });
});

describe('events without a message (fuzz seed 1876764364, case 1041)', () => {
  it('a probe or mount failure with no message is named by its reason, never "undefined"', async () => {
    const d = await diagnoseFixture('workload-probe-failing', (s) => {
      for (const e of s.events) delete e.message;
    });
    const text = JSON.stringify(d.findings);
    expect(d.findings.length).toBeGreaterThan(0);
    expect(text).not.toContain('undefined');
    expect(text).toContain('(Warning Unhealthy, with no message)');
  });
});
