// End to end: `sts-doctor serve` on the real control plane. serve runs with a kubeconfig made
// from a ServiceAccount token bound to the shipped ClusterRole (deploy/serve/rbac.yaml, and
// events-rbac.yaml for --emit-events), so the RBAC is proven sufficient; StatefulSets are broken
// and healed by the real controllers (KWOK for the kubelet's image pulls and probes) and
// /metrics is scraped. A second serve reads through the fault proxy (test/faults/proxy.mjs) to
// drop its watches and to answer a watch with 410 Expired; the shared apiserver is never
// restarted. Every serve is started here and stopped by its PID (SIGTERM: it must exit 0).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { apply, clusterDir, clusterScript, getJson, kubeconfigPath, kubectl, repoRoot, temporaryDir, waitFor, waitNodeReady } from '../scenarios/cluster.mjs';
import { FAULT_LABEL, NODES, createNamespace, deployQuiz, isReady, localStorageObjects, quizObjects, quizPods, scenarios, waitHealthy } from '../scenarios/quiz.mjs';
import { CONTAINER_LABEL, workloadScenarios } from '../scenarios/workload.mjs';
import { startFaultProxy } from '../faults/proxy.mjs';
import { diagnoseJson, runCli, testNamespaces } from './helpers.js';
import type { Diagnosis } from '../../src/diagnosis.js';

const namespaces = testNamespaces();
const work = temporaryDir('sts-doctor-serve-');
const deployDir = join(repoRoot, 'deploy', 'serve');
type K8sObject = { kind: string; metadata: { name: string; namespace?: string }; subjects?: { namespace?: string; name: string }[]; roleRef?: { name: string } };

interface Serve {
  child: ChildProcess;
  url: string;
  log: () => string;
}

/** Polls the async `check` every 250 ms until it is truthy; throws after `timeoutMs` naming `what`. */
async function until<T>(what: string, check: () => Promise<T>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts `serve` with `args` and `kubeconfig`; resolves once it listens. */
async function startServe(args: string[], kubeconfig: string): Promise<Serve> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sts-doctor.js'), 'serve', '--listen', '127.0.0.1:0', ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = (await waitFor('serve to listen', () => /listening on (http:\/\/\S+);/.exec(out)?.[1], 20_000)) as string;
  return { child, url, log: () => out };
}

/** Stops `serve` by its PID with SIGTERM; resolves with its exit code. */
function stopServe(s: Serve | undefined): Promise<number | null> {
  if (!s || s.child.exitCode !== null) return Promise.resolve(s?.child.exitCode ?? null);
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    process.kill(s.child.pid!, 'SIGTERM');
  });
}

async function get(s: Serve, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(s.url + path);
  return { status: res.status, text: await res.text() };
}

/** The `sts_doctor_finding` series of `ns` as `rule subject_kind/subject severity`, and their first-seen times (s). */
async function findings(s: Serve, ns: string): Promise<Map<string, number>> {
  const { text } = await get(s, '/metrics');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^sts_doctor_finding_first_seen_timestamp_seconds\{([^}]*)\} (\S+)$/gm)) {
    const l = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (l.namespace === ns) out.set(`${l.rule} ${l.subject_kind}/${l.subject} ${l.severity}`, Number(m[2]));
  }
  return out;
}

/** Waits until `key` is among the findings of `ns`; returns when it was first seen (ms since the epoch, serve's clock). */
async function seriesAppears(s: Serve, ns: string, key: string, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const all = await findings(s, ns);
    const seen = all.get(key);
    if (seen !== undefined) return Math.round(seen * 1000);
    if (Date.now() > until) throw new Error(`${key} not in the series of ${ns} after ${timeoutMs / 1000} s: ${[...all.keys()].join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls (every 250 ms) until no `rule` series of `ns` is left. */
async function seriesGone(s: Serve, ns: string, rule: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = [...(await findings(s, ns)).keys()].filter((k) => k.startsWith(`${rule} `));
    if (!left.length) return;
    if (Date.now() > until) throw new Error(`${rule} series still there after ${timeoutMs / 1000} s: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The shipped RBAC for the ServiceAccount in `saNs`, renamed by `suffix` so that runs never collide. */
function shippedRbac(saNs: string, suffix: string): K8sObject[] {
  const docs = ['rbac.yaml', 'events-rbac.yaml'].flatMap((f) => parseAllDocuments(readFileSync(join(deployDir, f), 'utf8')).map((d) => d.toJS() as K8sObject));
  for (const o of docs) {
    if (o.kind === 'ServiceAccount') o.metadata.namespace = saNs;
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata.name += `-${suffix}`;
    if (o.roleRef) o.roleRef.name += `-${suffix}`;
    for (const sub of o.subjects ?? []) sub.namespace = saNs;
  }
  return docs;
}

/** A kubeconfig for the real apiserver with a token of ServiceAccount `sa` of saNs. */
function tokenKubeconfig(sa: string): string {
  const token = kubectl(['-n', saNs, 'create', 'token', sa, '--duration=1h']).trim();
  const path = join(work, `${sa}.kubeconfig`);
  const ca = readFileSync(join(clusterDir, 'pki', 'ca.crt')).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: upstream(), 'certificate-authority-data': ca } }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa' } }],
    'current-context': 'sa',
  };
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

const upstream = (): string => /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))![1]!;

let saNs: string;
let suffix: string;
let rbac: K8sObject[];
let nsImage: string;
let nsScale: string;
let nsProxy: string;
let nsNode: string;
/** The node of this area (test/cluster/README.md, "Sharing the nodes"): only these tests' pods tolerate its taint, only they fail it. */
const SERVE_NODE = 'kwok-node-6';
const SERVE_TOLERATION = { key: 'sts-doctor.test/area', operator: 'Equal', value: 'serve', effect: 'NoSchedule' };
let serve: Serve | undefined;
let proxied: Serve | undefined;
let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;

beforeAll(async () => {
  saNs = namespaces.fresh('serve-sa');
  nsImage = namespaces.fresh('serve-image');
  nsScale = namespaces.fresh('serve-scale');
  nsProxy = namespaces.fresh('serve-proxy');
  nsNode = namespaces.fresh('serve-node');
  for (const ns of [saNs, nsImage, nsScale, nsProxy, nsNode]) await createNamespace(ns);
  suffix = saNs.replace(/^e2e-/, '');
  rbac = shippedRbac(saNs, suffix);
  kubectl(['apply', '-f', '-'], { input: rbac.map((o) => stringify(o)).join('---\n') });
  // A token of the ServiceAccount: serve gets exactly what the shipped ClusterRoles grant.
  const kubeconfig = tokenKubeconfig('sts-doctor-serve');
  serve = await startServe(['-n', nsImage, '-n', nsScale, '-n', nsNode, '--emit-events', '--resync', '10s'], kubeconfig);
}, 120_000);

afterAll(async () => {
  await stopServe(serve);
  await stopServe(proxied);
  await proxy?.close();
  for (const o of rbac ?? []) if (o.kind.startsWith('Cluster')) kubectl(['delete', o.kind.toLowerCase(), o.metadata.name, '--ignore-not-found', '--wait=false'], { allowFail: true });
});

describe('sts-doctor serve', () => {
  it('is ready with the shipped ClusterRole alone, which grants list and watch and no get, no write but events', async () => {
    await until('/readyz 200', async () => (await get(serve!, '/readyz')).status === 200, 30_000);
    expect((await get(serve!, '/healthz')).status).toBe(200);
    const sa = `system:serviceaccount:${saNs}:sts-doctor-serve`;
    const can = (verb: string, what: string): string => kubectl(['auth', 'can-i', verb, what, '--as', sa, '-n', nsImage], { allowFail: true }).trim();
    expect(can('watch', 'pods')).toBe('yes');
    expect(can('get', 'pods')).toBe('no');
    expect(can('get', 'secrets')).toBe('no');
    expect(can('delete', 'pods')).toBe('no');
    expect(can('create', 'events')).toBe('yes');
    expect(serve!.log()).not.toMatch(/forbidden/i);
    // The core objects of the deploy files are accepted by the real apiserver (the CRDs of
    // ServiceMonitor and PrometheusRule are not installed here); namespaced ones in saNs.
    const core = ['namespace.yaml', 'rbac.yaml', 'events-rbac.yaml', 'deployment.yaml', 'service.yaml'].flatMap((f) => parseAllDocuments(readFileSync(join(deployDir, f), 'utf8')).map((d) => d.toJS() as K8sObject));
    for (const o of core) if (o.metadata.namespace) o.metadata.namespace = saNs;
    const dry = kubectl(['apply', '--dry-run=server', '-f', '-'], { input: core.map((o) => stringify(o)).join('---\n'), allowFail: true });
    for (const what of ['namespace/sts-doctor', 'serviceaccount/sts-doctor-serve', 'clusterrole.rbac.authorization.k8s.io/sts-doctor-serve', 'deployment.apps/sts-doctor-serve', 'service/sts-doctor-serve'])
      expect(dry).toMatch(new RegExp(`${what.replace(/[./]/g, '\\$&')} (created|configured|unchanged) \\(server dry run\\)`));
  });

  it('image pull: the series appears within 10 s of the failure signal, one Event, the same findings as diagnose; gone after the fix', async () => {
    const t0 = Date.now();
    const signal = { at: 0 };
    await scenarios['image-pull']!.setup(nsImage);
    // The failure signal: the kubelet's (KWOK's) first Failed event on quiz-0.
    const failed = getJson(['-n', nsImage, 'events', '--field-selector', 'involvedObject.name=quiz-0,reason=Failed']).items as { firstTimestamp?: string; eventTime?: string }[];
    signal.at = Math.min(...failed.map((e) => Date.parse(e.firstTimestamp ?? e.eventTime ?? '')).filter((t) => !Number.isNaN(t)));
    const seen = await seriesAppears(serve!, nsImage, 'image-pull Pod/quiz-0 critical', 10_000);
    // Both clocks are this machine's; event times have 1 s resolution, first-seen 1 s too.
    const latency = seen - signal.at;
    console.log(`serve: image-pull series ${latency} ms after the Failed event (setup took ${Date.now() - t0} ms)`);
    expect(latency).toBeLessThanOrEqual(10_000);

    // /statefulsets gives the JSON of diagnose -o json: the same findings.
    const served = JSON.parse((await get(serve!, `/statefulsets?namespace=${nsImage}`)).text) as Diagnosis;
    const { diagnosis } = await diagnoseJson(nsImage);
    const keys = (d: Diagnosis) => d.findings.map((f) => `${f.rule} ${f.subject.kind}/${f.subject.name} ${f.severity}`).sort();
    expect(keys(served)).toEqual(keys(diagnosis));
    expect(served).toMatchObject({ apiVersion: diagnosis.apiVersion, kind: 'Diagnosis', namespace: nsImage });
    expect(served.statefulSets.map((s) => s.name)).toEqual(['quiz']);
    expect((await get(serve!, '/metrics')).text).toMatch(new RegExp(`sts_doctor_statefulset_healthy\\{namespace="${nsImage}",statefulset="quiz"\\} 0`));

    // --emit-events: one Event per finding start, none again while it holds (two resyncs of 10 s).
    const events = () => (getJson(['-n', nsImage, 'events', '--field-selector', 'involvedObject.kind=StatefulSet,reason=StsDoctorImagePull']).items as { message: string; type: string }[]);
    await waitFor('the StsDoctorImagePull Event', () => events().length === 1, 10_000);
    await new Promise((r) => setTimeout(r, 21_000));
    expect(events()).toHaveLength(1);
    expect(events()[0]).toMatchObject({ type: 'Warning', message: expect.stringContaining('cannot pull image') });

    // The fix: a good image, the fault label off the template, quiz-0 replaced.
    kubectl(['-n', nsImage, 'patch', 'statefulset', 'quiz', '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'mongo:5' },
      { op: 'remove', path: '/spec/template/metadata/labels/fault.sts-doctor.test~1image-pull' },
    ])]);
    kubectl(['-n', nsImage, 'delete', 'pod', 'quiz-0', '--wait=false']);
    await seriesGone(serve!, nsImage, 'image-pull', 60_000);
    await until('quiz healthy in serve', async () => (await get(serve!, '/metrics')).text.includes(`sts_doctor_statefulset_healthy{namespace="${nsImage}",statefulset="quiz"} 1`), 120_000);
  }, 300_000);

  it('blocked scale-down: the series appears within 10 s of the scale, and goes once the blocker is Ready', async () => {
    const scenario = workloadScenarios['workload-scale-down-blocked'] as { release(ns: string): Promise<void> };
    // The scenario's steps (test/scenarios/workload.mjs), timed here: healthy quiz, quiz-0's
    // readiness failing, then the scale to 2: the signal.
    await deployQuiz(nsScale);
    await waitHealthy(nsScale);
    kubectl(['-n', nsScale, 'label', 'pod', 'quiz-0', `${FAULT_LABEL}/readiness=503`, `${CONTAINER_LABEL}=quiz-api`]);
    await waitFor('quiz-0 not Ready', () => !isReady(quizPods(nsScale)['quiz-0']));
    const scaleAt = Date.now();
    kubectl(['-n', nsScale, 'scale', 'statefulset', 'quiz', '--replicas=2']);
    const seen = await seriesAppears(serve!, nsScale, 'scale-down-blocked Pod/quiz-0 critical', 10_000);
    console.log(`serve: scale-down-blocked series ${seen - scaleAt} ms after the scale`);
    expect(seen - scaleAt).toBeLessThanOrEqual(10_000);
    // quiz-2 is still there: the scale-down is blocked indeed.
    expect(quizPods(nsScale)['quiz-2']?.metadata?.deletionTimestamp).toBeUndefined();
    await scenario.release(nsScale);
    await seriesGone(serve!, nsScale, 'scale-down-blocked', 30_000);
  }, 300_000);

  it('through a proxy that drops every watch for 5 s and answers one watch with 410 Expired: no finding lost, changes made meanwhile seen, a re-list', async () => {
    proxy = await startFaultProxy({ clusterDir, upstream: upstream() });
    proxied = await startServe(['-n', nsProxy, '--resync', '0'], proxy.kubeconfig(join(work, 'proxy.kubeconfig')));
    await until('/readyz 200 through the proxy', async () => (await get(proxied!, '/readyz')).status === 200, 30_000);
    await scenarios['image-pull']!.setup(nsProxy);
    await seriesAppears(proxied, nsProxy, 'image-pull Pod/quiz-0 critical', 10_000);

    // Every connection dropped (as an apiserver restart would), the headless Service deleted meanwhile.
    const before = await get(proxied, '/metrics');
    const restartsBefore = sum(before.text, 'sts_doctor_watch_restarts_total');
    const down = proxy.down(5_000);
    await new Promise((r) => setTimeout(r, 500));
    kubectl(['-n', nsProxy, 'delete', 'service', 'quiz-pods']);
    // While the watches are down, the cache still holds the finding.
    expect([...(await findings(proxied, nsProxy)).keys()]).toContain('image-pull Pod/quiz-0 critical');
    await down;
    const back = Date.now();
    await seriesAppears(proxied, nsProxy, 'headless-service-missing Service/quiz-pods warning', 15_000);
    console.log(`serve: a change made while the watches were down seen ${Date.now() - back} ms after they came back (scraped every 250 ms)`);
    expect([...(await findings(proxied, nsProxy)).keys()]).toContain('image-pull Pod/quiz-0 critical');
    expect(sum((await get(proxied, '/metrics')).text, 'sts_doctor_watch_restarts_total')).toBeGreaterThan(restartsBefore);

    // 410 Expired on the next pods watch: the informer lists again and goes on.
    proxy.setRules([{ path: /\/namespaces\/[^/]+\/pods$/, times: 1, fault: { type: 'watch-expired' } }]);
    await proxy.down(200);
    const relists = async (): Promise<number> => sum((await get(proxied!, '/metrics')).text.split('\n').filter((l) => l.includes('resource="pods"')).join('\n'), 'sts_doctor_watch_relists_total');
    const relistsBefore = await relists();
    await until('a re-list of pods', async () => (await relists()) > relistsBefore, 20_000);
    expect(proxy.hits(), proxied.log()).toEqual([1]);
    expect(proxied.log()).toMatch(/pods: 410 Expired: too old resource version: \d+ \(injected\); listing again/);
    expect([...(await findings(proxied, nsProxy)).keys()]).toContain('image-pull Pod/quiz-0 critical');
    // And it still follows changes: the Service back, its finding gone.
    kubectl(['-n', nsProxy, 'apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'quiz-pods', namespace: nsProxy, labels: { app: 'quiz' } }, spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'quiz' }, ports: [{ name: 'mongodb', port: 27017 }] } }) });
    await seriesGone(proxied, nsProxy, 'headless-service-missing', 15_000);
  }, 300_000);

  it('wait on a failing StatefulSet follows it by watches: 30 s cost one full read, one LIST and one WATCH per resource, and the full read of its report', async () => {
    // Re-reading every --interval (2 s) as before sent ~14 requests a round: about 200 in 30 s.
    // The proxied serve is stopped first: only wait's requests are counted.
    expect(await stopServe(proxied)).toBe(0);
    proxy!.setRules([]);
    const before = proxy!.log.length;
    // --no-fail-fast: the image pull is permanent, and this is about the 30 s of watching.
    const r = await runCli(['wait', 'quiz', '-n', nsProxy, '--timeout', '30s', '--no-fail-fast', '-o', 'json'], { KUBECONFIG: join(work, 'proxy.kubeconfig') });
    expect(r.code, r.stderr).toBe(1);
    const sent = proxy!.log.slice(before).filter((l) => l.userAgent?.startsWith('sts-doctor/'));
    const watches = sent.filter((l) => /[?&]watch=1/.test(l.path));
    const stsGets = sent.filter((l) => l.path.startsWith(`/apis/apps/v1/namespaces/${nsProxy}/statefulsets/quiz`));
    console.log(`serve: wait 30 s on a failing set: ${sent.length} requests (${watches.length} watches)`);
    // Two full reads: the first, and the one of the final report (logs included, wait.ts).
    expect(stsGets).toHaveLength(2);
    // One per resource (events: three, by involved kind) and the cluster DNS EndpointSlices.
    expect(watches.length).toBe(15);
    expect(sent.length).toBeLessThanOrEqual(70);
    // The final report: the same findings as diagnose, and no gap.
    const d = JSON.parse(r.stdout) as Diagnosis;
    const { diagnosis } = await diagnoseJson(nsProxy);
    expect(d.findings.map((f) => `${f.rule} ${f.subject.name}`).sort()).toEqual(diagnosis.findings.map((f) => `${f.rule} ${f.subject.name}`).sort());
    expect(d.gaps).toEqual([]);
  }, 120_000);

  it('wait with get and list but no watch (an older gate Role): says it cannot watch and reads in full every --interval', async () => {
    const rules = [
      { apiGroups: ['apps'], resources: ['statefulsets', 'controllerrevisions'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods', 'pods/log', 'persistentvolumeclaims', 'events', 'services', 'resourcequotas', 'nodes', 'persistentvolumes'], verbs: ['get', 'list'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'volumeattachments'], verbs: ['get', 'list'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] },
    ];
    const name = `sts-doctor-nowatch-${suffix}`;
    kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'no-watch', namespace: saNs } },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels: { 'app.kubernetes.io/name': 'sts-doctor-serve' } }, rules },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels: { 'app.kubernetes.io/name': 'sts-doctor-serve' } }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name: 'no-watch', namespace: saNs }] },
        ],
      }),
    });
    rbac.push({ kind: 'ClusterRole', metadata: { name } }, { kind: 'ClusterRoleBinding', metadata: { name } });
    const r = await runCli(['wait', 'quiz', '-n', nsProxy, '--timeout', '8s', '--interval', '1s', '--no-fail-fast', '-o', 'json'], { KUBECONFIG: tokenKubeconfig('no-watch') });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/cannot watch \(WATCH \S+: 403 Forbidden: .*\); reading in full every 1s instead\./);
    expect((JSON.parse(r.stdout) as Diagnosis).findings.map((f) => f.rule)).toContain('image-pull');
  }, 120_000);

  it('node lost: quiz-1 and its pinned volume on kwok-node-6, which stops reporting: node-lost within 10 s of Ready=Unknown; gone once the node is back', async () => {
    // quiz with local PVs pinned to kwok-node-0, kwok-node-6, kwok-node-1; tolerating node 6's taint.
    apply(localStorageObjects(nsNode, 3, [NODES[0]!, SERVE_NODE, NODES[1]!]));
    const objects = quizObjects(nsNode) as { kind: string; spec: { template: { spec: { tolerations?: unknown[] } } } }[];
    objects.find((o) => o.kind === 'StatefulSet')!.spec.template.spec.tolerations = [SERVE_TOLERATION];
    apply(objects);
    await waitHealthy(nsNode);
    expect(quizPods(nsNode)['quiz-1'].spec.nodeName).toBe(SERVE_NODE);
    clusterScript('node-fail', SERVE_NODE);
    try {
      // The signal: the node-lifecycle controller sets Ready=Unknown (after its 20 s grace period).
      type Condition = { type: string; status: string; lastTransitionTime: string };
      const ready = (): Condition => (getJson(['node', SERVE_NODE]).status.conditions as Condition[]).find((c) => c.type === 'Ready')!;
      await waitFor(`${SERVE_NODE} Ready=Unknown`, () => ready().status === 'Unknown', 90_000);
      const unknownAt = Date.parse(ready().lastTransitionTime);
      const until = Date.now() + 30_000;
      let seen: number | undefined;
      while (seen === undefined && Date.now() < until) {
        seen = [...(await findings(serve!, nsNode))].find(([k]) => k.startsWith('node-lost '))?.[1];
        if (seen === undefined) await new Promise((r) => setTimeout(r, 250));
      }
      expect(seen, [...(await findings(serve!, nsNode)).keys()].join(', ')).toBeDefined();
      console.log(`serve: node-lost series ${Math.round(seen! * 1000) - unknownAt} ms after Ready=Unknown (1 s resolution)`);
      expect(Math.round(seen! * 1000) - unknownAt).toBeLessThanOrEqual(10_000);
    } finally {
      clusterScript('node-recover', SERVE_NODE);
    }
    await waitNodeReady(SERVE_NODE);
    await seriesGone(serve!, nsNode, 'node-lost', 180_000);
  }, 400_000);

  it('SIGTERM: serve stops its watches and exits 0', async () => {
    expect(await stopServe(serve)).toBe(0);
    expect(serve!.log()).toMatch(/SIGTERM: stopping/);
    expect(serve!.log()).not.toMatch(/internal error|\n\s+at /);
  });
});

/** The sum of a counter's series in a metrics text. */
function sum(text: string, name: string): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))) total += Number(m[1]);
  return total;
}
