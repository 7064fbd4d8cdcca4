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
import { nodeState, podEvents } from './facts.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Finding, type Rule } from './types.js';

export const nodeLost: Rule = {
  id: 'node-lost',
  title: 'Pod on a node that stopped reporting',
  rank: 10,
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
      const heartbeat = node.heartbeatAge !== undefined ? `; its last heartbeat was ${formatAge(node.heartbeatAge)} ago (${node.lastHeartbeat})` : '';
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
          'If the node is only cut off from the network, its containers may still be running: removing the pod object then runs two copies of this replica on the same data.',
        evidence,
        recoveries: [
          ...(node.state === 'Deleted'
            ? []
            : [
                {
                  id: 'out-of-service-taint' as const,
                  title: `Mark node ${nodeName} out of service (non-graceful node shutdown)`,
                  description: `Once you have confirmed the machine is powered off, taint it node.kubernetes.io/out-of-service=nodeshutdown:NoExecute: the pods there are deleted and their volumes detached at once, and ${pod.metadata.name} is recreated elsewhere. Remove the taint after the node is repaired.`,
                  automated: true,
                  target: { kind: 'Node', name: nodeName },
                },
              ]),
          {
            id: 'force-delete-pod',
            title: `Force-delete pod ${pod.metadata.name}`,
            description: 'Removes the pod object without waiting for the kubelet. Only if the node is confirmed down: if it is merely partitioned, two copies of this identity will run and may corrupt data.',
            automated: true,
            target: ref(pod, 'Pod'),
          },
        ],
        confidence: 'high',
        details: { node: nodeName, nodeState: node.state, lastHeartbeat: node.lastHeartbeat, terminating },
      };
      out.push(finding);
    }
    return out;
  },
};
