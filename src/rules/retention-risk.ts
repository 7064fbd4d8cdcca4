/**
 * `retention-risk`: settings and leftovers that decide whether data survives a scale-down or a
 * recovery.
 *
 * - `when-scaled-delete`: `spec.persistentVolumeClaimRetentionPolicy.whenScaled: Delete`
 *   (GA 1.32, beta from 1.27): the controller deletes the claims of the ordinals a scale-down
 *   removes, and with them the volumes whose reclaim policy is Delete. A warning where that is
 *   in play: a scale-down is pending (pods above `spec.replicas`), or a replica is unhealthy (a
 *   recovery or a scale-down to get rid of it is likely); info on a healthy StatefulSet, whose
 *   owners may have chosen the policy (so a CI gate on a healthy StatefulSet stays green).
 * - warning `reclaim-delete`: a claim of a replica that is not Running and Ready (or missing),
 *   i.e. one a recovery may delete, is bound to a PersistentVolume with
 *   `persistentVolumeReclaimPolicy: Delete`: deleting the claim deletes the volume and its data.
 *   Healthy replicas are not reported (every dynamically provisioned volume defaults to Delete).
 * - info `leftover-claim`: a claim `<template>-<sts>-<n>` of an ordinal outside
 *   `[ordinals.start, ordinals.start + replicas)` with no pod: left behind by a scale-down with
 *   whenScaled Retain. A later scale-up reuses it with its old data.
 *
 * Kubernetes source: pkg/controller/statefulset/stateful_set_utils.go
 * (`isClaimOwnerUpToDate`, `updateClaimOwnerRefForSetAndPod`) and the PV controller's reclaim
 * (pkg/controller/volume/persistentvolume/pv_controller.go, `reclaimVolume`). Spec fields only,
 * no message text: version-independent (1.29–1.36).
 */
import type { PersistentVolume, PersistentVolumeClaim } from '../snapshot/types.js';
import { reclaimPolicy } from './facts.js';
import { claimOrdinal, desiredReplicas, isRunningAndReady, ordinalStart, podName } from '../snapshot/view.js';
import { missingOrdinalRanges } from '../snapshot/ordinals.js';
import { absenceEvidence, confidenceFor, fieldEvidence, ref, stsRef, type Evidence, type Finding, type Rule } from './types.js';

export const retentionRisk: Rule = {
  id: 'retention-risk',
  title: 'Data-loss risk in claim retention or volume reclaim policy',
  rank: 80,
  doc: {
    severities: ['warning', 'info'],
    meaning: '`whenScaled: Delete` (a scale-down deletes claims, and volumes with reclaim policy Delete): a warning while a scale-down is pending or a replica is unhealthy, info on a healthy StatefulSet; claims of unhealthy replicas bound to PVs with reclaim policy Delete (a recovery that deletes the claim deletes the data); info: claims left by a scale-down.',
    signals: '`spec.persistentVolumeClaimRetentionPolicy`, PV `spec.persistentVolumeReclaimPolicy`, claims `<template>-<sts>-<n>` outside the ordinal range',
    recoveries: 'manual (`whenScaled: Retain`, reclaim policy Retain)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    const ns = view.snapshot.namespace;
    const base = { rule: 'retention-risk', statefulSet: stsRef({ view, sts }) };
    const start = ordinalStart(sts);
    const want = desiredReplicas(sts);
    const pods = view.podsByOrdinal(sts);

    // Every claim of the StatefulSet's templates, with its ordinal.
    const claims: { ordinal: number; claim: PersistentVolumeClaim; pv: PersistentVolume | undefined }[] = [];
    for (const c of view.snapshot.persistentVolumeClaims) {
      const of = claimOrdinal(sts, c.metadata.name);
      if (of) claims.push({ ordinal: of.ordinal, claim: c, pv: view.volumeOf(c) });
    }
    claims.sort((a, b) => a.ordinal - b.ordinal || a.claim.metadata.name.localeCompare(b.claim.metadata.name));

    const policy = sts.spec.persistentVolumeClaimRetentionPolicy;
    if (policy?.whenScaled === 'Delete') {
      const scalingDown = [...pods.keys()].some((o) => o >= start + want);
      const unhealthy = missingOrdinalRanges(sts, pods.keys()).length > 0 || [...pods].some(([o, pod]) => o >= start && o < start + want && !isRunningAndReady(pod));
      const bound = claims.filter((c) => c.pv);
      const deleting = bound.filter((c) => c.pv!.spec.persistentVolumeReclaimPolicy === 'Delete');
      const evidence: Evidence[] = [fieldEvidence(sts, 'StatefulSet', 'spec.persistentVolumeClaimRetentionPolicy', `whenDeleted: ${policy.whenDeleted ?? 'Retain'}, whenScaled: Delete`, undefined, 'spec')];
      for (const c of bound) evidence.push(fieldEvidence(c.pv!, 'PersistentVolume', 'spec.persistentVolumeReclaimPolicy', reclaimPolicy(c.pv!), undefined, 'spec'));
      out.push({
        ...base,
        severity: scalingDown || unhealthy ? 'warning' : 'info',
        subject: ref(sts, 'StatefulSet'),
        summary: `whenScaled: Delete: a scale-down of ${sts.metadata.name} deletes the claims of the removed replicas${deleting.length ? ` and their volumes (${deleting.map((c) => c.pv!.metadata.name).join(', ')} have reclaim policy Delete)` : ''}`,
        explanation:
          'With persistentVolumeClaimRetentionPolicy.whenScaled: Delete the StatefulSet controller deletes the PersistentVolumeClaims of every ordinal a scale-down removes. ' +
          (deleting.length
            ? `Volumes with reclaim policy Delete (${deleting.map((c) => `${c.pv!.metadata.name} of ${c.claim.metadata.name}`).join(', ')}) are then deleted by the PV controller: their data is gone. `
            : 'Volumes with reclaim policy Retain survive as Released and can be recovered by hand. ') +
          'If a replica\'s data cannot be rebuilt from its peers, set whenScaled: Retain before scaling down.',
        evidence,
        recoveries: [
          {
            id: 'manual',
            title: 'Keep claims on scale-down (whenScaled: Retain)',
            description: 'persistentVolumeClaimRetentionPolicy may be changed in place; it does not restart pods.',
            automated: false,
            commands: [`kubectl -n ${ns} patch statefulset ${sts.metadata.name} --type=merge -p '{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Retain"}}}'`],
          },
        ],
        confidence: confidenceFor(view, 'persistentvolumeclaims', 'persistentvolumes'),
        details: { risk: 'when-scaled-delete', scalingDown, unhealthy, whenScaled: 'Delete', whenDeleted: policy.whenDeleted ?? 'Retain', volumes: bound.map((c) => ({ claim: c.claim.metadata.name, volume: c.pv!.metadata.name, reclaimPolicy: reclaimPolicy(c.pv!) })) },
      });
    }

    // Claims a recovery may delete: those of replicas (in range) that are missing, Terminating or not Ready.
    const atRisk = claims.filter((c) => {
      if (c.ordinal < start || c.ordinal >= start + want || !c.pv || c.pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return false;
      const pod = pods.get(c.ordinal);
      return !pod || !isRunningAndReady(pod);
    });
    if (atRisk.length) {
      const names = atRisk.map((c) => c.claim.metadata.name);
      out.push({
        ...base,
        severity: 'warning',
        subject: ref(atRisk[0]!.pv!, 'PersistentVolume'),
        summary: `Deleting claim${names.length > 1 ? 's' : ''} ${names.join(', ')} would delete ${atRisk.map((c) => c.pv!.metadata.name).join(', ')} and the data on ${atRisk.length > 1 ? 'them' : 'it'} (reclaim policy Delete)`,
        explanation:
          `The replicas using ${names.join(', ')} are not healthy, and a common recovery deletes a replica's claim so the controller recreates it. ` +
          'Their PersistentVolumes have reclaim policy Delete: once the claim is gone the PV controller deletes the volume. ' +
          'Before any recovery that deletes a claim, set the reclaim policy to Retain (allowed in place) so the volume survives as Released.',
        evidence: atRisk.flatMap((c) => [
          fieldEvidence(c.claim, 'PersistentVolumeClaim', 'spec.volumeName', c.pv!.metadata.name, undefined, 'spec'),
          fieldEvidence(c.pv!, 'PersistentVolume', 'spec.persistentVolumeReclaimPolicy', 'Delete', undefined, 'spec'),
        ]),
        recoveries: [
          {
            id: 'manual',
            title: 'Set the reclaim policy of the volumes to Retain before deleting any claim',
            description: 'Safe and reversible; does not touch pods or claims.',
            automated: false,
            commands: atRisk.map((c) => `kubectl patch pv ${c.pv!.metadata.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`),
          },
        ],
        confidence: confidenceFor(view, 'persistentvolumes', 'pods'),
        details: { risk: 'reclaim-delete', volumes: atRisk.map((c) => ({ claim: c.claim.metadata.name, volume: c.pv!.metadata.name, pod: podName(sts, c.ordinal) })) },
      });
    }

    // Leftover claims of ordinals outside the current range, with no pod.
    if (view.canSee('pods')) {
      for (const c of claims) {
        if ((c.ordinal >= start && c.ordinal < start + want) || pods.has(c.ordinal)) continue;
        const name = c.claim.metadata.name;
        const pod = podName(sts, c.ordinal);
        const evidence: Evidence[] = [
          fieldEvidence(sts, 'StatefulSet', 'spec.replicas', `${want}${start ? ` (ordinals from ${start})` : ''}`, undefined, 'spec'),
          fieldEvidence(c.claim, 'PersistentVolumeClaim', 'status.phase', `${c.claim.status?.phase ?? 'Pending'}${c.claim.spec.volumeName ? ` (volume ${c.claim.spec.volumeName})` : ''}`),
          absenceEvidence({ kind: 'Pod', namespace: ns, name: pod }, `Pod ${pod} does not exist`),
        ];
        if (c.pv) evidence.push(fieldEvidence(c.pv, 'PersistentVolume', 'spec.persistentVolumeReclaimPolicy', reclaimPolicy(c.pv), undefined, 'spec'));
        out.push({
          ...base,
          severity: 'info',
          subject: ref(c.claim, 'PersistentVolumeClaim'),
          summary: `Claim ${name} of removed ordinal ${c.ordinal} is still there (no pod ${pod})`,
          explanation: `StatefulSet ${sts.metadata.name} runs ordinals ${start}..${start + want - 1}; claim ${name} belongs to ordinal ${c.ordinal}, left behind by a scale-down (whenScaled: Retain keeps claims). It keeps its volume and data, and a later scale-up reuses it as it is (old data included). Delete it when the data is no longer needed.`,
          evidence,
          recoveries: [],
          confidence: 'high',
          details: { risk: 'leftover-claim', claim: name, ordinal: c.ordinal, volume: c.claim.spec.volumeName ?? null, reclaimPolicy: c.pv?.spec.persistentVolumeReclaimPolicy ?? null },
        });
      }
    }
    return out;
  },
};
