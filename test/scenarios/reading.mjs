// Scenarios and helpers for reading the cluster: scale (many replicas, for the request count and
// the benchmark), several StatefulSets in several namespaces (scope), and limited permissions (a
// ServiceAccount with a narrow Role and a kubeconfig holding its token).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apply, kubectl, temporaryDir, waitFor } from './cluster.mjs';
import { deleteNamespace, deployQuiz, FAULT_LABEL, NODES, quizPods, waitHealthy } from './quiz.mjs';

/**
 * quiz with `replicas` replicas, podManagementPolicy Parallel (all pods at once), one pre-bound
 * local PV per ordinal spread over the stable nodes; resolves once every replica is Ready.
 * @param {string} ns
 * @param {number} replicas
 */
export async function deployScaledQuiz(ns, replicas, nodes = NODES, timeoutMs = 240_000) {
  await deployQuiz(ns, { replicas, podManagementPolicy: 'Parallel', nodes });
  await waitHealthy(ns, replicas, timeoutMs);
}

/**
 * quiz with `replicas` replicas, Parallel, every container of every pod crash-looping (the KWOK
 * crash-loop stage, exit code 1); resolves once every replica is in CrashLoopBackOff, so that
 * each one is a pod whose logs sts-doctor would quote.
 * @param {string} ns
 * @param {number} replicas
 */
export async function deployCrashingQuiz(ns, replicas) {
  await deployQuiz(ns, { replicas, podManagementPolicy: 'Parallel', nodes: NODES, podLabels: { [`${FAULT_LABEL}/crash-loop`]: '1' } });
  await waitFor(`${replicas} replicas of quiz in CrashLoopBackOff`, () => {
    const pods = Object.values(quizPods(ns));
    return pods.length === replicas && pods.every((p) => (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff'));
  }, 240_000);
}

/**
 * Deletes a namespace of this area and its PVs, first force-deleting its pods: with many
 * replicas, waiting for each graceful deletion would keep node capacity taken long after.
 * @param {string} ns
 */
export function dropNamespace(ns) {
  kubectl(['-n', ns, 'delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false'], { allowFail: true });
  deleteNamespace(ns);
}

/**
 * Adds a label to the StatefulSet quiz of `ns` (to select it with -l across namespaces).
 * @param {string} ns
 * @param {string} label `key=value`
 */
export function labelQuiz(ns, label) {
  kubectl(['-n', ns, 'label', 'statefulset', 'quiz', label, '--overwrite']);
}

/**
 * The resources a "namespace reader" may read: everything diagnose lists in the namespace
 * except events and resourcequotas, and nothing cluster-scoped.
 */
export const LIMITED_RULES = [
  { apiGroups: ['apps'], resources: ['statefulsets', 'controllerrevisions'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods', 'persistentvolumeclaims', 'services'], verbs: ['get', 'list'] },
];

/**
 * Creates ServiceAccount `name` in `ns` bound to a Role with `rules` (none: no RoleBinding), and
 * returns the path of a kubeconfig that authenticates as it with a token from the TokenRequest
 * API (`kubectl create token`), against the same server and CA as the test cluster.
 * @param {string} ns
 * @param {string} name
 * @param {object[]} rules RBAC PolicyRules; [] for a ServiceAccount that may read nothing
 * @returns {string} kubeconfig path
 */
export function limitedKubeconfig(ns, name, rules) {
  const objects = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } }];
  if (rules.length) {
    objects.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns }, rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
      },
    );
  }
  apply(objects);
  const token = kubectl(['-n', ns, 'create', 'token', name, '--duration', '1h']).trim();
  return writeKubeconfig({ token, namespace: ns });
}

/**
 * Writes a kubeconfig with the test cluster's CA and `server` (default: the test cluster's),
 * authenticating with `token`; returns its path.
 * @param {{ token: string, namespace?: string, server?: string }} opts
 */
export function writeKubeconfig({ token, namespace, server }) {
  const current = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']));
  const cluster = current.clusters[0].cluster;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'limited', cluster: { server: server ?? cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: 'limited', user: { token } }],
    contexts: [{ name: 'limited', context: { cluster: 'limited', user: 'limited', ...(namespace ? { namespace } : {}) } }],
    'current-context': 'limited',
  };
  const dir = temporaryDir('sts-doctor-kubeconfig-');
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}
