/**
 * `sts-doctor wait <name>`: the CI gate. Re-reads and re-diagnoses the StatefulSet every
 * `--interval` (the watch loop of src/recovery/watch.ts, shared with `recover`) until it is
 * healthy (exit 0), `--timeout` passes (exit 1), or — unless `--no-fail-fast` — a permanent
 * finding shows (diagnosis.ts `classifyFinding`: an image that does not exist, a crash loop...;
 * exit 1 at once, without waiting for the timeout), printing one progress line per change on
 * stderr, then the final diagnosis on stdout in the chosen format. A restarting or throttling
 * API server is retried until the deadline ("API server unreachable, retrying (12 s)"); the
 * command ends within about a second of `--timeout`. Ctrl+C ends it with exit 130.
 */
import { classifyFinding, type Diagnosis } from '../diagnosis.js';
import type { Finding } from '../rules/types.js';
import type { Snapshot } from '../snapshot/types.js';
import { isTerminating } from '../snapshot/view.js';
import { render, type OutputFormat } from '../report/index.js';
import { progressLine, watch } from '../recovery/watch.js';
import { setSuggestedConnection } from '../recovery/command.js';
import { sanitizeText } from '../report/sanitize.js';
import { exitCodeOf } from './diagnose.js';
import { loadSnapshot } from './load.js';
import { checkReadOptions, parseDuration, requestTimeoutMs, type ReadOptions } from './options.js';
import { UsageError } from '../errors.js';

export { progressLine };

export interface WaitOptions extends ReadOptions {
  output: OutputFormat;
  timeout: string;
  interval: string;
  /** False with `--no-fail-fast`: keep waiting through a permanent finding until --timeout. */
  failFast?: boolean;
}

/**
 * The first permanent failure (diagnosis.ts `classifyFinding`) of the diagnosis, if any: what
 * ends `wait` early. A finding about a pod that is being deleted (Terminating) does not count:
 * its replacement may well start (e.g. after `recover --action delete-pod`).
 */
export function permanentFailure(d: Diagnosis, snapshot: Snapshot): Finding | undefined {
  const terminating = new Set(snapshot.pods.filter(isTerminating).map((p) => p.metadata.uid));
  return d.findings.find((f) => f.severity !== 'info' && classifyFinding(f)?.permanent && !(f.subject.kind === 'Pod' && f.subject.uid && terminating.has(f.subject.uid)));
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
  // One connection for the whole wait (src/kube/connect.ts: the same client for the same flags):
  // credentials (an exec plugin) are not re-run every round. The loop sets its deadline; every
  // round's read keeps it, so no request outlasts --timeout.
  const { connect } = await import('../kube/connect.js');
  const { client } = connect(opts, requestTimeoutMs(opts.requestTimeout));
  const collect = () => loadSnapshot(name, opts, { deadline: client.deadline });
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  let r;
  try {
    r = await watch({ collect, done: (d: Diagnosis) => exitCodeOf(d) === 0, ...(opts.failFast === false ? {} : { abortOn: permanentFailure }), timeoutMs, intervalMs, client, progress: (l) => void process.stderr.write(`${sanitizeText(l, false)}\n`), signal: abort.signal });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (r.outcome === 'interrupted') {
    process.stderr.write(`sts-doctor: interrupted after ${Math.round(r.elapsedMs / 1000)} s; wait writes nothing. ${r.diagnosis ? `Last seen: ${sanitizeText(progressLine(r.diagnosis), false)}` : ''}\n`);
    return EXIT_INTERRUPTED;
  }
  const diagnosis = r.diagnosis!;
  if (r.outcome === 'aborted' && r.abortedOn) {
    const f = r.abortedOn;
    process.stderr.write(`sts-doctor: not healthy, and it will not heal by waiting: ${sanitizeText(`${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`, false)} (stopped after ${Math.round(r.elapsedMs / 1000)} s, before --timeout; --no-fail-fast keeps waiting); the diagnosis follows.\n`);
  } else if (r.outcome !== 'done') process.stderr.write(`sts-doctor: not healthy after ${opts.timeout}${r.lastError ? ` (the last reads failed: ${sanitizeText((r.lastError as Error).message, false)})` : ''}; the diagnosis follows.\n`);
  process.stdout.write(await render(diagnosis, opts.output));
  return exitCodeOf(diagnosis);
}
