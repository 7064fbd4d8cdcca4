/**
 * Read-only lookups over a Snapshot, built once per diagnosis so that every rule finds a pod's
 * events, a claim's volume or a volume's node in constant time.
 */
import type {
  Condition,
  ContainerLog,
  ContainerStatus,
  ControllerRevision,
  KubeEvent,
  KubeObject,
  GapResource,
  LabelSelector,
  Lease,
  Node,
  NodeSelectorTerm,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ServiceName,
  ScopedResource,
  Snapshot,
  StatefulSet,
  StorageClass,
  Timestamp,
  VolumeAttachment,
} from './types.js';

/** Label the StatefulSet controller puts on every pod: its own name. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label with the pod's ordinal (GA in 1.32). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Label naming the ControllerRevision a pod was created from. */
export const REVISION_LABEL = 'controller-revision-hash';

/**
 * The time an event last happened, as milliseconds since the epoch: `series.lastObservedTime`,
 * then `lastTimestamp`, `eventTime`, `firstTimestamp`, `metadata.creationTimestamp`. 0 when none.
 */
export function eventTime(event: KubeEvent): number {
  const t =
    event.series?.lastObservedTime ??
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** The same instant as {@link eventTime}, as the RFC 3339 string the API gave, or undefined. */
export function eventTimestamp(event: KubeEvent): Timestamp | undefined {
  return (
    event.series?.lastObservedTime ??
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata.creationTimestamp ??
    undefined
  );
}

/** How many times an event was observed: `series.count`, then `count`, else 1. */
export function eventCount(event: KubeEvent): number {
  return event.series?.count ?? event.count ?? 1;
}

/** The component that wrote an event (`source.component` or `reportingComponent`), for display only. */
export function eventSource(event: KubeEvent): string | undefined {
  return event.source?.component || event.reportingComponent || undefined;
}

/** The condition of a given type from a status' conditions list. */
export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return condition(pod.status?.conditions, 'Ready')?.status === 'True';
}

/** True when a pod is marked for deletion (`metadata.deletionTimestamp` set): kubectl's "Terminating". */
export function isTerminating(obj: KubeObject): boolean {
  return Boolean(obj.metadata.deletionTimestamp);
}

/**
 * True when a pod is Running, Ready and not Terminating: the StatefulSet controller's
 * `isRunningAndReady` (pkg/controller/statefulset/stateful_set_utils.go) for a live pod.
 */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod) && !isTerminating(pod);
}

/** True when `labels` satisfy a LabelSelector (matchLabels and matchExpressions). An empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const value = l[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** `spec.selector` rendered as a label-selector query string (`app=quiz,tier in (db)`). */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

/** First ordinal of a StatefulSet (`spec.ordinals.start`, default 0). */
export function ordinalStart(sts: StatefulSet): number {
  return sts.spec.ordinals?.start ?? 0;
}

/** Desired replicas (`spec.replicas`, default 1). */
export function desiredReplicas(sts: StatefulSet): number {
  return sts.spec.replicas ?? 1;
}

/** True unless `podManagementPolicy: Parallel`: the controller's `monotonic` mode. */
export function isOrderedReady(sts: StatefulSet): boolean {
  return (sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
}

/**
 * The ordinal of a pod of `sts`, from its name `<sts>-<ordinal>`, or undefined when the name
 * does not have that form (a pod selected by the label selector but not the StatefulSet's own).
 */
export function podOrdinal(sts: StatefulSet, podName: string): number | undefined {
  const prefix = `${sts.metadata.name}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** `s` with every regular-expression metacharacter escaped, to match it literally inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Name of the pod with a given ordinal. */
export function podName(sts: StatefulSet, ordinal: number): string {
  return `${sts.metadata.name}-${ordinal}`;
}

/** Name of the claim the controller creates for a claim template and ordinal: `<template>-<sts>-<ordinal>`. */
export function claimName(sts: StatefulSet, template: string, ordinal: number): string {
  return `${template}-${sts.metadata.name}-${ordinal}`;
}

/**
 * The claim template and ordinal a claim name stands for (`<template>-<sts>-<ordinal>`), or
 * undefined when the name is not one of the StatefulSet's claims.
 */
export function claimOrdinal(sts: StatefulSet, name: string): { template: string; ordinal: number } | undefined {
  for (const t of sts.spec.volumeClaimTemplates ?? []) {
    const prefix = `${t.metadata.name}-${sts.metadata.name}-`;
    const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (/^\d+$/.test(rest)) return { template: t.metadata.name, ordinal: Number(rest) };
  }
  return undefined;
}

/** Reason of the Events sts-doctor records on the StatefulSet for each write (src/recovery/execute.ts). */
export const RECOVERY_EVENT_REASON = 'StsDoctorRecovery';

/** The label the kubelet sets to the node's hostname, which local PVs' node affinity names. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/**
 * The node names a node selector term allows when it only names hosts (one requirement:
 * `kubernetes.io/hostname In` in matchExpressions, or `metadata.name In` in matchFields), even
 * when those nodes no longer exist; undefined for any other term (a zone, a custom label,
 * several requirements), which only the nodes' labels and fields can answer.
 */
export function hostTermNodes(term: NodeSelectorTerm): string[] | undefined {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  const host = exprs.find((e) => e.key === HOSTNAME_LABEL && e.operator === 'In') ?? fields.find((f) => f.key === 'metadata.name' && f.operator === 'In');
  return host && exprs.length + fields.length === 1 ? [...(host.values ?? [])] : undefined;
}

/** An instant (a Date or milliseconds since the epoch) as the API server writes times: RFC 3339 in UTC, whole seconds. */
export function toTimestamp(t: Date | number = new Date()): Timestamp {
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Age in seconds of `t` relative to `now` (both RFC 3339); undefined when `t` is missing. */
export function ageSeconds(now: Timestamp, t: Timestamp | undefined | null): number | undefined {
  if (!t) return undefined;
  return Math.max(0, Math.round((Date.parse(now) - Date.parse(t)) / 1000));
}

/** A duration in seconds as kubectl shows ages: `45s`, `3m20s`, `5h2m`, `3d4h`. */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return '?';
  if (seconds < 120) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return seconds % 60 ? `${m}m${seconds % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** See {@link SnapshotView.replicaCounts}. */
export interface ReplicaCounts {
  /** `spec.replicas`: the ordinals kept. */
  replicas: number;
  /** Pods Running and Ready among the kept ordinals. */
  ready: number;
  /** Pods that exist outside the kept ordinals. */
  condemned: number;
  /** Of those, the Running and Ready ones. */
  condemnedReady: number;
}

/** `1/2 ready, 1 condemned`: the counts of {@link SnapshotView.replicaCounts} in words (the condemned part only when there are some). */
export function formatReplicaCounts(c: Pick<ReplicaCounts, 'ready' | 'replicas' | 'condemned'>): string {
  return `${c.ready}/${c.replicas} ready${c.condemned ? `, ${c.condemned} condemned` : ''}`;
}

/** True when `pod` belongs to `sts`: controlled by it, or named `<sts>-<n>` and selected by it. */
export function podBelongsTo(pod: Pod, sts: StatefulSet): boolean {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  if (owner) return owner.kind === 'StatefulSet' && (owner.uid === sts.metadata.uid || (!sts.metadata.uid && owner.name === sts.metadata.name));
  return podOrdinal(sts, pod.metadata.name) !== undefined && selectorMatches(sts.spec.selector, pod.metadata.labels);
}

/** A container with a waiting reason, with where it sits in the pod's status. */
export interface WaitingContainer {
  status: ContainerStatus;
  init: boolean;
  field: string;
}

/** Containers (init first) whose `state.waiting.reason` is set, other than the transient ContainerCreating/PodInitializing. */
export function waitingContainers(pod: Pod): WaitingContainer[] {
  const out: WaitingContainer[] = [];
  const visit = (list: ContainerStatus[] | undefined, init: boolean): void => {
    for (const c of list ?? []) {
      const reason = c.state?.waiting?.reason;
      if (reason && reason !== 'ContainerCreating' && reason !== 'PodInitializing') {
        out.push({ status: c, init, field: `status.${init ? 'initContainerStatuses' : 'containerStatuses'}[${c.name}].state.waiting` });
      }
    }
  };
  visit(pod.status?.initContainerStatuses, true);
  visit(pod.status?.containerStatuses, false);
  return out;
}

/** The cluster DNS Service when `--cluster-dns` is not given: the name kube-dns and CoreDNS installs keep. */
export const DEFAULT_CLUSTER_DNS: ServiceName = { namespace: 'kube-system', name: 'kube-dns' };

/**
 * True when a cluster DNS outage can explain what `pod` shows: Running but not Ready with no
 * container waiting (not being deleted), as a readiness probe or an application that must
 * resolve its peers' names leaves it; or Pending in a regular (not sidecar) init container that
 * is running (the classic `until nslookup <peer>` loop). A crash loop, an image or a
 * configuration error (a waiting container) has its own cause.
 */
export function dnsSensitive(pod: Pod): boolean {
  if (isTerminating(pod) || waitingContainers(pod).length > 0) return false;
  if (pod.status?.phase === 'Running') return !isPodReady(pod);
  if (pod.status?.phase !== 'Pending') return false;
  const sidecars = new Set((pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  return (pod.status.initContainerStatuses ?? []).some((c) => !sidecars.has(c.name) && c.state?.running !== undefined);
}

/**
 * The pods of `statefulSets` that are {@link dnsSensitive}, by name: the live read lists the
 * cluster DNS Service's EndpointSlices only when there is one (a healthy StatefulSet costs no
 * request), and the `cluster-dns-unavailable` rule explains only these.
 */
export function clusterDnsSuspects(statefulSets: StatefulSet[], pods: Pod[]): Pod[] {
  return pods.filter((p) => dnsSensitive(p) && statefulSets.some((s) => podBelongsTo(p, s))).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, undefined, { numeric: true }));
}

function byName<T extends KubeObject>(items: T[]): Map<string, T> {
  return new Map(items.map((o) => [o.metadata.name, o]));
}

/** Read-only indexes over one Snapshot. */
export class SnapshotView {
  readonly snapshot: Snapshot;
  private readonly eventsByUid = new Map<string, KubeEvent[]>();
  private readonly eventsByName = new Map<string, KubeEvent[]>();
  readonly nodes: Map<string, Node>;
  readonly claims: Map<string, PersistentVolumeClaim>;
  readonly volumes: Map<string, PersistentVolume>;
  readonly storageClasses: Map<string, StorageClass>;
  /** Node Leases (namespace kube-node-lease) by node name; empty when the snapshot has none. */
  readonly leases: Map<string, Lease>;
  private readonly attachmentsByVolume = new Map<string, VolumeAttachment[]>();
  private readonly missing: Set<GapResource>;

  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
    const sorted = [...snapshot.events].sort((a, b) => eventTime(b) - eventTime(a));
    for (const e of sorted) {
      const io = e.involvedObject;
      if (io.uid) push(this.eventsByUid, io.uid, e);
      push(this.eventsByName, `${io.kind}/${io.namespace ?? ''}/${io.name}`, e);
    }
    this.nodes = byName(snapshot.nodes);
    this.claims = byName(snapshot.persistentVolumeClaims);
    this.volumes = byName(snapshot.persistentVolumes);
    this.storageClasses = byName(snapshot.storageClasses);
    this.leases = byName((snapshot.leases ?? []).filter((l) => (l.metadata.namespace ?? 'kube-node-lease') === 'kube-node-lease'));
    for (const va of snapshot.volumeAttachments) {
      const pv = va.spec.source.persistentVolumeName;
      if (pv) push(this.attachmentsByVolume, pv, va);
    }
    this.missing = new Set(snapshot.gaps.map((g) => g.resource));
  }

  /** Current time of the snapshot in milliseconds since the epoch. */
  get nowMs(): number {
    return Date.parse(this.snapshot.now);
  }

  /** True when `resource` could be read; false when it is a recorded gap (forbidden, absent...). */
  canSee(resource: GapResource): boolean {
    return !this.missing.has(resource);
  }

  /**
   * True when the snapshot holds every object of `resource` the reader may see, so that one that
   * is not in it does not exist: it could be read ({@link canSee}) and was not read by name only
   * (types.ts ReadScope `named`). A rule that concludes "no such node" or "no Available PV"
   * asks this, not canSee.
   */
  holdsAll(resource: ScopedResource): boolean {
    return this.canSee(resource) && this.snapshot.scope?.[resource] !== 'named';
  }

  /**
   * The log excerpt read for container `container` of `pod` (matched by namespace, name and,
   * when both have one, uid: the logs of an earlier pod of the same name are never quoted).
   */
  containerLog(pod: Pod, container: string): ContainerLog | undefined {
    const ns = pod.metadata.namespace ?? this.snapshot.namespace;
    return (this.snapshot.containerLogs ?? []).find(
      (l) => l.pod === pod.metadata.name && l.container === container && l.namespace === ns && (!l.uid || !pod.metadata.uid || l.uid === pod.metadata.uid),
    );
  }

  /**
   * Events about one object, newest first. Matched by `involvedObject.uid` when the object has
   * a uid (a recreated pod keeps its name, and its predecessor's events are still listed);
   * by kind, namespace and name otherwise, and for events that carry no uid.
   */
  eventsFor(obj: KubeObject & { kind?: string }, kind?: string): KubeEvent[] {
    const byName = this.eventsByName.get(`${kind ?? obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`) ?? [];
    if (!obj.metadata.uid) return byName;
    const byUid = this.eventsByUid.get(obj.metadata.uid) ?? [];
    // Some reporters leave involvedObject.uid empty (the taint-eviction controller's
    // TaintManagerEviction among them): take those by name, if not older than this object.
    const created = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : 0;
    const anonymous = byName.filter((e) => !e.involvedObject.uid && eventTime(e) >= created);
    if (anonymous.length === 0) return byUid;
    return [...byUid, ...anonymous].sort((a, b) => eventTime(b) - eventTime(a));
  }

  /** Events about any object named `name` of `kind` in the namespace, whatever its uid (predecessors included), newest first. */
  eventsByObjectName(kind: string, name: string, namespace = this.snapshot.namespace): KubeEvent[] {
    return this.eventsByName.get(`${kind}/${namespace}/${name}`) ?? [];
  }

  /** podsOf's answers, per StatefulSet object: every rule asks, and a set may have thousands of pods. */
  private readonly podsCache = new WeakMap<StatefulSet, Pod[]>();

  /**
   * The pods of a StatefulSet: owned by it (by uid) or named `<sts>-<n>` and matching its
   * selector, by ordinal. Computed once per StatefulSet object; each call returns a new array.
   */
  podsOf(sts: StatefulSet): Pod[] {
    let pods = this.podsCache.get(sts);
    if (!pods) {
      const ordinal = (p: Pod): number => podOrdinal(sts, p.metadata.name) ?? 0;
      pods = this.snapshot.pods
        .filter((p) => podBelongsTo(p, sts))
        .map((p) => ({ p, o: ordinal(p) }))
        .sort((a, b) => a.o - b.o)
        .map((x) => x.p);
      this.podsCache.set(sts, pods);
    }
    return [...pods];
  }

  /** The pods of a StatefulSet (see podsOf) by ordinal; a pod it owns whose name has no ordinal is left out. */
  podsByOrdinal(sts: StatefulSet): Map<number, Pod> {
    const out = new Map<number, Pod>();
    for (const p of this.podsOf(sts)) {
      const o = podOrdinal(sts, p.metadata.name);
      if (o !== undefined) out.set(o, p);
    }
    return out;
  }

  /**
   * The readiness of the ordinals the StatefulSet keeps: `ready` counts the pods Running and
   * Ready among ordinals [start, start + spec.replicas) (`replicas`); `condemned` counts the pods
   * that exist outside that range (being removed by a scale-down, or left by one), of which
   * `condemnedReady` are Ready. Unlike `status.readyReplicas`, a condemned pod never makes an
   * unhealthy set look ready (`1/2 ready, 1 condemned`, not `2/2`).
   */
  replicaCounts(sts: StatefulSet): ReplicaCounts {
    const start = ordinalStart(sts);
    const replicas = desiredReplicas(sts);
    const out: ReplicaCounts = { replicas, ready: 0, condemned: 0, condemnedReady: 0 };
    for (const [o, p] of this.podsByOrdinal(sts)) {
      const kept = o >= start && o < start + replicas;
      const ready = isRunningAndReady(p);
      if (kept) out.ready += ready ? 1 : 0;
      else {
        out.condemned++;
        out.condemnedReady += ready ? 1 : 0;
      }
    }
    return out;
  }

  /** The claims a pod mounts, in volume order: `[volumeName, claimName, claim | undefined]`. */
  claimsOf(pod: Pod): { volume: string; claimName: string; claim: PersistentVolumeClaim | undefined }[] {
    return (pod.spec.volumes ?? [])
      .filter((v) => v.persistentVolumeClaim)
      .map((v) => {
        const name = v.persistentVolumeClaim!.claimName;
        return { volume: v.name, claimName: name, claim: this.claims.get(name) };
      });
  }

  /** The claims the controller creates for ordinal `ordinal`, one per claim template, found or not. */
  templateClaims(sts: StatefulSet, ordinal: number): { template: string; claimName: string; claim: PersistentVolumeClaim | undefined }[] {
    return (sts.spec.volumeClaimTemplates ?? []).map((t) => {
      const name = claimName(sts, t.metadata.name, ordinal);
      return { template: t.metadata.name, claimName: name, claim: this.claims.get(name) };
    });
  }

  /** The PV bound to a claim (`spec.volumeName`), if read. */
  volumeOf(claim: PersistentVolumeClaim): PersistentVolume | undefined {
    return claim.spec.volumeName ? this.volumes.get(claim.spec.volumeName) : undefined;
  }

  /** VolumeAttachments whose source is PV `pvName`. */
  attachmentsOf(pvName: string): VolumeAttachment[] {
    return this.attachmentsByVolume.get(pvName) ?? [];
  }

  /** ControllerRevisions owned by the StatefulSet, newest revision first. */
  revisionsOf(sts: StatefulSet): ControllerRevision[] {
    return this.snapshot.controllerRevisions
      .filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === sts.metadata.uid || (!sts.metadata.uid && o.name === sts.metadata.name)))
      .sort((a, b) => b.revision - a.revision);
  }

  /** The node a pod is bound to, if the pod is scheduled and the node was read. */
  nodeOf(pod: Pod): Node | undefined {
    return pod.spec.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
