/**
 * The rollout report: what `sts-doctor rollout -o json` prints (README, "Rollout report"), and
 * its text, JUnit and GitHub renderings. Every cluster-provided text passes through
 * report/sanitize.ts before it reaches a terminal, an XML document or a workflow command.
 */
import { DIAGNOSIS_API_VERSION, type FailureClass } from '../diagnosis.js';
import type { Evidence, ObjectRef } from '../rules/types.js';
import { sanitizeDeep, sanitizeText } from '../report/sanitize.js';

/** How a rollout ended; each has one exit code (README, "Exit codes of rollout"). */
export type RolloutOutcome =
  /** Every step done, every replica on the new revision, Running and Ready (exit 0). */
  | 'rolled-out'
  /** `--dry-run=server`: every step's call accepted by the server, nothing written (exit 0). */
  | 'dry-run'
  /** Aborted, rolled back, healthy again (exit 1). */
  | 'rolled-back'
  /** Aborted, and the rollback did not heal it or was not done (exit 4). */
  | 'aborted'
  /** Refused before writing, or the StatefulSet changed under the rollout (409, another template): nothing more written (exit 3). */
  | 'refused'
  /** Ctrl+C: the record stays; a rerun resumes (exit 130). */
  | 'interrupted';

/** One step of the rollout (step 0 is the canary). */
export interface RolloutStepReport {
  step: number;
  partition: number;
  /** Replicas on the new revision once the step is done. */
  updatedReplicas: number;
  outcome: 'done' | 'aborted' | 'interrupted' | 'refused' | 'dry-run' | 'pending';
  started?: string;
  finished?: string;
}

/** The finding a rollout was aborted on, with its class and evidence, as `diagnose` shows it. */
export interface AbortReport {
  /** `permanent-finding`: a permanent failure of a replica on the new revision; `progress-deadline`: a step did not finish within --progress-deadline. */
  reason: 'permanent-finding' | 'progress-deadline';
  at: string;
  finding?: { rule: string; subject: ObjectRef; summary: string; class?: FailureClass; evidence: Evidence[] };
  /**
   * The first failure of the new revision: the finding's earliest evidence time (an event's), or
   * when a watch round first saw a failure of the new revision, whichever is earlier. Present
   * whenever `finding` is.
   */
  firstFailureAt?: string;
}

/** The rollback after an abort. */
export interface RollbackReport {
  toRevision: string;
  /** Pods deleted because they were not Ready and not on `toRevision` (kubernetes#67250). */
  deletedPods: string[];
  started: string;
  healthy: boolean;
  /** When the StatefulSet was seen healthy again. */
  healthyAt?: string;
}

/** One line of the timeline: what happened when. */
export interface TimelineEntry {
  time: string;
  /** Seconds since the run started. */
  seconds: number;
  event: string;
}

/** The document `rollout -o json` prints. */
export interface RolloutReport {
  apiVersion: typeof DIAGNOSIS_API_VERSION;
  kind: 'RolloutReport';
  statefulSet: { namespace: string; name: string; uid?: string };
  outcome: RolloutOutcome;
  exitCode: number;
  /** One sentence: what happened. */
  message: string;
  resumed: boolean;
  fromRevision?: string;
  toRevision?: string;
  partitionBefore?: number;
  steps: RolloutStepReport[];
  abort?: AbortReport;
  rollback?: RollbackReport;
  timeline: TimelineEntry[];
}

/** Text rendering: the outcome sentence, the steps, the abort's finding with its evidence, the timeline. */
export function renderRolloutText(r: RolloutReport): string {
  const lines = [`${r.message}`];
  if (r.steps.length) {
    lines.push('Steps:');
    for (const s of r.steps) lines.push(`  ${s.step + 1}. partition ${s.partition} (${s.updatedReplicas} on the new revision): ${s.outcome}`);
  }
  if (r.abort?.finding) {
    const f = r.abort.finding;
    lines.push(`Aborted on: ${f.rule} ${f.subject.kind}/${f.subject.name}${f.class ? ` (${f.class.cause}, ${f.class.permanent ? 'permanent' : 'transient'})` : ''}: ${f.summary}`);
    for (const e of f.evidence) lines.push(`  • ${e.object.kind}/${e.object.name} ${e.label}: ${e.text}`);
  }
  if (r.rollback) lines.push(`Rollback to ${r.rollback.toRevision}: ${r.rollback.deletedPods.length ? `deleted ${r.rollback.deletedPods.join(', ')}; ` : ''}${r.rollback.healthy ? 'healthy again' : 'not healthy'}.`);
  if (r.timeline.length) {
    lines.push('Timeline:');
    for (const t of r.timeline) lines.push(`  [${t.seconds}s] ${t.time} ${t.event}`);
  }
  return sanitizeText(lines.join('\n')) + '\n';
}

/** The report as JSON (cluster text neutralised). */
export function renderRolloutJson(r: RolloutReport): string {
  return JSON.stringify(sanitizeDeep(r), null, 2) + '\n';
}

function esc(s: string): string {
  return sanitizeText(s, false).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JUnit: one testcase per step (failed for the step that aborted), and one for the rollback. */
export function renderRolloutJunit(r: RolloutReport): string {
  const cls = esc(`${r.statefulSet.namespace}.${r.statefulSet.name}`);
  const cases: string[] = [];
  let failures = 0;
  for (const s of r.steps) {
    const name = esc(`step ${s.step + 1}: partition ${s.partition} (${s.updatedReplicas} updated)`);
    if (s.outcome === 'aborted' || s.outcome === 'refused' || s.outcome === 'interrupted') {
      failures++;
      const f = r.abort?.finding;
      const body = f ? `${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}\n${f.evidence.map((e) => `  ${e.object.kind}/${e.object.name} ${e.label}: ${e.text}`).join('\n')}` : r.message;
      cases.push(`    <testcase classname="${cls}" name="${name}">\n      <failure message="${esc(f?.summary ?? r.message)}" type="${esc(s.outcome)}">${esc(body)}</failure>\n    </testcase>`);
    } else if (s.outcome === 'pending') cases.push(`    <testcase classname="${cls}" name="${name}">\n      <skipped />\n    </testcase>`);
    else cases.push(`    <testcase classname="${cls}" name="${name}" />`);
  }
  if (r.rollback) {
    const name = esc(`rollback to ${r.rollback.toRevision}`);
    if (r.rollback.healthy) cases.push(`    <testcase classname="${cls}" name="${name}" />`);
    else {
      failures++;
      cases.push(`    <testcase classname="${cls}" name="${name}">\n      <failure message="${esc('the rollback did not heal the StatefulSet')}" type="rollback">${esc(r.message)}</failure>\n    </testcase>`);
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sts-doctor rollout" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="${esc(`rollout ${r.statefulSet.namespace}/${r.statefulSet.name}`)}" tests="${cases.length}" failures="${failures}" errors="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** GitHub Actions workflow commands: a notice per finished step, an error for the abort, the outcome last. */
export function renderRolloutGithub(r: RolloutReport): string {
  const enc = (s: string): string => sanitizeText(s, false).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string): string => enc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const title = prop(`sts-doctor rollout ${r.statefulSet.namespace}/${r.statefulSet.name}`);
  const lines = r.steps.filter((s) => s.outcome === 'done').map((s) => `::notice title=${title}::${enc(`step ${s.step + 1}: partition ${s.partition}, ${s.updatedReplicas} replica(s) on the new revision`)}`);
  const f = r.abort?.finding;
  if (f) lines.push(`::error title=${title}::${enc(`aborted on ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}\n${f.evidence.map((e) => `${e.object.kind}/${e.object.name} ${e.label}: ${e.text}`).join('\n')}`)}`);
  lines.push(`::${r.exitCode === 0 ? 'notice' : 'error'} title=${title}::${enc(r.message)}`);
  return lines.join('\n') + '\n';
}
