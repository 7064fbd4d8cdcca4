/**
 * `init-container-stuck`: a pod never gets past an init container that keeps running (kubectl's
 * `Init:N/M` for minutes): typically a loop waiting for a peer (`until nslookup quiz-1.quiz-pods`)
 * that is never created, because under OrderedReady the StatefulSet controller creates ordinal
 * N+1 only once N is Running and Ready, and N cannot be Ready before its init containers finish.
 * Init containers that fail (`Init:CrashLoopBackOff`, `Init:Error`, `Init:ImagePullBackOff`) are
 * the crash-loop and image-pull rules' (they read init containers too).
 *
 * Kubernetes source: pkg/kubelet/status/generate.go (1.29-1.36): Initialized=False, reason
 * `ContainersNotInitialized`, message `containers with incomplete status: [<names>]`; the init
 * container's `state.running.startedAt`; app containers waiting with `PodInitializing`. No event
 * reports the wait. Sidecars (init containers with `restartPolicy: Always`, 1.29+) run for the
 * pod's life and are never "stuck". What the init container waits for is read from its command
 * and args: a stable DNS name of a peer (`<sts>-<n>.<service>`) is matched against the pods that
 * exist. What it printed while waiting (`GET pods/<pod>/log?container=<init>`) is quoted when it
 * was read (src/snapshot/logs.ts).
 */
import type { Container, ContainerStatus, Pod, StatefulSet } from '../snapshot/types.js';
import { ageSeconds, condition, escapeRegExp, formatAge, isOrderedReady, isRunningAndReady, podOrdinal } from '../snapshot/view.js';
import { fieldEvidence, ref, stsRef, type Evidence, type Finding, type Rule } from './types.js';
import { logEvidence } from './facts.js';

/** Seconds an init container may run before it counts as stuck rather than starting. */
export const INIT_GRACE_SECONDS = 60;

/** The running, non-sidecar init container a Pending pod waits on, with its spec. */
function runningInit(pod: Pod): { status: ContainerStatus; spec: Container | undefined; index: number } | undefined {
  const specs = pod.spec.initContainers ?? [];
  const statuses = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < statuses.length; i++) {
    const s = statuses[i]!;
    const spec = specs.find((c) => c.name === s.name);
    if (spec?.restartPolicy === 'Always') continue;
    if (s.state?.running) return { status: s, spec, index: specs.findIndex((c) => c.name === s.name) };
  }
  return undefined;
}

/** The peers of `sts` a command refers to by stable DNS name (`quiz-1.quiz-pods…`), by ordinal. */
export function peersNamed(sts: StatefulSet, words: string[]): number[] {
  const svc = sts.spec.serviceName;
  if (!svc) return [];
  const re = new RegExp(`(?:^|[^\\w-])${escapeRegExp(sts.metadata.name)}-(\\d{1,9})\\.${escapeRegExp(svc)}(?![\\w-])`, 'g');
  const out = new Set<number>();
  for (const w of words) for (const m of w.matchAll(re)) out.add(Number(m[1]));
  return [...out].sort((a, b) => a - b);
}

export const initContainerStuck: Rule = {
  id: 'init-container-stuck',
  title: 'Pod stuck in an init container that never finishes',
  rank: 45,
  doc: {
    severities: ['critical'],
    meaning: 'A Pending pod\'s init container has been running for over 60 s (kubectl\'s `Init:N/M`) and the app containers never start. What it waits for is read from its command: a peer\'s stable DNS name (`quiz-1.quiz-pods`) that does not exist is named, and under OrderedReady a wait for a higher ordinal is called the deadlock it is (the controller creates it only once this pod is Ready). Sidecars (`restartPolicy: Always`) are not counted; failing init containers are `crash-loop`\'s and `image-pull`\'s.',
    signals: 'Pod `Initialized=False` `ContainersNotInitialized` "containers with incomplete status: [...]", `initContainerStatuses[].state.running.startedAt`, `spec.initContainers[].command`/`args`; the pods that exist; the init container\'s last log lines',
    recoveries: 'manual (stop waiting for higher ordinals, or Parallel; then delete the pod)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    const pods = view.podsByOrdinal(sts);
    for (const pod of view.podsOf(sts)) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase !== 'Pending') continue;
      const init = condition(pod.status?.conditions, 'Initialized');
      if (init?.status !== 'False') continue;
      const running = runningInit(pod);
      if (!running) continue;
      const startedAt = running.status.state!.running!.startedAt ?? undefined;
      const age = ageSeconds(view.snapshot.now, startedAt);
      if (age === undefined || age < INIT_GRACE_SECONDS) continue;
      const total = (pod.spec.initContainers ?? []).length;
      const name = running.status.name;
      const words = [...(running.spec?.command ?? []), ...(running.spec?.args ?? [])];
      const ordinal = podOrdinal(sts, pod.metadata.name);
      const peers = peersNamed(sts, words).filter((o) => o !== ordinal);
      const missing = peers.filter((o) => !pods.has(o));
      const notReady = peers.filter((o) => pods.has(o) && !isRunningAndReady(pods.get(o)!));
      const higherMissing = ordinal !== undefined ? missing.filter((o) => o > ordinal) : [];
      const peerName = (o: number): string => `${sts.metadata.name}-${o}`;

      let cause: string;
      if (higherMissing.length && isOrderedReady(sts)) {
        cause =
          `It waits for ${higherMissing.map(peerName).join(', ')}, which ${higherMissing.length === 1 ? 'does' : 'do'} not exist: under OrderedReady the StatefulSet controller creates ${peerName(higherMissing[0]!)} only once ${pod.metadata.name} is Running and Ready, ` +
          `and ${pod.metadata.name} cannot be Ready before its init containers finish. This is a deadlock: nothing changes until the init container stops waiting for higher ordinals, or the StatefulSet uses podManagementPolicy: Parallel.`;
      } else if (missing.length) {
        cause = `It waits for ${missing.map(peerName).join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist.`;
      } else if (notReady.length) {
        cause = `It waits for ${notReady.map(peerName).join(', ')}, which ${notReady.length === 1 ? 'is' : 'are'} not Ready (and whose DNS name may not be published while not Ready).`;
      } else {
        cause = 'Its command shows what it waits for; the pod starts only when it exits 0.';
      }
      const evidence: Evidence[] = [
        fieldEvidence(pod, 'Pod', `status.initContainerStatuses[${name}].state.running`, `startedAt ${startedAt}`, startedAt),
        fieldEvidence(pod, 'Pod', 'status.conditions[Initialized]', `False ${init.reason ?? ''}: ${init.message ?? ''}`.replace(/ :/, ':'), init.lastTransitionTime ?? undefined),
      ];
      if (words.length) evidence.push(fieldEvidence(pod, 'Pod', `spec.initContainers[${name}].command`, JSON.stringify(words).slice(0, 500), undefined, 'spec'));
      const log = logEvidence(view, pod, name);
      if (log) evidence.push(log);
      const ns = view.snapshot.namespace;
      out.push({
        rule: 'init-container-stuck',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `${pod.metadata.name} is stuck in init container ${name} (Init:${running.index < 0 ? 0 : running.index}/${total}) for ${formatAge(age)}${higherMissing.length && isOrderedReady(sts) ? `: it waits for ${higherMissing.map(peerName).join(', ')}, which OrderedReady never creates first` : ''}`,
        explanation: `Init container ${name} of ${pod.metadata.name} has been running for ${formatAge(age)} and has not finished, so the app containers never start and the pod stays Pending. ${cause}`,
        evidence,
        recoveries: [
          {
            id: 'manual',
            title: higherMissing.length && isOrderedReady(sts) ? `Stop ${name} from waiting for higher ordinals, or use podManagementPolicy: Parallel` : `Find out what init container ${name} waits for`,
            description:
              higherMissing.length && isOrderedReady(sts)
                ? `Change the init container so that replica N waits only for lower ordinals (or for none), or recreate the StatefulSet with podManagementPolicy: Parallel (the field is immutable: delete with --cascade=orphan and apply again). Then delete ${pod.metadata.name} so it is recreated from the fixed template.`
                : `Read its output, check the peer or service it waits for; once that is fixed the pod continues by itself.`,
            automated: false,
            commands: [`kubectl -n ${ns} logs ${pod.metadata.name} -c ${name} --tail=20`, `kubectl -n ${ns} get pod ${pod.metadata.name} -o jsonpath='{.spec.initContainers[?(@.name=="${name}")].command}'`],
          },
        ],
        confidence: 'high',
        details: { pod: pod.metadata.name, container: name, runningSeconds: age, waitsFor: peers.map(peerName), missing: missing.map(peerName) },
      });
    }
    return out;
  },
};
