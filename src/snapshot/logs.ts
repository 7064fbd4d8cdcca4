/**
 * Application logs as evidence: which containers' logs are worth reading, and how an excerpt
 * is bounded. The read itself is in from-cluster.ts (readContainerLogs); the rules quote the
 * excerpts through view.containerLog.
 *
 * Kubernetes source: the `pods/log` subresource (pkg/registry/core/pod/rest/log.go), proxied by
 * the API server to the kubelet's `/containerLogs/<ns>/<pod>/<container>`; `previous=true` reads
 * the last terminated instance of the container (`kubectl logs --previous`), `tailLines` and
 * `limitBytes` bound the answer on the kubelet's side (`limitBytes` cuts the end of the tail).
 */
import type { ContainerLog, ContainerLogTarget, ContainerStatus, Pod, StatefulSet } from './types.js';
import { podBelongsTo, podOrdinal } from './view.js';

/** Lines asked for per container (`tailLines`). */
export const LOG_TAIL_LINES = 20;
/** Bytes asked for per container (`limitBytes`): the answer is cut after this many. */
export const LOG_LIMIT_BYTES = 8192;
/** Characters kept per line; a longer line is cut and the excerpt marked truncated. */
export const LOG_LINE_CHARS = 500;
/** Pods per StatefulSet whose logs are read (the lowest ordinals with a failing container). */
export const LOG_PODS_PER_STATEFULSET = 3;
/** Containers per pod whose logs are read. */
export const LOG_CONTAINERS_PER_POD = 2;
/** Log reads per snapshot at most, whatever the number of StatefulSets. */
export const MAX_LOG_READS = 20;

/** Seconds an excerpt of a container that is still running is reused by the next rounds of one process (`wait`, `recover`'s verify) before it is read again. */
export const LOG_REFRESH_SECONDS = 30;

/** One log read: `GET pods/<pod>/log?container=<container>&previous=<previous>`. */
export interface LogRequest extends ContainerLogTarget {
  /**
   * The container run the excerpt is of, from its status: `previous` → the restart count and
   * when the last run finished (the previous instance's log never changes until the next
   * restart); a terminated run → when it finished (its log is final); a running one → when it
   * started (its log grows: reused for {@link LOG_REFRESH_SECONDS} at most).
   */
  run: string;
  /** True when the log is final for this `run` (a previous or terminated instance): reusable as long as the run is the same. */
  final: boolean;
}

/** The {@link LogRequest.run} and `final` of a container status, for the run `previous` names. */
function runOf(status: ContainerStatus, previous: boolean): { run: string; final: boolean } {
  if (previous) return { run: `restart ${status.restartCount} finished ${status.lastState?.terminated?.finishedAt ?? '?'}`, final: true };
  const st = status.state ?? {};
  if (st.terminated) return { run: `restart ${status.restartCount} finished ${st.terminated.finishedAt ?? '?'}`, final: true };
  return { run: `restart ${status.restartCount} started ${st.running?.startedAt ?? '?'}`, final: false };
}

/**
 * Whether a container's logs explain a failure, and which run to read: the previous one
 * (`previous: true`) of a container waiting to restart after it exited (CrashLoopBackOff, or
 * any waiting container whose last run terminated), the current one of a container that
 * terminated with a non-zero exit code, runs but is not ready (a failing readiness or startup
 * probe), or is an init container still running (a pod stuck in `Init:N/M`).
 * @returns undefined when the container is healthy or has never run.
 */
export function logWorthReading(status: ContainerStatus, init: boolean): { previous: boolean } | undefined {
  const st = status.state ?? {};
  if (st.waiting) return status.lastState?.terminated ? { previous: true } : undefined;
  if (st.terminated) return st.terminated.exitCode !== undefined && st.terminated.exitCode !== 0 ? { previous: false } : undefined;
  if (st.running) {
    if (init) return { previous: false };
    return status.ready ? undefined : { previous: false };
  }
  return undefined;
}

/**
 * The log reads for `statefulSets`: per StatefulSet the {@link LOG_PODS_PER_STATEFULSET} lowest
 * ordinals that have a container worth reading ({@link logWorthReading}; init containers first,
 * at most {@link LOG_CONTAINERS_PER_POD} per pod), at most {@link MAX_LOG_READS} in all. The
 * count depends on the number of StatefulSets, never on the number of replicas.
 */
export function logRequests(statefulSets: StatefulSet[], pods: Pod[], namespace: string): LogRequest[] {
  const out: LogRequest[] = [];
  for (const sts of statefulSets) {
    const own = pods
      .filter((p) => podBelongsTo(p, sts) && !p.metadata.deletionTimestamp)
      .map((p) => ({ p, ordinal: podOrdinal(sts, p.metadata.name) ?? Number.MAX_SAFE_INTEGER }))
      .sort((a, b) => a.ordinal - b.ordinal || a.p.metadata.name.localeCompare(b.p.metadata.name));
    let podsTaken = 0;
    for (const { p } of own) {
      if (podsTaken >= LOG_PODS_PER_STATEFULSET) break;
      const wanted: LogRequest[] = [];
      const statuses: [ContainerStatus, boolean][] = [...(p.status?.initContainerStatuses ?? []).map((s): [ContainerStatus, boolean] => [s, true]), ...(p.status?.containerStatuses ?? []).map((s): [ContainerStatus, boolean] => [s, false])];
      for (const [s, init] of statuses) {
        if (wanted.length >= LOG_CONTAINERS_PER_POD) break;
        // A sidecar (an init container with restartPolicy Always) runs for the pod's life: judged like an app container.
        const sidecar = init && p.spec.initContainers?.find((c) => c.name === s.name)?.restartPolicy === 'Always';
        const why = logWorthReading(s, init && !sidecar);
        if (!why) continue;
        const r: LogRequest = { namespace: p.metadata.namespace ?? namespace, pod: p.metadata.name, container: s.name, init, previous: why.previous, ...runOf(s, why.previous) };
        if (p.metadata.uid) r.uid = p.metadata.uid;
        wanted.push(r);
      }
      if (!wanted.length) continue;
      podsTaken++;
      out.push(...wanted);
    }
  }
  return out.slice(0, MAX_LOG_READS);
}

/**
 * The excerpt of a log answer: the last {@link LOG_TAIL_LINES} lines, each at most
 * {@link LOG_LINE_CHARS} characters; `truncated` when the answer reached `limitBytes` (the
 * kubelet cut it) or a line or the line count was cut. Control characters are kept as they
 * are here (verbatim data); they are neutralised when printed (src/report/sanitize.ts).
 */
export function boundLog(text: string, limitBytes = LOG_LIMIT_BYTES): { lines: string[]; truncated: boolean } {
  let truncated = Buffer.byteLength(text, 'utf8') >= limitBytes;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  let lines = body === '' ? [] : body.split('\n');
  if (lines.length > LOG_TAIL_LINES) {
    lines = lines.slice(-LOG_TAIL_LINES);
    truncated = true;
  }
  lines = lines.map((l) => {
    const line = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (line.length <= LOG_LINE_CHARS) return line;
    truncated = true;
    return `${line.slice(0, LOG_LINE_CHARS)}…`;
  });
  return { lines, truncated };
}

/** A {@link ContainerLog} loaded from a dump, bounded again as if it had just been read. */
export function boundContainerLog(l: ContainerLog): ContainerLog {
  const b = boundLog(l.lines.join('\n'), Number.MAX_SAFE_INTEGER);
  return { ...l, lines: b.lines, truncated: l.truncated || b.truncated };
}
