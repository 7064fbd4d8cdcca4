// Application logs as evidence, on the real control plane: the API server proxies
// `GET pods/<pod>/log` to kwok's kubelet API (test/cluster/README.md, "Container logs"), which
// serves the files named by a KWOK ClusterLogs object. The faults themselves come from the KWOK
// stages (crash-loop, readiness, init-waiting), as in workload.mjs and network.mjs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apply, kubectl, temporaryDir, waitFor } from './cluster.mjs';
import { FAULT_LABEL, deleteNamespace, deployQuiz, quizPods, waitReadinessFailing } from './quiz.mjs';
import { networkScenarios } from './network.mjs';
import { CONTAINER_LABEL } from './workload.mjs';

/** The name of the ClusterLogs object that serves the logs of namespace `ns`. */
function clusterLogsName(ns) {
  return `logs-${ns}`.slice(0, 63);
}

/**
 * A container log file in the CRI format the kubelet reads (`<RFC 3339 time> <stream> F <line>`).
 * @param {string[]} lines
 */
function criLog(lines) {
  const t = Date.now();
  return lines.map((l, i) => `${new Date(t - (lines.length - i) * 1000).toISOString()} ${i % 2 ? 'stderr' : 'stdout'} F ${l}\n`).join('');
}

/**
 * Makes kwok serve `current` as every container's log in namespace `ns`, and `previous` as the
 * log of its previous instance (`kubectl logs --previous`): two files and one ClusterLogs
 * selecting the namespace.
 * @param {string} ns
 * @param {{ current: string[], previous: string[] }} logs
 */
export function serveLogs(ns, { current, previous }) {
  const dir = temporaryDir('sts-doctor-logs-');
  writeFileSync(join(dir, 'current.log'), criLog(current));
  writeFileSync(join(dir, 'previous.log'), criLog(previous));
  apply([
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterLogs',
      metadata: { name: clusterLogsName(ns) },
      spec: { selector: { matchNamespaces: [ns] }, logs: [{ logsFile: join(dir, 'current.log'), previousLogsFile: join(dir, 'previous.log') }] },
    },
  ]);
}

/** Deletes the namespace and its ClusterLogs. @param {string} ns */
export function deleteLogsNamespace(ns) {
  kubectl(['delete', 'clusterlogs.kwok.x-k8s.io', clusterLogsName(ns), '--ignore-not-found', '--wait=false'], { allowFail: true });
  deleteNamespace(ns);
}

/** The lines the crashed run of mongo wrote: an error, then a terminal escape sequence (hostile). */
export const CRASH_LINES = ['{"t":"2026-11-29T12:00:00Z","s":"I","msg":"MongoDB starting","attr":{"port":27017}}', 'Error: failed to open /data/db/WiredTiger.wt: Permission denied', '\u001b]0;owned\u0007\u001b[2J\u001b[31mFATAL\u001b[0m exiting with code 1'];
/** The lines the current run writes (a readiness failure, an init container waiting). */
export const CURRENT_LINES = ['quiz-api listening on :8080', 'GET /healthz/ready 503: replica set not initiated (0 of 3 members reachable)', 'waiting for quiz-1.quiz-pods: nslookup: cannot resolve'];

function waitingReason(pod, name) {
  return (pod?.status?.containerStatuses ?? []).find((c) => c.name === name)?.state?.waiting?.reason;
}

/** The scenarios: each deploys quiz with a fault and logs served for its containers. */
export const logScenarios = {
  /** quiz-0's mongo exits with 1 and crash-loops; its previous run wrote {@link CRASH_LINES}. */
  'logs-crash-loop': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/crash-loop`]: '1', [CONTAINER_LABEL]: 'mongo' } });
      serveLogs(ns, { current: [], previous: CRASH_LINES });
      await waitFor('quiz-0 mongo in CrashLoopBackOff', () => waitingReason(quizPods(ns)['quiz-0'], 'mongo') === 'CrashLoopBackOff');
      return { pod: 'quiz-0', container: 'mongo' };
    },
  },
  /** quiz-0's quiz-api fails its readiness probe (503); it writes {@link CURRENT_LINES}. */
  'logs-probe-failing': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/readiness`]: '503', [CONTAINER_LABEL]: 'quiz-api' } });
      serveLogs(ns, { current: CURRENT_LINES, previous: [] });
      await waitReadinessFailing(ns);
      return { pod: 'quiz-0', container: 'quiz-api' };
    },
  },
  /** quiz-0 hangs in init container wait-for-peers (network.mjs init-container-stuck), which writes {@link CURRENT_LINES}. */
  'logs-init-container-stuck': {
    async setup(ns) {
      serveLogs(ns, { current: CURRENT_LINES, previous: [] });
      await networkScenarios['init-container-stuck'].setup(ns);
      return { pod: 'quiz-0', container: 'wait-for-peers' };
    },
  },
};
