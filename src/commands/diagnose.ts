/**
 * `sts-doctor diagnose [name]`: read, evaluate, report. Exit 0 when every StatefulSet is
 * healthy, 1 when any is not (or a finding of warning or critical severity exists).
 */
import { diagnose, type Diagnosis } from '../diagnosis.js';
import { ExitCode } from '../errors.js';
import { render, type OutputFormat } from '../report/index.js';
import { loadSnapshot } from './load.js';
import type { ReadOptions } from './options.js';

export interface DiagnoseOptions extends ReadOptions {
  output: OutputFormat;
}

/** Exit code for a diagnosis: 0 healthy, 1 otherwise. */
export function exitCodeOf(d: Diagnosis): number {
  const bad = d.statefulSets.some((s) => !s.healthy) || d.findings.some((f) => f.severity !== 'info');
  return bad ? ExitCode.Findings : ExitCode.Ok;
}

/** Runs the command; returns the exit code. Throws StsDoctorError subclasses on errors. */
export async function diagnoseCommand(name: string | undefined, opts: DiagnoseOptions): Promise<number> {
  const snapshot = await loadSnapshot(name, opts);
  const d = diagnose(snapshot);
  process.stdout.write(await render(d, opts.output));
  return exitCodeOf(d);
}
