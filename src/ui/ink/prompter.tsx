/**
 * The ink Prompter: each question is an async function over a short-lived ink render on
 * stderr (stdout keeps the plan and the outcome), so the business code never sees React.
 * Loaded only by createPrompter on a TTY (dynamic import), never on a headless run.
 */
import { render } from 'ink';
import type { ReactElement } from 'react';
import type { Finding, RecoveryOption } from '../../rules/types.js';
import type { Confirmation } from '../../recovery/plan.js';
import type { Prompter } from '../prompter.js';
import { Confirm, Select, TypeName, type SelectItem } from './components.js';
import { sanitizeText as t } from '../../report/sanitize.js';

/**
 * Renders `make(done)` on stderr until it calls `done(answer)`, then erases the prompt, unmounts,
 * writes `summary(answer)` (one line, if given) in its place, and returns the answer.
 */
export async function ask<T>(make: (done: (answer: T) => void) => ReactElement, summary?: (answer: T) => string | undefined): Promise<T> {
  let resolve!: (v: T) => void;
  const answer = new Promise<T>((r) => (resolve = r));
  const app = render(make((v) => resolve(v)), { stdout: process.stderr, stdin: process.stdin, exitOnCtrlC: false, patchConsole: false });
  const v = await answer;
  app.clear();
  app.unmount();
  await app.waitUntilExit();
  const line = summary?.(v);
  if (line) process.stderr.write(`${t(line)}\n`);
  return v;
}

/** The label of a finding in the list: severity, rule, subject and summary (sanitised: cluster text). */
export function findingLabel(f: Finding): string {
  return t(`${f.severity.toUpperCase()} ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`, false);
}

/**
 * A finding as an entry of the picker: its label, and its whole explanation as the hint (the
 * picker wraps it to the terminal's width; a finding's texts are bounded when it is built).
 */
export function findingItem(f: Finding): SelectItem {
  return { label: findingLabel(f), hint: t(f.explanation) };
}

/** What stays above an answered question: the plan and a line break, or nothing. */
const above = (planText: string): string => (planText.trim() ? `${planText.trimEnd()}\n` : '');

export class InkPrompter implements Prompter {
  readonly interactive = true;

  async chooseFinding(findings: Finding[]): Promise<Finding | undefined> {
    const i = await ask<number | undefined>(
      (done) => <Select message="Which problem do you want to fix?" items={findings.map(findingItem)} onDone={done} />,
      (a) => (a === undefined ? undefined : `✔ Problem: ${findingLabel(findings[a]!)}`),
    );
    return i === undefined ? undefined : findings[i];
  }

  async chooseRecovery(finding: Finding, options: RecoveryOption[]): Promise<RecoveryOption | undefined> {
    if (options.length === 0) return undefined;
    const i = await ask<number | undefined>(
      (done) => (
        <Select
          message={t(`How do you want to recover from ${finding.rule} ${finding.subject.name}?`)}
          items={options.map((o) => ({ label: t(`${o.title}${o.automated ? '' : ' (manual steps)'}`, false), hint: t(o.description) }))}
          onDone={done}
        />
      ),
      (a) => (a === undefined ? undefined : `✔ Recovery: ${options[a]!.title}`),
    );
    return i === undefined ? undefined : options[i];
  }

  showPlan(planText: string): Promise<boolean> {
    // The plan stays on the screen after the answer: it is what was agreed to.
    return ask<boolean>(
      (done) => <Confirm body={t(planText)} message="Go on with this plan?" onDone={done} />,
      (a) => `${planText.trimEnd()}\n${a ? '✔' : '✖'} Go on with this plan? ${a ? 'yes' : 'no'}`,
    );
  }

  /** Asks `confirm` below `planText` (none when empty: a question of its own, e.g. rollout's rollback). */
  confirmPlan(planText: string, confirm: Confirmation): Promise<boolean> {
    // One question per plan, below the plan, which stays on the screen: it is what was agreed to.
    if (confirm.type === 'name')
      return ask<boolean>(
        (done) => <TypeName body={t(planText)} message={t(`${confirm.question}:`)} name={t(confirm.name)} onDone={done} />,
        (a) => `${above(planText)}${a ? '✔' : '✖'} ${confirm.question}: ${a ? confirm.name : 'not confirmed'}`,
      );
    return ask<boolean>(
      (done) => <Confirm body={t(planText)} message={t(confirm.question)} onDone={done} />,
      (a) => `${above(planText)}${a ? '✔' : '✖'} ${confirm.question} ${a ? 'yes' : 'no'}`,
    );
  }
}
