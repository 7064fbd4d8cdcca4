/**
 * `sts-doctor wait <name>`: the CI gate. Re-reads and re-diagnoses the StatefulSet every
 * `--interval` (the watch loop of src/recovery/watch.ts, shared with `recover`) until it is
 * healthy (exit 0) or `--timeout` passes (exit 1), printing one progress line per change on
 * stderr, then the final diagnosis on stdout in the chosen format. A restarting or throttling
 * API server is retried until the deadline ("API server unreachable, retrying (12 s)"); the
 * command ends within about a second of `--timeout`. Ctrl+C ends it with exit 130.
 */
import { type Diagnosis } from '../diagnosis.js';
import { render, type OutputFormat } from '../report/index.js';
import { progressLine, watch } from '../recovery/watch.js';
import { setSuggestedConnection } from '../recovery/command.js';
import type { Snapshot } from '../snapshot/types.js';
import { exitCodeOf } from './diagnose.js';
import { checkReadOptions, parseDuration, requestTimeoutMs, type ReadOptions } from './options.js';
import { UsageError } from '../errors.js';

export { progressLine };

export interface WaitOptions extends ReadOptions {
  output: OutputFormat;
  timeout: string;
  interval: string;
}

/** Exit code of a wait ended by Ctrl+C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

export async function waitCommand(name: string | undefined, opts: WaitOptions): Promise<number> {
  if (opts.from) throw new UsageError('wait reads the cluster; --from does not apply.');
  if (opts.allNamespaces) throw new UsageError('-A/--all-namespaces is not supported by this command.');
  checkReadOptions(name, opts);
  const timeoutMs = parseDuration(opts.timeout, '--timeout');
  const intervalMs = parseDuration(opts.interval, '--interval');
  if (intervalMs < 500) throw new UsageError('--interval must be at least 500ms.');
  setSuggestedConnection(opts);
  const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster }] = await Promise.all([
    import('../kube/kubeconfig.js'),
    import('../kube/client.js'),
    import('../snapshot/from-cluster.js'),
  ]);
  const config = resolveKubeconfig(opts);
  // One client for the whole wait: credentials (an exec plugin) are not re-run every round.
  const client = new KubeClient(config, requestTimeoutMs(opts.requestTimeout));
  const collect = async (): Promise<Snapshot> => {
    const s = await collectFromCluster(client, { namespace: config.namespace, name, labelSelector: opts.selector, context: config.context });
    if (s.source.type === 'cluster') s.source.requests = client.requests;
    return s;
  };
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  let r;
  try {
    r = await watch({ collect, done: (d: Diagnosis) => exitCodeOf(d) === 0, timeoutMs, intervalMs, client, progress: (l) => void process.stderr.write(`${l}\n`), signal: abort.signal });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (r.outcome === 'interrupted') {
    process.stderr.write(`sts-doctor: interrupted after ${Math.round(r.elapsedMs / 1000)} s; wait writes nothing. ${r.diagnosis ? `Last seen: ${progressLine(r.diagnosis)}` : ''}\n`);
    return EXIT_INTERRUPTED;
  }
  const diagnosis = r.diagnosis!;
  if (r.outcome !== 'done') process.stderr.write(`sts-doctor: not healthy after ${opts.timeout}${r.lastError ? ` (the last reads failed: ${(r.lastError as Error).message})` : ''}; the diagnosis follows.\n`);
  process.stdout.write(await render(diagnosis, opts.output));
  return exitCodeOf(diagnosis);
}
