/**
 * The human report: one block per StatefulSet (header, per-replica table), or with several
 * StatefulSets in scope one overview line each; then the findings with their evidence and
 * recoveries (grouped by StatefulSet when there are several). Colour follows chalk's detection of the output stream,
 * `FORCE_COLOR`, `--no-color` and `NO_COLOR`.
 */
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { Diagnosis, ReplicaRow, StatefulSetReport } from '../diagnosis.js';
import type { Evidence, Finding, Severity } from '../rules/types.js';
import { ageSeconds, formatAge, formatReplicaCounts } from '../snapshot/view.js';
import { recoverCommand } from '../recovery/command.js';
import { rootCauses, type RootCause } from '../rules/causes.js';

/** A chalk instance honouring NO_COLOR (chalk itself honours FORCE_COLOR and --no-color). */
export function colors(env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  if (env.NO_COLOR) return new Chalk({ level: 0 });
  return chalk;
}

const SEVERITY_MARK: Record<Severity, string> = { critical: '✖', warning: '▲', info: 'ℹ' };

/** Renders the diagnosis as text; `width` is the terminal width used to clip long cells. */
export function renderText(d: Diagnosis, c: ChalkInstance = colors(), width = process.stdout.columns || 120): string {
  const out: string[] = [];
  const sev = (s: Severity, text: string): string => (s === 'critical' ? c.red(text) : s === 'warning' ? c.yellow(text) : c.cyan(text));
  const multi = d.statefulSets.length > 1;
  if (d.statefulSets.length === 0) out.push(d.namespace === '*' ? 'No StatefulSet found in any namespace.' : `No StatefulSet found in namespace ${d.namespace}.`);
  if (multi) out.push(overview(d, c, width), '');
  else {
    for (const s of d.statefulSets) {
      out.push(header(s, c));
      out.push(table(s.table, d.now, c, width));
      out.push('');
    }
  }
  if (d.gaps.length) {
    out.push(c.yellow('Not checked (could not read):'));
    for (const g of d.gaps) out.push(`  ${g.message}`);
    out.push('');
  }
  if (d.findings.length === 0) {
    out.push(c.green(`✔ No problems found${d.statefulSets.length > 1 ? ` in ${d.statefulSets.length} StatefulSets` : ''}.`));
    return out.join('\n') + '\n';
  }
  const roots = rootCauses(d.findings);
  const folded = d.findings.length - roots.length;
  out.push(c.bold(`Findings (${d.findings.length}${folded ? `: ${roots.length} root cause${roots.length === 1 ? '' : 's'}, ${folded} consequence${folded === 1 ? '' : 's'} folded under ${roots.length === 1 ? 'it' : 'them'}` : ''})`));
  for (const group of multi ? byStatefulSet(d) : [{ title: '', findings: d.findings }]) {
    if (group.title) out.push('', c.bold(`── ${group.title}`));
    for (const r of rootCauses(group.findings)) {
      out.push('');
      out.push(finding(r, d, c, sev, width));
    }
  }
  return out.join('\n') + '\n';
}

/** The findings of one StatefulSet: matched by namespace and name. */
function findingsOf(d: Diagnosis, s: StatefulSetReport): Finding[] {
  return d.findings.filter((f) => f.statefulSet.name === s.name && (f.statefulSet.namespace ?? d.namespace) === s.namespace);
}

/** Findings grouped under their StatefulSet, in the order of `d.statefulSets`. */
function byStatefulSet(d: Diagnosis): { title: string; findings: Finding[] }[] {
  const groups = d.statefulSets.map((s) => ({ title: `StatefulSet ${s.namespace}/${s.name}`, findings: findingsOf(d, s) })).filter((g) => g.findings.length > 0);
  const placed = new Set(groups.flatMap((g) => g.findings));
  const rest = d.findings.filter((f) => !placed.has(f));
  return rest.length ? [...groups, { title: 'Other', findings: rest }] : groups;
}

/**
 * One line per StatefulSet (several in scope): namespace, name, ready/desired, and `healthy`
 * or the top finding (root causes rank first).
 */
export function overview(d: Diagnosis, c: ChalkInstance, width: number): string {
  const head = ['NAMESPACE', 'NAME', 'READY', 'STATUS'];
  const rows = d.statefulSets.map((s) => {
    const top = findingsOf(d, s).find((f) => !f.causedBy);
    const status = s.healthy ? 'healthy' : top ? `${SEVERITY_MARK[top.severity]} ${top.rule}: ${top.summary}` : 'unhealthy';
    return { s, top, cells: [s.namespace, s.name, `${s.replicas.ready}/${s.replicas.desired}${s.replicas.condemned ? `, ${s.replicas.condemned} condemned` : ''}`, status] };
  });
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r.cells[i]!.length), h.length));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const last = Math.max(20, width - fixed);
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? clip(cell, last) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const lines = [c.dim(line(head))];
  for (const r of rows) {
    const text = line(r.cells);
    lines.push(r.s.healthy ? text : r.top?.severity === 'critical' ? c.red(text) : c.yellow(text));
  }
  const healthy = d.statefulSets.filter((s) => s.healthy).length;
  lines.push(c.dim(`${d.statefulSets.length} StatefulSets, ${healthy} healthy`));
  return lines.join('\n');
}

function header(s: StatefulSetReport, c: ChalkInstance): string {
  const status = s.healthy ? c.green('healthy') : c.red('unhealthy');
  const r = s.replicas;
  const rev = s.currentRevision && s.updateRevision && s.currentRevision !== s.updateRevision ? `  revision ${s.currentRevision} → ${s.updateRevision}` : s.updateRevision ? `  revision ${s.updateRevision}` : '';
  return `${c.bold(`StatefulSet ${s.namespace}/${s.name}`)}  ${status}  ${formatReplicaCounts({ ready: r.ready, replicas: r.desired, condemned: r.condemned })}  ${s.podManagementPolicy}  ${s.updateStrategy}${rev}`;
}

function table(rows: ReplicaRow[], now: string, c: ChalkInstance, width: number): string {
  const head = ['ORDINAL', 'POD', 'STATUS', 'READY', 'NODE', 'PVC', 'LAST EVENT'];
  const cells = rows.map((r) => [
    (r.lastOrdinal !== undefined ? `${r.ordinal}–${r.lastOrdinal}` : String(r.ordinal)) + (r.condemned ? '*' : ''),
    r.exists ? r.pod : r.lastPod ? `(${r.pod} … ${r.lastPod})` : `(${r.pod})`,
    r.status,
    r.readyContainers ?? '-',
    r.node ?? '-',
    r.claims.length ? r.claims.map((x) => `${x.name} ${x.phase}`).join(', ') : '-',
    r.event ? `${r.event.type} ${r.event.reason} ${formatAge(ageSeconds(now, r.event.time))} ago: ${r.event.message}` : '-',
  ]);
  const widths = head.map((h, i) => cells.reduce((w, row) => Math.max(w, row[i]!.length), h.length));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 2);
  const last = Math.max(20, width - fixed);
  const line = (row: string[], color?: (s: string) => string): string =>
    '  ' +
    row
      .map((cell, i) => {
        const text = i === row.length - 1 ? clip(cell, last) : cell.padEnd(widths[i]!);
        return color ? color(text) : text;
      })
      .join('  ')
      .trimEnd();
  const lines = [line(head, c.dim)];
  rows.forEach((r, i) => {
    const color = !r.exists ? c.dim : r.ready ? undefined : c.yellow;
    lines.push(line(cells[i]!, color));
  });
  if (rows.some((r) => r.condemned)) lines.push(c.dim('  * ordinal above spec.replicas: to be removed by the scale-down'));
  return lines.join('\n');
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}

/**
 * One root cause: its finding in full, the consequences folded under it (one "therefore" line
 * each, with their rule), the evidence of all of them once, and their recoveries merged.
 */
function finding(root: RootCause, d: Diagnosis, c: ChalkInstance, sev: (s: Severity, t: string) => string, width: number): string {
  const f = root.finding;
  const lines: string[] = [];
  lines.push(`${sev(f.severity, `${SEVERITY_MARK[f.severity]} ${f.severity.toUpperCase()}`)} ${c.bold(f.rule)}  ${f.subject.kind}/${f.subject.name}${f.confidence === 'low' ? c.yellow('  (low confidence: some reads were not possible)') : ''}`);
  lines.push(`  ${c.bold(f.summary)}`);
  lines.push(...wrap(f.explanation, width - 4).map((l) => `  ${l}`));
  for (const q of root.consequences) {
    const text = `${q.consequence ?? `therefore: ${q.summary}`} [${q.rule}${q.confidence === 'low' ? ', low confidence' : ''}]`;
    lines.push(...wrap(text, width - 6).map((l, i) => (i === 0 ? `  ${sev(q.severity, '↳')} ${l}` : `    ${l}`)));
  }
  const omitted = [f, ...root.consequences].reduce((n, x) => n + (x.evidenceOmitted ?? 0), 0);
  if (root.evidence.length) {
    lines.push(`  ${c.dim('Evidence:')}`);
    for (const e of root.evidence) lines.push(...evidence(e, d.now, c, width));
    if (omitted) lines.push(`    ${c.dim(`… and ${omitted} more`)}`);
  }
  if (root.recoveries.length) {
    lines.push(`  ${c.dim('Recovery:')}`);
    for (const r of root.recoveries) {
      lines.push(`    → ${r.title}`);
      if (r.automated) lines.push(`      ${c.cyan(`$ ${recoverCommand(f.statefulSet, r, f, false)}`)}`);
      lines.push(...wrap(r.description, width - 8).map((l) => `      ${c.dim(l)}`));
      for (const cmd of r.commands ?? []) lines.push(`      ${c.cyan(`$ ${cmd}`)}`);
    }
  }
  return lines.join('\n');
}

function evidence(e: Evidence, now: string, c: ChalkInstance, width: number): string[] {
  const who = `${e.object.kind}/${e.object.name}`;
  const when = e.time ? ` ${formatAge(ageSeconds(now, e.time))} ago` : '';
  const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
  const from = e.source ? ` from ${e.source}` : '';
  const head = `    • ${who} ${c.bold(e.label)}${count}${when}${from}`;
  return [head, ...wrap(e.text, width - 8).map((l) => `      ${l}`)];
}

/** Wraps text at word boundaries to `width` columns (minimum 40). */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(40, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > w) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}
