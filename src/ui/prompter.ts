/**
 * The Prompter: every question `sts-doctor recover` asks goes through this interface, so the
 * business code never sees React. On a TTY the ink implementation (src/ui/ink/) is loaded
 * lazily — a headless run never loads ink or React. Without a TTY the policy is deny by default:
 * nothing is asked, and nothing is written unless `--yes` was passed together with `--action`.
 */
import isInCi from 'is-in-ci';
import type { Finding, RecoveryOption } from '../rules/types.js';

/** The questions of the recovery flow. Every method resolves `undefined`/`false` when the user cancels (Esc, Ctrl+C). */
export interface Prompter {
  /** True when a person answers (a TTY). */
  readonly interactive: boolean;
  /** Pick the finding to act on. */
  chooseFinding(findings: Finding[]): Promise<Finding | undefined>;
  /** Pick one of the finding's recoveries. */
  chooseRecovery(finding: Finding, options: RecoveryOption[]): Promise<RecoveryOption | undefined>;
  /** Show the plan (plain text) and ask whether to go on. */
  showPlan(planText: string): Promise<boolean>;
  /** A plain yes/no question. */
  confirm(question: string): Promise<boolean>;
  /** Ask the user to type `name` exactly (destructive actions). */
  confirmName(question: string, name: string): Promise<boolean>;
}

/**
 * The non-interactive policy: no question is ever asked. Choices are refused; confirmations are
 * granted only when `yes` (the user passed `--yes` with an explicit `--action`).
 */
export class NonInteractivePrompter implements Prompter {
  readonly interactive = false;
  constructor(private readonly yes: boolean) {}
  async chooseFinding(): Promise<Finding | undefined> {
    return undefined;
  }
  async chooseRecovery(): Promise<RecoveryOption | undefined> {
    return undefined;
  }
  async showPlan(): Promise<boolean> {
    return this.yes;
  }
  async confirm(): Promise<boolean> {
    return this.yes;
  }
  async confirmName(): Promise<boolean> {
    return this.yes;
  }
}

/**
 * True when both stdin and stdout are terminals (a person can answer) and this is not a CI run
 * (`CI` / `CONTINUOUS_INTEGRATION` set, as ink detects it: ink would not redraw its prompts there).
 */
export function isInteractive(stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout, ci: boolean = isInCi): boolean {
  return Boolean(stdin.isTTY && stdout.isTTY) && !ci;
}

/**
 * The prompter for this run: ink on a TTY (loaded by dynamic import, only then), else the
 * deny-by-default policy.
 */
export async function createPrompter(opts: { interactive: boolean; yes: boolean }): Promise<Prompter> {
  if (!opts.interactive) return new NonInteractivePrompter(opts.yes);
  const { InkPrompter } = await import('./ink/prompter.js');
  return new InkPrompter();
}
