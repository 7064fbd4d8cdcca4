/**
 * `sts-doctor ui` (and `sts-doctor` alone on a terminal): the interactive troubleshooter
 * (src/ui/ink/app.tsx), fed by a live source that follows the namespace (or `-A`) by watches
 * (src/ui/live.ts watchedSource over the cache of `serve` and `wait`: refreshed on every change
 * and at least every `--interval`), after one full read through the ordinary read path (its
 * errors are one sentence), and recovering through the same functions as
 * `sts-doctor recover`. Needs a terminal on stdin and stderr (the app is drawn on stderr) and no
 * CI: otherwise one sentence and exit 2. ink and React are loaded here, by dynamic import, only
 * once the terminal check passed.
 *
 * Exit codes: 0 when left with `q`, 130 with Ctrl+C, 2 for an error (no terminal, a first read
 * that fails for good: forbidden, kubeconfig).
 */
import { UsageError } from '../errors.js';
import { auditSink, auditTarget } from '../recovery/audit.js';
import { setSuggestedConnection } from '../recovery/command.js';
import type { RecoveryDriver } from '../ui/driver.js';
import { watchedSource } from '../ui/live.js';
import { loadSnapshot, loadSnapshots } from './load.js';
import { checkReadOptions, parseClusterDns, parseDuration, requestTimeoutMs, type ReadOptions } from './options.js';
import { NotFoundError } from '../errors.js';

export interface UiOptions extends ReadOptions {
  /** Pause between reads (default 2s). */
  interval?: string;
  /** `--audit-log`: a file, or `-` for stderr once the app is left (default: the XDG state file, src/recovery/audit.ts). */
  auditLog?: string;
}

/** True when a person can use the app: stdin and stderr are terminals and this is not a CI run (ink would not redraw). */
export async function canRunUi(stdin: { isTTY?: boolean } = process.stdin, stderr: { isTTY?: boolean } = process.stderr): Promise<boolean> {
  if (!(stdin.isTTY && stderr.isTTY)) return false;
  const { default: isInCi } = await import('is-in-ci');
  return !isInCi;
}

/**
 * Runs the app; resolves the exit code.
 * @throws UsageError without a terminal or for bad flags; the first read's errors that are not
 *   transient (KubeconfigError, a forbidden read...)
 */
export async function uiCommand(opts: UiOptions): Promise<number> {
  if (opts.from !== undefined) throw new UsageError('ui reads the cluster live; --from does not apply (use sts-doctor diagnose --from).');
  checkReadOptions(undefined, opts);
  const intervalMs = parseDuration(opts.interval ?? '2s', '--interval');
  if (intervalMs < 500) throw new UsageError('--interval must be at least 500ms.');
  if (!(await canRunUi())) throw new UsageError('ui needs a terminal on stdin and stderr, outside CI: without one, use sts-doctor diagnose.');
  setSuggestedConnection(opts);
  const { connect } = await import('../kube/connect.js');
  const timeout = requestTimeoutMs(opts.requestTimeout);
  const { config, client } = connect(opts, timeout);
  const read = () => loadSnapshots(undefined, opts);
  // The first read before drawing anything: a kubeconfig or permission problem is one sentence, exit 2.
  await read().catch((err: unknown) => {
    if (!(err instanceof NotFoundError)) throw err;
  });

  // The audit log as `recover` writes it on a terminal (src/recovery/audit.ts): the XDG state file
  // by default, --audit-log FILE, or `-` for stderr. What would go to stderr (the lines with `-`,
  // the file's name, a write failure) waits until the screen is free.
  const audit: string[] = [];
  const sink = auditSink(auditTarget(opts.auditLog, true), (l) => void audit.push(l.endsWith('\n') ? l : `${l}\n`));
  const fresh = (namespace: string, name: string) => loadSnapshot(name, { ...opts, allNamespaces: false, selector: undefined, namespace });
  const [{ planChoice, refusalLines }, { executePlan }] = await Promise.all([import('./recover.js'), import('../recovery/execute.js')]);
  const recovery: RecoveryDriver = {
    plan: async (sts, finding, option) => planChoice(await fresh(sts.namespace, sts.name), sts.name, finding, option),
    execute: (plan, progress) => executePlan(plan, { client, audit: sink, progress }),
    refusal: async (plan, sts) => refusalLines(plan, await fresh(sts.namespace, sts.name), sts.name),
  };
  // Live from watches (the cache of serve and wait): about one request per change after the first LISTs.
  const { ClusterCache } = await import('../snapshot/cache.js');
  const cache = new ClusterCache({ client, namespaces: opts.allNamespaces ? undefined : [config.namespace], labelSelector: opts.selector, clusterDns: parseClusterDns(opts.clusterDns) });
  const { runApp } = await import('../ui/ink/app.js');
  const code = await runApp({
    source: watchedSource(cache, intervalMs),
    recovery,
    scope: opts.allNamespaces ? 'all namespaces' : `namespace ${config.namespace}`,
    allNamespaces: Boolean(opts.allNamespaces),
  });
  for (const l of audit) process.stderr.write(l);
  return code;
}
