/**
 * `sts-doctor wait <name>`: the CI gate. Re-reads the StatefulSet every `--interval` until it is
 * healthy (exit 0) or `--timeout` passes (exit 1), printing one progress line per change on
 * stderr, then the final diagnosis on stdout in the chosen format.
 */
import { diagnose, type Diagnosis } from '../diagnosis.js';
import { render, type OutputFormat } from '../report/index.js';
import { exitCodeOf } from './diagnose.js';
import { loadSnapshot } from './load.js';
import { parseDuration, type ReadOptions } from './options.js';
import { UsageError } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { sanitizeText } from '../report/sanitize.js';

export interface WaitOptions extends ReadOptions {
  output: OutputFormat;
  timeout: string;
  interval: string;
}

/** One line describing where a StatefulSet stands: `quiz: 1/3 ready; image-pull quiz-0`. */
export function progressLine(d: Diagnosis): string {
  return d.statefulSets
    .map((s) => {
      const top = d.findings.find((f) => f.statefulSet.name === s.name && f.severity !== 'info');
      return `${s.name}: ${s.replicas.ready}/${s.replicas.desired} ready${s.healthy ? ', healthy' : top ? `; ${top.rule} ${top.subject.name}: ${top.summary}` : ''}`;
    })
    .join(' | ');
}

/**
 * Polls until healthy or the deadline.
 * @param read produces a fresh Diagnosis (one collection per call)
 * @param timeoutMs total time to wait, in milliseconds
 * @param intervalMs pause between reads, in milliseconds
 * @param onProgress called with each Diagnosis whose progress line differs from the previous one
 * @returns the last Diagnosis and whether it was healthy
 */
export async function waitUntilHealthy(
  read: () => Promise<Diagnosis>,
  timeoutMs: number,
  intervalMs: number,
  onProgress: (d: Diagnosis, line: string) => void = () => {},
): Promise<{ diagnosis: Diagnosis; healthy: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const d = await read();
    const line = progressLine(d);
    if (line !== last) onProgress(d, line);
    last = line;
    if (exitCodeOf(d) === 0) return { diagnosis: d, healthy: true };
    if (Date.now() + intervalMs > deadline) return { diagnosis: d, healthy: false };
    await sleep(intervalMs);
  }
}

export async function waitCommand(name: string | undefined, opts: WaitOptions): Promise<number> {
  if (opts.from) throw new UsageError('wait reads the cluster; --from does not apply.');
  const timeoutMs = parseDuration(opts.timeout, '--timeout');
  const intervalMs = parseDuration(opts.interval, '--interval');
  if (intervalMs < 500) throw new UsageError('--interval must be at least 500ms.');
  const started = Date.now();
  // No request outlasts --timeout by more than 1 s (src/kube/client.ts, KubeClient.deadline): a
  // round that starts just before the timeout can still finish and be the final diagnosis.
  const deadline = started + timeoutMs + 1_000;
  const { diagnosis, healthy } = await waitUntilHealthy(
    async () => diagnose(await loadSnapshot(name, opts, { deadline })),
    timeoutMs,
    intervalMs,
    (_d, line) => process.stderr.write(`[${Math.round((Date.now() - started) / 1000)}s] ${sanitizeText(line, false)}\n`),
  );
  if (!healthy) process.stderr.write(`sts-doctor: not healthy after ${opts.timeout}; the diagnosis follows.\n`);
  process.stdout.write(await render(diagnosis, opts.output));
  return exitCodeOf(diagnosis);
}
