/**
 * The Snapshot: everything sts-doctor reads about a StatefulSet, as plain data.
 *
 * The object types below are narrow views of the Kubernetes API's JSON (the same field names
 * and nesting as `kubectl get -o json`), not client-node model classes: a live read and a dump
 * produce identical values, timestamps stay RFC 3339 strings, and rules can be tested on
 * recorded JSON. Only the fields sts-doctor reads are declared; the objects keep the rest.
 */

/** RFC 3339 timestamp as the API server writes it, e.g. `2026-11-21T05:38:34Z`. */
export type Timestamp = string;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Timestamp;
  deletionTimestamp?: Timestamp;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** Any Kubernetes object: apiVersion, kind, metadata, and whatever else it carries. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Probe {
  httpGet?: { path?: string; port?: number | string; scheme?: string };
  tcpSocket?: { port?: number | string };
  exec?: { command?: string[] };
  grpc?: { port?: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
  timeoutSeconds?: number;
}

export interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: unknown[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
  /** `Always` on an init container makes it a sidecar (restartable init container, 1.29+). */
  restartPolicy?: string;
  /** Declared container ports; a named port (NetworkPolicy, Service targetPort) resolves against them. */
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name?: string; optional?: boolean };
  secret?: { secretName?: string; optional?: boolean };
  [source: string]: unknown;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: unknown;
  tolerations?: Toleration[];
  imagePullSecrets?: { name: string }[];
  serviceAccountName?: string;
  hostname?: string;
  subdomain?: string;
  schedulerName?: string;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

export interface PersistentVolumeClaimTemplate {
  metadata: Partial<ObjectMeta> & { name: string };
  spec?: PersistentVolumeClaimSpec;
}

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    serviceName?: string;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    minReadySeconds?: number;
    ordinals?: { start?: number };
    revisionHistoryLimit?: number;
    updateStrategy?: {
      type?: 'RollingUpdate' | 'OnDelete';
      rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
    };
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
    template: PodTemplateSpec;
    volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
    conditions?: Condition[];
  };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: Timestamp;
  lastHeartbeatTime?: Timestamp;
  lastProbeTime?: Timestamp | null;
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface ContainerStateTerminated {
  reason?: string;
  message?: string;
  exitCode?: number;
  signal?: number;
  startedAt?: Timestamp;
  finishedAt?: Timestamp;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: { startedAt?: Timestamp };
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    hostIP?: string;
    podIP?: string;
    startTime?: Timestamp;
    nominatedNodeName?: string;
  };
}

export interface PersistentVolumeClaimSpec {
  accessModes?: string[];
  storageClassName?: string | null;
  volumeName?: string;
  volumeMode?: string;
  resources?: { requests?: Record<string, string> };
  selector?: LabelSelector;
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: PersistentVolumeClaimSpec;
  status?: {
    phase?: 'Pending' | 'Bound' | 'Lost';
    capacity?: Record<string, string>;
    accessModes?: string[];
    conditions?: Condition[];
  };
}

export interface NodeSelectorTerm {
  matchExpressions?: LabelSelectorRequirement[];
  matchFields?: LabelSelectorRequirement[];
}

export interface PersistentVolume extends KubeObject {
  spec: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    storageClassName?: string;
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    claimRef?: { namespace?: string; name?: string; uid?: string };
    nodeAffinity?: { required?: { nodeSelectorTerms: NodeSelectorTerm[] } };
    local?: { path: string };
    hostPath?: { path: string };
    csi?: { driver: string; volumeHandle: string };
    [source: string]: unknown;
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  allowVolumeExpansion?: boolean;
  parameters?: Record<string, string>;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: Timestamp;
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[]; providerID?: string };
  status?: {
    conditions?: Condition[];
    allocatable?: Record<string, string>;
    capacity?: Record<string, string>;
    volumesAttached?: { name: string; devicePath?: string }[];
    volumesInUse?: string[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

export interface VolumeAttachment extends KubeObject {
  spec: {
    attacher: string;
    nodeName: string;
    source: { persistentVolumeName?: string; inlineVolumeSpec?: unknown };
  };
  status?: { attached: boolean; attachError?: { message?: string; time?: Timestamp }; detachError?: { message?: string; time?: Timestamp } };
}

/**
 * A coordination.k8s.io/v1 Lease of namespace `kube-node-lease`, named after its node: the
 * kubelet renews it every 10 s (`spec.renewTime`), its heartbeat since Kubernetes 1.17.
 */
export interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; renewTime?: string | null; leaseDurationSeconds?: number };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface Service extends KubeObject {
  spec: {
    clusterIP?: string;
    clusterIPs?: string[];
    type?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface ControllerRevision extends KubeObject {
  revision: number;
  data?: { spec?: { template?: PodTemplateSpec } } & Record<string, unknown>;
}

export interface ResourceQuota extends KubeObject {
  spec?: { hard?: Record<string, string> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

/**
 * A core/v1 Event or an events.k8s.io/v1 Event read through core/v1. Events written through
 * the newer API (the scheduler's among them) have an empty `source`, no `count`, null
 * `firstTimestamp`/`lastTimestamp`, and carry `eventTime`, `reportingComponent` and `series`.
 */
export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; fieldPath?: string };
  type?: 'Normal' | 'Warning' | string;
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  count?: number;
  firstTimestamp?: Timestamp | null;
  lastTimestamp?: Timestamp | null;
  eventTime?: Timestamp | null;
  series?: { count?: number; lastObservedTime?: Timestamp } | null;
}

/** The kinds of objects a Snapshot holds, keyed as in {@link Snapshot.objects}. */
export type ResourceName =
  | 'statefulsets'
  | 'pods'
  | 'persistentvolumeclaims'
  | 'events'
  | 'services'
  | 'controllerrevisions'
  | 'resourcequotas'
  | 'nodes'
  | 'persistentvolumes'
  | 'storageclasses'
  | 'volumeattachments'
  | 'networkpolicies'
  | 'leases'
  | 'endpointslices';

/**
 * Each resource's kind, API version and scope: the one table the live reads (from-cluster.ts),
 * the watch cache (cache.ts) and the schema check (schema.ts) use.
 */
export const RESOURCE_TYPES = {
  statefulsets: { kind: 'StatefulSet', apiVersion: 'apps/v1', namespaced: true },
  pods: { kind: 'Pod', apiVersion: 'v1', namespaced: true },
  persistentvolumeclaims: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespaced: true },
  events: { kind: 'Event', apiVersion: 'v1', namespaced: true },
  services: { kind: 'Service', apiVersion: 'v1', namespaced: true },
  controllerrevisions: { kind: 'ControllerRevision', apiVersion: 'apps/v1', namespaced: true },
  resourcequotas: { kind: 'ResourceQuota', apiVersion: 'v1', namespaced: true },
  networkpolicies: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', namespaced: true },
  endpointslices: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  leases: { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', namespaced: true },
  nodes: { kind: 'Node', apiVersion: 'v1', namespaced: false },
  persistentvolumes: { kind: 'PersistentVolume', apiVersion: 'v1', namespaced: false },
  storageclasses: { kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1', namespaced: false },
  volumeattachments: { kind: 'VolumeAttachment', apiVersion: 'storage.k8s.io/v1', namespaced: false },
} as const satisfies Record<ResourceName, { kind: string; apiVersion: string; namespaced: boolean }>;

/**
 * The collection path of `resource`: `/api/v1/namespaces/<ns>/pods`,
 * `/apis/storage.k8s.io/v1/storageclasses`; a namespaced resource without `ns` (or `ns` '')
 * across all namespaces. `ns` is URL-encoded here.
 */
export function resourcePath(resource: ResourceName, ns = ''): string {
  const t = RESOURCE_TYPES[resource];
  const group = t.apiVersion === 'v1' ? '/api/v1' : `/apis/${t.apiVersion}`;
  return `${group}${t.namespaced && ns ? `/namespaces/${encodeURIComponent(ns)}` : ''}/${resource}`;
}

/** The Snapshot field that holds each resource: the one map from-dump, normalize and snapshot use. */
export const SNAPSHOT_FIELDS = {
  statefulsets: 'statefulSets',
  pods: 'pods',
  persistentvolumeclaims: 'persistentVolumeClaims',
  events: 'events',
  services: 'services',
  controllerrevisions: 'controllerRevisions',
  resourcequotas: 'resourceQuotas',
  networkpolicies: 'networkPolicies',
  nodes: 'nodes',
  persistentvolumes: 'persistentVolumes',
  storageclasses: 'storageClasses',
  volumeattachments: 'volumeAttachments',
  leases: 'leases',
  endpointslices: 'endpointSlices',
} as const satisfies Record<ResourceName, keyof Snapshot>;

/**
 * What a {@link Gap} names: a resource of the Snapshot, or `podlogs` (the `pods/log`
 * subresource, a separate RBAC resource: the container log excerpts of {@link ContainerLog}).
 */
export type GapResource = ResourceName | 'podlogs';

/** The cluster-scoped resources a live read may read by name only (see {@link ReadScope}). */
export type ScopedResource = 'nodes' | 'persistentvolumes' | 'volumeattachments';

/** The resources of {@link ScopedResource}, in one list (schema and dumps check against it). */
export const SCOPED_RESOURCES: readonly ScopedResource[] = ['nodes', 'persistentvolumes', 'volumeattachments'];

/**
 * How much of a cluster-scoped resource a Snapshot holds. `all` (the default, and every dump
 * written before scopes existed): every object the reader may list, so an object that is not in
 * the Snapshot does not exist. `named`: only the objects the StatefulSets' pods and claims name
 * (their nodes, their claims' PVs, those PVs' attachments, each read by name; see
 * src/snapshot/from-cluster.ts namedReads), so an object that is not in the Snapshot is unknown,
 * never "deleted", and no rule concludes from it that no such object (e.g. an Available PV) exists.
 */
export type ReadScope = 'all' | 'named';

/** Which logs of which container: what a log read asks for, and what an excerpt is of. */
export interface ContainerLogTarget {
  namespace: string;
  pod: string;
  /** The pod's uid when read: a log of an earlier pod of the same name is never quoted. */
  uid?: string;
  container: string;
  /** True for an init container. */
  init: boolean;
  /** True for the logs of the previous (crashed) run: `kubectl logs --previous`. */
  previous: boolean;
}

/**
 * The last lines a container wrote, as `kubectl logs [--previous] --tail=<n> --limit-bytes=<b>`
 * shows them: read for containers that crash, exit with an error, fail a probe or hang in an
 * init container (src/snapshot/logs.ts decides which, at most 3 pods per StatefulSet). Untrusted
 * text, bounded when read and again when loaded (lines, characters per line); printed only
 * through src/report/sanitize.ts.
 */
export interface ContainerLog extends ContainerLogTarget {
  /** The lines, oldest first, without their newline. */
  lines: string[];
  /** True when the excerpt was cut (by the byte limit, or a line over the character limit). */
  truncated: boolean;
}

/**
 * A read sts-doctor could not make. The rules treat the matching objects as unknown, never as
 * missing: a forbidden `nodes` read means "node state unknown", not "node deleted".
 */
export interface Gap {
  resource: GapResource;
  /**
   * `forbidden` (HTTP 403), `not-found` (the API group is not served), `unavailable` (the API
   * server did not answer, or answered 429/5xx, after the client's retries), `error` (any other
   * failure, e.g. an answer over the client's size or page cap), `absent` (not in the dump), or
   * `invalid` (objects without the shape the API guarantees, dropped; see src/snapshot/schema.ts).
   */
  reason: 'forbidden' | 'not-found' | 'unavailable' | 'error' | 'absent' | 'invalid';
  /** One plain sentence, e.g. `events: forbidden (User "x" cannot list resource "events" ...)`. */
  message: string;
}

/** Where a Snapshot was read from. */
export type SnapshotSource =
  | { type: 'cluster'; server: string; context?: string; serverVersion?: string; requests: number }
  | { type: 'dump'; path: string };

/**
 * Everything the rules read. One namespace; cluster-scoped objects are included only where
 * the namespace's pods or claims may reference them.
 */
export interface Snapshot {
  /** Version of this shape; bumped on incompatible changes. */
  schemaVersion: 1;
  source: SnapshotSource;
  /** "Now" for every age computation (RFC 3339). Live: the client clock; dump: newest timestamp or `--now`. */
  now: Timestamp;
  namespace: string;
  statefulSets: StatefulSet[];
  pods: Pod[];
  persistentVolumeClaims: PersistentVolumeClaim[];
  events: KubeEvent[];
  services: Service[];
  controllerRevisions: ControllerRevision[];
  resourceQuotas: ResourceQuota[];
  nodes: Node[];
  persistentVolumes: PersistentVolume[];
  storageClasses: StorageClass[];
  volumeAttachments: VolumeAttachment[];
  /** The namespace's NetworkPolicies (networking.k8s.io/v1). */
  networkPolicies: NetworkPolicy[];
  /**
   * The node Leases (kube-node-lease) of the nodes the pods are on; absent in snapshots that did
   * not read them (older dumps), in which case the Ready condition's heartbeat is used.
   */
  leases?: Lease[];
  /**
   * The last log lines of the containers that crash, exit with an error, fail a probe or hang in
   * an init container; absent when logs were not read (`snapshot --no-logs`, older dumps).
   */
  containerLogs?: ContainerLog[];
  /**
   * The cluster DNS Service whose EndpointSlices {@link endpointSlices} holds (`--cluster-dns`,
   * default `kube-system/kube-dns`); absent in snapshots that did not say (older dumps).
   */
  clusterDns?: ServiceName;
  /**
   * The EndpointSlices of the cluster DNS Service ({@link clusterDns}), read only when a replica
   * is Running but not Ready or stuck in an init container (view.ts `clusterDnsSuspects`);
   * absent or empty otherwise. When they were read and there are none, an `endpointslices` gap
   * says so.
   */
  endpointSlices?: EndpointSlice[];
  /**
   * The resources read by name only ({@link ReadScope}); absent, or a resource not in it: `all`.
   * A live read of one namespace with a healthy StatefulSet sets it; `-A` and dumps without it read all.
   */
  scope?: Partial<Record<ScopedResource, ReadScope>>;
  gaps: Gap[];
}

/** A Service by namespace and name: `kube-system/kube-dns`. */
export interface ServiceName {
  namespace: string;
  name: string;
}

/** The label the EndpointSlice controller sets to the name of the slice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * One endpoint of an EndpointSlice (the discovery.k8s.io/v1 `Endpoint` type; EndpointSlices are GA in 1.21). The conditions follow the
 * API's own rules: `ready` unset means ready ("consumers should interpret this unknown state as
 * ready"), and is false for a terminating endpoint unless publishNotReadyAddresses; `serving` is
 * readiness regardless of termination; `terminating` is set for an endpoint being deleted.
 */
export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
  nodeName?: string;
}

/** A discovery.k8s.io/v1 EndpointSlice: the endpoints of a Service, as the EndpointSlice controller publishes them. */
export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: { name?: string | null; port?: number | null; protocol?: string | null }[] | null;
}

/** A networking.k8s.io/v1 NetworkPolicy: the fields src/rules/network-policy.ts reads. */
export interface NetworkPolicy extends KubeObject {
  spec: {
    podSelector?: LabelSelector;
    /** Defaulted by the API server: `["Ingress"]`, plus `"Egress"` when `egress` has rules. */
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: NetworkPolicyIngressRule[];
    egress?: NetworkPolicyEgressRule[];
  };
}

/** One peer of a NetworkPolicy rule: pods (and namespaces) by selector, or an IP block. */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

/** One port of a NetworkPolicy rule: protocol (default TCP), a number or named port, an optional range end. */
export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}
