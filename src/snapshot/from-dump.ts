/**
 * Offline collection: the same Snapshot from a saved dump. Accepts
 *  - a `kubectl get ... -o yaml|json` List or single object, or multi-document YAML;
 *  - `sts-doctor snapshot` output (a List with an `stsDoctor` header: now, namespace, gaps);
 *  - a `kubectl cluster-info dump --output-directory` tree (every .json/.yaml file in it);
 *  - `-` for standard input.
 * "Now" is `--now`, else the header's, else the newest timestamp in the dump. One Snapshot per
 * namespace in scope (`-n`, the header's, the only one; with `-A` every namespace holding a
 * matching StatefulSet). What the dump does not show was read becomes an `absent` Gap.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DumpError, NotFoundError, UsageError } from '../errors.js';
import type { Gap, KubeObject, ResourceName, Snapshot, StatefulSet } from './types.js';
import { trimSnapshot } from './normalize.js';
import { selectorMatches, toTimestamp } from './view.js';

/** The header `sts-doctor snapshot` writes beside `items`. */
export interface DumpHeader {
  schemaVersion: 1;
  now: string;
  namespace: string;
  source?: Snapshot['source'];
  gaps: Gap[];
}

export interface DumpOptions {
  name?: string | undefined;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  now?: string | undefined;
  /** `-A`: one Snapshot per namespace that holds a matching StatefulSet. */
  allNamespaces?: boolean | undefined;
}

const KIND_TO_RESOURCE: Record<string, ResourceName> = {
  StatefulSet: 'statefulsets',
  Pod: 'pods',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Event: 'events',
  Service: 'services',
  ControllerRevision: 'controllerrevisions',
  ResourceQuota: 'resourcequotas',
  Node: 'nodes',
  PersistentVolume: 'persistentvolumes',
  StorageClass: 'storageclasses',
  VolumeAttachment: 'volumeattachments',
  Lease: 'leases',
};

const RESOURCE_FIELD: Record<ResourceName, keyof Snapshot> = {
  statefulsets: 'statefulSets',
  pods: 'pods',
  persistentvolumeclaims: 'persistentVolumeClaims',
  events: 'events',
  services: 'services',
  controllerrevisions: 'controllerRevisions',
  resourcequotas: 'resourceQuotas',
  nodes: 'nodes',
  persistentvolumes: 'persistentVolumes',
  storageclasses: 'storageClasses',
  volumeattachments: 'volumeAttachments',
  leases: 'leases',
};

// Leases live in kube-node-lease, not in the StatefulSet's namespace: kept like cluster-scoped objects.
const CLUSTER_SCOPED: ResourceName[] = ['nodes', 'persistentvolumes', 'storageclasses', 'volumeattachments', 'leases'];

/** The header value of `namespace` in an all-namespaces snapshot (`snapshot -A`). */
export const ALL_NAMESPACES = '*';

/** What a dump holds, before it is cut into Snapshots. */
interface ParsedDump {
  objects: KubeObject[];
  header: DumpHeader | undefined;
  /**
   * Resources the dump shows were read, even with no item: every kind in it, and the item kind
   * of typed lists (`PodList`, as `kubectl get pods -o json` and `cluster-info dump` write).
   */
  seen: Set<ResourceName>;
  /** True when the files look like `kubectl cluster-info dump` output (a nodes.json beside namespace directories). */
  clusterInfo: boolean;
}

/**
 * Reads a dump into a Snapshot for StatefulSet `name` (or all StatefulSets in the namespace).
 * @throws DumpError for an unreadable or malformed dump; NotFoundError when the StatefulSet is
 *   not in it; UsageError when the namespace is ambiguous or `allNamespaces` is set (use
 *   {@link snapshotsFromDump}).
 */
export async function snapshotFromDump(path: string, opts: DumpOptions): Promise<Snapshot> {
  if (opts.allNamespaces) throw new UsageError('-A/--all-namespaces is not supported here.');
  const [snapshot] = await snapshotsFromDump(path, opts);
  return snapshot!;
}

/**
 * Reads a dump into Snapshots: one for the namespace in scope (`-n`, the header's, or the only
 * one holding a matching StatefulSet), or with `allNamespaces` one per namespace that holds a
 * matching StatefulSet (possibly none). Resources the dump does not show were read become
 * `absent` gaps, so the rules treat them as unknown, never as missing.
 * @throws DumpError for an unreadable or malformed dump or one without StatefulSets;
 *   NotFoundError when the named StatefulSet is not in it; UsageError when the namespace is
 *   ambiguous or the selector cannot be parsed.
 */
export async function snapshotsFromDump(path: string, opts: DumpOptions): Promise<Snapshot[]> {
  if (opts.allNamespaces && opts.name) throw new UsageError('A StatefulSet name cannot be combined with -A/--all-namespaces; pass -n instead.');
  const { objects, header, seen, clusterInfo } = await readDump(path);

  const byResource = new Map<ResourceName, KubeObject[]>();
  for (const o of objects) {
    const r = KIND_TO_RESOURCE[o.kind ?? ''];
    if (!r) continue;
    const list = byResource.get(r) ?? [];
    list.push(o);
    byResource.set(r, list);
  }
  const allSets = (byResource.get('statefulsets') ?? []) as StatefulSet[];
  if (allSets.length === 0) {
    if (clusterInfo) {
      throw new DumpError(
        `${path} is a kubectl cluster-info dump, which does not include StatefulSets: add them with "kubectl get statefulsets -n <namespace> -o json > ${join(path, '<namespace>', 'statefulsets.json')}", or use sts-doctor snapshot.`,
      );
    }
    throw new DumpError(`${path}: the dump holds no StatefulSet.`);
  }
  const selector = opts.labelSelector ? parseSelector(opts.labelSelector) : undefined;
  const nsOf = (o: KubeObject, fallback: string): string => o.metadata.namespace ?? fallback;

  let namespaces: string[];
  if (opts.allNamespaces) {
    namespaces = [...new Set(allSets.filter((s) => !selector || selectorMatches(selector, s.metadata.labels)).map((s) => nsOf(s, 'default')))].sort();
  } else {
    let namespace = opts.namespace ?? (header?.namespace && header.namespace !== ALL_NAMESPACES ? header.namespace : undefined);
    if (!namespace) {
      const named = opts.name ? allSets.filter((s) => s.metadata.name === opts.name) : allSets;
      const candidates = named.length ? named : allSets;
      const found = [...new Set(candidates.map((s) => nsOf(s, 'default')))].sort();
      if (found.length > 1) throw new UsageError(`The dump holds StatefulSets in several namespaces (${found.join(', ')}); pass -n <namespace> or -A.`);
      namespace = found[0] ?? 'default';
    }
    namespaces = [namespace];
  }

  const now = opts.now ?? header?.now ?? newestTimestamp(objects) ?? toTimestamp(0);
  return namespaces.map((ns) => {
    const inNs = <T extends KubeObject>(list: T[]): T[] => list.filter((o) => nsOf(o, ns) === ns);
    let statefulSets = inNs(allSets);
    if (opts.name) {
      statefulSets = statefulSets.filter((s) => s.metadata.name === opts.name);
      if (statefulSets.length === 0) {
        const known = inNs(allSets).map((s) => s.metadata.name);
        throw new NotFoundError(`StatefulSet "${opts.name}" is not in the dump for namespace "${ns}"${known.length ? ` (it has: ${known.join(', ')})` : ''}.`);
      }
    } else if (selector) {
      statefulSets = statefulSets.filter((s) => selectorMatches(selector, s.metadata.labels));
    }
    const gaps: Gap[] = header ? header.gaps.map((g) => ({ ...g })) : [];
    const snapshot: Snapshot = {
      schemaVersion: 1,
      source: { type: 'dump', path },
      now,
      namespace: ns,
      statefulSets,
      pods: [],
      persistentVolumeClaims: [],
      events: [],
      services: [],
      controllerRevisions: [],
      resourceQuotas: [],
      nodes: [],
      persistentVolumes: [],
      storageClasses: [],
      volumeAttachments: [],
      gaps,
    };
    for (const [resource, field] of Object.entries(RESOURCE_FIELD) as [ResourceName, keyof Snapshot][]) {
      if (resource === 'statefulsets') continue;
      const list = byResource.get(resource) ?? [];
      // Node Leases are optional (older dumps lack them): the Ready condition's heartbeat stands in.
      if (resource !== 'leases' && !seen.has(resource) && !header && !gaps.some((g) => g.resource === resource)) {
        gaps.push({ resource, reason: 'absent', message: `${resource}: not in the dump` });
      }
      (snapshot as unknown as Record<string, KubeObject[]>)[field] = CLUSTER_SCOPED.includes(resource) ? list : inNs(list);
    }
    return trimSnapshot(snapshot);
  });
}

/** Reads every document of the dump and checks that each is a Kubernetes object or list. */
async function readDump(path: string): Promise<ParsedDump> {
  const docs = await readDocuments(path);
  const objects: KubeObject[] = [];
  const seen = new Set<ResourceName>();
  let header: DumpHeader | undefined;
  let sawDocument = false;
  for (const { doc, file } of docs) {
    if (doc === null || doc === undefined) continue;
    sawDocument = true;
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new DumpError(`${file}: expected Kubernetes objects (with kind and metadata), found ${Array.isArray(doc) ? 'a bare list' : `a ${typeof doc}`}.`);
    }
    const d = doc as { kind?: unknown; items?: unknown; stsDoctor?: DumpHeader; metadata?: unknown };
    if (d.stsDoctor) header = d.stsDoctor;
    const kind = typeof d.kind === 'string' ? d.kind : undefined;
    if (Array.isArray(d.items) || (kind?.endsWith('List') && (d.items === null || d.items === undefined))) {
      const itemKind = kind?.endsWith('List') && kind !== 'List' ? kind.slice(0, -4) : undefined;
      if (itemKind && KIND_TO_RESOURCE[itemKind]) seen.add(KIND_TO_RESOURCE[itemKind]);
      for (const item of (d.items as unknown[] | null | undefined) ?? []) {
        const o = checkObject(item, file, itemKind);
        objects.push(o);
        if (KIND_TO_RESOURCE[o.kind ?? '']) seen.add(KIND_TO_RESOURCE[o.kind!]!);
      }
    } else if (kind) {
      const o = checkObject(d, file);
      objects.push(o);
      if (KIND_TO_RESOURCE[kind]) seen.add(KIND_TO_RESOURCE[kind]);
    } else {
      throw new DumpError(`${file}: expected Kubernetes objects (with kind and metadata), found a document without "kind".`);
    }
  }
  if (!sawDocument) throw new DumpError(`${path}: the dump is empty.`);
  if (objects.length === 0) throw new DumpError(`${path}: the dump holds no Kubernetes objects.`);
  const clusterInfo = path !== '-' && docs.some((d) => basename(d.file) === 'nodes.json') && docs.some((d) => basename(d.file) === 'pods.json' && d.file !== join(path, 'pods.json'));
  return { objects, header, seen, clusterInfo };
}

function checkObject(item: unknown, file: string, kind?: string): KubeObject {
  const o = item as KubeObject;
  if (!o || typeof o !== 'object' || !o.metadata || typeof o.metadata.name !== 'string') {
    throw new DumpError(`${file}: an item has no metadata.name; is this a Kubernetes dump?`);
  }
  if (!o.kind && kind) o.kind = kind;
  return o;
}

interface Document {
  doc: unknown;
  file: string;
}

async function readDocuments(path: string): Promise<Document[]> {
  if (path === '-') return parse(await readStdin(), 'standard input');
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new DumpError(`Cannot read dump ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}.`);
  }
  if (!st.isDirectory()) return parse(readText(path), path);
  const out: Document[] = [];
  for (const file of walk(path)) out.push(...(await parse(readText(file), file)));
  if (out.length === 0) throw new DumpError(`${path}: the directory holds no .json or .yaml files.`);
  return out;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else if (/\.(json|ya?ml)$/i.test(entry.name)) yield p;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DumpError(`Cannot read dump ${file}: ${(err as Error).message}.`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function parse(text: string, file: string): Promise<Document[]> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return [{ doc: JSON.parse(text), file }];
    } catch (err) {
      throw new DumpError(`${file}: not valid JSON (${(err as Error).message}).`);
    }
  }
  const { parseAllDocuments } = await import('../yaml.js');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Document[] = [];
  for (const d of list) {
    if (d.errors.length > 0) {
      const e = d.errors[0]!;
      const line = e.linePos?.[0]?.line;
      throw new DumpError(`${file}: not valid YAML or JSON${line ? ` (line ${line})` : ''}: ${e.message.split('\n')[0]}.`);
    }
    out.push({ doc: d.toJS({ maxAliasCount: 1000 }), file });
  }
  return out;
}

/** Parses a label-selector string (`a=b,c!=d,e in (x,y),f,!g`) into a LabelSelector. */
export function parseSelector(s: string): StatefulSet['spec']['selector'] {
  const sel: StatefulSet['spec']['selector'] = { matchLabels: {}, matchExpressions: [] };
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) throw new UsageError(`Cannot parse the label selector "${s}".`);
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (depth !== 0) throw new UsageError(`Cannot parse the label selector "${s}".`);
  parts.push(current);
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    let m;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      sel.matchExpressions!.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = /^([\w./-]+)\s*!=\s*(.*)$/.exec(part))) {
      sel.matchExpressions!.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!.trim()] });
    } else if ((m = /^([\w./-]+)\s*==?\s*(.*)$/.exec(part))) {
      sel.matchLabels![m[1]!] = m[2]!.trim();
    } else if ((m = /^!([\w./-]+)$/.exec(part))) {
      sel.matchExpressions!.push({ key: m[1]!, operator: 'DoesNotExist' });
    } else if (/^[\w./-]+$/.test(part)) {
      sel.matchExpressions!.push({ key: part, operator: 'Exists' });
    } else {
      throw new UsageError(`Cannot parse the label selector "${s}".`);
    }
  }
  return sel;
}

const TIME_KEYS = new Set([
  'creationTimestamp',
  'deletionTimestamp',
  'lastTimestamp',
  'firstTimestamp',
  'eventTime',
  'lastObservedTime',
  'lastTransitionTime',
  'lastHeartbeatTime',
  'startedAt',
  'finishedAt',
  'startTime',
]);

/** The newest RFC 3339 timestamp found under any of the usual time fields, or undefined. */
export function newestTimestamp(objects: unknown[]): string | undefined {
  let max = 0;
  const visit = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      if (key && TIME_KEYS.has(key)) {
        const t = Date.parse(v);
        if (!Number.isNaN(t) && t > max) max = t;
      }
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, k);
    }
  };
  for (const o of objects) visit(o);
  return max ? toTimestamp(max) : undefined;
}
