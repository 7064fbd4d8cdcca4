/**
 * `pod-creation-denied`: the StatefulSet controller cannot create a pod (or the pod's claim)
 * because the API server refuses it: a ResourceQuota, Pod Security admission, an admission
 * webhook, or another `forbidden`. No pod exists at all, so the only signal is on the
 * StatefulSet.
 *
 * Kubernetes sources: pkg/controller/statefulset/stateful_pod_control.go (`recordPodEvent`,
 * `recordClaimEvent`): Warning `FailedCreate`
 *   `create Pod <pod> in StatefulSet <sts> failed error: <err>` and
 *   `create Claim <claim> for Pod <pod> in StatefulSet <sts> failed error: <err>`;
 * 1.36 capitalises the verb (`Create Pod ...`), so the verb is matched case-insensitively (1.29–1.36).
 * When a claim cannot be created the Pod event's error reads `failed to create PVC <claim>: <err>`.
 * Errors: plugin/pkg/admission/resourcequota (`exceeded quota: <name>, requested: <r>, used: <u>,
 * limited: <l>`, `status unknown for quota: <name>`), staging/src/k8s.io/pod-security-admission
 * (`violates PodSecurity "<level>:<version>": <checks>`), the webhook dispatcher
 * (`admission webhook "<name>" denied the request: <msg>`).
 * A failure is current only while the pod is still missing and no later `SuccessfulCreate` for
 * the same object follows it.
 */
import type { KubeEvent, ResourceQuota } from '../snapshot/types.js';
import { formatQuantity, parseQuantity } from './quantity.js';
import { escapeRegExp, eventTime, podOrdinal } from '../snapshot/view.js';
import { inRanges, missingOrdinalRanges, rangeCount } from '../snapshot/ordinals.js';
import { absenceEvidence, confidenceFor, eventEvidence, fieldEvidence, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';

/** Why the API server refused the object. */
export type DenialCause = 'quota' | 'pod-security' | 'webhook' | 'forbidden' | 'other';

/** A parsed `FailedCreate` message of the StatefulSet controller. */
export interface CreateFailure {
  kind: 'Pod' | 'Claim';
  /** The pod (for a Claim failure: the pod the claim is for). */
  pod: string;
  /** The claim, for a Claim failure or a Pod failure caused by one (`failed to create PVC <claim>`). */
  claim?: string;
  statefulSet: string;
  /** The API server's error, as quoted. */
  error: string;
  cause: DenialCause;
  /** For quota denials. */
  quota?: { name: string; requested?: string; used?: string; limited?: string };
  /** For Pod Security denials: the level, e.g. `restricted:latest`. */
  podSecurityLevel?: string;
  /** For webhook denials: the webhook's name. */
  webhook?: string;
}

/** Parses a `FailedCreate` message; undefined when it is not a create-Pod/create-Claim failure. */
export function parseCreateFailure(message: string): CreateFailure | undefined {
  const m = /^create (Pod|Claim) (\S+) (?:for Pod (\S+) )?in StatefulSet (\S+) failed error: ([\s\S]*)$/i.exec(message.trim());
  if (!m) return undefined;
  const kind = m[1]!.toLowerCase() === 'pod' ? 'Pod' : 'Claim';
  const error = m[5]!;
  const out: CreateFailure = { kind, pod: kind === 'Pod' ? m[2]! : (m[3] ?? ''), statefulSet: m[4]!, error, cause: 'other' };
  if (kind === 'Claim') out.claim = m[2]!;
  const pvc = /failed to create PVC (\S+?):/.exec(error);
  if (pvc) out.claim = pvc[1]!;
  const quota = /exceeded quota: ([^,]+)(?:, requested: (.*?), used: (.*?), limited: (.*))?$/.exec(error);
  const unknownQuota = /status unknown for quota: ([^,]+)/.exec(error);
  const pss = /violates PodSecurity "([^"]+)"/.exec(error);
  const webhook = /admission webhook "([^"]+)" denied the request/.exec(error);
  if (quota) {
    out.cause = 'quota';
    out.quota = { name: quota[1]!.trim() };
    if (quota[2] !== undefined) Object.assign(out.quota, { requested: quota[2], used: quota[3], limited: quota[4]!.trim() });
  } else if (unknownQuota) {
    out.cause = 'quota';
    out.quota = { name: unknownQuota[1]!.trim() };
  } else if (pss) {
    out.cause = 'pod-security';
    out.podSecurityLevel = pss[1]!;
  } else if (webhook) {
    out.cause = 'webhook';
    out.webhook = webhook[1]!;
  } else if (/is forbidden/.test(error)) {
    out.cause = 'forbidden';
  }
  return out;
}

const CAUSE_WORDS: Record<DenialCause, string> = {
  quota: 'it would exceed a ResourceQuota',
  'pod-security': 'it violates the namespace\'s Pod Security level',
  webhook: 'an admission webhook denies it',
  forbidden: 'the API server forbids it',
  other: 'the API server refuses it',
};

/** What the whole rollout needs of one quota resource, against what is free. */
export interface QuotaHeadroom {
  resource: string;
  /** What one object (pod or claim) asks for, as the error says. */
  perObject: string;
  /** How many such objects the StatefulSet still has to create. */
  objects: number;
  needed: string;
  free: string;
}

function parseList(s: string | undefined): Map<string, string> {
  return new Map((s ?? '').split(',').map((x) => x.trim().split('=') as [string, string]).filter((kv) => kv.length === 2 && kv[0]));
}

/**
 * The headroom of a quota denial for the whole rollout: for each resource of the error's
 * `requested`, `objects` times the request against `limited - used` ("needs 3 pods, 0 free").
 */
export function quotaHeadroom(q: NonNullable<CreateFailure['quota']>, objects: number): QuotaHeadroom[] {
  const requested = parseList(q.requested);
  const used = parseList(q.used);
  const limited = parseList(q.limited);
  const out: QuotaHeadroom[] = [];
  for (const [resource, per] of requested) {
    const r = parseQuantity(per);
    const l = parseQuantity(limited.get(resource));
    const u = parseQuantity(used.get(resource)) ?? 0;
    if (r === undefined || l === undefined) continue;
    const unit = resource.replace(/^(requests|limits)\./, '');
    out.push({ resource, perObject: per, objects, needed: formatQuantity(r * objects, unit), free: formatQuantity(Math.max(0, l - u), unit) });
  }
  return out;
}

function headroomWords(h: QuotaHeadroom[], what: string): string {
  return h.map((x) => `${x.resource}: ${x.objects} ${what}${x.objects === 1 ? '' : 's'} need ${x.needed}, ${x.free} free`).join('; ');
}

function recoveries(f: CreateFailure, ns: string, sts: string): RecoveryOption[] {
  switch (f.cause) {
    case 'quota':
      return [
        {
          id: 'manual',
          title: `Raise ResourceQuota ${f.quota!.name}, or lower what the StatefulSet asks for`,
          description:
            `ResourceQuota ${f.quota!.name} limits ${f.quota!.limited ?? 'this resource'} (used: ${f.quota!.used ?? '?'}); the ${f.kind === 'Claim' || f.claim ? 'claim' : 'pod'} requests ${f.quota!.requested ?? 'more'}. Raise the quota or free quota elsewhere; the controller retries by itself. ` +
            (f.kind === 'Claim' || f.claim
              ? 'A claim template\'s size cannot be changed in place (volumeClaimTemplates are immutable: recreate the StatefulSet with --cascade=orphan).'
              : 'Or lower the pod template\'s requests.'),
          automated: false,
          commands: [`kubectl -n ${ns} describe resourcequota ${f.quota!.name}`, `kubectl -n ${ns} edit resourcequota ${f.quota!.name}`],
        },
      ];
    case 'pod-security':
      return [
        {
          id: 'manual',
          title: 'Make the pod template comply with the Pod Security level, or relax the namespace',
          description: `The namespace enforces Pod Security "${f.podSecurityLevel}". Set the securityContext fields the error lists in the StatefulSet's template (the controller then creates the pod), or, if the workload needs more privilege, lower the namespace's pod-security.kubernetes.io/enforce label.`,
          automated: false,
          commands: [`kubectl get namespace ${ns} --show-labels`, `kubectl -n ${ns} edit statefulset ${sts}`],
        },
      ];
    case 'webhook':
      return [{ id: 'manual', title: `Check admission webhook ${f.webhook}`, description: 'An admission webhook rejects the object: change the template to satisfy its policy, or fix the webhook.', automated: false, commands: ['kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations'] }];
    default:
      return [];
  }
}

function isCreateSuccessFor(e: KubeEvent, f: CreateFailure): boolean {
  if (e.reason !== 'SuccessfulCreate') return false;
  const msg = e.message ?? '';
  return f.kind === 'Claim' ? new RegExp(`^create Claim ${escapeRegExp(f.claim ?? '')} `, 'i').test(msg) : new RegExp(`^create Pod ${escapeRegExp(f.pod)} `, 'i').test(msg);
}

export const podCreationDenied: Rule = {
  id: 'pod-creation-denied',
  title: 'Pod or claim creation refused by the API server',
  rank: 25,
  doc: {
    severities: ['critical'],
    meaning: 'The StatefulSet controller cannot create a pod (or its claim): the API server refuses it (ResourceQuota, Pod Security admission, an admission webhook). No pod exists; names the quota, level or webhook.',
    signals: 'StatefulSet events Warning `FailedCreate` "create Pod <pod> in StatefulSet <sts> failed error: ..." and "create Claim <claim> for Pod ..." (`exceeded quota: ...`, `violates PodSecurity ...`, `admission webhook ... denied the request`), ResourceQuota status',
    recoveries: 'manual (raise the quota, fix the template\'s securityContext)',
  },
  evaluate({ view, sts }) {
    if (!view.canSee('pods')) return [];
    const ranges = missingOrdinalRanges(sts, view.podsOf(sts).map((p) => podOrdinal(sts, p.metadata.name)!));
    if (ranges.length === 0) return [];
    const missing = { has: (pod: string): boolean => { const o = podOrdinal(sts, pod); return o !== undefined && inRanges(ranges, o); } };
    const events = view.eventsFor(sts, 'StatefulSet'); // newest first
    const out: Finding[] = [];
    // The newest current failure of each missing pod, per object kind (Pod, Claim).
    const failures = new Map<string, { pod?: { e: KubeEvent; f: CreateFailure }; claim?: { e: KubeEvent; f: CreateFailure } }>();
    for (const e of events) {
      if (e.reason !== 'FailedCreate') continue;
      const f = parseCreateFailure(e.message ?? '');
      if (!f || !missing.has(f.pod)) continue;
      if (events.some((s) => eventTime(s) > eventTime(e) && isCreateSuccessFor(s, f))) continue;
      const slot = failures.get(f.pod) ?? {};
      if (f.kind === 'Claim') slot.claim ??= { e, f };
      else slot.pod ??= { e, f };
      failures.set(f.pod, slot);
    }
    for (const [pod, slot] of [...failures].sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }))) {
      // The Claim event names the cause at its source; the Pod event then only repeats it
      // (`failed to create PVC ...`). A Pod event with another error is the current cause.
      const podOwn = slot.pod && !/failed to create PVC /.test(slot.pod.f.error) && (!slot.claim || eventTime(slot.pod.e) >= eventTime(slot.claim.e));
      const main = podOwn || !slot.claim ? slot.pod! : slot.claim;
      const other = main === slot.pod ? undefined : slot.pod;
      const primary = main.f;
      const ns = view.snapshot.namespace;
      const evidence: Evidence[] = [eventEvidence(main.e)];
      if (other) evidence.push(eventEvidence(other.e));
      evidence.push(absenceEvidence({ kind: 'Pod', namespace: ns, name: pod }, `Pod ${pod} does not exist`));
      if (primary.quota) {
        const q: ResourceQuota | undefined = view.snapshot.resourceQuotas.find((r) => r.metadata.name === primary.quota!.name);
        if (q) {
          const fmt = (m: Record<string, string> | undefined): string => Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
          evidence.push(fieldEvidence(q, 'ResourceQuota', 'status', `hard: ${fmt(q.status?.hard ?? q.spec?.hard)}; used: ${fmt(q.status?.used)}`));
        }
      }
      // The refused object: the claim (Claim event, or a Pod event failing on its claim), else the pod.
      const claim = primary.claim && (primary.kind === 'Claim' || /failed to create PVC /.test(primary.error)) ? primary.claim : undefined;
      const what = claim ? `claim ${claim} of pod ${pod}` : `pod ${pod}`;
      const subject = claim ? { kind: 'PersistentVolumeClaim', namespace: ns, name: claim } : { kind: 'Pod', namespace: ns, name: pod };
      const details: Record<string, unknown> = { pod, object: claim ? 'Claim' : 'Pod', cause: primary.cause, error: primary.error };
      if (primary.claim) details.claim = primary.claim;
      if (primary.quota) details.quota = primary.quota;
      // The whole rollout, not just this pod: every missing replica needs the same.
      const objects = rangeCount(ranges);
      const headroom = primary.quota ? quotaHeadroom(primary.quota, objects) : [];
      if (headroom.length) details.headroom = headroom;
      const headroomText = headroom.length ? ` For the whole rollout: ${headroomWords(headroom, claim ? 'claim' : 'pod')}.` : '';
      if (primary.podSecurityLevel) details.podSecurityLevel = primary.podSecurityLevel;
      if (primary.webhook) details.webhook = primary.webhook;
      out.push({
        rule: 'pod-creation-denied',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject,
        summary: `The StatefulSet controller cannot create ${what}: ${CAUSE_WORDS[primary.cause]}${headroom.length ? ` (${headroomWords(headroom, claim ? 'claim' : 'pod')})` : ''}`,
        explanation:
          `Pod ${pod} does not exist because the API server refuses to create ${what}: ${primary.error}. ` +
          'The controller retries with a back-off and records each refusal as a FailedCreate event on the StatefulSet (not on a pod: there is none). ' +
          (sts.spec.podManagementPolicy === 'Parallel' ? '' : 'Under OrderedReady the ordinals above it are not created either.') +
          headroomText,
        evidence,
        recoveries: recoveries(primary, ns, sts.metadata.name),
        // A quota does not grow by itself: the watch after a recovery stops on it.
        ...(primary.cause === 'quota' ? { permanent: true } : {}),
        confidence: confidenceFor(view, 'events'),
        details,
      });
    }
    return out;
  },
};
