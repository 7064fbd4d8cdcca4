/**
 * `sts-doctor wait <name>`: the CI gate. Reads the StatefulSet once in full, then follows it by
 * watches (src/snapshot/cache.ts; about one request per change instead of a full re-read) and
 * re-diagnoses it on every change and at least every `--interval` (the watch loop of
 * src/recovery/watch.ts, shared with `recover`) until it is healthy (exit 0), `--timeout` passes
 * (exit 1), or — unless `--no-fail-fast` — a permanent finding shows (diagnosis.ts
 * `classifyFinding`: an image that does not exist, a crash loop...; exit 1 at once, without
 * waiting for the timeout). A wait that ends unhealthy reports one more full read (logs
 * included). Where watching is forbidden (get and list only) it reads in full every
 * `--interval`. One progress line per change on stderr, then the final diagnosis on stdout in
 * the chosen format. A restarting or throttling API server is retried until the deadline ("API
 * server unreachable, retrying (12 s)"); the command ends within about a second of `--timeout`.
 * Ctrl+C ends it with exit 130.
 */
import { classifyFinding, diagnose, type Diagnosis } from '../diagnosis.js';
import type { Finding } from '../rules/types.js';
import type { Snapshot } from '../snapshot/types.js';
import { isTerminating } from '../snapshot/view.js';
import { render, type OutputFormat } from '../report/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressLine, watch, type WatchSource } from '../recovery/watch.js';
import { setSuggestedConnection } from '../recovery/command.js';
import { sanitizeText } from '../report/sanitize.js';
import { exitCodeOf } from './diagnose.js';
import { loadSnapshot } from './load.js';
import { checkReadOptions, parseClusterDns, parseDuration, requestTimeoutMs, type ReadOptions } from './options.js';
import { isTransient, NotFoundError, UsageError } from '../errors.js';

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
  const { client, config } = connect(opts, requestTimeoutMs(opts.requestTimeout));
  const collect = () => loadSnapshot(name, opts, { deadline: client.deadline });
  // The first round is a full read (its errors and not-found hints are diagnose's); after it the
  // StatefulSet is followed by watches (src/snapshot/cache.ts): about one request per change,
  // not a full re-read every --interval.
  const { ClusterCache, CacheSource } = await import('../snapshot/cache.js');
  const ns = opts.namespace ?? config.namespace;
  const cache = new ClusterCache({ client, namespaces: [ns], statefulSetName: name, labelSelector: opts.selector, clusterDns: parseClusterDns(opts.clusterDns) });
  const cached = new CacheSource(cache, ns, name, intervalMs, () => new NotFoundError(name ? `StatefulSet "${name}" not found in namespace "${ns}" (deleted while waiting).` : `No StatefulSet ${opts.selector ? `matches -l ${opts.selector} ` : ''}in namespace "${ns}" any more.`));
  let started = false;
  // Watching not allowed (a Role with get and list but no watch): read in full every --interval, as before.
  let polling = false;
  const source: WatchSource = {
    async collect() {
      if (polling) return collect();
      if (started) {
        await cache.whenSynced();
        const failure = cache.coreFailure(0);
        if (failure && !isTransient(failure)) {
          polling = true;
          process.stderr.write(`${sanitizeText(`sts-doctor: cannot watch (${(failure as Error).message.replace(/\.$/, '')}); reading in full every ${opts.interval} instead.`, false)}\n`);
          await cache.stop();
          return collect();
        }
        return cached.collect();
      }
      const first = await collect();
      cache.start();
      started = true;
      return first;
    },
    nextChange: (timeoutMs, signal) => (started && !polling ? cached.nextChange(timeoutMs, signal) : sleep(Math.min(intervalMs, timeoutMs), undefined, signal ? { signal } : {})),
  };
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  let r;
  // No request outlasts --timeout by more than 1 s (README), the final full read included.
  const waitEnd = Date.now() + timeoutMs;
  try {
    r = await watch({ collect, source, done: (d: Diagnosis) => exitCodeOf(d) === 0, ...(opts.failFast === false ? {} : { abortOn: permanentFailure }), timeoutMs, intervalMs, client, progress: (l) => void process.stderr.write(`${sanitizeText(l, false)}\n`), signal: abort.signal });
  } finally {
    process.removeListener('SIGINT', onSigint);
    cached.close();
    await cache.stop();
  }
  if (r.outcome === 'interrupted') {
    process.stderr.write(`sts-doctor: interrupted after ${Math.round(r.elapsedMs / 1000)} s; wait writes nothing. ${r.diagnosis ? `Last seen: ${sanitizeText(progressLine(r.diagnosis), false)}` : ''}\n`);
    return EXIT_INTERRUPTED;
  }
  let diagnosis = r.diagnosis!;
  if (r.outcome !== 'done' && started && !polling) {
    // The report of a failed wait is diagnose's: one full read (container logs included), never
    // past --timeout + 1 s (after a timeout: at most 2 s; after a fail-fast stop the time left).
    // The last watched diagnosis stands in when the read fails or could not read what it did.
    client.deadline = r.outcome === 'aborted' ? waitEnd + 1000 : Math.min(Date.now() + 2000, waitEnd + 1000);
    try {
      const final = diagnose(await collect());
      const unread = (d: Diagnosis): number => d.gaps.filter((g) => g.resource !== 'podlogs').length;
      if (unread(final) <= unread(diagnosis)) diagnosis = final;
    } catch {
      /* the last watched diagnosis */
    } finally {
      client.deadline = undefined;
    }
  }
  // The final read decides (a set that became healthy meanwhile is reported healthy, exit 0).
  const unhealthy = exitCodeOf(diagnosis) !== 0;
  if (unhealthy && r.outcome === 'aborted' && r.abortedOn) {
    const f = r.abortedOn;
    process.stderr.write(`sts-doctor: not healthy, and it will not heal by waiting: ${sanitizeText(`${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`, false)} (stopped after ${Math.round(r.elapsedMs / 1000)} s, before --timeout; --no-fail-fast keeps waiting); the diagnosis follows.\n`);
  } else if (unhealthy && r.outcome !== 'done') process.stderr.write(`sts-doctor: not healthy after ${opts.timeout}${r.lastError ? ` (the last reads failed: ${sanitizeText((r.lastError as Error).message, false)})` : ''}; the diagnosis follows.\n`);
  process.stdout.write(await render(diagnosis, opts.output));
  return exitCodeOf(diagnosis);
}
