/**
 * The rule registry: every rule, in report order. Adding a rule = one file + one line here +
 * one row in the README's rule table.
 */
import type { Finding, Rule } from './types.js';
import type { SnapshotView } from '../snapshot/view.js';
import { nodeLost } from './node-lost.js';
import { pvcUnbound } from './pvc-unbound.js';
import { imagePull } from './image-pull.js';
import { orderedReadyStall } from './ordered-ready-stall.js';
import { notReadyUnexplained } from './not-ready.js';

/** Every rule, in no particular order (reports sort by rank). */
export const RULES: Rule[] = [nodeLost, pvcUnbound, imagePull, orderedReadyStall, notReadyUnexplained];

/**
 * Runs every rule over every StatefulSet in the snapshot. Findings are ordered by rule rank
 * (root causes first), then StatefulSet, then subject name. `not-ready` runs last and only for
 * StatefulSets no other rule explained.
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
