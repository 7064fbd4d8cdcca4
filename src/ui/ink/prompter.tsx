/**
 * The ink Prompter: each question is an async function over a short-lived ink render on
 * stderr (stdout keeps the plan and the outcome), so the business code never sees React.
 * Loaded only by createPrompter on a TTY (dynamic import), never on a headless run.
 */
import { render } from 'ink';
import type { ReactElement } from 'react';
import type { Finding, RecoveryOption } from '../../rules/types.js';
import type { Prompter } from '../prompter.js';
import { Confirm, Select, TypeName } from './components.js';
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

export class InkPrompter implements Prompter {
  readonly interactive = true;

  async chooseFinding(findings: Finding[]): Promise<Finding | undefined> {
    const i = await ask<number | undefined>(
      (done) => <Select message="Which problem do you want to fix?" items={findings.map((f) => ({ label: findingLabel(f), hint: t(f.explanation.slice(0, 200)) }))} onDone={done} />,
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

  confirm(question: string): Promise<boolean> {
    return ask<boolean>(
      (done) => <Confirm message={t(question)} onDone={done} />,
      (a) => `${a ? '✔' : '✖'} ${question} ${a ? 'yes' : 'no'}`,
    );
  }

  confirmName(question: string, name: string): Promise<boolean> {
    return ask<boolean>(
      (done) => <TypeName message={t(`${question}:`)} name={t(name)} onDone={done} />,
      (a) => `${a ? '✔' : '✖'} ${question}: ${a ? name : 'not confirmed'}`,
    );
  }
}
