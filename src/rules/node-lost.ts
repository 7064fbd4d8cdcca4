/**
 * `node-lost`: pods of the StatefulSet on a node that stopped reporting (Ready=Unknown), reports
 * NotReady (Ready=False), or no longer exists. Such a pod is stuck Terminating or NotReady, and
 * the controller will not create its replacement while the old pod object holds the name
 * (at-most-one semantics).
 *
 * Kubernetes sources (wording stable 1.29–1.36):
 * - node-lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go): Node
 *   condition Ready `Unknown`, reason `NodeStatusUnknown`, message `Kubelet stopped posting node
 *   status.`; taints `node.kubernetes.io/unreachable` / `node.kubernetes.io/not-ready`; pod event
 *   Warning `NodeNotReady` `Node is not ready` (pkg/controller/util/node/controller_utils.go).
 * - taint-eviction controller (pkg/controller/tainteviction): Normal `TaintManagerEviction`
 *   `Marking for deletion Pod %s`; pod condition `DisruptionTarget` reason `DeletionByTaintManager`.
 * - A deleted node: `spec.nodeName` names a Node the (readable) node list does not hold. The pod
 *   GC controller (pkg/controller/podgc/gc_controller.go, `gcOrphaned`, quarantine 40 s, checked
 *   every 20 s) force-deletes such pods; until then they stay listed. No out-of-service taint is
 *   possible on a node that does not exist, so only the force delete is proposed.
 */
import { ageSeconds, formatAge, isPodReady, isTerminating } from '../snapshot/view.js';
import { claimsPinnedToLostNodes, heartbeatSource, nodeState, podEvents } from './facts.js';
import { forceDeleteOption, outOfServiceOption, rebuildOption } from './offers.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Finding, type RecoveryOption, type Rule } from './types.js';

export const nodeLost: Rule = {
  id: 'node-lost',
  title: 'Pod on a node that stopped reporting',
  rank: 10,
  doc: {
    severities: ['critical'],
    meaning: 'A pod is Terminating or not Ready on a node that stopped reporting, is NotReady, or was deleted; the controller will not replace it (at-most-one).',
    signals: 'Node `Ready=Unknown` `NodeStatusUnknown` "Kubelet stopped posting node status.", `node.kubernetes.io/unreachable`/`not-ready` taints, pod `deletionTimestamp`, pod events `NodeNotReady`, `TaintManagerEviction`',
    recoveries: '`out-of-service-taint`, `force-delete-pod`',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      const nodeName = pod.spec.nodeName;
      if (!nodeName) continue;
      const node = nodeState(view, nodeName);
      if (node.state === 'Ready' || node.state === 'Unknown') continue;
      const terminating = isTerminating(pod);
      if (!terminating && isPodReady(pod) && node.state !== 'Deleted') continue;
      const evidence = [...node.evidence];
      if (terminating) evidence.push(fieldEvidence(pod, 'Pod', 'metadata.deletionTimestamp', pod.metadata.deletionTimestamp!, pod.metadata.deletionTimestamp));
      for (const e of podEvents(view, pod, 'NodeNotReady', 'TaintManagerEviction').slice(0, 2)) evidence.push(eventEvidence(e));
      const heartbeat = node.heartbeat ? `; its last heartbeat was ${formatAge(node.heartbeat.age)} ago (${node.heartbeat.time}, ${heartbeatSource(node.heartbeat, nodeName)})` : '';
      // Look ahead: a claim bound to a PV pinned to the lost node keeps the replacement Pending.
      const pinned = claimsPinnedToLostNodes(view, pod).filter((c) => c.nodes.includes(nodeName));
      for (const c of pinned) evidence.push(fieldEvidence(c.pv, 'PersistentVolume', 'spec.nodeAffinity', `pinned to ${c.nodes.join(', ')}`, undefined, 'spec'));
      const recoveries: RecoveryOption[] = [];
      if (pinned.length) {
        recoveries.push({
          id: 'manual',
          title: `Bring node ${nodeName} back`,
          description: `Best: the data of ${pod.metadata.name} is on ${nodeName} (PV ${pinned.map((c) => c.pv.metadata.name).join(', ')}). Once the node is Ready again the pod runs there with its data intact. Freeing the pod alone (force delete, out-of-service taint) does not help: the replacement stays Pending on the volume's node affinity.`,
          automated: false,
          commands: [`kubectl get node ${nodeName}`, `kubectl describe node ${nodeName}`],
          target: { kind: 'Node', name: nodeName },
        });
        const rebuild = rebuildOption(view, sts, pod, {
          description: `Gives up this replica's data: ${node.state === 'Deleted' ? '' : `once you have confirmed ${nodeName} is powered off, `}deletes claim${pinned.length === 1 ? '' : 's'} ${pinned.map((c) => c.claim).join(', ')} and force-deletes ${pod.metadata.name}; the controller recreates both and the new, empty claim binds elsewhere. Only safe if the workload keeps other copies of the data.`,
          forcePod: true,
          avoid: [nodeName],
        });
        if (rebuild) recoveries.push(rebuild);
      } else {
        if (node.state !== 'Deleted')
          recoveries.push(
            outOfServiceOption(
              view,
              sts,
              nodeName,
              `Once you have confirmed the machine is powered off, taint it node.kubernetes.io/out-of-service=nodeshutdown:NoExecute: the pods there are deleted and their volumes detached at once, and ${pod.metadata.name} is recreated elsewhere. Remove the taint after the node is repaired.`,
            ),
          );
        recoveries.push(forceDeleteOption(pod, nodeName, 'Removes the pod object without waiting for the kubelet. Only if the node is confirmed down: if it is merely partitioned, two copies of this identity will run and may corrupt data.'));
      }
      const nodeWords =
        node.state === 'Deleted' ? `node ${nodeName} no longer exists` : node.state === 'Unreachable' ? `node ${nodeName} stopped reporting (Ready=Unknown)` : `node ${nodeName} is NotReady`;
      const stuck = terminating
        ? `Pod ${pod.metadata.name} has been Terminating for ${formatAge(ageSeconds(view.snapshot.now, pod.metadata.deletionTimestamp))}`
        : `Pod ${pod.metadata.name} is not Ready`;
      const finding: Finding = {
        rule: 'node-lost',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `${stuck}: ${nodeWords}`,
        explanation:
          `${nodeWords[0]!.toUpperCase()}${nodeWords.slice(1)}${heartbeat}. ` +
          (node.state === 'Deleted'
            ? 'The pod GC controller force-deletes pods bound to a deleted node about 40 to 60 seconds after the Node object disappears; until then the pod object holds the name. '
            : terminating
              ? 'The API server waits for that node\'s kubelet to confirm the containers have stopped, which never happens while the node is down, so the pod stays Terminating. '
              : 'The pod still counts as the replica, so the StatefulSet controller does not replace it. ') +
          `A StatefulSet guarantees at most one pod per identity: the controller will not create a new ${pod.metadata.name} while this pod object exists. ` +
          'If the node is only cut off from the network, its containers may still be running: removing the pod object then runs two copies of this replica on the same data.' +
          (pinned.length ? ` Its claim ${pinned.map((c) => `${c.claim} is bound to PV ${c.pv.metadata.name}`).join(', ')}, pinned to ${nodeName}: a replacement could not run anywhere else, so only bringing the node back keeps the data.` : ''),
        evidence,
        recoveries,
        confidence: 'high',
        details: { node: nodeName, nodeState: node.state, lastHeartbeat: node.lastHeartbeat, heartbeatSource: node.heartbeat?.source, terminating, pinnedVolumes: pinned.map((c) => c.pv.metadata.name) },
      };
      out.push(finding);
    }
    return out;
  },
};
