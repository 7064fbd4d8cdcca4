// End to end through a real terminal: `sts-doctor recover quiz` in a tmux pane, driven with
// send-keys (and paste-buffer, for a paste) and read with capture-pane, against the real control
// plane. Skipped only when tmux is not installed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeconfigPath, repoRoot } from '../scenarios/cluster.mjs';
import { deleteNamespace, isReady, quizPods } from '../scenarios/quiz.mjs';
import { deployStalled, fixReadinessTemplate, objectVersions, recoveryEvents } from '../scenarios/recovery.mjs';
import { namespaceFor } from './helpers.js';
import { hasTmux, tmuxSession } from './tmux.js';

const session = `sts-doctor-recovery-${process.pid}`;
const term = tmuxSession(session, 220, 60);
const created: string[] = [];

/** The pane's text, wrapped lines joined. */
const screen = (): string => term.history();

const work = mkdtempSync(join(tmpdir(), 'sts-doctor-tty-'));

/**
 * Runs `recover quiz` in a new tmux pane (bash), as a person at a terminal: not a CI run
 * (sts-doctor, like ink, never prompts under CI=...). `extra` is appended to the command line
 * (e.g. `| tee FILE`); the exit code of sts-doctor is printed as EXIT=N.
 */
function start(ns: string, extra = ''): void {
  const script = join(work, `run-${ns}.sh`);
  writeFileSync(
    script,
    `cd ${repoRoot}\nenv -u CI -u CONTINUOUS_INTEGRATION KUBECONFIG=${kubeconfigPath()} NO_COLOR=1 HOME=/nonexistent XDG_STATE_HOME=${work} node ${join('bin', 'sts-doctor.js')} recover quiz -n ${ns} --timeout 120s ${extra}\necho EXIT=\${PIPESTATUS[0]}\nsleep 600\n`,
  );
  term.start(`bash ${script}`);
}

const paste = (text: string): void => term.paste(text);
const keys = (...k: string[]): string => term.keys(...k);
const until = (what: string, re: RegExp, timeoutMs = 60_000): Promise<string> => term.until(what, re, timeoutMs, 'history');

/** Presses Down until the selected line (❯) of the list below `header` matches `re`. */
async function select(header: RegExp, re: RegExp): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const lines = screen().split('\n');
    const start = lines.map((l) => header.test(l)).lastIndexOf(true);
    const selected = lines.slice(start).find((l) => l.includes('❯'));
    if (selected && re.test(selected)) return;
    keys('Down');
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`no entry matching ${re} under ${header}:\n${screen()}`);
}

afterAll(() => {
  if (hasTmux) term.kill();
  if (!process.env.STS_DOCTOR_KEEP_NAMESPACES) for (const ns of created) deleteNamespace(ns);
});

describe.skipIf(!hasTmux)('recover through a real terminal (tmux)', () => {
  it('| tee keeps the prompts; Esc cancels with nothing written; then pick the root cause, read the plan, answer its one question with a pasted "y" and a newline: all 3 Ready; the audit log goes to its file', async () => {
    const ns = namespaceFor('recovery-tty');
    created.push(ns);
    await deployStalled(ns);
    fixReadinessTemplate(ns);
    const before = objectVersions(ns);

    // stdout piped to tee: the prompts are drawn on stderr, so they are still shown.
    const log = join(work, 'tee.log');
    start(ns, `| tee ${log}`);
    await until('the finding list', /Which problem do you want to fix\?/);
    keys('Escape');
    const cancelled = await until('the exit', /EXIT=\d/);
    expect(cancelled).toContain('Cancelled: nothing was written.');
    expect(cancelled).toContain('EXIT=1');
    expect(readFileSync(log, 'utf8')).toContain('Cancelled: nothing was written.');
    expect(objectVersions(ns)).toEqual(before);
    term.kill();

    start(ns);
    await until('the finding list', /Which problem do you want to fix\?/);
    // One entry per root cause: the readiness probe of quiz-0, with the stall it causes folded under it.
    await select(/Which problem do you want to fix\?/, /probe-failing Pod\/quiz-0/);
    keys('Enter');
    await until('the recovery list', /How do you want to recover from probe-failing quiz-0\?/);
    await select(/How do you want to recover/, /Delete pod quiz-0/);
    keys('Enter');
    // One question per plan: the plan's own, below the plan.
    const plan = await until('the plan and its question', /Delete pod quiz-0\? \(y\/N/);
    expect(plan).toContain('Plan: Delete pod quiz-0 so it is recreated from the current template');
    expect(plan).toMatch(/DELETE \/api\/v1\/namespaces\/\S+\/pods\/quiz-0/);
    expect(plan).not.toContain('Go on with this plan?');
    paste('y\n');
    const done = await until('the exit', /EXIT=\d/, 150_000);
    expect(done).toMatch(/✔ Delete pod quiz-0\? yes/);
    expect(done).toMatch(/StatefulSet \S+\/quiz is healthy: 3\/3 ready/);
    expect(done).toContain('EXIT=0');
    // The audit log: its path named once, no JSON on the terminal, the dry run and the delete in the file.
    const auditFile = join(work, 'sts-doctor', 'audit.log');
    expect(done.split(`audit log: ${auditFile}`)).toHaveLength(2);
    expect(done).not.toContain('"recovery":');
    const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dryRun: boolean; method: string; result: string });
    expect(audit.filter((a) => a.method === 'DELETE').map((a) => [a.dryRun, a.result])).toEqual([
      [true, 'ok'],
      [false, 'ok'],
    ]);
    const pods = quizPods(ns);
    expect(Object.values(pods).filter((p) => isReady(p))).toHaveLength(3);
    expect(recoveryEvents(ns)).toHaveLength(1);
  });
});
