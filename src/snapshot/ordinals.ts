/**
 * Ordinals as ranges: the replicas a StatefulSet wants are `[start, start + replicas)`, which
 * can be two billion ordinals, while the pods that exist are a short list. Everything here is
 * linear in the number of pods (after a sort), never in `spec.replicas` or in ordinal values.
 */
import type { Pod, StatefulSet } from './types.js';
import { desiredReplicas, ordinalStart, podName } from './view.js';

/** A run of consecutive ordinals, both ends included. */
export interface OrdinalRange {
  from: number;
  to: number;
}

/** How many ordinals a list of ranges covers. */
export function rangeCount(ranges: OrdinalRange[]): number {
  return ranges.reduce((n, r) => n + (r.to - r.from + 1), 0);
}

/**
 * The ordinals in `[start, start + spec.replicas)` that have no pod, as ascending ranges.
 * @param present the ordinals that have a pod (any order; those outside the range are ignored)
 */
export function missingOrdinalRanges(sts: StatefulSet, present: Iterable<number>): OrdinalRange[] {
  const start = ordinalStart(sts);
  const end = start + desiredReplicas(sts);
  const have = [...new Set(present)].filter((o) => o >= start && o < end).sort((a, b) => a - b);
  const out: OrdinalRange[] = [];
  let cursor = start;
  for (const o of have) {
    if (o > cursor) out.push({ from: cursor, to: o - 1 });
    cursor = o + 1;
  }
  if (cursor < end) out.push({ from: cursor, to: end - 1 });
  return out;
}

/** Ranges cut to the ordinals above `ordinal`. */
export function rangesAbove(ranges: OrdinalRange[], ordinal: number): OrdinalRange[] {
  return ranges.filter((r) => r.to > ordinal).map((r) => ({ from: Math.max(r.from, ordinal + 1), to: r.to }));
}

/** True when `ordinal` falls in one of the ranges. */
export function inRanges(ranges: OrdinalRange[], ordinal: number): boolean {
  return ranges.some((r) => ordinal >= r.from && ordinal <= r.to);
}

/** At most `limit` of the ordinals the ranges cover, ascending (for JSON details). */
export function firstOrdinals(ranges: OrdinalRange[], limit = 20): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let o = r.from; o <= r.to && out.length < limit; o++) out.push(o);
  return out;
}

/**
 * The pods of the ranges by name, for a sentence: `quiz-1, quiz-2`, a long run as
 * `quiz-3 … quiz-999`, and after `limit` runs `… and N more`.
 */
export function formatPodRanges(sts: StatefulSet, ranges: OrdinalRange[], limit = 5): string {
  const parts: string[] = [];
  for (const r of ranges.slice(0, limit)) {
    if (r.from === r.to) parts.push(podName(sts, r.from));
    else if (r.to - r.from < 3) for (let o = r.from; o <= r.to; o++) parts.push(podName(sts, o));
    else parts.push(`${podName(sts, r.from)} … ${podName(sts, r.to)}`);
  }
  const rest = ranges.slice(limit);
  if (rest.length) parts.push(`… and ${rangeCount(rest)} more`);
  return parts.join(', ');
}

/** The ordinals of the ranges for a sentence: `1, 2`, `3–999`, capped like {@link formatPodRanges}. */
export function formatOrdinalRanges(ranges: OrdinalRange[], limit = 5): string {
  const parts: string[] = [];
  for (const r of ranges.slice(0, limit)) {
    if (r.from === r.to) parts.push(String(r.from));
    else if (r.to - r.from < 3) for (let o = r.from; o <= r.to; o++) parts.push(String(o));
    else parts.push(`${r.from}–${r.to}`);
  }
  const rest = ranges.slice(limit);
  if (rest.length) parts.push(`… and ${rangeCount(rest)} more`);
  return parts.join(', ');
}

/** The ordinals of `pods` that fall outside `[start, start + spec.replicas)`. */
export function ordinalsOutside(sts: StatefulSet, byOrdinal: Map<number, Pod>): number[] {
  const start = ordinalStart(sts);
  const end = start + desiredReplicas(sts);
  return [...byOrdinal.keys()].filter((o) => o < start || o >= end).sort((a, b) => a - b);
}
