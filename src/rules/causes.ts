/**
 * The causal graph of findings: which findings are only consequences of another, built once in
 * the evaluation (registry.ts `evaluate` calls {@link linkCauses}); the text report, `recover`'s
 * listing and picker, `wait`'s progress line read it through {@link rootCauses}.
 *
 * A consequence is a controller-level symptom (the StatefulSet controller waits on a pod that
 * is not Running and Ready: OrderedReady creation, scale-down, rolling update) whose waited-on
 * pod is the subject of a pod-level cause (the kubelet cannot pull the image, the container
 * crashes, the probe fails, the pod cannot be scheduled...). They are linked when both name the
 * same pod of the same StatefulSet; the consequence gets `causedBy` (the cause's rule and subject).
 * A cause beyond one pod (the cluster DNS has no ready endpoint; a NetworkPolicy keeps the
 * replicas from each other or from DNS) explains the pod-level findings about the pods it names
 * in `explains` ({@link CLUSTER_CAUSES}); they fold under it directly, and so do the
 * consequences of those, so the graph stays one level deep.
 * Nothing is dropped: `-o json` and the exit code keep every finding.
 */
import type { StatefulSet } from '../snapshot/types.js';
import { claimOrdinal, podName } from '../snapshot/view.js';
import type { Evidence, Finding, FindingRef, RecoveryOption } from './types.js';

/** Pod-level causes, in order of preference: the node and the volumes first, then the kubelet's view of the containers. */
const POD_CAUSES: readonly string[] = [
  'node-lost',
  'volume-node-affinity',
  'multi-attach',
  'pvc-unbound',
  'unschedulable',
  'image-pull',
  'container-config-error',
  'init-container-stuck',
  'crash-loop',
  'probe-failing',
  'network-policy-isolation',
  'dns-egress-blocked',
];

/**
 * The catalog of causal links: consequence rule → the rules that may cause it, in order of
 * preference (the first one found for the same pod is the cause). A cause is never a
 * consequence here, so the graph is one level deep.
 */
export const CAUSAL_LINKS: Readonly<Record<string, readonly string[]>> = {
  'ordered-ready-stall': POD_CAUSES,
  'scale-down-blocked': POD_CAUSES,
  'rollout-stuck': POD_CAUSES,
};

/** What a name-resolution outage explains: readiness, peer discovery, init containers that wait on a peer, and what the controller waits on because of them. */
const DNS_EXPLAINS: readonly string[] = ['probe-failing', 'peer-discovery-blocked', 'init-container-stuck', 'ordered-ready-stall', 'scale-down-blocked', 'rollout-stuck'];

/**
 * Causes beyond one pod → the rules whose findings they explain when the finding is about a pod
 * they name in `explains` (a finding about a Service, `peer-discovery-blocked`, is about the
 * replicas Running and not Ready, which these causes name by construction: it folds when the
 * cause is there). Not the crash-loop, image or volume rules: neither a DNS outage nor a
 * NetworkPolicy explains those. Replicas kept from each other (`network-policy-isolation`) fail
 * their readiness (no quorum), not their peer discovery.
 */
export const CLUSTER_CAUSES: Readonly<Record<string, readonly string[]>> = {
  'cluster-dns-unavailable': DNS_EXPLAINS,
  'dns-egress-blocked': DNS_EXPLAINS,
  'network-policy-isolation': ['probe-failing', 'ordered-ready-stall', 'scale-down-blocked', 'rollout-stuck'],
};

/** The pod a finding is about, by name: its subject when a Pod, the claim's pod when a PersistentVolumeClaim of a claim template. */
export function podOfFinding(f: Finding, sts: StatefulSet): string | undefined {
  if (f.subject.kind === 'Pod') return f.subject.name;
  if (f.subject.kind === 'PersistentVolumeClaim') {
    const o = claimOrdinal(sts, f.subject.name);
    return o ? podName(sts, o.ordinal) : undefined;
  }
  return undefined;
}

/** The reference `causedBy` holds. */
export function findingRef(f: Finding): FindingRef {
  return { rule: f.rule, subject: f.subject };
}

/** True when `ref` names finding `f` (same rule, same subject kind and name). */
export function refersTo(ref: FindingRef, f: Finding): boolean {
  return ref.rule === f.rule && ref.subject.kind === f.subject.kind && ref.subject.name === f.subject.name && (ref.subject.namespace ?? '') === (f.subject.namespace ?? '');
}

/**
 * Sets `causedBy` on each finding of `sts` (all of `findings` belong to it) that a cluster-level
 * cause explains ({@link CLUSTER_CAUSES}), then on each one the catalog says may be caused by
 * another finding naming the same pod. A consequence whose cause is itself folded under a
 * cluster-level cause points at that root instead, so the graph stays one level deep. Mutates
 * `findings`.
 */
export function linkCauses(findings: Finding[], sts: StatefulSet): void {
  for (const root of findings) {
    const explained = CLUSTER_CAUSES[root.rule];
    if (!explained || root.severity === 'info') continue;
    for (const f of findings) {
      if (f === root || f.causedBy || !explained.includes(f.rule)) continue;
      const pod = podOfFinding(f, sts);
      if (pod !== undefined ? (root.explains ?? []).includes(pod) : f.subject.kind === 'Service') f.causedBy = findingRef(root);
    }
  }
  for (const f of findings) {
    const causes = CAUSAL_LINKS[f.rule];
    if (!causes || f.causedBy || f.subject.kind !== 'Pod') continue;
    const pod = f.subject.name;
    for (const rule of causes) {
      const cause = findings.find((c) => c !== f && c.rule === rule && c.severity !== 'info' && podOfFinding(c, sts) === pod);
      if (cause) {
        f.causedBy = cause.causedBy ?? findingRef(cause);
        break;
      }
    }
  }
}

/** A root cause with the findings folded under it, and the recoveries of all of them merged. */
export interface RootCause {
  finding: Finding;
  consequences: Finding[];
  /** The root's recoveries, then the consequences' ones that are not the same offer or the same manual step, each once. */
  recoveries: RecoveryOption[];
  /** The root's evidence, then the consequences' evidence lines not already in it, each once. */
  evidence: Evidence[];
}

/** The identity of a recovery for de-duplication: the typed offer, else the manual step's title and commands. */
export function recoveryKey(o: RecoveryOption): string {
  if (o.offer) return `offer:${JSON.stringify(o.offer)}`;
  return `manual:${o.title}\n${(o.commands ?? []).join('\n')}`;
}

/** The identity of an evidence line: object, label and text (the time and count may differ between two rules quoting the same line). */
export function evidenceKey(e: Evidence): string {
  return `${e.object.kind}/${e.object.namespace ?? ''}/${e.object.name}\n${e.label}\n${e.text}`;
}

/**
 * The findings grouped by root cause, in the order of `findings` (ranked: root causes first): each
 * finding without a `causedBy` (or whose cause is not among `findings`) is a root; each one with
 * a `causedBy` is folded under it. Pure.
 */
export function rootCauses(findings: Finding[]): RootCause[] {
  const roots: RootCause[] = [];
  const sameSts = (a: Finding, b: Finding): boolean => a.statefulSet.name === b.statefulSet.name && (a.statefulSet.namespace ?? '') === (b.statefulSet.namespace ?? '');
  const causeOf = (f: Finding): Finding | undefined => (f.causedBy ? findings.find((c) => c !== f && sameSts(c, f) && refersTo(f.causedBy!, c)) : undefined);
  for (const f of findings) if (!causeOf(f)) roots.push({ finding: f, consequences: [], recoveries: [], evidence: [] });
  for (const f of findings) {
    const cause = causeOf(f);
    if (cause) roots.find((r) => r.finding === cause)?.consequences.push(f);
  }
  for (const r of roots) {
    const seenR = new Set<string>();
    const seenE = new Set<string>();
    for (const f of [r.finding, ...r.consequences]) {
      for (const o of f.recoveries) {
        const k = recoveryKey(o);
        if (!seenR.has(k)) {
          seenR.add(k);
          r.recoveries.push(o);
        }
      }
      for (const e of f.evidence) {
        const k = evidenceKey(e);
        if (!seenE.has(k)) {
          seenE.add(k);
          r.evidence.push(e);
        }
      }
    }
  }
  return roots;
}

/** The root as one finding for the recover picker: its own fields, with the merged recoveries. */
export function foldedFinding(r: RootCause): Finding {
  return { ...r.finding, recoveries: r.recoveries };
}
