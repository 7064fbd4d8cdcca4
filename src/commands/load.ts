/**
 * Produces the Snapshots a command works on: from the cluster through the kubeconfig, or from a
 * saved dump with `--from`. One Snapshot per namespace in scope (several only with `-A`).
 */
import { NotFoundError, UsageError } from '../errors.js';
import type { Snapshot } from '../snapshot/types.js';
import { checkNamespace, checkReadOptions, parseNow, requestTimeoutMs, type ReadOptions } from './options.js';

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
 * holds a matching StatefulSet. Nothing matched is an error, never an empty (green) result.
 * Live, every snapshot's `source.requests` is the total number of requests sent.
 * @throws UsageError, KubeconfigError, ApiError, DumpError; NotFoundError when the named
 *   StatefulSet does not exist or no StatefulSet matches (with where to look instead)
 */
export async function loadSnapshots(name: string | undefined, opts: ReadOptions): Promise<Snapshot[]> {
  checkReadOptions(name, opts);
  const now = parseNow(opts.now);
  if (opts.from !== undefined) {
    const { snapshotsFromDump } = await import('../snapshot/from-dump.js');
    const snapshots = await snapshotsFromDump(opts.from, { name, namespace: opts.namespace, labelSelector: opts.selector, now, allNamespaces: opts.allNamespaces });
    if (matchedNothing(snapshots)) throw new NotFoundError(`${nothingMatched(opts, snapshots[0]?.namespace)} in the dump.`);
    return snapshots;
  }
  const timeout = requestTimeoutMs(opts.requestTimeout);
  const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster, collectAllNamespaces }] = await Promise.all([
    import('../kube/kubeconfig.js'),
    import('../kube/client.js'),
    import('../snapshot/from-cluster.js'),
  ]);
  const config = resolveKubeconfig(opts);
  if (opts.namespace === undefined && !opts.allNamespaces) checkNamespace(config.namespace, "The kubeconfig context's namespace");
  const client = new KubeClient(config, timeout);
  const snapshots = opts.allNamespaces
    ? await collectAllNamespaces(client, { labelSelector: opts.selector, context: config.context })
    : [await collectFromCluster(client, { namespace: config.namespace, name, labelSelector: opts.selector, context: config.context })];
  if (matchedNothing(snapshots)) {
    const { namespaceHint } = await import('../snapshot/from-cluster.js');
    const hint = opts.allNamespaces ? '' : await namespaceHint(client, config.namespace);
    throw new NotFoundError(`${nothingMatched(opts, config.namespace)}${hint}.`);
  }
  for (const s of snapshots) if (s.source.type === 'cluster') s.source.requests = client.requests;
  return snapshots;
}

/** True when no snapshot holds a StatefulSet. */
function matchedNothing(snapshots: Snapshot[]): boolean {
  return snapshots.every((s) => s.statefulSets.length === 0);
}

/** The sentence for nothing matched: `No StatefulSet matches -l app=x in namespace "demo"`. */
function nothingMatched(opts: ReadOptions, namespace: string | undefined): string {
  const where = opts.allNamespaces ? 'in any namespace' : `in namespace "${namespace ?? opts.namespace ?? 'default'}"`;
  return opts.selector ? `No StatefulSet matches -l ${opts.selector} ${where}` : `No StatefulSet ${where}`;
}
