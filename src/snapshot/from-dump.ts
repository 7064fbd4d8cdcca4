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
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { DumpError, NotFoundError, UsageError } from '../errors.js';
import { SNAPSHOT_FIELDS, type ContainerLog, type Gap, type KubeObject, type ResourceName, type ServiceName, type Snapshot, type StatefulSet } from './types.js';
import { trimSnapshot } from './normalize.js';
import { checkStatefulSet, invalidHeader } from './schema.js';
import { DEFAULT_CLUSTER_DNS, selectorMatches, toTimestamp } from './view.js';

/**
 * The largest dump read, in bytes: every file of a directory together, or standard input
 * (256 MiB; `STS_DOCTOR_MAX_DUMP_BYTES` changes it). A 50,000-event dump is about 40 MB.
 */
export const MAX_DUMP_BYTES = Number(process.env.STS_DOCTOR_MAX_DUMP_BYTES) || 256 * 1024 * 1024;
/** How many nodes YAML aliases may add to a document when expanded (a "billion laughs" is refused). */
export const MAX_ALIAS_EXPANSION = 10_000;

/** The header `sts-doctor snapshot` writes beside `items`. */
export interface DumpHeader {
  schemaVersion: 1;
  now: string;
  namespace: string;
  source?: Snapshot['source'];
  gaps: Gap[];
  /**
   * The resources the snapshot read (those not in `gaps` were read in full). Written since
   * NetworkPolicies are read; a header without it read {@link ORIGINAL_RESOURCES}.
   */
  read?: ResourceName[];
  /**
   * The container log excerpts the snapshot read (types.ts ContainerLog, every namespace of the
   * snapshot together); absent when it read none (`--no-logs`, or an older sts-doctor). Checked
   * and bounded when loaded (normalize.ts validateSnapshot).
   */
  containerLogs?: ContainerLog[];
  /** The cluster DNS Service whose EndpointSlices the dump holds (`--cluster-dns`); absent in older dumps (kube-system/kube-dns then). */
  clusterDns?: ServiceName;
  /**
   * The cluster-scoped resources read by name only (types.ts ReadScope); absent in dumps of
   * `-A`, of unhealthy StatefulSets and of older versions: every object was listed.
   */
  scope?: Snapshot['scope'];
}

/** What `sts-doctor snapshot` read before its header listed `read`: a newer resource is absent from such a dump. */
const ORIGINAL_RESOURCES: ResourceName[] = ['statefulsets', 'pods', 'persistentvolumeclaims', 'events', 'services', 'controllerrevisions', 'resourcequotas', 'nodes', 'persistentvolumes', 'storageclasses', 'volumeattachments'];

export interface DumpOptions {
  name?: string | undefined;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  now?: string | undefined;
  /** `-A`: one Snapshot per namespace that holds a matching StatefulSet. */
  allNamespaces?: boolean | undefined;
  /** `--cluster-dns`: the cluster DNS Service whose EndpointSlices to use; default the header's, else kube-system/kube-dns. */
  clusterDns?: ServiceName | undefined;
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
  NetworkPolicy: 'networkpolicies',
  Lease: 'leases',
  EndpointSlice: 'endpointslices',
};

const RESOURCE_FIELD: Record<ResourceName, keyof Snapshot> = SNAPSHOT_FIELDS;

// Leases live in kube-node-lease and the cluster DNS EndpointSlices in the DNS Service's namespace,
// not in the StatefulSet's: kept like cluster-scoped objects (normalize.ts keeps the DNS Service's only).
const CLUSTER_SCOPED: ResourceName[] = ['nodes', 'persistentvolumes', 'storageclasses', 'volumeattachments', 'leases', 'endpointslices'];
/** Resources older dumps lack and the rules can do without: never an `absent` gap (the Ready heartbeat stands in for Leases; the cluster DNS is read only for suspects). */
const OPTIONAL: ResourceName[] = ['leases', 'endpointslices'];

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
  const allSets = (byResource.get('statefulsets') ?? []).map((s, i) => checkStatefulSet(s, i));
  if (allSets.length === 0) {
    if (clusterInfo) {
      throw new DumpError(
        `${path} is a kubectl cluster-info dump, which does not include StatefulSets: add them with "kubectl get statefulsets -n <namespace> -o json > ${join(path, '<namespace>', 'statefulsets.json')}", or use sts-doctor snapshot.`,
      );
    }
    throw new DumpError(`${path}: the dump holds no StatefulSet.`);
  }
  const selector = opts.labelSelector ? parseSelector(opts.labelSelector) : undefined;
  const nsOf = (o: KubeObject, fallback: string): string => {
    const ns = (o.metadata as { namespace?: unknown } | undefined)?.namespace;
    return typeof ns === 'string' && ns ? ns : fallback;
  };

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
        const elsewhere = [...new Set(allSets.filter((s) => s.metadata.name === opts.name).map((s) => nsOf(s, 'default')))].sort();
        const has = known.length ? ` (it has: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ` and ${known.length - 10} more` : ''})` : ' (the dump has no StatefulSet in that namespace)';
        const hint = elsewhere.length ? `; a StatefulSet named "${opts.name}" is in namespace${elsewhere.length > 1 ? 's' : ''} ${elsewhere.slice(0, 10).map((n) => `"${n}"`).join(', ')}` : '';
        throw new NotFoundError(`StatefulSet "${opts.name}" is not in the dump for namespace "${ns}"${has}${hint}.`);
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
      networkPolicies: [],
      clusterDns: { ...(opts.clusterDns ?? header?.clusterDns ?? DEFAULT_CLUSTER_DNS) },
      gaps,
    };
    if (header?.containerLogs !== undefined) snapshot.containerLogs = header.containerLogs;
    if (header?.scope && Object.keys(header.scope).length) snapshot.scope = { ...header.scope };
    const dns = snapshot.clusterDns!;
    if (header?.clusterDns && (header.clusterDns.namespace !== dns.namespace || header.clusterDns.name !== dns.name) && !gaps.some((g) => g.resource === 'endpointslices')) {
      // --cluster-dns names another Service than the snapshot read: its slices are not in the dump.
      gaps.push({ resource: 'endpointslices', reason: 'absent', message: `endpointslices: the dump holds the EndpointSlices of Service ${header.clusterDns.namespace}/${header.clusterDns.name}, not of ${dns.namespace}/${dns.name}; the cluster DNS was not checked` });
    }
    for (const [resource, field] of Object.entries(RESOURCE_FIELD) as [ResourceName, keyof Snapshot][]) {
      if (resource === 'statefulsets') continue;
      const list = byResource.get(resource) ?? [];
      const headerRead = header ? (header.read ?? ORIGINAL_RESOURCES).includes(resource) : false;
      if (!OPTIONAL.includes(resource) && !seen.has(resource) && !headerRead && !gaps.some((g) => g.resource === resource)) {
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
    if (d.stsDoctor !== undefined) {
      const why = invalidHeader(d.stsDoctor);
      if (why) throw new DumpError(`${file}: the sts-doctor snapshot header is malformed: ${why}.`);
      header = d.stsDoctor;
    }
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

/**
 * An item of the dump: an object with a `kind` (or the item kind of its typed list). Its fields
 * are checked later, once, by the schema (normalize.ts, schema.ts): an object that does not
 * have the shape of its kind becomes a gap, not an error.
 */
function checkObject(item: unknown, file: string, kind?: string): KubeObject {
  const o = item as KubeObject;
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    throw new DumpError(`${file}: an item is not an object (found ${o === null ? 'null' : Array.isArray(o) ? 'a list' : `a ${typeof o}`}); is this a Kubernetes dump?`);
  }
  if (!o.kind && kind) o.kind = kind;
  if (typeof o.kind !== 'string' && o.kind !== undefined) throw new DumpError(`${file}: an item's kind is not a string; is this a Kubernetes dump?`);
  const m = (o as { metadata?: unknown }).metadata;
  if (!m || typeof m !== 'object' || typeof (m as { name?: unknown }).name !== 'string') {
    // Only the kinds sts-doctor reads are checked further; anything else without a name is not a Kubernetes object.
    if (!KIND_TO_RESOURCE[o.kind ?? '']) throw new DumpError(`${file}: an item has no metadata.name; is this a Kubernetes dump?`);
  }
  return o;
}

interface Document {
  doc: unknown;
  file: string;
}

/** What a non-regular file is called in the refusal. */
function fileType(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The byte budget of one read of a dump (all its files together). */
class Budget {
  used = 0;
  take(bytes: number, what: string): void {
    this.used += bytes;
    if (this.used > MAX_DUMP_BYTES) throw new DumpError(`${what}: the dump is larger than ${Math.round(MAX_DUMP_BYTES / 1024 / 1024)} MiB, the most sts-doctor reads (STS_DOCTOR_MAX_DUMP_BYTES raises it).`);
  }
}

async function readDocuments(path: string): Promise<Document[]> {
  if (path === '') throw new UsageError('--from needs a path (a file, a directory, or - for standard input).');
  const budget = new Budget();
  if (path === '-') return parse(await readStdin(budget), 'standard input');
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new DumpError(`Cannot read dump ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}.`);
  }
  if (!st.isDirectory()) return parse(readText(path, budget), path);
  const out: Document[] = [];
  for (const file of walk(path)) out.push(...(await parse(readText(file, budget), file)));
  if (out.length === 0) throw new DumpError(`${path}: the directory holds no .json or .yaml files.`);
  return out;
}

/** The .json/.yaml/.yml files under `dir`, sorted; symbolic links to directories are not followed. */
function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else if (/\.(json|ya?ml)$/i.test(entry.name)) yield p;
  }
}

/**
 * The text of one dump file. Only regular files are read: a FIFO, a device or a socket is
 * refused from its stat (it is never opened for reading, where a FIFO would block and a device
 * never end), and the file is opened non-blocking and checked again on its descriptor.
 * @throws DumpError for anything else, or a dump over {@link MAX_DUMP_BYTES}
 */
function readText(file: string, budget: Budget): string {
  let fd: number | undefined;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new DumpError(`${file} is ${fileType(st)}; --from reads regular files and directories only.`);
    budget.take(st.size, file);
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw new DumpError(`${file} is ${fileType(fst)}; --from reads regular files and directories only.`);
    return readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof DumpError) throw err;
    throw new DumpError(`Cannot read dump ${file}: ${(err as Error).message}.`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readStdin(budget: Budget): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    budget.take((c as Buffer).length, 'standard input');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Parses one file: JSON when it starts with `{` or `[` (the fast path: `kubectl get -o json`,
 * `sts-doctor snapshot -o json`), else multi-document YAML with js-yaml's core schema (YAML 1.2
 * types: timestamps stay strings). js-yaml is an order of magnitude faster than the `yaml`
 * package's document model on large dumps (a 40 MB, 50,000-event List: ~9 s and ~250 MB instead
 * of ~60 s and 1.8 GB), and shares aliased nodes instead of copying them; the expansion that
 * sharing stands for is bounded by {@link MAX_ALIAS_EXPANSION}.
 */
async function parse(text: string, file: string): Promise<Document[]> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [{ doc: JSON.parse(text) as unknown, file }];
    } catch (err) {
      if (err instanceof DumpError) throw err;
      throw new DumpError(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]}).`);
    }
  }
  const { loadAll, CORE_SCHEMA } = await import('js-yaml');
  let docs: unknown[];
  try {
    docs = loadAll(text, undefined, { schema: CORE_SCHEMA, filename: file });
  } catch (err) {
    const e = err as { reason?: string; mark?: { line?: number }; message: string };
    const line = e.mark?.line !== undefined ? ` (line ${e.mark.line + 1})` : '';
    throw new DumpError(`${file}: not valid YAML or JSON${line}: ${(e.reason ?? e.message).split('\n')[0]}.`);
  }
  // Aliases need anchors (`&name`): a dump without any (kubectl's never has one) is not walked.
  if (/(?:^|[\s[{,:-])&[^\s,[\]{}]/.test(text)) for (const doc of docs) checkShape(doc, file);
  return docs.map((doc) => ({ doc, file }));
}

/**
 * Refuses a YAML document nested more than 1000 levels deep, or whose aliases would expand to
 * more than {@link MAX_ALIAS_EXPANSION} extra nodes (js-yaml shares an aliased node; anything
 * that walks the document would visit it once per alias). Linear in the distinct nodes: each
 * node's expanded size is computed once.
 */
function checkShape(doc: unknown, file: string): void {
  const size = new Map<object, number>();
  let tree = 0;
  const expanded = (v: unknown, depth: number): number => {
    if (!v || typeof v !== 'object') return 1;
    const known = size.get(v);
    if (known !== undefined) return known;
    if (depth > 1000) throw new DumpError(`${file}: the document is nested more than 1000 levels deep.`);
    size.set(v, Infinity); // reached again before it is done: a cycle
    let n = 1;
    tree++;
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      if (!x || typeof x !== 'object') tree++;
      n += expanded(x, depth + 1);
    }
    size.set(v, n);
    return n;
  };
  const added = expanded(doc, 0) - tree;
  if (added > MAX_ALIAS_EXPANSION) {
    throw new DumpError(`${file}: YAML aliases expand the document by ${Number.isFinite(added) ? added.toLocaleString('en-US') : 'an unbounded number of'} nodes; sts-doctor refuses more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')}.`);
  }
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
  const visit = (v: unknown, key?: string, depth = 0): void => {
    if (depth > 1000) return;
    if (typeof v === 'string') {
      if (key && TIME_KEYS.has(key)) {
        const t = Date.parse(v);
        if (!Number.isNaN(t) && t > max) max = t;
      }
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, undefined, depth + 1);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, k, depth + 1);
    }
  };
  for (const o of objects) visit(o);
  return max ? toTimestamp(max) : undefined;
}
