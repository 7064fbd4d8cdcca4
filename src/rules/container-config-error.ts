/**
 * `container-config-error`: a container cannot be created because its configuration is wrong or
 * missing (a ConfigMap, Secret or key it refers to), or a ConfigMap/Secret volume cannot be
 * mounted.
 *
 * Kubernetes sources:
 * - pkg/kubelet/kubelet_pods.go (`makeEnvironmentVariables`) and pkg/kubelet/kuberuntime:
 *   `state.waiting.reason` `CreateContainerConfigError` with message `configmap "x" not found`,
 *   `secret "x" not found` (the kubelet's watch-based managers, 1.29-1.36; a kubelet reading
 *   through the API words it `configmaps "x" not found` / `secrets "x" not found`: both are read),
 *   `couldn't find key K in ConfigMap ns/name`, `couldn't find key K in Secret ns/name`; Warning
 *   `Failed` `Error: <message>`.
 * - `CreateContainerError`, `RunContainerError` (the runtime refused to create or start the
 *   container; `lastState.terminated.reason` often `StartError`, exit 128) with Warning `Failed`
 *   `Error: <runtime error>`.
 * - pkg/kubelet/volumemanager and pkg/volume/configmap, pkg/volume/secret: Warning `FailedMount`
 *   `MountVolume.SetUp failed for volume "v" : configmap "x" not found` (or `secret "x" not
 *   found`), the pod stays Pending with containers waiting `ContainerCreating`; later also
 *   `Unable to attach or mount volumes: unmounted volumes=[v], ...: timed out waiting for the
 *   condition` (up to 1.27) / `...: context deadline exceeded` (1.28+).
 */
import type { KubeEvent, Pod } from '../snapshot/types.js';
import { eventTime } from '../snapshot/view.js';
import { podEvents, templateChange, templateChangeWords, templateValueText, waitingContainers, waitingEvidence, type TemplateChange, type WaitingContainer } from './facts.js';
import { alreadyFixedOption } from './offers.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';

const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** The object (and key) a configuration error says is missing. */
export interface MissingRef {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  /** Set when the object exists but lacks this key. */
  key?: string;
}

/**
 * Reads what is missing from a kubelet message: `configmap "x" not found`, `secrets "x" not
 * found`, `couldn't find key K in ConfigMap ns/name`. Undefined when the text names no ConfigMap
 * or Secret.
 */
export function parseMissing(text: string): MissingRef | undefined {
  const key = /couldn't find key (\S+) in (ConfigMap|Secret) (?:[^/\s]+\/)?([^\s,;]+)/.exec(text);
  if (key) return { kind: key[2] as MissingRef['kind'], name: key[3]!, key: key[1]! };
  const nf = /\b(configmaps?|secrets?) "([^"]+)" not found/i.exec(text);
  if (nf) return { kind: nf[1]!.toLowerCase().startsWith('configmap') ? 'ConfigMap' : 'Secret', name: nf[2]! };
  return undefined;
}

/** Where the pod spec refers to a ConfigMap/Secret: env, envFrom and volumes, as field paths. */
function references(pod: Pod, m: MissingRef): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const isCm = m.kind === 'ConfigMap';
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    (c.envFrom ?? []).forEach((e, i) => {
      const r = (e as { configMapRef?: { name?: string; optional?: boolean }; secretRef?: { name?: string; optional?: boolean } })[isCm ? 'configMapRef' : 'secretRef'];
      if (r?.name === m.name) out.push({ path: `spec.containers[${c.name}].envFrom[${i}].${isCm ? 'configMapRef' : 'secretRef'}`, text: `name=${r.name}${r.optional ? ' optional=true' : ''}` });
    });
    for (const e of c.env ?? []) {
      const vf = e.valueFrom as { configMapKeyRef?: { name?: string; key?: string; optional?: boolean }; secretKeyRef?: { name?: string; key?: string; optional?: boolean } } | undefined;
      const r = vf?.[isCm ? 'configMapKeyRef' : 'secretKeyRef'];
      if (r?.name === m.name) out.push({ path: `spec.containers[${c.name}].env[${e.name}].valueFrom.${isCm ? 'configMapKeyRef' : 'secretKeyRef'}`, text: `name=${r.name} key=${r.key ?? ''}${r.optional ? ' optional=true' : ''}` });
    }
  }
  for (const v of pod.spec.volumes ?? []) {
    if (isCm && v.configMap?.name === m.name) out.push({ path: `spec.volumes[${v.name}].configMap`, text: `name=${m.name}${v.configMap.optional ? ' optional=true' : ''}` });
    if (!isCm && v.secret?.secretName === m.name) out.push({ path: `spec.volumes[${v.name}].secret`, text: `secretName=${m.name}${v.secret.optional ? ' optional=true' : ''}` });
  }
  return out;
}

function recoveriesFor(pod: Pod, stsName: string, m: MissingRef | undefined, ns: string): RecoveryOption[] {
  const create = m
    ? m.key
      ? `kubectl -n ${ns} edit ${m.kind.toLowerCase()} ${m.name}   # add key ${m.key}`
      : m.kind === 'ConfigMap'
        ? `kubectl -n ${ns} create configmap ${m.name} --from-file=<file>`
        : `kubectl -n ${ns} create secret generic ${m.name} --from-literal=<key>=<value>`
    : `kubectl -n ${ns} describe pod ${pod.metadata.name}`;
  return [
    {
      id: 'manual',
      title: m ? `Create ${m.kind} ${m.name}${m.key ? ` with key ${m.key}` : ''} (or fix the reference)` : 'Fix the container configuration in the pod template',
      description: m
        ? `The kubelet retries on its own: once ${m.kind} ${m.name}${m.key ? ` has key ${m.key}` : ' exists'} in namespace ${ns}, the container starts without deleting the pod. If the name is wrong, fix the reference in the StatefulSet's template (or mark it optional), then delete the pod so it is recreated from the new revision.`
        : `The runtime refused the container. Fix the template (command, image, security settings), then delete ${pod.metadata.name} so it is recreated from the new revision.`,
      automated: false,
      commands: [create, `kubectl -n ${ns} edit sts ${stsName}`],
    },
  ];
}

export const containerConfigError: Rule = {
  id: 'container-config-error',
  title: 'Container configuration missing (ConfigMap, Secret, key) or volume cannot be mounted',
  rank: 42,
  doc: {
    severities: ['critical'],
    meaning: 'A container cannot be created: a ConfigMap, Secret or key it refers to is missing (names it and the env/envFrom/volume reference), the runtime refused it (`CreateContainerError`, `RunContainerError`), or a ConfigMap/Secret volume cannot be mounted (pod stuck ContainerCreating).',
    signals: '`state.waiting.reason` `CreateContainerConfigError` with `configmap "x" not found` / `configmaps "x" not found` / `secret "x" not found` / `couldn\'t find key K in ConfigMap ns/name`, Warning `Failed` `Error: …`; Warning `FailedMount` `MountVolume.SetUp failed for volume "v" : configmap "x" not found`',
    recoveries: 'manual (create the object or fix the reference); when the template already has other env/envFrom or volume references (or, for a runtime refusal, another command or image) than the pod runs, `delete-pod` first',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    const ns = view.snapshot.namespace;
    for (const pod of view.podsOf(sts)) {
      if (pod.metadata.deletionTimestamp) continue;
      const failed = podEvents(view, pod, 'Failed');
      for (const w of waitingContainers(pod)) {
        const reason = w.status.state!.waiting!.reason!;
        if (!CONFIG_REASONS.has(reason)) continue;
        out.push(containerFinding(pod, w, reason, failed));
      }
      // FailedMount of a ConfigMap/Secret volume: the pod never gets past ContainerCreating.
      if (pod.status?.phase === 'Pending' && !pod.status.containerStatuses?.some((c) => c.state?.running)) {
        const mounts = podEvents(view, pod, 'FailedMount').slice().sort((a, b) => eventTime(b) - eventTime(a));
        const byVolume = new Map<string, KubeEvent>();
        for (const e of mounts) {
          const m = /MountVolume\.SetUp failed for volume "([^"]+)" : (.*)$/s.exec(e.message ?? '');
          if (m && parseMissing(m[2]!) && !byVolume.has(m[1]!)) byVolume.set(m[1]!, e);
        }
        for (const [volume, e] of byVolume) out.push(mountFinding(pod, volume, e, mounts));
      }
    }
    return out;

    function containerFinding(pod: Pod, w: WaitingContainer, reason: string, failed: KubeEvent[]): Finding {
      const message = w.status.state!.waiting!.message ?? '';
      const events = failed.filter((e) => {
        const fp = e.involvedObject.fieldPath;
        return (!fp || fp === `spec.containers{${w.status.name}}` || fp === `spec.initContainers{${w.status.name}}`) && /^Error: /.test(e.message ?? '');
      });
      const missing = parseMissing([message, ...events.map((e) => e.message ?? '')].join('\n'));
      const evidence: Evidence[] = [waitingEvidence(pod, w), ...events.slice(0, 1).map(eventEvidence)];
      if (missing) for (const r of references(pod, missing)) evidence.push(fieldEvidence(pod, 'Pod', r.path, r.text, undefined, 'spec'));
      if (reason !== 'CreateContainerConfigError' && w.status.lastState?.terminated) {
        const t = w.status.lastState.terminated;
        evidence.push(fieldEvidence(pod, 'Pod', `status.containerStatuses[${w.status.name}].lastState.terminated`, `reason=${t.reason ?? ''} exitCode=${t.exitCode ?? ''}${t.message ? ` message=${t.message}` : ''}`, t.finishedAt));
      }
      const what = missing ? `${missing.kind} ${missing.name}${missing.key ? ` has no key ${missing.key}` : ' does not exist'}` : `the runtime refused it: ${message || reason}`;
      // Already fixed: the references (env, envFrom, volumes) or, for a runtime refusal, the command or image differ in the template now.
      const change = templateChange(view, sts, pod, w.status.name, missing ? ['env', 'volumes'] : ['command', 'image', 'env', 'volumes', 'resources']);
      if (change) evidence.push(fieldEvidence(sts, 'StatefulSet', change.path, templateValueText(change.now), undefined, 'spec'));
      return {
        rule: 'container-config-error',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `Container ${w.status.name} of ${pod.metadata.name} cannot be created: ${what} (${reason})${change ? `; the template already has ${templateChangeWords(change)}, not yet on this pod` : ''}`,
        explanation:
          `The kubelet cannot create container ${w.status.name}${w.init ? ' (init)' : ''} of ${pod.metadata.name}: ${what}. ` +
          (missing
            ? 'It keeps retrying; the pod stays Pending and not Ready until the object exists, so under OrderedReady no later ordinal is created.'
            : 'The container never starts; fix the template and delete the pod, because under OrderedReady a pod that never becomes Ready is not replaced (kubernetes#67250).'),
        evidence,
        recoveries: withFix(pod, change, recoveriesFor(pod, sts.metadata.name, missing, ns)),
        confidence: 'high',
        details: { container: w.status.name, init: w.init, reason, message, ...(missing ? { missing } : {}), ...(change ? { templateFixed: true, templateField: change.field } : {}) },
      };
    }

    /** With the template already changed: delete-pod first, the manual steps after it (in case the new references are wrong too). */
    function withFix(pod: Pod, change: TemplateChange | undefined, rest: RecoveryOption[]): RecoveryOption[] {
      return change ? [alreadyFixedOption(pod, change, templateChangeWords(change)), ...rest] : rest;
    }

    function mountFinding(pod: Pod, volume: string, e: KubeEvent, all: KubeEvent[]): Finding {
      const m = /MountVolume\.SetUp failed for volume "[^"]+" : (.*)$/s.exec(e.message ?? '');
      const missing = parseMissing(m?.[1] ?? '')!;
      const evidence: Evidence[] = [eventEvidence(e)];
      const timeout = all.find((x) => /^Unable to attach or mount volumes/.test(x.message ?? '') && (x.message ?? '').includes(volume));
      if (timeout) evidence.push(eventEvidence(timeout));
      for (const r of references(pod, missing)) evidence.push(fieldEvidence(pod, 'Pod', r.path, r.text, undefined, 'spec'));
      const change = templateChange(view, sts, pod, undefined, ['volumes']);
      if (change) evidence.push(fieldEvidence(sts, 'StatefulSet', change.path, templateValueText(change.now), undefined, 'spec'));
      const creating = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason === 'ContainerCreating');
      if (creating) evidence.push(fieldEvidence(pod, 'Pod', `status.containerStatuses[${creating.name}].state.waiting`, 'ContainerCreating'));
      return {
        rule: 'container-config-error',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pod, 'Pod'),
        summary: `Volume ${volume} of ${pod.metadata.name} cannot be mounted: ${missing.kind} ${missing.name} ${missing.key ? `has no key ${missing.key}` : 'does not exist'} (FailedMount)`,
        explanation:
          `The kubelet cannot set up volume ${volume} of ${pod.metadata.name}: ${missing.kind} ${missing.name} ${missing.key ? `has no key ${missing.key}` : 'does not exist'}. ` +
          'No container starts before every volume is mounted, so the pod stays ContainerCreating (Pending) and, under OrderedReady, no later ordinal is created. The kubelet retries on its own once the object exists.',
        evidence,
        recoveries: withFix(pod, change, recoveriesFor(pod, sts.metadata.name, missing, ns)),
        confidence: 'high',
        details: { reason: 'FailedMount', volume, missing, ...(change ? { templateFixed: true, templateField: change.field } : {}) },
      };
    }
  },
};
