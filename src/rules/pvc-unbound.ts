/**
 * `pvc-unbound`: a claim of the StatefulSet's pods is not Bound (Pending or Lost), with its cause.
 *
 * Kubernetes sources: pkg/controller/volume/persistentvolume/pv_controller.go (`syncUnboundClaim`,
 * `provisionClaim*`, `emitEventForUnboundDelayBindingClaim`); wording stable 1.29–1.36.
 * - Normal `FailedBinding` `no persistent volumes available for this claim and no storage class is set`
 * - Warning `ProvisioningFailed` `storageclass.storage.k8s.io "<name>" not found`
 * - Normal `ExternalProvisioning` `Waiting for a volume to be created either by the external
 *   provisioner '%s' or manually by the system administrator. ...`
 * - Normal `WaitForFirstConsumer` / `WaitForPodScheduled`
 * - Warning `VolumeMismatch` `Cannot bind to requested volume %q: %s`
 * - Warning `ClaimLost` (phase Lost) `Bound claim has lost its PersistentVolume. Data on the volume is lost!`
 * Events are matched by reason, never by source (external provisioners report under their own name).
 * A WaitForFirstConsumer claim whose pod the scheduler rejects for a reason that is not about
 * storage (e.g. `Insufficient cpu`) is not reported: the root cause is `unschedulable`, which
 * quotes the claim's `WaitForPodScheduled`.
 * A missing claim quotes the StatefulSet's Warning `FailedCreate` `create Claim <claim> for Pod
 * <pod> in StatefulSet <sts> failed error: ...` when there is one (1.36: `Create Claim ...`).
 */
import type { PersistentVolumeClaim, Pod, StatefulSet, StorageClass } from '../snapshot/types.js';
import { ageSeconds, claimOrdinal, formatAge, podOrdinal, type SnapshotView } from '../snapshot/view.js';
import { newClaimBinding, podEvents } from './facts.js';
import { rebuildOption } from './offers.js';
import { parseCreateFailure } from './pod-creation-denied.js';
import { absenceEvidence, confidenceFor, eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';
import { parseSchedulingMessage, type ScheduleReasonCategory } from './scheduling-message.js';

/** Why a claim is not bound. */
export type UnboundCause =
  | 'no-storage-class'
  | 'storage-class-missing'
  | 'provisioner-not-running'
  | 'no-matching-volume'
  | 'waiting-for-pod-scheduling'
  | 'provisioning-failed'
  | 'volume-mismatch'
  | 'claim-lost'
  | 'unknown';

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

function defaultClass(view: SnapshotView): StorageClass | undefined {
  return view.snapshot.storageClasses.find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
}

interface Cause {
  cause: UnboundCause;
  words: string;
  evidence: Evidence[];
  recoveries: RecoveryOption[];
  /** True when the claim only waits (WaitForFirstConsumer) for a pod the scheduler rejects for a non-storage reason. */
  explainedElsewhere?: boolean;
  /** True when it will not bind by itself (see Finding.permanent). */
  permanent?: boolean;
}

/** Scheduler reasons that are about storage: with these, the unbound claim is the root cause. */
const STORAGE_CATEGORIES = new Set<ScheduleReasonCategory>(['unbound-claims', 'volume-binding', 'volume-node-affinity']);

function classify(view: SnapshotView, sts: StatefulSet, claim: PersistentVolumeClaim, pod: Pod | undefined): Cause {
  const events = view.eventsFor(claim, 'PersistentVolumeClaim');
  const latest = (reason: string): ReturnType<typeof events.find> => events.find((e) => e.reason === reason);
  const className = claim.spec.storageClassName ?? undefined;
  const evidence: Evidence[] = [fieldEvidence(claim, 'PersistentVolumeClaim', 'spec.storageClassName', className === undefined ? '(unset)' : className === '' ? '""' : className, undefined, 'spec')];
  const classRecovery = (name: string): RecoveryOption => ({
    id: 'manual',
    title: `Create StorageClass ${name}, or fix the claim template`,
    description: `Create the StorageClass "${name}" the claim asks for. A claim's class cannot be changed: to use another class, change volumeClaimTemplates (recreate the StatefulSet with --cascade=orphan) and delete this Pending claim and its pod, which hold no data yet.`,
    automated: false,
    commands: [`kubectl get storageclass`, `kubectl apply -f storageclass-${name}.yaml`],
  });
  // Rebuilding helps only when a new claim from the same template can bind (rules/offers.ts).
  const rebuild = pod
    ? rebuildOption(view, sts, pod, {
        description: `The claim is ${claim.status?.phase ?? 'Pending'} and holds no data: deleting it and pod ${pod.metadata.name} lets the controller create both anew from the (fixed) template.`,
        forcePod: false,
      })
    : undefined;
  const rebuilds: RecoveryOption[] = rebuild ? [rebuild] : [];

  if (claim.status?.phase === 'Lost') {
    const ev = latest('ClaimLost');
    return {
      cause: 'claim-lost',
      words: `claim ${claim.metadata.name} lost its PersistentVolume ${claim.spec.volumeName ?? ''}`.trim(),
      evidence: [fieldEvidence(claim, 'PersistentVolumeClaim', 'status.phase', 'Lost'), ...(ev ? [eventEvidence(ev)] : [])],
      recoveries: rebuilds,
    };
  }
  const missingClass = latest('ProvisioningFailed');
  if (className && view.canSee('storageclasses') && !view.storageClasses.has(className)) {
    evidence.push(absenceEvidence({ kind: 'StorageClass', name: className }, `StorageClass ${className} does not exist`));
    if (missingClass) evidence.push(eventEvidence(missingClass));
    return { cause: 'storage-class-missing', words: `StorageClass "${className}" does not exist`, evidence, recoveries: [classRecovery(className)], permanent: true };
  }
  const notFound = missingClass ? /storageclass\.storage\.k8s\.io "([^"]+)" not found/.exec(missingClass.message ?? '') : null;
  if (missingClass && notFound) {
    // The class the PV controller looked for (the claim's own field may be unset or unreadable).
    const missing = className || notFound[1]!;
    evidence.push(eventEvidence(missingClass));
    return { cause: 'storage-class-missing', words: `StorageClass "${missing}" does not exist`, evidence, recoveries: [classRecovery(missing)], permanent: true };
  }
  const mismatch = latest('VolumeMismatch');
  if (mismatch) {
    evidence.push(eventEvidence(mismatch));
    return { cause: 'volume-mismatch', words: `the requested volume does not fit: ${mismatch.message}`, evidence, recoveries: rebuilds };
  }
  const noClass = events.find((e) => e.reason === 'FailedBinding' && /no storage class is set/.test(e.message ?? ''));
  if (noClass || ((className === undefined || className === '') && view.canSee('storageclasses') && (className === '' || !defaultClass(view)))) {
    if (noClass) evidence.push(eventEvidence(noClass));
    return {
      cause: 'no-storage-class',
      words: 'it names no StorageClass, there is no default StorageClass, and no PersistentVolume matches it',
      evidence,
      recoveries: [
        {
          id: 'manual',
          title: 'Provide storage for the claim',
          description:
            'Create a PersistentVolume that matches the claim (size, access mode, no class), or mark a StorageClass as default (storageclass.kubernetes.io/is-default-class: "true"): the PV controller then assigns it to unbound claims that name no class.',
          automated: false,
          commands: [`kubectl get pv`, `kubectl patch storageclass <name> -p '{"metadata":{"annotations":{"${DEFAULT_CLASS_ANNOTATION}":"true"}}}'`],
        },
        ...rebuilds,
      ],
    };
  }
  const external = latest('ExternalProvisioning');
  const sc = className ? view.storageClasses.get(className) : undefined;
  if (external && !events.some((e) => e.reason === 'ProvisioningSucceeded')) {
    const provisioner = /external provisioner '([^']+)'/.exec(external.message ?? '')?.[1] ?? sc?.provisioner ?? '?';
    evidence.push(eventEvidence(external));
    const since = formatAge(ageSeconds(view.snapshot.now, claim.metadata.creationTimestamp));
    return {
      cause: 'provisioner-not-running',
      words: `it has waited ${since} for provisioner "${provisioner}", which has not created a volume (is it installed and running?)`,
      evidence,
      recoveries: [
        {
          id: 'manual',
          title: `Check the provisioner ${provisioner}`,
          description: `The claim waits for the external provisioner "${provisioner}". Check that its controller (often a CSI driver's csi-provisioner sidecar) is deployed, running and registered, and read its logs.`,
          automated: false,
          commands: [`kubectl get pods -A | grep -i ${provisioner.split('/').pop()?.split('.')[0] ?? 'provisioner'}`, `kubectl get csidrivers`],
        },
      ],
    };
  }
  if (missingClass) {
    evidence.push(eventEvidence(missingClass));
    return { cause: 'provisioning-failed', words: `provisioning failed: ${missingClass.message}`, evidence, recoveries: rebuilds };
  }
  const wait = events.find((e) => e.reason === 'WaitForFirstConsumer' || e.reason === 'WaitForPodScheduled');
  if (sc?.volumeBindingMode === 'WaitForFirstConsumer' || wait) {
    if (wait) evidence.push(eventEvidence(wait));
    const sched = pod ? podEvents(view, pod, 'FailedScheduling')[0] : undefined;
    if (sched) evidence.push(eventEvidence(sched));
    // The claim only waits for its pod. When the scheduler rejects the pod for a reason that is
    // not about storage (Insufficient cpu, taints, ...), that is the root cause, reported by rule
    // `unschedulable` (which quotes this claim's wait): this claim is not a finding of its own.
    const parsed = sched ? parseSchedulingMessage(sched.message ?? '') : undefined;
    const elsewhere = parsed !== undefined && !STORAGE_CATEGORIES.has(parsed.dominant.category);
    const c: Cause = {
      cause: 'waiting-for-pod-scheduling',
      words: `its StorageClass binds on first use, and ${pod ? `pod ${pod.metadata.name} cannot be scheduled${sched ? `: ${sched.message}` : ''}` : 'no pod uses it yet'}`,
      evidence,
      recoveries: [],
    };
    if (elsewhere) c.explainedElsewhere = true;
    else if (pod && parsed) {
      // The scheduler finds no volume for it: say what to create, and that it will not bind by itself.
      const ordinal = podOrdinal(sts, pod.metadata.name);
      const template = claimOrdinal(sts, claim.metadata.name)?.template;
      const b = ordinal !== undefined && template ? newClaimBinding(view, sts, template, ordinal) : undefined;
      if (b && !b.ok) {
        c.recoveries = [
          {
            id: 'manual',
            title: `Create storage that claim ${claim.metadata.name} can bind`,
            description: `${b.reason.replace(/^no PersistentVolume can bind the new claim/, 'No PersistentVolume can bind claim')}. The claim then binds when ${pod.metadata.name} is scheduled; nothing needs to be deleted.`,
            automated: false,
            commands: ['kubectl get pv', 'kubectl get storageclass', 'kubectl apply -f persistentvolume.yaml'],
          },
        ];
        c.permanent = true;
      }
    }
    return c;
  }
  const binding = latest('FailedBinding');
  if (binding) {
    evidence.push(eventEvidence(binding));
    return { cause: 'no-matching-volume', words: `no PersistentVolume matches it: ${binding.message}`, evidence, recoveries: rebuilds };
  }
  evidence.push(fieldEvidence(claim, 'PersistentVolumeClaim', 'status.phase', claim.status?.phase ?? 'Pending'));
  // Not being able to read events or classes is not the same as there being none.
  const unread = (['events', 'storageclasses'] as const).filter((r) => !view.canSee(r));
  if (unread.length) return { cause: 'unknown', words: `the cause is unknown: ${unread.join(' and ')} could not be read`, evidence, recoveries: [] };
  return { cause: 'unknown', words: 'no event explains why', evidence, recoveries: [] };
}

export const pvcUnbound: Rule = {
  id: 'pvc-unbound',
  title: 'PersistentVolumeClaim not bound',
  rank: 30,
  doc: {
    severities: ['critical'],
    meaning: 'A claim of a pod is Pending or Lost, with the cause: no class and no PV, missing class, provisioner not running, waiting for the pod to schedule (only when the scheduler\'s reason is about storage; otherwise `unschedulable` reports it), provisioning failed, volume mismatch, claim lost, or the claim is missing (quoting the StatefulSet\'s `FailedCreate` for it, e.g. a storage quota).',
    signals: 'PVC `status.phase`, `spec.storageClassName`, StorageClasses; events `FailedBinding`, `ProvisioningFailed`, `ExternalProvisioning`, `WaitForFirstConsumer`, `VolumeMismatch`, `ClaimLost`',
    recoveries: 'manual steps (create the class or PV), `delete-pvc-and-pod`',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      const ordinal = podOrdinal(sts, pod.metadata.name);
      if (ordinal === undefined) continue;
      for (const { claimName, claim } of view.claimsOf(pod)) {
        if (!claim) {
          if (!view.canSee('persistentvolumeclaims')) continue;
          const sched = podEvents(view, pod, 'FailedScheduling').find((e) => (e.message ?? '').includes(claimName));
          // The controller's own attempt to create it, refused (e.g. storage quota): newest first.
          const denied = view.eventsFor(sts, 'StatefulSet').find((e) => e.reason === 'FailedCreate' && parseCreateFailure(e.message ?? '')?.claim === claimName);
          const deniedWhy = denied ? parseCreateFailure(denied.message ?? '') : undefined;
          out.push({
            rule: 'pvc-unbound',
            severity: 'critical',
            statefulSet: stsRef({ view, sts }),
            subject: { kind: 'PersistentVolumeClaim', namespace: view.snapshot.namespace, name: claimName },
            summary: `Claim ${claimName} of pod ${pod.metadata.name} does not exist${deniedWhy ? `: the API server refuses to create it (${deniedWhy.cause})` : ''}`,
            explanation: `Pod ${pod.metadata.name} mounts claim ${claimName}, which does not exist. The StatefulSet controller creates missing claims of Pending pods; if it cannot, its FailedCreate events on the StatefulSet say why (for example a storage quota).`,
            evidence: [
              absenceEvidence({ kind: 'PersistentVolumeClaim', namespace: view.snapshot.namespace, name: claimName }, `PersistentVolumeClaim ${claimName} does not exist`),
              ...(denied ? [eventEvidence(denied)] : []),
              ...(sched ? [eventEvidence(sched)] : []),
            ],
            recoveries: [],
            confidence: 'high',
            details: { claim: claimName, pod: pod.metadata.name, cause: 'claim-missing', ...(deniedWhy ? { creationDenied: deniedWhy.cause, error: deniedWhy.error } : {}) },
          });
          continue;
        }
        if (claim.status?.phase === 'Bound') continue;
        const c = classify(view, sts, claim, pod);
        if (c.explainedElsewhere) continue;
        out.push({
          rule: 'pvc-unbound',
          severity: 'critical',
          statefulSet: stsRef({ view, sts }),
          subject: ref(claim, 'PersistentVolumeClaim'),
          summary: `Claim ${claim.metadata.name} of pod ${pod.metadata.name} is ${claim.status?.phase ?? 'Pending'}: ${c.words}`,
          explanation:
            `Pod ${pod.metadata.name} cannot start until its claim ${claim.metadata.name} is bound to a PersistentVolume. ` +
            `It has been ${claim.status?.phase ?? 'Pending'} for ${formatAge(ageSeconds(view.snapshot.now, claim.metadata.creationTimestamp))}: ${c.words}.`,
          evidence: c.evidence,
          recoveries: c.recoveries,
          ...(c.permanent ? { permanent: true } : {}),
          confidence: confidenceFor(view, 'events', 'storageclasses', 'persistentvolumes'),
          details: { claim: claim.metadata.name, pod: pod.metadata.name, cause: c.cause, storageClassName: claim.spec.storageClassName ?? null },
        });
      }
    }
    return out;
  },
};
