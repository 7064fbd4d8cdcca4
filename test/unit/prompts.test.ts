// Prompts that forgive (issue 12): the ink prompts as unstyled frames through
// ink-testing-library, whose stdin delivers each write as one chunk, as a terminal delivers a
// paste; the TTY policy; where the audit log goes.
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { displayWidth } from '../../src/report/layout.js';
import { Confirm, Select, TypeName } from '../../src/ui/ink/components.js';
import { findingItem } from '../../src/ui/ink/prompter.js';
import { auditLogPath, auditSink, auditTarget } from '../../src/recovery/audit.js';
import type { AuditRecord } from '../../src/recovery/execute.js';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInteractive } from '../../src/ui/prompter.js';
import { examplesDir, loadFixture } from './fixtures.js';
import { readdirSync } from 'node:fs';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 100));
const ESC = '\u001B';

/** Waits (up to `ms`, for a loaded machine) until `done()`. */
async function until(done: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await tick();
}

/** Renders TypeName, writes each chunk (as a terminal delivers a keypress or a paste), and waits for the answer (`answers`) or the question again. */
async function typeName(chunks: string[], name = 'quiz-1', answers = true) {
  let answer: boolean | undefined;
  const ui = render(createElement(TypeName, { message: `Type ${name}`, name, onDone: (v: boolean) => (answer = v) }));
  await tick();
  for (const c of chunks) {
    ui.stdin.write(c);
    await tick();
  }
  // Answered, or (a wrong name) asking again.
  await until(() => (answers ? answer !== undefined : (ui.lastFrame() ?? '').includes('tries left')));
  const frame = ui.lastFrame() ?? '';
  ui.unmount();
  return { answer, frame };
}

describe('TypeName forgives', () => {
  it('a paste with a trailing newline (LF, CR, CR LF) or surrounding spaces confirms', async () => {
    for (const paste of ['quiz-1\n', 'quiz-1\r', 'quiz-1\r\n', '  quiz-1 \t\r']) {
      const { answer } = await typeName([paste]);
      expect(answer, JSON.stringify(paste)).toBe(true);
    }
    // Typed, then Enter; pasted without a newline, then Enter.
    expect((await typeName([...'quiz-1', '\r'])).answer).toBe(true);
    expect((await typeName([' quiz-1 ', '\r'])).answer).toBe(true);
  });

  it('a wrong name asks again, saying what was typed and how many tries are left; the 3rd wrong one cancels', async () => {
    const once = await typeName(['quiz-2\r'], 'quiz-1', false);
    expect(once.answer).toBeUndefined();
    expect(once.frame).toContain('"quiz-2" is not quiz-1');
    expect(once.frame).toMatch(/2 tries left/);
    expect((await typeName(['quiz-2\r', 'quiz-1\r'])).answer).toBe(true);
    expect((await typeName(['quiz-2\r', 'quiz-3\r', 'quiz-1\r'])).answer).toBe(true);
    expect((await typeName(['quiz-2\r', 'quiz-3\r', 'quiz-4\r'])).answer).toBe(false);
    // An empty Enter is not a try.
    const empty = await typeName(['\r', '\r', '\r', 'quiz-1\r']);
    expect(empty.answer).toBe(true);
    // Esc still cancels at once.
    expect((await typeName(['quiz', ESC])).answer).toBe(false);
  });
});

describe('keys faster than a render', () => {
  it('a name typed one key at a time with no pause between keys keeps every key and confirms', async () => {
    let answer: boolean | undefined;
    const ui = render(createElement(TypeName, { message: 'Type db-data-quiz-1', name: 'db-data-quiz-1', onDone: (v: boolean) => (answer = v) }));
    await tick();
    for (const c of 'db-data-quiz-1') ui.stdin.write(c);
    await tick();
    expect(ui.lastFrame()).toContain('> db-data-quiz-1█');
    ui.stdin.write('\r');
    await tick();
    ui.unmount();
    expect(answer).toBe(true);
  });

  it('↓ then Enter with no pause chooses the item ↓ moved to', async () => {
    let chosen: number | undefined;
    const ui = render(createElement(Select, { message: 'Pick', items: [{ label: 'first' }, { label: 'second' }, { label: 'third' }], onDone: (i: number | undefined) => (chosen = i) }));
    await tick();
    ui.stdin.write('\u001B[B');
    ui.stdin.write('\u001B[B');
    ui.stdin.write('\r');
    await tick();
    ui.unmount();
    expect(chosen).toBe(2);
  });
});

describe('Confirm forgives', () => {
  it('a pasted "y" with a newline confirms; a pasted "n" or a lone Enter refuses', async () => {
    for (const [chunk, expected] of [
      ['y\n', true],
      ['y\r', true],
      [' yes\r\n', true],
      ['n\r', false],
      ['\r', false],
    ] as const) {
      let answer: boolean | undefined;
      const ui = render(createElement(Confirm, { message: 'Go on?', onDone: (v: boolean) => (answer = v) }));
      await tick();
      ui.stdin.write(chunk);
      await until(() => answer !== undefined);
      expect(answer, JSON.stringify(chunk)).toBe(expected);
      ui.unmount();
    }
  });
});

describe('picker hints wrap', () => {
  it("a finding's whole explanation is shown, wrapped at word boundaries to the terminal's width (not cut at 200 characters)", async () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));
    const findings = (await Promise.all(files.map(async (f) => diagnose(await loadFixture(f.replace(/\.yaml$/, ''))).findings))).flat();
    const long = findings.find((f) => f.explanation.length > 300)!;
    expect(long, 'an example with an explanation over 300 characters').toBeDefined();
    const ui = render(createElement(Select, { message: 'Which problem?', items: [findingItem(long)], onDone: () => undefined }));
    await tick();
    const frame = ui.lastFrame()!;
    ui.unmount();
    const words = long.explanation.trim().split(/\s+/);
    const shown = frame.split('\n').map((l) => l.trim()).join(' ');
    // Every word of the explanation, in order, none broken.
    expect(shown.replace(/\s+/g, ' ')).toContain(words.slice(-6).join(' '));
    expect(shown.replace(/\s+/g, ' ')).toContain(words.slice(0, 6).join(' '));
    // ink-testing-library's terminal is 100 columns wide.
    for (const l of frame.split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(100);
  });
});

describe('isInteractive', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it('asks when stdin and stderr are terminals, whatever stdout is (recover | tee log keeps the prompts)', () => {
    expect(isInteractive({ stdin: tty, stderr: tty, stdout: pipe }, false)).toBe(true);
    expect(isInteractive({ stdin: tty, stderr: tty, stdout: tty }, false)).toBe(true);
    expect(isInteractive({ stdin: tty, stderr: pipe, stdout: tty }, false)).toBe(false);
    expect(isInteractive({ stdin: pipe, stderr: tty, stdout: tty }, false)).toBe(false);
    expect(isInteractive({ stdin: tty, stderr: tty, stdout: tty }, true)).toBe(false);
  });
});

describe('audit log location', () => {
  it('$XDG_STATE_HOME/sts-doctor/audit.log, else ~/.local/state/sts-doctor/audit.log; a relative XDG_STATE_HOME is ignored (XDG spec)', () => {
    expect(auditLogPath({ XDG_STATE_HOME: '/var/state', HOME: '/home/a' })).toBe('/var/state/sts-doctor/audit.log');
    expect(auditLogPath({ HOME: '/home/a' })).toBe('/home/a/.local/state/sts-doctor/audit.log');
    expect(auditLogPath({ XDG_STATE_HOME: 'rel/dir', HOME: '/home/a' })).toBe('/home/a/.local/state/sts-doctor/audit.log');
    expect(auditLogPath({ XDG_STATE_HOME: '', HOME: '/home/a' })).toBe('/home/a/.local/state/sts-doctor/audit.log');
  });
});

describe('audit log destination', () => {
  const record = (step: number): AuditRecord => ({ time: 't', user: 'u', host: 'h', recovery: 'delete-pod', statefulSet: { name: 'quiz' }, step, title: 'Delete pod quiz-0', method: 'DELETE', path: '/api/v1/namespaces/demo/pods/quiz-0', dryRun: step === 1, result: 'ok' });

  it('on a terminal: the XDG file, created 0700/0600 and named once; without one: stderr; --audit-log - : stderr; --audit-log FILE: that file', () => {
    const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'sts-doctor-audit-')) };
    expect(auditTarget(undefined, false, env)).toEqual({ to: 'stderr' });
    expect(auditTarget('-', true, env)).toEqual({ to: 'stderr' });
    expect(auditTarget('/tmp/x.log', true, env)).toEqual({ to: 'file', path: '/tmp/x.log', announce: false });
    const target = auditTarget(undefined, true, env);
    expect(target).toEqual({ to: 'file', path: join(env.XDG_STATE_HOME, 'sts-doctor', 'audit.log'), announce: true });
    const err: string[] = [];
    const sink = auditSink(target, (l) => err.push(l));
    sink(record(1));
    sink(record(2));
    expect(err).toEqual([`sts-doctor: audit log: ${join(env.XDG_STATE_HOME, 'sts-doctor', 'audit.log')} (--audit-log - for stderr)`]);
    const lines = readFileSync(join(env.XDG_STATE_HOME, 'sts-doctor', 'audit.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditRecord).step)).toEqual([1, 2]);
    expect(statSync(join(env.XDG_STATE_HOME, 'sts-doctor')).mode & 0o777).toBe(0o700);
  });

  it('a default file that cannot be written: said once, then the lines go to stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-doctor-audit-'));
    writeFileSync(join(dir, 'sts-doctor'), 'a file where the directory should be');
    const err: string[] = [];
    const sink = auditSink(auditTarget(undefined, true, { XDG_STATE_HOME: dir }), (l) => err.push(l));
    sink(record(1));
    sink(record(2));
    expect(err[0]).toMatch(/^sts-doctor: cannot write the audit log .*audit\.log \(.*\); the audit lines follow on stderr\.$/);
    expect(err.slice(1).map((l) => (JSON.parse(l) as AuditRecord).step)).toEqual([1, 2]);
  });
});
