// The realistic namespace of `npm run bench` (issue 13): a 3-replica quiz beside thousands of
// events, in a cluster with many PVs and nodes, on the test control plane. What makes a
// diagnosis expensive is what it reads besides the StatefulSet, so the fixture adds:
//
//   - EVENTS events in the namespace, about other objects (pods `noise-<i>` that do not exist,
//     as a busy namespace's history holds), Normal and Warning;
//   - PVS PersistentVolumes (hostPath, Available, class `bench-noise`: nothing binds them);
//   - NODES nodes `bench-node-<ns>-<i>`, managed by KWOK (they stay Ready) and tainted NoSchedule so
//     that no pod of another test lands there;
//   - with HOSTS (the 1,000- and 3,000-replica rows, more pods than the 3 stable nodes hold at 110
//     each), nodes `bench-host-<ns>-<i>` of 1,100 pods each, not tainted, which quiz's local PVs
//     (and so its pods) are pinned to, round robin.
//
// Objects are created with the cluster's admin client certificate over one keep-alive agent,
// 16 at a time (kubectl would create them one by one). `dropRealistic` deletes them all.
import { api, kwokNode, pool } from './bench-api.mjs';
import { deployScaledQuiz, dropNamespace } from '../test/scenarios/reading.mjs';

export const REALISTIC = { replicas: 3, events: 5000, pvs: 1000, nodes: 20 };
/** The label of the cluster-scoped noise: `sts-doctor-bench=<namespace>`. */
const NOISE_KEY = 'sts-doctor-bench';

/**
 * Deploys the realistic namespace `ns` (resolves once quiz's replicas are Ready and every noise
 * object exists).
 * @param {string} ns
 * @param {{ events?: number, pvs?: number, nodes?: number, replicas?: number, hosts?: number }} [size] defaults: {@link REALISTIC}
 */
export async function deployRealistic(ns, size = {}) {
  const { events, pvs, nodes, replicas, hosts = 0 } = { ...REALISTIC, ...size };
  const { send, close } = api();
  const [key, value] = [NOISE_KEY, ns];
  try {
    const hostNames = Array.from({ length: hosts }, (_, i) => `bench-host-${ns}-${i}`);
    await pool(hostNames, 8, (name) => send('POST', '/api/v1/nodes', kwokNode(name, { labels: { [key]: value }, cpu: '1000', memory: '4Ti', pods: '1100' })));
    // Thousands of replicas take minutes to be created, bound, scheduled and run (100 QPS each).
    await (hosts ? deployScaledQuiz(ns, replicas, hostNames, 1_800_000) : deployScaledQuiz(ns, replicas));
    await pool(Array.from({ length: nodes }, (_, i) => i), 8, (i) =>
      send('POST', '/api/v1/nodes', kwokNode(`bench-node-${ns}-${i}`, { labels: { [key]: value }, taints: [{ key: 'sts-doctor-bench', value: 'noise', effect: 'NoSchedule' }], cpu: '32', memory: '256Gi', pods: '110' })),
    );
    await pool(Array.from({ length: pvs }, (_, i) => i), 16, (i) =>
      send('POST', '/api/v1/persistentvolumes', {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `bench-pv-${ns}-${i}`, labels: { [key]: value } },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'bench-noise', hostPath: { path: `/tmp/bench-${i}` } },
      }),
    );
    const now = new Date().toISOString();
    await pool(Array.from({ length: events }, (_, i) => i), 16, (i) =>
      send('POST', `/api/v1/namespaces/${ns}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `noise-${i}.${(1e9 + i).toString(16)}`, namespace: ns },
        involvedObject: { kind: 'Pod', namespace: ns, name: `noise-${i % 500}`, uid: `00000000-0000-0000-0000-${String(i % 500).padStart(12, '0')}`, apiVersion: 'v1' },
        reason: i % 5 ? 'Pulled' : 'BackOff',
        message: i % 5 ? `Container image "registry.example/app:${i}" already present on machine` : 'Back-off restarting failed container app in pod noise',
        type: i % 5 ? 'Normal' : 'Warning',
        source: { component: 'kubelet', host: `bench-node-${i % Math.max(1, nodes)}` },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      }),
    );
  } finally {
    close();
  }
}

/** Deletes the realistic namespace and its cluster-scoped noise (PVs, nodes labelled `sts-doctor-bench=<ns>`). */
export async function dropRealistic(ns) {
  dropNamespace(ns);
  const { send, close } = api();
  try {
    const sel = encodeURIComponent(`${NOISE_KEY}=${ns}`);
    await send('DELETE', `/api/v1/persistentvolumes?labelSelector=${sel}`);
    await send('DELETE', `/api/v1/nodes?labelSelector=${sel}`);
  } finally {
    close();
  }
}

/**
 * `count` small StatefulSets `small-<j>` (1 replica each, or `replicas`, no volumes, KWOK pods on
 * the stable nodes), spread over the namespaces `namespaces`, labelled `sts-doctor-bench=<label>`;
 * resolves once their pods run. Deleted with the namespaces.
 * @param {string[]} namespaces
 * @param {{ count: number, replicas?: number, label: string }} opts
 */
export async function deploySmallSets(namespaces, { count, replicas = 1, label }) {
  const { apply, kubectl, waitFor } = await import('../test/scenarios/cluster.mjs');
  const { createNamespace, NODES } = await import('../test/scenarios/quiz.mjs');
  await Promise.all(namespaces.map((n) => createNamespace(n)));
  const sets = Array.from({ length: count }, (_, i) => {
    const n = namespaces[i % namespaces.length];
    const name = `small-${Math.floor(i / namespaces.length)}`;
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: n, labels: { [NOISE_KEY]: label } },
      spec: {
        replicas,
        serviceName: name,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: NODES }] }] } } },
            containers: [{ name: 'app', image: 'registry.example/small:1', resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
          },
        },
      },
    };
  });
  apply(sets);
  await waitFor(`${count * replicas} pods of the small StatefulSets running`, () => {
    const pods = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app', '-o', 'json'])).items;
    return pods.filter((p) => namespaces.includes(p.metadata.namespace) && p.status?.phase === 'Running').length >= count * replicas;
  }, 300_000);
}
