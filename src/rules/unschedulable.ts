/**
 * `unschedulable`: a pod of the StatefulSet is Pending because the scheduler finds no node for
 * it, with the scheduler's reasons parsed and the dominant one named.
 *
 * Kubernetes sources: pkg/scheduler/framework/types.go (`FitError.Error`), pkg/scheduler/schedule_one.go
 * (Warning `FailedScheduling`, condition `PodScheduled=False` reason `Unschedulable`). The
 * aggregated message is
 *   `0/N nodes are available: <count> <reason>, <count> <reason>. preemption: 0/N nodes are available: ...`
 * with the entries sorted as strings (`10 ...` before `2 ...`), so it is parsed by regex, never by
 * position. When a PreFilter plugin fails there are no counts:
 *   `0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: ...`
 * 1.34+ may add DRA text after the reasons (`no new claims to deallocate`), and 1.36 appends
 * ` not found` to the PreFilter form; both are ignored. Reason wording accepted (1.29–1.36):
 * - `Insufficient <resource>`, `Too many pods` (plugins NodeResourcesFit)
 * - `node(s) had untolerated taint {key: value}` (up to 1.34.x) and `node(s) had untolerated
 *   taint(s)` (1.35+, late 1.34 patches); the pre-1.25 `node(s) had taint {..}, that the pod didn't tolerate`
 * - `node(s) didn't match Pod's node affinity/selector`
 * - `pod has unbound immediate PersistentVolumeClaims`, `persistentvolumeclaim "<n>" not found`,
 *   `persistentvolumeclaim "<n>" is being deleted`
 * - `node(s) had volume node affinity conflict` (up to 1.32), `node(s) didn't match
 *   PersistentVolume's node affinity` (1.33+)
 * - `node(s) didn't find available persistent volumes to bind`, `node(s) did not have enough free storage`
 * - `node(s) were unschedulable` (cordoned)
 * - anything else is classified `other` and still listed.
 *
 * Not reported when the dominant reason is an unbound claim of the pod or no volume to bind it
 * to, while a claim of the pod is not Bound (`pvc-unbound` explains it), nor when it is the volume's node affinity and the volume's nodes are lost
 * (`volume-node-affinity` explains it). When the volume pins the pod to nodes that are fine, the
 * dominant reason is taken among the others (what fails on those nodes): the scheduler counts
 * each node once, under its first failing filter, so 50 tainted nodes elsewhere outnumber the one
 * pinned node that runs its maximum number of pods; a taint, cordon or nodeSelector is named only
 * when a pinned node has it (k8s.io/api core/v1 toleration.go for the toleration match). Ranks after
 * `volume-node-affinity` (20) and `pvc-unbound` (30).
 */
import type { Node, Pod } from '../snapshot/types.js';
import { condition, podOrdinal, type SnapshotView } from '../snapshot/view.js';
import { isPinned, nodeState, pinnedNodes, podEvents, untoleratedTaints } from './facts.js';
import { formatQuantity, parseQuantity } from './quantity.js';
import { deletePodOption } from './offers.js';
import { CATEGORY_PRIORITY, parseSchedulingMessage, type ScheduleReason, type ScheduleReasonCategory } from './scheduling-message.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';

export { formatQuantity, parseQuantity } from './quantity.js';

/**
 * The effective request of a pod for one resource, as the scheduler computes it: the sum over
 * the containers (request, else limit), or the largest init container's if that is larger.
 * Undefined when no container asks for it.
 */
export function podRequest(pod: Pod, resource: string): number | undefined {
  const one = (c: Pod['spec']['containers'][number]): number | undefined => parseQuantity(c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource]);
  const main = pod.spec.containers.map(one).filter((v): v is number => v !== undefined);
  const init = (pod.spec.initContainers ?? []).map(one).filter((v): v is number => v !== undefined);
  if (main.length === 0 && init.length === 0) return undefined;
  return Math.max(main.reduce((a, b) => a + b, 0), ...init);
}

function largestAllocatable(nodes: Node[], resource: string): { node: Node; value: number } | undefined {
  let best: { node: Node; value: number } | undefined;
  for (const node of nodes) {
    const v = parseQuantity(node.status?.allocatable?.[resource]);
    if (v !== undefined && (!best || v > best.value)) best = { node, value: v };
  }
  return best;
}

/**
 * Whether the nodes one of the pod's volumes is pinned to (PV node affinity, facts pinnedNodes)
 * are all lost (not Ready, cordoned, deleted): true/false, or undefined when no volume of the
 * pod is pinned or the nodes cannot be read.
 */
function pinnedNodesLost(view: SnapshotView, pod: Pod): boolean | undefined {
  let any = false;
  for (const { claim } of view.claimsOf(pod)) {
    const pv = claim ? view.volumeOf(claim) : undefined;
    const names = pv ? pinnedNodes(view, pv) : [];
    if (names.length === 0) continue;
    const states = names.map((n) => nodeState(view, n));
    if (states.some((s) => s.state === 'Unknown')) return undefined;
    any = true;
    if (states.every((s) => s.state !== 'Ready' || s.cordoned)) return true;
  }
  return any ? false : undefined;
}

/**
 * The nodes all of the pod's pinned volumes allow (facts pinnedNodes, intersected), when every
 * one of them was read; undefined when no volume of the pod is pinned, or one of those nodes was
 * not read.
 */
function pinnedAllowed(view: SnapshotView, pod: Pod): Node[] | undefined {
  let allowed: Set<string> | undefined;
  for (const { claim } of view.claimsOf(pod)) {
    const pv = claim ? view.volumeOf(claim) : undefined;
    if (!pv || !isPinned(pv)) continue;
    const nodes = new Set(pinnedNodes(view, pv));
    allowed = allowed ? new Set([...allowed].filter((n) => nodes.has(n))) : nodes;
  }
  if (!allowed) return undefined;
  const nodes = [...allowed].map((n) => view.nodes.get(n));
  return nodes.every((n): n is Node => !!n) ? nodes : undefined;
}

/**
 * For a pod its volumes pin to `allowed`: the reasons of the scheduler's message that can be
 * what fails on those nodes. The message counts nodes per first failing filter, so the many
 * nodes outside `allowed` (tainted, cordoned, not matching the nodeSelector) can outnumber what
 * blocks the pod where it can run at all. A taint, a cordon or a nodeSelector is kept only when
 * one of `allowed` has it; what cannot be seen from here (resources, pod count, pod affinity) is
 * kept. Undefined when that leaves nothing, or changes nothing.
 */
function reasonsOnAllowed(pod: Pod, allowed: Node[], reasons: ScheduleReason[]): ScheduleReason[] | undefined {
  const selector = Object.entries(pod.spec.nodeSelector ?? {});
  const possible = reasons.filter((r) => {
    if (r.category === 'volume-node-affinity') return false;
    if (r.category === 'taint') return allowed.some((n) => untoleratedTaints(n, pod).length > 0);
    if (r.category === 'cordoned') return allowed.some((n) => n.spec?.unschedulable);
    if (r.category === 'node-affinity' && !pod.spec.affinity) return allowed.some((n) => selector.some(([k, v]) => n.metadata.labels?.[k] !== v));
    return true;
  });
  return possible.length && possible.length < reasons.length ? possible : undefined;
}

/**
 * The scheduler's filter plugins in the order the default profile runs them
 * (pkg/scheduler/apis/config/v1/default_plugins.go): a node is counted under the first that
 * fails, so on a pinned node the first reason in this order that can fail there is its reason.
 */
const FILTER_ORDER: ScheduleReasonCategory[] = ['cordoned', 'taint', 'node-affinity', 'too-many-pods', 'insufficient-resources', 'volume-binding', 'unbound-claims', 'volume-node-affinity', 'pod-affinity', 'other'];

/** What blocks a pinned pod on the node(s) its volume allows, after "its volume pins it to <node>, which": [one node, several]. */
const ALLOWED_WORDS: Record<ScheduleReasonCategory, [string, string]> = {
  'insufficient-resources': ['does not have enough free resources left', 'do not have enough free resources left'],
  'too-many-pods': ['runs its maximum number of pods (status.allocatable.pods)', 'run their maximum number of pods (status.allocatable.pods)'],
  taint: ['has a taint the pod does not tolerate', 'have taints the pod does not tolerate'],
  'node-affinity': ["does not match the pod's nodeSelector / node affinity", "do not match the pod's nodeSelector / node affinity"],
  'unbound-claims': ['waits for a claim of the pod to be bound', 'wait for a claim of the pod to be bound'],
  'volume-node-affinity': ['does not fit its volume', 'do not fit its volume'],
  'volume-binding': ['has no free PersistentVolume for its claim', 'have no free PersistentVolume for its claim'],
  cordoned: ['is cordoned (unschedulable)', 'are cordoned (unschedulable)'],
  'pod-affinity': ['is excluded by pod affinity / anti-affinity rules', 'are excluded by pod affinity / anti-affinity rules'],
  other: ['the scheduler rejects', 'the scheduler rejects'],
};

const CATEGORY_WORDS: Record<ScheduleReasonCategory, string> = {
  'insufficient-resources': 'not enough free resources on any node',
  'too-many-pods': 'the nodes run their maximum number of pods',
  taint: 'the nodes have taints the pod does not tolerate',
  'node-affinity': "no node matches the pod's nodeSelector / node affinity",
  'unbound-claims': 'a claim of the pod is not bound',
  'volume-node-affinity': "its volume is pinned (PV node affinity) to nodes it cannot run on",
  'volume-binding': 'no node has a free PersistentVolume for its claim',
  cordoned: 'the nodes are cordoned (unschedulable)',
  'pod-affinity': 'pod affinity / anti-affinity rules exclude the nodes',
  other: 'the scheduler rejects every node',
};

function recoveriesFor(view: SnapshotView, pod: Pod, category: ScheduleReasonCategory, resource: string | undefined, stsName: string): RecoveryOption[] {
  const ns = view.snapshot.namespace;
  const deletePod: RecoveryOption = deletePodOption(
    pod,
    'After fixing the template: a fixed pod template does not replace a pod that was already created: under OrderedReady the controller waits on it forever. It never ran, so deleting it loses nothing; the controller recreates it from the current revision.',
  );
  switch (category) {
    case 'insufficient-resources':
      return [
        {
          id: 'manual',
          title: `Lower the ${resource ?? 'resource'} request of the pod template, or add capacity`,
          description: `No node has enough allocatable ${resource ?? 'resources'} left for the pod's request. Lower the request in the StatefulSet's template, free capacity, or add a larger node.`,
          automated: false,
          commands: [`kubectl -n ${ns} set resources statefulset/${stsName} --requests=${resource ?? 'cpu'}=<amount>`, `kubectl describe nodes | grep -A8 'Allocated resources'`],
        },
        deletePod,
      ];
    case 'taint':
      return [
        {
          id: 'manual',
          title: 'Remove the taint, or tolerate it in the pod template',
          description: 'The nodes carry taints the pod does not tolerate. A node.kubernetes.io/* taint means the node is unhealthy or unschedulable: fix the node. Otherwise add a matching toleration to the template.',
          automated: false,
          commands: [`kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints`],
        },
        deletePod,
      ];
    case 'node-affinity':
      return [
        {
          id: 'manual',
          title: 'Fix the nodeSelector / node affinity, or label a node to match',
          description: "No node carries the labels the pod's nodeSelector or required node affinity asks for.",
          automated: false,
          commands: [`kubectl -n ${ns} get statefulset ${stsName} -o jsonpath='{.spec.template.spec.nodeSelector}{.spec.template.spec.affinity}'`, 'kubectl get nodes --show-labels'],
        },
        deletePod,
      ];
    case 'cordoned':
      return [{ id: 'manual', title: 'Uncordon a node', description: 'The nodes are marked unschedulable (cordoned).', automated: false, commands: ['kubectl get nodes', 'kubectl uncordon <node>'] }];
    default:
      return [];
  }
}

export const unschedulable: Rule = {
  id: 'unschedulable',
  title: 'Pod cannot be scheduled',
  rank: 35,
  doc: {
    severities: ['critical'],
    meaning: 'A pod is Pending because no node fits; the scheduler\'s message parsed per reason (insufficient resources with the pod\'s request and the largest node, taints, node selector/affinity, volume binding, cordoned, too many pods) and the dominant one named (for a pod its local volume pins to a few nodes, the reason on those nodes, not the most counted one). Left to `pvc-unbound` / `volume-node-affinity` when those explain it.',
    signals: 'pod `PodScheduled=False` `Unschedulable`, Warning `FailedScheduling` "0/N nodes are available: ...", node `status.allocatable`, `spec.taints`, `spec.unschedulable`, PV `spec.nodeAffinity`',
    recoveries: 'manual (lower the request, tolerate, fix the selector, uncordon), `delete-pod` after the fix',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      if (podOrdinal(sts, pod.metadata.name) === undefined || pod.spec.nodeName || pod.metadata.deletionTimestamp) continue;
      if (pod.status?.phase && pod.status.phase !== 'Pending') continue;
      const scheduled = condition(pod.status?.conditions, 'PodScheduled');
      if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') continue;
      // The newest FailedScheduling that is the aggregated message (events are newest first).
      const events = podEvents(view, pod, 'FailedScheduling');
      const event = events.find((e) => parseSchedulingMessage(e.message ?? ''));
      const message = event?.message ?? scheduled.message ?? '';
      const parsed = parseSchedulingMessage(message);
      const evidence: Evidence[] = [fieldEvidence(pod, 'Pod', 'status.conditions[PodScheduled]', `False Unschedulable: ${scheduled.message ?? ''}`.trim(), scheduled.lastTransitionTime ?? undefined)];
      if (event) evidence.push(eventEvidence(event));
      const byCount = (rs: ScheduleReason[]): ScheduleReason => [...rs].sort((a, b) => (b.count ?? 0) - (a.count ?? 0) || CATEGORY_PRIORITY.indexOf(a.category) - CATEGORY_PRIORITY.indexOf(b.category))[0]!;
      // Whether the pinned nodes are lost, for a message that names the volume's node affinity.
      const lost = parsed?.reasons.some((r) => r.category === 'volume-node-affinity') ? pinnedNodesLost(view, pod) : undefined;
      if (parsed?.dominant.category === 'volume-node-affinity') {
        // Pinned by its volume: if the volume's nodes are lost, `volume-node-affinity` (rank 20)
        // explains it; if they are fine, the real obstacle is what fails on them (the other reasons).
        const others = parsed.reasons.filter((r) => r.category !== 'volume-node-affinity');
        if (lost !== false || others.length === 0) continue;
        parsed.dominant = byCount(others);
      }
      // Pinned to a few nodes, and the message counts other nodes too: what fails on the pinned ones.
      const allowed = lost === false ? pinnedAllowed(view, pod) : undefined;
      const onAllowed = parsed && allowed ? reasonsOnAllowed(pod, allowed, parsed.reasons) : undefined;
      if (parsed && onAllowed) parsed.dominant = [...onAllowed].sort((a, b) => FILTER_ORDER.indexOf(a.category) - FILTER_ORDER.indexOf(b.category))[0]!;
      const category = parsed?.dominant.category ?? 'other';
      if ((category === 'unbound-claims' || category === 'volume-binding') && view.canSee('persistentvolumeclaims')) {
        // pvc-unbound names the claim and why it is not bound; do not report the symptom twice.
        const claims = view.claimsOf(pod);
        if (claims.some((c) => !c.claim || c.claim.status?.phase !== 'Bound')) continue;
      }
      const details: Record<string, unknown> = {
        pod: pod.metadata.name,
        nodes: parsed?.nodes ?? null,
        dominant: parsed ? { category, reason: parsed.dominant.reason, count: parsed.dominant.count ?? null } : null,
        reasons: parsed?.reasons.map((r) => ({ count: r.count ?? null, reason: r.reason, category: r.category, ...(r.resource ? { resource: r.resource } : {}) })) ?? [],
      };
      if (parsed?.preemption) details.preemption = parsed.preemption;
      let words = parsed ? CATEGORY_WORDS[category] : 'the scheduler finds no node for it';
      const resource = parsed?.dominant.resource;
      if (category === 'insufficient-resources' && resource) {
        const requested = podRequest(pod, resource);
        // The largest node of the cluster: only when every node was read.
        const largest = view.holdsAll('nodes') ? largestAllocatable(view.snapshot.nodes, resource) : undefined;
        if (requested !== undefined) {
          details.request = { resource, requested: formatQuantity(requested, resource), ...(largest ? { largestAllocatable: formatQuantity(largest.value, resource), node: largest.node.metadata.name } : {}) };
          const tooBig = largest !== undefined && requested > largest.value;
          words = `it requests ${formatQuantity(requested, resource)} ${resource}${tooBig ? `, more than any node can offer (the largest, ${largest.node.metadata.name}, has ${formatQuantity(largest.value, resource)} allocatable)` : ', more than any node has free'}`;
          evidence.push(fieldEvidence(pod, 'Pod', `spec.containers[*].resources.requests.${resource}`, pod.spec.containers.map((c) => `${c.name}=${c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource] ?? '0'}`).join(', '), undefined, 'spec'));
          if (largest) evidence.push(fieldEvidence(largest.node, 'Node', `status.allocatable.${resource}`, largest.node.status!.allocatable![resource]!));
        } else {
          words = `no node has enough free ${resource}`;
        }
      } else if (onAllowed && allowed) {
        const names = allowed.map((n) => n.metadata.name);
        const one = names.length === 1;
        words = `its volume pins it to ${one ? `node ${names[0]}` : `nodes ${names.join(', ')}`}, which ${ALLOWED_WORDS[category][one ? 0 : 1]}`;
        details.pinnedTo = names;
        for (const n of allowed.slice(0, 3)) {
          if (category === 'too-many-pods' && n.status?.allocatable?.pods) evidence.push(fieldEvidence(n, 'Node', 'status.allocatable.pods', n.status.allocatable.pods));
          if (category === 'taint') for (const t of untoleratedTaints(n, pod)) evidence.push(fieldEvidence(n, 'Node', 'spec.taints', `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`, undefined, 'spec'));
          if (category === 'cordoned' && n.spec?.unschedulable) evidence.push(fieldEvidence(n, 'Node', 'spec.unschedulable', 'true', undefined, 'spec'));
        }
      } else if (category === 'node-affinity' && pod.spec.nodeSelector) {
        const sel = Object.entries(pod.spec.nodeSelector).map(([k, v]) => `${k}=${v}`).join(',');
        words = `no node has the labels of its nodeSelector ${sel}`;
        evidence.push(fieldEvidence(pod, 'Pod', 'spec.nodeSelector', sel, undefined, 'spec'));
      }
      // WaitForFirstConsumer claims that wait for this pod: context (pvc-unbound leaves them to this rule).
      const waiting: string[] = [];
      for (const { claim } of view.claimsOf(pod)) {
        if (!claim || claim.status?.phase === 'Bound') continue;
        const claimEvents = view.eventsFor(claim, 'PersistentVolumeClaim');
        const wait = claimEvents.find((e) => e.reason === 'WaitForPodScheduled') ?? claimEvents.find((e) => e.reason === 'WaitForFirstConsumer');
        if (!wait) continue;
        waiting.push(claim.metadata.name);
        evidence.push(eventEvidence(wait));
      }
      if (waiting.length) details.waitingClaims = waiting;
      const breakdown = parsed ? parsed.reasons.map((r) => `${r.count ?? 'all'}: ${r.reason}`).join('; ') : message;
      out.push({
        rule: 'unschedulable',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `Pod ${pod.metadata.name} cannot be scheduled: ${words}`,
        explanation:
          `The scheduler found no node for pod ${pod.metadata.name}${parsed ? ` (0 of ${parsed.nodes} nodes fit)` : ''}. ` +
          `Reasons by node count: ${breakdown}. The main obstacle: ${words}.` +
          (parsed?.preemption ? ` Preemption: ${parsed.preemption}` : '') +
          (waiting.length ? ` Claim${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')} bind${waiting.length > 1 ? '' : 's'} only once the pod is scheduled (WaitForFirstConsumer): ${waiting.length > 1 ? 'they are' : 'it is'} waiting for this pod, not the cause.` : ''),
        evidence,
        recoveries: recoveriesFor(view, pod, category, resource, sts.metadata.name),
        confidence: view.canSee('events') ? 'high' : 'low',
        details,
      });
    }
    return out;
  },
};
