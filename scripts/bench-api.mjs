// The test cluster's API for the bench fixtures (scripts/bench-cluster.mjs, scripts/bench-serve.mjs):
// admin requests on one keep-alive agent, and a small concurrency pool.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { clusterDir, clusterEnv } from '../test/scenarios/cluster.mjs';

/**
 * An admin client of the test cluster: `send(method, path, body?, contentType?)` resolves the
 * parsed answer (undefined when empty); 404 and 409 count as done (idempotent fixtures); other
 * errors reject with the status and the start of the body. `close()` ends the agent.
 */
export function api() {
  const pki = (f) => readFileSync(join(clusterDir, 'pki', f));
  const agent = new Agent({ ca: pki('ca.crt'), cert: pki('admin.crt'), key: pki('admin.key'), keepAlive: true, maxSockets: 16 });
  const port = clusterEnv().STS_DOCTOR_API_PORT;
  const send = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { 'Content-Type': contentType, ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}) } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode < 300 || res.statusCode === 409 || res.statusCode === 404) resolve(text ? JSON.parse(text) : undefined);
          else reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  return { send, close: () => agent.destroy() };
}

/** Runs `fn` over `items`, `width` at a time. */
export async function pool(items, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * A Node for KWOK to manage (it keeps it Ready): `name` as its hostname label, `labels` added,
 * `taints` if any, and `cpu`, `memory` and `pods` as both capacity and allocatable.
 * @param {string} name
 * @param {{ labels?: Record<string, string>, taints?: object[], cpu: string, memory: string, pods: string }} opts
 */
export function kwokNode(name, { labels = {}, taints, cpu, memory, pods }) {
  const resources = { cpu, memory, pods };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { ...labels, 'kwok.x-k8s.io/node': 'fake', 'kubernetes.io/hostname': name, type: 'kwok' }, annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' } },
    ...(taints ? { spec: { taints } } : {}),
    status: { allocatable: resources, capacity: { ...resources } },
  };
}
