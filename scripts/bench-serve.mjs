/* global fetch */
// The `serve` section of `npm run bench` (`npm run bench -- --serve-only`, or `--serve` to add it;
// also `node scripts/bench-serve.mjs` alone, against an existing cluster):
// `sts-doctor serve` over a large namespace on the test control plane.
//
// Fixture (built once per cluster, reused while it exists: namespace `bench-serve`):
//   - SERVE.nodes KWOK nodes `bench-serve-node-<i>` (pods: 500 each), tainted NoSchedule
//     sts-doctor-bench=serve so that only the fixture's pods land there;
//   - SERVE.sets StatefulSets `s<i>` of SERVE.replicas replicas each (Parallel, no claims), which
//     tolerate that taint: SERVE.sets x SERVE.replicas pods made by the real controller, Running
//     and Ready through KWOK;
//   - SERVE.events Events about those pods (as a busy namespace's history: Pulled, BackOff).
//
// Then measures serve (`serve -n bench-serve`, the admin kubeconfig):
//   - the time from spawn to the first 200 of /readyz, and the requests it took;
//   - its resident memory (VmRSS) after sync and after the storm;
//   - CPU (utime+stime from /proc) over 20 s at idle, and over 20 s of a pod-churn storm of
//     SERVE.stormRate pod updates a second (an annotation patched on a random pod);
//   - the latency from a pod status change (the PATCH of its Ready condition to False, as a
//     kubelet reports it, answered by the apiserver) to the finding series of that pod on
//     /metrics (scraped every 20 ms), over SERVE.samples pods; p50 and p99.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigPath, repoRoot } from '../test/scenarios/cluster.mjs';
import { api, kwokNode, pool } from './bench-api.mjs';

export const SERVE = { sets: 100, replicas: 50, nodes: 20, events: 20_000, stormRate: 100, samples: 30, ns: 'bench-serve' };
const TAINT = { key: 'sts-doctor-bench', value: 'serve', effect: 'NoSchedule' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** fetch, tried again on a reset connection (a kept-alive socket serve closed meanwhile). */
async function get(url) {
  for (let i = 0; ; i++) {
    try {
      return await fetch(url);
    } catch (err) {
      if (i >= 3) throw err;
      await sleep(100);
    }
  }
}
const log = (s) => process.stderr.write(`bench serve: ${s}\n`);

/** Builds the fixture unless it is there already; resolves when every pod is Running and Ready. */
async function fixture({ send }) {
  const { ns, sets, replicas, nodes, events } = SERVE;
  const have = await send('GET', `/apis/apps/v1/namespaces/${ns}/statefulsets?limit=1000`).catch(() => undefined);
  if (!have?.items?.length) {
    log(`building the fixture: ${nodes} nodes, ${sets} StatefulSets x ${replicas} pods, ${events} events`);
    await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await pool(Array.from({ length: nodes }, (_, i) => i), 8, (i) =>
      send('POST', '/api/v1/nodes', kwokNode(`bench-serve-node-${i}`, { labels: { 'sts-doctor-bench': 'serve' }, taints: [TAINT], cpu: '64', memory: '256Gi', pods: '500' })),
    );
    await pool(Array.from({ length: sets }, (_, i) => i), 8, (i) =>
      send('POST', `/apis/apps/v1/namespaces/${ns}/statefulsets`, {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: `s${i}`, namespace: ns },
        spec: {
          serviceName: '',
          replicas,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: `s${i}` } },
          template: {
            metadata: { labels: { app: `s${i}` } },
            spec: {
              tolerations: [{ key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: 'NoSchedule' }],
              nodeSelector: { 'sts-doctor-bench': 'serve' },
              containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
            },
          },
        },
      }),
    );
    const now = new Date().toISOString();
    await pool(Array.from({ length: events }, (_, i) => i), 16, (i) =>
      send('POST', `/api/v1/namespaces/${ns}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `bench-${i}.${(1e9 + i).toString(16)}`, namespace: ns },
        involvedObject: { kind: 'Pod', namespace: ns, name: `s${i % sets}-${i % replicas}`, apiVersion: 'v1' },
        reason: i % 5 ? 'Pulled' : 'BackOff',
        message: i % 5 ? `Container image "registry.example/app:1" already present on machine` : 'Back-off restarting failed container app in pod',
        type: i % 5 ? 'Normal' : 'Warning',
        source: { component: 'kubelet', host: `bench-serve-node-${i % nodes}` },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      }),
    );
  }
  const want = sets * replicas;
  for (let last = -1; ; ) {
    const list = await send('GET', `/api/v1/namespaces/${ns}/pods`);
    const ready = list.items.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready >= want) return list.items.map((p) => p.metadata.name);
    if (ready !== last) log(`${ready}/${want} pods Ready`);
    last = ready;
    await sleep(5000);
  }
}

/** CPU seconds (user + system) of process `pid`. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const rssMB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Runs the serve section; returns its results. */
export async function benchServe({ bin = join(repoRoot, 'bin', 'sts-doctor.js') } = {}) {
  const a = api();
  const { send } = a;
  try {
    const pods = await fixture(a);
    const { ns } = SERVE;
    const t0 = Date.now();
    const child = spawn(process.execPath, [bin, 'serve', '-n', ns, '--listen', '127.0.0.1:0', '--resync', '5m'], { env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath() }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    try {
      let url;
      while (!(url = /listening on (http:\/\/\S+);/.exec(err)?.[1])) {
        if (child.exitCode !== null) throw new Error(`serve exited: ${err}`);
        await sleep(20);
      }
      while ((await get(`${url}/readyz`).catch(() => ({ status: 0 }))).status !== 200) await sleep(20);
      const readyMs = Date.now() - t0;
      const requests = Number(/(\d+) requests/.exec(err)?.[1] ?? NaN);
      await sleep(3000);
      const rssAfterSync = rssMB(child.pid);
      const findingsOf = async () => (await (await get(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('sts_doctor_finding{'));
      const baseline = (await findingsOf()).length;
      log(`ready in ${readyMs} ms, ${rssAfterSync.toFixed(0)} MB, ${baseline} finding series at rest`);

      // Idle CPU over 20 s.
      let c0 = cpuSeconds(child.pid);
      await sleep(20_000);
      const idleCpu = (cpuSeconds(child.pid) - c0) / 20;

      // Detection latency: a pod's Ready condition set to False (as a kubelet reports it), then
      // the finding series of that pod on /metrics; then Ready again and the series gone.
      const latencies = [];
      for (let i = 0; i < SERVE.samples; i++) {
        const pod = pods[(i * 7919) % pods.length];
        const cond = (status) => ({ status: { conditions: [{ type: 'Ready', status, lastTransitionTime: new Date().toISOString() }, { type: 'ContainersReady', status }] } });
        await send('PATCH', `/api/v1/namespaces/${ns}/pods/${pod}/status`, cond('False'), 'application/strategic-merge-patch+json');
        const changed = Date.now();
        for (;;) {
          if ((await findingsOf()).some((l) => l.includes(`subject="${pod}"`))) break;
          if (Date.now() - changed > 30_000) throw new Error(`no finding for ${pod} within 30 s`);
          await sleep(20);
        }
        latencies.push(Date.now() - changed);
        await send('PATCH', `/api/v1/namespaces/${ns}/pods/${pod}/status`, cond('True'), 'application/strategic-merge-patch+json');
        for (const end = Date.now() + 30_000; Date.now() < end && (await findingsOf()).some((l) => l.includes(`subject="${pod}"`)); ) await sleep(50);
      }

      // Pod-churn storm: SERVE.stormRate annotation patches a second for 20 s.
      c0 = cpuSeconds(child.pid);
      const stormStart = Date.now();
      let sent = 0;
      const inflight = new Set();
      while (Date.now() - stormStart < 20_000) {
        const due = Math.floor(((Date.now() - stormStart) / 1000) * SERVE.stormRate);
        while (sent < due) {
          const pod = pods[Math.floor(Math.random() * pods.length)];
          const p = send('PATCH', `/api/v1/namespaces/${ns}/pods/${pod}`, { metadata: { annotations: { 'bench.sts-doctor.test/churn': String(sent) } } }, 'application/merge-patch+json').catch(() => {});
          inflight.add(p);
          p.finally(() => inflight.delete(p));
          sent++;
        }
        await sleep(10);
      }
      await Promise.all(inflight);
      const stormSeconds = (Date.now() - stormStart) / 1000;
      const stormCpu = (cpuSeconds(child.pid) - c0) / stormSeconds;
      const rssAfterStorm = rssMB(child.pid);
      return {
        statefulSets: SERVE.sets,
        pods: pods.length,
        nodes: SERVE.nodes,
        events: SERVE.events,
        readyMs,
        requestsToReady: requests,
        rssAfterSyncMB: Math.round(rssAfterSync),
        rssAfterStormMB: Math.round(rssAfterStorm),
        latencyP50Ms: percentile(latencies, 50),
        latencyP99Ms: percentile(latencies, 99),
        latencySamples: latencies.length,
        idleCpuCores: Number(idleCpu.toFixed(3)),
        stormUpdatesPerSecond: Math.round(sent / stormSeconds),
        stormCpuCores: Number(stormCpu.toFixed(3)),
      };
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    a.close();
  }
}

/** The goals of the issue: below 300 MB resident and a p99 detection latency below 1 s. */
export function serveGoalsMet(r) {
  return r.rssAfterSyncMB < 300 && r.rssAfterStormMB < 300 && r.latencyP99Ms < 1000;
}

/** The table of {@link benchServe}'s results. */
export function printServe(r) {
  const rows = [
    ['SERVE', `${r.statefulSets} StatefulSets, ${r.pods} pods, ${r.nodes} nodes, ${r.events} events`, 'goal'],
    ['time to /readyz', `${r.readyMs} ms (${r.requestsToReady} requests)`, ''],
    ['RSS after sync', `${r.rssAfterSyncMB} MB`, '< 300 MB'],
    ['RSS after the storm', `${r.rssAfterStormMB} MB`, '< 300 MB'],
    ['pod status change -> metric, p50', `${r.latencyP50Ms} ms (${r.latencySamples} samples)`, ''],
    ['pod status change -> metric, p99', `${r.latencyP99Ms} ms`, '< 1000 ms'],
    ['CPU at idle', `${r.idleCpuCores} cores`, '~0'],
    [`CPU under ${r.stormUpdatesPerSecond} pod updates/s`, `${r.stormCpuCores} cores`, ''],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((x) => x[i].length)));
  return `${rows.map((x) => x.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchServe();
  process.stdout.write(printServe(r));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
