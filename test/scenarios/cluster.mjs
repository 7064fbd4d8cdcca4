// Access to the local control plane of test/cluster, for the scenarios, the end-to-end tests,
// the demo and the benchmark. Everything here talks only to the cluster recorded in the run
// dir (127.0.0.1); nothing here reads the user's own kubeconfig.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const clusterScripts = join(repoRoot, 'test', 'cluster');
export const clusterDir = process.env.STS_DOCTOR_CLUSTER_DIR ?? '/dev/shm/sts-doctor-cluster';

/**
 * Starts the control plane if it is not up (test/cluster/up is idempotent).
 * @returns {{ startedHere: boolean, kubeconfig: string }}
 */
export function clusterUp() {
  const before = isUp();
  const res = spawnSync(join(clusterScripts, 'up'), { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`test/cluster/up failed with exit code ${res.status}`);
  return { startedHere: !before, kubeconfig: kubeconfigPath() };
}

/** Stops the control plane (only the PIDs test/cluster/up recorded). */
export function clusterDown() {
  const res = spawnSync(join(clusterScripts, 'down'), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) throw new Error(`test/cluster/down failed with exit code ${res.status}`);
}

/** True when a cluster is recorded in the run dir and marked ready. */
export function isUp() {
  return existsSync(join(clusterDir, 'ready')) && existsSync(join(clusterDir, 'env'));
}

/** @returns {Record<string, string>} the run dir's env file (STS_DOCTOR_KUBECTL, STS_DOCTOR_KUBECONFIG, ...). */
export function clusterEnv() {
  const env = {};
  for (const line of readFileSync(join(clusterDir, 'env'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

export function kubeconfigPath() {
  return join(clusterDir, 'kubeconfig');
}

/**
 * Runs the cluster's kubectl against the test cluster.
 * @param {string[]} args
 * @param {{ input?: string, allowFail?: boolean }} [opts]
 * @returns {string} stdout
 */
export function kubectl(args, opts = {}) {
  const env = clusterEnv();
  const res = spawnSync(env.STS_DOCTOR_KUBECTL, ['--kubeconfig', kubeconfigPath(), ...args], {
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0 && !opts.allowFail) {
    throw new Error(`kubectl ${args.join(' ')} failed (${res.status}): ${(res.stderr || res.stdout).trim()}`);
  }
  return res.stdout;
}

/** kubectl get ... -o json, parsed. */
export function getJson(args) {
  return JSON.parse(kubectl(['get', ...args, '-o', 'json']));
}

/** Applies objects (JS values) with kubectl apply. */
export function apply(objects) {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) });
}

/**
 * Polls `check` until it returns a truthy value, or throws after `timeoutMs` with `what` and the
 * last value seen.
 * @template T
 * @param {string} what
 * @param {() => T} check
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export async function waitFor(what, check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** True when node `name` exists and its Ready condition is True. */
export function nodeReady(name) {
  return kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFail: true }).trim() === 'True';
}

/** Waits until node `name` is Ready. */
export function waitNodeReady(name, timeoutMs = 120_000) {
  return waitFor(`node ${name} Ready`, () => nodeReady(name), timeoutMs);
}

/** Runs a test/cluster helper script (node-fail, node-recover, ...). */
export function clusterScript(name, ...args) {
  return execFileSync(join(clusterScripts, name), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

const temporaryDirs = [];
process.once('exit', () => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh directory under the system's temporary directory, removed when the process exits.
 * @param {string} prefix e.g. `sts-doctor-audit-`
 * @returns {string} its path
 */
export function temporaryDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}
