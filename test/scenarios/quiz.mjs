// The seed scenario: the book chapter's `quiz` StatefulSet (MongoDB replica set with a quiz-api
// side container; 3 replicas; claim template db-data; Services quiz and headless quiz-pods;
// label app=quiz), deployed on the real control plane with one fault at a time.
//
// Faults come from the real controllers wherever they produce the signal (PV binder,
// scheduler, node lifecycle, StatefulSet controller); only kubelet-side signals (image pulls,
// readiness) come from the KWOK stages in test/cluster/stages, selected by the pod label
// fault.sts-doctor.test/<kind>.
import { apply, clusterScript, getJson, kubectl, waitFor, waitNodeReady } from './cluster.mjs';

export const FAULT_LABEL = 'fault.sts-doctor.test';
/** The stable nodes: never failed by any scenario (test/cluster/README.md, "Sharing the nodes"). */
export const NODES = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2'];
/** The node the node-lost diagnosis scenario fails. */
export const NODE_LOST_NODE = 'kwok-node-3';

/**
 * @typedef {object} QuizOptions
 * @property {number} [replicas]
 * @property {'OrderedReady'|'Parallel'} [podManagementPolicy]
 * @property {string|null} [storageClassName] claim template class; null leaves it unset
 * @property {Record<string,string>} [podLabels] extra template labels (faults)
 * @property {string} [mongoImage]
 * @property {string[]} [nodes] nodes the local PVs (and so the pods) are pinned to, by ordinal
 * @property {number} [ordinalsStart] `spec.ordinals.start`: the first replica is quiz-<start>
 */

/** The namespace, Services and StatefulSet of the quiz scenario, as plain objects. */
export function quizObjects(ns, opts = {}) {
  const replicas = opts.replicas ?? 3;
  const className = opts.storageClassName === undefined ? `local-${ns}` : opts.storageClassName;
  const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
  if (className !== null) claimSpec.storageClassName = className;
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'quiz', namespace: ns, labels: { app: 'quiz' } }, spec: { selector: { app: 'quiz' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'quiz-pods', namespace: ns, labels: { app: 'quiz' } },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'quiz' }, ports: [{ name: 'mongodb', port: 27017 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'quiz', namespace: ns, labels: { app: 'quiz' } },
      spec: {
        serviceName: 'quiz-pods',
        podManagementPolicy: opts.podManagementPolicy ?? 'OrderedReady',
        replicas,
        ...(opts.ordinalsStart ? { ordinals: { start: opts.ordinalsStart } } : {}),
        selector: { matchLabels: { app: 'quiz' } },
        template: {
          metadata: { labels: { app: 'quiz', ...(opts.podLabels ?? {}) } },
          spec: {
            terminationGracePeriodSeconds: 10,
            containers: [
              {
                name: 'quiz-api',
                image: 'luksa/quiz-api:0.1',
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { port: 8080, path: '/healthz/ready', scheme: 'HTTP' } },
                env: [{ name: 'MONGODB_URI', value: 'mongodb://localhost/quiz' }],
              },
              {
                name: 'mongo',
                image: opts.mongoImage ?? 'mongo:5',
                command: ['mongod', '--bind_ip', '0.0.0.0', '--replSet', 'quiz'],
                ports: [{ name: 'mongodb', containerPort: 27017 }],
                volumeMounts: [{ name: 'db-data', mountPath: '/data/db' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'db-data', labels: { app: 'quiz' } }, spec: claimSpec }],
      },
    },
  ];
}

/**
 * A no-provisioner StorageClass of the namespace and one local PV per ordinal (from `start`),
 * pre-bound (`claimRef`) to claim db-data-quiz-<i> so that replica i lands on
 * `nodes[(i - start) % nodes.length]`.
 */
export function localStorageObjects(ns, count, nodes = NODES, start = 0) {
  const className = `local-${ns}`;
  const objects = [
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: className }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain' },
  ];
  for (let i = start; i < start + count; i++) {
    const node = nodes[(i - start) % nodes.length];
    objects.push(
      preboundVolume(ns, i, { local: { path: `/mnt/disks/${ns}-${i}` } }, {
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
      }),
    );
  }
  return objects;
}

/**
 * A 1Gi ReadWriteOnce PV `<ns>-pv-<ordinal>` of the namespace's class (`local-<ns>`), reclaim
 * policy Retain, pre-bound (`claimRef`) to claim db-data-quiz-<ordinal>, with the given volume
 * source (`{ local: ... }`, `{ nfs: ... }`, `{ iscsi: ... }`) and extra spec fields.
 */
export function preboundVolume(ns, ordinal, source, extraSpec = {}) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `${ns}-pv-${ordinal}`, labels: { 'sts-doctor.test/namespace': ns } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: `local-${ns}`,
      claimRef: { namespace: ns, name: `db-data-quiz-${ordinal}` },
      ...source,
      ...extraSpec,
    },
  };
}

/**
 * A pod affinity that allows the stable nodes and `node`, preferring `node`: a replica whose
 * volume can move lands on `node` first, and its replacement on a stable node once `node` fails.
 */
export function preferNodeAffinity(node) {
  const hostIn = (values) => ({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values }] });
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [hostIn([...NODES, node])] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: hostIn([node]) }],
    },
  };
}

/** Creates the namespace and waits for its default ServiceAccount (pods need it to be admitted). */
export async function createNamespace(ns) {
  apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'sts-doctor.test/e2e': 'true' } } }]);
  await waitFor(`serviceaccount default in ${ns}`, () => kubectl(['-n', ns, 'get', 'serviceaccount', 'default', '-o', 'name'], { allowFail: true }).trim());
}

/** Deletes the namespace and the cluster-scoped objects made for it (PVs, StorageClass); does not wait. */
export function deleteNamespace(ns) {
  kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { allowFail: true });
  kubectl(['delete', 'pv', '-l', `sts-doctor.test/namespace=${ns}`, '--wait=false', '--ignore-not-found'], { allowFail: true });
  kubectl(['delete', 'storageclass', `local-${ns}`, '--wait=false', '--ignore-not-found'], { allowFail: true });
}

/** Deploys quiz with local storage; returns once the objects exist. */
export async function deployQuiz(ns, opts = {}) {
  await createNamespace(ns);
  const replicas = opts.replicas ?? 3;
  if (opts.storageClassName === undefined) apply(localStorageObjects(ns, replicas, opts.nodes, opts.ordinalsStart ?? 0));
  apply(quizObjects(ns, opts));
}

/** The pods of quiz, by name. */
export function quizPods(ns) {
  return Object.fromEntries(getJson(['-n', ns, 'pods', '-l', 'app=quiz']).items.map((p) => [p.metadata.name, p]));
}

export function isReady(pod) {
  return pod?.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Waits until the StatefulSet reports `n` ready replicas on its current revision. */
export async function waitHealthy(ns, n = 3, timeoutMs = 180_000) {
  return waitFor(
    `quiz in ${ns} to have ${n} ready replicas`,
    () => {
      const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
      const s = sts.status ?? {};
      return s.observedGeneration >= sts.metadata.generation && s.readyReplicas === n && s.replicas === n && s.currentRevision === s.updateRevision && s.availableReplicas === n;
    },
    timeoutMs,
  );
}

/**
 * Waits until each of `pods` is Running and not Ready with a Warning Unhealthy event (the
 * readiness fault stage, test/cluster/stages/fault-readiness.yaml), then `settleMs` more.
 */
export async function waitReadinessFailing(ns, pods = ['quiz-0'], settleMs = 2000) {
  await waitFor(`${pods.join(', ')} Running, not Ready, with an Unhealthy event`, () => {
    const all = quizPods(ns);
    return pods.every((n) => {
      const p = all[n];
      return p?.status?.phase === 'Running' && !isReady(p) && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'Unhealthy');
    });
  });
  await new Promise((r) => setTimeout(r, settleMs));
}

/** Events of one object (by uid), newest last. */
export function eventsOf(ns, uid) {
  return getJson(['-n', ns, 'events', '--field-selector', `involvedObject.uid=${uid}`]).items;
}

/**
 * The scenarios: each `setup(ns)` deploys quiz with one fault and waits until the cluster shows
 * the signal, and returns what the test expects sts-doctor to name.
 */
export const scenarios = {
  /** Three replicas Running and Ready, claims bound to local PVs. */
  healthy: {
    async setup(ns) {
      await deployQuiz(ns);
      await waitHealthy(ns);
      return {};
    },
  },

  /** quiz-0's mongo image does not exist: ErrImagePull/ImagePullBackOff (KWOK stage imitating the kubelet). */
  'image-pull': {
    async setup(ns) {
      const image = 'registry.sts-doctor.test/library/mongo:does-not-exist';
      await deployQuiz(ns, { mongoImage: image, podLabels: { [`${FAULT_LABEL}/image-pull`]: 'not-found', [`${FAULT_LABEL}/container`]: 'mongo' } });
      await waitFor('quiz-0 in ImagePullBackOff', () => {
        const p = quizPods(ns)['quiz-0'];
        return (p?.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'ImagePullBackOff') && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'Failed');
      });
      return { pod: 'quiz-0', image };
    },
  },

  /** quiz-0's readiness probe fails (KWOK stage), so the controller never creates quiz-1 and quiz-2. */
  'ordered-ready-stall': {
    async setup(ns) {
      await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/readiness`]: 'fail' } });
      // The controller would have created quiz-1 within a sync or two had quiz-0 been Ready.
      await waitReadinessFailing(ns, ['quiz-0'], 3000);
      return { pod: 'quiz-0', missing: ['quiz-1', 'quiz-2'] };
    },
  },

  /**
   * The node running quiz-1 stops reporting (its KWOK lease is no longer renewed); the real
   * node-lifecycle controller marks it unreachable, taints it, and the taint-eviction controller
   * deletes quiz-1, which stays Terminating. `teardown` brings the node back.
   */
  'node-lost': {
    async setup(ns) {
      // quiz-1's volume, and so quiz-1, is on the node this scenario may fail.
      await deployQuiz(ns, { nodes: [NODES[0], NODE_LOST_NODE, NODES[1]] });
      await waitHealthy(ns);
      const node = quizPods(ns)['quiz-1'].spec.nodeName;
      if (node !== NODE_LOST_NODE) throw new Error(`quiz-1 landed on ${node}, not ${NODE_LOST_NODE}`);
      clusterScript('node-fail', node);
      await waitFor(
        `quiz-1 Terminating on unreachable node ${node}`,
        () => {
          const p = quizPods(ns)['quiz-1'];
          const n = getJson(['node', node]);
          const ready = n.status.conditions.find((c) => c.type === 'Ready');
          return p?.metadata?.deletionTimestamp && ready?.status === 'Unknown';
        },
        180_000,
      );
      return { pod: 'quiz-1', node };
    },
    async teardown(_ns, expected) {
      if (expected?.node) {
        clusterScript('node-recover', expected.node);
        await waitNodeReady(expected.node);
      }
    },
  },

  /** The claim template names no StorageClass and there is no PV and no default class: the PV binder's FailedBinding. */
  'pvc-unbound': {
    async setup(ns) {
      await deployQuiz(ns, { storageClassName: null });
      await waitFor('FailedBinding on db-data-quiz-0', () => {
        const claim = getJson(['-n', ns, 'pvc', 'db-data-quiz-0']);
        return eventsOf(ns, claim.metadata.uid).some((e) => e.reason === 'FailedBinding');
      });
      return { claim: 'db-data-quiz-0', pod: 'quiz-0' };
    },
  },
};
