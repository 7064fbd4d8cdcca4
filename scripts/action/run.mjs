// The GitHub Action's step (action.yml): the CI gate with annotations, a job summary and outputs.
//
//   1. `sts-doctor wait [name] -n <ns> [-l <sel>] --timeout <t> -o github [--kubeconfig <f>]`, its
//      stdout (the `::error` / `::warning` / `::notice` workflow commands) and stderr (progress)
//      passed through, so findings become annotations on the run;
//   2. when wait answered (exit 0 or 1), `sts-doctor diagnose ... -o json` once more: the job
//      summary (Markdown, appended to $GITHUB_STEP_SUMMARY: per StatefulSet its per-replica table,
//      then the findings, root causes first) and the outputs are built from that JSON;
//   3. outputs in $GITHUB_OUTPUT: exit-code, healthy, critical, warning, rules, diagnosis (the JSON file);
//   4. exits with wait's exit code (0 healthy, 1 not healthy, 2 error).
//
// Inputs come from the environment, as action.yml passes them: INPUT_NAME, INPUT_NAMESPACE,
// INPUT_SELECTOR, INPUT_TIMEOUT, INPUT_KUBECONFIG (empty: the runner's KUBECONFIG or
// ~/.kube/config). STS_DOCTOR_BIN is the executable (default `sts-doctor` on PATH). Outside GitHub,
// point GITHUB_STEP_SUMMARY and GITHUB_OUTPUT at files (unset: the summary and outputs are skipped).
// No dependencies: Node's standard library only. Every text from the cluster goes through md() or
// cell() before it reaches the Markdown.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const input = (name) => (process.env[`INPUT_${name.toUpperCase()}`] ?? '').trim();
const bin = process.env.STS_DOCTOR_BIN || 'sts-doctor';

/** The connection and selection flags shared by wait and diagnose. */
function targetArgs() {
  const args = [];
  if (input('name')) args.push(input('name'));
  if (input('namespace')) args.push('-n', input('namespace'));
  if (input('selector')) args.push('-l', input('selector'));
  if (input('kubeconfig')) args.push('--kubeconfig', input('kubeconfig'));
  return args;
}

/**
 * Runs sts-doctor; stdout/stderr are passed through (`passthrough`) or captured.
 * @returns {Promise<{ code: number, stdout: string, stderrTail: string }>} code 2 when it could not run
 */
function run(args, passthrough) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (passthrough ? process.stdout.write(d) : (stdout += d)));
    child.stderr.on('data', (d) => {
      if (passthrough) process.stderr.write(d);
      stderr = (stderr + d).slice(-4096);
    });
    child.on('error', (err) => resolve({ code: 2, stdout, stderrTail: `sts-doctor could not be started (${bin}): ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 2, stdout, stderrTail: stderr.trim().split('\n').pop() ?? '' }));
  });
}

/**
 * Cluster text for Markdown prose: control characters and newlines become spaces, and every
 * character Markdown or HTML gives a meaning to is backslash-escaped or entity-encoded, so a
 * pod's event message can never add a link, an image, a heading, a table cell or HTML.
 */
export function md(text, max = 300) {
  const flat = String(text ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_{}[\]()#+\-.!|~])/g, '\\$1');
}

/** md() for a table cell (shorter); empty cells show a dash. */
export const cell = (text, max = 120) => (text === undefined || text === null || text === '' ? '-' : md(text, max));

/** The Markdown job summary of a Diagnosis (sts-doctor.dev/v1 JSON) and wait's exit code. */
export function summaryMarkdown(d, code) {
  const verdict = code === 0 ? '✅ healthy' : '❌ not healthy';
  const out = [`## sts-doctor: ${verdict}`, ''];
  const s = d.summary;
  out.push(`${s.statefulSets} StatefulSet(s), ${s.healthy} healthy; ${s.critical} critical, ${s.warning} warning, ${s.info} info. Diagnosed at ${cell(d.now)}; \`sts-doctor wait\` exited with ${code}.`, '');
  for (const sts of d.statefulSets) {
    out.push(`### StatefulSet ${md(sts.namespace)}/${md(sts.name)}: ${sts.replicas.ready}/${sts.replicas.desired} ready${sts.replicas.condemned ? `, ${sts.replicas.condemned} condemned` : ''}, ${sts.healthy ? 'healthy' : 'unhealthy'}`, '');
    out.push('| Ordinal | Pod | Status | Ready | Node | PVC | Last event |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of sts.table ?? []) {
      const claims = r.claims.map((c) => `${c.name} ${c.phase}`).join(', ');
      const ev = r.event ? `${r.event.type} ${r.event.reason}: ${r.event.message}` : '';
      out.push(`| ${r.ordinal} | ${r.exists ? cell(r.pod) : `(${cell(r.pod)})`} | ${cell(r.status)} | ${cell(r.readyContainers)} | ${cell(r.node)} | ${cell(claims)} | ${cell(ev)} |`);
    }
    out.push('');
  }
  const findings = d.findings.filter((f) => f.severity !== 'info');
  if (findings.length) {
    out.push('### Root causes first', '');
    for (const f of findings) {
      const where = `${f.statefulSet.namespace ?? d.namespace}/${f.statefulSet.name}`;
      out.push(`- **${f.severity.toUpperCase()} ${md(f.rule)}** ${md(f.subject.kind)}/${md(f.subject.name)} (StatefulSet ${md(where)}): ${md(f.summary)}`);
      const fix = f.recoveries?.[0];
      if (fix) out.push(`  - Recovery: ${md(fix.title)}`);
    }
    out.push('');
  }
  if (d.gaps?.length) {
    out.push('### Not checked', '');
    for (const g of d.gaps) out.push(`- ${md(g.resource)}: ${md(g.reason)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** `name=value` lines for $GITHUB_OUTPUT (values are single-line by construction). */
function outputLines(values) {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}\n`)
    .join('');
}

async function main() {
  const timeout = input('timeout') || '5m';
  const wait = await run(['wait', ...targetArgs(), '--timeout', timeout, '-o', 'github'], true);
  const outputs = { 'exit-code': wait.code, healthy: wait.code === 0, critical: 0, warning: 0, rules: '', diagnosis: '' };
  let summary;
  if (wait.code === 0 || wait.code === 1) {
    const diag = await run(['diagnose', ...targetArgs(), '-o', 'json'], false);
    if (diag.code === 0 || diag.code === 1) {
      const d = JSON.parse(diag.stdout);
      const file = join(process.env.RUNNER_TEMP || mkdtempSync(join(tmpdir(), 'sts-doctor-')), 'sts-doctor-diagnosis.json');
      writeFileSync(file, diag.stdout);
      Object.assign(outputs, {
        critical: d.summary.critical,
        warning: d.summary.warning,
        rules: [...new Set(d.findings.filter((f) => f.severity !== 'info').map((f) => f.rule))].join(','),
        diagnosis: file,
      });
      summary = summaryMarkdown(d, wait.code);
    } else summary = `## sts-doctor: ❌ not healthy\n\nThe final diagnosis could not be read: ${md(diag.stderrTail)}\n`;
  } else summary = `## sts-doctor: ⚠️ error (exit ${wait.code})\n\n${md(wait.stderrTail)}\n`;
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary);
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, outputLines(outputs));
  return wait.code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
