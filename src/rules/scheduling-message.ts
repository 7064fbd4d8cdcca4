/**
 * The scheduler's aggregated `FailedScheduling` message, parsed: the one parser every rule uses
 * (`unschedulable`, `volume-node-affinity`, `pvc-unbound`).
 *
 * Kubernetes source: pkg/scheduler/framework/types.go (`FitError.Error`), 1.29–1.36:
 *   `0/N nodes are available: <count> <reason>, <count> <reason>. preemption: 0/N nodes are available: ...`
 * with the entries sorted as strings (`10 ...` before `2 ...`), so it is parsed by regex, never by
 * position; a reason may contain dots but no dot-space (a taint key such as
 * `{node.kubernetes.io/unreachable: }`). When a PreFilter plugin fails there are no counts:
 *   `0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: ...`
 * 1.34+ may add DRA text after the reasons (`no new claims to deallocate`), and 1.36 appends
 * ` not found` to the PreFilter form; both are ignored.
 */
/** What kind of obstacle a scheduler reason is. */
export type ScheduleReasonCategory =
  | 'insufficient-resources'
  | 'too-many-pods'
  | 'taint'
  | 'node-affinity'
  | 'unbound-claims'
  | 'volume-node-affinity'
  | 'volume-binding'
  | 'cordoned'
  | 'pod-affinity'
  | 'other';

/** One entry of the aggregated message: `<count> <reason>`, or a PreFilter reason without a count. */
export interface ScheduleReason {
  /** Nodes that failed for this reason; undefined for a PreFilter reason (it applies to every node). */
  count?: number;
  /** The reason exactly as the scheduler wrote it. */
  reason: string;
  category: ScheduleReasonCategory;
  /** For `Insufficient <resource>`: the resource (`cpu`, `memory`, `nvidia.com/gpu`). */
  resource?: string;
}

/** A parsed `FailedScheduling` message. */
export interface SchedulingFailure {
  /** N of `0/N nodes are available`. */
  nodes: number;
  reasons: ScheduleReason[];
  /** The reason that blocks the most nodes (a PreFilter reason blocks all); ties go to the first in {@link CATEGORY_PRIORITY}. */
  dominant: ScheduleReason;
  /** The text after `preemption:`, if any. */
  preemption?: string;
}

/** Tie-break order for the dominant reason: the more specific and actionable first. */
export const CATEGORY_PRIORITY: ScheduleReasonCategory[] = [
  'unbound-claims',
  'volume-node-affinity',
  'volume-binding',
  'insufficient-resources',
  'too-many-pods',
  'node-affinity',
  'pod-affinity',
  'cordoned',
  'taint',
  'other',
];

/** Classifies one scheduler reason text. */
export function classifyScheduleReason(reason: string): Pick<ScheduleReason, 'category' | 'resource'> {
  const insufficient = /^Insufficient (\S+)/.exec(reason);
  if (insufficient) return { category: 'insufficient-resources', resource: insufficient[1]! };
  if (/^Too many pods/i.test(reason)) return { category: 'too-many-pods' };
  if (/unbound immediate PersistentVolumeClaims|^persistentvolumeclaim "[^"]*" (not found|is being deleted)/i.test(reason)) return { category: 'unbound-claims' };
  if (/volume node affinity conflict|didn't match PersistentVolume's node affinity/i.test(reason)) return { category: 'volume-node-affinity' };
  if (/didn't find available persistent volumes to bind|did not have enough free storage/i.test(reason)) return { category: 'volume-binding' };
  if (/untolerated taint|had taints? .*didn't tolerate/i.test(reason)) return { category: 'taint' };
  if (/didn't match Pod's node affinity/i.test(reason)) return { category: 'node-affinity' };
  if (/were unschedulable|node\(s\) (was|were) cordoned/i.test(reason)) return { category: 'cordoned' };
  if (/pod affinity|pod anti-affinity|anti-affinity rules/i.test(reason)) return { category: 'pod-affinity' };
  return { category: 'other' };
}

/**
 * Parses the scheduler's aggregated `FailedScheduling` message (see the module comment for the
 * forms). Returns undefined when the message is not a `0/N nodes are available:` message (for
 * example a `running PreBind plugin ...` scheduler error).
 */
export function parseSchedulingMessage(message: string): SchedulingFailure | undefined {
  const head = /^\s*0\/(\d+) nodes are available:\s*/.exec(message);
  if (!head) return undefined;
  const nodes = Number(head[1]);
  let rest = message.slice(head[0].length);
  let preemption: string | undefined;
  const pre = /[,.]?\s*preemption:\s*/.exec(rest);
  if (pre) {
    preemption = rest.slice(pre.index + pre[0].length).trim();
    rest = rest.slice(0, pre.index);
  }
  const reasons: ScheduleReason[] = [];
  if (/^\d+ /.test(rest)) {
    // `<count> <reason>` entries separated by `, ` (a reason may itself contain dots, e.g. a
    // taint key node.kubernetes.io/unreachable): each ends before `, <digit>` or at `.` + space/end.
    const entry = /(?:^|, )(\d+) (.+?)(?=, \d+ |\.(?:\s|$)|$)/g;
    for (let m = entry.exec(rest); m; m = entry.exec(rest)) {
      reasons.push({ count: Number(m[1]), reason: m[2]!, ...classifyScheduleReason(m[2]!) });
    }
  } else {
    const reason = /^(.+?)\.(?:\s|$)/.exec(rest)?.[1] ?? rest.trim();
    if (reason) reasons.push({ reason, ...classifyScheduleReason(reason) });
  }
  if (reasons.length === 0) return undefined;
  const weight = (r: ScheduleReason): number => r.count ?? nodes + 1;
  const dominant = [...reasons].sort((a, b) => weight(b) - weight(a) || CATEGORY_PRIORITY.indexOf(a.category) - CATEGORY_PRIORITY.indexOf(b.category))[0]!;
  const out: SchedulingFailure = { nodes, reasons, dominant };
  if (preemption) out.preemption = preemption;
  return out;
}
