/**
 * The typed recovery offers rules attach to their findings (see {@link RecoveryOffer}): one
 * constructor per action, so that every rule names its targets the same way, and one
 * {@link offerTitle} that the finding, the plan and the command line all render from.
 */
import type { Pod, StatefulSet } from '../snapshot/types.js';
import { podOrdinal, type SnapshotView } from '../snapshot/view.js';
import { newClaimBinding, podsToReplace, rollbackTarget, type TemplateChange } from './facts.js';
import { type BindExpectation, type PodTarget, type RecoveryOffer, type RecoveryOption } from './types.js';

/** A pod as an offer names it: name and uid. */
export function podTarget(pod: Pod): PodTarget {
  return pod.metadata.uid ? { name: pod.metadata.name, uid: pod.metadata.uid } : { name: pod.metadata.name };
}

const names = (pods: PodTarget[]): string => pods.map((p) => p.name).join(', ');

/** Where the new claims bind, in words: `PV spare-1 (on kwok-node-2)`, `a new volume from provisioner x`. */
export function bindWords(b: BindExpectation): string {
  switch (b.via) {
    case 'provisioner':
      return `claim ${b.claim} gets a new volume from StorageClass ${b.storageClass} (provisioner ${b.provisioner})`;
    case 'volume':
      return `claim ${b.claim} can bind the Available PV ${b.volume}${b.nodes.length ? ` (on ${b.nodes.join(', ')})` : ''}`;
    case 'unchecked':
      return `whether claim ${b.claim} can bind was not checked (PersistentVolumes or StorageClasses could not be read)`;
  }
}

/** The one-line title of an offer: what the finding lists, what the plan is called. */
export function offerTitle(offer: RecoveryOffer): string {
  switch (offer.action) {
    case 'delete-pod':
      return `Delete pod ${offer.pod.name} so it is recreated from the current template`;
    case 'force-delete-pod':
      return `Force-delete pod ${offer.pod.name} on lost node ${offer.node}`;
    case 'out-of-service-taint':
      return `Mark node ${offer.node.name} out of service (non-graceful node shutdown)`;
    case 'remove-out-of-service-taint':
      return `Remove the out-of-service taint from node ${offer.node.name}`;
    case 'delete-pvc-and-pod':
      return `${offer.forcePod ? 'Force-delete' : 'Delete'} pod ${offer.pod.name} and its claim${offer.claims.length === 1 ? '' : 's'} ${names(offer.claims)}, so the replica is rebuilt on a new, empty volume`;
    case 'rollback':
      return `Roll back to revision ${offer.toRevision.revision} (${offer.toRevision.name})${offer.deletePods.length ? ` and delete ${names(offer.deletePods)}` : ''}`;
  }
}

/** An automated option for `offer`, titled by {@link offerTitle} (with the rule's own description). */
export function optionFor(offer: RecoveryOffer, description: string): RecoveryOption {
  const o: RecoveryOption = { id: offer.action, title: offerTitle(offer), description, automated: true, offer };
  switch (offer.action) {
    case 'delete-pod':
    case 'force-delete-pod':
    case 'delete-pvc-and-pod':
      o.target = { kind: 'Pod', name: offer.pod.name, ...(offer.pod.uid ? { uid: offer.pod.uid } : {}) };
      break;
    case 'out-of-service-taint':
    case 'remove-out-of-service-taint':
      o.target = { kind: 'Node', name: offer.node.name };
      break;
    case 'rollback':
      break;
  }
  return o;
}

/** `delete-pod` for `pod`. */
export function deletePodOption(pod: Pod, description: string): RecoveryOption {
  return optionFor({ action: 'delete-pod', pod: podTarget(pod) }, description);
}

/**
 * `delete-pod` for a pod whose template was already fixed (facts.templateChange): `what` names
 * the new value in words (`a different readiness probe`, `other resources for container mongo`).
 */
export function alreadyFixedOption(pod: Pod, change: TemplateChange, what: string): RecoveryOption {
  return deletePodOption(
    pod,
    `The pod template already has ${what} (${change.path}), but ${pod.metadata.name} was created from an older template and still runs the old one. The controller does not replace a pod that never became Ready (kubernetes#67250): delete it and it is recreated from the current template (its PVCs are kept).`,
  );
}

/** `force-delete-pod` for `pod` on lost node `node`. */
export function forceDeleteOption(pod: Pod, node: string, description: string): RecoveryOption {
  return optionFor({ action: 'force-delete-pod', pod: podTarget(pod), node }, description);
}

/** `out-of-service-taint` for `node`, naming the StatefulSet's pods on it. */
export function outOfServiceOption(view: SnapshotView, sts: StatefulSet, node: string, description: string): RecoveryOption {
  const uid = view.nodes.get(node)?.metadata.uid;
  const pods = view.podsOf(sts).filter((p) => p.spec.nodeName === node).map(podTarget);
  return optionFor({ action: 'out-of-service-taint', node: uid ? { name: node, uid } : { name: node }, pods }, description);
}

/** `remove-out-of-service-taint` for `node`. */
export function removeTaintOption(view: SnapshotView, node: string, description: string): RecoveryOption {
  const uid = view.nodes.get(node)?.metadata.uid;
  return optionFor({ action: 'remove-out-of-service-taint', node: uid ? { name: node, uid } : { name: node } }, description);
}

/**
 * `delete-pvc-and-pod` for `pod`: its claims from the claim templates, and where each new claim
 * will bind (avoiding the nodes in `avoid`). When a new claim cannot bind, a manual option that
 * says what to create first, instead of an offer that would strand the replica.
 */
export function rebuildOption(view: SnapshotView, sts: StatefulSet, pod: Pod, opts: { description: string; forcePod: boolean; avoid?: string[] }): RecoveryOption | undefined {
  const ordinal = podOrdinal(sts, pod.metadata.name);
  if (ordinal === undefined) return undefined;
  const claims = view.templateClaims(sts, ordinal).filter((c) => c.claim);
  if (claims.length === 0) return undefined;
  const expectBind: BindExpectation[] = [];
  for (const c of claims) {
    const b = newClaimBinding(view, sts, c.template, ordinal, opts.avoid ?? []);
    if (!b.ok) {
      return {
        id: 'manual',
        title: `Rebuild ${pod.metadata.name} on a new volume, once a new claim can bind`,
        description: `${opts.description} sts-doctor does not offer it now: ${b.reason}.`,
        automated: false,
        withheld: { action: 'delete-pvc-and-pod', pod: pod.metadata.name, reason: `${b.reason}.` },
        commands: ['kubectl get pv', 'kubectl get storageclass'],
      };
    }
    expectBind.push(b.expect);
  }
  return optionFor(
    { action: 'delete-pvc-and-pod', pod: podTarget(pod), claims: claims.map((c) => (c.claim!.metadata.uid ? { name: c.claimName, uid: c.claim!.metadata.uid } : { name: c.claimName })), expectBind, forcePod: opts.forcePod },
    `${opts.description} Then: ${expectBind.map(bindWords).join('; ')}.`,
  );
}

/**
 * `rollback` to the newest revision pods were Running and Ready on (facts.rollbackTarget),
 * deleting every pod that is not Ready and not on it. Undefined when there is no such revision
 * or no pod to replace.
 */
export function rollbackOption(view: SnapshotView, sts: StatefulSet): RecoveryOption | undefined {
  const target = rollbackTarget(view, sts);
  if (!target) return undefined;
  const pods = podsToReplace(view, sts, target.metadata.name);
  if (pods.length === 0) return undefined;
  const from = sts.status?.updateRevision ?? '';
  const option = optionFor(
    { action: 'rollback', toRevision: { name: target.metadata.name, revision: target.revision }, fromRevision: from, deletePods: pods.map(podTarget) },
    `Restores the pod template of ControllerRevision ${target.metadata.name} (revision ${target.revision}, the newest one whose pods were Running and Ready), like kubectl rollout undo --to-revision=${target.revision}, then deletes ${pods.map((p) => p.metadata.name).join(', ')}: the controller does not replace a pod that never became Ready by itself (kubernetes#67250).`,
  );
  // `target` as older readers of the JSON report know it: the StatefulSet.
  option.target = { kind: 'StatefulSet', name: sts.metadata.name, ...(sts.metadata.namespace ? { namespace: sts.metadata.namespace } : {}), ...(sts.metadata.uid ? { uid: sts.metadata.uid } : {}) };
  return option;
}
