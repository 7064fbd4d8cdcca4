// client-node's auth providers and proxy agents, in the built bundle (scripts/build.mjs
// kubeConfigOnly): a kubeconfig that names none never loads them (about 11 ms of every start-up);
// one whose user names an `auth-provider`, or whose cluster names a `proxy-url`, gets them, and
// its requests carry the provider's token or go through the proxy. Runs bin/sts-doctor.js against
// a local plain-HTTP server standing in for the API server (it answers 404 to everything: the
// test is about what reaches it, not about a diagnosis).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { temporaryDir } from '../scenarios/cluster.mjs';

const repo = join(import.meta.dirname, '..', '..');
const tmp = temporaryDir('sts-doctor-providers-unit-');

// Strings that survive minification, one per left-out part: the GCP provider and ip-address (socks).
const PROVIDER_MARKERS = ['Token is expired!', "IPv4 addresses can't have leading zeroes."];

let server: Server;
let port: number;
const seen: { url: string; authorization: string | undefined }[] = [];
/** The targets of CONNECT requests (a proxy's tunnels). */
const tunnels: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(repo, 'dist', 'cli.js'))) {
    const b = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { cwd: repo, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  }
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }));
  });
  // A forward proxy too (hpagent tunnels with CONNECT): the tunnel is served by this same server.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    tunnels.push(req.url ?? '');
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    server.emit('connection', socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A kubeconfig with one context: `cluster` and `user` as given. */
function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(tmp, name);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { 'insecure-skip-tls-verify': true, ...cluster } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'ns' } }],
      'current-context': 'x',
    }),
  );
  return file;
}

/** Runs `diagnose quiz` with `config`; returns its exit code, stderr and the dist files it loaded. */
async function run(config: string): Promise<{ code: number | null; stderr: string; loaded: string[] }> {
  const log = join(tmp, `loads-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(tmp, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.STS_DOCTOR_LOADS, url + '\\n'); return next(url, context); }\n`);
  const register = join(tmp, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(register).href, join(repo, 'bin', 'sts-doctor.js'), 'diagnose', 'quiz', '--kubeconfig', config, '--request-timeout', '5s'], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1', STS_DOCTOR_LOADS: log },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const loaded = readFileSync(log, 'utf8').trim().split('\n').filter((u) => u.startsWith('file:') && u.includes('/dist/'));
  return { code, stderr, loaded };
}

const hasProviders = (loaded: string[]): boolean => loaded.some((u) => PROVIDER_MARKERS.some((m) => readFileSync(new URL(u), 'utf8').includes(m)));

describe('client-node auth providers and proxy agents in the bundle', () => {
  it('the markers really identify the GCP provider and ip-address', () => {
    expect(readFileSync(join(repo, 'node_modules', '@kubernetes', 'client-node', 'dist', 'gcp_auth.js'), 'utf8')).toContain(PROVIDER_MARKERS[0]);
    expect(readFileSync(join(repo, 'node_modules', 'ip-address', 'dist', 'ipv4.js'), 'utf8')).toContain(PROVIDER_MARKERS[1]);
  });

  it('a token user: the providers and proxies are not loaded; the token reaches the server', async () => {
    seen.length = 0;
    const r = await run(kubeconfig('token.yaml', { server: `http://127.0.0.1:${port}` }, { token: 'plain-token' }));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/StatefulSet "quiz" not found in namespace "ns"/);
    expect(seen[0]).toEqual({ url: '/apis/apps/v1/namespaces/ns/statefulsets/quiz', authorization: 'Bearer plain-token' });
    expect(r.loaded.some((u) => u.endsWith('/dist/cli.js'))).toBe(true);
    expect(hasProviders(r.loaded)).toBe(false);
  });

  it('a user with auth-provider gcp: the provider is loaded and its access token reaches the server', async () => {
    seen.length = 0;
    const user = { 'auth-provider': { name: 'gcp', config: { 'access-token': 'gcp-token', expiry: '2099-01-01T00:00:00Z' } } };
    const r = await run(kubeconfig('gcp.yaml', { server: `http://127.0.0.1:${port}` }, user));
    expect(r.code, r.stderr).toBe(2);
    expect(seen[0]).toEqual({ url: '/apis/apps/v1/namespaces/ns/statefulsets/quiz', authorization: 'Bearer gcp-token' });
    expect(hasProviders(r.loaded)).toBe(true);
  });

  it('a cluster with proxy-url: every request goes through a tunnel of the proxy to the server the kubeconfig names', async () => {
    seen.length = 0;
    tunnels.length = 0;
    const r = await run(kubeconfig('proxy.yaml', { server: 'http://kube.sts-doctor.invalid:6443', 'proxy-url': `http://127.0.0.1:${port}` }, { token: 'via-proxy' }));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/StatefulSet "quiz" not found in namespace "ns"/);
    expect(seen[0]).toEqual({ url: '/apis/apps/v1/namespaces/ns/statefulsets/quiz', authorization: 'Bearer via-proxy' });
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((t) => t === 'kube.sts-doctor.invalid:6443')).toBe(true);
    expect(hasProviders(r.loaded)).toBe(true);
  });
});
