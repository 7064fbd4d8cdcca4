/**
 * `volume-node-affinity`: a Pending pod cannot be scheduled because a PersistentVolume it needs
 * (typically a local PV) may only be used on nodes that are gone: NotReady, unreachable,
 * cordoned or deleted. The StatefulSet recreated the pod (same name, same claim), and the claim
 * still points at the volume on the lost node.
 *
 * Kubernetes sources:
 * - kube-scheduler, VolumeBinding plugin
 *   (pkg/scheduler/framework/plugins/volumebinding/binder.go, `ErrReasonNodeConflict`), inside
 *   the aggregated Warning `FailedScheduling` message (pkg/scheduler/framework/types.go,
 *   `FitError.Error`): `node(s) had volume node affinity conflict` (1.29–1.32) and
 *   `node(s) didn't match PersistentVolume's node affinity` (1.33+).
 * - TaintToleration plugin, for the lost node itself (it fails the taint filter first):
 *   `node(s) had untolerated taint {node.kubernetes.io/unreachable: }` (up to 1.34.x) and
 *   `node(s) had untolerated taint(s)` (1.35+, late 1.34 patches); `node(s) were unschedulable`
 *   for a cordoned node (all versions).
 * - Pod condition `PodScheduled=False` reason `Unschedulable` carries the same message (used
 *   when events cannot be read).
 * The rule follows pod -> claim -> PV `spec.nodeAffinity` -> node(s), and reports each node's
 * state with {@link nodeState}. Events are matched by reason, never by source. When every node
 * the volume allows is Ready and schedulable, something else fails there (a full node, the pod's
 * own affinity) and the rule stays silent: `unschedulable` reports it.
 */
import type { KubeEvent, NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, Pod } from '../snapshot/types.js';
import { condition, type SnapshotView } from '../snapshot/view.js';
import { nodeState, pinnedNodes, podEvents, reclaimPolicy, type NodeState } from './facts.js';
import { rebuildOption } from './offers.js';
import { parseSchedulingMessage } from './scheduling-message.js';
import { confidenceFor, eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';

/** The volume-affinity reason, as 1.29–1.32 and 1.33+ word it. */
export const VOLUME_AFFINITY_REASON = /node\(s\) had volume node affinity conflict|node\(s\) didn't match PersistentVolume's node affinity/;


/** A node selector term rendered as `key In [a, b]` clauses joined by ` AND `. */
export function formatTerm(term: NodeSelectorTerm): string {
  const reqs = [...(term.matchExpressions ?? []), ...(term.matchFields ?? []).map((f) => ({ ...f, key: `field:${f.key}` }))];
  return reqs.map((r) => `${r.key} ${r.operator}${r.values?.length ? ` [${r.values.join(', ')}]` : ''}`).join(' AND ');
}

/** The nodes a PV's node affinity allows: {@link pinnedNodes} (rules/facts.ts), the one place for it. */
export const volumeNodes = pinnedNodes;

/** Why a node cannot take the pod, in words. */
function nodeWords(s: NodeState): string {
  switch (s.state) {
    case 'Deleted':
      return `node ${s.name} no longer exists`;
    case 'Unreachable':
      return `node ${s.name} is unreachable (Ready=Unknown)`;
    case 'NotReady':
      return `node ${s.name} is NotReady`;
    case 'Unknown':
      return `the state of node ${s.name} could not be read`;
    default:
      return s.cordoned ? `node ${s.name} is cordoned (unschedulable)` : `node ${s.name} is Ready`;
  }
}

function isLost(s: NodeState): boolean {
  return s.state !== 'Ready' || s.cordoned;
}

/** The newest FailedScheduling event of the pod naming the volume-affinity reason. */
function affinityEvent(view: SnapshotView, pod: Pod): KubeEvent | undefined {
  return podEvents(view, pod, 'FailedScheduling').find((e) => VOLUME_AFFINITY_REASON.test(e.message ?? ''));
}

interface Pinned {
  claim: PersistentVolumeClaim;
  pv: PersistentVolume;
  nodes: NodeState[];
}

export const volumeNodeAffinity: Rule = {
  id: 'volume-node-affinity',
  title: 'Pod pinned by its volume to a lost node',
  rank: 20,
  doc: {
    severities: ['critical'],
    meaning: 'A Pending pod cannot be scheduled because the PV its claim is bound to (typically a local PV) may only be used on nodes that are NotReady, unreachable, cordoned or deleted; follows pod → claim → PV `spec.nodeAffinity` → node.',
    signals: 'Warning `FailedScheduling` with `node(s) didn\'t match PersistentVolume\'s node affinity` (1.33+) or `node(s) had volume node affinity conflict` (≤1.32), taint reasons `node(s) had untolerated taint(s)` / `… taint {node.kubernetes.io/unreachable: }`; PV `spec.nodeAffinity`, reclaim policy; node Ready condition, taints, `spec.unschedulable`, or its absence',
    recoveries: 'manual (bring the node back), `delete-pvc-and-pod` (this replica\'s data is lost and must be rebuilt by the workload)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      if (pod.spec.nodeName || pod.metadata.deletionTimestamp) continue;
      const scheduled = condition(pod.status?.conditions, 'PodScheduled');
      const event = affinityEvent(view, pod);
      const condMessage = scheduled?.status === 'False' && VOLUME_AFFINITY_REASON.test(scheduled.message ?? '') ? scheduled.message : undefined;
      // A newer successful scheduling attempt would have set nodeName; an old event alone is enough only while PodScheduled is not True.
      if (!event && !condMessage) continue;
      if (scheduled?.status === 'True') continue;
      const message = event?.message ?? condMessage ?? '';

      const pinned: Pinned[] = [];
      for (const { claim } of view.claimsOf(pod)) {
        if (!claim) continue;
        const pv = view.volumeOf(claim);
        if (!pv?.spec.nodeAffinity?.required?.nodeSelectorTerms?.length) continue;
        pinned.push({ claim, pv, nodes: volumeNodes(view, pv).map((n) => nodeState(view, n)) });
      }
      // The volume whose nodes are all lost is the one blocking; else the first pinned one.
      const blocking = pinned.find((p) => p.nodes.length === 0 || p.nodes.every(isLost)) ?? pinned[0];

      const evidence: Evidence[] = [];
      if (event) evidence.push(eventEvidence(event));
      else evidence.push(fieldEvidence(pod, 'Pod', 'status.conditions[PodScheduled]', `${scheduled?.reason ?? ''}: ${message}`, scheduled?.lastTransitionTime ?? undefined));
      const parsed = parseSchedulingMessage(message);

      if (!blocking) {
        out.push({
          rule: 'volume-node-affinity',
          severity: 'critical',
          statefulSet: stsRef({ view, sts }),
          subject: ref(pod, 'Pod'),
          summary: `Pod ${pod.metadata.name} cannot be scheduled: no node matches its PersistentVolume's node affinity`,
          explanation: `The scheduler reports that no node satisfies the node affinity of a PersistentVolume pod ${pod.metadata.name} uses, but the volume${view.canSee('persistentvolumes') ? ' has no node affinity sts-doctor can follow' : 's could not be read'}.`,
          evidence,
          recoveries: [],
          confidence: 'low',
          details: { pod: pod.metadata.name, reasons: parsed?.reasons ?? [] },
        });
        continue;
      }

      const { claim, pv, nodes } = blocking;
      // The volume's nodes are all fine: something else fails on them (a full node, the pod's own
      // affinity); `unschedulable` names it.
      if (nodes.length > 0 && !nodes.some(isLost)) continue;
      const nodeNames = nodes.map((n) => n.name);
      const reclaim = reclaimPolicy(pv);
      evidence.push(fieldEvidence(claim, 'PersistentVolumeClaim', 'spec.volumeName', pv.metadata.name, undefined, 'spec'));
      evidence.push(
        fieldEvidence(pv, 'PersistentVolume', 'spec.nodeAffinity', (pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []).map(formatTerm).join(' OR '), undefined, 'spec'),
      );
      evidence.push(fieldEvidence(pv, 'PersistentVolume', 'spec.persistentVolumeReclaimPolicy', reclaim, undefined, 'spec'));
      for (const n of nodes) {
        evidence.push(...n.evidence);
        if (n.cordoned && n.node) evidence.push(fieldEvidence(n.node, 'Node', 'spec.unschedulable', 'true', undefined, 'spec'));
      }

      const where =
        nodes.length === 0
          ? 'no existing node matches it'
          : nodes.length === 1
            ? nodeWords(nodes[0]!)
            : nodes.map(nodeWords).join('; ');
      const volumeWords = `its volume ${pv.metadata.name} (claim ${claim.metadata.name}) can only be used on ${nodeNames.length ? nodeNames.join(', ') : 'nodes matching its node affinity'}`;
      const storage = pv.spec.local ? `a local volume (${pv.spec.local.path})` : 'a volume with node affinity';
      const deleteWords =
        reclaim === 'Delete'
          ? `The PV's reclaim policy is Delete: deleting the claim deletes PV ${pv.metadata.name} and its storage.`
          : `The PV's reclaim policy is ${reclaim}: PV ${pv.metadata.name} becomes Released and keeps its data on ${nodeNames.join(', ') || 'its node'}, but the new claim will not use it; delete the PV yourself once you no longer need it.`;

      const recoveries: RecoveryOption[] = [
        {
          id: 'manual',
          title: `Bring ${nodeNames.length === 1 ? `node ${nodeNames[0]}` : 'the volume\'s node'} back`,
          description: `Best: the data is on ${nodeNames.join(', ') || 'that node'}. Once the node is Ready${nodes.some((n) => n.cordoned) ? ' and uncordoned' : ''} the scheduler places ${pod.metadata.name} there with its data intact.${nodes.some((n) => n.state === 'Deleted') ? ' A deleted Node object comes back when its kubelet registers again.' : ''}`,
          automated: false,
          commands: [
            ...nodeNames.flatMap((n) => [`kubectl get node ${n}`, `kubectl describe node ${n}`]),
            ...nodes.filter((n) => n.cordoned).map((n) => `kubectl uncordon ${n.name}`),
          ],
          ...(nodeNames.length === 1 ? { target: { kind: 'Node', name: nodeNames[0]! } } : {}),
        },
      ];
      const rebuild = rebuildOption(view, sts, pod, {
        description:
          `Gives up this replica's data: deletes claim ${claim.metadata.name} and pod ${pod.metadata.name}; the StatefulSet creates a new, empty claim that binds to a volume on a live node, and the workload must rebuild this replica's data (for example by re-syncing from the other members of a replicated database). ` +
          `Only safe if the workload keeps other copies of the data; never for a single-copy database. ${deleteWords}`,
        forcePod: false,
        avoid: nodeNames,
      });
      if (rebuild) recoveries.push(rebuild);

      out.push({
        rule: 'volume-node-affinity',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `Pod ${pod.metadata.name} cannot be scheduled: ${volumeWords}, and ${where}`,
        explanation:
          `${pod.metadata.name} keeps its claim ${claim.metadata.name} when it is recreated, and that claim is bound to PV ${pv.metadata.name}, ${storage} whose node affinity allows only ${nodeNames.join(', ') || 'nodes that do not exist'}. ` +
          `${where[0]!.toUpperCase()}${where.slice(1)}, so the scheduler finds no node for the pod: the other nodes fail the volume's node affinity${nodes.some((n) => n.state !== 'Deleted') ? ' and the lost node fails on its taints or cordon' : ''}. The pod stays Pending until the node returns or the claim is replaced.`,
        evidence,
        recoveries,
        // The volume cannot move: until the node returns or the claim is replaced, nothing changes.
        permanent: true,
        confidence: confidenceFor(view, 'events', 'persistentvolumes', 'persistentvolumeclaims', 'nodes'),
        details: {
          pod: pod.metadata.name,
          claim: claim.metadata.name,
          pv: pv.metadata.name,
          reclaimPolicy: reclaim,
          nodes: nodeNames,
          nodeStates: Object.fromEntries(nodes.map((n) => [n.name, n.cordoned && n.state === 'Ready' ? 'Cordoned' : n.state])),
          reasons: parsed?.reasons ?? [],
        },
      });
    }
    return out;
  },
};
