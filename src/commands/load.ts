/**
 * Produces the Snapshots a command works on: from the cluster through the kubeconfig, or from a
 * saved dump with `--from`. One Snapshot per namespace in scope (several only with `-A`).
 */
import { NotFoundError, UsageError } from '../errors.js';
import type { Snapshot } from '../snapshot/types.js';
import { checkNamespace, checkReadOptions, parseClusterDns, parseNow, requestTimeoutMs, type ReadOptions } from './options.js';

/** How one read of the cluster is bounded. */
export interface ReadSession {
  /**
   * Absolute deadline (ms since the epoch) that no request of this read outlasts (see
   * KubeClient.deadline); `wait` passes its `--timeout` end so that it ends on time.
   */
  deadline?: number;
}

/**
 * Reads the Snapshot for StatefulSet `name` (or every StatefulSet in the namespace).
 * @throws UsageError (also for `-A`: use {@link loadSnapshots}), KubeconfigError, ApiError,
 *   NotFoundError, DumpError
 */
export async function loadSnapshot(name: string | undefined, opts: ReadOptions, session: ReadSession = {}): Promise<Snapshot> {
  if (opts.allNamespaces) throw new UsageError('-A/--all-namespaces is not supported by this command.');
  const [snapshot] = await loadSnapshots(name, opts, session);
  return snapshot!;
}

/**
 * Reads the Snapshots in scope: one for the namespace, or with `-A` one per namespace that
 * holds a matching StatefulSet. Nothing matched is an error, never an empty (green) result.
 * Live, every snapshot's `source.requests` is the number of requests this read sent. Live reads
 * share one connection per process (src/kube/connect.ts): a loop that calls this every round
 * reuses the TLS agent and the exec plugin's credential.
 * @throws UsageError, KubeconfigError, ApiError, DumpError; NotFoundError when the named
 *   StatefulSet does not exist or no StatefulSet matches (with where to look instead)
 */
export async function loadSnapshots(name: string | undefined, opts: ReadOptions, session: ReadSession = {}): Promise<Snapshot[]> {
  checkReadOptions(name, opts);
  const now = parseNow(opts.now);
  const clusterDns = parseClusterDns(opts.clusterDns);
  if (opts.from !== undefined) {
    const { snapshotsFromDump } = await import('../snapshot/from-dump.js');
    const snapshots = await snapshotsFromDump(opts.from, { name, namespace: opts.namespace, labelSelector: opts.selector, now, allNamespaces: opts.allNamespaces, clusterDns });
    if (matchedNothing(snapshots)) throw new NotFoundError(`${nothingMatched(opts, snapshots[0]?.namespace)} in the dump.`);
    return snapshots;
  }
  const timeout = requestTimeoutMs(opts.requestTimeout);
  const [{ connect }, { collectFromCluster, collectAllNamespaces, namespaceHint }] = await Promise.all([import('../kube/connect.js'), import('../snapshot/from-cluster.js')]);
  const { config, client } = connect(opts, timeout);
  if (opts.namespace === undefined && !opts.allNamespaces) checkNamespace(config.namespace, "The kubeconfig context's namespace");
  client.deadline = session.deadline;
  const before = client.requests;
  const snapshots = opts.allNamespaces
    ? await collectAllNamespaces(client, { labelSelector: opts.selector, context: config.context, logs: opts.logs, clusterDns })
    : [await collectFromCluster(client, { namespace: config.namespace, name, labelSelector: opts.selector, context: config.context, logs: opts.logs, clusterDns })];
  if (matchedNothing(snapshots)) {
    const hint = opts.allNamespaces ? '' : await namespaceHint(client, config.namespace);
    throw new NotFoundError(`${nothingMatched(opts, config.namespace)}${hint}.`);
  }
  for (const s of snapshots) if (s.source.type === 'cluster') s.source.requests = client.requests - before;
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
