// npm run bench: start-up and cost of `sts-doctor diagnose` on the real control plane.
//
// For quiz with 3 and with 50 Ready replicas (podManagementPolicy Parallel, pre-bound local PVs
// on the stable nodes), runs the built CLI as a user runs it, in a fresh process each time:
//
//   node bin/sts-doctor.js diagnose quiz -n <ns> -o json
//
// and reports the median, min and max wall time of >= 7 cold runs (after one warm-up run that
// fills the OS file cache), the peak RSS (GNU time's %M, else process.resourceUsage() in an
// --import wrapper), and the number of API requests (Diagnosis.source.requests). Prints a table
// and the results as JSON (`--out FILE` writes the JSON to FILE; `--json` prints only JSON).
// Exits 1 when the 3-replica targets (< 300 ms median, < 120 MB peak RSS) are missed.
//
// Then the single executable's start-up against the plain bundle (section below, `--no-sea` skips).
//
// Then, offline (no cluster), large dumps generated from the recorded examples by
// scripts/bench-dumps.mjs: 50,000 events as YAML and as JSON, and 20,000 Ready pods as JSON,
// each read with `diagnose --from <dump> -o json` (median of --dump-runs, default 3).
//
// Then the rows of issue 13's table (section below, `--no-realistic` skips): quiz beside thousands
// of events in a cluster with many PVs and nodes, many replicas, no claims, and -A over 100
// StatefulSets (scripts/bench-cluster.mjs), each against kubectl get and kubectl describe.
//
// The serve section (scripts/bench-serve.mjs: `sts-doctor serve` over 100 StatefulSets, 5,000 pods,
// 20 nodes, 20,000 events): `--serve` adds it, `--serve-only` runs only it (exit 1 when its goals,
// < 300 MB resident and p99 < 1 s, are missed).
//
// Options: --runs N (default 9, minimum 7), --replicas 3,50, --keep (leave the namespaces), --no-sea,
// --dump-runs N, --offline (only the dumps), --no-dumps (only the cluster), --no-realistic,
// --realistic-only, --issue-size (the 20,000 events, 4,000 PVs, 50 nodes), --replicas-large N,
// --first-row-only, --huge 1000,3000 (the 1,000- and 3,000-replica rows), --bin-before PATH (a build measured beside, in the same runs), --realistic-ns NS (measure an existing realistic namespace, deployed by an
// earlier --keep run), --bin PATH (another build's bin/sts-doctor.js, to compare).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { clusterUp, kubeconfigPath, repoRoot, temporaryDir } from '../test/scenarios/cluster.mjs';
import { deployScaledQuiz, dropNamespace } from '../test/scenarios/reading.mjs';
import { writeBenchDumps } from './bench-dumps.mjs';
import { deployRealistic, deploySmallSets, dropRealistic, REALISTIC } from './bench-cluster.mjs';
import { startFaultProxy } from '../test/faults/proxy.mjs';
import { benchServe, printServe, serveGoalsMet } from './bench-serve.mjs';
import { clusterDir, clusterEnv } from '../test/scenarios/cluster.mjs';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const runs = Math.max(7, Number(value('--runs', '9')));
const sizes = value('--replicas', '3,50').split(',').map(Number);
const out = value('--out', undefined);
const TARGET = { replicas: 3, medianMs: 300, peakRssMB: 120 };

const bin = value('--bin', join(repoRoot, 'bin', 'sts-doctor.js'));
const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p) && spawnSync(p, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0);
// Without GNU time: report the child's own peak RSS from process.resourceUsage() at exit.
const wrapper = join(temporaryDir('sts-doctor-bench-'), 'rss.mjs');
writeFileSync(wrapper, "process.on('exit', () => process.stderr.write(`\\nSTS_DOCTOR_MAXRSS_KB=${process.resourceUsage().maxRSS}\\n`));\n");

/** One cold run: wall time in ms, peak RSS in KB, parsed stdout. */
function once(ns, cli = ['diagnose', 'quiz', '-n', ns, '-o', 'json'], kubeconfig = kubeconfigPath()) {
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', 'STS_DOCTOR_MAXRSS_KB=%M', process.execPath, bin, ...cli]] : [process.execPath, ['--import', wrapper, bin, ...cli]];
  const t0 = process.hrtime.bigint();
  const res = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if ((res.status !== 0 && res.status !== 1) || !res.stdout.trim()) throw new Error(`diagnose failed (${res.status ?? res.signal}): ${res.stderr || res.error?.message}`);
  const rss = Number(/STS_DOCTOR_MAXRSS_KB=(\d+)/.exec(res.stderr)?.[1] ?? NaN);
  return { ms, rssKB: rss, status: res.status, diagnosis: JSON.parse(res.stdout) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---- Single executable start-up (issue 14) ---------------------------------------------------
// The Node SEA (npm run build:sea: one CommonJS bundle with a V8 code cache, injected into node)
// against the plain bundle (`node bin/sts-doctor.js`): wall time of cold processes for
// `--version`, `diagnose --from examples/healthy.yaml -o json` and a live `diagnose` of the
// 3-replica quiz. Runs alternate between the two, so a change of load hits both alike.
// `--no-sea` skips it.

/** Median, min and max wall time (ms) of `runs` alternating cold runs of each command line. */
function seaStartup(ns, runsPerCase) {
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-sea.mjs'), '--skip-tar'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build-sea failed: ${build.stderr}`);
  const sea = join(repoRoot, 'release', 'kubectl-sts_doctor');
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), NO_COLOR: '1' };
  const variants = { node: [process.execPath, bin], sea: [sea] };
  const cases = {
    version: ['--version'],
    from: ['diagnose', '--from', join(repoRoot, 'examples', 'healthy.yaml'), '-o', 'json'],
    live: ['diagnose', 'quiz', '-n', ns, '-o', 'json'],
  };
  const time = ([cmd, ...pre], args) => {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(cmd, [...pre, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const out = {};
  for (const [name, args] of Object.entries(cases)) {
    const samples = { node: [], sea: [] };
    for (const v of Object.keys(variants)) time(variants[v], args); // warm-up: file cache
    for (let i = 0; i < runsPerCase; i++) for (const v of Object.keys(variants)) samples[v].push(time(variants[v], args));
    out[name] = Object.fromEntries(Object.entries(samples).map(([v, xs]) => [v, { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) }]));
  }
  return { command: { node: 'node bin/sts-doctor.js', sea: 'release/kubectl-sts_doctor' }, runs: runsPerCase, cases: out };
}

/** The SEA table: one row per case, node and SEA medians side by side. */
function printSea(sea) {
  const rows = [['CASE', 'NODE median ms', 'NODE min/max', 'SEA median ms', 'SEA min/max']];
  for (const [name, c] of Object.entries(sea.cases)) rows.push([name, c.node.median, `${c.node.min}/${c.node.max}`, c.sea.median, `${c.sea.min}/${c.sea.max}`].map(String));
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  process.stdout.write(`\nSingle executable vs node bin/sts-doctor.js (${sea.runs} alternating cold runs each):\n`);
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()}\n`);
}
// ---- end of the single executable section ------------------------------------------------------

// ---- Realistic namespace (issue 13) ------------------------------------------------------------
// The rows of issue 13's table, each compared in alternating cold runs (so that a change of load
// hits all alike) with the cluster's own kubectl (STS_DOCTOR_KUBECTL) doing what a user would do
// instead: `kubectl get sts,pods,pvc` and `kubectl describe sts`; then one more run of each
// through the counting TLS proxy of the fault tests (test/faults/proxy.mjs, no faults) for the
// requests, TLS connections and bytes received. The rows (scripts/bench-cluster.mjs):
//
//   - quiz with 3 Ready replicas beside `size.events` events about other objects, in a cluster
//     with `size.pvs` more PVs and `size.nodes` more nodes (the noise stays for the other rows);
//   - quiz with `--replicas-large` (default 50) Ready replicas beside 5,200 events;
//   - a StatefulSet of 3 replicas without claims (about 20 events);
//   - `diagnose -A` over 100 small StatefulSets in 10 namespaces (`-l` selects them; kubectl
//     reads the whole cluster with `-A`).
//
// `--issue-size` uses the cluster: 20,000 events, 4,000 PVs, 50 nodes (default: the
// smaller REALISTIC of bench-cluster.mjs).

/** One row: `runsPerCase` alternating cold runs of each command line, then one proxied run of each. */
async function compareRow(label, cases, runsPerCase) {
  const run = (cmd, argv, kubeconfig) => {
    const env = { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: kubeconfig, NO_COLOR: '1' };
    const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', 'STS_DOCTOR_MAXRSS_KB=%M', cmd, ...argv]] : [cmd, argv];
    const t0 = process.hrtime.bigint();
    const res = spawnSync(c, a, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0 && res.status !== 1) throw new Error(`${cmd} ${argv.join(' ')} failed (${res.status}): ${res.stderr}`);
    return { ms, rssKB: Number(/STS_DOCTOR_MAXRSS_KB=(\d+)/.exec(res.stderr)?.[1] ?? NaN), stdout: res.stdout };
  };
  process.stderr.write(`bench: measuring ${label}...\n`);
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const [cmd, argv] of Object.values(cases)) run(cmd, argv, kubeconfigPath()); // warm-up
  for (let i = 0; i < runsPerCase; i++) for (const [name, [cmd, argv]] of Object.entries(cases)) samples[name].push(run(cmd, argv, kubeconfigPath()));
  const upstream = /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))[1];
  const proxy = await startFaultProxy({ clusterDir, upstream });
  const proxied = proxy.kubeconfig(join(temporaryDir('sts-doctor-bench-proxy-'), 'kubeconfig'));
  const wire = {};
  try {
    for (const [name, [cmd, argv]] of Object.entries(cases)) {
      proxy.setRules([]);
      const before = proxy.log.length;
      // Asynchronously: the proxy runs in this process.
      const env = { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: proxied, NO_COLOR: '1' };
      await new Promise((resolve, reject) => spawn(cmd, argv, { env, stdio: 'ignore' }).on('error', reject).on('exit', resolve));
      wire[name] = { requests: proxy.log.length - before, connections: proxy.connections(), maxInFlight: proxy.maxInFlight(), receivedKiB: round(proxy.bytes() / 1024) };
    }
  } finally {
    await proxy.close();
  }
  const rows = {};
  for (const [name, xs] of Object.entries(samples)) {
    rows[name] = { wallMs: { median: round(median(xs.map((x) => x.ms))), min: round(Math.min(...xs.map((x) => x.ms))), max: round(Math.max(...xs.map((x) => x.ms))) }, peakRssMB: round(Math.max(...xs.map((x) => x.rssKB)) / 1024), ...wire[name] };
  }
  const [ours] = Object.keys(rows);
  for (const name of Object.keys(rows)) rows[name].ratio = round(rows[ours].wallMs.median / rows[name].wallMs.median, 2);
  return { label, runs: runsPerCase, rows };
}

/** The rows of the table, deployed (unless `--realistic-ns`: the first row's namespace exists) and measured. */
async function realistic(id, runsPerCase, namespaces) {
  const kubectlBin = clusterEnv().STS_DOCTOR_KUBECTL;
  const size = flag('--issue-size') ? { events: 20_000, pvs: 4_000, nodes: 50 } : { events: REALISTIC.events, pvs: REALISTIC.pvs, nodes: REALISTIC.nodes };
  const large = Number(value('--replicas-large', '50'));
  const ours = (...a) => [process.execPath, [bin, 'diagnose', ...a, '-o', 'json']];
  const kc = (...a) => [kubectlBin, a];
  // `--bin-before PATH`: another build (e.g. the previous commit's) measured in the same alternating runs.
  const before = value('--bin-before', undefined);
  const withBefore = (cases) => {
    if (!before) return cases;
    const [first, [cmd, argv]] = Object.entries(cases)[0];
    return { ...cases, [`${first} (--bin-before)`]: [cmd, [before, ...argv.slice(1)]] };
  };
  const out = { size, tables: [] };
  const ns1 = value('--realistic-ns', `bench-realistic-${id}`);
  if (!value('--realistic-ns', undefined)) {
    namespaces.push(ns1);
    process.stderr.write(`bench: deploying ${ns1}: quiz with 3 replicas, ${size.events} events, +${size.pvs} PVs, +${size.nodes} nodes...\n`);
    await deployRealistic(ns1, size);
  }
  out.tables.push(await compareRow(`quiz, 3 replicas, ${size.events} events in the namespace, +${size.pvs} PVs, +${size.nodes} nodes`, withBefore({ 'sts-doctor diagnose quiz': ours('quiz', '-n', ns1), 'kubectl get sts,pods,pvc': kc('get', 'sts,pods,pvc', '-n', ns1), 'kubectl describe sts quiz': kc('describe', 'sts', 'quiz', '-n', ns1) }), runsPerCase));
  if (flag('--first-row-only')) return out;

  const ns2 = `bench-realistic-large-${id}`;
  namespaces.push(ns2);
  process.stderr.write(`bench: deploying ${ns2}: quiz with ${large} replicas beside 5,200 events...\n`);
  await deployRealistic(ns2, { replicas: large, events: 5_200, pvs: 0, nodes: 0 });
  out.tables.push(await compareRow(`quiz, ${large} replicas, 5,200 events in the namespace`, withBefore({ 'sts-doctor diagnose quiz': ours('quiz', '-n', ns2), 'kubectl get sts,pods,pvc': kc('get', 'sts,pods,pvc', '-n', ns2), 'kubectl describe sts quiz': kc('describe', 'sts', 'quiz', '-n', ns2) }), runsPerCase));

  // `--huge 1000,3000`: the 1,000- and 3,000-replica rows (14,000 and 20,000 events in
  // the namespace), on nodes of 1,100 pods made for them (bench-cluster.mjs HOSTS).
  for (const n of value('--huge', '').split(',').filter(Boolean).map(Number)) {
    const nsH = `bench-huge-${n}-${id}`;
    namespaces.push(nsH);
    const ev = n >= 3000 ? 20_000 : 14_000;
    process.stderr.write(`bench: deploying ${nsH}: quiz with ${n} replicas beside ${ev} events (minutes: every pod and claim is made, bound and run by the real controllers)...\n`);
    const t0 = Date.now();
    await deployRealistic(nsH, { replicas: n, events: ev, pvs: 0, nodes: 0, hosts: Math.ceil(n / 1000) });
    process.stderr.write(`bench: ${nsH} deployed in ${Math.round((Date.now() - t0) / 1000)} s\n`);
    out.tables.push(await compareRow(`quiz, ${n} replicas, ${ev} events in the namespace`, withBefore({ 'sts-doctor diagnose quiz': ours('quiz', '-n', nsH), 'kubectl get sts,pods,pvc': kc('get', 'sts,pods,pvc', '-n', nsH), 'kubectl describe sts quiz': kc('describe', 'sts', 'quiz', '-n', nsH) }), runsPerCase));
  }

  const ns3 = `bench-noclaims-${id}`;
  namespaces.push(ns3);
  await deploySmallSets([ns3], { count: 1, replicas: 3, label: `noclaims-${id}` });
  out.tables.push(await compareRow('3 replicas, no claims, about 20 events', withBefore({ 'sts-doctor diagnose small-0': ours('small-0', '-n', ns3), 'kubectl get sts,pods,pvc': kc('get', 'sts,pods,pvc', '-n', ns3), 'kubectl describe sts small-0': kc('describe', 'sts', 'small-0', '-n', ns3) }), runsPerCase));

  const many = Array.from({ length: 10 }, (_, i) => `bench-many-${i}-${id}`);
  namespaces.push(...many);
  process.stderr.write('bench: deploying 100 small StatefulSets in 10 namespaces...\n');
  await deploySmallSets(many, { count: 100, label: `many-${id}` });
  const sel = `sts-doctor-bench=many-${id}`;
  out.tables.push(await compareRow('-A, 100 StatefulSets in 10 namespaces', withBefore({ 'sts-doctor diagnose -A -l': ours('-A', '-l', sel), 'kubectl get sts,pods,pvc -A': kc('get', 'sts,pods,pvc', '-A'), 'kubectl describe sts -A -l': kc('describe', 'sts', '-A', '-l', sel) }), runsPerCase));
  return out;
}

/** The tables of the rows. */
function printRealistic(r) {
  for (const t of r.tables) {
    const rows = [['COMMAND', 'MEDIAN ms', 'MIN/MAX ms', 'PEAK RSS MB', 'REQUESTS', 'CONNECTIONS', 'IN FLIGHT', 'RECEIVED KiB', 'sts-doctor / this']];
    for (const [name, x] of Object.entries(t.rows)) rows.push([name, x.wallMs.median, `${x.wallMs.min}/${x.wallMs.max}`, x.peakRssMB, x.requests, x.connections, x.maxInFlight, x.receivedKiB, `${x.ratio}x`].map(String));
    const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    process.stdout.write(`\n${t.label} (${t.runs} alternating cold runs each):\n`);
    for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()}\n`);
  }
}
// ---- end of the realistic namespace section ----------------------------------------------------

/**
 * The offline dumps: generated into a temporary directory, each diagnosed `--dump-runs` times
 * (after one warm-up run) with `diagnose --from <dump> -o json`.
 */
function benchDumps() {
  const dir = temporaryDir('sts-doctor-bench-dumps-');
  process.stderr.write('bench: generating the offline dumps (50,000 events, 20,000 pods)...\n');
  const files = writeBenchDumps(dir);
  const dumpRuns = Math.max(1, Number(value('--dump-runs', '3')));
  const out = [];
  for (const [name, path] of [['50k events, YAML', files.eventsYaml], ['50k events, JSON', files.eventsJson], ['20k pods, JSON', files.podsJson]]) {
    process.stderr.write(`bench: diagnose --from ${name}...\n`);
    const cli = ['diagnose', '--from', path, '-o', 'json'];
    once(undefined, cli);
    const samples = [];
    for (let i = 0; i < dumpRuns; i++) samples.push(once(undefined, cli));
    out.push({
      dump: name,
      sizeMB: round(statSync(path).size / 1024 / 1024),
      runs: dumpRuns,
      wallMs: { median: round(median(samples.map((x) => x.ms))), min: round(Math.min(...samples.map((x) => x.ms))), max: round(Math.max(...samples.map((x) => x.ms))) },
      peakRssMB: round(Math.max(...samples.map((x) => x.rssKB)) / 1024),
      exit: samples[0].status,
    });
  }
  return out;
}

/** Deploys, measures, reports; returns the exit code. */
async function main() {
  if (!existsSync(join(repoRoot, 'dist', 'cli.js'))) {
    console.error('bench: dist/ is missing; run npm run build first (npm run bench does).');
    return 2;
  }
  if (flag('--serve-only')) {
    clusterUp();
    const r = await benchServe();
    if (flag('--json')) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else process.stdout.write(`${printServe(r)}\n${JSON.stringify(r)}\n`);
    return serveGoalsMet(r) ? 0 : 1;
  }
  const dumpResults = flag('--no-dumps') || flag('--realistic-only') ? [] : benchDumps();
  let real;
  const results = [];
  const namespaces = [];
  let sea;
  if (!flag('--offline')) clusterUp();
  const id = Date.now().toString(36);
  try {
    for (const n of flag('--offline') || flag('--realistic-only') ? [] : sizes) {
      const ns = `bench-quiz-${n}-${id}`;
      namespaces.push(ns);
      process.stderr.write(`bench: deploying quiz with ${n} replicas in ${ns}...\n`);
      await deployScaledQuiz(ns, n);
      once(ns); // warm-up: file cache, API server caches
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(once(ns));
      const requests = [...new Set(samples.map((s) => s.diagnosis.source.requests))];
      const ready = samples[0].diagnosis.statefulSets[0].replicas.ready;
      results.push({
        replicas: n,
        ready,
        runs,
        wallMs: { median: round(median(samples.map((s) => s.ms))), min: round(Math.min(...samples.map((s) => s.ms))), max: round(Math.max(...samples.map((s) => s.ms))) },
        peakRssMB: round(Math.max(...samples.map((s) => s.rssKB)) / 1024),
        requests: requests.length === 1 ? requests[0] : requests,
      });
    }
    if (!flag('--no-sea') && namespaces.length) sea = seaStartup(namespaces[0], runs);
    if (!flag('--offline') && !flag('--no-realistic')) real = await realistic(id, runs, namespaces);
  } finally {
    if (!flag('--keep')) {
      for (const ns of namespaces) {
        if (ns.startsWith('bench-realistic-') || ns === value('--realistic-ns', '')) await dropRealistic(ns);
        else dropNamespace(ns);
      }
    }
  }

  const report = {
    command: 'node bin/sts-doctor.js diagnose quiz -n <ns> -o json',
    node: process.version,
    cpus: cpus().length,
    rssSource: GNU_TIME ? `${GNU_TIME} -f %M` : 'process.resourceUsage().maxRSS',
    date: new Date().toISOString(),
    target: TARGET,
    results,
    sea,
    dumps: dumpResults,
    realistic: real,
    serve: flag('--serve') ? await benchServe() : undefined,
  };
  const small = results.find((r) => r.replicas === TARGET.replicas);
  report.targetMet = small ? small.wallMs.median < TARGET.medianMs && small.peakRssMB < TARGET.peakRssMB : null;

  if (out) writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (flag('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const rows = [['REPLICAS', 'READY', 'RUNS', 'MEDIAN ms', 'MIN ms', 'MAX ms', 'PEAK RSS MB', 'REQUESTS']];
    for (const r of results) rows.push([r.replicas, r.ready, r.runs, r.wallMs.median, r.wallMs.min, r.wallMs.max, r.peakRssMB, r.requests].map(String));
    const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()}\n`);
    if (sea) printSea(sea);
    if (real) printRealistic(real);
    if (report.serve) process.stdout.write(`\n${printServe(report.serve)}`);
    process.stdout.write(`\n${cpus().length} CPUs, Node ${process.version}; target for ${TARGET.replicas} replicas: median < ${TARGET.medianMs} ms, peak RSS < ${TARGET.peakRssMB} MB: ${report.targetMet === null ? 'not measured' : report.targetMet ? 'met' : 'NOT met'}\n`);
    if (dumpResults.length) {
      const drows = [['DUMP (offline)', 'SIZE MB', 'RUNS', 'MEDIAN ms', 'MAX ms', 'PEAK RSS MB', 'EXIT']];
      for (const r of dumpResults) drows.push([r.dump, r.sizeMB, r.runs, r.wallMs.median, r.wallMs.max, r.peakRssMB, r.exit].map(String));
      const dw = drows[0].map((_, i) => Math.max(...drows.map((row) => row[i].length)));
      process.stdout.write('\n');
      for (const row of drows) process.stdout.write(`${row.map((c, i) => c.padEnd(dw[i])).join('  ').trimEnd()}\n`);
    }
    if (!out) process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
  }
  return report.targetMet === false || (report.serve && !serveGoalsMet(report.serve)) ? 1 : 0;
}

process.exitCode = await main();
