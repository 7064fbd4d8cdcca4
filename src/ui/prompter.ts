/**
 * The Prompter: every question `sts-doctor recover` asks goes through this interface, so the
 * business code never sees React. On a terminal (stdin and stderr) the ink implementation
 * (src/ui/ink/) is loaded lazily — a headless run never loads ink or React. Without one the
 * policy is deny by default: nothing is asked, and nothing is written unless `--yes` was passed
 * together with `--action`.
 */
import isInCi from 'is-in-ci';
import type { Finding, RecoveryOption } from '../rules/types.js';
import type { Confirmation } from '../recovery/plan.js';

/** The questions of the recovery flow. Every method resolves `undefined`/`false` when the user cancels (Esc, Ctrl+C). */
export interface Prompter {
  /** True when a person answers (a TTY). */
  readonly interactive: boolean;
  /** Pick the finding to act on. */
  chooseFinding(findings: Finding[]): Promise<Finding | undefined>;
  /** Pick one of the finding's recoveries. */
  chooseRecovery(finding: Finding, options: RecoveryOption[]): Promise<RecoveryOption | undefined>;
  /** Show the plan of manual steps (plain text) and ask whether to wait for them. */
  showPlan(planText: string): Promise<boolean>;
  /**
   * Show the plan (plain text) and ask its one confirmation: a yes/no question, or the object's
   * name to type (destructive actions).
   */
  confirmPlan(planText: string, confirm: Confirmation): Promise<boolean>;
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
  async confirmPlan(): Promise<boolean> {
    return this.yes;
  }
}

/** The streams whose terminals decide whether a person can answer. */
export interface TerminalStreams {
  stdin: { isTTY?: boolean };
  stderr: { isTTY?: boolean };
  stdout?: { isTTY?: boolean };
}

/**
 * True when stdin and stderr are terminals (the prompts are read from stdin and drawn on stderr,
 * so `sts-doctor recover quiz | tee log` still asks; stdout does not count) and this is not a
 * CI run (`CI` / `CONTINUOUS_INTEGRATION` set, as ink detects it: ink would not redraw its
 * prompts there).
 */
export function isInteractive(streams: TerminalStreams = process, ci: boolean = isInCi): boolean {
  return Boolean(streams.stdin.isTTY && streams.stderr.isTTY) && !ci;
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
