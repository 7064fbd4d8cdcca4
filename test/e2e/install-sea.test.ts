// The single executable (Node SEA) as a release ships it: `npm run build:sea`, the tarball
// unpacked into an empty directory and run with no node on PATH: --version, diagnose --from, a
// live diagnose, and `kubectl sts-doctor` finding it as a plugin.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEnv, kubeconfigPath, repoRoot, temporaryDir, waitFor } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { parse } from 'yaml';
import { PLUGIN_NAME, validateKrewManifest } from '../../scripts/krew-manifest.mjs';
import { testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const artifact = 'sts-doctor_linux_amd64.tar.gz';
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';
let ns = '';
let brokenNs = '';
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
// krew itself, built once from its Go module into the cache the test cluster's binaries use
// (v0.4.3: the newest version the module proxy serves here).
const KREW_VERSION = 'v0.4.3';
const hasGo = spawnSync('go', ['version']).status === 0;
const krewDir = join(process.env.STS_DOCTOR_CACHE ?? join(homedir(), '.cache', 'sts-doctor'), `krew-${KREW_VERSION}`);
const krew = join(krewDir, 'krew');
const session = `sts-doctor-sea-${process.pid}`;

/** Runs the unpacked executable with a PATH that has no node on it. */
function exe(args: string[], cwd = dir): SpawnSyncReturns<string> {
  return spawnSync(join(dir, 'kubectl-sts_doctor'), args, { cwd, encoding: 'utf8', env: { PATH: '/nonexistent', HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' } });
}

beforeAll(async () => {
  ns = namespaces.fresh('install-sea');
  brokenNs = namespaces.fresh('install-sea-bad');
  const deployed = Promise.all([scenarios.healthy.setup(ns), scenarios['image-pull'].setup(brokenNs)]);
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-sea.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  dir = temporaryDir('sts-doctor-sea-');
  execFileSync('tar', ['-xzf', join(repoRoot, 'release', artifact), '-C', dir]);
  await deployed;
}, 240_000);

afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['kill-session', '-t', session]);
});

describe('single executable', () => {
  it('is released as sts-doctor_linux_amd64.tar.gz with kubectl-sts_doctor, LICENSE and the third-party licences, and a sha256 file', () => {
    const tgz = join(repoRoot, 'release', artifact);
    const listing = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(['LICENSE', 'THIRD-PARTY-LICENSES.txt', 'kubectl-sts_doctor', 'kubectl_complete-sts_doctor']);
    const sha = createHash('sha256').update(readFileSync(tgz)).digest('hex');
    expect(readFileSync(`${tgz}.sha256`, 'utf8')).toBe(`${sha}  ${artifact}\n`);
    expect(readFileSync(join(dir, 'THIRD-PARTY-LICENSES.txt'), 'utf8')).toMatch(/^@kubernetes\/client-node@1\.4\.\d+ \(Apache-2\.0\)$/m);
  });

  it('the krew manifest rendered for the release (--from-release) carries the archive\'s sha256 and is valid', () => {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'krew-manifest.mjs'), '--from-release'], { cwd: repoRoot });
    const manifest = parse(readFileSync(join(repoRoot, 'release', `${PLUGIN_NAME}.yaml`), 'utf8')) as { spec: { platforms: { sha256: string; uri: string }[] } };
    expect((validateKrewManifest as (n: string, m: unknown) => string[])(PLUGIN_NAME, manifest)).toEqual([]);
    const sha = createHash('sha256').update(readFileSync(join(repoRoot, 'release', artifact))).digest('hex');
    expect(manifest.spec.platforms[0]!.sha256).toBe(sha);
    expect(manifest.spec.platforms[0]!.uri.endsWith(`/v${version}/${artifact}`)).toBe(true);
  });

  it('prints its version without node on PATH', () => {
    const res = exe(['--version']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(version);
    expect(res.stderr).toBe('');
  });

  it('diagnoses a dump', () => {
    const cwd = temporaryDir('sts-doctor-cwd-');
    copyFileSync(join(repoRoot, 'examples', 'image-pull.yaml'), join(cwd, 'dump.yaml'));
    const res = exe(['diagnose', '--from', 'dump.yaml', '-o', 'json'], cwd);
    expect(res.status, res.stderr).toBe(1);
    expect((JSON.parse(res.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule)).toContain('image-pull');
  });

  it('diagnoses a live StatefulSet, also as `kubectl sts-doctor`', () => {
    const res = exe(['diagnose', 'quiz', '-n', ns, '-o', 'json']);
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ source: { type: 'cluster' }, statefulSets: [{ name: 'quiz', healthy: true }], gaps: [] });

    const plugin = spawnSync(clusterEnv().STS_DOCTOR_KUBECTL!, ['sts-doctor', 'diagnose', 'quiz', '-n', ns], {
      encoding: 'utf8',
      env: { PATH: dir, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' },
    });
    expect(plugin.status, plugin.stderr).toBe(0);
    expect(plugin.stdout).toMatch(new RegExp(`^StatefulSet ${ns}/quiz\\s+healthy\\s+3/3 ready`));
  });

  // ink and its WebAssembly layout engine (yoga) in the single executable: the interactive
  // recover draws its first prompt on a real terminal, and Esc cancels with exit 1.
  it.skipIf(!hasTmux)('draws recover\'s interactive prompt on a terminal (ink), Esc cancels', async () => {
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION PATH=/nonexistent KUBECONFIG=${kubeconfigPath()} NO_COLOR=1 HOME=/nonexistent ${join(dir, 'kubectl-sts_doctor')} recover quiz -n ${brokenNs} --audit-log /dev/null; echo EXIT=$?; sleep 600`;
    spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd]);
    const screen = (): string => spawnSync('tmux', ['capture-pane', '-p', '-J', '-t', session, '-S', '-200'], { encoding: 'utf8' }).stdout;
    await waitFor('the prompt', () => /Which problem do you want to fix\?/.test(screen()), 60_000);
    expect(screen()).toMatch(/❯ CRITICAL image-pull Pod\/quiz-0/);
    expect(screen()).not.toMatch(/Warning:/);
    spawnSync('tmux', ['send-keys', '-t', session, 'Escape']);
    await waitFor('the exit code', () => /EXIT=\d/.test(screen()), 30_000);
    expect(screen()).toMatch(/EXIT=1/);
  });

  it.skipIf(!hasGo)('installs with krew from the release manifest and archive; krew refuses the placeholder sha256', () => {
    if (!existsSync(krew)) {
      execFileSync('go', ['install', `sigs.k8s.io/krew/cmd/krew@${KREW_VERSION}`], { env: { ...process.env, GOBIN: krewDir, GOFLAGS: '-buildvcs=false' }, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    const tgz = join(repoRoot, 'release', artifact);
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'krew-manifest.mjs'), '--from-release'], { cwd: repoRoot });
    const root = temporaryDir('sts-doctor-krew-');
    const env = { PATH: `${process.env.PATH}`, HOME: root, KREW_ROOT: join(root, 'krew') };
    const install = spawnSync(krew, ['install', `--manifest=${join(repoRoot, 'release', 'sts-doctor.yaml')}`, `--archive=${tgz}`], { env, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).toMatch(/Installed plugin: sts-doctor/);
    const plugin = spawnSync(clusterEnv().STS_DOCTOR_KUBECTL!, ['sts-doctor', '--version'], { env: { PATH: join(root, 'krew', 'bin'), HOME: root }, encoding: 'utf8' });
    expect(plugin.status, plugin.stderr).toBe(0);
    expect(plugin.stdout.trim()).toBe(version);

    const placeholder = spawnSync(krew, ['install', `--manifest=${join(repoRoot, 'plugins', 'sts-doctor.yaml')}`, `--archive=${tgz}`], { env: { ...env, KREW_ROOT: join(root, 'krew-placeholder') }, encoding: 'utf8' });
    expect(placeholder.stderr).toMatch(/checksum does not match, want: 0{64}/);
  }, 300_000);
});
