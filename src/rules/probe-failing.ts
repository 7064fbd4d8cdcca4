/**
 * `probe-failing`: a container runs but its readiness, liveness or startup probe fails, so the pod
 * is not Ready (readiness, startup) or the container is restarted (liveness).
 *
 * Kubernetes source: pkg/kubelet/prober/prober.go, Warning `Unhealthy` (source kubelet, fieldPath
 * `spec.containers{<c>}`):
 * - `%s probe failed: %s` (`Readiness probe failed: HTTP probe failed with statuscode: 503`,
 *   `Liveness probe failed: ...`, `Startup probe failed: ...`), 1.29-1.36;
 * - `%s probe errored and resulted in %s state: %s` (1.29-1.36) and the older
 *   `%s probe errored: %s` (up to 1.28); both are read.
 * Pod conditions Ready / ContainersReady False, reason `ContainersNotReady`. The probe definition
 * is quoted from the pod's spec, and the container's last log lines (`GET pods/<pod>/log`) when
 * they were read (src/snapshot/logs.ts). This is the cause; `ordered-ready-stall` and
 * `scale-down-blocked`, when they name this pod, are its consequences (hence the lower rank).
 */
import type { Container, KubeEvent, Pod, Probe } from '../snapshot/types.js';
import { condition, eventTime, isPodReady } from '../snapshot/view.js';
import { logEvidence, podEvents, templateChange } from './facts.js';
import { alreadyFixedOption, deletePodOption } from './offers.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type Rule } from './types.js';

/** The probe kinds, as the kubelet names them in its messages. */
export type ProbeKind = 'readiness' | 'liveness' | 'startup';

const PROBE_RE = /^(Readiness|Liveness|Startup) probe (?:failed: |errored(?: and resulted in \w+ state)?: )(.*)$/s;

/**
 * Parses a kubelet `Unhealthy` message.
 * @returns the probe kind and the probe's own output, or undefined when the message is not a probe failure
 */
export function parseProbeMessage(message: string): { probe: ProbeKind; output: string } | undefined {
  const m = PROBE_RE.exec(message);
  if (!m) return undefined;
  return { probe: m[1]!.toLowerCase() as ProbeKind, output: m[2]! };
}

/**
 * A probe definition in one line, e.g. `httpGet http://:8080/healthz/ready period=10s timeout=1s
 * failureThreshold=3` (Kubernetes defaults filled in for unset period, timeout and threshold).
 */
export function describeProbe(p: Probe): string {
  let action = 'no handler';
  if (p.httpGet) action = `httpGet ${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://:${p.httpGet.port ?? ''}${p.httpGet.path ?? '/'}`;
  else if (p.tcpSocket) action = `tcpSocket :${p.tcpSocket.port ?? ''}`;
  else if (p.exec) action = `exec ${JSON.stringify(p.exec.command ?? [])}`;
  else if (p.grpc) action = `grpc :${p.grpc.port ?? ''}${p.grpc.service ? ` service=${p.grpc.service}` : ''}`;
  const parts = [action];
  if (p.initialDelaySeconds) parts.push(`delay=${p.initialDelaySeconds}s`);
  parts.push(`period=${p.periodSeconds ?? 10}s`, `timeout=${p.timeoutSeconds ?? 1}s`, `failureThreshold=${p.failureThreshold ?? 3}`);
  return parts.join(' ');
}

/** The container an event is about: from `fieldPath` `spec.containers{<c>}`, else undefined. */
function eventContainer(e: KubeEvent): string | undefined {
  return /^spec\.(?:initContainers|containers)\{(.+)\}$/.exec(e.involvedObject.fieldPath ?? '')?.[1];
}

const PROBE_FIELD: Record<ProbeKind, 'readinessProbe' | 'livenessProbe' | 'startupProbe'> = {
  readiness: 'readinessProbe',
  liveness: 'livenessProbe',
  startup: 'startupProbe',
};

const EFFECT: Record<ProbeKind, string> = {
  readiness: 'the kubelet keeps the container, and so the pod, not Ready: it receives no traffic, and the StatefulSet controller counts it as unavailable',
  liveness: 'after failureThreshold failures the kubelet kills and restarts the container',
  startup: 'the other probes do not run until it passes, the container is not Ready, and after failureThreshold failures the kubelet restarts it',
};

export const probeFailing: Rule = {
  id: 'probe-failing',
  title: 'Readiness, liveness or startup probe failing',
  rank: 50,
  doc: {
    severities: ['critical'],
    meaning: 'A running container\'s readiness, liveness or startup probe fails, with the probe definition; the cause of the `ordered-ready-stall` / `scale-down-blocked` it produces (ranked before them).',
    signals: 'Warning `Unhealthy` `Readiness probe failed: …`, `Liveness probe failed: …`, `Startup probe failed: …`, `… probe errored and resulted in … state: …` (1.29+) / `… probe errored: …` (older); container `ready`, pod `Ready` condition; the pod spec\'s probe; the container\'s last log lines (`logs -c <c>`)',
    recoveries: 'manual (fix the app or the probe), `delete-pod` after the fix; when the template already has another probe than the pod runs (e.g. the readiness path changed), only `delete-pod` (the finding says so)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running') continue;
      // Newest first (podEvents keeps the view's order).
      const unhealthy = podEvents(view, pod, 'Unhealthy').slice().sort((a, b) => eventTime(b) - eventTime(a));
      const seen = new Set<string>();
      for (const e of unhealthy) {
        const parsed = parseProbeMessage(e.message ?? '');
        if (!parsed) continue;
        const containerName = eventContainer(e) ?? pod.spec.containers[0]?.name ?? '';
        const key = `${containerName}/${parsed.probe}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((c) => c.name === containerName);
        // Only what still hurts: a readiness/startup failure while the container is not ready, a
        // liveness failure of a container that has been restarted or is not ready.
        if (!status || status.ready) continue;
        if (parsed.probe !== 'liveness' && !status.state?.running) continue;
        if (parsed.probe === 'liveness' && (status.restartCount ?? 0) === 0 && isPodReady(pod)) continue;
        out.push(finding(pod, containerName, parsed.probe, parsed.output, e, unhealthy));
      }
    }
    return out;

    function finding(pod: Pod, containerName: string, probe: ProbeKind, output: string, e: KubeEvent, all: KubeEvent[]): Finding {
      const spec: Container | undefined = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === containerName);
      const def = spec?.[PROBE_FIELD[probe]];
      const evidence: Evidence[] = [eventEvidence(e)];
      // Other probe kinds of the same container, for context (a liveness failure next to a readiness one).
      for (const other of all) {
        if (other === e || (eventContainer(other) ?? containerName) !== containerName) continue;
        const p = parseProbeMessage(other.message ?? '');
        if (p && p.probe !== probe && !evidence.some((x) => x.text === other.message)) evidence.push(eventEvidence(other));
      }
      evidence.push(fieldEvidence(pod, 'Pod', `spec.containers[${containerName}].${PROBE_FIELD[probe]}`, def ? describeProbe(def) : '(not defined in the pod spec)', undefined, 'spec'));
      const ready = condition(pod.status?.conditions, 'Ready');
      if (ready) evidence.push(fieldEvidence(pod, 'Pod', 'status.conditions[Ready]', `${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`, ready.lastTransitionTime ?? undefined));
      const log = logEvidence(view, pod, containerName);
      if (log) evidence.push(log);
      const ns = pod.metadata.namespace ?? view.snapshot.namespace;
      const Probe = probe[0]!.toUpperCase() + probe.slice(1);
      // Already fixed: the template has another probe than the one this pod runs.
      const change = templateChange(view, sts, pod, containerName, [PROBE_FIELD[probe]]);
      const newProbe = change?.now as Probe | undefined;
      const newWords = change ? (newProbe ? describeProbe(newProbe) : 'no probe') : '';
      if (change) evidence.push(fieldEvidence(sts, 'StatefulSet', change.path, newWords, undefined, 'spec'));
      return {
        rule: 'probe-failing',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `${Probe} probe of ${pod.metadata.name}/${containerName} fails: ${output}${change ? `; the template already has another ${probe} probe, not yet on this pod` : ''}`,
        explanation:
          `The ${probe} probe of container ${containerName} in ${pod.metadata.name} fails (${output}); ${EFFECT[probe]}. ` +
          (def ? `The probe is ${describeProbe(def)}. ` : '') +
          'Under OrderedReady the controller waits for this pod to be Ready before it creates, updates or deletes any other replica. ' +
          (change
            ? `The pod template already has ${newProbe ? `another ${probe} probe: ${newWords}` : `no ${probe} probe`}; ${pod.metadata.name} was created from an older template and still runs the old one. The controller does not replace a pod that never became Ready (kubernetes#67250): delete it so the new probe applies.`
            : 'Check what the endpoint checks: a readiness check that needs peers which do not exist yet never passes under OrderedReady.'),
        evidence,
        recoveries: change
          ? [alreadyFixedOption(pod, change, newProbe ? `another ${probe} probe for container ${containerName} (${newWords})` : `no ${probe} probe for container ${containerName}`)]
          : [
          {
            id: 'manual',
            title: `Fix the application or the ${probe} probe of ${containerName}`,
            description: `Find out why the check fails (logs, the endpoint itself); if the probe is wrong (port, path, timeout too short, a dependency on peers), correct it in the pod template and delete ${pod.metadata.name} so it is recreated from the new revision.`,
            automated: false,
            commands: [`kubectl -n ${ns} logs ${pod.metadata.name} -c ${containerName}`, `kubectl -n ${ns} describe pod ${pod.metadata.name}`, `kubectl -n ${ns} edit sts ${sts.metadata.name}`],
          },
          deletePodOption(pod, `After fixing the template: deletes ${pod.metadata.name} (its PVCs are kept) so the controller recreates it from the current template.`),
        ],
        confidence: 'high',
        details: { container: containerName, probe, output, restartCount: [...(pod.status?.containerStatuses ?? [])].find((c) => c.name === containerName)?.restartCount ?? 0, probeDefined: Boolean(def), ...(change ? { templateFixed: true } : {}) },
      };
    }
  },
};
