/**
 * `crash-loop`: a container keeps exiting and the kubelet restarts it with a growing back-off.
 *
 * Kubernetes sources: pkg/kubelet/kuberuntime/kuberuntime_manager.go (the restart back-off,
 * `doBackOff`) and pkg/kubelet/events/event.go (reason `BackOff`).
 * - `state.waiting.reason` `CrashLoopBackOff`, message `back-off <d> restarting failed
 *   container=<c> pod=<pod>_<ns>(<uid>)` (1.29-1.36; the back-off doubles from 10 s to 5 min).
 * - `lastState.terminated`: `reason` (`Error`, `OOMKilled`, `Completed`, `ContainerCannotRun`,
 *   `StartError`), `exitCode`, `signal`, `startedAt`/`finishedAt`; `restartCount`.
 * - Event Warning `BackOff` `Back-off restarting failed container <c> in pod <pod>_<ns>(<uid>)`
 *   (1.26+; older: `Back-off restarting failed container`). Both are read; the event is matched to
 *   the container by its `involvedObject.fieldPath` `spec.containers{<c>}` or by the name in the
 *   message.
 * - The last lines of the crashed run (`GET pods/<pod>/log?previous=true`, `kubectl logs
 *   --previous`), quoted when they were read (src/snapshot/logs.ts).
 * Exit codes follow the shell convention: 128+n is "killed by signal n" (137 SIGKILL, 143
 * SIGTERM), 126 not executable, 127 not found.
 */
import type { ContainerStateTerminated, KubeEvent, Pod } from '../snapshot/types.js';
import { logEvidence, podEvents, templateChange, templateChangeWords, templateFixedFor, templateValueText, waitingContainers, waitingEvidence } from './facts.js';
import { alreadyFixedOption, deletePodOption, rollbackOption } from './offers.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Finding, type RecoveryOption, type Rule } from './types.js';

/**
 * What an exit code and termination reason mean, in one phrase.
 * @param exitCode `lastState.terminated.exitCode` (undefined when the status has none)
 * @param reason `lastState.terminated.reason`
 * @returns a phrase such as `killed by the kernel for exceeding its memory limit (OOMKilled)`
 */
export function explainExit(exitCode: number | undefined, reason: string | undefined): string {
  if (reason === 'OOMKilled') return 'it was killed for exceeding its memory limit (OOMKilled, SIGKILL)';
  if (reason === 'ContainerCannotRun' || reason === 'StartError') return `the runtime could not start it (${reason})`;
  switch (exitCode) {
    case undefined:
      return 'it stopped (no exit code recorded)';
    case 0:
      return 'it exited successfully (exit code 0), but a StatefulSet restarts every container that ends (restartPolicy Always)';
    case 1:
      return 'the application exited with an error (exit code 1)';
    case 126:
      return 'the command is not executable (exit code 126: permission denied or not a binary)';
    case 127:
      return 'the command was not found (exit code 127: wrong command, entrypoint or PATH in the image)';
    case 137:
      return 'it was killed with SIGKILL (exit code 137): the kernel (memory) or the kubelet (a failed liveness probe, a stop after the grace period) killed it';
    case 143:
      return 'it was stopped with SIGTERM (exit code 143): something asked it to stop, often a failed liveness probe';
    default:
      if (exitCode > 128 && exitCode < 160) return `it was killed by signal ${exitCode - 128} (exit code ${exitCode})`;
      return `the application exited with code ${exitCode}`;
  }
}

function terminatedText(t: ContainerStateTerminated): string {
  const parts = [`reason=${t.reason ?? ''}`, `exitCode=${t.exitCode ?? ''}`];
  if (t.signal) parts.push(`signal=${t.signal}`);
  if (t.startedAt) parts.push(`startedAt=${t.startedAt}`);
  if (t.finishedAt) parts.push(`finishedAt=${t.finishedAt}`);
  if (t.message) parts.push(`message=${t.message}`);
  return parts.join(' ');
}

/** The pod's BackOff events about container `name` (by fieldPath, or by the name in the message). */
function backOffEvents(events: KubeEvent[], name: string): KubeEvent[] {
  return events.filter((e) => {
    const msg = e.message ?? '';
    if (!/^Back-off restarting failed container/.test(msg)) return false;
    const fp = e.involvedObject.fieldPath;
    if (fp) return fp === `spec.containers{${name}}` || fp === `spec.initContainers{${name}}`;
    const m = /^Back-off restarting failed container (\S+)/.exec(msg);
    return !m || m[1] === name;
  });
}

export const crashLoop: Rule = {
  id: 'crash-loop',
  title: 'Container crash-looping (CrashLoopBackOff)',
  rank: 44,
  doc: {
    severities: ['critical'],
    meaning: 'A container keeps exiting (CrashLoopBackOff): its last exit reason and code explained (OOMKilled called out with the memory limit, or, with no limit set, as the node running out of memory and the kernel\'s OOM killer choosing it; 137, 143, 126, 127), the restart count.',
    signals: '`state.waiting.reason` `CrashLoopBackOff` `back-off … restarting failed container=…`, `lastState.terminated` (reason, exitCode, signal), `restartCount`, Warning `BackOff` `Back-off restarting failed container <c> in pod <pod>` (or the older form without names); the last lines of the crashed run (`logs -c <c> --previous`)',
    recoveries: 'manual (logs `--previous`, more memory), `delete-pod` after the fix, `rollback`; when the template already has other resources, command/args, env or image than the pod runs, `delete-pod` first (the finding says so)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      if (pod.metadata.deletionTimestamp) continue;
      const backOffs = podEvents(view, pod, 'BackOff');
      for (const w of waitingContainers(pod)) {
        if (w.status.state!.waiting!.reason !== 'CrashLoopBackOff') continue;
        out.push(finding(pod, w, backOffs));
      }
    }
    return out;

    function finding(pod: Pod, w: ReturnType<typeof waitingContainers>[number], backOffs: KubeEvent[]): Finding {
      const c = w.status;
      const last = c.lastState?.terminated;
      const exitCode = last?.exitCode;
      const lastReason = last?.reason;
      const oom = lastReason === 'OOMKilled';
      let why = explainExit(exitCode, lastReason);
      const statusPath = `status.${w.init ? 'initContainerStatuses' : 'containerStatuses'}[${c.name}]`;
      const evidence = [waitingEvidence(pod, w)];
      if (last) evidence.push(fieldEvidence(pod, 'Pod', `${statusPath}.lastState.terminated`, terminatedText(last), last.finishedAt));
      const log = logEvidence(view, pod, c.name);
      if (log) evidence.push(log);
      evidence.push(fieldEvidence(pod, 'Pod', `${statusPath}.restartCount`, String(c.restartCount ?? 0)));
      for (const e of backOffEvents(backOffs, c.name).slice(0, 1)) evidence.push(eventEvidence(e));
      const spec = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x) => x.name === c.name);
      const limit = spec?.resources?.limits?.memory;
      if (oom) evidence.push(fieldEvidence(pod, 'Pod', `spec.containers[${c.name}].resources.limits.memory`, limit ?? '(none)', undefined, 'spec'));
      // Without a limit the container cannot exceed one: the node ran out of memory and the kernel's OOM killer chose it.
      const node = oom && !limit ? view.nodeOf(pod) : undefined;
      const pressure = node?.status?.conditions?.find((x) => x.type === 'MemoryPressure');
      if (oom && !limit) {
        why = `it was killed by the kernel's OOM killer (OOMKilled) although it has no memory limit: node ${pod.spec.nodeName ?? '?'} ran out of memory${pressure?.status === 'True' ? ' (its MemoryPressure condition is True)' : ''} and the kernel chose this process`;
        if (node && pressure) evidence.push(fieldEvidence(node, 'Node', 'status.conditions[MemoryPressure]', `${pressure.status}${pressure.reason ? ` ${pressure.reason}` : ''}${pressure.message ? `: ${pressure.message}` : ''}`, pressure.lastTransitionTime));
      }
      const ns = pod.metadata.namespace ?? view.snapshot.namespace;
      // Already fixed: what makes it crash (memory for an OOM kill, else the command, env, image) differs in the template now.
      const change = templateChange(view, sts, pod, c.name, oom ? ['resources', 'command', 'env', 'image'] : ['command', 'env', 'image', 'resources', 'volumes']);
      if (change) evidence.push(fieldEvidence(sts, 'StatefulSet', change.path, templateValueText(change.now), undefined, 'spec'));
      const recoveries: RecoveryOption[] = change ? [alreadyFixedOption(pod, change, templateChangeWords(change))] : [
        {
          id: 'manual',
          title: oom ? (limit ? `Give container ${c.name} more memory` : `Reserve memory for container ${c.name}`) : `Find out why container ${c.name} exits`,
          description: oom
            ? limit
              ? `The container was OOM-killed at its limit of ${limit}. Raise resources.limits.memory in the pod template (or reduce the application's memory use), then delete the pod so it is recreated from the new revision.`
              : `The container has no memory limit, so it was not killed for exceeding one: node ${pod.spec.nodeName ?? '?'} ran out of memory and the kernel's OOM killer chose it. Set resources.requests.memory (so the scheduler places it where the memory is free) and a limit in the pod template, or find what else uses the node's memory; then delete the pod so it is recreated from the new revision.`
            : `Read the logs of the crashed run, fix the command, configuration or image, then delete the pod so it is recreated from the new revision (under OrderedReady a pod that never becomes Ready is not replaced by itself, kubernetes#67250).`,
          automated: false,
          commands: [
            `kubectl -n ${ns} logs ${pod.metadata.name} -c ${c.name} --previous`,
            oom
              ? limit
                ? `kubectl -n ${ns} set resources sts/${sts.metadata.name} -c ${c.name} --limits=memory=<more>`
                : `kubectl -n ${ns} set resources sts/${sts.metadata.name} -c ${c.name} --requests=memory=<need> --limits=memory=<max>`
              : `kubectl -n ${ns} describe pod ${pod.metadata.name}`,
          ],
        },
        deletePodOption(pod, `After fixing the template: deletes ${pod.metadata.name} (its PVCs are kept) so the controller recreates it from the current template. Deleting it without a fix only restarts the crash loop.`),
      ];
      if (change) recoveries.push({ id: 'manual', title: `Read the logs of the crashed run of ${c.name}`, description: 'If the recreated pod crashes too, the change did not fix it: the logs of the last run say why it exits.', automated: false, commands: [`kubectl -n ${ns} logs ${pod.metadata.name} -c ${c.name} --previous`] });
      // A rollback only while the template still runs what crashes; once it changed, deleting the pod is the way.
      const rollback = templateFixedFor(view, sts, pod) ? undefined : rollbackOption(view, sts);
      if (rollback) recoveries.push(rollback);
      const n = c.restartCount ?? 0;
      const times = `${n} time${n === 1 ? '' : 's'}`;
      const lastWords = lastReason || exitCode !== undefined ? ` (last exit: ${lastReason ?? 'unknown'}, code ${exitCode ?? '?'})` : '';
      return {
        rule: 'crash-loop',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `Container ${c.name} of ${pod.metadata.name} is crash-looping${lastWords}, restarted ${times}${change ? `; the template already has ${templateChangeWords(change)}, not yet on this pod` : ''}`,
        explanation:
          `Container ${c.name}${w.init ? ' (init)' : ''} of ${pod.metadata.name} keeps exiting: ${why}. ` +
          `The kubelet restarted it ${times} and now waits before the next try (CrashLoopBackOff, back-off doubling from 10 s to 5 min). ` +
          'The pod is not Ready while the container is down, so under OrderedReady the ordinals above it are not created or updated.',
        evidence,
        recoveries,
        confidence: 'high',
        details: {
          container: c.name,
          init: w.init,
          restartCount: c.restartCount ?? 0,
          exitCode,
          lastReason,
          signal: last?.signal,
          oomKilled: oom,
          ...(oom ? { oomKiller: limit ? 'memory-limit' : 'node-out-of-memory' } : {}),
          meaning: why,
          ...(change ? { templateFixed: true, templateField: change.field } : {}),
        },
      };
    }
  },
};
