// Workload scenarios of the quiz StatefulSet on the real control plane: containers that crash,
// probes that fail, configuration that is missing, a scale-down and a rolling update that the
// StatefulSet controller cannot finish. Pods are pinned to the stable nodes kwok-node-0..2 (the
// least loaded first); no node is failed.
//
// What produces the signal:
// - crash-loop, probe-failing, config-error, mount-error, image-pull-*: the KWOK stages
//   (test/cluster/stages/fault-*.yaml) imitating the kubelet, selected by the pod labels
//   fault.sts-doctor.test/<kind>, narrowed to one container by fault.sts-doctor.test/container.
// - scale-down-blocked, rollout-stuck: the real StatefulSet controller (it waits on an unhealthy
//   pod before deleting a condemned one, and never replaces a pod that is not Failed,
//   kubernetes#67250); the unhealthy pod comes from a KWOK fault stage.
import { apply, getJson, kubectl, waitFor } from './cluster.mjs';
import { FAULT_LABEL, NODES, createNamespace, deployQuiz as deployQuizOn, eventsOf, isReady, localStorageObjects, quizObjects, quizPods, waitHealthy, waitReadinessFailing } from './quiz.mjs';

/** The label that narrows a fault to one container (test/cluster/README.md, "Container targeting"). */
export const CONTAINER_LABEL = `${FAULT_LABEL}/container`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The stable nodes (kwok-node-0..2), least loaded first: other tests' pods (50-replica benchmarks,
 * pods left Terminating) can fill a node up to its 110-pod capacity, and a local PV pinned there
 * would leave our pod unschedulable (`Too many pods`).
 */
export function stableNodesByLoad() {
  const counts = new Map(NODES.map((n) => [n, 0]));
  for (const p of getJson(['pods', '-A']).items) {
    const node = p.spec?.nodeName;
    if (counts.has(node)) counts.set(node, counts.get(node) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([n]) => n);
}

/** deployQuiz with the local PVs on the stable nodes, least loaded first. */
function deployQuiz(ns, opts = {}) {
  return deployQuizOn(ns, { nodes: stableNodesByLoad(), ...opts });
}

/**
 * Deploys quiz after editing its objects: `edit(sts)` changes the StatefulSet object in place
 * before it is applied (extra volumes, env references).
 * @param {string} ns
 * @param {object} opts deployQuiz options
 * @param {(sts: any) => void} edit
 */
async function deployQuizEdited(ns, opts, edit) {
  await createNamespace(ns);
  apply(localStorageObjects(ns, opts.replicas ?? 3, opts.nodes ?? stableNodesByLoad()));
  const objects = quizObjects(ns, opts);
  edit(objects.find((o) => o.kind === 'StatefulSet'));
  apply(objects);
}

/** The waiting reason of container `name` of a pod, or undefined. */
function waitingReason(pod, name) {
  return (pod?.status?.containerStatuses ?? []).find((c) => c.name === name)?.state?.waiting?.reason;
}

/** Current revision label of a pod. */
function revisionOf(pod) {
  return pod?.metadata?.labels?.['controller-revision-hash'];
}

/** Merge-patches the StatefulSet quiz. */
function patchSts(ns, patch, type = 'merge') {
  kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type', type, '-p', JSON.stringify(patch)]);
}

/** An image-pull variant on quiz-0's mongo container (the stage's CRI error for that variant). */
function imagePullVariant(variant) {
  return {
    async setup(ns) {
      const image = 'mongo:7';
      await deployQuiz(ns, { mongoImage: image, podLabels: { [`${FAULT_LABEL}/image-pull`]: variant, [CONTAINER_LABEL]: 'mongo' } });
      await waitFor(`quiz-0 in ImagePullBackOff (${variant})`, () => {
        const p = quizPods(ns)['quiz-0'];
        return waitingReason(p, 'mongo') === 'ImagePullBackOff' && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'Failed' && e.message.startsWith('Failed to pull image'));
      });
      return { pod: 'quiz-0', image, container: 'mongo' };
    },
  };
}

/**
 * The scenarios: `setup(ns)` deploys quiz with one fault and waits until the cluster shows the
 * signal; it returns what the test expects sts-doctor to name. Some have `release(ns)`, the fix,
 * after which the StatefulSet must become healthy.
 */
export const workloadScenarios = {
  /** quiz-0's mongo is OOM-killed again and again: CrashLoopBackOff, lastState.terminated OOMKilled 137. */
  'workload-crash-loop': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/crash-loop`]: 'oom', [CONTAINER_LABEL]: 'mongo' } });
      await waitFor('quiz-0 mongo in CrashLoopBackOff with a BackOff event', () => {
        const p = quizPods(ns)['quiz-0'];
        return waitingReason(p, 'mongo') === 'CrashLoopBackOff' && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'BackOff');
      });
      return { pod: 'quiz-0', container: 'mongo', exitCode: 137, reason: 'OOMKilled' };
    },
  },

  /** quiz-0's mongo exits with 127 (command not found) and crash-loops. */
  'workload-crash-loop-exit': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/crash-loop`]: '127', [CONTAINER_LABEL]: 'mongo' } });
      await waitFor('quiz-0 mongo in CrashLoopBackOff', () => waitingReason(quizPods(ns)['quiz-0'], 'mongo') === 'CrashLoopBackOff');
      return { pod: 'quiz-0', container: 'mongo', exitCode: 127, reason: 'Error' };
    },
  },

  /** quiz-0's quiz-api readiness probe answers 503: Running, not Ready, so quiz-1 and quiz-2 are never created. */
  'workload-probe-failing': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/readiness`]: '503', [CONTAINER_LABEL]: 'quiz-api' } });
      await waitReadinessFailing(ns, ['quiz-0'], 3000);
      return { pod: 'quiz-0', container: 'quiz-api', probe: 'Readiness' };
    },
  },

  /** quiz-api takes its environment from ConfigMap quiz-config, which does not exist: CreateContainerConfigError. */
  'workload-config-error': {
    async setup(ns) {
      await deployQuizEdited(ns, { podLabels: { [`${FAULT_LABEL}/config-error`]: 'quiz-config', [CONTAINER_LABEL]: 'quiz-api' } }, (sts) => {
        sts.spec.template.spec.containers[0].envFrom = [{ configMapRef: { name: 'quiz-config' } }];
      });
      await waitFor('quiz-0 quiz-api in CreateContainerConfigError', () => {
        const p = quizPods(ns)['quiz-0'];
        return waitingReason(p, 'quiz-api') === 'CreateContainerConfigError' && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'Failed');
      });
      return { pod: 'quiz-0', container: 'quiz-api', kind: 'ConfigMap', name: 'quiz-config' };
    },
  },

  /** quiz-api mounts ConfigMap quiz-config as volume `config`; it does not exist: FailedMount, ContainerCreating. */
  'workload-mount-error': {
    async setup(ns) {
      await deployQuizEdited(ns, { podLabels: { [`${FAULT_LABEL}/mount-error`]: 'quiz-config' } }, (sts) => {
        sts.spec.template.spec.volumes = [{ name: 'config', configMap: { name: 'quiz-config' } }];
        sts.spec.template.spec.containers[0].volumeMounts = [{ name: 'config', mountPath: '/etc/quiz' }];
      });
      await waitFor('quiz-0 ContainerCreating with FailedMount', () => {
        const p = quizPods(ns)['quiz-0'];
        return waitingReason(p, 'quiz-api') === 'ContainerCreating' && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'FailedMount');
      });
      return { pod: 'quiz-0', volume: 'config', kind: 'ConfigMap', name: 'quiz-config' };
    },
  },

  /**
   * Healthy quiz (3); quiz-0's readiness probe starts failing; scale to 2: the controller waits for
   * quiz-0 before deleting quiz-2, so quiz-2 stays. `release` removes the fault: quiz-0 Ready
   * again, quiz-2 deleted.
   */
  'workload-scale-down-blocked': {
    async setup(ns) {
      await deployQuiz(ns);
      await waitHealthy(ns);
      kubectl(['-n', ns, 'label', 'pod', 'quiz-0', `${FAULT_LABEL}/readiness=503`, `${CONTAINER_LABEL}=quiz-api`]);
      await waitFor('quiz-0 not Ready', () => !isReady(quizPods(ns)['quiz-0']) && getJson(['-n', ns, 'statefulset', 'quiz']).status.readyReplicas === 2);
      kubectl(['-n', ns, 'scale', 'statefulset', 'quiz', '--replicas=2']);
      await waitFor('the controller to observe replicas=2', () => {
        const s = getJson(['-n', ns, 'statefulset', 'quiz']);
        return s.status.observedGeneration >= s.metadata.generation;
      });
      // Had quiz-0 been Ready the controller would have deleted quiz-2 within a sync or two.
      await sleep(4000);
      const pods = quizPods(ns);
      if (!pods['quiz-2'] || pods['quiz-2'].metadata.deletionTimestamp) throw new Error('quiz-2 was deleted: the scale-down was not blocked');
      return { waitingOn: 'quiz-0', condemned: ['quiz-2'] };
    },
    async release(ns) {
      kubectl(['-n', ns, 'label', 'pod', 'quiz-0', `${FAULT_LABEL}/readiness-`, `${CONTAINER_LABEL}-`]);
      await waitFor('quiz-2 deleted', () => !quizPods(ns)['quiz-2'], 60_000);
      await waitHealthy(ns, 2, 60_000);
    },
  },

  /**
   * kubernetes#67250. Healthy quiz (3) on revision A; the template gets a bad mongo image (revision
   * B): the rolling update replaces quiz-2, which never pulls its image; the template is "fixed"
   * (revision C): quiz-2 is not Failed, the controller waits on it forever and does not replace it.
   */
  'workload-rollout-stuck': {
    async setup(ns) {
      await deployQuiz(ns);
      await waitHealthy(ns);
      const revA = getJson(['-n', ns, 'statefulset', 'quiz']).status.currentRevision;
      patchSts(ns, {
        spec: {
          template: {
            metadata: { labels: { [`${FAULT_LABEL}/image-pull`]: 'not-found', [CONTAINER_LABEL]: 'mongo' } },
            spec: { containers: [{ name: 'mongo', image: 'mongo:5-does-not-exist' }] },
          },
        },
      }, 'strategic');
      await waitFor('quiz-2 recreated on the bad revision, in ImagePullBackOff', () => {
        const p = quizPods(ns)['quiz-2'];
        return p && revisionOf(p) !== revA && waitingReason(p, 'mongo') === 'ImagePullBackOff';
      });
      const revB = revisionOf(quizPods(ns)['quiz-2']);
      // The "fix": a good image, no fault labels. A new revision C; quiz-2 (B) is not replaced.
      patchSts(ns, [
        { op: 'remove', path: `/spec/template/metadata/labels/${FAULT_LABEL.replace('/', '~1')}~1image-pull` },
        { op: 'remove', path: `/spec/template/metadata/labels/${CONTAINER_LABEL.replace(/\//g, '~1')}` },
        { op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'mongo:5.0.1' },
      ], 'json');
      const revC = await waitFor('the controller to observe revision C', () => {
        const s = getJson(['-n', ns, 'statefulset', 'quiz']);
        return s.status.observedGeneration >= s.metadata.generation && s.status.updateRevision !== revB && s.status.updateRevision;
      });
      await sleep(4000);
      const p = quizPods(ns)['quiz-2'];
      if (revisionOf(p) !== revB) throw new Error(`quiz-2 is on ${revisionOf(p)}, not the broken revision ${revB}`);
      return { pod: 'quiz-2', currentRevision: revA, podRevision: revB, updateRevision: revC };
    },
  },

  /** quiz-0's mongo image is refused by the registry (pull access denied); no imagePullSecrets. */
  'workload-image-pull-unauthorized': imagePullVariant('unauthorized'),

  /** quiz-0's mongo registry cannot be resolved (dial tcp: lookup ... no such host). */
  'workload-image-pull-unreachable': imagePullVariant('unreachable'),
};
