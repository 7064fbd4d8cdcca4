// End to end: `sts-doctor recover` on the real control plane. Each test puts quiz into a failure
// produced by the real controllers (or KWOK's kubelet-side fault stages), runs the built CLI as a
// user does, and proves through the API that the StatefulSet comes back — or that nothing was
// written when nothing should be.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, kubeconfigPath, kubectl, repoRoot, temporaryDir, waitFor } from '../scenarios/cluster.mjs';
import { FAULT_LABEL, NODES, isReady, quizPods } from '../scenarios/quiz.mjs';
import {
  RECOVERY_NODE,
  deployBadRollout,
  deployBlockedScaleDown,
  deployMovable,
  deployPinned,
  deployPinnedNoSpare,
  deployStalled,
  failRecoveryNode,
  fixReadinessTemplate,
  hasOutOfServiceTaint,
  objectVersions,
  recoverRecoveryNode,
  recoveryEvents,
} from '../scenarios/recovery.mjs';
import { diagnoseJson, onlyFinding, recordFixture, runCli, testNamespaces } from './helpers.js';
import { hasTmux, tmuxSession } from './tmux.js';
import { runRecover, type RecoverIO } from '../../src/commands/recover.js';
import type { Prompter } from '../../src/ui/prompter.js';
import type { Pod } from '../../src/snapshot/types.js';

const namespaces = testNamespaces();
const newNamespace = (scenario: string): string => namespaces.fresh(`recovery-${scenario}`);

const auditFile = (): string => join(temporaryDir('sts-doctor-audit-'), 'audit.jsonl');
const auditLines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function readyCondition(p: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The files Node loads for `import(file)`: `file` and its static imports, transitively (esbuild's minified ESM). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(repoRoot, 'dist', file), 'utf8');
  for (const m of text.matchAll(/(?:^|[;\n])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+)["']/g)) staticClosure(m[1]!, seen);
  return seen;
}

describe('recover: safety', () => {
  it('the non-interactive path never loads ink or React (dist/: only a dynamic import reaches them)', () => {
    const dist = readdirSync(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js'));
    const react = (f: string): boolean => readFileSync(join(repoRoot, 'dist', f), 'utf8').includes('react.transitional.element');
    const recoverChunk = dist.find((f) => /^recover-[A-Z0-9]+\.js$/.test(f))!;
    expect(recoverChunk).toBeDefined();
    expect(dist.some(react)).toBe(true); // the interactive chunk exists...
    const rolloutChunk = dist.find((f) => /^rollout-[A-Z0-9]+\.js$/.test(f))!;
    expect(rolloutChunk).toBeDefined();
    const loaded = new Set([...staticClosure('cli.js'), ...staticClosure(recoverChunk), ...staticClosure(rolloutChunk)]);
    expect([...loaded].filter(react)).toEqual([]); // ...but nothing a headless `recover` or `rollout` loads holds React.
    // The prompter's ink chunk is reached by a dynamic import only, from a chunk recover loads (shared with rollout).
    expect([...staticClosure(recoverChunk)].some((f) => /import\("\.\/prompter-[A-Z0-9]+\.js"\)/.test(readFileSync(join(repoRoot, 'dist', f), 'utf8')))).toBe(true);
  });

  it('(g) without a TTY and without --yes nothing is written (checked against the API)', async () => {
    const ns = newNamespace('no-tty');
    await deployStalled(ns);
    const before = objectVersions(ns);

    const list = await runCli(['recover', 'quiz', '-n', ns]);
    expect(list.code).toBe(1);
    // The stall is listed as its own entry, or folded under its cause (probe-failing, once the kubelet's Unhealthy event is there).
    expect(list.stdout).toMatch(/ordered-ready-stall Pod\/quiz-0|↳ therefore quiz-1, quiz-2 are never created.*\[ordered-ready-stall\]/);
    expect(list.stdout).toContain(`$ sts-doctor recover quiz -n ${ns} --action delete-pod --pod quiz-0 --yes`);
    expect(list.stderr).toContain('nothing was written');
    // The suggested commands act on the cluster that was diagnosed: they carry the user's --kubeconfig (and -n).
    const withKubeconfig = await runCli(['recover', 'quiz', '-n', ns, '--kubeconfig', kubeconfigPath()], { KUBECONFIG: undefined });
    expect(withKubeconfig.stdout).toContain(`$ sts-doctor recover quiz --kubeconfig ${kubeconfigPath()} -n ${ns} --action delete-pod --pod quiz-0 --yes`);
    const diagnosed = await runCli(['diagnose', 'quiz', '-n', ns, '--kubeconfig', kubeconfigPath()], { KUBECONFIG: undefined });
    // The text report wraps long commands with a shell continuation (` \\` and an indented next line).
    expect(diagnosed.stdout.replace(/ \\\n\s*/g, ' ')).toContain(`sts-doctor recover quiz --kubeconfig ${kubeconfigPath()} -n ${ns} --action delete-pod --pod quiz-0`);

    const noYes = await runCli(['recover', 'quiz', '-n', ns, '--action', 'delete-pod', '--pod', 'quiz-0']);
    expect(noYes.code).toBe(1);
    expect(noYes.stdout).toContain('Plan: Delete pod quiz-0');
    expect(noYes.stderr).toContain('nothing was written');

    const dry = await runCli(['recover', 'quiz', '-n', ns, '--action', 'delete-pod', '--pod', 'quiz-0', '--dry-run=server']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run (server-side, dryRun=All): all 1 calls accepted; nothing was written.');
    expect(dry.stderr).toContain('"dryRun":true');

    const yesNoAction = await runCli(['recover', 'quiz', '-n', ns, '--yes']);
    expect(yesNoAction.code).toBe(2);

    // A force delete of a pod whose node is Ready is refused by the planner.
    const force = await runCli(['recover', 'quiz', '-n', ns, '--action', 'force-delete-pod', '--pod', 'quiz-0', '--yes']);
    expect(force.code).toBe(3);
    expect(force.stderr).toMatch(/no finding offers force-delete-pod for pod quiz-0/);
    const forced = await runCli(['recover', 'quiz', '-n', ns, '--action', 'force-delete-pod', '--pod', 'quiz-0', '--force-unrelated', '--yes']);
    expect(forced.code).toBe(3);
    expect(forced.stderr).toMatch(/Node kwok-node-\d of pod quiz-0 is Ready/);

    await new Promise((r) => setTimeout(r, 3000));
    expect(objectVersions(ns)).toEqual(before);
    expect(recoveryEvents(ns)).toEqual([]);
  }, 400_000);

  it('(f) a race: the pod is replaced between plan and execution; the executor refuses (409), re-diagnoses, deletes nothing', async () => {
    const ns = newNamespace('race');
    await deployStalled(ns);
    const old = quizPods(ns)['quiz-0'] as Pod;
    let replacement: Pod | undefined;
    // The user reads the plan; meanwhile someone deletes quiz-0 and the controller recreates it.
    const racing: Prompter = {
      interactive: true,
      chooseFinding: async () => undefined,
      chooseRecovery: async () => undefined,
      showPlan: async () => true,
      confirmPlan: async () => {
        kubectl(['-n', ns, 'delete', 'pod', 'quiz-0', '--wait=false']);
        replacement = await waitFor('quiz-0 recreated with a new uid', () => {
          const p = quizPods(ns)['quiz-0'] as Pod | undefined;
          return p && p.metadata.uid !== old.metadata.uid && !p.metadata.deletionTimestamp ? p : undefined;
        });
        return true;
      },
    };
    const outLines: string[] = [];
    const errLines: string[] = [];
    const io: RecoverIO = { out: (s) => outLines.push(s), err: (s) => errLines.push(s), prompter: racing };
    const code = await runRecover('quiz', { kubeconfig: kubeconfigPath(), namespace: ns, action: 'delete-pod', pod: 'quiz-0', timeout: '30s' }, io);
    const out = outLines.join('');
    expect(code, out + errLines.join('')).toBe(3);
    expect(out).toContain('Refused at step 1');
    expect(out).toMatch(/409|Precondition failed/);
    expect(out).toContain(`Pod quiz-0 was replaced: the plan was for uid ${old.metadata.uid}, the object now has uid ${replacement!.metadata.uid}. It was not touched.`);
    expect(out).toContain('The diagnosis now:');
    // Only the dry run was sent, and it was refused.
    const audit = errLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((a) => [a.dryRun, a.result, a.status])).toEqual([[true, 'conflict', 409]]);
    await new Promise((r) => setTimeout(r, 3000));
    const now = quizPods(ns)['quiz-0'] as Pod;
    expect(now.metadata.uid).toBe(replacement!.metadata.uid);
    expect(now.metadata.deletionTimestamp).toBeUndefined();
    expect(recoveryEvents(ns)).toEqual([]);
  }, 400_000);
});

describe('recover: OrderedReady stall, bad rollout, blocked scale-down', () => {
  it('(c) OrderedReady stall: fix the template, delete the stuck pod, all 3 Ready in order', async () => {
    const ns = newNamespace('stall');
    await deployStalled(ns);
    fixReadinessTemplate(ns);
    const stuck = quizPods(ns)['quiz-0'] as Pod;
    const audit = auditFile();
    const res = await runCli(['recover', 'quiz', '-n', ns, '--action', 'delete-pod', '--pod', 'quiz-0', '--yes', '--timeout', '120s', '--audit-log', audit]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`Delete pod quiz-0 (uid ${stuck.metadata.uid}`);
    expect(res.stdout).toMatch(/StatefulSet \S+\/quiz is healthy: 3\/3 ready/);
    expect(res.stderr).toMatch(/pod quiz-0: Ready on/);
    const pods = quizPods(ns) as Record<string, Pod>;
    expect(pods['quiz-0']!.metadata.uid).not.toBe(stuck.metadata.uid);
    // In order: each pod was created only after its predecessor became Ready.
    for (const [prev, next] of [
      ['quiz-0', 'quiz-1'],
      ['quiz-1', 'quiz-2'],
    ] as const) {
      expect(isReady(pods[next])).toBe(true);
      expect(Date.parse(pods[next]!.metadata.creationTimestamp!)).toBeGreaterThanOrEqual(Date.parse(readyCondition(pods[prev]!)!.lastTransitionTime!));
    }
    const lines = auditLines(audit);
    expect(lines.map((l) => [l.method, l.dryRun, l.result])).toEqual([
      ['DELETE', true, 'ok'],
      ['DELETE', false, 'ok'],
    ]);
    expect(lines[1]).toMatchObject({ recovery: 'delete-pod', object: { kind: 'Pod', name: 'quiz-0', uid: stuck.metadata.uid } });
    const events = recoveryEvents(ns);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ involvedObject: { kind: 'StatefulSet', name: 'quiz' }, source: { component: 'sts-doctor' }, type: 'Normal' });
  }, 400_000);

  it('(d) image pull on a new revision: rollback plus delete, all Ready on the old revision', async () => {
    const ns = newNamespace('rollback');
    const { goodRevision, badRevision } = await deployBadRollout(ns);
    await recordFixture('recovery-bad-rollout', ns);
    const res = await runCli(['recover', 'quiz', '-n', ns, '--action', 'rollback', '--yes', '--timeout', '120s']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`Update revision ${badRevision}`);
    expect(res.stdout).toContain('mongo=registry.sts-doctor.test/library/mongo:does-not-exist');
    expect(res.stdout).toMatch(/Delete pod quiz-2 \(uid .*\), stuck on revision/);
    expect(res.stdout).toContain(`kubectl -n ${ns} rollout undo statefulset/quiz --to-revision=1`);
    const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
    expect(sts.status).toMatchObject({ currentRevision: goodRevision, updateRevision: goodRevision, readyReplicas: 3 });
    expect(sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'mongo').image).toBe('mongo:5');
    const pods = quizPods(ns) as Record<string, Pod>;
    for (const p of Object.values(pods)) expect(p.metadata.labels?.['controller-revision-hash']).toBe(goodRevision);
    expect(recoveryEvents(ns)).toHaveLength(2);
  }, 400_000);

  it('(e) blocked scale-down: the blocker is named; once it is Ready the scale-down completes', async () => {
    const ns = newNamespace('scale-down');
    await deployBlockedScaleDown(ns);
    const named = await runCli(['recover', 'quiz', '-n', ns]);
    expect(named.code).toBe(1);
    // A finding names the blocker quiz-0.
    expect(named.stdout.split('\n').some((l) => /^(CRITICAL|WARNING) /.test(l) && l.includes('quiz-0')), named.stdout).toBe(true);
    // Watch (manual recovery: sts-doctor writes nothing) while the blocker is made Ready.
    const before = objectVersions(ns);
    const watching = runCli(['recover', 'quiz', '-n', ns, '--action', 'manual', '--timeout', '90s']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(objectVersions(ns)).toEqual(before);
    kubectl(['-n', ns, 'label', 'pod', 'quiz-0', `${FAULT_LABEL}/readiness-`]);
    const res = await watching;
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('quiz-0');
    expect(res.stdout).toMatch(/StatefulSet \S+\/quiz is healthy: 2\/2 ready/);
    expect(Object.keys(quizPods(ns)).sort()).toEqual(['quiz-0', 'quiz-1']);
    expect(recoveryEvents(ns)).toEqual([]);
  }, 400_000);
});

describe(`recover: node ${RECOVERY_NODE} lost`, () => {
  const nsTaint = newNamespace('oos-taint');
  const nsForce = newNamespace('force-delete');
  const nsPvc = newNamespace('pvc-rebuild');
  const nsNoSpare = newNamespace('pvc-no-spare');
  const nsUi = newNamespace('ui');

  beforeAll(async () => {
    await Promise.all([deployMovable(nsTaint), deployMovable(nsForce), deployPinned(nsPvc), deployPinnedNoSpare(nsNoSpare), deployPinned(nsUi)]);
    await failRecoveryNode([nsTaint, nsForce, nsPvc, nsNoSpare, nsUi]);
  }, 600_000);

  afterAll(async () => {
    await recoverRecoveryNode();
  }, 200_000);

  it('(a) force delete: diagnosis and plan read the same heartbeat (the Lease); two-copies risk; quiz-1 recreated and Ready on another node', async () => {
    const old = quizPods(nsForce)['quiz-1'] as Pod;
    const lease = getJson(['-n', 'kube-node-lease', 'lease', RECOVERY_NODE]);
    const renewed = String(lease.spec.renewTime).replace(/\.\d+Z$/, 'Z');
    const { diagnosis } = await diagnoseJson(nsForce);
    const lost = onlyFinding(diagnosis.findings, 'node-lost');
    expect(lost.details?.lastHeartbeat).toBe(renewed);
    expect(lost.evidence.some((e) => e.object.kind === 'Lease' && e.text.includes(renewed))).toBe(true);
    const res = await runCli(['recover', 'quiz', '-n', nsForce, '--action', 'force-delete-pod', '--pod', 'quiz-1', '--yes', '--timeout', '120s']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`Node ${RECOVERY_NODE} stopped reporting \\(Ready=Unknown\\) \\(NodeStatusUnknown: Kubelet stopped posting node status.\\); last heartbeat ${renewed} \\(Lease kube-node-lease/${RECOVERY_NODE}\\), \\S+ ago`));
    expect(res.stdout).toContain('two copies of this identity will run at once');
    expect(res.stdout).toContain('kubectl -n ' + nsForce + ' delete pod quiz-1 --grace-period=0 --force');
    const p = quizPods(nsForce)['quiz-1'] as Pod;
    expect(p.metadata.uid).not.toBe(old.metadata.uid);
    expect(NODES).toContain(p.spec.nodeName);
    expect(isReady(p)).toBe(true);
  }, 400_000);

  it('(b) local PV on the lost node: force delete and taint are not offered (the pod could not move); the combined plan rebuilds quiz-1 on the spare PV', async () => {
    await recordFixture('recovery-pv-node-lost', nsPvc);
    const listing = await runCli(['recover', 'quiz', '-n', nsPvc]);
    expect(listing.code).toBe(1);
    expect(listing.stdout).not.toContain('--action force-delete-pod --pod quiz-1');
    expect(listing.stdout).toContain(`Bring node ${RECOVERY_NODE} back`);
    expect(listing.stdout).toContain(`$ sts-doctor recover quiz -n ${nsPvc} --action delete-pvc-and-pod --pod quiz-1 --yes`);
    // Forced anyway, the force delete's plan says where the replacement cannot go.
    const forced = await runCli(['recover', 'quiz', '-n', nsPvc, '--action', 'force-delete-pod', '--pod', 'quiz-1', '--force-unrelated', '--dry-run=server']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`PV ${nsPvc}-pv-1 (claim db-data-quiz-1) is pinned to ${RECOVERY_NODE}`);
    expect(forced.stdout).toMatch(/stays Pending/);
    expect(forced.stdout).toMatch(/--force-unrelated/);

    const oldClaim = getJson(['-n', nsPvc, 'pvc', 'db-data-quiz-1']);
    const res = await runCli(['recover', 'quiz', '-n', nsPvc, '--action', 'delete-pvc-and-pod', '--pod', 'quiz-1', '--yes', '--timeout', '120s']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`PVC db-data-quiz-1: Bound, 1Gi, PV ${nsPvc}-pv-1 (reclaim policy Retain)`);
    expect(res.stdout).toContain('whenDeleted=Retain, whenScaled=Retain');
    expect(res.stdout).toContain(`PV ${nsPvc}-pv-1 is pinned to ${RECOVERY_NODE}`);
    expect(res.stdout).toContain(`PV ${nsPvc}-pv-spare`); // where the new claim will bind
    expect(res.stdout).toContain('data of replica quiz-1');
    expect(res.stdout).toContain('--grace-period=0 --force');
    expect(res.stderr).toContain('PVC db-data-quiz-1 is gone');
    const claim = getJson(['-n', nsPvc, 'pvc', 'db-data-quiz-1']);
    expect(claim.metadata.uid).not.toBe(oldClaim.metadata.uid);
    expect(claim.status.phase).toBe('Bound');
    expect(claim.spec.volumeName).toBe(`${nsPvc}-pv-spare`);
    const p = quizPods(nsPvc)['quiz-1'] as Pod;
    expect(p.spec.nodeName).toBe(NODES[2]);
    expect(isReady(p)).toBe(true);
    // The old PV is left Released: a finding of its own.
    await recordFixture('released-volume', nsPvc);
    const { diagnosis } = await diagnoseJson(nsPvc);
    expect(diagnosis.findings.map((f) => `${f.rule} ${f.subject.name}`)).toContain(`released-volume ${nsPvc}-pv-1`);
  }, 400_000);

  it('(b2) no PV can bind a new claim: the watch after a force delete stops on the dead end in under 30 s; delete-pvc-and-pod refuses up front, naming what to create', async () => {
    const started = Date.now();
    const res = await runCli(['recover', 'quiz', '-n', nsNoSpare, '--action', 'force-delete-pod', '--pod', 'quiz-1', '--force-unrelated', '--yes', '--timeout', '300s']);
    const seconds = (Date.now() - started) / 1000;
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(seconds).toBeLessThan(30);
    console.log(`dead-end watch stopped after ${seconds.toFixed(1)} s`);
    expect(res.stdout).toMatch(/will not heal by itself/);
    expect(res.stdout).toContain('volume-node-affinity Pod/quiz-1');
    const listing = await runCli(['recover', 'quiz', '-n', nsNoSpare]);
    expect(listing.stdout).not.toContain('--action delete-pvc-and-pod --pod quiz-1 --yes');
    expect(listing.stdout).toMatch(/no PersistentVolume can bind/);
    const before = objectVersions(nsNoSpare);
    const refused = await runCli(['recover', 'quiz', '-n', nsNoSpare, '--action', 'delete-pvc-and-pod', '--pod', 'quiz-1', '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/create a PersistentVolume of StorageClass local-\S+ with at least 1Gi and access mode ReadWriteOnce/);
    expect(objectVersions(nsNoSpare)).toEqual(before);
  }, 400_000);

  // Before the out-of-service taint test: that taint would free quiz-1 of this namespace too.
  it.skipIf(!hasTmux)('(ui) sts-doctor ui in a real terminal (tmux, 80 columns): select quiz, read the diagnosis, r → rebuild quiz-1 on the spare PV (typed name), the live view shows 3/3 ready', async () => {
    const term = tmuxSession(`sts-doctor-ui-${process.pid}`, 80, 40);
    const audit = auditFile();
    const oldClaim = getJson(['-n', nsUi, 'pvc', 'db-data-quiz-1']);
    // A person at a terminal: not a CI run (the app, like ink, is not drawn under CI=...).
    term.start(`cd ${repoRoot} && env -u CI -u CONTINUOUS_INTEGRATION KUBECONFIG=${kubeconfigPath()} NO_COLOR=1 HOME=/nonexistent node bin/sts-doctor.js ui -n ${nsUi} --audit-log ${audit}; echo EXIT=$?; sleep 600`);
    try {
      const list = await term.until('the list', /❯ .*quiz .*node-lost/);
      console.log(`ui list at 80 columns:\n${list}`);
      expect(list).toContain(`sts-doctor · namespace ${nsUi}`);
      expect(list).toMatch(/quiz\s+2\/3\s+✖ node-lost: Pod quiz-1/);
      term.keys('Enter');
      const detail = await term.until('the diagnosis', /❯ ✖ CRITICAL node-lost\s+Pod\/quiz-1/);
      console.log(`ui diagnosis at 80 columns:\n${detail}`);
      expect(detail).toMatch(/Evidence: \d+ lines \(folded\)/);
      expect(detail).toMatch(/1\s+quiz-1\s+Terminating/);
      term.keys('e');
      await term.until('the evidence', /• Node\/kwok-node-5/);
      term.keys('r');
      await term.until('the recoveries', /How do you want to recover from node-lost quiz-1\?/);
      for (let i = 0; i < 5 && !/❯ Force-delete pod quiz-1 and its claim/.test(term.screen()); i++) {
        term.keys('Down');
        await new Promise((r) => setTimeout(r, 400));
      }
      term.keys('Enter');
      const plan = await term.until('the plan', /Type the claim name db-data-quiz-1/);
      expect(plan).toContain('Confirmation: type "db-data-quiz-1"');
      await new Promise((r) => setTimeout(r, 500));
      term.type('db-data-quiz-1');
      await term.until('the typed name', /> db-data-quiz-1/);
      await new Promise((r) => setTimeout(r, 500));
      term.keys('Enter');
      const healthy = await term.until('the pods back', /✔ StatefulSet \S+\/quiz is healthy: 3\/3 ready/, 180_000);
      console.log(`ui after the recovery at 80 columns:\n${healthy}`);
      expect(healthy).toMatch(/Executed: Force-delete pod quiz-1 and its claim/);
      expect(healthy).toMatch(/1\s+quiz-1\s+Running\s+2\/2/);
      term.keys('q');
      const done = await term.until('the exit', /EXIT=\d/);
      expect(done).toContain('EXIT=0');
    } finally {
      term.kill();
    }
    // The same writes as `recover`: through the API, with the audit log and the Event.
    const claim = getJson(['-n', nsUi, 'pvc', 'db-data-quiz-1']);
    expect(claim.metadata.uid).not.toBe(oldClaim.metadata.uid);
    expect(claim.spec.volumeName).toBe(`${nsUi}-pv-spare`);
    const p = quizPods(nsUi)['quiz-1'] as Pod;
    expect(p.spec.nodeName).toBe(NODES[2]);
    expect(isReady(p)).toBe(true);
    const lines = auditLines(audit);
    expect(lines.filter((l) => l.dryRun === true).length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.dryRun === false && l.result === 'ok').map((l) => l.method)).toEqual(expect.arrayContaining(['DELETE']));
    expect(recoveryEvents(nsUi).length).toBeGreaterThan(0);
  }, 400_000);

  it('(a) out-of-service taint: quiz-1 recreated and Ready on another node; the taint left behind is a finding of diagnose; removed after repair', async () => {
    const old = quizPods(nsTaint)['quiz-1'] as Pod;
    const res = await runCli(['recover', 'quiz', '-n', nsTaint, '--action', 'out-of-service-taint', '--node', RECOVERY_NODE, '--yes', '--timeout', '150s']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`kubectl taint node ${RECOVERY_NODE} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`);
    expect(res.stdout).toContain(`--action remove-out-of-service-taint --node ${RECOVERY_NODE}`);
    const p = quizPods(nsTaint)['quiz-1'] as Pod;
    expect(p.metadata.uid).not.toBe(old.metadata.uid);
    expect(NODES).toContain(p.spec.nodeName);
    expect(isReady(p)).toBe(true);
    expect(hasOutOfServiceTaint()).toBe(true);

    await recoverRecoveryNode({ removeTaint: false });
    // Repaired: Ready, and the node lifecycle controller has lifted its unreachable/not-ready taints.
    await waitFor('kwok-node-5 without unreachable taints', () => !(getJson(['node', RECOVERY_NODE]).spec.taints ?? []).some((t: { key: string }) => /unreachable|not-ready/.test(t.key)));
    // diagnose reports the leftover, with the same recovery recover offers.
    await recordFixture('out-of-service-taint', nsTaint);
    // Wide enough that the report's sentences and commands are not wrapped.
    const diag = await runCli(['diagnose', 'quiz', '-n', nsTaint], { COLUMNS: '400' });
    expect(diag.stdout).toContain(`Node ${RECOVERY_NODE} still has the node.kubernetes.io/out-of-service taint and is Ready again`);
    expect(diag.stdout).toContain(`sts-doctor recover quiz -n ${nsTaint} --action remove-out-of-service-taint --node ${RECOVERY_NODE}`);
    const offered = await runCli(['recover', 'quiz', '-n', nsTaint], { COLUMNS: '400' });
    expect(offered.stdout).toContain(`WARNING out-of-service-taint Node/${RECOVERY_NODE}: Node ${RECOVERY_NODE} still has the node.kubernetes.io/out-of-service taint and is Ready again`);
    expect(offered.stdout).toContain(`$ sts-doctor recover quiz -n ${nsTaint} --action remove-out-of-service-taint --node ${RECOVERY_NODE} --yes`);
    const removed = await runCli(['recover', 'quiz', '-n', nsTaint, '--action', 'remove-out-of-service-taint', '--node', RECOVERY_NODE, '--yes', '--timeout', '60s']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(hasOutOfServiceTaint()).toBe(false);
  }, 400_000);
});
