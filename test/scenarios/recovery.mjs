// Scenarios for `sts-doctor recover` on the real control plane: the quiz StatefulSet put in a
// failure by the real controllers (node lifecycle, taint eviction, scheduler, PV binder,
// StatefulSet controller) or by KWOK's kubelet-side fault stages, so that a recovery can be
// proven to bring it back.
//
// The only node these scenarios fail is kwok-node-5 (test/cluster/README.md, "Sharing the
// nodes"); every scenario that fails it recovers it in its teardown.
import { apply, clusterScript, getJson, kubectl, waitFor, waitNodeReady } from './cluster.mjs';
import { FAULT_LABEL, NODES, createNamespace, deployQuiz, isReady, localStorageObjects, preboundVolume, preferNodeAffinity, quizObjects, quizPods, waitHealthy } from './quiz.mjs';

/** The node the recovery scenarios may fail. */
export const RECOVERY_NODE = 'kwok-node-5';
export const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

/**
 * A PV with no nodeAffinity (an NFS source: nothing is mounted under KWOK), pre-bound to
 * db-data-quiz-<ordinal>, so that the replica's pod can move to any node.
 */
export function movablePv(ns, ordinal) {
  return preboundVolume(ns, ordinal, { nfs: { server: '127.0.0.1', path: `/exports/${ns}-${ordinal}` } });
}

/** A spare local PV of the namespace's class on `node`, not pre-bound (for a rebuilt replica). */
export function spareLocalPv(ns, node, name = `${ns}-pv-spare`) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'sts-doctor.test/namespace': ns } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: `local-${ns}`,
      local: { path: `/mnt/disks/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  };
}

/**
 * quiz with quiz-1 on a movable (NFS) PV and placed on kwok-node-5 by a preferred node
 * affinity; quiz-0 and quiz-2 on local PVs of the stable nodes. The required affinity keeps every
 * pod off the nodes other scenarios fail (kwok-node-3, kwok-node-4).
 */
export async function deployMovable(ns) {
  await createNamespace(ns);
  const storage = localStorageObjects(ns, 3, [NODES[0], RECOVERY_NODE, NODES[1]]);
  storage[2] = movablePv(ns, 1); // [class, pv-0, pv-1, pv-2]
  apply(storage);
  const objects = quizObjects(ns);
  const sts = objects.find((o) => o.kind === 'StatefulSet');
  sts.spec.template.spec.affinity = preferNodeAffinity(RECOVERY_NODE);
  apply(objects);
  await waitHealthy(ns);
  const node = quizPods(ns)['quiz-1'].spec.nodeName;
  if (node !== RECOVERY_NODE) throw new Error(`quiz-1 landed on ${node}, not ${RECOVERY_NODE}`);
}

/** quiz with quiz-1's local PV on kwok-node-5 and a spare local PV of the same class on kwok-node-2. */
export async function deployPinned(ns) {
  await deployQuiz(ns, { nodes: [NODES[0], RECOVERY_NODE, NODES[1]] });
  apply([spareLocalPv(ns, NODES[2])]);
  await waitHealthy(ns);
  const node = quizPods(ns)['quiz-1'].spec.nodeName;
  if (node !== RECOVERY_NODE) throw new Error(`quiz-1 landed on ${node}, not ${RECOVERY_NODE}`);
}

/** Fails kwok-node-5 and waits until quiz-1 of every namespace in `namespaces` is Terminating there. */
export async function failRecoveryNode(namespaces) {
  clusterScript('node-fail', RECOVERY_NODE);
  await waitFor(
    `quiz-1 Terminating on unreachable ${RECOVERY_NODE} in ${namespaces.join(', ')}`,
    () => {
      const ready = getJson(['node', RECOVERY_NODE]).status.conditions.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && namespaces.every((ns) => quizPods(ns)['quiz-1']?.metadata?.deletionTimestamp);
    },
    180_000,
  );
}

/** Brings kwok-node-5 back, waits for it to be Ready, and removes an out-of-service taint left on it. Safe to call twice. */
export async function recoverRecoveryNode({ removeTaint = true } = {}) {
  clusterScript('node-recover', RECOVERY_NODE);
  await waitNodeReady(RECOVERY_NODE);
  if (removeTaint && hasOutOfServiceTaint()) kubectl(['taint', 'node', RECOVERY_NODE, `${OUT_OF_SERVICE}-`], { allowFail: true });
}

export function hasOutOfServiceTaint(node = RECOVERY_NODE) {
  return (getJson(['node', node]).spec.taints ?? []).some((t) => t.key === OUT_OF_SERVICE);
}

/** quiz with the readiness fault in the template: quiz-0 Running, never Ready, quiz-1/2 never created. */
export async function deployStalled(ns) {
  await deployQuiz(ns, { podLabels: { [`${FAULT_LABEL}/readiness`]: '503' } });
  await waitFor(
    'quiz-0 Running and not Ready',
    () => {
      const p = quizPods(ns)['quiz-0'];
      return p?.status?.phase === 'Running' && !isReady(p) && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'False');
    },
    300_000,
  );
}

/** Removes the readiness fault from the template (the "fix"): a new update revision. */
export function fixReadinessTemplate(ns) {
  kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: `/spec/template/metadata/labels/${FAULT_LABEL}~1readiness` }])]);
}

/** A healthy quiz, then a template update to an image that cannot be pulled: quiz-2 (the first updated) stuck in ImagePullBackOff. */
export async function deployBadRollout(ns) {
  await deployQuiz(ns);
  await waitHealthy(ns, 3, 300_000);
  const before = getJson(['-n', ns, 'statefulset', 'quiz']).status.updateRevision;
  const patch = {
    spec: {
      template: {
        metadata: { labels: { [`${FAULT_LABEL}/image-pull`]: 'not-found' } },
        spec: { containers: [{ name: 'mongo', image: 'registry.sts-doctor.test/library/mongo:does-not-exist' }] },
      },
    },
  };
  kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=strategic', '-p', JSON.stringify(patch)]);
  await waitFor('quiz-2 on the new revision in ImagePullBackOff', () => {
    const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
    const p = quizPods(ns)['quiz-2'];
    return (
      sts.status.updateRevision !== before &&
      p?.metadata?.labels?.['controller-revision-hash'] === sts.status.updateRevision &&
      (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'ImagePullBackOff')
    );
  });
  return { badRevision: getJson(['-n', ns, 'statefulset', 'quiz']).status.updateRevision, goodRevision: before };
}

/**
 * A healthy quiz; quiz-0 made not Ready (readiness fault on the live pod), then scaled to 2:
 * under OrderedReady the controller does not remove quiz-2 while a remaining pod (quiz-0) is
 * not Ready ("waiting for pod ... to be Running and Ready prior to scale down").
 */
export async function deployBlockedScaleDown(ns) {
  await deployQuiz(ns);
  await waitHealthy(ns, 3, 300_000);
  kubectl(['-n', ns, 'label', 'pod', 'quiz-0', `${FAULT_LABEL}/readiness=503`]);
  await waitFor('quiz-0 not Ready', () => !isReady(quizPods(ns)['quiz-0']));
  kubectl(['-n', ns, 'scale', 'statefulset', 'quiz', '--replicas=2']);
  await waitFor('the controller to observe replicas=2', () => {
    const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
    return sts.status.observedGeneration >= sts.metadata.generation;
  });
  // The controller would remove quiz-2 within a sync had quiz-0 been Ready.
  await new Promise((r) => setTimeout(r, 3000));
  const p = quizPods(ns)['quiz-2'];
  if (!p || p.metadata.deletionTimestamp) throw new Error('quiz-2 was removed although quiz-0 is not Ready');
}

/** uid@resourceVersion of every pod, PVC, StatefulSet and ControllerRevision of a namespace (the uid only for a pod not yet scheduled). */
export function objectVersions(ns) {
  const out = {};
  for (const kind of ['pods', 'persistentvolumeclaims', 'statefulsets', 'controllerrevisions'])
    for (const o of getJson(['-n', ns, kind]).items) {
      // A pod the scheduler cannot place has its PodScheduled condition rewritten on every retry:
      // only its uid is stable (the scheduler, not sts-doctor, writes it).
      const unscheduled = kind === 'pods' && !o.spec.nodeName;
      out[`${kind}/${o.metadata.name}`] = unscheduled ? `${o.metadata.uid}@(unscheduled)` : `${o.metadata.uid}@${o.metadata.resourceVersion}`;
    }
  return out;
}

/** The Events sts-doctor recorded in a namespace. */
export function recoveryEvents(ns) {
  return getJson(['-n', ns, 'events', '--field-selector', 'reason=StsDoctorRecovery']).items;
}

/** Waits until the controller has observed the latest spec of quiz; returns its status. */
async function observed(ns) {
  return waitFor('the controller to observe the new template', () => {
    const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
    return sts.status.observedGeneration >= sts.metadata.generation ? sts.status : undefined;
  });
}

/**
 * good -> bad -> fixed: a healthy quiz (revision 1), an image that cannot be pulled (revision 2,
 * quiz-2 stuck in ImagePullBackOff), then a working image (revision 3). Under OrderedReady the
 * controller never replaces quiz-2 (kubernetes#67250), so the fixed template does not reach it.
 */
export async function deployGoodBadFixed(ns) {
  const { goodRevision, badRevision } = await deployBadRollout(ns);
  const patch = { spec: { template: { metadata: { labels: { [`${FAULT_LABEL}/image-pull`]: null } }, spec: { containers: [{ name: 'mongo', image: 'mongo:5.0' }] } } } };
  kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=strategic', '-p', JSON.stringify(patch)]);
  const status = await observed(ns);
  if (status.updateRevision === badRevision || status.updateRevision === goodRevision) throw new Error('the fix did not make a new revision');
  return { goodRevision, badRevision, fixedRevision: status.updateRevision };
}

/**
 * good -> bad -> worse: as deployBadRollout, then a third revision that keeps the bad image and
 * changes something else (a template annotation): rolling forward cannot help, revision 1 can.
 */
export async function deployGoodBadWorse(ns) {
  const { goodRevision, badRevision } = await deployBadRollout(ns);
  const patch = { spec: { template: { metadata: { annotations: { 'sts-doctor.test/attempt': '2' } } } } };
  kubectl(['-n', ns, 'patch', 'statefulset', 'quiz', '--type=strategic', '-p', JSON.stringify(patch)]);
  const status = await observed(ns);
  if (status.updateRevision === badRevision || status.updateRevision === goodRevision) throw new Error('the change did not make a new revision');
  return { goodRevision, badRevision, worseRevision: status.updateRevision };
}

/** quiz with quiz-1's local PV on kwok-node-5 and no spare PV: a rebuilt replica has nowhere to bind. */
export async function deployPinnedNoSpare(ns) {
  await deployQuiz(ns, { nodes: [NODES[0], RECOVERY_NODE, NODES[1]] });
  await waitHealthy(ns);
  const node = quizPods(ns)['quiz-1'].spec.nodeName;
  if (node !== RECOVERY_NODE) throw new Error(`quiz-1 landed on ${node}, not ${RECOVERY_NODE}`);
}

/**
 * The out-of-service taints of every node, by name: the only taint sts-doctor writes, so they
 * prove that nothing was written to a node. (Other taints come and go with the node failures
 * that other test files cause at the same time.)
 */
export function nodeTaints() {
  return Object.fromEntries(getJson(['nodes']).items.map((n) => [n.metadata.name, JSON.stringify((n.spec.taints ?? []).filter((t) => t.key === 'node.kubernetes.io/out-of-service'))]));
}
