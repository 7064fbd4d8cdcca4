/**
 * `sts-doctor diagnose [name]`: read, evaluate, report. Exit 0 when every StatefulSet is
 * healthy, 1 when any is not (or a finding of warning or critical severity exists).
 */
import { diagnose, DIAGNOSIS_API_VERSION, type Diagnosis } from '../diagnosis.js';
import { ExitCode } from '../errors.js';
import { render, type OutputFormat } from '../report/index.js';
import type { Gap, Snapshot } from '../snapshot/types.js';
import { loadSnapshots } from './load.js';
import { setSuggestedConnection } from '../recovery/command.js';
import type { ReadOptions } from './options.js';
import { toTimestamp } from '../snapshot/view.js';

export interface DiagnoseOptions extends ReadOptions {
  output: OutputFormat;
}

/** Exit code for a diagnosis: 0 healthy, 1 otherwise. */
export function exitCodeOf(d: Diagnosis): number {
  const bad = d.statefulSets.some((s) => !s.healthy) || d.findings.some((f) => f.severity !== 'info');
  return bad ? ExitCode.Findings : ExitCode.Ok;
}

/** `namespace` of a Diagnosis that spans every namespace (`-A`). */
export const ALL_NAMESPACES = '*';

/**
 * Diagnoses each snapshot (one per namespace) and joins the results into one Diagnosis:
 * StatefulSets and findings in namespace order (root causes first within each), gaps without
 * repeats, the summary recounted. With `allNamespaces`, `namespace` is `*`.
 * @param snapshots at least one, unless `allNamespaces`
 */
export function diagnoseAll(snapshots: Snapshot[], allNamespaces = false): Diagnosis {
  return combineDiagnoses(snapshots.map(diagnose), allNamespaces);
}

/**
 * One Diagnosis of several (one per namespace, or per StatefulSet for `serve`): their
 * StatefulSets, findings and (deduplicated) gaps, with the summary counted again; the one part
 * as it is when there is only one and not `allNamespaces`.
 */
export function combineDiagnoses(parts: Diagnosis[], allNamespaces = false): Diagnosis {
  if (parts.length === 1 && !allNamespaces) return parts[0]!;
  const first = parts[0];
  const gaps: Gap[] = [];
  for (const g of parts.flatMap((p) => p.gaps)) if (!gaps.some((x) => x.resource === g.resource && x.message === g.message)) gaps.push(g);
  const findings = parts.flatMap((p) => p.findings);
  const statefulSets = parts.flatMap((p) => p.statefulSets);
  const count = (s: 'critical' | 'warning' | 'info'): number => findings.filter((f) => f.severity === s).length;
  return {
    apiVersion: DIAGNOSIS_API_VERSION,
    kind: 'Diagnosis',
    source: first?.source ?? { type: 'cluster', server: '', requests: 0 },
    now: first?.now ?? toTimestamp(),
    namespace: allNamespaces ? ALL_NAMESPACES : (first?.namespace ?? ''),
    statefulSets,
    findings,
    gaps,
    summary: { statefulSets: statefulSets.length, healthy: statefulSets.filter((s) => s.healthy).length, critical: count('critical'), warning: count('warning'), info: count('info') },
  };
}

/**
 * Reads and diagnoses everything in scope (one StatefulSet, a namespace, or `-A`).
 * @throws StsDoctorError subclasses (see loadSnapshots)
 */
export async function diagnoseScope(name: string | undefined, opts: ReadOptions): Promise<Diagnosis> {
  return diagnoseAll(await loadSnapshots(name, opts), Boolean(opts.allNamespaces));
}

/** Runs the command; returns the exit code. Throws StsDoctorError subclasses on errors. */
export async function diagnoseCommand(name: string | undefined, opts: DiagnoseOptions): Promise<number> {
  // The suggested `sts-doctor recover` commands repeat this run's --kubeconfig/--context.
  setSuggestedConnection(opts);
  const d = await diagnoseScope(name, opts);
  process.stdout.write(await render(d, opts.output));
  return exitCodeOf(d);
}
