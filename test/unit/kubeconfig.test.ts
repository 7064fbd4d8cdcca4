// Loading the kubeconfig as kubectl does (several KUBECONFIG files merged, first wins) and the
// exec credential plugin protocol (KUBERNETES_EXEC_INFO, a timeout, first stderr line only,
// credentials cached until they expire), with real files and real plugin processes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { connect } from '../../src/kube/connect.js';
import { clearExecCredentialCache, ExecPlugin, firstStderrLine, parseExecCredential, runExecPlugin, type ExecConfig } from '../../src/kube/exec-credential.js';
import { CredentialPluginError, KubeconfigError } from '../../src/errors.js';

const tmp = temporaryDir('sts-doctor-kubeconfig-unit-');
let count = 0;

function file(config: unknown, name = `kc-${++count}`): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

const V1 = 'client.authentication.k8s.io/v1';

function config(server: string, opts: { ctx?: string; cluster?: string; user?: string; namespace?: string; current?: string | null; userSpec?: unknown } = {}) {
  const cluster = opts.cluster ?? 'c';
  const user = opts.user ?? 'u';
  const ctx = opts.ctx ?? 'x';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server } }],
    users: [{ name: user, user: opts.userSpec ?? { token: `token-of-${server}` } }],
    contexts: [{ name: ctx, context: { cluster, user, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
    ...(opts.current === null ? {} : { 'current-context': opts.current ?? ctx }),
  };
}

describe('KUBECONFIG with several files (kubectl: the first file that sets a value wins)', () => {
  it('the same cluster, user and context names in two files are not an error; the first file wins', () => {
    const a = file(config('https://first.example:6443', { namespace: 'ns-a' }));
    const b = file(config('https://second.example:6443', { namespace: 'ns-b' }));
    const r = resolveKubeconfig({}, { KUBECONFIG: `${a}:${b}` });
    expect(r.server).toBe('https://first.example:6443');
    expect(r.namespace).toBe('ns-a');
    expect(r.origin).toBe(`${a}:${b}`);
    const r2 = resolveKubeconfig({}, { KUBECONFIG: `${b}:${a}` });
    expect(r2.server).toBe('https://second.example:6443');
  });

  it('current-context comes from the first file that sets one; entries of later files are reachable by --context', () => {
    const a = file(config('https://a.example', { ctx: 'a', cluster: 'ca', user: 'ua', current: null }));
    const b = file(config('https://b.example', { ctx: 'b', cluster: 'cb', user: 'ub' }));
    const c = file(config('https://c.example', { ctx: 'c', cluster: 'cc', user: 'uc' }));
    const env = { KUBECONFIG: `${a}:${b}:${c}` };
    expect(resolveKubeconfig({}, env).context).toBe('b');
    expect(resolveKubeconfig({ context: 'c' }, env).server).toBe('https://c.example');
    expect(resolveKubeconfig({ context: 'a' }, env).server).toBe('https://a.example');
  });

  it('missing and empty files are skipped', () => {
    const empty = file('');
    const a = file(config('https://a.example'));
    expect(resolveKubeconfig({}, { KUBECONFIG: `${join(tmp, 'nope')}:${empty}:${a}` }).server).toBe('https://a.example');
  });

  it('relative certificate paths are resolved against their own file', () => {
    const dir = join(tmp, 'sub');
    mkdirSync(dir, { recursive: true });
    const a = file(config('https://a.example', { userSpec: { 'client-certificate': 'certs/admin.crt', 'client-key': 'certs/admin.key' } }), 'sub/kc');
    const r = resolveKubeconfig({}, { KUBECONFIG: a });
    expect(r.kubeConfig.getCurrentUser()?.certFile).toBe(join(dir, 'certs/admin.crt'));
  });

  it('a server that is not an http(s) URL is one sentence, without its userinfo', () => {
    const a = file(config('ftp://alice:pw@a.example'));
    expect(() => resolveKubeconfig({ kubeconfig: a })).toThrow(KubeconfigError);
    expect(() => resolveKubeconfig({ kubeconfig: a })).toThrow(/The server of context "x" \(ftp:\/\/a\.example\) is not an http\(s\) URL/);
  });

  it('a directory as kubeconfig is one sentence', () => {
    expect(() => resolveKubeconfig({ kubeconfig: tmp })).toThrow(/Cannot load kubeconfig .*: not a regular file\./);
  });
});

/** A plugin script run with node; returns its exec stanza. */
function plugin(source: string, extra: Partial<ExecConfig> = {}): ExecConfig {
  const path = file(source, `plugin-${++count}.mjs`);
  return { command: process.execPath, args: [path], apiVersion: V1, interactiveMode: 'Never', ...extra };
}

const credential = (status: Record<string, unknown>, apiVersion = V1): string => `process.stdout.write(${JSON.stringify(JSON.stringify({ apiVersion, kind: 'ExecCredential', status }))});`;

describe('exec credential plugins', () => {
  beforeEach(() => clearExecCredentialCache());

  it('passes KUBERNETES_EXEC_INFO, args and env; reads a token', async () => {
    const out = join(tmp, `info-${++count}`);
    const exec = plugin(`import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(out)}, JSON.stringify({ info: JSON.parse(process.env.KUBERNETES_EXEC_INFO), env: process.env.MY_VAR, args: process.argv.slice(2) })); ${credential({ token: 'tok' })}`);
    exec.args!.push('--flag');
    exec.env = [{ name: 'MY_VAR', value: 'v' }];
    exec.provideClusterInfo = true;
    await expect(runExecPlugin(exec, { timeoutMs: 10_000, cluster: { server: 'https://h' } })).resolves.toEqual({ token: 'tok' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ info: { apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false, cluster: { server: 'https://h' } } }, env: 'v', args: ['--flag'] });
  });

  it('a plugin that never returns is killed after the timeout, with one sentence', async () => {
    const t = Date.now();
    const err = await runExecPlugin(plugin('setInterval(() => {}, 1000);'), { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialPluginError);
    expect((err as Error).message).toMatch(/^The exec credential plugin ".*" did not finish within 0\.5 s \(--request-timeout\)\.$/);
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  it('a failing plugin: its exit code and the first line of its stderr, escaped', async () => {
    const err = await runExecPlugin(plugin("process.stderr.write('\\n  bad \\x1b[2J token\\x07\\nsecret second line\\n'); process.exit(4);"), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ exited with code 4: bad \\x1b\[2J token\\x07\.$/);
    expect((err as Error).message).not.toContain('secret');
  });

  it('a command that does not exist: not found, with the install hint', async () => {
    const err = await runExecPlugin({ command: join(tmp, 'no-such-plugin'), apiVersion: V1, installHint: 'Install it from example.com\nmore' }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/could not be started: not found\. Install it from example\.com$/);
  });

  it('a plugin that writes more than 1 MiB is stopped', async () => {
    const err = await runExecPlugin(plugin("process.stdout.write('x'.repeat(3 * 2 ** 20)); setInterval(() => {}, 1000);"), { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ wrote more than 1 MiB\.$/);
  });

  it('interactiveMode Always without a terminal is refused before running', async () => {
    await expect(runExecPlugin(plugin(credential({ token: 't' }), { interactiveMode: 'Always' }), { timeoutMs: 5_000, stdinIsTTY: false })).rejects.toThrow(/needs an interactive terminal/);
  });

  it.each([
    ['not json', 'its output is not JSON'],
    [JSON.stringify({ apiVersion: V1, kind: 'Other', status: { token: 't' } }), 'not an ExecCredential'],
    [JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 't' } }), 'apiVersion'],
    [JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: {} }), 'neither a token nor a client certificate'],
    [JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { clientCertificateData: 'c' } }), 'without its key'],
    [JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { token: 't', expirationTimestamp: 'tomorrow' } }), 'not a time'],
  ])('rejects output %s', (out, message) => {
    expect(() => parseExecCredential(out, V1)).toThrow(message);
  });

  it('parses a client certificate and an expiry', () => {
    expect(parseExecCredential(JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { clientCertificateData: 'C', clientKeyData: 'K', expirationTimestamp: '2030-01-01T00:00:00Z' } }), V1)).toEqual({
      clientCertificateData: 'C',
      clientKeyData: 'K',
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    });
  });

  it('firstStderrLine: the first non-empty line, at most 200 characters, control characters escaped', () => {
    expect(firstStderrLine('\n\n  error: \x1b]52;c;aGk=\x07 x\nmore')).toBe('error: \\x1b]52;c;aGk=\\x07 x');
    expect(firstStderrLine('a'.repeat(300))).toBe(`${'a'.repeat(200)}…`);
    expect(firstStderrLine('')).toBe('');
  });

  it('a credential without expiry is obtained once per process; parallel callers share the run', async () => {
    const counter = join(tmp, `count-${++count}`);
    writeFileSync(counter, '');
    const exec = plugin(`import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(counter)}, 'x'); ${credential({ token: 't' })}`);
    const p = new ExecPlugin('u', exec);
    await Promise.all([p.refresh(10_000), p.refresh(10_000)]);
    await p.refresh(10_000);
    // Another object for the same plugin (a new client) uses the same credential.
    await new ExecPlugin('u', exec).refresh(10_000);
    expect(readFileSync(counter, 'utf8')).toBe('x');
    p.invalidate();
    await p.refresh(10_000);
    expect(readFileSync(counter, 'utf8')).toBe('xx');
  });

  it('an expired credential is obtained again', async () => {
    const counter = join(tmp, `count-${++count}`);
    writeFileSync(counter, '');
    const exec = plugin(`import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(counter)}, 'x'); process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential', status: { token: 't', expirationTimestamp: new Date(Date.now() + 300).toISOString() } }));`);
    const p = new ExecPlugin('u', exec);
    await p.refresh(10_000);
    await p.refresh(10_000);
    expect(readFileSync(counter, 'utf8')).toBe('x');
    await new Promise((r) => setTimeout(r, 400));
    expect(p.current()).toBeUndefined();
    await p.refresh(10_000);
    expect(readFileSync(counter, 'utf8')).toBe('xx');
  });

  it('resolveKubeconfig: the exec stanza of the current user becomes an ExecPlugin; a relative command path is resolved against the file', () => {
    mkdirSync(join(tmp, 'p'), { recursive: true });
    const kc = file(config('https://a.example', { userSpec: { exec: { apiVersion: V1, command: './bin/login', interactiveMode: 'Never' } } }), 'p/kc');
    const r = resolveKubeconfig({ kubeconfig: kc });
    expect(r.execPlugin?.config).toMatchObject({ command: join(tmp, 'p', 'bin', 'login'), apiVersion: V1 });
    expect(r.kubeConfig.getCurrentUser()?.exec).toBeUndefined();
  });

  it('an exec stanza without a supported apiVersion is one sentence', () => {
    const kc = file(config('https://a.example', { userSpec: { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } } }));
    expect(() => resolveKubeconfig({ kubeconfig: kc })).toThrow(/asks for apiVersion "client\.authentication\.k8s\.io\/v1alpha1"; sts-doctor speaks/);
  });
});

describe('connect: one connection per process', () => {
  it('the same flags give the same client (a wait loop keeps its agent and credential); other flags another', () => {
    const a = file(config('https://a.example'));
    const env = { KUBECONFIG: a };
    const first = connect({}, 30_000, env);
    expect(connect({}, 30_000, env)).toBe(first);
    expect(connect({ namespace: 'other' }, 30_000, env)).not.toBe(first);
    expect(connect({}, 5_000, env)).not.toBe(first);
  });
});
