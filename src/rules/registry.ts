/**
 * The rule registry: every rule, in report order. Adding a rule = one file (with its `doc`, the
 * README row: `npm run readme:rules`) + one line here.
 */
import type { Finding, RecoveryOption, Rule } from './types.js';
import type { StatefulSet } from '../snapshot/types.js';
import type { SnapshotView } from '../snapshot/view.js';
import { nodeLost } from './node-lost.js';
import { pvcUnbound } from './pvc-unbound.js';
import { imagePull } from './image-pull.js';
import { orderedReadyStall } from './ordered-ready-stall.js';
import { notReadyUnexplained } from './not-ready.js';
import { crashLoop } from './crash-loop.js';
import { probeFailing } from './probe-failing.js';
import { containerConfigError } from './container-config-error.js';
import { scaleDownBlocked } from './scale-down-blocked.js';
import { rolloutStuck } from './rollout-stuck.js';
import { unschedulable } from './unschedulable.js';
import { podCreationDenied } from './pod-creation-denied.js';
import { headlessServiceMissing } from './headless-service-missing.js';
import { retentionRisk } from './retention-risk.js';
import { volumeNodeAffinity } from './volume-node-affinity.js';
import { multiAttach } from './multi-attach.js';
import { outOfServiceTaint } from './out-of-service-taint.js';
import { releasedVolume } from './released-volume.js';
import { dnsEgressBlocked, networkPolicyIsolation } from './network-isolation.js';
import { peerDiscoveryBlocked } from './peer-discovery.js';
import { initContainerStuck } from './init-container-stuck.js';
import { clusterDnsUnavailable } from './cluster-dns.js';
import { PlanError, planOffer } from '../recovery/plan.js';
import { linkCauses } from './causes.js';

/** Every rule, in no particular order (reports sort by rank). */
export const RULES: Rule[] = [nodeLost, pvcUnbound, imagePull, orderedReadyStall, notReadyUnexplained, crashLoop, probeFailing, containerConfigError, scaleDownBlocked, rolloutStuck, volumeNodeAffinity, multiAttach, unschedulable, podCreationDenied, headlessServiceMissing, retentionRisk, outOfServiceTaint, releasedVolume, networkPolicyIsolation, dnsEgressBlocked, peerDiscoveryBlocked, initContainerStuck, clusterDnsUnavailable];

/**
 * No offer that would be refused: each automated recovery of `f` is planned against the same
 * snapshot; one the planner refuses becomes a manual step that says why sts-doctor does not
 * offer it now (e.g. "Pod quiz-2 is Ready; delete-pod is for a stuck pod").
 */
function vetOffers(view: SnapshotView, sts: StatefulSet, f: Finding): void {
  f.recoveries = f.recoveries.map((o): RecoveryOption => {
    if (!o.automated || !o.offer) return o;
    try {
      planOffer(view, sts, o.offer, { finding: f });
      return o;
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      const offer = o.offer;
      const withheld: NonNullable<RecoveryOption['withheld']> = { action: offer.action, reason: err.message };
      if ('pod' in offer) withheld.pod = offer.pod.name;
      if (offer.action === 'out-of-service-taint' || offer.action === 'remove-out-of-service-taint') withheld.node = offer.node.name;
      return { id: 'manual', title: o.title, description: `${o.description} sts-doctor does not offer it now: ${err.message}`, automated: false, commands: [], withheld };
    }
  });
}

/**
 * Runs every rule over every StatefulSet in the snapshot. Findings are ordered by rule rank
 * (root causes first), then StatefulSet, then subject name. `not-ready` runs last and only for
 * StatefulSets no other rule explained. A finding that is only the consequence of another one
 * about the same pod gets `causedBy` (causes.ts, the catalog of causal links).
 */
export function evaluate(view: SnapshotView): Finding[] {
  const out: Finding[] = [];
  for (const sts of view.snapshot.statefulSets) {
    const ctx = { view, sts };
    const own: Finding[] = [];
    for (const rule of RULES) {
      if (rule === notReadyUnexplained) continue;
      own.push(...rule.evaluate(ctx));
    }
    if (!own.some((f) => f.severity !== 'info')) own.push(...notReadyUnexplained.evaluate(ctx));
    for (const f of own) vetOffers(view, sts, f);
    linkCauses(own, sts);
    out.push(...own);
  }
  const rank = new Map(RULES.map((r) => [r.id, r.rank]));
  return out.sort(
    (a, b) =>
      (rank.get(a.rule) ?? 99) - (rank.get(b.rule) ?? 99) ||
      a.statefulSet.name.localeCompare(b.statefulSet.name) ||
      a.subject.name.localeCompare(b.subject.name, undefined, { numeric: true }),
  );
}
