/**
 * JUnit XML for CI dashboards: one <testsuite> per StatefulSet; one <testcase> per rule that
 * ran, failed when the rule has a finding (critical/warning: <failure>; info: passes with
 * <system-out>). Healthy StatefulSets yield all-passing suites.
 */
import type { Diagnosis } from '../diagnosis.js';
import { RULES } from '../rules/registry.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders the diagnosis as a JUnit XML document. */
export function renderJunit(d: Diagnosis): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  let failures = 0;
  const suites: string[] = [];
  for (const s of d.statefulSets) {
    const cases: string[] = [];
    let suiteFailures = 0;
    for (const rule of RULES) {
      const found = d.findings.filter((f) => f.rule === rule.id && f.statefulSet.name === s.name && (f.statefulSet.namespace ?? d.namespace) === s.namespace);
      const bad = found.filter((f) => f.severity !== 'info');
      const body = found
        .map((f) => `${f.severity.toUpperCase()} ${f.subject.kind}/${f.subject.name}: ${f.summary}\n${f.explanation}\n${f.evidence.map((e) => `  ${e.object.kind}/${e.object.name} ${e.label}: ${e.text}`).join('\n')}`)
        .join('\n\n');
      let tc = `    <testcase classname="${esc(`${s.namespace}.${s.name}`)}" name="${esc(rule.id)}"`;
      if (bad.length) {
        suiteFailures++;
        tc += `>\n      <failure message="${esc(bad[0]!.summary)}" type="${esc(bad[0]!.severity)}">${esc(body)}</failure>\n    </testcase>`;
      } else if (found.length) {
        tc += `>\n      <system-out>${esc(body)}</system-out>\n    </testcase>`;
      } else tc += ' />';
      cases.push(tc);
    }
    failures += suiteFailures;
    suites.push(`  <testsuite name="${esc(`StatefulSet ${s.namespace}/${s.name}`)}" tests="${cases.length}" failures="${suiteFailures}" errors="0" timestamp="${esc(d.now)}">\n${cases.join('\n')}\n  </testsuite>`);
  }
  out.push(`<testsuites name="sts-doctor" tests="${d.statefulSets.length * RULES.length}" failures="${failures}">`);
  out.push(...suites);
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/**
 * GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding. A
 * finding that is only a consequence of another (`causedBy`) is a `::notice` naming its cause, so
 * that the run shows one error per root cause (the exit code still counts every finding).
 */
export function renderGithub(d: Diagnosis): string {
  const enc = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string): string => enc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const lines = d.findings.map((f) => {
    const level = f.causedBy ? 'notice' : f.severity === 'critical' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
    const cause = f.causedBy ? ` (caused by ${f.causedBy.rule} ${f.causedBy.subject.kind}/${f.causedBy.subject.name})` : '';
    return `::${level} title=${prop(`sts-doctor ${f.rule} ${f.statefulSet.namespace ?? d.namespace}/${f.statefulSet.name}${cause}`)}::${enc(`${f.summary}\n${f.evidence.map((e) => `${e.object.kind}/${e.object.name} ${e.label}: ${e.text}`).join('\n')}`)}`;
  });
  const healthy = d.statefulSets.filter((s) => s.healthy).length;
  lines.push(`sts-doctor: ${healthy}/${d.statefulSets.length} StatefulSets healthy, ${d.summary.critical} critical, ${d.summary.warning} warning, ${d.summary.info} info`);
  return `${lines.join('\n')}\n`;
}
