// The npm package as users get it: `npm pack`, installed into an empty prefix, the installed
// bins run from outside the repository against a dump and the real control plane.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigPath, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };

let prefix = '';
let tarball = '';
let packedFiles: string[] = [];

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const res = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (res.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res;
}

/** Runs an installed bin with only the prefix's bin and node's directory on PATH, from an empty directory. */
function installed(bin: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(join(prefix, 'bin', bin), args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}`, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' },
  });
}

beforeAll(() => {
  const dir = temporaryDir('sts-doctor-pack-');
  // dist/ is built by `npm test`'s pretest; the package's own `prepack` (npm run build) is not
  // run here, so a rebuild never swaps dist/ under the end-to-end files running in parallel.
  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], repoRoot).stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, packed[0]!.filename);
  packedFiles = packed[0]!.files.map((f) => f.path);
  prefix = join(dir, 'prefix');
  // No dependencies to fetch: --offline proves the install needs no registry.
  npm(['install', '-g', '--offline', '--prefix', prefix, tarball], dir);
}, 120_000);

describe('npm package', () => {
  it('holds the bundle, the bins, README and LICENSE, and nothing from tests, examples, sources or source maps', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'bin/sts-doctor.js', 'bin/kubectl_complete-sts_doctor', 'dist/cli.js', 'dist/THIRD-PARTY-LICENSES.txt']));
    const unexpected = packedFiles.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/(sts-doctor\.js|kubectl_complete-sts_doctor)|dist\/[^/]+\.(js|txt))$/.test(f));
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((f) => /^(test|examples|src|scripts)\/|\.map$/.test(f))).toEqual([]);
  });

  it('declares no runtime dependencies (everything is bundled) and builds on pack', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    const installedPkg = join(prefix, 'lib', 'node_modules', 'sts-doctor');
    expect(existsSync(join(installedPkg, 'node_modules'))).toBe(false);
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['sts-doctor']);
    const scripts = (JSON.parse(readFileSync(join(installedPkg, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepack).toBe('npm run build');
  });

  it('packs from a tree without dist/: prepack builds the same files', () => {
    const tree = temporaryDir('sts-doctor-tree-');
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'bin', 'src', 'scripts']) cpSync(join(repoRoot, entry), join(tree, entry), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(tree, 'node_modules'));
    const packed = JSON.parse(npm(['pack', '--json', '--dry-run'], tree).stdout) as { files: { path: string }[] }[];
    expect(existsSync(join(tree, 'dist', 'cli.js'))).toBe(true);
    // The same files; esbuild's content hashes in chunk names differ with the tree's path.
    const shape = (files: string[]) => files.map((f) => f.replace(/-[A-Z0-9]{8}\.js/, '-HASH.js')).sort();
    expect(shape(packed[0]!.files.map((f) => f.path))).toEqual(shape(packedFiles));
  });

  it('installs sts-doctor and kubectl-sts_doctor that print the version and the help', () => {
    const cwd = temporaryDir('sts-doctor-cwd-');
    const version = installed('sts-doctor', ['--version'], cwd);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = installed('kubectl-sts_doctor', ['--help'], cwd);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sts-doctor /);
    expect(help.stdout).toMatch(/diagnose \[options\] \[name\]/);
    // kubectl's plugin completion: kubectl_complete-sts_doctor answers through kubectl-sts_doctor next to it.
    const completion = installed('kubectl_complete-sts_doctor', ['rec'], cwd);
    expect(completion.status, completion.stderr).toBe(0);
    expect(completion.stdout).toBe('recover\n:4\n');
  });

  it('diagnoses a dump that is not in the repository', () => {
    const cwd = temporaryDir('sts-doctor-cwd-');
    copyFileSync(join(repoRoot, 'examples', 'node-lost.yaml'), join(cwd, 'dump.yaml'));
    const res = installed('sts-doctor', ['diagnose', '--from', 'dump.yaml', '-o', 'json'], cwd);
    expect(res.status, res.stderr).toBe(1);
    const d = JSON.parse(res.stdout) as { findings: { rule: string }[] };
    expect(d.findings.map((f) => f.rule)).toContain('node-lost');
  });

  it('diagnoses a live StatefulSet on the test cluster (healthy: exit 0)', async () => {
    const ns = namespaces.fresh('install-npm');
    await scenarios.healthy.setup(ns);
    const res = installed('sts-doctor', ['diagnose', 'quiz', '-n', ns, '-o', 'json'], temporaryDir('sts-doctor-cwd-'));
    expect(res.status, res.stderr).toBe(0);
    const d = JSON.parse(res.stdout) as { source: { type: string }; statefulSets: { name: string; healthy: boolean }[]; gaps: unknown[] };
    expect(d.source.type).toBe('cluster');
    expect(d.statefulSets).toMatchObject([{ name: 'quiz', healthy: true }]);
    expect(d.gaps).toEqual([]);
  });
});
