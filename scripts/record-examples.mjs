// Records examples/<scenario>.yaml: for every scenario of every registry in test/scenarios/*.mjs
// (each export named `scenarios` or `<area>Scenarios`), deploy it on the local control plane in a fresh
// namespace, save `sts-doctor snapshot quiz -n <ns>` (env values redacted), and tear it down
// (the scenario's own `teardown(ns, expected)` first, e.g. to recover a failed node, then the
// namespace). Scenarios run one after another: node failures are cluster-wide.
//
//   npm run build && node scripts/record-examples.mjs [--only a,b] [--out examples] [--keep] [--list]
//
// A scenario's setup may return `{ statefulSet: '<name>' }` to snapshot another StatefulSet
// than quiz. Exit 1 if any scenario failed (the others are still recorded).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clusterUp, kubeconfigPath, repoRoot } from '../test/scenarios/cluster.mjs';
import { deleteNamespace } from '../test/scenarios/quiz.mjs';

const args = process.argv.slice(2);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const only = value('--only', '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const outDir = resolve(repoRoot, value('--out', 'examples'));

/** Every scenario of every registry: `{ name, file, scenario }`, in file then registry order. */
async function registry() {
  const dir = join(repoRoot, 'test', 'scenarios');
  const all = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
    const mod = await import(pathToFileURL(join(dir, file)).href);
    // `scenarios`, or registries named like `volumeScenarios`.
    const registries = Object.entries(mod).filter(([k, v]) => (k === 'scenarios' || /Scenarios$/.test(k)) && v && typeof v === 'object');
    for (const [name, scenario] of registries.flatMap(([, v]) => Object.entries(v))) {
      if (typeof scenario?.setup !== 'function') continue;
      const taken = all.some((s) => s.name === name);
      if (taken) process.stderr.write(`record-examples: scenario "${name}" of ${file} has the name of an earlier one; recorded as ${file.replace(/\.mjs$/, '')}-${name}\n`);
      all.push({ name: taken ? `${file.replace(/\.mjs$/, '')}-${name}` : name, file, scenario });
    }
  }
  return all;
}

/** Records the scenarios chosen on the command line; returns the exit code. */
async function main() {
  const scenarios = (await registry()).filter((s) => only.length === 0 || only.includes(s.name));
  if (args.includes('--list')) {
    for (const s of scenarios) process.stdout.write(`${s.name}\t${s.file}\n`);
    return 0;
  }
  if (!existsSync(join(repoRoot, 'dist', 'cli.js'))) {
    process.stderr.write('record-examples: dist/ is missing; run npm run build first.\n');
    return 2;
  }
  const unknown = only.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length) {
    process.stderr.write(`record-examples: no scenario named ${unknown.join(', ')} (see --list).\n`);
    return 2;
  }

  clusterUp();
  mkdirSync(outDir, { recursive: true });
  const id = Date.now().toString(36);
  const failed = [];
  for (const { name, file, scenario } of scenarios) {
    const ns = `examples-${name}`.slice(0, 52).replace(/-+$/, '') + `-${id}`;
    process.stderr.write(`record-examples: ${name} (${file}) in ${ns}...\n`);
    let expected;
    try {
      expected = await scenario.setup(ns);
      const sts = expected?.statefulSet ?? 'quiz';
      const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'sts-doctor.js'), 'snapshot', sts, '-n', ns], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' },
      });
      if (res.status !== 0) throw new Error(`sts-doctor snapshot failed (${res.status}): ${res.stderr.trim()}`);
      const path = join(outDir, `${name}.yaml`);
      writeFileSync(path, res.stdout);
      process.stderr.write(`record-examples: wrote ${path}\n`);
    } catch (err) {
      failed.push(name);
      process.stderr.write(`record-examples: ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    } finally {
      try {
        if (typeof scenario.teardown === 'function') await scenario.teardown(ns, expected);
      } catch (err) {
        failed.push(`${name} (teardown)`);
        process.stderr.write(`record-examples: teardown of ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      if (!args.includes('--keep')) deleteNamespace(ns);
    }
  }
  process.stderr.write(`record-examples: ${scenarios.length - failed.length}/${scenarios.length} recorded${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`);
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
