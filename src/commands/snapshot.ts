/**
 * `sts-doctor snapshot [name]`: writes what `diagnose` reads as one kubectl List, with an
 * `stsDoctor` header (now, namespace, gaps) so that `diagnose --from` gives the same answer.
 * Container env values are redacted; Secrets are never read.
 */
import type { Gap, KubeObject, Snapshot } from '../snapshot/types.js';
import type { DumpHeader } from '../snapshot/from-dump.js';
import { ExitCode } from '../errors.js';
import { loadSnapshots } from './load.js';
import type { ReadOptions } from './options.js';
import { toTimestamp } from '../snapshot/view.js';

export interface SnapshotOptions extends ReadOptions {
  output: 'yaml' | 'json';
}

/** The text that replaces every env value. */
export const REDACTED = '<redacted>';

/** The header's `namespace` for a snapshot of every namespace (`-A`); from-dump reads it back. */
const ALL_NAMESPACES = '*';

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

/**
 * The snapshot(s) as one kubectl List with the sts-doctor header. Several snapshots (`-A`, one
 * per namespace) share one List: cluster-scoped objects appear once, gaps without repeats, and
 * the header's namespace is `*`. Env values are redacted in place.
 */
export function snapshotToList(snapshots: Snapshot | Snapshot[], allNamespaces = false): { apiVersion: 'v1'; kind: 'List'; stsDoctor: DumpHeader; items: KubeObject[] } {
  const list = Array.isArray(snapshots) ? snapshots : [snapshots];
  const first = list[0];
  const items: KubeObject[] = [];
  const seen = new Set<string>();
  const add = (objects: KubeObject[]): void => {
    for (const o of objects) {
      const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}/${o.metadata.uid ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(o);
    }
  };
  for (const s of list) add([...s.statefulSets, ...s.controllerRevisions, ...s.pods, ...s.persistentVolumeClaims, ...s.services, ...s.resourceQuotas, ...s.events]);
  for (const s of list) add([...s.nodes, ...(s.leases ?? []), ...s.persistentVolumes, ...s.storageClasses, ...s.volumeAttachments]);
  redact(items);
  const gaps: Gap[] = [];
  for (const g of list.flatMap((s) => s.gaps)) if (!gaps.some((x) => x.resource === g.resource && x.message === g.message)) gaps.push(g);
  const header: DumpHeader = {
    schemaVersion: 1,
    now: first?.now ?? toTimestamp(),
    namespace: allNamespaces || list.length !== 1 ? ALL_NAMESPACES : first!.namespace,
    gaps,
  };
  if (first) header.source = first.source;
  return { apiVersion: 'v1', kind: 'List', stsDoctor: header, items };
}

/**
 * Runs the command: writes the List to stdout as YAML (default) or JSON; returns the exit
 * code (0). Throws StsDoctorError subclasses on errors.
 */
export async function snapshotCommand(name: string | undefined, opts: SnapshotOptions): Promise<number> {
  const snapshots = await loadSnapshots(name, opts);
  const list = snapshotToList(snapshots, Boolean(opts.allNamespaces));
  if (opts.output === 'json') process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else {
    const { stringify } = await import('../yaml.js');
    process.stdout.write(stringify(list, { lineWidth: 0 }));
  }
  return ExitCode.Ok;
}
