// Volume scenarios of the quiz StatefulSet on the real control plane: a replica whose volume is
// tied to a lost node. They fail only kwok-node-4 (test/cluster/README.md, "Sharing the nodes"),
// share it, and so must run one at a time; every scenario brings the node back in `teardown`.
//
// What produces the signal:
// - volume-node-affinity, node-deleted: the real node-lifecycle and taint-eviction controllers
//   (node unreachable, pod Terminating), PodGC (orphaned pod of a deleted node), the StatefulSet
//   controller (recreates the pod) and the real scheduler (FailedScheduling "didn't match
//   PersistentVolume's node affinity").
// - multi-attach: the real attach-detach controller. The volume is an in-tree iSCSI PV: the
//   controller's iSCSI attacher is a no-op that succeeds (pkg/volume/iscsi/attacher.go `Attach`
//   returns "", nil; nothing connects to the portal from the controller), so the controller
//   records the volume attached to the node (node.status.volumesAttached; in-tree plugins make no
//   VolumeAttachment object). Two kubelet-side facts are imitated, as the KWOK stages do for the
//   other kubelet signals: (1) the kubelet waits for the attachment before starting containers —
//   the pod template carries the marker label fault.sts-doctor.test/attach=wait, which no stage
//   acts on, so a pod stays Pending until the scenario removes the label once the controller
//   reports the volume attached; (2) the kubelet reports the mounted volume in
//   node.status.volumesInUse — the scenario patches it onto the node, as the kubelet did before
//   the node died. With the volume "mounted" on an unhealthy node, the controller does not
//   detach it for maxWaitForUnmountDuration (6 min), and the replacement pod gets the real
//   Warning FailedAttachVolume "Multi-Attach error ...". (Without (2) the controller would detach
//   at once: pkg/controller/volume/attachdetach/reconciler/reconciler.go skips the detach only
//   while the node reports the volume in use.)
// - multi-attach-csi: the same with a CSI PV of a driver nobody runs. The controller's CSI
//   attacher (pkg/volume/csi/csi_attacher.go) creates the VolumeAttachment and waits for
//   `status.attached`; the scenario sets it, as the driver's external-attacher sidecar would.
import { apply, clusterScript, getJson, kubectl, waitFor, waitNodeReady } from './cluster.mjs';
import { FAULT_LABEL, NODES, createNamespace, deleteNamespace, deployQuiz, eventsOf, localStorageObjects, preboundVolume, preferNodeAffinity, quizObjects, quizPods, waitHealthy } from './quiz.mjs';

/** The one node the volume scenarios may fail. */
export const VOLUMES_NODE = 'kwok-node-4';
/** Marker label keeping a pod Pending (no KWOK stage matches it) until its volume is attached. */
export const ATTACH_WAIT_LABEL = `${FAULT_LABEL}/attach`;

/**
 * The `n` stable nodes with the fewest pods bound to them, for the replicas that must not land on
 * kwok-node-4. The cluster is shared and a node's 110-pod capacity can fill up (pods of other
 * tests' namespaces), so the scenario picks the roomiest stable nodes instead of fixed ones.
 * @returns {string[]}
 */
export function roomiestStableNodes(n = 2) {
  const counts = new Map(NODES.map((name) => [name, 0]));
  for (const p of getJson(['pods', '-A']).items) {
    const node = p.spec?.nodeName;
    if (counts.has(node)) counts.set(node, counts.get(node) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, n).map(([name]) => name);
}

/**
 * Removes a scenario namespace without leaving pods behind: deletes the StatefulSet and its pods
 * while the namespace is still Active (the KWOK pod-delete stage writes a Killing event into the
 * pod's namespace, which a Terminating namespace refuses, so pods deleted only by the namespace
 * deletion stay Terminating), force-deletes what is left after 60 s, then deletes the namespace
 * and its PVs and StorageClass.
 */
export async function cleanupNamespace(ns) {
  kubectl(['-n', ns, 'delete', 'statefulset', 'quiz', '--ignore-not-found', '--wait=false'], { allowFail: true });
  kubectl(['-n', ns, 'delete', 'pods', '-l', 'app=quiz', '--ignore-not-found', '--wait=false'], { allowFail: true });
  try {
    await waitFor(`pods of ${ns} gone`, () => getJson(['-n', ns, 'pods']).items.length === 0, 60_000);
  } catch {
    kubectl(['-n', ns, 'delete', 'pods', '--all', '--force', '--grace-period=0', '--ignore-not-found'], { allowFail: true });
  }
  deleteNamespace(ns);
}

/** True when node `name` no longer exists. */
function nodeGone(name) {
  return kubectl(['get', 'node', name, '--ignore-not-found', '-o', 'name']).trim() === '';
}

/** Force-deletes a pod as a user would (`kubectl delete pod X --force --grace-period=0`). */
function forceDeletePod(ns, name) {
  kubectl(['-n', ns, 'delete', 'pod', name, '--force', '--grace-period=0', '--wait=false']);
}

/**
 * Brings kwok-node-4 back whatever a scenario did to it: clears a volumesInUse we patched,
 * recreates it if deleted, puts its KWOK label back, and waits until it is Ready.
 */
export async function restoreNode(node = VOLUMES_NODE) {
  if (nodeGone(node)) {
    clusterScript('node-create', node);
  } else {
    kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p', '{"status":{"volumesInUse":null}}'], { allowFail: true });
    clusterScript('node-recover', node);
  }
  await waitNodeReady(node);
}

/** Deploys quiz with quiz-1's local PV on kwok-node-4, waits healthy, checks the placement. */
async function quizWithReplicaOnNode(ns) {
  const [a, b] = roomiestStableNodes(2);
  await deployQuiz(ns, { nodes: [a, VOLUMES_NODE, b] });
  await waitHealthy(ns);
  const node = quizPods(ns)['quiz-1'].spec.nodeName;
  if (node !== VOLUMES_NODE) throw new Error(`quiz-1 landed on ${node}, not ${VOLUMES_NODE}`);
}

/** Waits until pod `name` exists with a uid other than `oldUid` and `check(pod, events)` holds. */
async function waitReplacement(ns, name, oldUid, what, check, timeoutMs = 120_000) {
  return waitFor(
    what,
    () => {
      const p = quizPods(ns)[name];
      if (!p || p.metadata.uid === oldUid) return false;
      return check(p, eventsOf(ns, p.metadata.uid)) ? p : false;
    },
    timeoutMs,
  );
}

/** quiz-1 Terminating on kwok-node-4, after node-fail; returns the old pod. */
async function failNodeUntilTerminating(ns) {
  clusterScript('node-fail', VOLUMES_NODE);
  return waitFor(
    `quiz-1 Terminating on unreachable node ${VOLUMES_NODE}`,
    () => {
      const p = quizPods(ns)['quiz-1'];
      return p?.metadata?.deletionTimestamp ? p : false;
    },
    180_000,
  );
}

const VOLUME_AFFINITY = /didn't match PersistentVolume's node affinity|had volume node affinity conflict/;

/** The iSCSI PV of one ordinal: RWO, no node affinity, pre-bound to claim db-data-quiz-<ordinal>. */
export function iscsiVolume(ns, ordinal) {
  return preboundVolume(ns, ordinal, { iscsi: { targetPortal: '127.0.0.1:3260', iqn: `iqn.2026-11.test.sts-doctor:${ns}`, lun: 0, fsType: 'ext4', readOnly: false } });
}

/** The attach-detach controller's unique name of the iSCSI volume (`kubernetes.io/iscsi/<portal>:<iqn>:<lun>`). */
function iscsiUniqueName(pv) {
  const s = pv.spec.iscsi;
  return `kubernetes.io/iscsi/${s.targetPortal}:${s.iqn}:${s.lun}`;
}

/** The CSI PV of one ordinal: RWO, driver csi.sts-doctor.test, no node affinity, pre-bound. */
export function csiVolume(ns, ordinal) {
  const pv = iscsiVolume(ns, ordinal);
  delete pv.spec.iscsi;
  pv.spec.csi = { driver: CSI_DRIVER, volumeHandle: `${ns}-vol-${ordinal}`, fsType: 'ext4' };
  return pv;
}

/** A CSI driver name nobody runs: the scenario plays its external-attacher. */
export const CSI_DRIVER = 'csi.sts-doctor.test';

/** The attach-detach controller's unique name of a CSI volume (`kubernetes.io/csi/<driver>^<handle>`). */
function csiUniqueName(pv) {
  return `kubernetes.io/csi/${pv.spec.csi.driver}^${pv.spec.csi.volumeHandle}`;
}

/**
 * The multi-attach scenario with quiz-1's volume an in-tree iSCSI PV (`iscsi`) or a CSI PV
 * (`csi`); see the scenario docs. Returns what the test expects sts-doctor to name.
 * @param {string} ns
 * @param {'iscsi'|'csi'} kind
 */
async function multiAttachSetup(ns, kind) {
  await createNamespace(ns);
  const [a, b] = roomiestStableNodes(2);
  const pvName = `${ns}-pv-1`;
  const storage = localStorageObjects(ns, 3, [a, VOLUMES_NODE, b]).map((o) => (o.kind === 'PersistentVolume' && o.metadata.name === pvName ? (kind === 'csi' ? csiVolume(ns, 1) : iscsiVolume(ns, 1)) : o));
  apply(storage);
  const objects = quizObjects(ns, { podLabels: { [ATTACH_WAIT_LABEL]: 'wait' } });
  const sts = objects.find((o) => o.kind === 'StatefulSet');
  // Stable nodes plus kwok-node-4, preferring kwok-node-4: the first quiz-1 goes there, its
  // replacement (kwok-node-4 tainted) to a stable node. quiz-0/2 are pinned by their local PVs.
  sts.spec.template.spec.affinity = preferNodeAffinity(VOLUMES_NODE);
  apply(objects);
  const pv = getJson(['pv', pvName]);
  const unique = kind === 'csi' ? csiUniqueName(pv) : iscsiUniqueName(pv);
  // The kubelet's part: start a pod once its volumes are attached (quiz-1's by the attach-detach
  // controller), and report mounted volumes in node.status.volumesInUse. For CSI, also the
  // external-attacher's: mark the controller's VolumeAttachment attached.
  await waitFor(
    `quiz in ${ns} to have 3 ready replicas (releasing the attach wait)`,
    () => {
      for (const p of Object.values(quizPods(ns))) {
        if (!p.metadata.labels?.[ATTACH_WAIT_LABEL] || !p.spec.nodeName || p.metadata.deletionTimestamp) continue;
        if (p.metadata.name === 'quiz-1') {
          if (kind === 'csi') {
            const va = getJson(['volumeattachments']).items.find((v) => v.spec.source?.persistentVolumeName === pvName && v.spec.nodeName === p.spec.nodeName);
            if (!va) continue;
            if (!va.status?.attached) kubectl(['patch', 'volumeattachment', va.metadata.name, '--subresource=status', '--type=merge', '-p', '{"status":{"attached":true}}']);
          }
          const node = getJson(['node', p.spec.nodeName]);
          if (!(node.status.volumesAttached ?? []).some((v) => v.name === unique)) continue;
          kubectl(['patch', 'node', p.spec.nodeName, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { volumesInUse: [unique] } })]);
        }
        kubectl(['-n', ns, 'label', 'pod', p.metadata.name, `${ATTACH_WAIT_LABEL}-`]);
      }
      const st = getJson(['-n', ns, 'statefulset', 'quiz']).status ?? {};
      return st.readyReplicas === 3;
    },
    180_000,
  );
  await waitHealthy(ns);
  const node = quizPods(ns)['quiz-1'].spec.nodeName;
  if (node !== VOLUMES_NODE) throw new Error(`quiz-1 landed on ${node}, not ${VOLUMES_NODE}`);
  const old = await failNodeUntilTerminating(ns);
  forceDeletePod(ns, 'quiz-1');
  const replacement = await waitReplacement(ns, 'quiz-1', old.metadata.uid, 'the replacement quiz-1 scheduled elsewhere with FailedAttachVolume Multi-Attach', (p, evs) =>
    Boolean(p.spec.nodeName) && p.spec.nodeName !== VOLUMES_NODE && evs.some((e) => e.reason === 'FailedAttachVolume'),
  );
  return { pod: 'quiz-1', node: VOLUMES_NODE, newNode: replacement.spec.nodeName, pv: pvName, volume: unique };
}

/**
 * The volume scenarios: `setup(ns)` deploys quiz, fails kwok-node-4 and waits until the cluster
 * shows the signal, returning what the test expects sts-doctor to name; `teardown()` brings
 * kwok-node-4 back (always call it, in `finally`); `node-deleted` also has `next(ns, expected)`.
 */
export const volumeScenarios = {
  /**
   * quiz-1's local PV is pinned to kwok-node-4. The node fails, quiz-1 is evicted (Terminating)
   * and force-deleted as the book's user does; the StatefulSet controller recreates it and the
   * scheduler cannot place it: its volume can only be used on the lost node.
   */
  'volume-node-affinity': {
    async setup(ns) {
      await quizWithReplicaOnNode(ns);
      const old = await failNodeUntilTerminating(ns);
      forceDeletePod(ns, 'quiz-1');
      await waitReplacement(ns, 'quiz-1', old.metadata.uid, 'quiz-1 recreated and FailedScheduling on the volume node affinity', (p, evs) =>
        p.status?.phase === 'Pending' && !p.spec.nodeName && evs.some((e) => e.reason === 'FailedScheduling' && VOLUME_AFFINITY.test(e.message ?? '')),
      );
      return { pod: 'quiz-1', node: VOLUMES_NODE, pv: `${ns}-pv-1`, claim: 'db-data-quiz-1' };
    },
    async teardown() {
      await restoreNode();
    },
  },

  /**
   * The lost node's Node object is deleted (as a cloud node controller does once the machine is
   * gone). `setup` returns while quiz-1 still names the deleted node (PodGC removes such pods
   * about 40–60 s later); `next` waits for PodGC and the recreated quiz-1 to be FailedScheduling.
   */
  'node-deleted': {
    async setup(ns) {
      await quizWithReplicaOnNode(ns);
      clusterScript('node-fail', VOLUMES_NODE, '--wait');
      kubectl(['delete', 'node', VOLUMES_NODE, '--wait=true']);
      await waitFor(`node ${VOLUMES_NODE} deleted`, () => nodeGone(VOLUMES_NODE));
      const old = quizPods(ns)['quiz-1'];
      if (old?.spec?.nodeName !== VOLUMES_NODE) throw new Error('quiz-1 was already gone after the node was deleted');
      return { pod: 'quiz-1', node: VOLUMES_NODE, uid: old.metadata.uid, pv: `${ns}-pv-1`, claim: 'db-data-quiz-1' };
    },
    async next(ns, expected) {
      await waitReplacement(ns, 'quiz-1', expected.uid, 'PodGC removed quiz-1 and its replacement FailedScheduling on the volume node affinity', (p, evs) =>
        p.status?.phase === 'Pending' && !p.spec.nodeName && evs.some((e) => e.reason === 'FailedScheduling' && VOLUME_AFFINITY.test(e.message ?? '')),
      );
      return expected;
    },
    async teardown() {
      await restoreNode();
    },
  },

  /**
   * quiz-1's volume is an iSCSI PV (no node affinity) first attached to kwok-node-4. The node
   * fails, quiz-1 is evicted and force-deleted; the replacement lands on a stable node, but the
   * attach-detach controller still holds the volume attached to kwok-node-4 (mounted there, node
   * unhealthy, 6-minute force-detach window): Warning FailedAttachVolume Multi-Attach.
   */
  'multi-attach': {
    async setup(ns) {
      return multiAttachSetup(ns, 'iscsi');
    },
    async teardown() {
      await restoreNode();
    },
  },

  /**
   * The same with a CSI PV (driver csi.sts-doctor.test, which nobody runs): the attach-detach
   * controller's CSI attacher creates a VolumeAttachment for kwok-node-4, and the scenario marks
   * it attached as the driver's external-attacher sidecar would. The replacement pod then gets the
   * same Multi-Attach error, and the VolumeAttachment to kwok-node-4 stays.
   */
  'multi-attach-csi': {
    async setup(ns) {
      return multiAttachSetup(ns, 'csi');
    },
    async teardown() {
      await restoreNode();
    },
  },
};
