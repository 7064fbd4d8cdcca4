/**
 * `multi-attach`: a pod cannot start because a ReadWriteOnce volume it needs is still attached
 * to another node, typically the lost node its predecessor ran on. The attach-detach controller
 * will not attach the volume to a second node until it is detached from the first, and it does
 * not detach while the old node still reports the volume mounted (or a pod there still uses it).
 *
 * Kubernetes source: pkg/controller/volume/attachdetach/reconciler/reconciler.go
 * (`reportMultiAttachError`), Warning `FailedAttachVolume`, once per volume and node:
 * - `Multi-Attach error for volume "<pv>" Volume is already exclusively attached to one node and can't be attached to another` (1.29–1.36)
 * - `Multi-Attach error for volume "<pv>" Volume is already used by pod(s) <a, b>` (optionally
 *   `and %d pod(s) in different namespaces`, or `Volume is already used by %d pod(s) in different namespaces`)
 * - 2026 patch releases reword the prefix to `Waiting for detach` (`... waiting on detach before
 *   it can be attached to another node`).
 * The rule matches the reason plus the PV name (`for volume "<pv>"`, the PV's name for a
 * PV-backed volume) and a multi-attach / detach wording, never the exact prefix, and never the
 * event source. Where the volume is held: a VolumeAttachment (`spec.nodeName`,
 * `spec.source.persistentVolumeName`, `status.attached`) for CSI volumes, and
 * `node.status.volumesAttached` (unique name `kubernetes.io/csi/<driver>^<handle>`,
 * `kubernetes.io/iscsi/<portal>:<iqn>:<lun>`, ...) for every attachable plugin, in-tree ones too
 * (they create no VolumeAttachment).
 */
import type { KubeEvent, PersistentVolume, Pod } from '../snapshot/types.js';
import { ageSeconds, formatAge, isRunningAndReady, isTerminating, type SnapshotView } from '../snapshot/view.js';
import { attachedVolumeNames, nodeState, podEvents, type NodeState } from './facts.js';
import { outOfServiceOption } from './offers.js';
import { confidenceFor, eventEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';

/** The wording of a FailedAttachVolume message that says the volume is held by another node (any version). */
export const MULTI_ATTACH = /Multi-Attach|already exclusively attached|already used by|waiting (on|for) detach/i;

/**
 * True when a FailedAttachVolume message says the volume is held by another node. The quoted
 * volume name is left out of the match: a PV may well be called `...-multi-attach-...`.
 */
export function isMultiAttachMessage(message: string): boolean {
  return MULTI_ATTACH.test(message.replace(/"[^"]*"/g, '""'));
}

/** The volume name a FailedAttachVolume message names (`for volume "<name>"`). */
export function attachEventVolume(message: string): string | undefined {
  return /for volume "([^"]+)"/.exec(message)?.[1];
}

export { attachedVolumeNames };

/** Where a volume is attached: the node, and the evidence (VolumeAttachment and/or node status). */
interface Holder {
  node: string;
  evidence: Evidence[];
  attached?: boolean;
}

function holders(view: SnapshotView, pv: PersistentVolume, exceptNode: string | undefined): Holder[] {
  const byNode = new Map<string, Holder>();
  const get = (node: string): Holder => {
    let h = byNode.get(node);
    if (!h) byNode.set(node, (h = { node, evidence: [] }));
    return h;
  };
  for (const va of view.attachmentsOf(pv.metadata.name)) {
    const node = va.spec.nodeName;
    if (!node || node === exceptNode) continue;
    const h = get(node);
    h.attached = va.status?.attached ?? false;
    h.evidence.push(fieldEvidence(va, 'VolumeAttachment', 'spec.nodeName', node, undefined, 'spec'));
    h.evidence.push(fieldEvidence(va, 'VolumeAttachment', 'status.attached', String(va.status?.attached ?? false)));
    if (va.status?.detachError?.message) h.evidence.push(fieldEvidence(va, 'VolumeAttachment', 'status.detachError', va.status.detachError.message, va.status.detachError.time));
  }
  const names = attachedVolumeNames(pv);
  if (names.length) {
    for (const node of view.snapshot.nodes) {
      if (node.metadata.name === exceptNode) continue;
      const entry = (node.status?.volumesAttached ?? []).find((v) => names.includes(v.name));
      if (!entry) continue;
      const h = get(node.metadata.name);
      h.attached ??= true;
      h.evidence.push(fieldEvidence(node, 'Node', 'status.volumesAttached', entry.name));
      if ((node.status?.volumesInUse ?? []).includes(entry.name)) h.evidence.push(fieldEvidence(node, 'Node', 'status.volumesInUse', entry.name));
    }
  }
  return [...byNode.values()].sort((a, b) => a.node.localeCompare(b.node));
}

/** Pods of the snapshot on `node` that use `pv` through a claim. */
function podsUsing(view: SnapshotView, pv: PersistentVolume, node: string): Pod[] {
  return view.snapshot.pods.filter((p) => p.spec.nodeName === node && view.claimsOf(p).some((c) => c.claim?.spec.volumeName === pv.metadata.name));
}

function stateWords(s: NodeState): string {
  switch (s.state) {
    case 'Unreachable':
      return `node ${s.name}, which is unreachable (Ready=Unknown)`;
    case 'NotReady':
      return `node ${s.name}, which is NotReady`;
    case 'Deleted':
      return `node ${s.name}, which no longer exists`;
    case 'Unknown':
      return `node ${s.name}`;
    default:
      return `node ${s.name}, which is Ready`;
  }
}

export const multiAttach: Rule = {
  id: 'multi-attach',
  title: 'Volume still attached to another node',
  rank: 25,
  doc: {
    severities: ['critical'],
    meaning: 'A pod cannot attach a ReadWriteOnce volume that is still attached to another node, typically the lost node of its predecessor; names that node, its state, and any pod still Terminating there.',
    signals: 'Warning `FailedAttachVolume` `Multi-Attach error for volume "<pv>" …` (or the 2026 `Waiting for detach …`), matched by reason and PV name; VolumeAttachment `spec.nodeName`/`status.attached` (CSI), node `status.volumesAttached`/`volumesInUse` (all attachable plugins)',
    recoveries: '`out-of-service-taint` (after confirming power-off), manual (bring the node back, or the 6-minute forced detach)',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      if (!pod.spec.nodeName || isTerminating(pod) || isRunningAndReady(pod)) continue;
      const claims = view.claimsOf(pod);
      const volumes = new Map<string, PersistentVolume>();
      for (const c of claims) {
        const pv = c.claim ? view.volumeOf(c.claim) : undefined;
        if (pv) volumes.set(pv.metadata.name, pv);
      }
      // Newest first: one finding per volume named by a multi-attach event.
      const seen = new Set<string>();
      const events: KubeEvent[] = podEvents(view, pod, 'FailedAttachVolume').filter((e) => isMultiAttachMessage(e.message ?? ''));
      for (const event of events) {
        const name = attachEventVolume(event.message ?? '');
        if (!name || seen.has(name)) continue;
        const pv = volumes.get(name);
        // The event names the PV for PV-backed volumes; an inline volume is not the StatefulSet's concern here.
        if (!pv && claims.length && view.canSee('persistentvolumes')) continue;
        seen.add(name);
        const claim = claims.find((c) => c.claim?.spec.volumeName === name)?.claim;
        const evidence: Evidence[] = [eventEvidence(event)];
        if (claim) evidence.push(fieldEvidence(claim, 'PersistentVolumeClaim', 'spec.volumeName', name, undefined, 'spec'));
        if (pv) evidence.push(fieldEvidence(pv, 'PersistentVolume', 'spec.accessModes', (pv.spec.accessModes ?? []).join(', ') || '(none)', undefined, 'spec'));

        const held = pv ? holders(view, pv, pod.spec.nodeName) : [];
        const states = held.map((h) => nodeState(view, h.node));
        const oldPods = held.flatMap((h) => (pv ? podsUsing(view, pv, h.node) : [])).filter((p) => p.metadata.uid !== pod.metadata.uid);
        const usedBy = /already used by pod\(s\) (.+?)(?: and \d+ pod\(s\) in different namespaces)?$/.exec(event.message ?? '')?.[1]?.split(/,\s*/) ?? [];
        for (const [i, h] of held.entries()) {
          evidence.push(...h.evidence);
          evidence.push(...states[i]!.evidence);
        }
        for (const p of oldPods) {
          if (isTerminating(p)) evidence.push(fieldEvidence(p, 'Pod', 'metadata.deletionTimestamp', p.metadata.deletionTimestamp!, p.metadata.deletionTimestamp));
          else evidence.push(fieldEvidence(p, 'Pod', 'spec.nodeName', p.spec.nodeName!, undefined, 'spec'));
        }

        const lost = states.filter((s) => s.state === 'Unreachable' || s.state === 'NotReady');
        const where = states.length ? states.map(stateWords).join('; ') : 'another node (sts-doctor could not see which)';
        const terminatingThere = oldPods.filter(isTerminating);
        const otherPods = [...new Set([...usedBy, ...oldPods.map((p) => p.metadata.name)])];
        const since = formatAge(ageSeconds(view.snapshot.now, (event.firstTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp) || undefined));

        const recoveries: RecoveryOption[] = lost.map((s) =>
          outOfServiceOption(
            view,
            sts,
            s.name,
            `Only after confirming the machine ${s.name} is powered off (or cut off from the storage): taint it node.kubernetes.io/out-of-service=nodeshutdown:NoExecute. ` +
              `The attach-detach controller then detaches ${name} from ${s.name} at once, without waiting for an unmount the node will never report, and attaches it to ${pod.spec.nodeName}; pods still on ${s.name} are deleted. Remove the taint once the node is repaired. ` +
              'If the machine may still be running, this lets two nodes write to one ReadWriteOnce volume: data corruption.',
          ),
        );
        recoveries.push({
          id: 'manual',
          title: lost.length ? `Bring ${lost.map((s) => s.name).join(', ')} back, or wait for the forced detach` : `Stop what holds ${name} on ${held.map((h) => h.node).join(', ') || 'the other node'}`,
          description: lost.length
            ? `When the node returns, its kubelet unmounts the volume and the controller detaches it. Otherwise, once no pod on the lost node uses the volume${terminatingThere.length ? ` (${terminatingThere.map((p) => p.metadata.name).join(', ')} is still Terminating there: it must be gone first)` : ''}, the controller force-detaches it from a not-Ready node after 6 minutes (maxWaitForUnmountDuration), unless kube-controller-manager runs with --disable-force-detach-on-timeout. Never delete the VolumeAttachment by hand while the node may still write to the volume.`
            : `A ReadWriteOnce volume can be attached to one node at a time. ${otherPods.length ? `Pod(s) ${otherPods.join(', ')} use it on the other node: stop them, or use a ReadWriteMany volume.` : 'Find what still uses it on the other node.'}`,
          automated: false,
          commands: [
            ...(view.attachmentsOf(name).length ? [`kubectl get volumeattachment -o wide | grep ${name}`] : []),
            ...held.map((h) => `kubectl get node ${h.node} -o jsonpath='{.status.volumesAttached}'`),
            ...held.map((h) => `kubectl describe node ${h.node}`),
          ],
        });

        out.push({
          rule: 'multi-attach',
          severity: 'critical',
          statefulSet: stsRef({ view, sts }),
          subject: ref(pod, 'Pod'),
          summary: `Pod ${pod.metadata.name} on ${pod.spec.nodeName} cannot attach volume ${name}: it is still attached to ${where}`,
          explanation:
            `Volume ${name}${claim ? ` (claim ${claim.metadata.name})` : ''} is ReadWriteOnce: the attach-detach controller attaches it to one node at a time, and it has reported a Multi-Attach error for ${pod.metadata.name} since ${since} ago. ` +
            (lost.length
              ? `It is still attached to ${lost.map((s) => s.name).join(', ')}, which stopped reporting: the controller waits for that node to unmount the volume, which a lost node never confirms. `
              : `It is still attached to ${held.map((h) => h.node).join(', ') || 'another node'}. `) +
            (terminatingThere.length ? `Pod ${terminatingThere.map((p) => p.metadata.name).join(', ')} is still Terminating there, so no detach is even requested. ` : '') +
            `${pod.metadata.name} stays ContainerCreating until the volume is detached.`,
          evidence,
          recoveries,
          confidence: held.length ? confidenceFor(view, 'events', 'persistentvolumes', 'nodes', 'volumeattachments') : 'low',
          details: {
            pod: pod.metadata.name,
            podNode: pod.spec.nodeName,
            pv: name,
            claim: claim?.metadata.name,
            attachedTo: held.map((h) => h.node),
            nodeStates: Object.fromEntries(states.map((s) => [s.name, s.state])),
            usedBy: otherPods,
          },
        });
      }
    }
    return out;
  },
};

