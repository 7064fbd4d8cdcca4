/**
 * `sts-doctor snapshot [name]`: writes what `diagnose` reads as one kubectl List, with an
 * `stsDoctor` header (now, namespace, gaps) so that `diagnose --from` gives the same answer.
 * Container env values are redacted; Secrets are never read.
 */
import type { KubeObject, Snapshot } from '../snapshot/types.js';
import type { DumpHeader } from '../snapshot/from-dump.js';
import { ExitCode } from '../errors.js';
import { loadSnapshot } from './load.js';
import type { ReadOptions } from './options.js';

export interface SnapshotOptions extends ReadOptions {
  output: 'yaml' | 'json';
}

/** The text that replaces every env value. */
export const REDACTED = '<redacted>';

/** Replaces `value` of every container env var in pod specs and templates, in place. */
export function redact(obj: unknown): void {
  if (Array.isArray(obj)) {
    for (const x of obj) redact(x);
    return;
  }
  if (!obj || typeof obj !== 'object') return;
  const o = obj as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'env' && Array.isArray(v)) {
      for (const e of v as { value?: string }[]) if (e && typeof e === 'object' && 'value' in e) e.value = REDACTED;
    } else redact(v);
  }
}

/** The snapshot as a kubectl List with the sts-doctor header. */
export function snapshotToList(s: Snapshot): { apiVersion: 'v1'; kind: 'List'; stsDoctor: DumpHeader; items: KubeObject[] } {
  const items: KubeObject[] = [
    ...s.statefulSets,
    ...s.controllerRevisions,
    ...s.pods,
    ...s.persistentVolumeClaims,
    ...s.services,
    ...s.resourceQuotas,
    ...s.events,
    ...s.nodes,
    ...s.persistentVolumes,
    ...s.storageClasses,
    ...s.volumeAttachments,
  ];
  redact(items);
  return { apiVersion: 'v1', kind: 'List', stsDoctor: { schemaVersion: 1, now: s.now, namespace: s.namespace, source: s.source, gaps: s.gaps }, items };
}

export async function snapshotCommand(name: string | undefined, opts: SnapshotOptions): Promise<number> {
  const snapshot = await loadSnapshot(name, opts);
  const list = snapshotToList(snapshot);
  if (opts.output === 'json') process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else {
    const { stringify } = await import('../yaml.js');
    process.stdout.write(stringify(list, { lineWidth: 0 }));
  }
  return ExitCode.Ok;
}
