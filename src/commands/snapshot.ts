/**
 * `sts-doctor snapshot [name]`: writes what `diagnose` reads as one kubectl List, with an
 * `stsDoctor` header (now, namespace, gaps, the container log excerpts) so that
 * `diagnose --from` gives the same answer; `--no-logs` leaves the logs out (not even read).
 * What may hold a secret is redacted (see {@link redact}); Secrets are never read.
 */
import type { Gap, KubeObject, Snapshot } from '../snapshot/types.js';
import type { DumpHeader } from '../snapshot/from-dump.js';
import { ExitCode } from '../errors.js';
import { loadSnapshots } from './load.js';
import type { ReadOptions } from './options.js';
import { toTimestamp } from '../snapshot/view.js';
import { COLLECTED_RESOURCES } from '../snapshot/from-cluster.js';
import { stripUserinfo } from '../report/sanitize.js';
import { yamlText } from '../report/index.js';

export interface SnapshotOptions extends ReadOptions {
  output: 'yaml' | 'json';
  /** `--no-logs` sets it false: no container logs are read or stored (a `podlogs` gap says so). */
  logs?: boolean;
}

/** The text that replaces every env value. */
export const REDACTED = '<redacted>';

/** The header's `namespace` for a snapshot of every namespace (`-A`); from-dump reads it back. */
const ALL_NAMESPACES = '*';

/**
 * Annotations kept as they are: well-known, set by Kubernetes itself, and harmless. Every other
 * annotation's value is redacted (annotations often carry tokens, URLs with credentials, or
 * whole configurations).
 */
export const KEPT_ANNOTATIONS = new Set([
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'pv.kubernetes.io/provisioned-by',
  'pv.kubernetes.io/migrated-to',
  'volume.kubernetes.io/selected-node',
  'volume.kubernetes.io/storage-provisioner',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volumes.kubernetes.io/controller-managed-attach-detach',
  'node.alpha.kubernetes.io/ttl',
  'kubectl.kubernetes.io/restartedAt',
  'kubectl.kubernetes.io/default-container',
  'deprecated.daemonset.template.generation',
]);

/** Keys whose values are lists of strings that may carry secrets: container `command` and `args`. */
const REDACTED_LISTS = new Set(['command', 'args']);

/**
 * Redacts, in place, everything a snapshot might leak: every container `env` value (names and
 * `valueFrom` references stay), container `command` and `args` (each element), annotation
 * values outside {@link KEPT_ANNOTATIONS}, `httpHeaders` values of probes and lifecycle hooks,
 * the query string of probe and hook `httpGet.path` (`/healthz?token=…` → `/healthz?<redacted>`),
 * and userinfo in any URL (`https://user:pass@host` → `https://host`). Probe `exec` commands stay
 * (the probe-failing rule quotes them). Iterative, so a deeply nested object cannot overflow the stack.
 */
export function redact(root: unknown): void {
  const stack: { v: unknown; key?: string; parentKey?: string }[] = [{ v: root }];
  while (stack.length) {
    const { v, key, parentKey } = stack.pop()!;
    if (Array.isArray(v)) {
      if (key && REDACTED_LISTS.has(key) && parentKey !== 'exec') {
        for (let i = 0; i < v.length; i++) v[i] = REDACTED;
        continue;
      }
      for (let i = 0; i < v.length; i++) {
        if (typeof v[i] === 'string') v[i] = stripUserinfo(v[i] as string);
        else stack.push({ v: v[i], key, parentKey });
      }
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      if (k === 'env' && Array.isArray(x)) {
        for (const e of x as { value?: string }[]) if (e && typeof e === 'object' && 'value' in e) e.value = REDACTED;
      } else if (k === 'annotations' && x && typeof x === 'object' && !Array.isArray(x)) {
        const ann = x as Record<string, unknown>;
        for (const a of Object.keys(ann)) if (!KEPT_ANNOTATIONS.has(a)) ann[a] = REDACTED;
      } else if (k === 'httpHeaders' && Array.isArray(x)) {
        for (const h of x as { value?: string }[]) if (h && typeof h === 'object' && 'value' in h) h.value = REDACTED;
      } else if (k === 'path' && key === 'httpGet' && typeof x === 'string' && x.includes('?')) {
        o[k] = `${x.slice(0, x.indexOf('?'))}?${REDACTED}`;
      } else if (typeof x === 'string') {
        o[k] = stripUserinfo(x);
      } else stack.push({ v: x, key: k, parentKey: key });
    }
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
  for (const s of list) add([...s.statefulSets, ...s.controllerRevisions, ...s.pods, ...s.persistentVolumeClaims, ...s.services, ...s.resourceQuotas, ...s.networkPolicies, ...s.events]);
  for (const s of list) add([...s.nodes, ...(s.leases ?? []), ...s.persistentVolumes, ...s.storageClasses, ...s.volumeAttachments, ...(s.endpointSlices ?? [])]);
  redact(items);
  const gaps: Gap[] = [];
  for (const g of list.flatMap((s) => s.gaps)) if (!gaps.some((x) => x.resource === g.resource && x.message === g.message)) gaps.push(g);
  const header: DumpHeader = {
    schemaVersion: 1,
    now: first?.now ?? toTimestamp(),
    namespace: allNamespaces || list.length !== 1 ? ALL_NAMESPACES : first!.namespace,
    gaps,
    read: COLLECTED_RESOURCES,
  };
  // Read by name only: a one-namespace snapshot's own scope (-A always lists whole).
  if (list.length === 1 && first?.scope) header.scope = { ...first.scope };
  const logs = list.filter((s) => s.containerLogs !== undefined);
  if (logs.length) header.containerLogs = logs.flatMap((s) => s.containerLogs!);
  if (first?.clusterDns) header.clusterDns = { ...first.clusterDns };
  if (first) header.source = first.source.type === 'cluster' ? { ...first.source, server: stripUserinfo(first.source.server) } : first.source;
  return { apiVersion: 'v1', kind: 'List', stsDoctor: header, items };
}

/**
 * Runs the command: writes the List to stdout as YAML (default) or JSON; returns the exit
 * code (0). Throws StsDoctorError subclasses on errors.
 */
export async function snapshotCommand(name: string | undefined, opts: SnapshotOptions): Promise<number> {
  const snapshots = await loadSnapshots(name, opts);
  if (opts.logs === false) {
    // Live, the logs were not read at all; from a dump, the ones it holds are left out.
    for (const s of snapshots) {
      delete s.containerLogs;
      if (!s.gaps.some((g) => g.resource === 'podlogs' && g.reason === 'absent')) s.gaps.push({ resource: 'podlogs', reason: 'absent', message: 'podlogs: not read (--no-logs)' });
    }
  }
  const list = snapshotToList(snapshots, Boolean(opts.allNamespaces));
  // Verbatim data; characters a terminal may act on are written as escapes (report/index.ts).
  if (opts.output === 'json') {
    const { escapeJsonText } = await import('../report/sanitize.js');
    process.stdout.write(`${escapeJsonText(JSON.stringify(list, null, 2))}\n`);
  } else process.stdout.write(await yamlText(list));
  return ExitCode.Ok;
}
