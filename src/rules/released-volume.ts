/**
 * `released-volume`: a PersistentVolume left Released by a claim of the StatefulSet that was
 * deleted (by `delete-pvc-and-pod`, a scale-down with whenScaled=Delete, or by hand). With
 * reclaim policy Retain the PV keeps the replica's old data and is never bound again by itself
 * (its `spec.claimRef` still names the old claim's uid); someone must decide to keep or delete it.
 *
 * Kubernetes source: the PV controller (pkg/controller/volume/persistentvolume/pv_controller.go,
 * `syncVolume`) sets `status.phase: Released` when the bound claim is gone and the policy is
 * Retain; `reclaimVolume` deletes a Delete-policy volume instead.
 *
 * Reads every PV of the snapshot. A live read that reads PVs by name only (types.ts ReadScope
 * `named`) has first checked the PV Table of the whole cluster, and lists every PV when a
 * Released one names a claim of the StatefulSet (from-cluster.ts needsWholeReads), so this rule
 * never misses one.
 */
import { claimOrdinal } from '../snapshot/view.js';
import { reclaimPolicy } from './facts.js';
import { fieldEvidence, ref, stsRef, type Finding, type Rule } from './types.js';

export const releasedVolume: Rule = {
  id: 'released-volume',
  title: 'Released PersistentVolume left by a deleted claim',
  rank: 95,
  doc: {
    severities: ['info'],
    meaning: 'A PV left `Released` by a deleted claim of the StatefulSet (after `delete-pvc-and-pod`, a scale-down, by hand): it keeps the replica\'s old data and is not bound again by itself.',
    signals: 'PV `status.phase` Released, `spec.claimRef` (name and uid of the old claim), reclaim policy',
    recoveries: 'manual (keep the data, delete the PV, or clear its claimRef)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pv of view.snapshot.persistentVolumes) {
      if (pv.status?.phase !== 'Released') continue;
      const cr = pv.spec.claimRef;
      if (!cr?.name || (cr.namespace ?? view.snapshot.namespace) !== view.snapshot.namespace || !claimOrdinal(sts, cr.name)) continue;
      const now = view.claims.get(cr.name);
      if (now && (!cr.uid || now.metadata.uid === cr.uid)) continue;
      out.push({
        rule: 'released-volume',
        severity: 'info',
        statefulSet: stsRef({ view, sts }),
        subject: ref(pv, 'PersistentVolume'),
        summary: `PV ${pv.metadata.name} is Released: it holds the old data of claim ${cr.name}${now ? ', which was recreated' : ''} and is not used again by itself`,
        explanation: `Claim ${cr.name} (uid ${cr.uid ?? '?'}) was deleted; PV ${pv.metadata.name} has reclaim policy ${reclaimPolicy(pv)}, so the PV controller kept it with that claim's data. It still names the old claim, so no claim binds it. Copy what you need, then delete it (and its storage), or clear spec.claimRef to offer it again.`,
        evidence: [
          fieldEvidence(pv, 'PersistentVolume', 'status.phase', 'Released'),
          fieldEvidence(pv, 'PersistentVolume', 'spec.claimRef', `${cr.namespace ?? ''}/${cr.name} (uid ${cr.uid ?? '?'})`, undefined, 'spec'),
          fieldEvidence(pv, 'PersistentVolume', 'spec.persistentVolumeReclaimPolicy', reclaimPolicy(pv), undefined, 'spec'),
        ],
        recoveries: [
          {
            id: 'manual',
            title: `Keep or delete the old data on PV ${pv.metadata.name}`,
            description: 'sts-doctor never deletes data it was not asked to: once you no longer need it, delete the PV (and the storage behind it); or make it Available again by removing spec.claimRef.',
            automated: false,
            commands: [`kubectl describe pv ${pv.metadata.name}`, `kubectl delete pv ${pv.metadata.name}`, `kubectl patch pv ${pv.metadata.name} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'`],
          },
        ],
        confidence: 'high',
        details: { volume: pv.metadata.name, claim: cr.name, claimUid: cr.uid, reclaimPolicy: reclaimPolicy(pv) },
      });
    }
    return out;
  },
};
