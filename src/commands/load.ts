/**
 * Produces the Snapshot a command works on: from the cluster through the kubeconfig, or from a
 * saved dump with `--from`.
 */
import type { Snapshot } from '../snapshot/types.js';
import { checkReadOptions, parseNow, requestTimeoutMs, type ReadOptions } from './options.js';

/**
 * Reads the Snapshot for StatefulSet `name` (or every StatefulSet in scope).
 * @throws UsageError, KubeconfigError, ApiError, NotFoundError, DumpError
 */
export async function loadSnapshot(name: string | undefined, opts: ReadOptions): Promise<Snapshot> {
  checkReadOptions(name, opts);
  const now = parseNow(opts.now);
  if (opts.from) {
    const { snapshotFromDump } = await import('../snapshot/from-dump.js');
    return snapshotFromDump(opts.from, { name, namespace: opts.namespace, labelSelector: opts.selector, now });
  }
  const timeout = requestTimeoutMs(opts.requestTimeout);
  const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster }] = await Promise.all([
    import('../kube/kubeconfig.js'),
    import('../kube/client.js'),
    import('../snapshot/from-cluster.js'),
  ]);
  const config = resolveKubeconfig(opts);
  const client = new KubeClient(config, timeout);
  const snapshot = await collectFromCluster(client, { namespace: config.namespace, name, labelSelector: opts.selector, context: config.context });
  if (snapshot.source.type === 'cluster') snapshot.source.requests = client.requests;
  return snapshot;
}
