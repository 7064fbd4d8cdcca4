// deploy/gate/ on the real control plane: every overlay (plain Job, Argo CD PostSync hook, Helm
// test hook) passes a server-side dry run as a user's kustomization uses it, and the gate's
// ServiceAccount token is enough for `wait`: exit 0 on a healthy set, 1 on a broken one, no read
// forbidden (no "Not checked"), and nothing beyond reading.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { clusterEnv, kubeconfigPath, kubectl, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const gate = join(repoRoot, 'deploy', 'gate');
const suffixes: string[] = [];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { template?: { spec?: { serviceAccountName?: string; containers?: { image: string; args: string[] }[] } } };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/**
 * A user's kustomization over deploy/gate/<overlay>: their namespace, a name suffix (one
 * ClusterRoleBinding per namespace) and their StatefulSet's name; rendered with the cluster's kubectl.
 */
function render(overlay: string, ns: string, statefulSet = 'quiz', image?: string): { yaml: string; objects: K8sObject[]; suffix: string } {
  const dir = temporaryDir('sts-doctor-gate-');
  const suffix = `-${ns.split('-').slice(-2).join('-')}`; // e.g. -ok-mx1rucsq: unique per namespace
  suffixes.push(suffix);
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: ns,
      nameSuffix: suffix,
      resources: [relative(dir, join(gate, overlay))], // kustomize takes relative paths only
      patches: [{ target: { kind: 'Job' }, patch: stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/args/1', value: statefulSet }]) }],
      ...(image ? { images: [{ name: 'ghcr.io/sts-doctor/sts-doctor', newName: image.split(':')[0], newTag: image.split(':')[1] }] } : {}),
    }),
  );
  const yaml = kubectl(['kustomize', dir]);
  return { yaml, objects: parseAllDocuments(yaml).map((d) => d.toJS() as K8sObject), suffix };
}

/** kubectl apply (server-side dry run unless `really`), returning status and output. */
function apply(yaml: string, really = false) {
  return spawnSync(clusterEnv().STS_DOCTOR_KUBECTL!, ['--kubeconfig', kubeconfigPath(), 'apply', ...(really ? [] : ['--dry-run=server']), '-f', '-'], { input: yaml, encoding: 'utf8' });
}

/** A kubeconfig holding only a token of the ServiceAccount `sa` in `ns`, for the test cluster's server and CA. */
function serviceAccountKubeconfig(ns: string, sa: string): string {
  const admin = JSON.parse(kubectl(['config', 'view', '--raw', '-o', 'json'])) as { clusters: { cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[] };
  const cluster = admin.clusters[0]!.cluster;
  const ca = cluster['certificate-authority-data'] ?? Buffer.from(readFileSync(cluster['certificate-authority']!)).toString('base64');
  const token = kubectl(['-n', ns, 'create', 'token', sa, '--duration', '15m']).trim();
  const file = join(temporaryDir('sts-doctor-sa-'), 'kubeconfig');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: 'gate', context: { cluster: 'test', user: sa, namespace: ns } }],
      'current-context': 'gate',
    }),
  );
  return file;
}

let healthyNs = '';
let brokenNs = '';

beforeAll(async () => {
  healthyNs = namespaces.fresh('gate-job-ok');
  brokenNs = namespaces.fresh('gate-job-bad');
  await Promise.all([scenarios.healthy.setup(healthyNs), scenarios['image-pull'].setup(brokenNs)]);
}, 240_000);

afterAll(() => {
  // The cluster-scoped objects the kustomizations created (namespaced ones go with the namespaces).
  for (const suffix of suffixes) {
    kubectl(['delete', 'clusterrole,clusterrolebinding', `sts-doctor-gate${suffix}`, '--ignore-not-found', '--wait=false'], { allowFail: true });
  }
});

describe('deploy/gate', () => {
  it.each([
    ['base', {}, undefined],
    ['argocd', { 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' }, undefined],
    // The image set by the user's kustomization, as the README shows.
    ['helm', { 'helm.sh/hook': 'test', 'helm.sh/hook-delete-policy': 'before-hook-creation' }, 'registry.example/sts-doctor:v9.9.9'],
  ])('%s: one image reference, the hook annotations on the Job only, accepted by the API server (dry run)', (overlay, annotations, image) => {
    const { yaml, objects, suffix } = render(overlay, healthyNs, 'quiz', image);
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Job', 'Role', 'RoleBinding', 'ServiceAccount']);
    const job = objects.find((o) => o.kind === 'Job')!;
    expect(job.metadata.annotations ?? {}).toEqual(annotations);
    for (const o of objects.filter((x) => x.kind !== 'Job')) expect(o.metadata.annotations).toBeUndefined();
    expect([...yaml.matchAll(/^\s*image: (.+)$/gm)].map((m) => m[1])).toEqual([image ?? 'ghcr.io/sts-doctor/sts-doctor:v0.1.0']);
    expect(job.spec!.template!.spec!.serviceAccountName).toBe(`sts-doctor-gate${suffix}`);
    expect(job.spec!.template!.spec!.containers![0]!.args.slice(0, 2)).toEqual(['wait', 'quiz']);
    expect(objects.find((o) => o.kind === 'ClusterRoleBinding')!.subjects).toEqual([{ kind: 'ServiceAccount', name: `sts-doctor-gate${suffix}`, namespace: healthyNs }]);
    const res = apply(yaml);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`job\\.batch/sts-doctor-gate${suffix} created \\(server dry run\\)`));
  });

  it('the ServiceAccount token is enough for wait: healthy exit 0, broken exit 1, nothing forbidden', async () => {
    // The RBAC of both namespaces for real (the Jobs are left out: KWOK runs no containers),
    // then both waits, so one namespace's bindings cannot have replaced the other's.
    const installed = [healthyNs, brokenNs].map((ns) => {
      const { objects, suffix } = render('base', ns);
      const res = apply(objects.filter((o) => o.kind !== 'Job').map((o) => stringify(o)).join('---\n'), true);
      expect(res.status, res.stderr).toBe(0);
      return { ns, suffix, kubeconfig: serviceAccountKubeconfig(ns, `sts-doctor-gate${suffix}`) };
    });
    const results = await Promise.all(
      installed.map(async (r) => ({ ...r, wait: await runCli(['wait', 'quiz', '--timeout', r.ns === healthyNs ? '60s' : '3s', '-o', 'json'], { KUBECONFIG: r.kubeconfig }) })),
    );
    const [ok, bad] = results;
    expect(ok!.wait.code, ok!.wait.stderr).toBe(0);
    expect(bad!.wait.code, bad!.wait.stderr).toBe(1);
    for (const r of results) {
      const d = JSON.parse(r.wait.stdout) as { namespace: string; gaps: unknown[]; source: { requests: number } };
      expect(d.namespace).toBe(r.ns);
      expect(d.gaps).toEqual([]);
      expect(r.wait.stderr).not.toMatch(/403|forbidden/i);
    }
    expect((JSON.parse(bad!.wait.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule)).toContain('image-pull');

    // Least privilege: the token reads, and does nothing else.
    const sa = `system:serviceaccount:${healthyNs}:sts-doctor-gate${ok!.suffix}`;
    const can = (...args: string[]) => kubectl(['auth', 'can-i', ...args, '--as', sa], { allowFail: true }).trim();
    expect(can('list', 'pods', '-n', healthyNs)).toBe('yes');
    expect(can('list', 'nodes')).toBe('yes');
    expect(can('list', 'volumeattachments.storage.k8s.io')).toBe('yes');
    for (const verb of [['get', 'secrets', '-n', healthyNs], ['get', 'configmaps', '-n', healthyNs], ['delete', 'pods', '-n', healthyNs], ['patch', 'statefulsets.apps', '-n', healthyNs], ['patch', 'nodes'], ['list', 'pods', '-n', brokenNs], ['create', 'pods/eviction', '-n', healthyNs]]) {
      expect(can(...verb), verb.join(' ')).toBe('no');
    }
  });
});
