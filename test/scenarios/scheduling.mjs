// Scenarios of the scheduling area: pods the scheduler cannot place, pods (and claims) that
// admission refuses to create, the headless Service, retention risks, and claims that never
// bind. Every signal comes from the real control plane: the scheduler, the ResourceQuota and
// PodSecurity admission plugins, the StatefulSet controller and the PV controller. Only the
// readiness fault of `retention-reclaim-delete` comes from a KWOK stage (it is kubelet-side).
import { apply, getJson, kubectl, waitFor } from './cluster.mjs';
import { createNamespace, deleteNamespace, eventsOf, FAULT_LABEL, localStorageObjects, quizObjects, quizPods, waitHealthy } from './quiz.mjs';

/**
 * quiz's objects with the StatefulSet (and optionally the rest) edited in place.
 * @param {string} ns
 * @param {import('./quiz.mjs').QuizOptions} opts
 * @param {(sts: any) => void} editSts edits the StatefulSet object
 * @param {{ withoutHeadless?: boolean, headless?: (svc: any) => void }} [more]
 * @returns {any[]}
 */
function quizWith(ns, opts, editSts, more = {}) {
  const objects = quizObjects(ns, opts).filter((o) => !(more.withoutHeadless && o.kind === 'Service' && o.metadata.name === 'quiz-pods'));
  for (const o of objects) {
    if (o.kind === 'StatefulSet') editSts(o);
    if (o.kind === 'Service' && o.metadata.name === 'quiz-pods') more.headless?.(o);
  }
  return objects;
}

/** Scenarios that wait for Ready pods create them all at once: fewer KWOK round trips. */
/** @type {import('./quiz.mjs').QuizOptions} */
const PARALLEL = { podManagementPolicy: 'Parallel' };
/** How long to wait for Ready pods: KWOK's stages lag when the shared cluster is busy deleting namespaces. */
export const HEALTHY_TIMEOUT = 420_000;

/** Sets `resources.requests` on every container of the StatefulSet's template. */
function requestEverywhere(sts, requests) {
  for (const c of sts.spec.template.spec.containers) c.resources = { requests };
}

/** Local PVs for quiz (localStorageObjects) with another reclaim policy. */
function localStorage(ns, count, reclaimPolicy = 'Retain') {
  const objects = localStorageObjects(ns, count);
  for (const o of objects) if (o.kind === 'PersistentVolume') o.spec.persistentVolumeReclaimPolicy = reclaimPolicy;
  return objects;
}

/** The newest event of object `uid` with `reason` whose message matches `re`, or undefined. */
function eventMatching(ns, uid, reason, re) {
  return eventsOf(ns, uid).find((e) => e.reason === reason && re.test(e.message ?? ''));
}

/** Waits until quiz-0 exists, is Pending with PodScheduled=False, and has a FailedScheduling event matching `re`. */
async function waitUnschedulable(ns, re) {
  return waitFor(`quiz-0 unschedulable with FailedScheduling ${re}`, () => {
    const p = quizPods(ns)['quiz-0'];
    if (!p || p.status?.phase !== 'Pending') return false;
    const cond = (p.status.conditions ?? []).find((c) => c.type === 'PodScheduled');
    return cond?.status === 'False' && eventMatching(ns, p.metadata.uid, 'FailedScheduling', re);
  });
}

/** Waits until the StatefulSet quiz has a Warning FailedCreate event matching `re`. */
async function waitFailedCreate(ns, re) {
  return waitFor(`FailedCreate ${re} on StatefulSet quiz`, () => {
    const sts = getJson(['-n', ns, 'statefulset', 'quiz']);
    return eventMatching(ns, sts.metadata.uid, 'FailedCreate', re);
  });
}

/** Waits until ResourceQuota `name` has its status computed (quota admission refuses creates until then). */
async function waitQuota(ns, name) {
  return waitFor(`ResourceQuota ${name} status`, () => getJson(['-n', ns, 'resourcequota', name]).status?.hard);
}

/** Waits until claim `name` has an event with `reason`. */
async function waitClaimEvent(ns, name, reason) {
  return waitFor(`${reason} on claim ${name}`, () => {
    const claim = getJson(['-n', ns, 'pvc', name]);
    return eventsOf(ns, claim.metadata.uid).find((e) => e.reason === reason);
  });
}

/** A StorageClass made for one namespace (deleted by {@link cleanup}). */
function storageClass(ns, binding) {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: `nobody-${ns}`, labels: { 'sts-doctor.test/namespace': ns } },
    provisioner: 'example.com/nobody',
    volumeBindingMode: binding,
    reclaimPolicy: 'Delete',
  };
}

/** Deletes the namespace and everything cluster-scoped made for it; does not wait. */
export function cleanup(ns) {
  deleteNamespace(ns);
  kubectl(['delete', 'storageclass', `nobody-${ns}`, '--wait=false', '--ignore-not-found'], { allowFail: true });
}

/**
 * The scenarios of this area. `setup(ns)` deploys quiz with one fault, waits until the cluster
 * shows the signal and returns what the test expects sts-doctor to name.
 * @type {Record<string, { setup(ns: string): Promise<Record<string, any>> }>}
 */
export const schedulingScenarios = {
  /** Every container requests 64 cpu; the nodes have 4: the scheduler's `Insufficient cpu`. */
  'unschedulable-cpu': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3));
      apply(quizWith(ns, {}, (sts) => requestEverywhere(sts, { cpu: '32' })));
      const ev = await waitUnschedulable(ns, /Insufficient cpu/);
      return { pod: 'quiz-0', message: ev.message };
    },
  },

  /** The template's nodeSelector matches no node: `node(s) didn't match Pod's node affinity/selector`. */
  'unschedulable-selector': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3));
      apply(quizWith(ns, {}, (sts) => (sts.spec.template.spec.nodeSelector = { 'disktype': 'ssd' })));
      const ev = await waitUnschedulable(ns, /didn't match Pod's node affinity\/selector/);
      return { pod: 'quiz-0', message: ev.message };
    },
  },

  /** ResourceQuota `pods: "0"`: the StatefulSet controller's FailedCreate `exceeded quota`, no pod at all. */
  'pod-quota': {
    async setup(ns) {
      await createNamespace(ns);
      apply([{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace: ns }, spec: { hard: { pods: '0' } } }]);
      await waitQuota(ns, 'no-pods');
      apply(localStorage(ns, 3));
      apply(quizObjects(ns));
      const ev = await waitFailedCreate(ns, /exceeded quota: no-pods/);
      return { pod: 'quiz-0', quota: 'no-pods', message: ev.message };
    },
  },

  /** ResourceQuota `requests.storage: 500Mi` (claims request 1Gi): the Claim variant of FailedCreate. */
  'claim-quota': {
    async setup(ns) {
      await createNamespace(ns);
      apply([{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'storage', namespace: ns }, spec: { hard: { 'requests.storage': '500Mi' } } }]);
      await waitQuota(ns, 'storage');
      apply(localStorage(ns, 3));
      apply(quizObjects(ns));
      const ev = await waitFailedCreate(ns, /^create Claim .*exceeded quota: storage/i);
      // The Pod event that repeats it (`failed to create PVC ...`) follows in the same sync.
      await waitFailedCreate(ns, /^create Pod quiz-0 .*failed to create PVC/i);
      return { pod: 'quiz-0', claim: 'db-data-quiz-0', quota: 'storage', message: ev.message };
    },
  },

  /** Namespace enforces the `restricted` Pod Security level; quiz's template does not comply. */
  'pod-security': {
    async setup(ns) {
      await createNamespace(ns);
      kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
      apply(localStorage(ns, 3));
      apply(quizObjects(ns));
      const ev = await waitFailedCreate(ns, /violates PodSecurity/);
      return { pod: 'quiz-0', message: ev.message };
    },
  },

  /** quiz without its headless Service quiz-pods (the pods run; per-pod DNS does not exist). */
  'headless-missing': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3));
      apply(quizWith(ns, PARALLEL, () => {}, { withoutHeadless: true }));
      await waitHealthy(ns, 3, HEALTHY_TIMEOUT);
      return { service: 'quiz-pods' };
    },
  },

  /** quiz-pods is an ordinary ClusterIP Service, not headless. */
  'headless-not-headless': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3));
      apply(quizWith(ns, PARALLEL, () => {}, { headless: (svc) => delete svc.spec.clusterIP }));
      await waitHealthy(ns, 3, HEALTHY_TIMEOUT);
      const svc = getJson(['-n', ns, 'service', 'quiz-pods']);
      return { service: 'quiz-pods', clusterIP: svc.spec.clusterIP };
    },
  },

  /** `persistentVolumeClaimRetentionPolicy.whenScaled: Delete`, volumes with reclaim policy Delete. */
  'retention-when-scaled-delete': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3, 'Delete'));
      apply(quizWith(ns, PARALLEL, (sts) => (sts.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Delete' })));
      await waitHealthy(ns, 3, HEALTHY_TIMEOUT);
      return { claims: ['db-data-quiz-0', 'db-data-quiz-1', 'db-data-quiz-2'] };
    },
  },

  /** Scaled from 3 to 2 with whenScaled Retain: claim db-data-quiz-2 stays behind. */
  'retention-leftover-claim': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3));
      apply(quizObjects(ns, PARALLEL));
      await waitHealthy(ns, 3, HEALTHY_TIMEOUT);
      kubectl(['-n', ns, 'scale', 'statefulset', 'quiz', '--replicas=2']);
      await waitFor('quiz-2 gone', () => !quizPods(ns)['quiz-2'], HEALTHY_TIMEOUT);
      await waitHealthy(ns, 2, HEALTHY_TIMEOUT);
      return { claim: 'db-data-quiz-2', volume: `${ns}-pv-2` };
    },
  },

  /** quiz-0 never becomes Ready (readiness fault) and its volume has reclaim policy Delete. */
  'retention-reclaim-delete': {
    async setup(ns) {
      await createNamespace(ns);
      apply(localStorage(ns, 3, 'Delete'));
      apply(quizObjects(ns, { podLabels: { [`${FAULT_LABEL}/readiness`]: 'fail' } }));
      await waitFor('quiz-0 Running, not Ready, claim Bound', () => {
        const p = quizPods(ns)['quiz-0'];
        const claim = getJson(['-n', ns, 'pvc', 'db-data-quiz-0']);
        return p?.status?.phase === 'Running' && claim.status?.phase === 'Bound' && eventsOf(ns, p.metadata.uid).some((e) => e.reason === 'Unhealthy');
      });
      return { claim: 'db-data-quiz-0', volume: `${ns}-pv-0` };
    },
  },

  /** The claim template names a StorageClass that does not exist: the PV controller's ProvisioningFailed. */
  'pvc-missing-class': {
    async setup(ns) {
      await createNamespace(ns);
      apply(quizObjects(ns, { storageClassName: 'does-not-exist' }));
      const ev = await waitClaimEvent(ns, 'db-data-quiz-0', 'ProvisioningFailed');
      return { claim: 'db-data-quiz-0', pod: 'quiz-0', message: ev.message };
    },
  },

  /** Immediate-binding class whose provisioner example.com/nobody is not running: ExternalProvisioning. */
  'pvc-no-provisioner': {
    async setup(ns) {
      await createNamespace(ns);
      apply([storageClass(ns, 'Immediate')]);
      apply(quizObjects(ns, { storageClassName: `nobody-${ns}` }));
      const ev = await waitClaimEvent(ns, 'db-data-quiz-0', 'ExternalProvisioning');
      return { claim: 'db-data-quiz-0', pod: 'quiz-0', provisioner: 'example.com/nobody', message: ev.message };
    },
  },

  /** WaitForFirstConsumer class, and the pod cannot be scheduled (32 cpu): the claim waits for the pod. */
  'pvc-wffc-unschedulable': {
    async setup(ns) {
      await createNamespace(ns);
      apply([storageClass(ns, 'WaitForFirstConsumer')]);
      apply(quizWith(ns, { storageClassName: `nobody-${ns}` }, (sts) => requestEverywhere(sts, { cpu: '32' })));
      await waitUnschedulable(ns, /Insufficient cpu/);
      const ev = await waitClaimEvent(ns, 'db-data-quiz-0', 'WaitForPodScheduled');
      return { claim: 'db-data-quiz-0', pod: 'quiz-0', message: ev.message };
    },
  },
};
