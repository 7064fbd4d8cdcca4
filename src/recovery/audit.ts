/**
 * Where `sts-doctor recover` writes its audit log (one JSON object a line, src/recovery/execute.ts
 * `AuditRecord`): `--audit-log FILE` appends to FILE and `--audit-log -` writes to stderr; without
 * the flag, a run on a terminal (stderr is a TTY) appends to {@link auditLogPath} and names the
 * file once, so no raw JSON lands between the prompts, and a run without a terminal (scripts, CI)
 * writes to stderr, as before.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { AuditRecord } from './execute.js';

/**
 * The default audit log: `$XDG_STATE_HOME/sts-doctor/audit.log`, else
 * `~/.local/state/sts-doctor/audit.log` (XDG Base Directory: a relative or empty
 * `XDG_STATE_HOME` is ignored).
 */
export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'sts-doctor', 'audit.log');
}

/** Where the audit lines go: a file (`announce`: name it once on stderr) or stderr. */
export type AuditTarget = { to: 'file'; path: string; announce: boolean } | { to: 'stderr' };

/**
 * The audit target for `--audit-log` (`flag`; `-` for stderr) and whether stderr is a terminal.
 */
export function auditTarget(flag: string | undefined, terminal: boolean, env: NodeJS.ProcessEnv = process.env): AuditTarget {
  if (flag === '-') return { to: 'stderr' };
  if (flag !== undefined) return { to: 'file', path: flag, announce: false };
  return terminal ? { to: 'file', path: auditLogPath(env), announce: true } : { to: 'stderr' };
}

/**
 * A sink writing each record as one JSON line to `target`. The default file (and its directory,
 * mode 0700) is created on the first record, and named once through `err`; when it cannot be
 * written, `err` says so once and the lines go to `err` instead. An explicit `--audit-log FILE`
 * that cannot be written throws (the error of appendFileSync).
 */
export function auditSink(target: AuditTarget, err: (line: string) => void): (r: AuditRecord) => void {
  let announced = false;
  let fallback = false;
  return (r) => {
    const l = JSON.stringify(r) + '\n';
    if (target.to === 'stderr' || fallback) return err(l);
    if (!target.announce) return appendFileSync(target.path, l);
    try {
      if (!announced) mkdirSync(dirname(target.path), { recursive: true, mode: 0o700 });
      appendFileSync(target.path, l, { mode: 0o600 });
      if (!announced) err(`sts-doctor: audit log: ${target.path} (--audit-log - for stderr)`);
    } catch (e) {
      fallback = true;
      err(`sts-doctor: cannot write the audit log ${target.path} (${(e as Error).message}); the audit lines follow on stderr.`);
      err(l);
    }
    announced = true;
  };
}
