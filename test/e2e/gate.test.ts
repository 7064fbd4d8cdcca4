// The CI gate on the real control plane: `wait` until healthy, `-o junit` / `-o github`.
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterEnv, kubeconfigPath, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { deployQuiz, scenarios } from '../scenarios/quiz.mjs';
import { runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces();

describe('wait and CI formats', () => {
  it('wait returns 0 once a freshly deployed quiz becomes healthy, showing progress on stderr', async () => {
    const ns = namespaces.fresh('gate-wait');
    await deployQuiz(ns);
    const res = await runCli(['wait', 'quiz', '-n', ns, '--timeout', '3m', '--interval', '1s', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/quiz: 3\/3 ready, healthy/);
    const d = JSON.parse(res.stdout);
    expect(d.statefulSets[0].healthy).toBe(true);
  });

  it('wait gives up with exit 1 and the diagnosis; junit and github name the failing rule', async () => {
    const ns = namespaces.fresh('gate-fail');
    await scenarios['ordered-ready-stall'].setup(ns);
    const started = Date.now();
    const res = await runCli(['wait', 'quiz', '-n', ns, '--timeout', '4s', '--interval', '1s']);
    const took = Date.now() - started;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/not healthy after 4s/);
    // The same watch loop as recover's: no request outlasts --timeout by more than 1 s (the final
    // full read included); the bound adds the process start-up on a loaded machine.
    expect(took).toBeGreaterThanOrEqual(4000);
    expect(took).toBeLessThan(6000);
    expect(res.stderr).toMatch(/^\[\d+s\] quiz: /m);
    expect(res.stdout).toMatch(/ordered-ready-stall/);

    const junit = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'junit']);
    expect(junit.code).toBe(1);
    expect(junit.stdout).toMatch(new RegExp(`<testsuite name="StatefulSet ${ns}/quiz" tests="\\d+" failures="[1-9]`));
    expect(junit.stdout).toMatch(/<testcase classname="[^"]+" name="ordered-ready-stall">\s*<failure message="quiz-0 is not Ready/);

    const gh = await runCli(['diagnose', 'quiz', '-n', ns, '-o', 'github']);
    // One error per root cause (the failing probe); the stall it causes is a notice naming it.
    expect(gh.stdout).toMatch(/^::error title=sts-doctor probe-failing [^:]+::Readiness probe of quiz-0\/quiz-api fails/m);
    expect(gh.stdout).toMatch(/^::notice title=sts-doctor ordered-ready-stall \S+ \(caused by probe-failing Pod\/quiz-0\)::quiz-0 is not Ready/m);
    expect(gh.stdout.match(/^::error /gm)).toHaveLength(1);
  });

  it('runs as a kubectl plugin: kubectl sts-doctor finds kubectl-sts_doctor on PATH', () => {
    const dir = temporaryDir('sts-doctor-plugin-');
    symlinkSync(join(repoRoot, 'bin', 'sts-doctor.js'), join(dir, 'kubectl-sts_doctor'));
    const res = spawnSync(clusterEnv().STS_DOCTOR_KUBECTL!, ['sts-doctor', 'diagnose', 'quiz', '-n', namespaces.created[0]!, '-o', 'json'], {
      env: { PATH: `${dir}:${process.env.PATH}`, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath() },
      encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).statefulSets[0].name).toBe('quiz');
  });

  it.each([
    [['diagnose', '--bogus'], "sts-doctor: unknown option '--bogus' (see sts-doctor --help)."],
    [['frobnicate'], "sts-doctor: unknown command 'frobnicate' (see sts-doctor --help)."],
    [['diagnose', 'quiz', '-o', 'xml'], "sts-doctor: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are text, wide, json, yaml, junit, github (see sts-doctor --help)."],
    [['diagnose', 'quiz', '--context', 'nope'], 'sts-doctor: Context "nope" is not in the kubeconfig (KUBECONFIG_PATH).'],
  ])('usage and kubeconfig errors are one sentence and exit 2: %j', async (args, message) => {
    const res = await runCli(args);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(`${message.replace('KUBECONFIG_PATH', kubeconfigPath())}\n`);
  });

  it('never falls back to localhost:8080 without a kubeconfig', async () => {
    const res = await runCli(['diagnose', 'quiz'], { KUBECONFIG: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('sts-doctor: No kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config.\n');
  });

  it('rejects a bad duration with one sentence and exit 2', async () => {
    const res = await runCli(['wait', 'quiz', '-n', 'default', '--timeout', 'soon']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('sts-doctor: --timeout must be a duration like 30, 30s, 5m or 1h, not "soon".');
  });
});
