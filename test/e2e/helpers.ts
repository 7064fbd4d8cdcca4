// Running the built CLI (bin/sts-doctor.js, as a user runs it) against the test cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { kubeconfigPath, repoRoot } from '../scenarios/cluster.mjs';
import { deleteNamespace } from '../scenarios/quiz.mjs';
import type { Diagnosis } from '../../src/diagnosis.js';
import type { Finding } from '../../src/rules/types.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/sts-doctor.js ...args` with KUBECONFIG pointing at the test cluster (never the
 * user's own) and HOME set to an empty directory.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sts-doctor.js'), ...args], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** `diagnose <name> -n <ns> -o json`, parsed. */
export async function diagnoseJson(ns: string, name = 'quiz', extra: string[] = []): Promise<{ result: CliResult; diagnosis: Diagnosis }> {
  const result = await runCli(['diagnose', name, '-n', ns, '-o', 'json', ...extra]);
  if (result.code === 2) throw new Error(`diagnose failed: ${result.stderr}`);
  return { result, diagnosis: JSON.parse(result.stdout) as Diagnosis };
}

/**
 * With STS_DOCTOR_RECORD=1, saves `sts-doctor snapshot` of the scenario as a unit-test
 * fixture in test/fixtures/<scenario>.yaml, or examples/<scenario>.yaml when it is one of the
 * examples (recorded from the real control plane). `extra`: more flags of the snapshot (a
 * scenario's `snapshotArgs`, e.g. `--cluster-dns <ns>/dns`).
 */
export async function recordFixture(scenario: string, ns: string, extra: string[] = []): Promise<void> {
  if (!process.env.STS_DOCTOR_RECORD) return;
  const res = await runCli(['snapshot', 'quiz', '-n', ns, ...extra]);
  if (res.code !== 0) throw new Error(`snapshot failed: ${res.stderr}`);
  // A recording that serves as a user-facing example is kept up to date in examples/.
  const example = join(repoRoot, 'examples', `${scenario}.yaml`);
  const dir = join(repoRoot, 'test', 'fixtures');
  mkdirSync(dir, { recursive: true });
  writeFileSync(existsSync(example) ? example : join(dir, `${scenario}.yaml`), res.stdout);
}

/** A fresh namespace name for one test. */
export function namespaceFor(scenario: string): string {
  return `e2e-${scenario}-${Date.now().toString(36)}`.slice(0, 63);
}

/** The one finding of `rule`; fails the test (listing every finding) unless there is exactly one. */
export function onlyFinding(findings: Finding[], rule: string): Finding {
  const matching = findings.filter((f) => f.rule === rule);
  expect(matching, `findings: ${findings.map((f) => `${f.rule} ${f.subject.name}`).join(', ')}`).toHaveLength(1);
  return matching[0]!;
}

/** A scenario: `setup(ns)` deploys it and waits for the signal, returning what the test expects. */
export interface Scenario {
  setup(ns: string): Promise<unknown>;
}

/**
 * The namespaces of one test file: `fresh(name)` makes a name and remembers it, `scenario()`
 * also deploys a scenario there (and records its fixture with STS_DOCTOR_RECORD=1). After the
 * file's tests, each is removed with `cleanup` (default deleteNamespace), unless
 * STS_DOCTOR_KEEP_NAMESPACES is set.
 */
export function testNamespaces(cleanup: (ns: string) => unknown = deleteNamespace) {
  const created: string[] = [];
  afterAll(async () => {
    if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) for (const ns of [...created]) await cleanup(ns);
  });
  const fresh = (name: string): string => {
    const ns = namespaceFor(name);
    created.push(ns);
    return ns;
  };
  return {
    created,
    fresh,
    /** Deploys `scenarios[name]` in a fresh namespace; returns it and what the scenario expects. */
    async scenario<E = Record<string, string>>(scenarios: Record<string, Scenario>, name: string): Promise<{ ns: string; expected: E }> {
      const ns = fresh(name);
      const expected = (await scenarios[name]!.setup(ns)) as E;
      await recordFixture(name, ns, (expected as { snapshotArgs?: string[] } | undefined)?.snapshotArgs);
      return { ns, expected };
    },
  };
}
