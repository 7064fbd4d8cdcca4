/**
 * What changed between two pod templates (two ControllerRevisions of a StatefulSet), one line
 * per field, as kubectl-status shows a stuck rollout's diff: container image, command, args,
 * env, resources and probes, and the template's labels and annotations.
 */
import type { Container, PodTemplateSpec } from '../snapshot/types.js';

/** A value with object keys sorted and empty values (null, {}, []) dropped: equal specs compare equal whatever their key order. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(canonical).filter((x) => x !== undefined);
    return a.length ? a : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null || v === '' ? undefined : v;
}

/** At most this many lines; the rest is summed up in one "… and N more" line. */
export const MAX_DIFF_LINES = 20;

const FIELDS = ['image', 'command', 'args', 'env', 'envFrom', 'resources', 'readinessProbe', 'livenessProbe', 'startupProbe', 'ports', 'volumeMounts'] as const;

function show(v: unknown): string {
  if (v === undefined || v === null) return '(none)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

function mapDiff(what: string, a: Record<string, string> | undefined, b: Record<string, string> | undefined, out: string[]): void {
  for (const k of [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort()) {
    const x = a?.[k];
    const y = b?.[k];
    if (x !== y) out.push(`${what} ${k}: ${show(x)} → ${show(y)}`);
  }
}

/**
 * The differences from template `from` to template `to`, e.g. `container mongo image:
 * registry/mongo:bad → mongo:5`. Empty when either is missing or they run the same.
 */
export function diffTemplates(from: PodTemplateSpec | undefined, to: PodTemplateSpec | undefined): string[] {
  if (!from || !to) return [];
  const out: string[] = [];
  const all = (t: PodTemplateSpec): Container[] => [...(t.spec?.initContainers ?? []), ...(t.spec?.containers ?? [])];
  const a = all(from);
  const b = all(to);
  for (const name of [...new Set([...a.map((c) => c.name), ...b.map((c) => c.name)])]) {
    const x = a.find((c) => c.name === name) as unknown as Record<string, unknown> | undefined;
    const y = b.find((c) => c.name === name) as unknown as Record<string, unknown> | undefined;
    if (!x || !y) {
      out.push(`container ${name}: ${x ? 'present' : 'absent'} → ${y ? 'present' : 'absent'}`);
      continue;
    }
    for (const f of FIELDS) if (JSON.stringify(canonical(x[f]) ?? null) !== JSON.stringify(canonical(y[f]) ?? null)) out.push(`container ${name} ${f}: ${show(x[f])} → ${show(y[f])}`);
  }
  mapDiff('label', from.metadata?.labels, to.metadata?.labels, out);
  mapDiff('annotation', from.metadata?.annotations, to.metadata?.annotations, out);
  if (out.length > MAX_DIFF_LINES) return [...out.slice(0, MAX_DIFF_LINES - 1), `… and ${out.length - MAX_DIFF_LINES + 1} more`];
  return out;
}
