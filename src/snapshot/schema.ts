/**
 * One schema check for every object sts-doctor reads, from a dump or the API: the fields the
 * rules read (src/snapshot/types.ts), with their types. Unknown fields pass through untouched
 * (loose objects); a field that is present with the wrong type, or a required one that is
 * missing, makes the object invalid, with one sentence naming the object and the field
 * (`Pod quiz-1: status.containerStatuses is not a list`). Timestamps must parse as times,
 * `spec.replicas` and `spec.ordinals.start` must be int32 values as the API server validates
 * them.
 *
 * Callers: {@link validateObjects} from normalize.ts (trimSnapshot, which both the live and the
 * dump path go through: an invalid object is dropped and becomes a Gap), {@link checkStatefulSet}
 * for the StatefulSets themselves (an invalid one is one clear error), {@link checkDumpHeader}
 * for `sts-doctor snapshot`'s header. Built on valibot (small, tree-shaken, no start-up cost on
 * paths that do not read objects).
 */
import * as v from 'valibot';
import { StsDoctorError } from '../errors.js';
import { RESOURCE_TYPES, SCOPED_RESOURCES, type ContainerLog, type Gap, type KubeObject, type ResourceName, type StatefulSet } from './types.js';

/** A StatefulSet (or a dump header) that does not have the shape the API server guarantees. */
export class InvalidObjectError extends StsDoctorError {}

const str = v.string();
const optStr = v.optional(str);
const optNum = v.optional(v.number());
const optBool = v.optional(v.boolean());
const time = v.pipe(str, v.check((s) => !Number.isNaN(Date.parse(s)), 'not a time'));
/** Fields the API server writes as `null` when unset (core/v1 Event times, `lastProbeTime`, template `creationTimestamp`). */
const nullTime = v.nullish(time);
const strMap = v.optional(v.record(str, str));
const strList = v.optional(v.array(str));
const int32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2147483647));
const loose = v.looseObject;
/** A DNS-1123 label (RFC 1123): a namespace or Service name. */
const dnsLabel = v.pipe(str, v.maxLength(63), v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/));

const meta = loose({
  name: str,
  namespace: optStr,
  uid: optStr,
  resourceVersion: optStr,
  generation: optNum,
  creationTimestamp: nullTime,
  deletionTimestamp: nullTime,
  deletionGracePeriodSeconds: optNum,
  labels: strMap,
  annotations: strMap,
  ownerReferences: v.optional(v.array(loose({ apiVersion: optStr, kind: str, name: str, uid: str, controller: optBool }))),
  finalizers: strList,
});
const templateMeta = v.optional(loose({ name: optStr, namespace: optStr, creationTimestamp: nullTime, labels: strMap, annotations: strMap }));

const requirement = loose({ key: str, operator: str, values: strList });
const selector = loose({ matchLabels: strMap, matchExpressions: v.optional(v.array(requirement)) });
const condition = loose({
  type: str,
  status: str,
  reason: optStr,
  message: optStr,
  lastTransitionTime: nullTime,
  lastHeartbeatTime: nullTime,
  lastProbeTime: nullTime,
});
const conditions = v.optional(v.array(condition));
const port = v.optional(v.union([v.number(), str]));
const probe = v.optional(
  loose({
    httpGet: v.optional(loose({ path: optStr, port, scheme: optStr })),
    tcpSocket: v.optional(loose({ port })),
    exec: v.optional(loose({ command: strList })),
    grpc: v.optional(loose({ port: optNum, service: optStr })),
    initialDelaySeconds: optNum,
    periodSeconds: optNum,
    failureThreshold: optNum,
    timeoutSeconds: optNum,
  }),
);
const container = loose({
  name: str,
  image: optStr,
  imagePullPolicy: optStr,
  command: strList,
  args: strList,
  env: v.optional(v.array(loose({ name: str, value: optStr }))),
  envFrom: v.optional(v.array(v.unknown())),
  resources: v.optional(loose({ requests: strMap, limits: strMap })),
  readinessProbe: probe,
  livenessProbe: probe,
  startupProbe: probe,
  volumeMounts: v.optional(v.array(loose({ name: str, mountPath: str }))),
  restartPolicy: optStr,
  ports: v.optional(v.array(loose({ name: optStr, containerPort: v.number(), protocol: optStr }))),
});
const podSpec = loose({
  containers: v.array(container),
  initContainers: v.optional(v.array(container)),
  volumes: v.optional(
    v.array(
      loose({
        name: str,
        persistentVolumeClaim: v.optional(loose({ claimName: str, readOnly: optBool })),
        configMap: v.optional(loose({ name: optStr, optional: optBool })),
        secret: v.optional(loose({ secretName: optStr, optional: optBool })),
      }),
    ),
  ),
  nodeName: optStr,
  nodeSelector: strMap,
  tolerations: v.optional(v.array(loose({ key: optStr, operator: optStr, value: optStr, effect: optStr, tolerationSeconds: optNum }))),
  imagePullSecrets: v.optional(v.array(loose({ name: optStr }))),
  serviceAccountName: optStr,
  hostname: optStr,
  subdomain: optStr,
  schedulerName: optStr,
});
const podTemplate = loose({ metadata: templateMeta, spec: podSpec });
const claimSpec = loose({
  accessModes: strList,
  storageClassName: v.nullish(str),
  volumeName: optStr,
  volumeMode: optStr,
  resources: v.optional(loose({ requests: strMap })),
  selector: v.optional(selector),
});
const waiting = v.optional(loose({ reason: optStr, message: optStr }));
const terminated = v.optional(loose({ reason: optStr, message: optStr, exitCode: optNum, signal: optNum, startedAt: nullTime, finishedAt: nullTime }));
const state = v.optional(loose({ waiting, running: v.optional(loose({ startedAt: nullTime })), terminated }));
const containerStatus = loose({ name: str, image: optStr, imageID: optStr, ready: v.boolean(), started: optBool, restartCount: v.number(), state, lastState: state });
const policyPeer = loose({ podSelector: v.optional(selector), namespaceSelector: v.optional(selector), ipBlock: v.optional(loose({ cidr: str, except: strList })) });
const policyPort = loose({ protocol: optStr, port, endPort: optNum });
const nodeSelectorTerm = loose({ matchExpressions: v.optional(v.array(requirement)), matchFields: v.optional(v.array(requirement)) });

const statefulSet = loose({
  metadata: meta,
  spec: loose({
    replicas: v.optional(int32),
    selector,
    serviceName: optStr,
    podManagementPolicy: v.optional(v.picklist(['OrderedReady', 'Parallel'])),
    minReadySeconds: optNum,
    ordinals: v.optional(loose({ start: v.optional(int32) })),
    revisionHistoryLimit: optNum,
    updateStrategy: v.optional(
      loose({
        type: v.optional(v.picklist(['RollingUpdate', 'OnDelete'])),
        rollingUpdate: v.optional(loose({ partition: v.optional(int32), maxUnavailable: port })),
      }),
    ),
    persistentVolumeClaimRetentionPolicy: v.optional(loose({ whenDeleted: v.optional(v.picklist(['Retain', 'Delete'])), whenScaled: v.optional(v.picklist(['Retain', 'Delete'])) })),
    template: podTemplate,
    volumeClaimTemplates: v.optional(v.array(loose({ metadata: loose({ name: str }), spec: v.optional(claimSpec) }))),
  }),
  status: v.optional(
    loose({
      observedGeneration: optNum,
      replicas: optNum,
      readyReplicas: optNum,
      availableReplicas: optNum,
      currentReplicas: optNum,
      updatedReplicas: optNum,
      currentRevision: optStr,
      updateRevision: optStr,
      collisionCount: optNum,
      conditions,
    }),
  ),
});

/** The schema of each resource a Snapshot holds. */
const SCHEMAS: Record<ResourceName, v.GenericSchema> = {
  statefulsets: statefulSet,
  pods: loose({
    metadata: meta,
    spec: podSpec,
    status: v.optional(
      loose({
        phase: optStr,
        reason: optStr,
        message: optStr,
        conditions,
        containerStatuses: v.optional(v.array(containerStatus)),
        initContainerStatuses: v.optional(v.array(containerStatus)),
        hostIP: optStr,
        podIP: optStr,
        startTime: nullTime,
        nominatedNodeName: optStr,
      }),
    ),
  }),
  persistentvolumeclaims: loose({
    metadata: meta,
    spec: claimSpec,
    status: v.optional(loose({ phase: optStr, capacity: strMap, accessModes: strList, conditions })),
  }),
  events: loose({
    metadata: meta,
    involvedObject: loose({ kind: optStr, namespace: optStr, name: optStr, uid: optStr, apiVersion: optStr, fieldPath: optStr }),
    type: optStr,
    reason: optStr,
    message: optStr,
    source: v.optional(loose({ component: optStr, host: optStr })),
    reportingComponent: optStr,
    reportingInstance: optStr,
    count: optNum,
    firstTimestamp: nullTime,
    lastTimestamp: nullTime,
    eventTime: nullTime,
    series: v.nullish(loose({ count: optNum, lastObservedTime: nullTime })),
  }),
  services: loose({
    metadata: meta,
    spec: loose({
      clusterIP: optStr,
      clusterIPs: strList,
      type: optStr,
      selector: strMap,
      ports: v.optional(v.array(loose({ name: optStr, port: v.number(), targetPort: port, protocol: optStr }))),
      publishNotReadyAddresses: optBool,
    }),
  }),
  controllerrevisions: loose({
    metadata: meta,
    revision: v.number(),
    data: v.optional(loose({ spec: v.optional(loose({ template: v.optional(podTemplate) })) })),
  }),
  resourcequotas: loose({
    metadata: meta,
    spec: v.optional(loose({ hard: strMap })),
    status: v.optional(loose({ hard: strMap, used: strMap })),
  }),
  nodes: loose({
    metadata: meta,
    spec: v.optional(loose({ unschedulable: optBool, taints: v.optional(v.array(loose({ key: str, value: optStr, effect: str, timeAdded: nullTime }))), providerID: optStr })),
    status: v.optional(
      loose({
        conditions,
        allocatable: strMap,
        capacity: strMap,
        volumesAttached: v.optional(v.array(loose({ name: str, devicePath: optStr }))),
        volumesInUse: strList,
        nodeInfo: v.optional(loose({ kubeletVersion: optStr })),
      }),
    ),
  }),
  persistentvolumes: loose({
    metadata: meta,
    spec: loose({
      capacity: strMap,
      accessModes: strList,
      storageClassName: optStr,
      persistentVolumeReclaimPolicy: optStr,
      claimRef: v.optional(loose({ namespace: optStr, name: optStr, uid: optStr })),
      nodeAffinity: v.optional(loose({ required: v.optional(loose({ nodeSelectorTerms: v.array(nodeSelectorTerm) })) })),
      local: v.optional(loose({ path: str })),
      hostPath: v.optional(loose({ path: str })),
      csi: v.optional(loose({ driver: str, volumeHandle: str })),
    }),
    status: v.optional(loose({ phase: optStr, message: optStr })),
  }),
  storageclasses: loose({
    metadata: meta,
    provisioner: str,
    reclaimPolicy: optStr,
    volumeBindingMode: optStr,
    allowVolumeExpansion: optBool,
    parameters: strMap,
  }),
  networkpolicies: loose({
    metadata: meta,
    spec: loose({
      podSelector: v.optional(selector),
      policyTypes: v.optional(v.array(v.picklist(['Ingress', 'Egress']))),
      ingress: v.optional(v.array(loose({ from: v.optional(v.array(policyPeer)), ports: v.optional(v.array(policyPort)) }))),
      egress: v.optional(v.array(loose({ to: v.optional(v.array(policyPeer)), ports: v.optional(v.array(policyPort)) }))),
    }),
  }),
  leases: loose({
    metadata: meta,
    spec: v.optional(loose({ holderIdentity: optStr, renewTime: nullTime, leaseDurationSeconds: optNum })),
  }),
  endpointslices: loose({
    metadata: meta,
    addressType: str,
    endpoints: v.nullish(
      v.array(
        loose({
          addresses: v.array(str),
          conditions: v.optional(loose({ ready: v.nullish(v.boolean()), serving: v.nullish(v.boolean()), terminating: v.nullish(v.boolean()) })),
          targetRef: v.optional(loose({ kind: optStr, namespace: optStr, name: optStr, uid: optStr })),
          nodeName: optStr,
        }),
      ),
    ),
    ports: v.nullish(v.array(loose({ name: v.nullish(str), port: v.nullish(v.number()), protocol: v.nullish(str) }))),
  }),
  volumeattachments: loose({
    metadata: meta,
    spec: loose({ attacher: str, nodeName: str, source: loose({ persistentVolumeName: optStr }) }),
    status: v.optional(
      loose({
        attached: v.boolean(),
        attachError: v.optional(loose({ message: optStr, time: nullTime })),
        detachError: v.optional(loose({ message: optStr, time: nullTime })),
      }),
    ),
  }),
};

const KIND = Object.fromEntries(Object.entries(RESOURCE_TYPES).map(([r, t]) => [r, t.kind])) as Record<ResourceName, string>;

const EXPECTED: Record<string, string> = {
  array: 'a list',
  object: 'an object',
  loose_object: 'an object',
  record: 'a map',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  integer: 'a whole number',
  min_value: 'a number from 0 to 2147483647',
  max_value: 'a number from 0 to 2147483647',
  check: 'an RFC 3339 time',
  regex: 'a DNS label (lowercase letters, digits and -)',
  max_length: 'at most 63 characters long',
};

/** The field path of an issue: `status.containerStatuses[0].ready`. */
function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const p of issue.path ?? []) {
    const key = (p as { key: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || 'the object';
}

/** One sentence for the first issue: `status.containerStatuses is not a list`, `spec is missing`. */
function describe(issue: v.BaseIssue<unknown>): string {
  const path = fieldPath(issue);
  if (issue.received === 'undefined') return `${path} is missing`;
  if (issue.type === 'picklist') return `${path} is not one of ${issue.expected?.replace(/"/g, '') ?? 'the allowed values'}`;
  if (issue.type === 'union') return `${path} is not a number or a string`;
  return `${path} is not ${EXPECTED[issue.type] ?? `valid (${issue.type})`}`;
}

/** The name an invalid object is called by: `Pod demo/quiz-1`, or its position when it has no name. */
function nameOf(resource: ResourceName, obj: unknown, index: number): string {
  const m = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof m?.name === 'string' && m.name ? m.name : `#${index + 1}`;
  const ns = typeof m?.namespace === 'string' && m.namespace ? `${m.namespace}/` : '';
  return `${KIND[resource]} ${ns}${name}`;
}

/**
 * Checks one object against its resource's schema.
 * @returns undefined when valid, else one sentence: `Pod demo/quiz-1: status.containerStatuses is not a list`
 */
export function invalidReason(resource: ResourceName, obj: unknown, index = 0): string | undefined {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return `${KIND[resource]} #${index + 1}: not an object`;
  const r = v.safeParse(SCHEMAS[resource], obj, { abortEarly: true });
  if (r.success) return undefined;
  return `${nameOf(resource, obj, index)}: ${describe(r.issues[0])}`;
}

/** At most this many invalid objects are named in a gap's message; the rest are counted. */
const NAMED_INVALID = 3;

/**
 * Keeps the valid objects of one resource. The invalid ones are dropped and recorded as one
 * `invalid` Gap for the resource (naming the first few), so that the rules treat the resource
 * as not fully read: never "missing" because an object could not be understood.
 */
export function validateObjects<T extends KubeObject>(resource: ResourceName, list: unknown[], gaps: Gap[]): T[] {
  const kept: T[] = [];
  const bad: string[] = [];
  list.forEach((o, i) => {
    const why = invalidReason(resource, o, i);
    if (why) bad.push(why);
    else kept.push(o as T);
  });
  if (bad.length) {
    const more = bad.length > NAMED_INVALID ? ` (and ${bad.length - NAMED_INVALID} more invalid ${resource})` : '';
    gaps.push({ resource, reason: 'invalid', message: `${resource}: not understood: ${bad.slice(0, NAMED_INVALID).join('; ')}${more}` });
  }
  return kept;
}

/**
 * Checks a StatefulSet read from a dump or the API: the object under diagnosis must have the
 * shape the API server guarantees. @throws InvalidObjectError with one sentence.
 */
export function checkStatefulSet(obj: unknown, index = 0): StatefulSet {
  const why = invalidReason('statefulsets', obj, index);
  if (why) throw new InvalidObjectError(`${why}; this StatefulSet cannot be diagnosed.`);
  return obj as StatefulSet;
}

const containerLog = loose({
  namespace: str,
  pod: str,
  uid: optStr,
  container: str,
  init: v.boolean(),
  previous: v.boolean(),
  lines: v.array(str),
  truncated: v.boolean(),
});

/**
 * Keeps the well-formed container log excerpts (types.ts ContainerLog) of a snapshot or dump
 * header. An entry without that shape is dropped, and one `podlogs` gap with reason `invalid`
 * names the first; nothing else about the snapshot changes.
 */
export function validateContainerLogs(list: unknown, gaps: Gap[]): ContainerLog[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    gaps.push({ resource: 'podlogs', reason: 'invalid', message: 'podlogs: not understood: containerLogs is not a list' });
    return [];
  }
  const kept: ContainerLog[] = [];
  let bad: string | undefined;
  let badCount = 0;
  list.forEach((o, i) => {
    const r = v.safeParse(containerLog, o, { abortEarly: true });
    if (r.success) kept.push(o as ContainerLog);
    else {
      badCount++;
      bad ??= `containerLogs[${i}]: ${describe(r.issues[0])}`;
    }
  });
  if (bad) gaps.push({ resource: 'podlogs', reason: 'invalid', message: `podlogs: not understood: ${bad}${badCount > 1 ? ` (and ${badCount - 1} more)` : ''}` });
  return kept;
}

const header = loose({
  schemaVersion: v.optional(v.number()),
  now: time,
  namespace: str,
  gaps: v.array(
    loose({
      resource: v.picklist([...(Object.keys(KIND) as ResourceName[]), 'podlogs']),
      reason: v.picklist(['forbidden', 'not-found', 'unavailable', 'error', 'absent', 'invalid']),
      message: str,
    }),
  ),
  // The resources the snapshot read (from-dump.ts DumpHeader.read): names, not checked against
  // this version's list, so that a newer sts-doctor's dump still loads.
  read: v.optional(v.array(str)),
  // Printed in kubectl commands (cluster-dns-unavailable's recovery): DNS labels only, as --cluster-dns takes them.
  clusterDns: v.optional(loose({ namespace: dnsLabel, name: dnsLabel })),
  // types.ts ReadScope per cluster-scoped resource; absent (older dumps): every object was listed.
  scope: v.optional(v.strictObject(Object.fromEntries(SCOPED_RESOURCES.map((r) => [r, v.optional(v.picklist(['all', 'named']))])))),
});

/** Checks `sts-doctor snapshot`'s `stsDoctor` header. @returns undefined when valid, else one phrase (`stsDoctor.gaps is not a list`). */
export function invalidHeader(obj: unknown): string | undefined {
  const r = v.safeParse(header, obj, { abortEarly: true });
  if (r.success) return undefined;
  return `stsDoctor.${describe(r.issues[0])}`;
}
