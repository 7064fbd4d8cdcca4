// End to end: a flaky API. sts-doctor reads the real control plane through a fault-injecting
// proxy (test/faults/proxy.mjs) that throttles (429 + Retry-After), fails (500, 503), resets
// connections, truncates and trickles bodies, never ends a list, sends an oversized body, or
// refuses connections for a while as an apiserver does while it restarts. The real apiserver is
// never stopped: the cluster is shared with the other test files. Also the credentials path: an
// exec credential plugin that hangs, one that fails, and one whose credential is reused.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDir, kubeconfigPath, temporaryDir } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { startFaultProxy } from '../faults/proxy.mjs';
import { runCli, testNamespaces, type CliResult } from './helpers.js';
import type { Diagnosis } from '../../src/diagnosis.js';

const namespaces = testNamespaces();
const work = temporaryDir('sts-doctor-faults-');
/** The real apiserver's URL, from the cluster's kubeconfig. */
let upstream: string;

let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let kubeconfig: string;
let ns: string;
let stsPath: string;

beforeAll(async () => {
  upstream = /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))![1]!;
  proxy = await startFaultProxy({ clusterDir, upstream });
  kubeconfig = proxy.kubeconfig(join(work, 'kubeconfig'));
  ns = (await namespaces.scenario(scenarios, 'healthy')).ns;
  stsPath = `/apis/apps/v1/namespaces/${ns}/statefulsets/quiz`;
});
afterAll(() => proxy?.close());

/** Runs sts-doctor through the proxy; returns the result and how long it took (ms). */
async function through(args: string[], env: Record<string, string> = {}): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const res = await runCli(args, { KUBECONFIG: kubeconfig, ...env });
  return { ...res, ms: Date.now() - started };
}

function json(r: CliResult): Diagnosis {
  if (!r.stdout.trim()) throw new Error(`sts-doctor printed nothing (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Diagnosis;
}

/** Exit 2 with one sentence on stderr, no stack trace. */
function expectOneSentence(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sts-doctor: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
}

const events = () => new RegExp(`^/api/v1/namespaces/${ns}/events$`);
const pods = () => new RegExp(`^/api/v1/namespaces/${ns}/pods$`);
const sts = () => new RegExp(`^${stsPath}$`);

describe('transient faults are retried: the same healthy answer, exit 0', () => {
  it.each([
    ['429 with Retry-After: 1 on the StatefulSet', () => ({ path: sts(), times: 1, fault: { type: 'status', status: 429, retryAfter: 1 } }), 1000],
    ['503 on the StatefulSet', () => ({ path: sts(), times: 1, fault: { type: 'status', status: 503 } }), 0],
    ['500 twice on the pods', () => ({ path: pods(), times: 2, fault: { type: 'status', status: 500 } }), 0],
    ['a connection reset on the StatefulSet', () => ({ path: sts(), times: 1, fault: { type: 'reset' } }), 0],
    ['a truncated body on the pods', () => ({ path: pods(), times: 1, fault: { type: 'truncate' } }), 0],
    ['429 with Retry-After: 1 on the optional events read', () => ({ path: events(), times: 1, fault: { type: 'status', status: 429, retryAfter: 1 } }), 1000],
  ] as const)('%s', async (_what, rule, atLeastMs) => {
    proxy.setRules([rule() as never]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.hits()).toEqual([rule().times]);
    const d = json(r);
    expect(d.statefulSets[0]!.healthy).toBe(true);
    expect(d.gaps).toEqual([]);
    expect(r.ms).toBeGreaterThanOrEqual(atLeastMs);
    expect(r.stderr).toBe('');
  });

  it('wait: one 503 and one 429 on the StatefulSet do not end the gate', async () => {
    proxy.setRules([
      { path: sts(), times: 1, fault: { type: 'status', status: 503 } },
      { path: sts(), times: 1, fault: { type: 'status', status: 429, retryAfter: 1 } },
    ]);
    const r = await through(['wait', 'quiz', '-n', ns, '--timeout', '30s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.hits()).toEqual([1, 1]);
  });

  it('every request carries User-Agent sts-doctor/<version>', async () => {
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const agents = new Set(proxy.log.slice(before).map((l) => l.userAgent));
    expect([...agents]).toEqual([`sts-doctor/${version}`]);
  });
});

describe('faults that persist', () => {
  it('a side read (events) that keeps failing with 503 becomes a gap, not an error', async () => {
    proxy.setRules([{ path: events(), fault: { type: 'status', status: 503 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json(r);
    expect(d.gaps).toEqual([expect.objectContaining({ resource: 'events', reason: 'unavailable' })]);
    expect(d.gaps[0]!.message).toMatch(/503/);
    // Retried a bounded number of times.
    expect(proxy.hits()[0]).toBeGreaterThan(1);
    expect(proxy.hits()[0]).toBeLessThanOrEqual(5);
    const text = await through(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout).toMatch(/Not checked[\s\S]*events: /);
  });

  it('the StatefulSet read that keeps failing with 503: one sentence, exit 2, after a bounded number of tries', async () => {
    proxy.setRules([{ path: sts(), fault: { type: 'status', status: 503, message: 'etcd leader changed' } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns]);
    expectOneSentence(r, /503.*etcd leader changed/);
    expect(proxy.hits()[0]).toBe(5);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a slow body is bounded by --request-timeout: the StatefulSet read ends with exit 2', async () => {
    proxy.setRules([{ path: sts(), fault: { type: 'slow', bytesPerTick: 1, tickMs: 200 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '--request-timeout', '2s']);
    expectOneSentence(r, /no answer within 2 s/);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('a slow side read (events) becomes a gap after --request-timeout', async () => {
    proxy.setRules([{ path: events(), fault: { type: 'slow', bytesPerTick: 1, tickMs: 200 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '--request-timeout', '2s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).gaps).toEqual([expect.objectContaining({ resource: 'events', reason: 'unavailable', message: expect.stringMatching(/no answer within 2 s/) })]);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('an endless metadata.continue on a side read (events) stops at the page cap and becomes a gap', async () => {
    proxy.setRules([{ path: events(), fault: { type: 'endless-continue' } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).gaps).toEqual([expect.objectContaining({ resource: 'events', reason: 'error', message: expect.stringMatching(/more than \d+ pages/) })]);
    expect(proxy.hits()[0]).toBeGreaterThan(10);
  });

  it('an endless metadata.continue on the StatefulSets list: one sentence, exit 2', async () => {
    proxy.setRules([{ path: new RegExp(`^/apis/apps/v1/namespaces/${ns}/statefulsets$`), fault: { type: 'endless-continue' } }]);
    const r = await through(['diagnose', '-n', ns]);
    expectOneSentence(r, /more than \d+ pages/);
  });

  it('an oversized answer (300 MiB, chunked) to a side read stops at the byte cap and becomes a gap', async () => {
    proxy.setRules([{ path: events(), fault: { type: 'oversized', bytes: 300 * 2 ** 20 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).gaps).toEqual([expect.objectContaining({ resource: 'events', reason: 'error', message: expect.stringMatching(/larger than 256 MiB/) })]);
  });

  it('an oversized answer to the StatefulSet read: one sentence, exit 2 (not a crash, not exit 1)', async () => {
    proxy.setRules([{ path: sts(), fault: { type: 'oversized', bytes: 600 * 2 ** 20 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns]);
    expectOneSentence(r, /larger than 256 MiB/);
  });

  it('a password in the server URL is never echoed in an error', async () => {
    proxy.setRules([{ path: sts(), fault: { type: 'status', status: 500, message: 'boom' } }]);
    const withPassword = proxy.kubeconfig(join(work, 'userinfo'), { server: proxy.url.replace('https://', 'https://alice:s3cr3t-pw@') });
    const r = await runCli(['diagnose', 'quiz', '-n', ns], { KUBECONFIG: withPassword });
    expectOneSentence(r, /500/);
    expect(r.stderr).not.toContain('s3cr3t-pw');
    proxy.setRules([]);
    const down = proxy.kubeconfig(join(work, 'userinfo-down'), { server: 'https://alice:s3cr3t-pw@127.0.0.1:1' });
    const r2 = await runCli(['diagnose', 'quiz', '-n', ns], { KUBECONFIG: down });
    expectOneSentence(r2, /Cannot reach the API server at https:\/\/127\.0\.0\.1:1\b.*connection refused/);
    expect(r2.stderr).not.toContain('s3cr3t-pw');
  });
});

describe('one connection (issue 13)', () => {
  it('diagnose: every request on kept-alive connections, answers gzip-compressed', async () => {
    proxy.setRules([]);
    const before = proxy.log.length;
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const requests = proxy.log.length - before;
    expect(requests).toBeGreaterThan(5);
    // Requests issued together may open a few connections (up to the cap), never one each.
    expect(proxy.connections()).toBeLessThanOrEqual(8);
    expect(proxy.connections()).toBeLessThan(requests);
    expect(json(r).source).toMatchObject({ requests });
    expect(new Set(proxy.log.slice(before).map((l) => l.acceptEncoding))).toEqual(new Set(['gzip']));
  });

  it('diagnose -A: never more than 8 requests in flight', async () => {
    // Three more namespaces with a StatefulSet, so that -A has many namespaced reads to issue at once.
    await Promise.all(['healthy', 'pvc-unbound', 'ordered-ready-stall'].map((s) => namespaces.scenario(scenarios, s)));
    proxy.setRules([{ path: /^\/api\/v1\/namespaces\/[^/]+\/(pods|events)$/, fault: { type: 'delay', ms: 300 } }]);
    const before = proxy.log.length;
    const r = await through(['diagnose', '-A', '-o', 'json']);
    expect([0, 1], r.stderr).toContain(r.code);
    expect(proxy.log.length - before).toBeGreaterThan(20);
    expect(proxy.maxInFlight()).toBeLessThanOrEqual(8);
    expect(proxy.maxInFlight()).toBeGreaterThanOrEqual(4);
  });
});

// The nodes LIST, and the GETs by name of a healthy StatefulSet's nodes (after which the LIST is tried).
const nodes = /^\/api\/v1\/nodes(\/[^/]+)?$/;

// Issue 13: a cluster-wide read that fails while the namespaced reads still run must not escape
// as an unhandled rejection (a stack trace and exit 1): it becomes a gap, or the one sentence of
// the read that failed for good.
describe('every promise handled: a cluster-wide read failing while the namespaced reads run', () => {
  it('the nodes LIST answering after --request-timeout becomes a nodes gap, exit 0', async () => {
    proxy.setRules([{ path: nodes, fault: { type: 'delay', ms: 3_000 } }]);
    const r = await through(['diagnose', 'quiz', '-n', ns, '--request-timeout', '2s', '-o', 'json']);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error|Unhandled|unhandled/);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).gaps).toEqual([expect.objectContaining({ resource: 'nodes', reason: 'unavailable', message: expect.stringMatching(/no answer within 2 s/) })]);
  });

  it('the nodes LIST rejected (401) while the pods read is still out: one sentence, exit 2', async () => {
    proxy.setRules([
      { path: nodes, fault: { type: 'status', status: 401, message: 'token revoked' } },
      { path: pods(), fault: { type: 'delay', ms: 1_500 } },
    ]);
    const r = await through(['diagnose', 'quiz', '-n', ns]);
    expectOneSentence(r, /401.*token revoked/);
  });

  it('diagnose -A: the nodes LIST rejected (401) while the namespaced reads run: one sentence, exit 2', async () => {
    proxy.setRules([
      { path: nodes, fault: { type: 'status', status: 401, message: 'token revoked' } },
      { path: /^\/api\/v1\/namespaces\/[^/]+\/pods$/, fault: { type: 'delay', ms: 1_500 } },
    ]);
    const r = await through(['diagnose', '-A']);
    expectOneSentence(r, /401.*token revoked/);
  });

  it('diagnose -A with the nodes LIST answering late: a nodes gap in every namespace, no stack trace', async () => {
    proxy.setRules([{ path: nodes, fault: { type: 'delay', ms: 3_000 } }]);
    const r = await through(['diagnose', '-A', '--request-timeout', '2s', '-o', 'json']);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error|Unhandled|unhandled/);
    expect([0, 1], r.stderr).toContain(r.code);
    expect(proxy.hits()[0]).toBe(1);
    expect(r.stdout).toMatch(/"resource": ?"nodes"/);
  });
});

describe('an apiserver that restarts, and the deadline', () => {
  it('a 2 s outage during diagnose is ridden out by the per-request retries', async () => {
    proxy.setRules([]);
    const down = proxy.down(2_000);
    const r = await through(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    await down;
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).gaps).toEqual([]);
  });

  it('wait --timeout 5s against an apiserver that never answers ends within about 1 s of the timeout', async () => {
    proxy.setRules([{ path: /./, fault: { type: 'hang' } }]);
    const r = await through(['wait', 'quiz', '-n', ns, '--timeout', '5s', '--interval', '1s']);
    proxy.setRules([]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no answer|deadline/);
    // The requests are cut 1 s after --timeout (a round that starts just before it may finish).
    expect(r.ms).toBeGreaterThanOrEqual(5_000);
    expect(r.ms).toBeLessThan(7_000);
  });

  // The watch loop (src/recovery/watch.ts) keeps polling on a transient error until its deadline
  // and says so; the client's retries alone give up after 5 attempts (about 4 s).
  it('wait rides out an apiserver restart of 10 s, saying so, and exits 0 once it is back', async () => {
    proxy.setRules([]);
    const down = proxy.down(10_000);
    const r = await through(['wait', 'quiz', '-n', ns, '--timeout', '60s', '--interval', '1s']);
    await down;
    expect(r.stderr).toMatch(/API server unreachable, retrying/);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('the credentials path', () => {
  /** A kubeconfig for the real apiserver whose user is the exec plugin `script` (run with node). */
  function execKubeconfig(name: string, script: string, execExtra: Record<string, unknown> = {}): string {
    const path = join(work, `${name}.mjs`);
    writeFileSync(path, script);
    return proxy.kubeconfig(join(work, `${name}.kubeconfig`), {
      server: upstream,
      user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [path], interactiveMode: 'Never', ...execExtra } },
    });
  }

  it('an exec plugin that never returns: one sentence within --request-timeout, exit 2', async () => {
    const kc = execKubeconfig('hang', 'setInterval(() => {}, 1000);\n');
    const started = Date.now();
    const r = await runCli(['diagnose', 'quiz', '-n', ns, '--request-timeout', '2s'], { KUBECONFIG: kc });
    expectOneSentence(r, /exec credential plugin .* did not finish within 2 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an exec plugin that fails: only the first line of its stderr, control characters escaped', async () => {
    const kc = execKubeconfig('fail', "process.stderr.write('login expired \\x1b]0;pwned\\x07 for alice\\nsecond line with a token abc123\\n'); process.exit(3);\n");
    const r = await runCli(['diagnose', 'quiz', '-n', ns], { KUBECONFIG: kc });
    expectOneSentence(r, /exec credential plugin .* exited with code 3: login expired \\x1b\]0;pwned\\x07 for alice/);
    expect(r.stderr).not.toContain('second line');
    // eslint-disable-next-line no-control-regex -- no raw control character may reach the terminal
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  /** A StatefulSet that never becomes healthy, so that `wait` polls until its timeout (deployed once, on first use). */
  let stalled: Promise<string> | undefined;
  const stalledNamespace = (): Promise<string> => (stalled ??= namespaces.scenario(scenarios, 'ordered-ready-stall').then((r) => r.ns));

  /** An exec plugin that returns the admin client certificate and counts its runs in `counter`. */
  function certPlugin(counter: string, expiresInMs?: number): string {
    const pki = (f: string) => readFileSync(join(clusterDir, 'pki', f), 'utf8');
    const status: Record<string, unknown> = { clientCertificateData: pki('admin.crt'), clientKeyData: pki('admin.key') };
    return [
      `import { appendFileSync } from 'node:fs';`,
      `const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO ?? 'null');`,
      `appendFileSync(${JSON.stringify(counter)}, JSON.stringify({ apiVersion: info?.apiVersion, interactive: info?.spec?.interactive }) + '\\n');`,
      `const status = ${JSON.stringify(status)};`,
      expiresInMs === undefined ? '' : `status.expirationTimestamp = new Date(Date.now() + ${expiresInMs}).toISOString();`,
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }));`,
    ].join('\n');
  }

  it('an exec credential without expiry is obtained once per process, not once per wait round', async () => {
    const counter = join(work, 'runs-once');
    writeFileSync(counter, '');
    const kc = execKubeconfig('cert-once', certPlugin(counter));
    const stall = await stalledNamespace();
    const r = await runCli(['wait', 'quiz', '-n', stall, '--timeout', '3s', '--interval', '500ms'], { KUBECONFIG: kc });
    expect(r.code, r.stderr).toBe(1);
    const runs = readFileSync(counter, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { apiVersion: string; interactive: boolean });
    expect(runs).toEqual([{ apiVersion: 'client.authentication.k8s.io/v1', interactive: false }]);
  });

  it('an exec credential with expirationTimestamp is refreshed when it expires', async () => {
    const counter = join(work, 'runs-expiring');
    writeFileSync(counter, '');
    // Through the proxy (which ignores the credential): wait follows the StatefulSet by watches
    // after its first read, so new requests come only when a watch opens again; the proxy drops
    // every connection at 2 s and at 3.5 s, after the credential has expired each time.
    const path = join(work, 'cert-expiring.mjs');
    writeFileSync(path, certPlugin(counter, 1_500));
    const kc = proxy.kubeconfig(join(work, 'cert-expiring.kubeconfig'), { user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [path], interactiveMode: 'Never' } } });
    proxy.setRules([]);
    const stall = await stalledNamespace();
    const drops = (async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      await proxy.down(100);
      await new Promise((r) => setTimeout(r, 1_400));
      await proxy.down(100);
    })();
    const r = await runCli(['wait', 'quiz', '-n', stall, '--timeout', '5s', '--interval', '500ms'], { KUBECONFIG: kc });
    await drops;
    expect(r.code, r.stderr).toBe(1);
    const runs = readFileSync(counter, 'utf8').trim().split('\n').length;
    // The first run, one after each drop (the credential had expired), perhaps one for the final
    // read; far fewer than one per request.
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(5);
  });

  it('KUBECONFIG with two files that share names: the first file wins, no "duplicate" error', async () => {
    const second = proxy.kubeconfig(join(work, 'second'), { server: 'https://127.0.0.1:1' });
    const first = proxy.kubeconfig(join(work, 'first'));
    proxy.setRules([]);
    const r = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'json'], { KUBECONFIG: `${first}:${second}` });
    expect(r.code, r.stderr).toBe(0);
    const r2 = await runCli(['diagnose', 'quiz', '-n', ns], { KUBECONFIG: `${second}:${first}` });
    expectOneSentence(r2, /127\.0\.0\.1:1\b/);
  });
});
