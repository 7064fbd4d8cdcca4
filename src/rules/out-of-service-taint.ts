/**
 * `out-of-service-taint`: a node related to the StatefulSet still carries the
 * `node.kubernetes.io/out-of-service` taint (the non-graceful node shutdown taint, GA in 1.28).
 * While the node is down the taint does its job (info); once the node is Ready again it keeps
 * every pod that does not tolerate it off the node and evicts the rest, so it must be removed
 * (warning): the follow-up step of sts-doctor's own `out-of-service-taint` recovery.
 *
 * Kubernetes source: the taint is set by a person (or sts-doctor) and never removed by a
 * controller (pkg/controller/podgc `gcTerminating`, pkg/controller/volume/attachdetach read it;
 * docs "Non-graceful node shutdown handling"). Related nodes: a node a pod of the StatefulSet
 * is on, a node a PV of its claims is pinned to, or a node named by an sts-doctor recovery Event
 * (reason StsDoctorRecovery) on the StatefulSet.
 */
import { condition, RECOVERY_EVENT_REASON } from '../snapshot/view.js';
import { pinnedNodes } from './facts.js';
import { removeTaintOption } from './offers.js';
import { eventEvidence, fieldEvidence, stsRef, type Evidence, type Finding, type Rule } from './types.js';

/** The taint's key. */
export const OUT_OF_SERVICE_KEY = 'node.kubernetes.io/out-of-service';

export const outOfServiceTaint: Rule = {
  id: 'out-of-service-taint',
  title: 'Out-of-service taint left on a node',
  rank: 12,
  doc: {
    severities: ['warning', 'info'],
    meaning: 'A node related to the StatefulSet (one of its pods is or was there, a PV of its claims is pinned to it, or an sts-doctor recovery Event names it) still carries `node.kubernetes.io/out-of-service`: a leftover once the node is Ready again (warning), doing its job while the node is down (info).',
    signals: 'Node `spec.taints`, `Ready` condition; Event `StsDoctorRecovery` on the StatefulSet',
    recoveries: '`remove-out-of-service-taint`',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    const recoveryEvents = view.eventsFor(sts, 'StatefulSet').filter((e) => e.reason === RECOVERY_EVENT_REASON);
    const pods = view.podsOf(sts);
    for (const node of view.nodes.values()) {
      const taint = (node.spec?.taints ?? []).find((t) => t.key === OUT_OF_SERVICE_KEY);
      if (!taint) continue;
      const name = node.metadata.name;
      const event = recoveryEvents.find((e) => (e.message ?? '').includes(`node ${name} `));
      const hosts = pods.some((p) => p.spec.nodeName === name);
      const pinned = pods.some((p) => view.claimsOf(p).some((c) => {
        const pv = c.claim ? view.volumeOf(c.claim) : undefined;
        return pv ? pinnedNodes(view, pv).includes(name) : false;
      }));
      if (!event && !hosts && !pinned) continue;
      const ready = condition(node.status?.conditions, 'Ready')?.status === 'True';
      const evidence: Evidence[] = [fieldEvidence(node, 'Node', 'spec.taints', `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}${taint.timeAdded ? ` (added ${taint.timeAdded})` : ''}`, taint.timeAdded, 'spec')];
      const rc = condition(node.status?.conditions, 'Ready');
      if (rc) evidence.push(fieldEvidence(node, 'Node', 'status.conditions[Ready]', `${rc.status}${rc.reason ? ` ${rc.reason}` : ''}`, rc.lastTransitionTime ?? undefined));
      if (event) evidence.push(eventEvidence(event));
      out.push({
        rule: 'out-of-service-taint',
        severity: ready ? 'warning' : 'info',
        statefulSet: stsRef({ view, sts }),
        subject: { kind: 'Node', name, ...(node.metadata.uid ? { uid: node.metadata.uid } : {}) },
        summary: `Node ${name} still has the ${OUT_OF_SERVICE_KEY} taint${ready ? ' and is Ready again' : ''}`,
        explanation: `The taint was set for a non-graceful node shutdown: pods on ${name} are deleted and volumes detached without waiting for its kubelet. ${ready ? `The node is Ready again: the taint now keeps every pod off it (and evicts those that do not tolerate it). Remove it.` : 'Remove it once the node is repaired and Ready.'}`,
        evidence,
        recoveries: [removeTaintOption(view, name, ready ? 'The node is Ready again: pods can be scheduled there once the taint is gone.' : 'Only once the node is repaired: until then the taint keeps its pods from coming back.')],
        confidence: 'high',
        details: { node: name, ready },
      });
    }
    return out;
  },
};
