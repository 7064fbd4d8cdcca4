/**
 * A cache of the cluster kept current by watches (informer.ts), from which a Snapshot of any
 * StatefulSet is built without a request: the same Snapshot `collectFromCluster` reads (the
 * same resources, the same normalize step), so that evaluation stays the pure
 * `diagnose(snapshot)` of every command. Used by `serve` (many StatefulSets, for hours) and by
 * the watch loop of `wait` (one StatefulSet, for minutes; see {@link CacheSource}).
 *
 * What is watched (one LIST, then one WATCH each; per watched namespace, or cluster-wide for all):
 * - namespaced: statefulsets, pods, persistentvolumeclaims, services, controllerrevisions,
 *   resourcequotas, networkpolicies, and events filtered by the server to the kinds the rules
 *   read (`fieldSelector=involvedObject.kind=Pod`, `=PersistentVolumeClaim`, `=StatefulSet`:
 *   three watches, never the namespace's every event);
 * - cluster-scoped: nodes, persistentvolumes, storageclasses, volumeattachments;
 * - the cluster DNS Service's EndpointSlices (`--cluster-dns`, default kube-system/kube-dns; by
 *   label `kubernetes.io/service-name`), for cluster-dns-unavailable: in a Snapshot only when a
 *   replica is Running but not Ready (view.ts clusterDnsSuspects), as a live read has them.
 *
 * Bounded memory: every object passes the schema check (schema.ts) and is trimmed as it
 * enters (normalize.ts stripObject: no managedFields, no last-applied annotation, no node image
 * list); pods that another controller owns (a Deployment's, a Job's) are not kept; at most
 * MAX_EVENTS_PER_OBJECT events per involved object (the newest). Leases (every node renews its
 * own every 10 s) and container logs are not read: nodeHeartbeat falls back to the Ready
 * condition's heartbeat, and a `podlogs` gap says the logs were not read.
 *
 * Each change is mapped to the StatefulSets it touches ({@link ClusterCache.touched}) and passed
 * to the listeners; a node change that moved only heartbeat times touches nothing.
 */
import { setMaxListeners } from 'node:events';
import type { KubeClient } from '../kube/client.js';
import { clusterDnsGaps, gapFor } from './from-cluster.js';
import { Informer, keyOf, type InformerChange } from './informer.js';
import { logRequests } from './logs.js';
import { MAX_EVENTS_PER_OBJECT, stripObject, trimSnapshot } from './normalize.js';
import { validateObjects } from './schema.js';
import { RESOURCE_TYPES, resourcePath, SERVICE_NAME_LABEL, type EndpointSlice, type Gap, type KubeEvent, type KubeObject, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type ResourceName, type ServiceName, type Snapshot, type StatefulSet, type VolumeAttachment } from './types.js';
import { claimOrdinal, clusterDnsSuspects, DEFAULT_CLUSTER_DNS, eventTime, podBelongsTo, podOrdinal, toTimestamp } from './view.js';

type Namespaced = 'statefulsets' | 'pods' | 'persistentvolumeclaims' | 'events' | 'services' | 'controllerrevisions' | 'resourcequotas' | 'networkpolicies';
/** Kept like the cluster-scoped objects: the EndpointSlices of the one cluster DNS Service. */
type ClusterScoped = 'nodes' | 'persistentvolumes' | 'storageclasses' | 'volumeattachments' | 'endpointslices';

const NAMESPACED: Namespaced[] = ['statefulsets', 'pods', 'persistentvolumeclaims', 'events', 'services', 'controllerrevisions', 'resourcequotas', 'networkpolicies'];
const CLUSTER_SCOPED: ClusterScoped[] = ['nodes', 'persistentvolumes', 'storageclasses', 'volumeattachments', 'endpointslices'];
/** The involved kinds whose events the rules read (SnapshotView.eventsFor): one server-filtered watch each. */
export const EVENT_KINDS = ['Pod', 'PersistentVolumeClaim', 'StatefulSet'] as const;
/** The resources without which no diagnosis is made: the cache is not ready until they are listed. */
const CORE: ReadonlySet<ResourceName> = new Set(['statefulsets', 'pods', 'persistentvolumeclaims']);

/** What a change touches: StatefulSet keys (`namespace/name`), or every one (`all`). */
export interface Touched {
  keys: Set<string>;
  all: boolean;
}

export interface CacheOptions {
  client: KubeClient;
  /** The namespaces watched; undefined or empty: every namespace (cluster-wide watches). */
  namespaces?: string[] | undefined;
  /** Only StatefulSets by this name (`fieldSelector=metadata.name=`), for `wait <name>`. */
  statefulSetName?: string | undefined;
  /** Only StatefulSets matching this label selector (`-l`). */
  labelSelector?: string | undefined;
  /** The cluster DNS Service whose EndpointSlices are watched (`--cluster-dns`; default kube-system/kube-dns). */
  clusterDns?: ServiceName | undefined;
  /** Watch state changes (a failure, the recovery, a re-list), one line each. */
  log?: ((line: string) => void) | undefined;
}

/** The health of one watch, for metrics: resource, scope (a namespace or `""`), counts. */
export interface WatchHealth {
  resource: string;
  namespace: string;
  synced: boolean;
  restarts: number;
  relists: number;
  lastSyncMs: number;
  error: string | undefined;
}

interface Entry {
  resource: Namespaced | ClusterScoped;
  /** `events/Pod` for the event watches, else the resource. */
  label: string;
  namespace: string;
  informer: Informer<KubeObject>;
}

/** The cache (see the module comment). Call {@link start}, then {@link whenSynced}. */
export class ClusterCache {
  private readonly entries: Entry[] = [];
  private readonly listeners = new Set<(t: Touched) => void>();
  /** Pods by `namespace/<controller StatefulSet name>` (`namespace/` for pods without a controller). */
  private readonly podsBySet = new Map<string, Map<string, Pod>>();
  /** Events by `namespace/kind/name` of the involved object. */
  private readonly eventsByObject = new Map<string, Map<string, KubeEvent>>();
  /** The pod names events are about, by `namespace/<name without its -ordinal>` (a StatefulSet's name for its pods). */
  private readonly podEventNames = new Map<string, Set<string>>();
  /** Objects of every namespaced resource by namespace. */
  private readonly byNamespace = new Map<Namespaced, Map<string, Map<string, KubeObject>>>();
  private readonly cluster = new Map<ClusterScoped, Map<string, KubeObject>>();
  /** Invalid objects seen, one Gap per resource (the last). */
  private readonly invalid = new Map<ResourceName, Gap>();
  /** The cluster DNS Service whose slices are watched. */
  private readonly dns: ServiceName;
  private abort = new AbortController();
  private running: Promise<void>[] = [];

  constructor(private readonly opts: CacheOptions) {
    const scopes = opts.namespaces?.length ? opts.namespaces : [''];
    for (const ns of scopes) {
      const base = (r: Namespaced): string => resourcePath(r, ns);
      for (const r of NAMESPACED) {
        if (r === 'events') {
          for (const kind of EVENT_KINDS) this.add(r, ns, base(r), { fieldSelector: `involvedObject.kind=${kind}` }, `events/${kind}`);
        } else if (r === 'statefulsets') {
          this.add(r, ns, base(r), { fieldSelector: opts.statefulSetName ? `metadata.name=${opts.statefulSetName}` : undefined, labelSelector: opts.labelSelector });
        } else this.add(r, ns, base(r), {});
      }
    }
    for (const r of CLUSTER_SCOPED) if (r !== 'endpointslices') this.add(r, '', resourcePath(r), {});
    this.dns = { ...(opts.clusterDns ?? DEFAULT_CLUSTER_DNS) };
    this.add('endpointslices', '', resourcePath('endpointslices', this.dns.namespace), { labelSelector: `${SERVICE_NAME_LABEL}=${this.dns.name}` });
  }

  private add(resource: Namespaced | ClusterScoped, namespace: string, path: string, query: Record<string, string | undefined>, label: string = resource): void {
    const informer: Informer<KubeObject> = new Informer<KubeObject>({
      client: this.opts.client,
      path,
      query,
      admit: (o) => this.admit(resource, o),
      onChange: (c) => this.changed(resource, informer, c),
      ...(this.opts.log ? { log: this.opts.log } : {}),
    });
    this.entries.push({ resource, label, namespace, informer });
  }

  /** Starts every list+watch; they run until {@link stop}. */
  start(): void {
    this.abort = new AbortController();
    // One listener per watch on the one signal (hundreds with many namespaces): not a leak.
    setMaxListeners(0, this.abort.signal);
    this.running = this.entries.map((e) => e.informer.run(this.abort.signal));
  }

  /** Stops every watch; resolves when they have ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.running);
  }

  /** Resolves when every resource has been listed once (or its LIST failed: see {@link ready}). */
  async whenSynced(): Promise<void> {
    await Promise.all(this.entries.map((e) => e.informer.whenSynced()));
  }

  /**
   * True when the first LIST of every resource has been answered, and the core ones
   * (statefulsets, pods, persistentvolumeclaims) with their objects, not an error.
   */
  ready(): boolean {
    return this.entries.every((e) => e.informer.synced && (!CORE.has(e.resource) || e.informer.lastSyncMs > 0));
  }

  /** The first error of a core resource that was never listed: why the cache is not ready. */
  coreError(): unknown {
    return this.entries.find((e) => CORE.has(e.resource) && e.informer.lastSyncMs === 0 && e.informer.error)?.informer.error;
  }

  /**
   * The error of a core resource's LIST or WATCH that has been failing for `minMs` or more (the
   * store may be stale), if any. A watch that the server ends and that opens again at once is
   * not a failure.
   */
  coreFailure(minMs = 2000): unknown {
    const now = Date.now();
    return this.entries.find((e) => CORE.has(e.resource) && e.informer.error && now - e.informer.errorSinceMs >= minMs)?.informer.error;
  }

  /** One row per watch, for metrics and logs. */
  health(): WatchHealth[] {
    return this.entries.map((e) => ({
      resource: e.label,
      namespace: e.namespace,
      synced: e.informer.synced,
      restarts: e.informer.restarts,
      relists: e.informer.relists,
      lastSyncMs: e.informer.lastSyncMs,
      error: e.informer.error ? (e.informer.error as Error).message : undefined,
    }));
  }

  /** Calls `listener` with what each change touches; returns the function that removes it. */
  onTouch(listener: (t: Touched) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every StatefulSet in the cache, as `namespace/name` keys, sorted. */
  statefulSetKeys(): string[] {
    const out: string[] = [];
    for (const m of this.byNamespace.get('statefulsets')?.values() ?? []) for (const s of m.values()) out.push(`${s.metadata.namespace}/${s.metadata.name}`);
    return out.sort();
  }

  /** The StatefulSets of namespace `ns` in the cache. */
  statefulSets(ns: string): StatefulSet[] {
    return [...(this.byNamespace.get('statefulsets')?.get(ns)?.values() ?? [])] as StatefulSet[];
  }

  /** The namespaces that hold a StatefulSet in the cache, sorted. */
  namespaces(): string[] {
    return [...(this.byNamespace.get('statefulsets')?.keys() ?? [])].filter((ns) => (this.byNamespace.get('statefulsets')?.get(ns)?.size ?? 0) > 0).sort();
  }

  /**
   * A Snapshot of `sets` (all of namespace `ns`), built from the cache without a request: the
   * objects concerning them (indexed: their pods, their objects' events), the namespace's
   * claims, services, revisions, quotas and policies, and the cluster-scoped objects; then
   * normalize.ts trimSnapshot, as a live read. Gaps: a resource whose LIST failed (403 forbidden,
   * unavailable), objects dropped as invalid, and `podlogs` when a full read would have read a
   * failing container's log (a cache reads none).
   * @param now the Snapshot's "now" (RFC 3339; default the local clock)
   */
  snapshot(ns: string, sets: StatefulSet[] = this.statefulSets(ns), now: string = toTimestamp()): Snapshot {
    const nsObjects = <T extends KubeObject>(r: Namespaced): T[] => [...(this.byNamespace.get(r)?.get(ns)?.values() ?? [])] as T[];
    const clusterObjects = <T extends KubeObject>(r: ClusterScoped): T[] => [...(this.cluster.get(r)?.values() ?? [])] as T[];
    const pods: Pod[] = [];
    for (const key of [...new Set(sets.map((s) => `${ns}/${s.metadata.name}`)), `${ns}/`]) for (const p of this.podsBySet.get(key)?.values() ?? []) if (sets.some((s) => podBelongsTo(p, s))) pods.push(p);
    const claims = nsObjects<PersistentVolumeClaim>('persistentvolumeclaims');
    const events: KubeEvent[] = [];
    const eventsOf = (kind: string, name: string): void => {
      for (const e of this.eventsByObject.get(`${ns}/${kind}/${name}`)?.values() ?? []) events.push(e);
    };
    for (const s of sets) eventsOf('StatefulSet', s.metadata.name);
    for (const p of pods) eventsOf('Pod', p.metadata.name);
    // Events of a pod of the set's name that does not exist (now).
    const podNames = new Set(pods.map((p) => p.metadata.name));
    for (const s of sets)
      for (const name of this.podEventNames.get(`${ns}/${s.metadata.name}`) ?? [])
        if (!podNames.has(name) && podOrdinal(s, name) !== undefined) {
          podNames.add(name);
          eventsOf('Pod', name);
        }
    for (const c of claims) eventsOf('PersistentVolumeClaim', c.metadata.name);
    const uids = new Set(sets.map((s) => s.metadata.uid));
    const gaps: Gap[] = [...this.invalid.values()].map((g) => ({ ...g }));
    for (const e of this.entries) {
      if (e.informer.lastSyncMs > 0 || !e.informer.error || (e.namespace && e.namespace !== ns)) continue;
      const resource = e.resource;
      if (resource === 'statefulsets' || resource === 'endpointslices') continue;
      const gap = gapFor(resource, e.informer.error) ?? { resource, reason: 'unavailable' as const, message: `${resource}: unavailable (${(e.informer.error as Error).message})` };
      if (!gaps.some((g) => g.resource === gap.resource)) gaps.push(gap);
    }
    // The cluster DNS slices, as the live read has them: only when a replica is not Ready.
    let endpointSlices: EndpointSlice[] | undefined;
    if (clusterDnsSuspects(sets, pods).length) {
      const dnsEntry = this.entries.find((e) => e.resource === 'endpointslices');
      const err = dnsEntry?.informer.lastSyncMs ? undefined : dnsEntry?.informer.error;
      endpointSlices = err ? [] : clusterObjects<EndpointSlice>('endpointslices');
      const readGaps: Gap[] = err ? [gapFor('endpointslices', err) ?? { resource: 'endpointslices', reason: 'unavailable', message: `endpointslices: unavailable (${(err as Error).message})` }] : [];
      gaps.push(...clusterDnsGaps(this.dns, endpointSlices.length, readGaps));
    }
    const snapshot: Snapshot = {
      schemaVersion: 1,
      source: { type: 'cluster', server: this.opts.client.server, requests: this.opts.client.requests },
      now,
      namespace: ns,
      statefulSets: [...sets],
      pods,
      persistentVolumeClaims: claims,
      events,
      services: nsObjects('services'),
      controllerRevisions: nsObjects<KubeObject>('controllerrevisions').filter((r) => r.metadata.ownerReferences?.some((o) => uids.has(o.uid))) as Snapshot['controllerRevisions'],
      resourceQuotas: nsObjects('resourcequotas'),
      nodes: clusterObjects('nodes'),
      persistentVolumes: clusterObjects('persistentvolumes'),
      storageClasses: clusterObjects('storageclasses'),
      volumeAttachments: clusterObjects('volumeattachments'),
      networkPolicies: nsObjects('networkpolicies'),
      clusterDns: { ...this.dns },
      gaps,
    };
    if (endpointSlices) snapshot.endpointSlices = endpointSlices;
    const trimmed = trimSnapshot(snapshot, { validated: true });
    // Where a full read would quote a failing container's last lines, say that none were read.
    if (logRequests(trimmed.statefulSets, trimmed.pods, ns).length) trimmed.gaps.push({ resource: 'podlogs', reason: 'absent', message: 'podlogs: not read (a watch-based read holds no container logs)' });
    return trimmed;
  }

  /** Checks and trims one object on its way into the cache (see the module comment). */
  private admit(resource: Namespaced | ClusterScoped, o: unknown): KubeObject | undefined {
    const gaps: Gap[] = [];
    const [valid] = validateObjects<KubeObject>(resource, [o], gaps);
    if (!valid) {
      if (gaps[0]) this.invalid.set(resource, gaps[0]);
      return undefined;
    }
    if (resource === 'pods') {
      const owner = valid.metadata.ownerReferences?.find((r) => r.controller);
      if (owner && owner.kind !== 'StatefulSet') return undefined;
    }
    const kind = RESOURCE_TYPES[resource];
    valid.kind ??= kind.kind;
    valid.apiVersion ??= kind.apiVersion;
    return stripObject(valid);
  }

  /** Keeps the indexes, bounds events, and tells the listeners what a change touched. */
  private changed(resource: Namespaced | ClusterScoped, informer: Informer<KubeObject>, c: InformerChange<KubeObject>): void {
    if (c.type === 'RELIST') {
      this.reindex(resource);
      return this.notify({ keys: new Set(), all: true });
    }
    const o = c.object;
    const key = keyOf(o);
    if (c.old) this.unindex(resource, key, c.old);
    if (c.type !== 'DELETED') this.index(resource, key, o, informer);
    if (resource === 'nodes' && c.type === 'MODIFIED' && c.old && nodeFingerprint(c.old as Node) === nodeFingerprint(o as Node)) return;
    const keys = this.touched(resource, o);
    if (c.old && resource === 'pods') for (const k of this.touched(resource, c.old)) keys.add(k);
    if (keys.size) this.notify({ keys, all: false });
  }

  private notify(t: Touched): void {
    for (const l of this.listeners) l(t);
  }

  private reindex(resource: Namespaced | ClusterScoped): void {
    if (resource === 'pods') this.podsBySet.clear();
    if (resource === 'events') {
      // Three event informers share the index: rebuild from all of them.
      this.eventsByObject.clear();
      this.podEventNames.clear();
      this.byNamespace.delete('events');
    } else if ((NAMESPACED as string[]).includes(resource)) this.byNamespace.delete(resource as Namespaced);
    else this.cluster.delete(resource as ClusterScoped);
    for (const e of this.entries) if (e.resource === resource) for (const [k, o] of e.informer.store) this.index(resource, k, o, e.informer);
  }

  private index(resource: Namespaced | ClusterScoped, key: string, o: KubeObject, informer: Informer<KubeObject>): void {
    const ns = o.metadata.namespace ?? '';
    if ((CLUSTER_SCOPED as string[]).includes(resource)) {
      getOr(this.cluster, resource as ClusterScoped, () => new Map()).set(key, o);
      return;
    }
    getOr(getOr(this.byNamespace, resource as Namespaced, () => new Map()), ns, () => new Map()).set(key, o);
    if (resource === 'pods') getOr(this.podsBySet, podSetKey(o as Pod), () => new Map()).set(key, o as Pod);
    if (resource === 'events') {
      const io = (o as KubeEvent).involvedObject;
      if (io.kind === 'Pod' && io.name) getOr(this.podEventNames, `${ns}/${io.name.replace(/-\d+$/, '')}`, () => new Set()).add(io.name);
      const list = getOr(this.eventsByObject, eventObjectKey(o as KubeEvent), () => new Map());
      list.set(key, o as KubeEvent);
      if (list.size > MAX_EVENTS_PER_OBJECT) {
        // Bounded: the oldest event of this object leaves the cache.
        let oldest: [string, KubeEvent] | undefined;
        for (const entry of list) if (!oldest || eventTime(entry[1]) < eventTime(oldest[1])) oldest = entry;
        list.delete(oldest![0]);
        this.byNamespace.get('events')?.get(ns)?.delete(oldest![0]);
        informer.store.delete(oldest![0]);
      }
    }
  }

  private unindex(resource: Namespaced | ClusterScoped, key: string, o: KubeObject): void {
    if ((CLUSTER_SCOPED as string[]).includes(resource)) {
      this.cluster.get(resource as ClusterScoped)?.delete(key);
      return;
    }
    this.byNamespace.get(resource as Namespaced)?.get(o.metadata.namespace ?? '')?.delete(key);
    if (resource === 'pods') this.podsBySet.get(podSetKey(o as Pod))?.delete(key);
    if (resource === 'events') {
      const list = this.eventsByObject.get(eventObjectKey(o as KubeEvent));
      list?.delete(key);
      const io = (o as KubeEvent).involvedObject;
      if (list?.size === 0 && io.kind === 'Pod' && io.name) this.podEventNames.get(`${o.metadata.namespace ?? ''}/${io.name.replace(/-\d+$/, '')}`)?.delete(io.name);
    }
  }

  /**
   * The StatefulSets (`namespace/name`) a change of `o` touches: a StatefulSet itself; a pod its
   * owner (or, without one, the sets whose ordinal names match); a claim the sets whose claim
   * templates name it; an event its involved object's sets; a service, quota, policy or revision
   * the sets of its namespace; a node the sets with pods on it or with claims bound to volumes
   * pinned to it; a volume or attachment the sets of its claim; a storage class every set.
   */
  touched(resource: ResourceName, o: KubeObject): Set<string> {
    const ns = o.metadata.namespace ?? '';
    const out = new Set<string>();
    const setsOf = (namespace: string): StatefulSet[] => this.statefulSets(namespace);
    const byPodName = (namespace: string, name: string): void => {
      for (const s of setsOf(namespace)) if (podOrdinal(s, name) !== undefined) out.add(`${namespace}/${s.metadata.name}`);
    };
    const byClaimName = (namespace: string, name: string): void => {
      for (const s of setsOf(namespace)) if (claimOrdinal(s, name) !== undefined) out.add(`${namespace}/${s.metadata.name}`);
      for (const p of this.byNamespace.get('pods')?.get(namespace)?.values() ?? []) {
        if (!(p as Pod).spec.volumes?.some((v) => v.persistentVolumeClaim?.claimName === name)) continue;
        const owner = p.metadata.ownerReferences?.find((r) => r.controller);
        if (owner) out.add(`${namespace}/${owner.name}`);
      }
    };
    switch (resource) {
      case 'statefulsets':
        out.add(`${ns}/${o.metadata.name}`);
        break;
      case 'pods': {
        const owner = o.metadata.ownerReferences?.find((r) => r.controller);
        if (owner) out.add(`${ns}/${owner.name}`);
        else byPodName(ns, o.metadata.name);
        break;
      }
      case 'persistentvolumeclaims':
        byClaimName(ns, o.metadata.name);
        break;
      case 'events': {
        const io = (o as KubeEvent).involvedObject;
        if (io.kind === 'StatefulSet' && io.name) out.add(`${ns}/${io.name}`);
        if (io.kind === 'Pod' && io.name) byPodName(ns, io.name);
        if (io.kind === 'PersistentVolumeClaim' && io.name) byClaimName(ns, io.name);
        break;
      }
      case 'services':
      case 'controllerrevisions':
      case 'resourcequotas':
      case 'networkpolicies':
        for (const s of setsOf(ns)) out.add(`${ns}/${s.metadata.name}`);
        break;
      case 'nodes': {
        const name = o.metadata.name;
        for (const m of this.byNamespace.get('pods')?.values() ?? [])
          for (const p of m.values()) {
            if ((p as Pod).spec.nodeName !== name) continue;
            for (const k of this.touched('pods', p)) out.add(k);
          }
        for (const pv of this.cluster.get('persistentvolumes')?.values() ?? []) {
          const terms = (pv as PersistentVolume).spec.nodeAffinity?.required?.nodeSelectorTerms;
          if (terms?.length && (JSON.stringify(terms).includes(JSON.stringify(name)) || terms.some((t) => t.matchExpressions?.some((e) => e.key !== 'kubernetes.io/hostname')))) for (const k of this.touched('persistentvolumes', pv)) out.add(k);
        }
        break;
      }
      case 'persistentvolumes': {
        const ref = (o as PersistentVolume).spec.claimRef;
        if (ref?.namespace && ref.name) byClaimName(ref.namespace, ref.name);
        break;
      }
      case 'volumeattachments': {
        const pv = (o as VolumeAttachment).spec.source.persistentVolumeName;
        const obj = pv ? this.cluster.get('persistentvolumes')?.get(pv) : undefined;
        if (obj) for (const k of this.touched('persistentvolumes', obj)) out.add(k);
        break;
      }
      default:
        for (const k of this.statefulSetKeys()) out.add(k);
    }
    return out;
  }
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

const podSetKey = (p: Pod): string => {
  const owner = p.metadata.ownerReferences?.find((r) => r.controller);
  return `${p.metadata.namespace ?? ''}/${owner?.kind === 'StatefulSet' ? owner.name : ''}`;
};

const eventObjectKey = (e: KubeEvent): string => `${e.metadata.namespace ?? e.involvedObject.namespace ?? ''}/${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`;

/**
 * A node without what changes every heartbeat (resourceVersion, the conditions'
 * lastHeartbeatTime): two nodes with the same fingerprint give the same diagnosis.
 */
export function nodeFingerprint(n: Node): string {
  const conditions = (n.status?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  return JSON.stringify([n.metadata.labels, n.metadata.annotations, n.metadata.deletionTimestamp, n.spec, conditions, n.status?.volumesAttached, n.status?.allocatable]);
}

/**
 * The watch-based source of the watch loop (src/recovery/watch.ts WatchSource) for `wait`: the
 * Snapshot of the StatefulSets of namespace `ns` (only `name`, when given) from a
 * {@link ClusterCache}, and a wake-up on the next change that touches them, or after
 * `intervalMs` at the latest (ages and durations move on without a change; re-evaluating the
 * cache costs no request). While the watch of a core resource (StatefulSets, pods, claims) is
 * failing, `collect` throws its (transient) error, so that the loop says the API server is
 * unreachable instead of judging stale objects.
 */
export class CacheSource {
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: () => void;

  /**
   * @param notFound the error when no StatefulSet is in the cache (the set was deleted)
   */
  constructor(
    private readonly cache: ClusterCache,
    private readonly ns: string,
    private readonly name: string | undefined,
    private readonly intervalMs: number,
    private readonly notFound: () => Error,
  ) {
    this.unsubscribe = cache.onTouch((t) => {
      if (!t.all && ![...t.keys].some((k) => k.startsWith(`${ns}/`) && (!name || k === `${ns}/${name}`))) return;
      for (const w of this.waiters) w();
      this.waiters.clear();
    });
  }

  async collect(): Promise<Snapshot> {
    await this.cache.whenSynced();
    const failing = this.cache.coreFailure();
    if (failing) throw failing;
    const sets = this.cache.statefulSets(this.ns).filter((s) => !this.name || s.metadata.name === this.name);
    if (!sets.length) throw this.notFound();
    return this.cache.snapshot(this.ns, sets);
  }

  nextChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        this.waiters.delete(done);
        resolve();
      };
      const aborted = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        reject(signal?.reason);
      };
      const timer = setTimeout(done, Math.min(this.intervalMs, timeoutMs));
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiters.add(done);
    });
  }

  /** Stops listening (the cache itself is stopped by its owner). */
  close(): void {
    this.unsubscribe();
  }
}
