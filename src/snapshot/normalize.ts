/**
 * Normalisation shared by the live and the dump paths: validate every object once (schema.ts),
 * keep only what concerns the StatefulSets under diagnosis, bound what is kept (events per
 * object), and drop bulky fields nobody reads.
 */
import { SERVICE_NAME_LABEL, SNAPSHOT_FIELDS, type KubeEvent, type KubeObject, type ResourceName, type Snapshot } from './types.js';
import { validateContainerLogs, validateObjects } from './schema.js';
import { boundContainerLog } from './logs.js';
import { stripUserinfo } from '../report/sanitize.js';
import { claimOrdinal, eventTime, podBelongsTo, podOrdinal } from './view.js';

/** Events kept per involved object (the newest); the rules read the recent ones. */
export const MAX_EVENTS_PER_OBJECT = 100;

/** The Snapshot field of each resource but the StatefulSets (checked by the readers, schema.ts checkStatefulSet). */
const FIELDS = (Object.entries(SNAPSHOT_FIELDS) as [ResourceName, keyof Snapshot][]).filter(([r]) => r !== 'statefulsets');

/**
 * Validates every object of the snapshot but the StatefulSets, in place: an object without the
 * shape the rules read is dropped, and its resource gets an `invalid` Gap naming it.
 */
export function validateSnapshot(snapshot: Snapshot): Snapshot {
  const s = snapshot as unknown as Record<string, unknown[]>;
  for (const [resource, field] of FIELDS) s[field] = validateObjects(resource, s[field] ?? [], snapshot.gaps);
  if (snapshot.containerLogs !== undefined) snapshot.containerLogs = validateContainerLogs(snapshot.containerLogs, snapshot.gaps).map(boundContainerLog);
  return snapshot;
}

/** The newest {@link MAX_EVENTS_PER_OBJECT} events of each involved object, in their original order. */
export function boundEvents(events: KubeEvent[]): KubeEvent[] {
  const per = new Map<string, KubeEvent[]>();
  for (const e of events) {
    const io = e.involvedObject;
    const key = io.uid || `${io.kind}/${io.namespace ?? ''}/${io.name}`;
    const list = per.get(key);
    if (list) list.push(e);
    else per.set(key, [e]);
  }
  const keep = new Set<KubeEvent>();
  for (const list of per.values()) {
    if (list.length > MAX_EVENTS_PER_OBJECT) list.sort((a, b) => eventTime(b) - eventTime(a));
    for (const e of list.slice(0, MAX_EVENTS_PER_OBJECT)) keep.add(e);
  }
  return keep.size === events.length ? events : events.filter((e) => keep.has(e));
}

const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** Removes `metadata.managedFields`, last-applied annotations and node image lists, in place. */
export function stripObject<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as unknown as Record<string, unknown>;
  delete meta.managedFields;
  const ann = obj.metadata.annotations;
  if (ann) for (const a of DROPPED_ANNOTATIONS) delete ann[a];
  const status = (obj as { status?: Record<string, unknown> }).status;
  if (obj.kind === 'Node' && status) delete status.images;
  return obj;
}

/**
 * Validates the snapshot ({@link validateSnapshot}), then keeps the objects that concern `snapshot.statefulSets`: their pods, the claims those pods or
 * their claim templates name, events about any of these (by uid or name), revisions they own,
 * volumes bound to their claims or still unbound, and attachments of those volumes, the
 * EndpointSlices of the cluster DNS Service (`snapshot.clusterDns`) only. Services,
 * quotas, NetworkPolicies, nodes and storage classes are kept whole; events at most
 * {@link MAX_EVENTS_PER_OBJECT} per object. Returns the same snapshot, trimmed. With
 * `validated`, the objects have passed {@link validateSnapshot} already (a cache's) and are not
 * checked again.
 */
export function trimSnapshot(snapshot: Snapshot, opts: { validated?: boolean } = {}): Snapshot {
  // A watch-based cache (cache.ts) validates each object once, as it arrives.
  if (!opts.validated) validateSnapshot(snapshot);
  // A password in the server URL never reaches a report or a snapshot.
  if (snapshot.source.type === 'cluster') snapshot.source.server = stripUserinfo(snapshot.source.server);
  const all = [
    snapshot.statefulSets,
    snapshot.pods,
    snapshot.persistentVolumeClaims,
    snapshot.events,
    snapshot.services,
    snapshot.controllerRevisions,
    snapshot.resourceQuotas,
    snapshot.nodes,
    snapshot.persistentVolumes,
    snapshot.storageClasses,
    snapshot.volumeAttachments,
    snapshot.networkPolicies,
    snapshot.endpointSlices ?? [],
  ];
  for (const list of all) for (const o of list as KubeObject[]) stripObject(o);

  const sets = snapshot.statefulSets;
  snapshot.pods = snapshot.pods.filter((p) => sets.some((s) => podBelongsTo(p, s)));
  const claimNames = new Set<string>();
  for (const p of snapshot.pods) for (const v of p.spec.volumes ?? []) if (v.persistentVolumeClaim) claimNames.add(v.persistentVolumeClaim.claimName);
  const isTemplateClaim = (name: string): boolean => sets.some((s) => claimOrdinal(s, name) !== undefined);
  snapshot.persistentVolumeClaims = snapshot.persistentVolumeClaims.filter((c) => claimNames.has(c.metadata.name) || isTemplateClaim(c.metadata.name));
  const keptClaims = new Set(snapshot.persistentVolumeClaims.map((c) => c.metadata.name));

  const uids = new Set<string>();
  const names = new Set<string>();
  for (const o of [...sets, ...snapshot.pods, ...snapshot.persistentVolumeClaims] as KubeObject[]) {
    if (o.metadata.uid) uids.add(o.metadata.uid);
    names.add(`${o.kind}/${o.metadata.name}`);
  }
  const isOwnPodName = (name: string | undefined): boolean => !!name && sets.some((s) => podOrdinal(s, name) !== undefined);
  snapshot.events = snapshot.events.filter((e) => {
    const io = e.involvedObject;
    if (io.uid && uids.has(io.uid)) return true;
    if (io.kind === 'Pod' && isOwnPodName(io.name)) return true;
    if (io.kind === 'PersistentVolumeClaim' && io.name && (keptClaims.has(io.name) || isTemplateClaim(io.name))) return true;
    return names.has(`${io.kind}/${io.name}`);
  });
  snapshot.events = boundEvents(snapshot.events);

  const stsUids = new Set(sets.map((s) => s.metadata.uid));
  snapshot.controllerRevisions = snapshot.controllerRevisions.filter((r) => r.metadata.ownerReferences?.some((o) => stsUids.has(o.uid)));
  snapshot.persistentVolumes = snapshot.persistentVolumes.filter((pv) => {
    const ref = pv.spec.claimRef;
    if (!ref?.name) return true;
    return ref.namespace === snapshot.namespace && (keptClaims.has(ref.name) || isTemplateClaim(ref.name));
  });
  const keptVolumes = new Set(snapshot.persistentVolumes.map((pv) => pv.metadata.name));
  if (snapshot.containerLogs) {
    // Only the excerpts of kept pods (same namespace, name and, when known, uid).
    const podUid = new Map(snapshot.pods.map((p) => [p.metadata.name, p.metadata.uid]));
    snapshot.containerLogs = snapshot.containerLogs.filter((l) => l.namespace === snapshot.namespace && podUid.has(l.pod) && (!l.uid || !podUid.get(l.pod) || l.uid === podUid.get(l.pod)));
  }
  snapshot.volumeAttachments = snapshot.volumeAttachments.filter((va) => va.spec.source.persistentVolumeName && keptVolumes.has(va.spec.source.persistentVolumeName));
  // Only the cluster DNS Service's EndpointSlices (its namespace, its service-name label).
  const dns = snapshot.clusterDns;
  if (snapshot.endpointSlices) snapshot.endpointSlices = dns ? snapshot.endpointSlices.filter((s) => s.metadata.namespace === dns.namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === dns.name) : [];
  return snapshot;
}
