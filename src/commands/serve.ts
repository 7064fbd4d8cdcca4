/**
 * `sts-doctor serve`: continuous mode. Keeps a cache of the cluster current by watches
 * (src/snapshot/cache.ts), re-evaluates the StatefulSets a change touches (src/serve/evaluator.ts)
 * and every `--resync`, and serves:
 *
 *   GET /metrics       Prometheus metrics (src/serve/metrics.ts)
 *   GET /healthz       200 while the process runs
 *   GET /readyz        200 once the first LIST of every watched resource is in, else 503
 *   GET /statefulsets  the current diagnoses, the JSON of `diagnose -o json` (`?namespace=` to filter)
 *
 * Read-only: no recovery runs. The only write is opt-in (`--emit-events`): one Event on the
 * StatefulSet when a finding starts (reason `StsDoctor<Rule>`, the summary as message), none
 * while it holds. SIGTERM or SIGINT: stops the watches and the server, exit 0.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Diagnosis } from '../diagnosis.js';
import { StsDoctorError, UsageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { render } from '../report/index.js';
import { errorLine, sanitizeText } from '../report/sanitize.js';
import { ClusterCache } from '../snapshot/cache.js';
import { toTimestamp } from '../snapshot/view.js';
import { Evaluator } from '../serve/evaluator.js';
import { ServeMetrics, splitKey, type FindingSeries } from '../serve/metrics.js';
import { combineDiagnoses } from './diagnose.js';
import { checkNamespace, parseClusterDns, parseDuration, requestTimeoutMs } from './options.js';

export interface ServeOptions {
  kubeconfig?: string;
  context?: string;
  /** Repeatable; empty: every namespace. */
  namespace?: string[];
  selector?: string;
  requestTimeout?: string;
  listen: string;
  resync: string;
  emitEvents?: boolean;
  /** `--cluster-dns <namespace>/<service>` (options.ts parseClusterDns). */
  clusterDns?: string;
}

/** `--listen`: `:9090`, `9090`, `0.0.0.0:9090`, `127.0.0.1:0`, `[::1]:9090`. @throws UsageError */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[\w.-]*):)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be [host]:port such as :9090 or 127.0.0.1:9090, not "${value}".`);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : undefined;
  return { host, port };
}

/** The Event reason of a rule: `StsDoctor` and the rule id in PascalCase (`image-pull` → `StsDoctorImagePull`). */
export function eventReason(rule: string): string {
  return `StsDoctor${rule.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}`;
}

/** Posts one Event on the finding's StatefulSet; a failure is logged, never fatal. */
async function emitEvent(client: KubeClient, s: FindingSeries, uid: string | undefined, log: (l: string) => void): Promise<void> {
  const { namespace, statefulset } = s.labels;
  const now = toTimestamp();
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${statefulset}.sts-doctor-`, namespace },
    involvedObject: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: statefulset, ...(uid ? { uid } : {}) },
    type: s.finding.severity === 'info' ? 'Normal' : 'Warning',
    reason: eventReason(s.finding.rule),
    message: s.finding.summary.slice(0, 1000),
    source: { component: 'sts-doctor', host: hostname() },
    reportingComponent: 'sts-doctor',
    reportingInstance: hostname(),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  try {
    await client.request(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { method: 'POST', body: event });
  } catch (err) {
    log(`could not record an Event on StatefulSet ${namespace}/${statefulset}: ${(err as Error).message}`);
  }
}

/** Runs until SIGTERM/SIGINT; returns the exit code (0). @throws UsageError, KubeconfigError, StsDoctorError when it cannot listen */
export async function serveCommand(opts: ServeOptions): Promise<number> {
  const namespaces = [...new Set(opts.namespace ?? [])];
  for (const ns of namespaces) checkNamespace(ns);
  const listen = parseListen(opts.listen);
  parseClusterDns(opts.clusterDns); // a bad --cluster-dns is one sentence before any request
  const resyncMs = parseDuration(opts.resync, '--resync');
  if (resyncMs !== 0 && resyncMs < 10_000) throw new UsageError('--resync must be at least 10s (or 0 for none).');
  const log = (line: string): void => void process.stderr.write(`${toTimestamp()} ${sanitizeText(line, false)}\n`);

  const { connect } = await import('../kube/connect.js');
  const { client } = connect({ kubeconfig: opts.kubeconfig, context: opts.context }, requestTimeoutMs(opts.requestTimeout));
  const cache = new ClusterCache({ client, namespaces, labelSelector: opts.selector, clusterDns: parseClusterDns(opts.clusterDns), log });
  let evaluated = false;
  const metrics = new ServeMetrics(
    () => cache.health(),
    () => cache.ready() && evaluated,
  );
  const evaluator = new Evaluator({
    cache,
    resyncMs,
    onResult: (key, d, trigger, seconds) => {
      metrics.evaluations.inc({ trigger });
      metrics.duration.observe({ trigger }, seconds);
      const started = metrics.update(key, d);
      if (opts.emitEvents && d) {
        const uid = d.statefulSets[0]?.uid;
        for (const s of started) void emitEvent(client, s, uid, log);
      }
    },
  });

  const server = createServer((req, res) => void handle(req, res));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://serve');
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
      switch (url.pathname) {
        case '/metrics':
          return send(200, metrics.registry.contentType, await metrics.registry.metrics());
        case '/healthz':
          return send(200, 'text/plain', 'ok\n');
        case '/readyz':
          return cache.ready() && evaluated ? send(200, 'text/plain', 'ok\n') : send(503, 'text/plain', `not ready: ${notReadyReason(cache, evaluated)}\n`);
        case '/statefulsets': {
          const ns = url.searchParams.get('namespace');
          const parts: Diagnosis[] = [...evaluator.diagnoses].filter(([k]) => !ns || splitKey(k)[0] === ns).sort(([a], [b]) => a.localeCompare(b)).map(([, d]) => d);
          const d = combineDiagnoses(parts, true);
          if (ns) d.namespace = ns;
          return send(200, 'application/json', await render(d, 'json'));
        }
        default:
          return send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz or /statefulsets\n');
      }
    } catch (err) {
      log(`${url.pathname}: ${(err as Error).message}`);
      if (!res.headersSent) send(500, 'text/plain', 'error\n');
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new StsDoctorError(`Cannot listen on ${opts.listen}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}.`, { cause: err })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const where = typeof address === 'object' && address ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : opts.listen;
  log(`sts-doctor serve: listening on http://${where}; watching ${namespaces.length ? `namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')}` : 'every namespace'} of ${client.server}${opts.emitEvents ? '; emitting Events' : ''}`);

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const t0 = Date.now();
  cache.start();
  const synced = cache.whenSynced().then(async () => {
    if (!cache.ready()) {
      const err = cache.coreError();
      log(`not ready: ${err instanceof StsDoctorError ? errorLine(err).replace(/^sts-doctor: /, '').trim() : (err as Error | undefined)?.message ?? 'waiting for the first lists'}; retrying`);
    }
    await evaluator.start();
    evaluated = true;
    log(`ready in ${Date.now() - t0} ms: ${cache.statefulSetKeys().length} StatefulSets, ${client.requests} requests`);
  });
  const signal = await stopped;
  log(`${signal}: stopping`);
  server.close();
  server.closeAllConnections();
  await Promise.race([synced, Promise.resolve()]);
  await evaluator.stop();
  await cache.stop();
  return 0;
}

function notReadyReason(cache: ClusterCache, evaluated: boolean): string {
  const waiting = cache.health().filter((h) => !h.synced || (h.lastSyncMs === 0 && ['statefulsets', 'pods', 'persistentvolumeclaims'].includes(h.resource)));
  if (waiting.length) return `waiting for the first LIST of ${waiting.map((h) => `${h.resource}${h.namespace ? ` in ${h.namespace}` : ''}${h.error ? ` (${sanitizeText(h.error, false)})` : ''}`).slice(0, 5).join(', ')}`;
  return evaluated ? 'unknown' : 'first evaluation running';
}
