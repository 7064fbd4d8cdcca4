// Recovery plans on snapshots recorded from the real control plane, the non-interactive policy,
// and the ink prompts (unstyled frames through ink-testing-library).
import { parse as parseYaml } from 'yaml';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { OUT_OF_SERVICE_TAINT, PlanError, planOffer, renderPlan } from '../../src/recovery/plan.js';
import { recoverCommand } from '../../src/recovery/command.js';
import { chooseOffer, describeChanges, runRecover } from '../../src/commands/recover.js';
import { parseDuration } from '../../src/commands/options.js';
import { isConflict } from '../../src/recovery/execute.js';
import { ApiError } from '../../src/errors.js';
import { nodeHeartbeat } from '../../src/rules/facts.js';
import type { Finding, OfferAction, RecoveryOffer } from '../../src/rules/types.js';
import { snapshotFromDump } from '../../src/snapshot/from-dump.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { SnapshotView } from '../../src/snapshot/view.js';
import { NonInteractivePrompter } from '../../src/ui/prompter.js';
import { Confirm, Select, TypeName } from '../../src/ui/ink/components.js';
import { examplesDir, fixturesDir, loadFixture } from './fixtures.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function planFor(fixture: string, req: { action: OfferAction; pod?: string; node?: string; toRevision?: string; force?: boolean }, edit?: (s: Snapshot) => void) {
  const s = await loadFixture(fixture);
  edit?.(s);
  const view = new SnapshotView(s);
  const sts = s.statefulSets[0]!;
  const d = diagnose(s);
  const { offer, ctx } = chooseOffer(view, sts, d.findings, req.action, { pod: req.pod, node: req.node, toRevision: req.toRevision, forceUnrelated: req.force });
  return { plan: planOffer(view, sts, offer, ctx), snapshot: s, diagnosis: d };
}

/** Every recorded snapshot: examples/ and test/fixtures/. */
const allSnapshots = [...readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).map((f) => join(examplesDir, f)), ...readdirSync(fixturesDir).filter((f) => f.endsWith('.yaml')).map((f) => join(fixturesDir, f))];

/** The objects an offer names, as `Kind/name` with their uid when the offer knows it. */
function named(offer: RecoveryOffer, sts: string): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  switch (offer.action) {
    case 'delete-pod':
    case 'force-delete-pod':
      m.set(`Pod/${offer.pod.name}`, offer.pod.uid);
      break;
    case 'out-of-service-taint':
    case 'remove-out-of-service-taint':
      m.set(`Node/${offer.node.name}`, offer.node.uid);
      break;
    case 'delete-pvc-and-pod':
      m.set(`Pod/${offer.pod.name}`, offer.pod.uid);
      for (const c of offer.claims) m.set(`PersistentVolumeClaim/${c.name}`, c.uid);
      break;
    case 'rollback':
      m.set(`StatefulSet/${sts}`, undefined);
      for (const p of offer.deletePods) m.set(`Pod/${p.name}`, p.uid);
      break;
  }
  return m;
}

describe('property: every offer on every recorded snapshot plans, and writes exactly what it names', () => {
  it.each(allSnapshots.map((f) => [f.replace(/.*\/(examples|fixtures)\//, '$1/'), f]))('%s', async (_label, file) => {
    const s = await snapshotFromDump(file, {});
    const view = new SnapshotView(s);
    const d = diagnose(s);
    for (const f of d.findings) {
      const sts = s.statefulSets.find((x) => x.metadata.name === f.statefulSet.name)!;
      for (const o of f.recoveries) {
        const what = `${f.rule} ${f.subject.name} ${o.id}`;
        // Automated options carry a typed offer; manual ones never do.
        expect(Boolean(o.offer), what).toBe(o.automated);
        if (!o.offer) continue;
        expect(o.id, what).toBe(o.offer.action);
        const plan = planOffer(view, sts, o.offer, { finding: f }); // never refused: an offer that would be is not shown
        expect(plan.title, what).toBe(o.title);
        const names = named(o.offer, sts.metadata.name);
        const written = new Set<string>();
        for (const step of plan.steps) {
          if (!step.call) continue;
          const key = `${step.call.object.kind}/${step.call.object.name}`;
          expect(names.has(key), `${what}: writes ${key}, which the offer does not name`).toBe(true);
          if (names.get(key)) expect(step.call.object.uid, `${what}: ${key} uid`).toBe(names.get(key));
          written.add(key);
        }
        expect([...written].sort(), what).toEqual([...names.keys()].sort());
        if (o.offer.action === 'rollback') {
          const target = view.revisionsOf(sts).find((r) => r.metadata.name === (o.offer as { toRevision: { name: string } }).toRevision.name)!;
          expect(target.metadata.name, what).not.toBe(sts.status?.updateRevision);
          expect((plan.steps[0]!.call!.body as { spec: unknown }).spec, what).toEqual(target.data!.spec);
        }
        // The suggested command plans the same offer.
        const cmd = recoverCommand(f.statefulSet, o, f);
        expect(cmd, what).toMatch(new RegExp(`--action ${o.id} `));
      }
    }
  });
});

describe('plans on recorded snapshots', () => {
  it('node-lost: force-delete-pod is a DELETE with grace 0 and uid+resourceVersion preconditions, shows the heartbeat and the two-copies risk, asks for the name', async () => {
    const { plan, snapshot } = await planFor('node-lost', { action: 'force-delete-pod', pod: 'quiz-1', force: true });
    const pod = snapshot.pods.find((p) => p.metadata.name === 'quiz-1')!;
    expect(plan.steps).toHaveLength(1);
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'DELETE', path: `/api/v1/namespaces/${snapshot.namespace}/pods/quiz-1`, query: { gracePeriodSeconds: 0 } });
    expect(call.body).toMatchObject({ kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion } });
    expect(plan.facts[0]).toMatch(/^Node kwok-node-3 stopped reporting \(Ready=Unknown\) \(NodeStatusUnknown: Kubelet stopped posting node status.\); last heartbeat \S+ \(Ready condition\), \S+ ago\.$/);
    expect(plan.risks.join(' ')).toContain('two copies of this identity will run at once');
    expect(plan.confirm).toEqual({ type: 'name', name: 'quiz-1', question: expect.stringContaining('quiz-1') });
    expect(plan.steps[0]!.kubectl).toBe(`kubectl -n ${snapshot.namespace} delete pod quiz-1 --grace-period=0 --force`);
  });

  it('node-lost: out-of-service-taint patches spec.taints conditionally (uid and taints tested), keeps existing taints, and offers the removal afterwards', async () => {
    const { plan, snapshot } = await planFor('node-lost', { action: 'out-of-service-taint', node: 'kwok-node-3', force: true });
    const node = snapshot.nodes.find((n) => n.metadata.name === 'kwok-node-3')!;
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'PATCH', path: '/api/v1/nodes/kwok-node-3', contentType: 'application/json-patch+json' });
    const ops = call.body as { op: string; path: string; value: unknown }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /metadata/uid', 'test /spec/taints', 'replace /spec/taints']);
    expect(ops[0]!.value).toBe(node.metadata.uid);
    expect(ops[1]!.value).toEqual(node.spec?.taints);
    expect((ops[2]!.value as { key: string }[]).map((t) => t.key)).toEqual([...(node.spec?.taints ?? []).map((t) => t.key), OUT_OF_SERVICE_TAINT.key]);
    expect(isConflict(new ApiError('PATCH: 422 Invalid', 422), call)).toBe(true);
    expect(isConflict(new ApiError('DELETE: 409 Conflict', 409), call)).toBe(true);
    expect(isConflict(new ApiError('PATCH: 403 Forbidden', 403), call)).toBe(false);
    expect(plan.followUp[0]).toContain('--action remove-out-of-service-taint --node kwok-node-3');
    expect(plan.confirm).toMatchObject({ type: 'name', name: 'kwok-node-3' });
    // The pod there could not move: its PV is pinned to the node.
    expect(plan.risks.join('\n')).toMatch(/stays Pending/);
  });

  it('out-of-service-taint refuses a node that hosts no pod or volume of this StatefulSet (issue 8)', async () => {
    await expect(
      planFor('node-lost', { action: 'out-of-service-taint', node: 'kwok-node-0', force: true }, (s) => {
        const n = s.nodes.find((x) => x.metadata.name === 'kwok-node-0')!;
        n.status!.conditions = n.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown' as const } : c));
        for (const p of s.pods) if (p.spec.nodeName === 'kwok-node-0') p.spec.nodeName = 'kwok-node-1';
        s.persistentVolumes = s.persistentVolumes.filter((pv) => !JSON.stringify(pv.spec.nodeAffinity ?? {}).includes('kwok-node-0'));
      }),
    ).rejects.toThrow(/hosts no pod, no pinned and no attached volume of StatefulSet quiz/);
  });

  it('node lost with a local PV (case 2): force delete and taint are not offered; forced, the plan says the replacement stays Pending', async () => {
    const d = diagnose(await loadFixture('node-lost'));
    const f = d.findings.find((x) => x.rule === 'node-lost')!;
    expect(f.recoveries.map((r) => r.id)).not.toContain('force-delete-pod');
    expect(f.recoveries.map((r) => r.id)).not.toContain('out-of-service-taint');
    expect(f.recoveries[0]).toMatchObject({ id: 'manual', title: 'Bring node kwok-node-3 back' });
    expect(f.explanation).toMatch(/pinned to kwok-node-3/);
    const { plan } = await planFor('node-lost', { action: 'force-delete-pod', pod: 'quiz-1', force: true });
    expect(plan.facts.join('\n')).toMatch(/PV \S+ \(claim db-data-quiz-1\) is pinned to kwok-node-3, which is Unreachable/);
    expect(plan.risks.join('\n')).toMatch(/will not run elsewhere.*stays Pending/);
    expect(plan.risks[0]).toMatch(/--force-unrelated/);
    await expect(planFor('node-lost', { action: 'force-delete-pod', pod: 'quiz-1' })).rejects.toThrow(/no finding offers force-delete-pod for pod quiz-1/);
  });

  it('node lost with a local PV and a spare PV: one combined plan: delete the claim, force-delete the pod, wait for the claim; it names where the new claim binds', async () => {
    const s = await loadFixture('node-lost');
    const claim = s.persistentVolumeClaims.find((c) => c.metadata.name === 'db-data-quiz-1')!;
    const pv = s.persistentVolumes.find((p) => p.metadata.name === claim.spec.volumeName)!;
    // A spare PV of the class on a Ready node.
    const spare = structuredClone(pv);
    spare.metadata = { name: 'spare', uid: 'spare-uid' };
    spare.spec.claimRef = undefined;
    spare.spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['kwok-node-2'] }] }] } };
    spare.status = { phase: 'Available' };
    const { plan, snapshot } = await planFor('node-lost', { action: 'delete-pvc-and-pod', pod: 'quiz-1' }, (x) => x.persistentVolumes.push(spare));
    expect(plan.steps.map((st) => (st.call ? `${st.call.method} ${st.call.object.kind}/${st.call.object.name}` : `wait ${st.waitGone!.what}`))).toEqual([
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
    expect(plan.facts.join('\n')).toContain('can bind the Available PV spare (on kwok-node-2)');
    expect(plan.risks.join('\n')).toContain('data of replica quiz-1');
    expect(plan.risks.join('\n')).toContain('two copies');
    expect(plan.confirm).toMatchObject({ type: 'name', name: 'db-data-quiz-1' });
    expect(plan.title).toBe('Force-delete pod quiz-1 and its claim db-data-quiz-1, so the replica is rebuilt on a new, empty volume');
  });

  it('delete-pvc-and-pod refuses up front (case 3) when no new claim can bind, naming what to create', async () => {
    await expect(planFor('recovery-pv-node-lost', { action: 'delete-pvc-and-pod', pod: 'quiz-1' }, (s) => (s.persistentVolumes = s.persistentVolumes.filter((p) => !p.metadata.name.endsWith('-spare'))))).rejects.toThrow(
      /delete-pvc-and-pod for pod quiz-1 is not offered now: no PersistentVolume can bind the new claim db-data-quiz-1: .*First create a PersistentVolume of StorageClass local-/,
    );
    await expect(
      planFor('recovery-pv-node-lost', { action: 'delete-pvc-and-pod', pod: 'quiz-1', force: true }, (s) => (s.persistentVolumes = s.persistentVolumes.filter((p) => !p.metadata.name.endsWith('-spare')))),
    ).rejects.toThrow(/First create a PersistentVolume of StorageClass local-\S+ with at least 1Gi and access mode ReadWriteOnce on a Ready node/);
    const d = diagnose(await loadFixture('pvc-wffc-unschedulable'));
    const f = d.findings.find((x) => x.rule === 'pvc-unbound');
    if (f) expect(f.recoveries.length).toBeGreaterThan(0);
  });

  it('refuses what does not fit, with exit code 3 (case 7)', async () => {
    await expect(planFor('ordered-ready-stall', { action: 'force-delete-pod', pod: 'quiz-0', force: true })).rejects.toThrow(/is Ready: a force delete is only for a pod on a node that stopped reporting/);
    await expect(planFor('ordered-ready-stall', { action: 'delete-pvc-and-pod', pod: 'quiz-0', force: true })).rejects.toThrow(/would only destroy data/);
    await expect(planFor('healthy', { action: 'delete-pod', pod: 'quiz-0', force: true })).rejects.toThrow(PlanError);
    await expect(planFor('healthy', { action: 'rollback', force: true })).rejects.toThrow(/nothing to roll back to|healthy/);
    await expect(planFor('ordered-ready-stall', { action: 'out-of-service-taint', node: 'kwok-node-0', force: true })).rejects.toThrow(/is Ready/);
    expect(new PlanError('x').exitCode).toBe(3);
  });

  it('ordered-ready-stall: delete-pod of the blocker, plain yes; warns that the pod is already on the update revision', async () => {
    const { plan, snapshot } = await planFor('ordered-ready-stall', { action: 'delete-pod' });
    const pod = snapshot.pods.find((p) => p.metadata.name === 'quiz-0')!;
    expect(plan.finding?.subject.name).toBe('quiz-0');
    expect(plan.steps[0]!.call!.body).toMatchObject({ preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion }, propagationPolicy: 'Background' });
    expect(plan.confirm.type).toBe('yes');
    expect(plan.risks[0]).toContain('already on the update revision');
    const text = renderPlan(plan);
    expect(text).toContain(`DELETE /api/v1/namespaces/${snapshot.namespace}/pods/quiz-0`);
    expect(text).toContain(`$ kubectl -n ${snapshot.namespace} delete pod quiz-0`);
  });

  it('bad rollout: rollback patches the data of the revision pods were Ready on (strategic merge, $patch replace) with a resourceVersion, then deletes the stuck pod', async () => {
    const { plan, snapshot } = await planFor('recovery-bad-rollout', { action: 'rollback' });
    const sts = snapshot.statefulSets[0]!;
    const call = plan.steps[0]!.call!;
    expect(call).toMatchObject({ method: 'PATCH', contentType: 'application/strategic-merge-patch+json', path: `/apis/apps/v1/namespaces/${snapshot.namespace}/statefulsets/quiz` });
    const body = call.body as { metadata: { resourceVersion: string }; spec: { template: Record<string, unknown> } };
    expect(body.metadata.resourceVersion).toBe(sts.metadata.resourceVersion);
    expect(body.spec.template.$patch).toBe('replace');
    expect(JSON.stringify(body.spec.template)).toContain('"image":"mongo:5"');
    expect(plan.steps.slice(1).map((s) => s.call!.object.name)).toEqual(['quiz-2']);
    expect(plan.toRevision).toEqual({ name: sts.status!.currentRevision, revision: 1 });
  });

  it('rollback goes to the broken revision (case 1): on the recorded good -> bad -> fixed rollout, rollback is not offered; delete-pod is, for the stuck pod', async () => {
    const d = diagnose(await loadFixture('workload-rollout-stuck'));
    const stuck = d.findings.find((f) => f.rule === 'rollout-stuck')!;
    expect(stuck.recoveries.map((r) => r.id)).not.toContain('rollback');
    expect(stuck.recoveries[0]).toMatchObject({ id: 'delete-pod', offer: { action: 'delete-pod', pod: { name: 'quiz-2' } } });
    expect(stuck.evidence.some((e) => e.label.startsWith('template diff') && /image: mongo:5-does-not-exist → /.test(e.text))).toBe(true);
    // Forced, the rollback goes to the revision pods were Ready on, never to the stuck pod's (broken) one.
    const { plan, snapshot } = await planFor('workload-rollout-stuck', { action: 'rollback', force: true });
    const sts = snapshot.statefulSets[0]!;
    const podRev = snapshot.pods.find((p) => p.metadata.name === 'quiz-2')!.metadata.labels!['controller-revision-hash'];
    expect(plan.toRevision!.name).toBe(sts.status!.currentRevision);
    expect(plan.toRevision!.name).not.toBe(podRev);
    expect(JSON.stringify(plan.steps[0]!.call!.body)).not.toContain('does-not-exist');
    expect(plan.steps.map((s) => s.call!.object.name)).toEqual(['quiz', 'quiz-2']);
  });

  it('recorded good -> bad -> fixed: only delete-pod of quiz-2; good -> bad -> worse: rollback to revision 1, deleting quiz-2 (case 1)', async () => {
    const fixed = diagnose(await loadFixture('recovery-good-bad-fixed'));
    const fixedOffers = fixed.findings.flatMap((f) => f.recoveries).filter((r) => r.automated);
    expect(fixedOffers.length).toBeGreaterThan(0);
    expect(fixedOffers.every((r) => r.offer?.action === 'delete-pod' && r.offer.pod.name === 'quiz-2')).toBe(true);
    const s = await loadFixture('recovery-good-bad-worse');
    const worse = diagnose(s);
    const offers = worse.findings.flatMap((f) => f.recoveries).filter((r) => r.automated);
    expect(offers.length).toBeGreaterThan(0);
    const good = s.statefulSets[0]!.status!.currentRevision;
    for (const o of offers) expect(o.offer).toMatchObject({ action: 'rollback', toRevision: { name: good, revision: 1 }, deletePods: [{ name: 'quiz-2' }] });
    const { plan } = await planFor('recovery-good-bad-worse', { action: 'rollback' });
    expect(JSON.stringify(plan.steps[0]!.call!.body)).not.toContain('does-not-exist');
    expect(plan.facts.join('\n')).toMatch(/Changes back: container mongo image: registry\.sts-doctor\.test\/library\/mongo:does-not-exist → mongo:5/);
  });

  it('blocked scale-down (case 4): the Ready condemned pod is not offered for deletion', async () => {
    const d = diagnose(await loadFixture('workload-scale-down-blocked'));
    const f = d.findings.find((x) => x.rule === 'scale-down-blocked')!;
    expect(f.recoveries.filter((r) => r.automated)).toEqual([]);
    expect(f.recoveries.find((r) => r.title.includes('quiz-2'))).toMatchObject({ automated: false, commands: [expect.stringContaining('delete pod quiz-2')] });
  });

  it('recoverCommand: the command line from the typed offer, with the user\'s --kubeconfig/--context', () => {
    const podOffer = { id: 'delete-pod' as const, title: '', description: '', automated: true, offer: { action: 'delete-pod' as const, pod: { name: 'quiz-0', uid: 'u' } } };
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz', namespace: 'demo' }, podOffer, undefined, true, {})).toBe('sts-doctor recover quiz -n demo --action delete-pod --pod quiz-0 --yes');
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz', namespace: 'demo' }, podOffer, undefined, true, { kubeconfig: '/tmp/my config', context: 'prod' })).toBe(
      "sts-doctor recover quiz --kubeconfig '/tmp/my config' --context prod -n demo --action delete-pod --pod quiz-0 --yes",
    );
    const node = { id: 'out-of-service-taint' as const, title: '', description: '', automated: true, offer: { action: 'out-of-service-taint' as const, node: { name: 'n1' }, pods: [] } };
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz' }, node, undefined, true, {})).toBe('sts-doctor recover quiz --action out-of-service-taint --node n1 --yes');
    const rb = { id: 'rollback' as const, title: '', description: '', automated: true, offer: { action: 'rollback' as const, toRevision: { name: 'quiz-abc', revision: 1 }, fromRevision: 'quiz-def', deletePods: [] } };
    expect(recoverCommand({ kind: 'StatefulSet', name: 'quiz', namespace: 'x' }, rb, undefined, false, {})).toBe('sts-doctor recover quiz -n x --action rollback --to-revision 1');
  });

  it('describeChanges names a replaced pod by its uids', async () => {
    const { plan, snapshot } = await planFor('ordered-ready-stall', { action: 'delete-pod' });
    const old = plan.steps[0]!.call!.object.uid;
    const changed = structuredClone(snapshot);
    changed.pods.find((p) => p.metadata.name === 'quiz-0')!.metadata.uid = 'new-uid';
    expect(describeChanges(plan, changed)).toEqual([`Pod quiz-0 was replaced: the plan was for uid ${old}, the object now has uid new-uid. It was not touched.`]);
    expect(describeChanges(plan, snapshot)).toEqual(['Pod quiz-0 is unchanged.']);
    // A replaced pod is refused by the planner itself, before any call.
    expect(() => planOffer(new SnapshotView(changed), changed.statefulSets[0]!, plan.offer!)).toThrow(/was replaced since the diagnosis/);
  });

  it('a node left with the out-of-service taint (case 6) is a finding of diagnose, with remove-out-of-service-taint, which plans a conditional patch', async () => {
    const s = await loadFixture('ordered-ready-stall');
    const node = s.nodes.find((n) => n.metadata.name === s.pods[0]!.spec.nodeName)!;
    expect(diagnose(s).findings.filter((f) => f.rule === 'out-of-service-taint')).toEqual([]);
    node.spec = { ...(node.spec ?? {}), taints: [{ ...OUT_OF_SERVICE_TAINT }] };
    const f = diagnose(s).findings.find((x) => x.rule === 'out-of-service-taint')!;
    expect(f).toMatchObject({ severity: 'warning', subject: { kind: 'Node', name: node.metadata.name }, summary: expect.stringContaining('is Ready again'), recoveries: [{ id: 'remove-out-of-service-taint' }] });
    const plan = planOffer(new SnapshotView(s), s.statefulSets[0]!, f.recoveries[0]!.offer!);
    const ops = plan.steps[0]!.call!.body as { op: string; path: string; value: unknown }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /metadata/uid', 'test /spec/taints', 'replace /spec/taints']);
    expect(ops[2]!.value).toEqual([]);
  });

  it('the heartbeat (case 6): diagnosis and plans read the Lease first, then the Ready condition', async () => {
    const s = await loadFixture('node-lost');
    const renew = '2026-01-01T00:00:07.123456Z';
    s.leases = [{ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kwok-node-3', namespace: 'kube-node-lease' }, spec: { renewTime: renew } }];
    const view = new SnapshotView(s);
    expect(nodeHeartbeat(view, 'kwok-node-3')).toMatchObject({ time: '2026-01-01T00:00:07Z', source: 'Lease' });
    const f = diagnose(s).findings.find((x) => x.rule === 'node-lost')!;
    expect(f.details?.lastHeartbeat).toBe('2026-01-01T00:00:07Z');
    expect(f.explanation).toContain('2026-01-01T00:00:07Z, Lease kube-node-lease/kwok-node-3');
    const { plan } = await planFor('node-lost', { action: 'force-delete-pod', pod: 'quiz-1', force: true }, (x) => (x.leases = s.leases));
    expect(plan.facts[0]).toContain('last heartbeat 2026-01-01T00:00:07Z (Lease kube-node-lease/kwok-node-3)');
  });

  it('headless-service-missing proposes the ports the pod template declares, never a placeholder port 80', async () => {
    const d = diagnose(await loadFixture('headless-missing'));
    const cmd = d.findings.find((f) => f.rule === 'headless-service-missing')!.recoveries[0]!.commands![0]!;
    const svc = parseYaml(cmd.split('\n').slice(1, -1).join('\n')) as { spec: { clusterIP: string; ports: { name: string; port: number }[] } };
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 8080 },
      { name: 'mongodb', port: 27017 },
    ]);
    expect(cmd).not.toMatch(/placeholder|port: 80\n/);
  });

  it('an OOMKilled crash loop without a memory limit says the node ran out and the kernel OOM killer chose it', async () => {
    const d = diagnose(
      await (async () => {
        const s = await loadFixture('workload-crash-loop');
        for (const p of s.pods)
          for (const c of p.status?.containerStatuses ?? []) if (c.lastState?.terminated) c.lastState.terminated = { ...c.lastState.terminated, reason: 'OOMKilled', exitCode: 137 };
        for (const p of s.pods) for (const c of p.spec.containers) delete c.resources;
        return s;
      })(),
    );
    const f = d.findings.find((x) => x.rule === 'crash-loop')!;
    expect(f.explanation).toMatch(/OOM killer \(OOMKilled\) although it has no memory limit: node \S+ ran out of memory/);
    expect(f.explanation).not.toMatch(/exceeding its memory limit/);
    expect(f.details).toMatchObject({ oomKilled: true, oomKiller: 'node-out-of-memory' });
    expect(f.recoveries[0]!.title).toMatch(/^Reserve memory for container/);
  });

  it('a quota denial is reasoned about for the whole rollout ("3 pods need 3, 0 free"), and is a dead end for the watch', async () => {
    const d = diagnose(await loadFixture('pod-quota'));
    const f = d.findings.find((x) => x.rule === 'pod-creation-denied')!;
    expect(f.details?.headroom).toEqual([{ resource: 'pods', perObject: '1', objects: 3, needed: '3', free: '0' }]);
    expect(f.summary).toContain('pods: 3 pods need 3, 0 free');
    expect(f.permanent).toBe(true);
  });

  it('recover --from FILE --action rollback --dry-run=client -o json: the plan as data, no cluster; without --action, the offers; a refusal is exit 3', async () => {
    const file = join(fixturesDir, 'recovery-good-bad-worse.yaml');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
    expect(await runRecover('quiz', { from: file, action: 'rollback', dryRun: 'client', output: 'json' }, io)).toBe(0);
    const { plan } = JSON.parse(out.join('')) as { plan: { toRevision: { name: string }; steps: { call?: { method: string; path: string; body: unknown } }[] } };
    const s = await snapshotFromDump(file, {});
    expect(plan.toRevision.name).toBe(s.statefulSets[0]!.status!.currentRevision);
    expect(plan.steps.map((st) => `${st.call!.method} ${st.call!.path.replace(/.*\//, '')}`)).toEqual(['PATCH quiz', 'DELETE quiz-2']);
    out.length = 0;
    expect(await runRecover('quiz', { from: file, output: 'json' }, io)).toBe(1);
    const listed = JSON.parse(out.join('')) as { findings: Finding[] };
    expect(listed.findings.flatMap((f) => f.recoveries.map((r) => r.offer?.action)).filter(Boolean)).toContain('rollback');
    await expect(runRecover('quiz', { from: file, action: 'delete-pod', pod: 'quiz-0', dryRun: 'client' }, io)).rejects.toMatchObject({ exitCode: 3 });
    await expect(runRecover('quiz', { from: file, action: 'rollback', yes: true }, io)).rejects.toThrow(/never writes/);
  });

  it('one parseDuration (options.ts) for every duration flag', () => {
    expect(parseDuration('90s', '--timeout')).toBe(90_000);
    expect(parseDuration('5m', '--timeout')).toBe(300_000);
    expect(parseDuration('0', '--timeout')).toBe(0);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout/);
  });
});

describe('non-interactive policy', () => {
  it('denies by default: no choice, no confirmation', async () => {
    const p = new NonInteractivePrompter(false);
    expect(p.interactive).toBe(false);
    expect(await p.chooseFinding()).toBeUndefined();
    expect(await p.confirmPlan()).toBe(false);
    expect(await p.showPlan()).toBe(false);
    expect(await new NonInteractivePrompter(true).confirmPlan()).toBe(true);
  });
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 100));
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

  it('TypeName: only the exact name confirms; a wrong one asks again; Esc cancels', async () => {
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
    // A wrong name asks again (test/unit/prompts.test.ts: up to 3 times).
    expect(answer).toBeUndefined();
    expect(ui.lastFrame()).toContain('"quiz-2" is not quiz-1');
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
