// The single executable (Node SEA) as a release ships it: `npm run build:sea`, the tarball
// unpacked into an empty directory and run with no node on PATH: --version, diagnose --from, a
// live diagnose, and `kubectl sts-doctor` finding it as a plugin.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterEnv, kubeconfigPath, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const artifact = 'sts-doctor_linux_amd64.tar.gz';
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';
let ns = '';

/** Runs the unpacked executable with a PATH that has no node on it. */
function exe(args: string[], cwd = dir): SpawnSyncReturns<string> {
  return spawnSync(join(dir, 'kubectl-sts_doctor'), args, { cwd, encoding: 'utf8', env: { PATH: '/nonexistent', HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' } });
}

beforeAll(async () => {
  const healthy = (async () => {
    ns = namespaces.fresh('install-sea');
    await scenarios.healthy.setup(ns);
  })();
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-sea.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  dir = temporaryDir('sts-doctor-sea-');
  execFileSync('tar', ['-xzf', join(repoRoot, 'release', artifact), '-C', dir]);
  await healthy;
}, 240_000);

describe('single executable', () => {
  it('is released as sts-doctor_linux_amd64.tar.gz with kubectl-sts_doctor, LICENSE and the third-party licences, and a sha256 file', () => {
    const tgz = join(repoRoot, 'release', artifact);
    const listing = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(['LICENSE', 'THIRD-PARTY-LICENSES.txt', 'kubectl-sts_doctor']);
    const sha = createHash('sha256').update(readFileSync(tgz)).digest('hex');
    expect(readFileSync(`${tgz}.sha256`, 'utf8')).toBe(`${sha}  ${artifact}\n`);
    expect(readFileSync(join(dir, 'THIRD-PARTY-LICENSES.txt'), 'utf8')).toMatch(/^@kubernetes\/client-node@1\.4\.\d+ \(Apache-2\.0\)$/m);
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
});
