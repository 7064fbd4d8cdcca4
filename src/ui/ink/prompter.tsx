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

/** Renders `make(done)` until it calls `done(answer)`, then unmounts and returns the answer. */
export async function ask<T>(make: (done: (answer: T) => void) => ReactElement): Promise<T> {
  let resolve!: (v: T) => void;
  const answer = new Promise<T>((r) => (resolve = r));
  const app = render(make((v) => resolve(v)), { stdout: process.stderr, stdin: process.stdin, exitOnCtrlC: false, patchConsole: false });
  const v = await answer;
  // Let the final frame render before unmounting.
  await new Promise((r) => setTimeout(r, 20));
  app.unmount();
  await app.waitUntilExit();
  return v;
}

/** The label of a finding in the list: severity, rule, subject and summary. */
export function findingLabel(f: Finding): string {
  return `${f.severity.toUpperCase()} ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`;
}

export class InkPrompter implements Prompter {
  readonly interactive = true;

  async chooseFinding(findings: Finding[]): Promise<Finding | undefined> {
    const i = await ask<number | undefined>((done) => <Select message="Which problem do you want to fix?" items={findings.map((f) => ({ label: findingLabel(f), hint: f.explanation.slice(0, 200) }))} onDone={done} />);
    return i === undefined ? undefined : findings[i];
  }

  async chooseRecovery(finding: Finding, options: RecoveryOption[]): Promise<RecoveryOption | undefined> {
    if (options.length === 0) return undefined;
    const i = await ask<number | undefined>((done) => (
      <Select
        message={`How do you want to recover from ${finding.rule} ${finding.subject.name}?`}
        items={options.map((o) => ({ label: `${o.title}${o.automated ? '' : ' (manual steps)'}`, hint: o.description }))}
        onDone={done}
      />
    ));
    return i === undefined ? undefined : options[i];
  }

  showPlan(planText: string): Promise<boolean> {
    return ask<boolean>((done) => <Confirm body={planText} message="Go on with this plan?" onDone={done} />);
  }

  confirm(question: string): Promise<boolean> {
    return ask<boolean>((done) => <Confirm message={question} onDone={done} />);
  }

  confirmName(question: string, name: string): Promise<boolean> {
    return ask<boolean>((done) => <TypeName message={`${question}:`} name={name} onDone={done} />);
  }
}
