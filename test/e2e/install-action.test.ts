// The GitHub Action outside GitHub: action.yml's composite steps run as the runner runs them
// (bash, ${{ inputs.* }} substituted, GITHUB_ACTION_PATH = the repository), with
// GITHUB_STEP_SUMMARY and GITHUB_OUTPUT pointed at temporary files, against the test cluster.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeconfigPath, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { scenarios } from '../scenarios/quiz.mjs';
import { testNamespaces } from './helpers.js';

interface ActionStep {
  name: string;
  id?: string;
  shell: string;
  env?: Record<string, string>;
  run: string;
}
interface Action {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as Action;
const namespaces = testNamespaces();
let healthyNs = '';
let brokenNs = '';

/** Runs the composite action's steps in order; returns the last step's exit code, the steps' output, the summary and the outputs. */
function runAction(inputs: Record<string, string>, opts: { onPath?: boolean; env?: Record<string, string> } = {}) {
  const dir = temporaryDir('sts-doctor-action-');
  const binDir = join(dir, 'bin');
  spawnSync('mkdir', [binDir]);
  // sts-doctor already on PATH: the install step uses it instead of installing from npm.
  if (opts.onPath !== false) symlinkSync(join(repoRoot, 'bin', 'sts-doctor.js'), join(binDir, 'sts-doctor'));
  const files = { summary: join(dir, 'summary.md'), output: join(dir, 'output.txt') };
  writeFileSync(files.summary, '');
  writeFileSync(files.output, '');
  const values = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, inputs[k] ?? v.default ?? '']));
  const expr = (s: string) => s.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, k: string) => values[k] ?? '');
  let last = { status: null as number | null, stdout: '', stderr: '' };
  for (const step of action.runs.steps) {
    expect(step.shell).toBe('bash');
    expect(step.run).not.toMatch(/\$\{\{/); // inputs reach scripts only through env, never spliced into the script
    const env: Record<string, string> = {
      PATH: `${binDir}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: '/nonexistent',
      KUBECONFIG: kubeconfigPath(),
      GITHUB_ACTION_PATH: repoRoot,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_OUTPUT: files.output,
      RUNNER_TEMP: dir,
      ...opts.env,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(v)])),
    };
    const res = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { env, encoding: 'utf8' });
    last = { status: res.status, stdout: last.stdout + res.stdout, stderr: last.stderr + res.stderr };
    if (res.status !== 0) break;
  }
  const outputs = Object.fromEntries(
    readFileSync(files.output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...last, summary: readFileSync(files.summary, 'utf8'), outputs };
}

beforeAll(async () => {
  healthyNs = namespaces.fresh('action-ok');
  brokenNs = namespaces.fresh('action-bad');
  await Promise.all([scenarios.healthy.setup(healthyNs), scenarios['image-pull'].setup(brokenNs)]);
}, 240_000);

describe('GitHub Action (action.yml + scripts/action/run.mjs)', () => {
  it('declares the inputs and outputs the README documents', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['name', 'namespace', 'selector', 'timeout', 'kubeconfig']));
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['exit-code', 'healthy', 'critical', 'warning', 'rules', 'diagnosis']));
  });

  it('healthy: exit 0, a summary with the per-replica table, outputs healthy=true', () => {
    const res = runAction({ name: 'quiz', namespace: healthyNs, timeout: '60s' });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/is on PATH/);
    expect(res.stdout).not.toMatch(/^::error/m);
    expect(res.summary).toMatch(/^## sts-doctor: ✅ healthy$/m);
    expect(res.summary).toMatch(/^\| Ordinal \| Pod \| Status \| Ready \| Node \| PVC \| Last event \|$/m);
    expect(res.summary).toMatch(/^\| 0 \| quiz\\-0 \| Running \| 2\/2 \| kwok\\-node\\-\d \| db\\-data\\-quiz\\-0 Bound \|/m);
    expect(res.outputs).toMatchObject({ 'exit-code': '0', healthy: 'true', critical: '0', warning: '0', rules: '' });
  });

  it('broken: exit 1, ::error annotations, the root causes in the summary, outputs with the rules', () => {
    const res = runAction({ name: 'quiz', namespace: brokenNs, timeout: '3s' });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`^::error title=sts-doctor image-pull ${brokenNs}/quiz::Pod quiz-0 cannot pull image`, 'm'));
    expect(res.stderr).toMatch(/not healthy/); // wait's own words on stderr, passed through
    expect(res.summary).toMatch(/^## sts-doctor: ❌ not healthy$/m);
    expect(res.summary).toMatch(/^\| 0 \| quiz\\-0 \| ImagePullBackOff \|/m);
    expect(res.summary).toMatch(/^### Root causes first$/m);
    expect(res.summary).toMatch(/^- \*\*CRITICAL image\\-pull\*\* Pod\/quiz\\-0 /m);
    expect(res.outputs).toMatchObject({ 'exit-code': '1', healthy: 'false' });
    expect(res.outputs.rules!.split(',')).toContain('image-pull');
    expect(Number(res.outputs.critical)).toBeGreaterThan(0);
    expect(existsSync(res.outputs.diagnosis!)).toBe(true);
    expect(JSON.parse(readFileSync(res.outputs.diagnosis!, 'utf8'))).toMatchObject({ kind: 'Diagnosis', namespace: brokenNs });
  });

  it('without sts-doctor on PATH, the install step installs the version asked for (here a packed .tgz), then gates', () => {
    const dir = temporaryDir('sts-doctor-action-pack-');
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const tgz = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    const prefix = join(dir, 'prefix');
    // npm's global prefix in a temporary directory, its bin first on PATH, as on a runner.
    const res = runAction(
      { name: 'quiz', namespace: healthyNs, timeout: '60s', version: tgz },
      { onPath: false, env: { npm_config_prefix: prefix, npm_config_offline: 'true', PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin` } },
    );
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^installed sts-doctor \d+\.\d+\.\d+$/m);
    expect(existsSync(join(prefix, 'bin', 'sts-doctor'))).toBe(true);
    expect(res.outputs).toMatchObject({ 'exit-code': '0', healthy: 'true' });
  });

  it('the kubeconfig input is used; an error is exit 2 with the one-sentence reason in the summary', () => {
    const res = runAction({ name: 'quiz', namespace: healthyNs, timeout: '5s', kubeconfig: '/nonexistent/kubeconfig' });
    expect(res.status).toBe(2);
    expect(res.summary).toMatch(/^## sts-doctor: ⚠️ error \(exit 2\)$/m);
    expect(res.summary).toMatch(/Cannot load kubeconfig /);
    expect(res.outputs).toMatchObject({ 'exit-code': '2', healthy: 'false' });
  });
});
