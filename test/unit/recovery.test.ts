// Recovery plans on snapshots recorded from the real control plane, the non-interactive policy,
// and the ink prompts (unstyled frames through ink-testing-library).
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { OUT_OF_SERVICE_TAINT, PlanError, findingsOffering, planRecovery, renderPlan, type PlanRequest } from '../../src/recovery/plan.js';
import { recoverCommand } from '../../src/recovery/command.js';
import { describeChanges, outOfServiceLeftovers, parseDuration } from '../../src/commands/recover.js';
import { isConflict } from '../../src/recovery/execute.js';
import { ApiError } from '../../src/errors.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { SnapshotView } from '../../src/snapshot/view.js';
import { NonInteractivePrompter } from '../../src/ui/prompter.js';
import { Confirm, Select, TypeName } from '../../src/ui/ink/components.js';
import { fixturePath, loadFixture } from './fixtures.js';
import { existsSync } from 'node:fs';

async function planFor(fixture: string, req: PlanRequest, edit?: (s: Snapshot) => void) {
  const s = await loadFixture(fixture);
  edit?.(s);
  const view = new SnapshotView(s);
  const sts = s.statefulSets[0]!;
  const d = diagnose(s);
  const offered = findingsOffering(d.findings, sts, req.recovery, { pod: req.pod, node: req.node });
  return { plan: planRecovery(view, sts, { ...req, finding: req.finding ?? offered[0]?.finding }, d.findings), snapshot: s, diagnosis: d };
}

describe('plans on recorded snapshots', () => {
  it('node-lost: force-delete-pod is a DELETE with grace 0 and uid+resourceVersion preconditions, shows the heartbeat and the two-copies risk, asks for the name', async () => {
    const { plan, snapshot } = await planFor('node-lost', { recovery: 'force-delete-pod' });
    const pod = snapshot.pods.find((p) => p.metadata.name === 'quiz-1')!;
    expect(plan.steps).toHaveLength(1);
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'DELETE', path: `/api/v1/namespaces/${snapshot.namespace}/pods/quiz-1`, query: { gracePeriodSeconds: 0 } });
    expect(call.body).toMatchObject({ kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion } });
    expect(plan.facts[0]).toMatch(/^Node kwok-node-3 stopped reporting \(Ready=Unknown\) \(NodeStatusUnknown: Kubelet stopped posting node status.\); last heartbeat \S+, \S+ ago\.$/);
    expect(plan.risks.join(' ')).toContain('two copies of this identity will run at once');
    expect(plan.confirm).toEqual({ type: 'name', name: 'quiz-1', question: expect.stringContaining('quiz-1') });
    expect(plan.steps[0]!.kubectl).toBe(`kubectl -n ${snapshot.namespace} delete pod quiz-1 --grace-period=0 --force`);
  });

  it('node-lost: out-of-service-taint patches spec.taints with a resourceVersion precondition, and offers the removal afterwards', async () => {
    const { plan, snapshot } = await planFor('node-lost', { recovery: 'out-of-service-taint' });
    const node = snapshot.nodes.find((n) => n.metadata.name === 'kwok-node-3')!;
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'PATCH', path: '/api/v1/nodes/kwok-node-3', contentType: 'application/json-patch+json' });
    // Conditional on the node (uid) and on its taints being those of the plan; existing taints are kept.
    const ops = call.body as { op: string; path: string; value: unknown }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /metadata/uid', 'test /spec/taints', 'replace /spec/taints']);
    expect(ops[0]!.value).toBe(node.metadata.uid);
    expect(ops[1]!.value).toEqual(node.spec?.taints);
    expect((ops[2]!.value as { key: string }[]).map((t) => t.key)).toEqual([...(node.spec?.taints ?? []).map((t) => t.key), OUT_OF_SERVICE_TAINT.key]);
    expect(isConflict(new ApiError('PATCH: 422 Invalid', 422), call)).toBe(true);
    expect(isConflict(new ApiError('DELETE: 409 Conflict', 409), plan.steps[0]!.call!)).toBe(true);
    expect(isConflict(new ApiError('PATCH: 403 Forbidden', 403), call)).toBe(false);
    expect(plan.followUp[0]).toContain('--action remove-out-of-service-taint --node kwok-node-3');
    expect(plan.confirm).toMatchObject({ type: 'name', name: 'kwok-node-3' });
  });

  it('node-lost: delete-pvc-and-pod deletes the claim, then force-deletes the pod, then waits for the claim (pvc-protection)', async () => {
    const { plan, snapshot } = await planFor('node-lost', { recovery: 'delete-pvc-and-pod', pod: 'quiz-1' });
    const claim = snapshot.persistentVolumeClaims.find((c) => c.metadata.name === 'db-data-quiz-1')!;
    expect(plan.steps.map((s) => (s.call ? `${s.call.method} ${s.call.object.kind}/${s.call.object.name}` : `wait ${s.waitGone!.what}`))).toEqual([
      'DELETE PersistentVolumeClaim/db-data-quiz-1',
      'DELETE Pod/quiz-1',
      'wait PVC db-data-quiz-1',
    ]);
    expect(plan.steps[0]!.call!.body).toMatchObject({ preconditions: { uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion } });
    // The pod: uid only (deleting its claim makes the scheduler update its status), grace 0 (its node is down).
    expect(plan.steps[1]!.call!.body).toMatchObject({ gracePeriodSeconds: 0, preconditions: { uid: snapshot.pods.find((p) => p.metadata.name === 'quiz-1')!.metadata.uid } });
    expect(plan.steps[1]!.call!.body).not.toHaveProperty('preconditions.resourceVersion');
    expect(plan.facts.join('\n')).toMatch(/PVC db-data-quiz-1: Bound, 1Gi, PV \S+ \(reclaim policy Retain\)/);
    expect(plan.facts.join('\n')).toContain('whenDeleted=Retain, whenScaled=Retain');
    expect(plan.risks[0]).toContain('data of replica quiz-1');
    expect(plan.confirm).toMatchObject({ type: 'name', name: 'db-data-quiz-1' });
  });

  it('refuses what does not fit: force delete on a Ready node, delete-pvc-and-pod of healthy claims, graceful delete on a lost node, rollback without history', async () => {
    await expect(planFor('ordered-ready-stall', { recovery: 'force-delete-pod', pod: 'quiz-0' })).rejects.toThrow(/is Ready: a force delete is only for a pod on a node that stopped reporting/);
    await expect(planFor('ordered-ready-stall', { recovery: 'delete-pvc-and-pod', pod: 'quiz-0' })).rejects.toThrow(/would only destroy data/);
    await expect(planFor('node-lost', { recovery: 'delete-pod', pod: 'quiz-1' })).rejects.toThrow(/use force-delete-pod or out-of-service-taint/);
    await expect(planFor('healthy', { recovery: 'delete-pod', pod: 'quiz-0' })).rejects.toThrow(PlanError);
    await expect(planFor('image-pull', { recovery: 'rollback' })).rejects.toThrow(/has no revision before/);
    await expect(planFor('ordered-ready-stall', { recovery: 'out-of-service-taint', node: 'kwok-node-0' })).rejects.toThrow(/is Ready/);
  });

  it('ordered-ready-stall: delete-pod of the blocker, plain yes; warns that the pod is already on the update revision', async () => {
    const { plan, snapshot } = await planFor('ordered-ready-stall', { recovery: 'delete-pod' });
    const pod = snapshot.pods.find((p) => p.metadata.name === 'quiz-0')!;
    expect(plan.finding?.subject.name).toBe('quiz-0');
    expect(plan.steps[0]!.call!.body).toMatchObject({ preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion }, propagationPolicy: 'Background' });
    expect(plan.confirm.type).toBe('yes');
    expect(plan.risks[0]).toContain('already on the update revision');
    const text = renderPlan(plan);
    expect(text).toContain(`DELETE /api/v1/namespaces/${snapshot.namespace}/pods/quiz-0`);
    expect(text).toContain(`$ kubectl -n ${snapshot.namespace} delete pod quiz-0`);
  });

  it('bad rollout: rollback patches the previous revision data (strategic merge, $patch replace) with a resourceVersion, then deletes the stuck pod', async () => {
    const { plan, snapshot } = await planFor('recovery-bad-rollout', { recovery: 'rollback' });
    const sts = snapshot.statefulSets[0]!;
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'PATCH', contentType: 'application/strategic-merge-patch+json', path: `/apis/apps/v1/namespaces/${snapshot.namespace}/statefulsets/quiz` });
    const body = call.body as { metadata: { resourceVersion: string }; spec: { template: Record<string, unknown> } };
    expect(body.metadata.resourceVersion).toBe(sts.metadata.resourceVersion);
    expect(body.spec.template.$patch).toBe('replace');
    expect(JSON.stringify(body.spec.template)).toContain('"image":"mongo:5"');
    expect(plan.steps.slice(1).map((s) => s.call!.object.name)).toEqual(['quiz-2']);
  });

  it('replacement Pending on the lost node\'s PV: delete-pvc-and-pod deletes the claim and the Pending pod (no force)', async () => {
    const { plan } = await planFor('recovery-pv-node-lost', { recovery: 'delete-pvc-and-pod', pod: 'quiz-1' });
    expect(plan.steps[1]!.call!.body).not.toHaveProperty('gracePeriodSeconds');
    expect(plan.facts.join('\n')).toMatch(/is pinned to kwok-node-5, which is Unreachable/);
  });

  it('every automated recovery a rule proposes on a recorded snapshot can be planned or is refused with a sentence (never a crash)', async () => {
    for (const name of ['node-lost', 'ordered-ready-stall', 'image-pull', 'pvc-unbound', 'volume-node-affinity', 'workload-rollout-stuck', 'workload-scale-down-blocked', 'workload-crash-loop']) {
      if (!existsSync(fixturePath(name))) continue;
      const s = await loadFixture(name);
      const view = new SnapshotView(s);
      const d = diagnose(s);
      for (const f of d.findings)
        for (const o of f.recoveries) {
          const sts = s.statefulSets.find((x) => x.metadata.name === f.statefulSet.name)!;
          try {
            const plan = planRecovery(view, sts, { recovery: o.id, finding: f }, d.findings);
            expect(plan.recovery).toBe(o.id);
            if (o.automated) expect(plan.steps.length, `${name} ${f.rule} ${o.id}`).toBeGreaterThan(0);
          } catch (err) {
            expect(err, `${name} ${f.rule} ${o.id}: ${(err as Error).message}`).toBeInstanceOf(PlanError);
          }
        }
    }
  });

  it('recoverCommand: the command line for a recovery, with its target', () => {
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz', namespace: 'demo' }, { id: 'delete-pod', title: '', description: '', automated: true, target: { kind: 'Pod', name: 'quiz-0' } })).toBe(
      'sts-doctor recover quiz -n demo --action delete-pod --pod quiz-0 --yes',
    );
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz' }, { id: 'out-of-service-taint', title: '', description: '', automated: true, target: { kind: 'Node', name: 'n1' } })).toBe(
      'sts-doctor recover quiz --action out-of-service-taint --node n1 --yes',
    );
  });

  it('describeChanges names a replaced pod by its uids', async () => {
    const { plan, snapshot } = await planFor('ordered-ready-stall', { recovery: 'delete-pod' });
    const old = plan.steps[0]!.call!.object.uid;
    const changed = structuredClone(snapshot);
    changed.pods.find((p) => p.metadata.name === 'quiz-0')!.metadata.uid = 'new-uid';
    expect(describeChanges(plan, changed)).toEqual([`Pod quiz-0 was replaced: the plan was for uid ${old}, the object now has uid new-uid. It was not touched.`]);
    expect(describeChanges(plan, snapshot)).toEqual(['Pod quiz-0 is unchanged.']);
  });

  it('a node left with the out-of-service taint is offered remove-out-of-service-taint as its own step, which plans a conditional patch', async () => {
    const s = await loadFixture('healthy');
    const node = s.nodes.find((n) => n.metadata.name === 'kwok-node-0')!;
    expect(outOfServiceLeftovers(s, s.statefulSets[0]!)).toEqual([]);
    node.spec = { ...(node.spec ?? {}), taints: [{ ...OUT_OF_SERVICE_TAINT }] };
    const [f] = outOfServiceLeftovers(s, s.statefulSets[0]!);
    expect(f).toMatchObject({ subject: { kind: 'Node', name: 'kwok-node-0' }, summary: expect.stringContaining('is Ready again'), recoveries: [{ id: 'remove-out-of-service-taint' }] });
    const plan = planRecovery(new SnapshotView(s), s.statefulSets[0]!, { recovery: 'remove-out-of-service-taint', finding: f });
    const ops = plan.steps[0]!.call!.body as { op: string; path: string; value: unknown }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /metadata/uid', 'test /spec/taints', 'replace /spec/taints']);
    expect(ops[2]!.value).toEqual([]);
  });

  it('parseDuration', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration(undefined)).toBe(300_000);
    expect(() => parseDuration('soon')).toThrow(/--timeout/);
  });
});

describe('non-interactive policy', () => {
  it('denies by default: no choice, no confirmation', async () => {
    const p = new NonInteractivePrompter(false);
    expect(p.interactive).toBe(false);
    expect(await p.chooseFinding()).toBeUndefined();
    expect(await p.confirm()).toBe(false);
    expect(await p.confirmName()).toBe(false);
    expect(await p.showPlan()).toBe(false);
    expect(await new NonInteractivePrompter(true).confirmName()).toBe(true);
  });
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
const DOWN = '\u001B[B';
const ESC = '\u001B';

describe('ink prompts (unstyled frames)', () => {
  it('Select: arrows move, Enter chooses', async () => {
    let answer: number | undefined = -1;
    const ui = render(createElement(Select, { message: 'Which problem?', items: [{ label: 'first' }, { label: 'second', hint: 'the hint' }], onDone: (i) => (answer = i) }));
    await tick();
    expect(ui.lastFrame()).toContain('❯ first');
    ui.stdin.write(DOWN);
    await tick();
    expect(ui.lastFrame()).toContain('❯ second');
    expect(ui.lastFrame()).toContain('the hint');
    ui.stdin.write('\r');
    await tick();
    expect(answer).toBe(1);
    ui.unmount();
  });

  it('Select: Esc cancels', async () => {
    let answer: number | undefined = -1;
    const ui = render(createElement(Select, { message: 'Which?', items: [{ label: 'a' }], onDone: (i) => (answer = i) }));
    await tick();
    ui.stdin.write(ESC);
    await tick();
    expect(answer).toBeUndefined();
    ui.unmount();
  });

  it('Confirm: shows the plan; y confirms, Enter (default) and Ctrl+C refuse', async () => {
    for (const [key, expected] of [
      ['y', true],
      ['\r', false],
      ['\u0003', false],
    ] as const) {
      let answer: boolean | undefined;
      const ui = render(createElement(Confirm, { message: 'Go on?', body: 'Plan: Delete pod quiz-0', onDone: (v) => (answer = v) }));
      await tick();
      expect(ui.lastFrame()).toContain('Plan: Delete pod quiz-0');
      expect(ui.lastFrame()).toContain('Go on? (y/N, Esc to cancel)');
      ui.stdin.write(key);
      await tick();
      expect(answer, JSON.stringify(key)).toBe(expected);
      ui.unmount();
    }
  });

  it('TypeName: only the exact name confirms; Esc cancels', async () => {
    let answer: boolean | undefined;
    let ui = render(createElement(TypeName, { message: 'Type quiz-1', name: 'quiz-1', onDone: (v) => (answer = v) }));
    await tick();
    for (const ch of 'quiz-1') {
      ui.stdin.write(ch);
      await tick();
    }
    expect(ui.lastFrame()).toContain('> quiz-1');
    ui.stdin.write('\r');
    await tick();
    expect(answer).toBe(true);
    ui.unmount();

    answer = undefined;
    ui = render(createElement(TypeName, { message: 'Type quiz-1', name: 'quiz-1', onDone: (v) => (answer = v) }));
    await tick();
    ui.stdin.write('quiz-2');
    await tick();
    ui.stdin.write('\r');
    await tick();
    expect(answer).toBe(false);
    ui.unmount();

    answer = undefined;
    ui = render(createElement(TypeName, { message: 'Type quiz-1', name: 'quiz-1', onDone: (v) => (answer = v) }));
    await tick();
    ui.stdin.write('quiz-1');
    await tick();
    ui.stdin.write(ESC);
    await tick();
    expect(answer).toBe(false);
    ui.unmount();
  });
});

describe('isInteractive', () => {
  it('asks only a person at a terminal, never in CI', async () => {
    const { isInteractive } = await import('../../src/ui/prompter.js');
    const tty = { isTTY: true };
    expect(isInteractive(tty, tty, false)).toBe(true);
    expect(isInteractive(tty, tty, true)).toBe(false);
    expect(isInteractive({ isTTY: false }, tty, false)).toBe(false);
    expect(isInteractive(tty, {}, false)).toBe(false);
  });
});
