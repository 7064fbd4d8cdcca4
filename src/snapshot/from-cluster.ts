/**
 * Live collection: the only code that reads the cluster. A bounded set of requests issued in
 * parallel (the client keeps at most 8 in flight), independent of the number of replicas:
 *
 *   GET  the StatefulSet (or LIST the namespace's StatefulSets)
 *   LIST pods (by the selectors), PVCs, services, controllerrevisions, resourcequotas,
 *        networkpolicies
 *   LIST events by involvedObject for the StatefulSets and the suspects (eventSubjects: pods not
 *        Ready, claims not Bound; at most 10, else one LIST of the namespace's events), once the
 *        pods and claims are read
 *   LIST storageclasses; nodes, persistentvolumes and volumeattachments by name for a healthy
 *        StatefulSet (namedReads: the nodes by hostname label, GET per PV and attachment, the PV
 *        Table), else LIST (cluster-scoped)
 *   GET  /version, and the Leases of NotReady nodes the pods are on
 *   GET  pods/<pod>/log of failing containers only (readContainerLogs: at most 3 pods per
 *        StatefulSet, 20 per namespace; none for a healthy StatefulSet)
 *   LIST the EndpointSlices of the cluster DNS Service (`--cluster-dns`, default
 *        kube-system/kube-dns) by label, once, only when a replica is Running but not Ready or
 *        in an init container (readClusterDns; none for a healthy StatefulSet)
 *
 * Every request is retried by the client on transient failures (src/kube/client.ts). A side
 * read that still fails becomes a Gap in the Snapshot (see gapFor: 403, 404, unavailable, over a
 * cap); a failure to read the StatefulSet itself is fatal (401, 403, unreachable: one sentence,
 * exit code 2), and so is a transient failure of the pods or claims (CORE_READS). With `-A`
 * (collectAllNamespaces) one LIST of StatefulSets in all namespaces, the cluster-scoped reads
 * once, and the namespaced LISTs per namespace that holds a matching StatefulSet.
 */
import { ApiError, NotFoundError, ResponseLimitError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type {
  ContainerLog,
  ControllerRevision,
  EndpointSlice,
  Gap,
  KubeEvent,
  Lease,
  NetworkPolicy,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReadScope,
  ResourceName,
  ResourceQuota,
  ScopedResource,
  Service,
  ServiceName,
  Snapshot,
  StatefulSet,
  StorageClass,
  VolumeAttachment,
} from './types.js';
import { RESOURCE_TYPES, resourcePath, SERVICE_NAME_LABEL } from './types.js';
import { createHash } from 'node:crypto';
import { claimOrdinal, clusterDnsSuspects, condition, DEFAULT_CLUSTER_DNS, HOSTNAME_LABEL, hostTermNodes, isRunningAndReady, podBelongsTo, RECOVERY_EVENT_REASON, selectorString, toTimestamp } from './view.js';
import { trimSnapshot } from './normalize.js';
import { checkStatefulSet } from './schema.js';
import { boundLog, LOG_LIMIT_BYTES, LOG_REFRESH_SECONDS, LOG_TAIL_LINES, logRequests, type LogRequest } from './logs.js';

export interface CollectOptions {
  namespace: string;
  /** One StatefulSet by name; when absent, every StatefulSet in the namespace (optionally filtered by `labelSelector`). */
  name?: string;
  /** `-l/--selector` on StatefulSets when no name is given. */
  labelSelector?: string;
  /** Clock for `snapshot.now` (RFC 3339); default the local clock. */
  now?: string;
  context?: string;
  /** `false`: read no container logs (`snapshot --no-logs`); a `podlogs` gap says so. Default true. */
  logs?: boolean;
  /** The cluster DNS Service (`--cluster-dns`); default {@link DEFAULT_CLUSTER_DNS}. */
  clusterDns?: ServiceName;
}

type NamespacedResource = 'pods' | 'persistentvolumeclaims' | 'events' | 'services' | 'controllerrevisions' | 'resourcequotas' | 'networkpolicies' | 'endpointslices';
type ClusterResource = 'nodes' | 'persistentvolumes' | 'storageclasses' | 'volumeattachments';

/** What collectFromCluster lists (with the StatefulSets; the Leases are read by name). */
const LISTED: (NamespacedResource | ClusterResource)[] = ['pods', 'persistentvolumeclaims', 'events', 'services', 'controllerrevisions', 'resourcequotas', 'networkpolicies', 'endpointslices', 'nodes', 'persistentvolumes', 'storageclasses', 'volumeattachments'];

const enc = encodeURIComponent;

/**
 * Turns a failed read of the StatefulSets themselves into one sentence: these reads are the
 * only fatal ones. 401: credentials rejected; 403: forbidden; others pass through.
 */
function statefulSetReadError(err: unknown, what: string): unknown {
  if (!(err instanceof ApiError) || err.status === undefined) return err;
  const detail = err.message.replace(/^\S+ \S+: /, '');
  if (err.status === 401) return new ApiError(`The API server rejected the credentials (401 Unauthorized) while reading ${what}: the kubeconfig's token or client certificate is not valid or has expired.`, 401, { cause: err });
  if (err.status === 403) return new ApiError(`Forbidden to read ${what} (403): ${detail.replace(/^403 Forbidden: /, '').replace(/\.?$/, '.')}`, 403, { cause: err });
  return err;
}

/**
 * Reads the diagnosis cannot do without besides the StatefulSet: a transient failure of these
 * (unreachable, 429, 5xx after the client's retries) is fatal, never a gap, so that a `wait` round
 * during an outage cannot pass on the StatefulSet's status alone. 403/404 stay gaps.
 */
const CORE_READS: ReadonlySet<NamespacedResource | ClusterResource> = new Set(['pods', 'persistentvolumeclaims']);

/**
 * The Gap for a failed side read, or undefined when the failure is fatal: 403 `forbidden`,
 * 404 `not-found`, a transient failure after retries `unavailable` (except for the
 * {@link CORE_READS}), an answer over the client's byte or page cap `error`. Credentials
 * rejected (401) and failures that are not ApiErrors (a plugin, a kubeconfig) stay fatal.
 */
export function gapFor(resource: NamespacedResource | ClusterResource, err: unknown): Gap | undefined {
  if (!(err instanceof ApiError)) return undefined;
  if (err.status === 403 || err.status === 404) {
    return { resource, reason: err.status === 404 ? 'not-found' : 'forbidden', message: `${resource}: ${err.status === 404 ? 'not served by this cluster' : 'forbidden'} (${err.message})` };
  }
  if (err.status === 401) return undefined;
  if (err instanceof ResponseLimitError) return CORE_READS.has(resource) ? undefined : { resource, reason: 'error', message: `${resource}: not read (${err.message})` };
  if (CORE_READS.has(resource)) return undefined;
  if (err.transient) return { resource, reason: 'unavailable', message: `${resource}: unavailable (${err.message})` };
  return { resource, reason: 'error', message: `${resource}: not read (${err.message})` };
}

/** Lists one resource; a failure that {@link gapFor} turns into a Gap is pushed to `gaps` and gives an empty list. */
async function readOrGap<T>(client: KubeClient, resource: NamespacedResource | ClusterResource, ns: string, gaps: Gap[], query: Record<string, string | undefined> = {}): Promise<T[]> {
  try {
    return await client.list<T>(resourcePath(resource, ns), query);
  } catch (err) {
    const gap = gapFor(resource, err);
    if (!gap) throw err;
    gaps.push(gap);
    return [];
  }
}

/**
 * A read started now and awaited later, held as a promise that never rejects: when another read
 * fails first and its caller returns early, this one's failure cannot escape as an unhandled
 * rejection (a crash with a stack trace). {@link unsettle} gives the value or throws the error.
 */
type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;

function settle<T>(p: Promise<T>): Settled<T> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function unsettle<T>(p: Settled<T>): Promise<T> {
  const r = await p;
  if (r.ok) return r.value;
  throw r.error;
}

interface ClusterReads {
  nodes: Node[];
  persistentVolumes: PersistentVolume[];
  storageClasses: StorageClass[];
  volumeAttachments: VolumeAttachment[];
  gaps: Gap[];
  version: string | undefined;
  /** Set when nodes, PVs and attachments were read by name only (types.ts ReadScope). */
  scope?: Partial<Record<ScopedResource, ReadScope>>;
}

/** The reads that never depend on the pods: storage classes and GET /version (2 requests). */
interface BaseReads {
  storageClasses: StorageClass[];
  gaps: Gap[];
  version: string | undefined;
}

async function readBase(client: KubeClient): Promise<BaseReads> {
  const gaps: Gap[] = [];
  const [storageClasses, version] = await Promise.all([
    readOrGap<StorageClass>(client, 'storageclasses', '', gaps),
    client.get<{ gitVersion?: string }>('/version').catch(() => undefined),
  ]);
  return { storageClasses, gaps, version: version?.gitVersion };
}

/** Nodes, PVs and attachments listed whole (3 LISTs, paged by 500). */
async function readWhole(client: KubeClient): Promise<Pick<ClusterReads, 'nodes' | 'persistentVolumes' | 'volumeAttachments' | 'gaps'>> {
  const gaps: Gap[] = [];
  const [nodes, persistentVolumes, volumeAttachments] = await Promise.all([
    readOrGap<Node>(client, 'nodes', '', gaps),
    readOrGap<PersistentVolume>(client, 'persistentvolumes', '', gaps),
    readOrGap<VolumeAttachment>(client, 'volumeattachments', '', gaps),
  ]);
  return { nodes, persistentVolumes, volumeAttachments, gaps };
}

/** The cluster-scoped reads listed whole (nodes, PVs, classes, attachments) and GET /version: 5 requests. */
async function readClusterScoped(client: KubeClient): Promise<ClusterReads> {
  const [base, whole] = await Promise.all([readBase(client), readWhole(client)]);
  return { ...whole, storageClasses: base.storageClasses, version: base.version, gaps: [...whole.gaps, ...base.gaps] };
}

/** PVs read by name at once, beside the PV Table (one GET each), whatever the size of the cluster. */
export const MAX_NAMED_READS = 20;

/** Most nodes read by name: one LIST by hostname label, whose URL grows with each name; with more, nodes are listed whole. */
export const MAX_NAMED_NODES = 100;

/** Most PVs read by name at all (one GET each); with more, PVs are listed whole. */
export const MAX_NAMED_PVS = 1000;

/**
 * PVs read by name (one GET each) cost about as much as listing {@link PV_LIST_RATIO} times as
 * many: measured on the test control plane (2 cores, 4,000 PVs, keep-alive), a LIST page of 500
 * PVs took 11–14 ms of wall time and 12–16 ms of CPU (client and API server), one GET of one PV
 * 0.5–0.6 ms and 0.6–1.1 ms: a page costs what 20–25 GETs cost.
 */
export const PV_LIST_RATIO = 20;

/**
 * Whether `wanted` PVs are read by name (one GET each) rather than by listing the cluster's
 * `clusterPVs` PVs (pages of 500): always for at most {@link MAX_NAMED_READS}; otherwise while
 * they are at most {@link MAX_NAMED_PVS} and at most 1/{@link PV_LIST_RATIO} of the cluster's.
 * A StatefulSet that owns most of the cluster's PVs lists them, a small one in a big cluster
 * reads its own.
 */
export function pvsByName(wanted: number, clusterPVs: number): boolean {
  return wanted <= MAX_NAMED_READS || (wanted <= MAX_NAMED_PVS && wanted * PV_LIST_RATIO <= clusterPVs);
}

/** The cluster-scoped objects a healthy StatefulSet's pods and claims name. */
export interface NamedReads {
  /** The nodes the pods are on. */
  nodes: string[];
  /** The PVs the claims are bound to (`spec.volumeName`). */
  persistentVolumes: string[];
}

/**
 * The pods of `statefulSets` and the claims their pods or claim templates name: the objects the
 * events read and the by-name reads start from.
 */
function ownObjects(statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[]): { pods: Pod[]; claims: PersistentVolumeClaim[] } {
  const own = pods.filter((p) => statefulSets.some((s) => podBelongsTo(p, s)));
  const claimNames = new Set<string>();
  for (const p of own) for (const v of p.spec.volumes ?? []) if (v.persistentVolumeClaim) claimNames.add(v.persistentVolumeClaim.claimName);
  const ownClaims = claims.filter((c) => claimNames.has(c.metadata.name) || statefulSets.some((s) => claimOrdinal(s, c.metadata.name) !== undefined));
  return { pods: own, claims: ownClaims };
}

/**
 * The nodes and PVs to read by name instead of listing the cluster's, or undefined when the
 * diagnosis may need more than the objects the StatefulSets name, and nodes, PVs and
 * VolumeAttachments are listed whole as before. By name only when every StatefulSet has all its
 * replicas (`spec.replicas` pods), every pod is Running and Ready on a node, every claim is
 * Bound to a named PV, and there are at most {@link MAX_NAMED_NODES} nodes and
 * {@link MAX_NAMED_PVS} PVs (more than {@link MAX_NAMED_READS} PVs are read by name only when
 * few beside the cluster's: see pvsByName, decided once the PV Table is read). Otherwise a
 * rule or plan may ask what the names cannot answer: whether any Available PV could bind a
 * claim (pvc-unbound's bind pre-check, the planner's newClaimBinding), which node has the most
 * allocatable (unschedulable), which nodes hold a volume (multi-attach), whether a node is gone
 * (node-lost). What the named objects themselves show can still require the whole lists: see
 * {@link needsWholeReads}.
 */
export function namedReads(statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[]): NamedReads | undefined {
  if (statefulSets.length === 0) return undefined;
  const own = ownObjects(statefulSets, pods, claims);
  for (const s of statefulSets) if (own.pods.filter((p) => podBelongsTo(p, s)).length !== (s.spec.replicas ?? 1)) return undefined;
  if (!own.pods.every((p) => isRunningAndReady(p) && p.spec.nodeName)) return undefined;
  if (!own.claims.every((c) => c.status?.phase === 'Bound' && c.spec.volumeName)) return undefined;
  const nodes = [...new Set(own.pods.map((p) => p.spec.nodeName!))].sort();
  const persistentVolumes = [...new Set(own.claims.map((c) => c.spec.volumeName!))].sort();
  if (nodes.length > MAX_NAMED_NODES || persistentVolumes.length > MAX_NAMED_PVS) return undefined;
  return { nodes, persistentVolumes };
}

/** What the by-name reads found: the objects, and the PV index (the Table of every PV: name, status, claim). */
export interface NamedResult {
  nodes: Node[];
  persistentVolumes: PersistentVolume[];
  /** The Released PVs of the cluster whose claim (`<namespace>/<name>`) is one of the StatefulSets' claims, from the PV Table. */
  releasedForSets: string[];
}

/**
 * True when what the by-name reads found is not enough for the diagnosis, so that nodes, PVs
 * and attachments must be listed whole after all: a named node or PV does not exist (404); a
 * node is not Ready, is cordoned, or has a `node.kubernetes.io/` taint (node-lost,
 * out-of-service-taint and the plans look at the other nodes then); a PV is not Bound, or its
 * node affinity is not a list of host names among the nodes read (pinnedNodes would scan every
 * node's labels); a Released PV names one of the StatefulSets' claims (released-volume reads
 * it); or the StatefulSets' events hold an sts-doctor recovery event (out-of-service-taint reads
 * the nodes those name).
 */
export function needsWholeReads(named: NamedReads, found: NamedResult, events: KubeEvent[]): boolean {
  if (found.nodes.length !== named.nodes.length || found.persistentVolumes.length !== named.persistentVolumes.length) return true;
  for (const n of found.nodes) {
    if (condition(n.status?.conditions, 'Ready')?.status !== 'True' || n.spec?.unschedulable) return true;
    if ((n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'))) return true;
  }
  for (const pv of found.persistentVolumes) {
    if (pv.status?.phase !== 'Bound') return true;
    for (const term of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
      const hosts = hostTermNodes(term);
      if (!hosts || !hosts.every((h) => named.nodes.includes(h))) return true;
    }
  }
  if (found.releasedForSets.length) return true;
  return events.some((e) => e.involvedObject.kind === 'StatefulSet' && e.reason === RECOVERY_EVENT_REASON);
}

/**
 * The name the attach-detach controller's CSI attacher gives the VolumeAttachment of CSI volume
 * `pv` on node `node`: `csi-<sha256(volumeHandle + driver + node)>` (Kubernetes
 * pkg/volume/csi/csi_attacher.go, getAttachmentName). Undefined for a PV that is not CSI
 * (in-tree volumes have no VolumeAttachment unless migrated to CSI; a migrated PV then names its
 * driver in the attachment, which only the whole list shows).
 */
export function attachmentName(pv: PersistentVolume, node: string): string | undefined {
  const csi = pv.spec.csi;
  if (!csi?.driver || !csi.volumeHandle) return undefined;
  return `csi-${createHash('sha256').update(`${csi.volumeHandle}${csi.driver}${node}`).digest('hex')}`;
}

/** GETs one cluster-scoped object; undefined when it does not exist (404). */
async function getIfExists<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** `kind` and `apiVersion` of `resource` on an object read with GET, and no managedFields (as a LIST's items are trimmed). */
function withListKind<T extends { apiVersion?: string; kind?: string; metadata: object }>(o: T, resource: ResourceName): T {
  o.apiVersion ??= RESOURCE_TYPES[resource].apiVersion;
  o.kind ??= RESOURCE_TYPES[resource].kind;
  delete (o.metadata as Record<string, unknown>).managedFields;
  return o;
}

/** A label value (RFC 1123-ish, at most 63 characters): what a set-based label selector can name. */
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * The nodes named `names`, or undefined for one that does not exist: one LIST by the label the
 * kubelet sets to its hostname (`kubernetes.io/hostname in (a,b,c)`, which is the node's name on
 * kubeadm, kind, KWOK and most clouds), keeping the nodes of those names; then one GET for each
 * name the LIST did not give (a hostname label that differs from the node name, a name too long
 * for a label value).
 */
async function readNodesByName(client: KubeClient, names: string[]): Promise<(Node | undefined)[]> {
  const labelled = names.filter((n) => LABEL_VALUE.test(n));
  const listed = labelled.length ? await client.list<Node>(resourcePath('nodes'), { labelSelector: `${HOSTNAME_LABEL} in (${labelled.join(',')})` }) : [];
  const byName = new Map(listed.filter((n) => names.includes(n.metadata?.name)).map((n) => [n.metadata.name, n]));
  return Promise.all(names.map((n) => byName.get(n) ?? getIfExists<Node>(client, `${resourcePath('nodes')}/${enc(n)}`)));
}

/**
 * The by-name reads of {@link namedReads}: the nodes ({@link readNodesByName}: one LIST by
 * hostname label), one GET per PV, and the PV Table (one LIST as `kubectl get pv` prints it,
 * without the objects: enough to see whether a Released PV names one of the StatefulSets'
 * claims), issued together; with more than {@link MAX_NAMED_READS} PVs the Table first, and the
 * rest only when the PVs are few beside the cluster's (pvsByName); then, for each CSI PV, one GET of its
 * attachment on its pod's node ({@link attachmentName}; none for other volumes). Undefined when
 * the whole lists are needed after all ({@link needsWholeReads}), or when any of these reads
 * fails: the whole LISTs then make the same gaps as before.
 */
async function readNamed(client: KubeClient, ns: string, statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[], named: NamedReads, events: Promise<KubeEvent[]>): Promise<Pick<ClusterReads, 'nodes' | 'persistentVolumes' | 'volumeAttachments' | 'gaps'> | undefined> {
  try {
    const getPV = (n: string): Promise<PersistentVolume | undefined> => getIfExists<PersistentVolume>(client, `${resourcePath('persistentvolumes')}/${enc(n)}`);
    const few = named.persistentVolumes.length <= MAX_NAMED_READS;
    // More PVs than that: the Table first, which says how many the cluster has (pvsByName).
    const early = few ? undefined : await client.listTable(resourcePath('persistentvolumes'));
    if (early && !pvsByName(named.persistentVolumes.length, early.rows.length)) return undefined;
    const [nodes, persistentVolumes, table] = await Promise.all([
      readNodesByName(client, named.nodes),
      Promise.all(named.persistentVolumes.map(getPV)),
      early ?? client.listTable(resourcePath('persistentvolumes')),
    ]);
    const col = (name: string): number => table.columns.indexOf(name);
    const [status, claim] = [col('Status'), col('Claim')];
    if (status < 0 || claim < 0) return undefined;
    const releasedForSets = table.rows
      .filter((r) => r[status] === 'Released' && typeof r[claim] === 'string')
      .map((r) => String(r[claim]).split('/'))
      .filter(([cns, cname]) => cns === ns && !!cname && statefulSets.some((s) => claimOrdinal(s, cname) !== undefined))
      .map(([, cname]) => cname!);
    const found: NamedResult = {
      nodes: nodes.filter((n): n is Node => !!n).map((n) => withListKind(n, 'nodes')),
      persistentVolumes: persistentVolumes.filter((p): p is PersistentVolume => !!p).map((p) => withListKind(p, 'persistentvolumes')),
      releasedForSets,
    };
    if (needsWholeReads(named, found, await events)) return undefined;
    const own = ownObjects(statefulSets, pods, claims);
    const nodeOfClaim = new Map<string, string>();
    for (const p of own.pods) for (const v of p.spec.volumes ?? []) if (v.persistentVolumeClaim && p.spec.nodeName) nodeOfClaim.set(v.persistentVolumeClaim.claimName, p.spec.nodeName);
    const wanted = new Set<string>();
    for (const c of own.claims) {
      const pv = found.persistentVolumes.find((x) => x.metadata.name === c.spec.volumeName);
      const node = nodeOfClaim.get(c.metadata.name);
      const name = pv && node ? attachmentName(pv, node) : undefined;
      if (name) wanted.add(name);
    }
    const attachments = await Promise.all([...wanted].sort().map((n) => getIfExists<VolumeAttachment>(client, `${resourcePath('volumeattachments')}/${enc(n)}`)));
    return {
      nodes: found.nodes,
      persistentVolumes: found.persistentVolumes,
      volumeAttachments: attachments.filter((a): a is VolumeAttachment => !!a).map((a) => withListKind(a, 'volumeattachments')),
      gaps: [],
    };
  } catch (err) {
    // Credentials rejected stay fatal; any other failure (403, an outage, no Table): list whole.
    if (err instanceof ApiError && err.status !== 401) return undefined;
    throw err;
  }
}

/**
 * The cluster-scoped reads of one namespace's snapshot: by name ({@link readNamed}, scope
 * `named`) when {@link namedReads} allows it and what they find suffices, else listed whole
 * (scope `all`), started once the pods and claims are read; storage classes and /version from `base`.
 */
async function readClusterFor(client: KubeClient, ns: string, statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[], events: Promise<KubeEvent[]>, base: Settled<BaseReads>): Promise<ClusterReads> {
  const named = namedReads(statefulSets, pods, claims);
  const byName = named ? await readNamed(client, ns, statefulSets, pods, claims, named, events) : undefined;
  const reads = byName ?? (await readWhole(client));
  const b = await unsettle(base);
  const out: ClusterReads = { ...reads, storageClasses: b.storageClasses, version: b.version, gaps: [...reads.gaps, ...b.gaps] };
  if (byName) out.scope = { nodes: 'named', persistentvolumes: 'named', volumeattachments: 'named' };
  return out;
}

/** Where a namespace's cluster-scoped reads come from: shared whole LISTs (`-A`), or read for its pods and claims. */
type ClusterSource = (pods: Pod[], claims: PersistentVolumeClaim[], events: Promise<KubeEvent[]>) => Promise<ClusterReads>;

/**
 * The namespaced reads for `statefulSets` of namespace `ns`: 6 LISTs, then their events (see
 * readEvents) and the logs of failing containers; independent of replicas. With one
 * StatefulSet, its own events are read at once, beside the LISTs (see readEvents). `afterCore`
 * is called once the reads on the way to the diagnosis (events, pods, claims) are issued, so
 * that the caller's other reads queue behind them.
 */
async function readNamespace(
  client: KubeClient,
  ns: string,
  statefulSets: StatefulSet[],
  cluster: ClusterSource,
  dns: ClusterDnsReader,
  opts: { now?: string | undefined; context?: string | undefined; logs?: boolean | undefined },
  afterCore?: () => void,
): Promise<Snapshot> {
  const gaps: Gap[] = [];
  // With one StatefulSet, pods and revisions are listed by its selector; otherwise the whole namespace.
  const selector = statefulSets.length === 1 ? selectorString(statefulSets[0]!.spec.selector) : undefined;
  // The StatefulSet's events need no other read, and in a busy namespace they are the slowest
  // answer (the API server filters every event of the namespace): asked for first.
  const early = statefulSets.length === 1 ? settle(readSubjectEvents(client, ns, [{ kind: 'StatefulSet', name: statefulSets[0]!.metadata.name }])) : undefined;
  // The suspects (pods, claims) next: the other events reads and the cluster reads start from them.
  const core = Promise.all([readOrGap<Pod>(client, 'pods', ns, gaps, { labelSelector: selector }), readOrGap<PersistentVolumeClaim>(client, 'persistentvolumeclaims', ns, gaps)]);
  const others = Promise.all([
    readOrGap<Service>(client, 'services', ns, gaps),
    readOrGap<ControllerRevision>(client, 'controllerrevisions', ns, gaps, { labelSelector: selector }),
    readOrGap<ResourceQuota>(client, 'resourcequotas', ns, gaps),
    readOrGap<NetworkPolicy>(client, 'networkpolicies', ns, gaps),
  ]);
  afterCore?.();
  const [[pods, persistentVolumeClaims], [services, controllerRevisions, resourceQuotas, networkPolicies]] = await Promise.all([core, others]);
  const eventsRead = readEvents(client, ns, statefulSets, pods, persistentVolumeClaims, gaps, early);
  // Settled: when the events or logs fail first, the cluster reads' failure cannot escape unhandled.
  const clusterRead = settle(cluster(pods, persistentVolumeClaims, eventsRead));
  const [events, containerLogs, clusterDns] = await Promise.all([
    eventsRead,
    opts.logs === false ? undefined : readContainerLogs(client, ns, statefulSets, pods, gaps),
    // Only when a replica shows what a DNS outage would explain: a healthy set costs no request.
    clusterDnsSuspects(statefulSets, pods).length ? dns.read() : undefined,
  ]);
  if (opts.logs === false) gaps.push({ resource: 'podlogs', reason: 'absent', message: 'podlogs: not read (--no-logs)' });
  const c = await unsettle(clusterRead);
  const leases = await readNodeLeases(client, pods, c.nodes, gaps);
  const snapshot: Snapshot = {
    schemaVersion: 1,
    source: { type: 'cluster', server: client.server, requests: client.requests },
    now: opts.now ?? toTimestamp(),
    namespace: ns,
    statefulSets,
    pods,
    persistentVolumeClaims,
    events,
    services,
    controllerRevisions,
    resourceQuotas,
    nodes: c.nodes,
    persistentVolumes: c.persistentVolumes,
    storageClasses: c.storageClasses,
    volumeAttachments: c.volumeAttachments,
    networkPolicies,
    clusterDns: { ...dns.service },
    gaps: [...gaps, ...c.gaps, ...(clusterDns?.gaps ?? []).map((g) => ({ ...g }))],
  };
  if (clusterDns) snapshot.endpointSlices = [...clusterDns.endpointSlices];
  if (c.scope) snapshot.scope = c.scope;
  if (leases.length) snapshot.leases = leases;
  if (containerLogs) snapshot.containerLogs = containerLogs;
  if (opts.context && snapshot.source.type === 'cluster') snapshot.source.context = opts.context;
  if (c.version && snapshot.source.type === 'cluster') snapshot.source.serverVersion = c.version;
  return trimSnapshot(snapshot);
}

/** Most events reads by `involvedObject` per namespace; with more suspects, one LIST of the namespace's events. */
export const MAX_EVENT_READS = 10;

/** One object whose events are read: `involvedObject.kind` and `involvedObject.name`. */
export interface EventSubject {
  kind: 'StatefulSet' | 'Pod' | 'PersistentVolumeClaim';
  name: string;
}

/**
 * The objects whose events the diagnosis reads (the rules read events through
 * SnapshotView.eventsFor only, and normalize.ts trimSnapshot keeps no others): the StatefulSets,
 * their pods that are not Running and Ready, and the claims of the sets that are not Bound.
 * A Running and Ready pod's events are not read (no rule reads them; the pod table then shows
 * no newest event for it). Undefined when there are more than {@link MAX_EVENT_READS}: the
 * namespace's events are then listed whole, as before, and trimmed to the same objects.
 */
export function eventSubjects(statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[]): EventSubject[] | undefined {
  const { pods: own, claims: ownClaims } = ownObjects(statefulSets, pods, claims);
  const byName = (a: { metadata: { name: string } }, b: { metadata: { name: string } }): number => a.metadata.name.localeCompare(b.metadata.name);
  const suspects: EventSubject[] = [
    ...statefulSets.map((s) => ({ kind: 'StatefulSet' as const, name: s.metadata.name })),
    ...own.filter((p) => !isRunningAndReady(p)).sort(byName).map((p) => ({ kind: 'Pod' as const, name: p.metadata.name })),
    ...ownClaims.filter((c) => c.status?.phase !== 'Bound').sort(byName).map((c) => ({ kind: 'PersistentVolumeClaim' as const, name: c.metadata.name })),
  ];
  return suspects.length > MAX_EVENT_READS ? undefined : suspects;
}

/** The events of some subjects, and the gap of the first read that failed (one for all). */
interface SubjectEvents {
  events: KubeEvent[];
  gap: Gap | undefined;
}

/**
 * One LIST per subject with the field selector `involvedObject.kind=<kind>,involvedObject.name=<name>`
 * (as kubectl describe reads them; by name, not uid, so that a recreated pod's predecessor's
 * events count as before), issued together.
 * @throws as readOrGap, for a failure that is not a gap (401, not an ApiError)
 */
async function readSubjectEvents(client: KubeClient, ns: string, subjects: EventSubject[]): Promise<SubjectEvents> {
  const failed: Gap[] = [];
  const lists = await Promise.all(subjects.map((o) => readOrGap<KubeEvent>(client, 'events', ns, failed, { fieldSelector: `involvedObject.kind=${o.kind},involvedObject.name=${o.name}` })));
  return { events: lists.flat(), gap: failed[0] };
}

/**
 * The events of the {@link eventSubjects} (see readSubjectEvents), or one LIST of the
 * namespace's events when there are more suspects than {@link MAX_EVENT_READS}. `early`, the
 * one StatefulSet's own events read before the pods were (readNamespace), stands for its subject;
 * with the namespace's events listed whole it is not used (one request spent, in a failing
 * namespace only). A failure becomes one `events` gap (see gapFor), whatever the number of reads.
 */
async function readEvents(client: KubeClient, ns: string, statefulSets: StatefulSet[], pods: Pod[], claims: PersistentVolumeClaim[], gaps: Gap[], early?: Settled<SubjectEvents>): Promise<KubeEvent[]> {
  const subjects = eventSubjects(statefulSets, pods, claims);
  if (!subjects) return readOrGap<KubeEvent>(client, 'events', ns, gaps);
  const rest = early ? subjects.filter((o) => o.kind !== 'StatefulSet') : subjects;
  const [first, others] = await Promise.all([early ? unsettle(early) : undefined, readSubjectEvents(client, ns, rest)]);
  const gap = first?.gap ?? others.gap;
  if (gap) gaps.push(gap);
  return [...(first?.events ?? []), ...others.events];
}

/** At most this many node Leases are read per snapshot (one GET each). */
const MAX_LEASE_READS = 20;

/**
 * The Leases (kube-node-lease) of the nodes the pods are on whose Ready condition is not True:
 * the kubelet's heartbeat, which diagnosis and plans both read (rules/facts.ts nodeHeartbeat).
 * One GET per such node, at most {@link MAX_LEASE_READS}; a healthy StatefulSet costs none. A
 * 403 becomes a `leases` gap; a missing Lease (404) or another failure is skipped, and the
 * Ready condition's heartbeat stands in.
 */
async function readNodeLeases(client: KubeClient, pods: Pod[], nodes: Node[], gaps: Gap[]): Promise<Lease[]> {
  const notReady = new Set(nodes.filter((n) => n.status?.conditions?.find((x) => x.type === 'Ready')?.status !== 'True').map((n) => n.metadata.name));
  const wanted = [...new Set(pods.map((p) => p.spec.nodeName).filter((n): n is string => !!n && notReady.has(n)))].sort().slice(0, MAX_LEASE_READS);
  const out: Lease[] = [];
  await Promise.all(
    wanted.map(async (name) => {
      try {
        const lease = withListKind(await client.get<Lease>(`${resourcePath('leases', 'kube-node-lease')}/${enc(name)}`), 'leases');
        out.push(lease);
      } catch (err) {
        if (err instanceof ApiError && err.status === 403 && !gaps.some((g) => g.resource === 'leases'))
          gaps.push({ resource: 'leases', reason: 'forbidden', message: `leases: forbidden (${err.message})` });
      }
    }),
  );
  return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** The cluster DNS Service's EndpointSlices as read, and the gap when they could not be read or there are none. */
interface ClusterDnsRead {
  endpointSlices: EndpointSlice[];
  gaps: Gap[];
}

/** Reads the cluster DNS EndpointSlices at most once per process run (`-A` shares one read between namespaces). */
interface ClusterDnsReader {
  service: ServiceName;
  read(): Promise<ClusterDnsRead>;
}

/** A {@link ClusterDnsReader} for `service` whose first `read()` issues the request and later ones share its answer. */
function clusterDnsReader(client: KubeClient, service: ServiceName): ClusterDnsReader {
  let once: Settled<ClusterDnsRead> | undefined;
  return {
    service,
    read: () => unsettle((once ??= settle(readClusterDns(client, service)))),
  };
}

/**
 * The EndpointSlices of the cluster DNS Service `svc`: one `LIST
 * /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices?labelSelector=kubernetes.io/service-name=<name>`
 * (the label the EndpointSlice controller sets; no GET of the Service, no read of the DNS pods:
 * the endpoints' conditions are their readiness). A failure becomes an `endpointslices` gap
 * (see gapFor; forbidden is a gap, never an error). No slice at all is not a finding (clusters
 * name their DNS Service differently) but an `absent` gap that says to pass `--cluster-dns`.
 */
async function readClusterDns(client: KubeClient, svc: ServiceName): Promise<ClusterDnsRead> {
  const readGaps: Gap[] = [];
  const endpointSlices = await readOrGap<EndpointSlice>(client, 'endpointslices', svc.namespace, readGaps, { labelSelector: `${SERVICE_NAME_LABEL}=${svc.name}` });
  const gaps = clusterDnsGaps(svc, endpointSlices.length, readGaps);
  for (const s of endpointSlices) withListKind(s, 'endpointslices');
  return { endpointSlices, gaps };
}

/**
 * The gaps of a read of the cluster DNS Service `svc`'s EndpointSlices: the read's own gaps
 * (`readGaps`: forbidden, unavailable... from gapFor) saying the cluster DNS was not checked, or,
 * when it found no slice (`sliceCount` 0), an `absent` gap with the hint to pass `--cluster-dns`
 * (clusters name their DNS Service differently: never a finding). Pure; shared by the live read
 * and the watch cache (cache.ts).
 */
export function clusterDnsGaps(svc: ServiceName, sliceCount: number, readGaps: Gap[]): Gap[] {
  const what = `the cluster DNS (Service ${svc.namespace}/${svc.name}) was not checked`;
  const gaps = readGaps.map((g) => ({ ...g, message: `${g.message}; ${what}` }));
  if (gaps.length === 0 && sliceCount === 0) {
    gaps.push({ resource: 'endpointslices', reason: 'absent', message: `endpointslices: Service ${svc.namespace}/${svc.name} has no EndpointSlice, so ${what}; if the cluster DNS Service has another name, pass --cluster-dns <namespace>/<service>` });
  }
  return gaps;
}

/**
 * What the log reads of one client (one per process) remember between rounds: `wait` and
 * `recover`'s verify re-collect every `--interval` with the same client, and the logs of a
 * container whose run has not changed need not be read again. Holds the last round's excerpts
 * only (bounded like a round: at most 20), and when `pods/log` was last found forbidden.
 */
interface LogMemo {
  /** The excerpts of the last round by {@link logKey}, with when each was read (ms since the epoch); `log` undefined: the kubelet had none (400/404). */
  excerpts: Map<string, { log: ContainerLog | undefined; readAt: number }>;
  /** The `podlogs` gap of a 403 and when it was seen: no log read is tried again for {@link LOG_REFRESH_SECONDS}. */
  forbidden?: { gap: Gap; at: number };
}

const logMemos = new WeakMap<KubeClient, LogMemo>();

/** The identity of an excerpt: the pod (and uid), the container, and the run it is of. */
function logKey(r: LogRequest): string {
  return `${r.namespace}/${r.pod}/${r.uid ?? ''}/${r.init ? 'init:' : ''}${r.container}/${r.previous ? 'previous' : 'current'}/${r.run}`;
}

/**
 * The last lines of the containers that explain a failure (src/snapshot/logs.ts logRequests: at
 * most 3 pods per StatefulSet, 2 containers per pod, 20 reads in all; none for a healthy
 * StatefulSet): one `GET pods/<pod>/log?container=&previous=&tailLines=&limitBytes=` each, as
 * `kubectl logs [--previous]`. A 400 or 404 (the container has not run, no previous instance,
 * the pod is gone) is skipped; 403 (`pods/log` is its own RBAC resource), an outage or another
 * failure becomes one `podlogs` gap, never an error.
 *
 * In a loop of rounds on one client (`wait`, `recover`'s verify) an excerpt is read again only
 * when the diagnosis needs it: when the container's run changed (a restart, a new pod, another
 * container failing), or after {@link LOG_REFRESH_SECONDS} for a container still running; the
 * log of a previous or terminated run is final and reused as long as that run is the one failing.
 * A 400 or 404 counts as an answer (no log for that run); a 403 is remembered for
 * {@link LOG_REFRESH_SECONDS} (the same gap, no request). A single `diagnose` reads them all.
 */
async function readContainerLogs(client: KubeClient, ns: string, statefulSets: StatefulSet[], pods: Pod[], gaps: Gap[]): Promise<ContainerLog[]> {
  const memo: LogMemo = logMemos.get(client) ?? { excerpts: new Map() };
  logMemos.set(client, memo);
  const now = Date.now();
  const fresh = (readAt: number): boolean => now - readAt < LOG_REFRESH_SECONDS * 1000;
  const requests = logRequests(statefulSets, pods, ns);
  if (requests.length && memo.forbidden && fresh(memo.forbidden.at)) {
    gaps.push({ ...memo.forbidden.gap });
    return [];
  }
  const kept = new Map<string, { log: ContainerLog | undefined; readAt: number }>();
  const out: (ContainerLog | undefined)[] = await Promise.all(
    requests.map(async (r) => {
      const key = logKey(r);
      const known = memo.excerpts.get(key);
      if (known && (r.final || fresh(known.readAt))) {
        kept.set(key, known);
        return known.log && { ...known.log, lines: [...known.log.lines] };
      }
      try {
        const text = await client.getText(`${resourcePath('pods', r.namespace)}/${enc(r.pod)}/log`, { container: r.container, previous: r.previous, tailLines: LOG_TAIL_LINES, limitBytes: LOG_LIMIT_BYTES });
        const log: ContainerLog = { namespace: r.namespace, pod: r.pod, container: r.container, init: r.init, previous: r.previous, ...boundLog(text) };
        if (r.uid) log.uid = r.uid;
        kept.set(key, { log: { ...log, lines: [...log.lines] }, readAt: now });
        return log;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 400 || err.status === 404)) {
          kept.set(key, { log: undefined, readAt: now });
          return undefined;
        }
        if (!(err instanceof ApiError) || err.status === 401) throw err;
        if (!gaps.some((g) => g.resource === 'podlogs')) {
          const reason = err.status === 403 ? 'forbidden' : err.transient ? 'unavailable' : 'error';
          const gap: Gap = { resource: 'podlogs', reason, message: `podlogs: ${reason === 'forbidden' ? 'forbidden' : reason === 'unavailable' ? 'unavailable' : 'not read'} (${err.message})` };
          gaps.push(gap);
          if (reason === 'forbidden') memo.forbidden = { gap: { ...gap }, at: now };
        }
        return undefined;
      }
    }),
  );
  memo.excerpts = kept;
  return out.filter((l): l is ContainerLog => l !== undefined);
}

/** A StatefulSet as read, checked against the schema (schema.ts; throws one sentence) and given its kind. */
function withKind(sts: StatefulSet): StatefulSet {
  checkStatefulSet(sts);
  sts.apiVersion ??= RESOURCE_TYPES.statefulsets.apiVersion;
  sts.kind ??= RESOURCE_TYPES.statefulsets.kind;
  return sts;
}

/**
 * Reads a Snapshot from the cluster: GET or LIST of the StatefulSets, 6 namespaced LISTs, its
 * events, the storage classes LIST and GET /version, issued in parallel after the first; one
 * more events read per suspect (see eventSubjects); then nodes, PVs and attachments by name for
 * a healthy StatefulSet (the nodes by hostname label, one GET per PV and the PV Table: 15
 * requests for 3 replicas; see namedReads), else their 3 LISTs (13 requests with no suspect); and one LIST of the
 * cluster DNS EndpointSlices when a replica is Running but not Ready or in an init container
 * (readClusterDns).
 * @throws NotFoundError when the named StatefulSet does not exist; ApiError when the API server
 *   cannot be reached or the StatefulSet cannot be read (e.g. 401, 403).
 */
export async function collectFromCluster(client: KubeClient, opts: CollectOptions): Promise<Snapshot> {
  const ns = opts.namespace;
  let statefulSets: StatefulSet[];
  if (opts.name) {
    try {
      statefulSets = [withKind(await client.get<StatefulSet>(`${resourcePath('statefulsets', ns)}/${enc(opts.name)}`))];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new NotFoundError(`StatefulSet "${opts.name}" not found in namespace "${ns}"${await namespaceHint(client, ns, opts.name)}.`);
      throw statefulSetReadError(err, `StatefulSet "${opts.name}" in namespace "${ns}"`);
    }
  } else {
    try {
      statefulSets = (await client.list<StatefulSet>(resourcePath('statefulsets', ns), { labelSelector: opts.labelSelector })).map(withKind);
    } catch (err) {
      throw statefulSetReadError(err, `the StatefulSets of namespace "${ns}"`);
    }
  }
  // Storage classes and /version after the namespace's reads (afterCore): nothing waits for them.
  let base: Settled<BaseReads> | undefined;
  const startBase = (): Settled<BaseReads> => (base ??= settle(readBase(client)));
  return readNamespace(client, ns, statefulSets, (pods, claims, events) => readClusterFor(client, ns, statefulSets, pods, claims, events, startBase()), clusterDnsReader(client, opts.clusterDns ?? DEFAULT_CLUSTER_DNS), opts, startBase);
}

/**
 * `-A`: LISTs the StatefulSets of every namespace (optionally by label selector), then reads
 * one Snapshot per namespace that has any. Requests: 1 + 5 cluster-scoped + per such namespace
 * 6 LISTs and the events reads, independent of replicas; at most 8 in flight. Returns [] when no StatefulSet matches.
 * @throws ApiError when the API server cannot be reached or listing StatefulSets cluster-wide
 *   is not allowed.
 */
export async function collectAllNamespaces(client: KubeClient, opts: Omit<CollectOptions, 'namespace' | 'name'>): Promise<Snapshot[]> {
  let all: StatefulSet[];
  try {
    all = (await client.list<StatefulSet>(resourcePath('statefulsets'), { labelSelector: opts.labelSelector })).map(withKind);
  } catch (err) {
    throw statefulSetReadError(err, 'StatefulSets in all namespaces');
  }
  const byNs = new Map<string, StatefulSet[]>();
  for (const s of all) {
    const ns = s.metadata.namespace ?? 'default';
    byNs.set(ns, [...(byNs.get(ns) ?? []), s]);
  }
  if (byNs.size === 0) return [];
  const cluster = settle(readClusterScoped(client));
  const now = opts.now ?? toTimestamp();
  const namespaces = [...byNs.keys()].sort();
  const dns = clusterDnsReader(client, opts.clusterDns ?? DEFAULT_CLUSTER_DNS);
  // The cluster-scoped objects are listed whole, once, for every namespace (scope `all`).
  return Promise.all(namespaces.map((ns) => readNamespace(client, ns, byNs.get(ns)!, () => unsettle(cluster), dns, { now, context: opts.context, logs: opts.logs })));
}

/**
 * Where to look instead, for a not-found message (issued on the not-found path only, at most two
 * reads): whether namespace `ns` exists (GET of the namespace), and with `name` the namespaces
 * holding a StatefulSet of that name (LIST of StatefulSets in all namespaces by
 * `metadata.name`). A read that fails (forbidden, unreachable) is left out of the hint.
 * @returns `""` or a clause starting with `; `, e.g. `; namespace "x" does not exist; a StatefulSet named "quiz" exists in namespace "demo"`
 */
export async function namespaceHint(client: KubeClient, ns: string, name?: string): Promise<string> {
  const [exists, elsewhere] = await Promise.all([
    client.get(`/api/v1/namespaces/${enc(ns)}`).then(
      () => true,
      (err: unknown) => (err instanceof ApiError && err.status === 404 ? false : undefined),
    ),
    name
      ? client.list<StatefulSet>(resourcePath('statefulsets'), { fieldSelector: `metadata.name=${name}` }).then(
          // Closest to the namespace asked for first (the longest common prefix: a typo keeps the start).
          (list) => [...new Set(list.map((s) => s?.metadata?.namespace).filter((n): n is string => typeof n === 'string' && n !== ns))].sort((a, b) => commonPrefix(b, ns) - commonPrefix(a, ns) || a.localeCompare(b)),
          () => undefined,
        )
      : undefined,
  ]);
  const parts: string[] = [];
  if (exists === false) parts.push(`namespace "${ns}" does not exist`);
  if (elsewhere?.length) {
    const shown = elsewhere.slice(0, 10).map((n) => `"${n}"`).join(', ');
    parts.push(`a StatefulSet named "${name}" exists in namespace${elsewhere.length > 1 ? 's' : ''} ${shown}${elsewhere.length > 10 ? ` and ${elsewhere.length - 10} more` : ''}`);
  }
  return parts.length ? `; ${parts.join('; ')}` : '';
}

/** The length of the common prefix of `a` and `b`. */
function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Exposed for tests: every object kind a live collection reads. */
export const COLLECTED_RESOURCES: ResourceName[] = ['statefulsets', ...LISTED];

