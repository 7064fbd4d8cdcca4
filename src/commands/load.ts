/**
 * Produces the Snapshots a command works on: from the cluster through the kubeconfig, or from a
 * saved dump with `--from`. One Snapshot per namespace in scope (several only with `-A`).
 */
import { UsageError } from '../errors.js';
import type { Snapshot } from '../snapshot/types.js';
import { checkReadOptions, parseNow, requestTimeoutMs, type ReadOptions } from './options.js';

/**
 * Reads the Snapshot for StatefulSet `name` (or every StatefulSet in the namespace).
 * @throws UsageError (also for `-A`: use {@link loadSnapshots}), KubeconfigError, ApiError,
 *   NotFoundError, DumpError
 */
export async function loadSnapshot(name: string | undefined, opts: ReadOptions): Promise<Snapshot> {
  if (opts.allNamespaces) throw new UsageError('-A/--all-namespaces is not supported by this command.');
  const [snapshot] = await loadSnapshots(name, opts);
  return snapshot!;
}

/**
 * Reads the Snapshots in scope: one for the namespace, or with `-A` one per namespace that
 * holds a matching StatefulSet (possibly none). Live, every snapshot's `source.requests` is the
 * total number of requests sent.
 * @throws UsageError, KubeconfigError, ApiError, NotFoundError, DumpError
 */
export async function loadSnapshots(name: string | undefined, opts: ReadOptions): Promise<Snapshot[]> {
  checkReadOptions(name, opts);
  const now = parseNow(opts.now);
  if (opts.from) {
    const { snapshotsFromDump } = await import('../snapshot/from-dump.js');
    return snapshotsFromDump(opts.from, { name, namespace: opts.namespace, labelSelector: opts.selector, now, allNamespaces: opts.allNamespaces });
  }
  const timeout = requestTimeoutMs(opts.requestTimeout);
  const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster, collectAllNamespaces }] = await Promise.all([
    import('../kube/kubeconfig.js'),
    import('../kube/client.js'),
    import('../snapshot/from-cluster.js'),
  ]);
  const config = resolveKubeconfig(opts);
  const client = new KubeClient(config, timeout);
  const snapshots = opts.allNamespaces
    ? await collectAllNamespaces(client, { labelSelector: opts.selector, context: config.context })
    : [await collectFromCluster(client, { namespace: config.namespace, name, labelSelector: opts.selector, context: config.context })];
  for (const s of snapshots) if (s.source.type === 'cluster') s.source.requests = client.requests;
  return snapshots;
}
