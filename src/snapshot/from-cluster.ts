/**
 * Live collection: the only code that reads the cluster. A fixed set of requests issued in
 * parallel, independent of the number of replicas:
 *
 *   GET  the StatefulSet (or LIST the namespace's StatefulSets)
 *   LIST pods (by the selectors), PVCs, events, services, controllerrevisions, resourcequotas
 *   LIST nodes, persistentvolumes, storageclasses, volumeattachments (cluster-scoped)
 *   GET  /version
 *
 * A read that fails with 403/404 becomes a Gap in the Snapshot; only a failure to read the
 * StatefulSet itself is fatal.
 */
import { ApiError, NotFoundError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type {
  ControllerRevision,
  Gap,
  KubeEvent,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ResourceName,
  ResourceQuota,
  Service,
  Snapshot,
  StatefulSet,
  StorageClass,
  VolumeAttachment,
} from './types.js';
import { selectorString } from './view.js';
import { trimSnapshot } from './normalize.js';

export interface CollectOptions {
  namespace: string;
  /** One StatefulSet by name; when absent, every StatefulSet in the namespace (optionally filtered by `labelSelector`). */
  name?: string;
  /** `-l/--selector` on StatefulSets when no name is given. */
  labelSelector?: string;
  /** Clock for `snapshot.now` (RFC 3339); default the local clock. */
  now?: string;
  context?: string;
}

const paths: Record<Exclude<ResourceName, 'statefulsets'>, (ns: string) => string> = {
  pods: (ns) => `/api/v1/namespaces/${ns}/pods`,
  persistentvolumeclaims: (ns) => `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
  events: (ns) => `/api/v1/namespaces/${ns}/events`,
  services: (ns) => `/api/v1/namespaces/${ns}/services`,
  controllerrevisions: (ns) => `/apis/apps/v1/namespaces/${ns}/controllerrevisions`,
  resourcequotas: (ns) => `/api/v1/namespaces/${ns}/resourcequotas`,
  nodes: () => `/api/v1/nodes`,
  persistentvolumes: () => `/api/v1/persistentvolumes`,
  storageclasses: () => `/apis/storage.k8s.io/v1/storageclasses`,
  volumeattachments: () => `/apis/storage.k8s.io/v1/volumeattachments`,
};

/**
 * Reads a Snapshot from the cluster.
 * @throws NotFoundError when the named StatefulSet does not exist; ApiError when the API server
 *   cannot be reached or the StatefulSet cannot be read (e.g. 401, 403).
 */
export async function collectFromCluster(client: KubeClient, opts: CollectOptions): Promise<Snapshot> {
  const ns = opts.namespace;
  const enc = encodeURIComponent;
  let statefulSets: StatefulSet[];
  if (opts.name) {
    try {
      statefulSets = [await client.get<StatefulSet>(`/apis/apps/v1/namespaces/${enc(ns)}/statefulsets/${enc(opts.name)}`)];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new NotFoundError(`StatefulSet "${opts.name}" not found in namespace "${ns}".`);
      throw err;
    }
    statefulSets[0]!.apiVersion ??= 'apps/v1';
    statefulSets[0]!.kind ??= 'StatefulSet';
  } else {
    statefulSets = await client.list<StatefulSet>(`/apis/apps/v1/namespaces/${enc(ns)}/statefulsets`, { labelSelector: opts.labelSelector });
  }

  const gaps: Gap[] = [];
  const read = async <T>(resource: Exclude<ResourceName, 'statefulsets'>, query: Record<string, string | undefined> = {}): Promise<T[]> => {
    try {
      return await client.list<T>(paths[resource](enc(ns)), query);
    } catch (err) {
      if (err instanceof ApiError && err.status !== undefined && [401, 403, 404].includes(err.status)) {
        gaps.push({
          resource,
          reason: err.status === 404 ? 'not-found' : 'forbidden',
          message: `${resource}: ${err.status === 404 ? 'not served by this cluster' : 'forbidden'} (${err.message})`,
        });
        return [];
      }
      throw err;
    }
  };
  // With one StatefulSet, pods and revisions are listed by its selector; otherwise the whole namespace.
  const selector = statefulSets.length === 1 ? selectorString(statefulSets[0]!.spec.selector) : undefined;
  const [pods, persistentVolumeClaims, events, services, controllerRevisions, resourceQuotas, nodes, persistentVolumes, storageClasses, volumeAttachments, version] =
    await Promise.all([
      read<Pod>('pods', { labelSelector: selector }),
      read<PersistentVolumeClaim>('persistentvolumeclaims'),
      read<KubeEvent>('events'),
      read<Service>('services'),
      read<ControllerRevision>('controllerrevisions', { labelSelector: selector }),
      read<ResourceQuota>('resourcequotas'),
      read<Node>('nodes'),
      read<PersistentVolume>('persistentvolumes'),
      read<StorageClass>('storageclasses'),
      read<VolumeAttachment>('volumeattachments'),
      client.get<{ gitVersion?: string }>('/version').catch(() => undefined),
    ]);

  const snapshot: Snapshot = {
    schemaVersion: 1,
    source: { type: 'cluster', server: client.server, requests: client.requests },
    now: opts.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    namespace: ns,
    statefulSets,
    pods,
    persistentVolumeClaims,
    events,
    services,
    controllerRevisions,
    resourceQuotas,
    nodes,
    persistentVolumes,
    storageClasses,
    volumeAttachments,
    gaps,
  };
  if (opts.context && snapshot.source.type === 'cluster') snapshot.source.context = opts.context;
  if (version?.gitVersion && snapshot.source.type === 'cluster') snapshot.source.serverVersion = version.gitVersion;
  return trimSnapshot(snapshot);
}

/** Exposed for tests: every object kind a live collection reads. */
export const COLLECTED_RESOURCES: ResourceName[] = ['statefulsets', ...(Object.keys(paths) as ResourceName[])];

