/**
 * The human report: one block per StatefulSet (header, per-replica table), or with several
 * StatefulSets in scope one overview line each; then the root causes (rules/causes.ts), each with
 * the consequences folded under it, the evidence once and the recoveries merged (grouped by
 * StatefulSet when there are several). Laid out by ./layout.ts in the output width: no line is
 * wider, a word is broken only when it is longer than a line, table columns give way by
 * priority (`wide`: none is dropped or truncated). Colour follows chalk's detection of the
 * output stream, `FORCE_COLOR`, `--no-color` and `NO_COLOR`.
 */
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnosis, ReplicaRow, StatefulSetReport } from '../diagnosis.js';
import type { Evidence, Finding, Severity } from '../rules/types.js';
import { ageSeconds, formatReplicaCounts } from '../snapshot/view.js';
import { recoverCommand } from '../recovery/command.js';
import { evidenceKey, rootCauses, type RootCause } from '../rules/causes.js';
import { flow, humanDuration, indentWrap, layoutTable, outputWidth, wrapCommand, type Column } from './layout.js';

/** A chalk instance honouring NO_COLOR (chalk itself honours FORCE_COLOR and --no-color). */
export function colors(env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  if (env.NO_COLOR) return new Chalk({ level: 0 });
  return chalk;
}

const SEVERITY_MARK: Record<Severity, string> = { critical: '✖', warning: '▲', info: 'ℹ' };

/** How the text is laid out. */
export interface TextLayout {
  /** Output width in columns (default: layout.outputWidth()). */
  width?: number;
  /** `-o wide`: tables keep every column and every cell whole. */
  wide?: boolean;
}

/** Renders the diagnosis as text, laid out in `layout.width` columns. */
export function renderText(d: Diagnosis, c: ChalkInstance = colors(), layout: TextLayout | number = {}): string {
  const opts = typeof layout === 'number' ? { width: layout } : layout;
  const width = opts.width ?? outputWidth();
  const wide = opts.wide ?? false;
  const out: string[] = [];
  const sev = (s: Severity, text: string): string => (s === 'critical' ? c.red(text) : s === 'warning' ? c.yellow(text) : c.cyan(text));
  const multi = d.statefulSets.length > 1;
  if (d.statefulSets.length === 0) out.push(...indentWrap(d.namespace === '*' ? 'No StatefulSet found in any namespace.' : `No StatefulSet found in namespace ${d.namespace}.`, width, ''));
  if (multi) out.push(overview(d, c, width, wide), '');
  else {
    for (const s of d.statefulSets) {
      out.push(...header(s, c, width));
      out.push(table(s.table, d.now, c, width, wide));
      out.push('');
    }
  }
  if (d.gaps.length) {
    out.push(c.yellow('Not checked (could not read):'));
    for (const g of d.gaps) out.push(...indentWrap(g.message, width, '  '));
    out.push('');
  }
  if (d.findings.length === 0) {
    out.push(c.green(`✔ No problems found${d.statefulSets.length > 1 ? ` in ${d.statefulSets.length} StatefulSets` : ''}.`));
    return out.join('\n') + '\n';
  }
  const roots = rootCauses(d.findings);
  const folded = d.findings.length - roots.length;
  const title = `Findings (${d.findings.length}${folded ? `: ${roots.length} root cause${roots.length === 1 ? '' : 's'}, ${folded} consequence${folded === 1 ? '' : 's'} folded under ${roots.length === 1 ? 'it' : 'them'}` : ''})`;
  out.push(...indentWrap(title, width, '').map((l) => c.bold(l)));
  // Evidence quoted by two root causes (the same Unhealthy event) is printed in full once.
  const printed = new Set<string>();
  for (const group of multi ? byStatefulSet(d) : [{ title: '', findings: d.findings }]) {
    if (group.title) out.push('', ...indentWrap(group.title, width, '── ', '   ').map((l) => c.bold(l)));
    for (const r of rootCauses(group.findings)) {
      out.push('');
      out.push(finding(r, d, c, sev, width, printed));
    }
  }
  return out.join('\n') + '\n';
}

/** The findings of one StatefulSet: matched by namespace and name (in d's order: root causes first). */
export function findingsOf(d: Diagnosis, s: StatefulSetReport): Finding[] {
  return d.findings.filter((f) => f.statefulSet.name === s.name && (f.statefulSet.namespace ?? d.namespace) === s.namespace);
}

/** Findings grouped under their StatefulSet, in the order of `d.statefulSets`. */
function byStatefulSet(d: Diagnosis): { title: string; findings: Finding[] }[] {
  const groups = d.statefulSets.map((s) => ({ title: `StatefulSet ${s.namespace}/${s.name}`, findings: findingsOf(d, s) })).filter((g) => g.findings.length > 0);
  const placed = new Set(groups.flatMap((g) => g.findings));
  const rest = d.findings.filter((f) => !placed.has(f));
  return rest.length ? [...groups, { title: 'Other', findings: rest }] : groups;
}

const OVERVIEW_COLUMNS: Column[] = [
  { header: 'NAMESPACE', priority: 1 },
  { header: 'NAME', priority: 0 },
  { header: 'READY', priority: 0 },
  { header: 'STATUS', priority: 0, flex: true, min: 20 },
];

/**
 * One line per StatefulSet (several in scope): namespace, name, ready/desired (condemned pods
 * apart), and `healthy` or the top root cause.
 */
export function overview(d: Diagnosis, c: ChalkInstance, width: number, wide = false): string {
  const rows = d.statefulSets.map((s) => {
    const top = findingsOf(d, s).find((f) => !f.causedBy);
    const status = s.healthy ? 'healthy' : top ? `${SEVERITY_MARK[top.severity]} ${top.rule}: ${top.summary}` : 'unhealthy';
    return { s, top, cells: [s.namespace, s.name, `${s.replicas.ready}/${s.replicas.desired}${s.replicas.condemned ? `, ${s.replicas.condemned} condemned` : ''}`, status] };
  });
  const { lines: table } = layoutTable(OVERVIEW_COLUMNS, rows.map((r) => r.cells), width, { wide });
  const lines = [c.dim(table[0]!.join('  ').trimEnd())];
  rows.forEach((r, i) => {
    const text = table[i + 1]!.join('  ').trimEnd();
    lines.push(r.s.healthy ? text : r.top?.severity === 'critical' ? c.red(text) : c.yellow(text));
  });
  const healthy = d.statefulSets.filter((s) => s.healthy).length;
  lines.push(c.dim(`${d.statefulSets.length} StatefulSets, ${healthy} healthy`));
  return lines.join('\n');
}

function header(s: StatefulSetReport, c: ChalkInstance, width: number): string[] {
  const r = s.replicas;
  const rev = s.currentRevision && s.updateRevision && s.currentRevision !== s.updateRevision ? `revision ${s.currentRevision} → ${s.updateRevision}` : s.updateRevision ? `revision ${s.updateRevision}` : '';
  const status = s.healthy ? 'healthy' : 'unhealthy';
  const lines = flow([`StatefulSet ${s.namespace}/${s.name}`, status, formatReplicaCounts({ ready: r.ready, replicas: r.desired, condemned: r.condemned }), s.podManagementPolicy, s.updateStrategy, rev], width);
  // Colour after the layout (widths are of the plain text): the name bold, the state green or red.
  return lines.map((l, i) => (i === 0 ? l.replace(`StatefulSet ${s.namespace}/${s.name}`, (m) => c.bold(m)) : l).replace(new RegExp(`(?<=  )${status}(?=  |$)`), (m) => (s.healthy ? c.green(m) : c.red(m))));
}

/** The per-replica table's columns, most important first; kubectl's AGE and RESTARTS among them. */
const TABLE_COLUMNS: Column[] = [
  { header: 'ORDINAL', priority: 0 },
  { header: 'POD', priority: 0 },
  { header: 'STATUS', priority: 0 },
  { header: 'READY', priority: 1 },
  { header: 'RESTARTS', priority: 4 },
  { header: 'AGE', priority: 3 },
  { header: 'NODE', priority: 5 },
  { header: 'PVC', priority: 6 },
  { header: 'LAST EVENT', priority: 2, flex: true, min: 24 },
];

/** kubectl's RESTARTS cell: `0`, `2 (12s ago)` (the newest container termination). */
export function restartsCell(r: ReplicaRow, now: string): string {
  if (r.restarts === undefined) return '-';
  return r.restarts && r.lastRestart ? `${r.restarts} (${humanDuration(ageSeconds(now, r.lastRestart))} ago)` : String(r.restarts);
}

function table(rows: ReplicaRow[], now: string, c: ChalkInstance, width: number, wide: boolean): string {
  const cells = rows.map((r) => [
    (r.lastOrdinal !== undefined ? `${r.ordinal}–${r.lastOrdinal}` : String(r.ordinal)) + (r.condemned ? '*' : ''),
    r.exists ? r.pod : r.lastPod ? `(${r.pod} … ${r.lastPod})` : `(${r.pod})`,
    r.status,
    r.readyContainers ?? '-',
    restartsCell(r, now),
    r.created ? humanDuration(ageSeconds(now, r.created)) : '-',
    r.node ?? '-',
    r.claims.length ? r.claims.map((x) => `${x.name} ${x.phase}`).join(', ') : '-',
    r.event ? `${r.event.type} ${r.event.reason} ${humanDuration(ageSeconds(now, r.event.time))} ago: ${r.event.message}` : '-',
  ]);
  const { lines: laid } = layoutTable(TABLE_COLUMNS, cells, width, { indent: '  ', wide });
  const line = (row: string[], color?: (s: string) => string): string => {
    const text = `  ${row.join('  ')}`.trimEnd();
    return color ? color(text) : text;
  };
  const lines = [line(laid[0]!, c.dim)];
  rows.forEach((r, i) => lines.push(line(laid[i + 1]!, !r.exists ? c.dim : r.ready ? undefined : c.yellow)));
  if (rows.some((r) => r.condemned)) lines.push(...indentWrap('* ordinal outside the ones spec.replicas keeps: to be removed by the scale-down', width, '  ').map((l) => c.dim(l)));
  return lines.join('\n');
}

/**
 * One root cause: its finding in full, the consequences folded under it (one "therefore" line
 * each, with their rule), the evidence of all of them once, and their recoveries merged.
 */
function finding(root: RootCause, d: Diagnosis, c: ChalkInstance, sev: (s: Severity, t: string) => string, width: number, printed: Set<string>, foldEvidence = false): string {
  const f = root.finding;
  const lines: string[] = [];
  const mark = `${SEVERITY_MARK[f.severity]} ${f.severity.toUpperCase()}`;
  const head = flow([`${mark} ${f.rule}`, `${f.subject.kind}/${f.subject.name}`, f.confidence === 'low' ? '(low confidence: some reads were not possible)' : ''], width, '    ');
  lines.push(...head.map((l, i) => (i === 0 ? l.replace(mark, sev(f.severity, mark)).replace(f.rule, c.bold(f.rule)) : l)));
  lines.push(...indentWrap(f.summary, width, '  ').map((l) => c.bold(l)));
  lines.push(...indentWrap(f.explanation, width, '  '));
  for (const q of root.consequences) {
    const text = `${q.consequence ?? `therefore: ${q.summary}`} [${q.rule}${q.confidence === 'low' ? ', low confidence' : ''}]`;
    lines.push(...indentWrap(text, width, '  ↳ ', '    ').map((l, i) => (i === 0 ? l.replace('↳', sev(q.severity, '↳')) : l)));
  }
  const omitted = [f, ...root.consequences].reduce((n, x) => n + (x.evidenceOmitted ?? 0), 0);
  if (root.evidence.length && foldEvidence) {
    lines.push(`  ${c.dim(`Evidence: ${root.evidence.length + omitted} line${root.evidence.length + omitted === 1 ? '' : 's'} (folded)`)}`);
  } else if (root.evidence.length) {
    lines.push(`  ${c.dim('Evidence:')}`);
    for (const e of root.evidence) {
      const key = evidenceKey(e);
      lines.push(...evidence(e, d.now, c, width, printed.has(key)));
      printed.add(key);
    }
    if (omitted) lines.push(`    ${c.dim(`… and ${omitted} more`)}`);
  }
  if (root.recoveries.length) {
    lines.push(`  ${c.dim('Recovery:')}`);
    for (const r of root.recoveries) {
      lines.push(...indentWrap(r.title, width, '    → ', '      '));
      if (r.automated) lines.push(...wrapCommand(recoverCommand(f.statefulSet, r, f, false), width, '      $ ').map((l) => c.cyan(l)));
      lines.push(...indentWrap(r.description, width, '      ').map((l) => c.dim(l)));
      for (const cmd of r.commands ?? []) lines.push(...wrapCommand(cmd, width, '      $ ').map((l) => c.cyan(l)));
    }
  }
  return lines.join('\n');
}

/** One evidence line: its object, label, count, age and reporter, then the quoted text (`seen`: only a pointer to where it was quoted). */
function evidence(e: Evidence, now: string, c: ChalkInstance, width: number, seen = false): string[] {
  const who = `${e.object.kind}/${e.object.name}`;
  const when = e.time ? ` ${humanDuration(ageSeconds(now, e.time))} ago` : '';
  const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
  const from = e.source ? ` from ${e.source}` : '';
  const head = indentWrap(`${who} ${e.label}${count}${when}${from}${seen ? ' (quoted above)' : ''}`, width, '    • ', '      ').map((l) => l.replace(e.label, (m) => c.bold(m)));
  return seen ? head : [...head, ...indentWrap(e.text, width, '      ')];
}

/**
 * The pieces of the report, for the interactive app (src/ui/ink/app.tsx), which lays them out
 * the same way: the header lines of one StatefulSet, its per-replica table (one string, lines
 * joined), and one root cause (one string), its evidence folded into a count when `foldEvidence`.
 * `d` must already be sanitised (report/sanitize.ts `sanitizeDeep`), as `render` does.
 */
export function statefulSetHeader(s: StatefulSetReport, c: ChalkInstance, width: number): string[] {
  return header(s, c, width);
}

/** See {@link statefulSetHeader}: the per-replica table of `s`, kubectl-like, in `width` columns. */
export function replicaTable(s: StatefulSetReport, now: string, c: ChalkInstance, width: number): string {
  return table(s.table, now, c, width, false);
}

/** See {@link statefulSetHeader}: one root cause with its consequences, evidence (or their count) and recoveries. */
export function rootCauseBlock(root: RootCause, d: Diagnosis, c: ChalkInstance, width: number, foldEvidence: boolean): string {
  const sev = (s: Severity, text: string): string => (s === 'critical' ? c.red(text) : s === 'warning' ? c.yellow(text) : c.cyan(text));
  return finding(root, d, c, sev, width, new Set(), foldEvidence);
}
