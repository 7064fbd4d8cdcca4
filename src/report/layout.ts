/**
 * The text layout engine: the output width, display widths (wide characters, colour codes) with
 * string-width, word wrapping with wrap-ansi (a word is broken only when it is longer than the
 * whole line), cells truncated with cli-truncate, and tables whose columns are dropped or
 * truncated by priority to fit, as kubectl's printers do. Pure functions of their arguments.
 */
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';

/** Columns when nothing says otherwise (piped output, no `COLUMNS`). */
export const DEFAULT_WIDTH = 80;
/** The narrowest layout drawn; a narrower terminal gets this width. */
export const MIN_WIDTH = 40;

/**
 * The width to lay text out in: the terminal's columns when `stream` is a terminal, else the
 * `COLUMNS` environment variable (a positive integer), else {@link DEFAULT_WIDTH}; at least
 * {@link MIN_WIDTH}.
 */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const tty = stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : undefined;
  const fromEnv = /^\d+$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : undefined;
  return Math.max(MIN_WIDTH, tty ?? (fromEnv && fromEnv > 0 ? fromEnv : DEFAULT_WIDTH));
}

/**
 * Characters of one paragraph the layout wraps; the rest is counted, not wrapped (wrapping a
 * word costs time quadratic in its length, and a finding's texts are already bounded to 2,000
 * characters: only names from the cluster, such as a revision, can be longer).
 */
export const MAX_WRAP = 4000;

function bounded(s: string): string {
  return s.length <= MAX_WRAP ? s : `${s.slice(0, MAX_WRAP)}… (${s.length - MAX_WRAP} more characters)`;
}

/** Columns `s` takes on a terminal (East Asian wide characters count 2, colour codes 0). */
export function displayWidth(s: string): number {
  // Printable ASCII is one column a character: skip the grapheme segmentation (slow on long strings).
  return /^[\x20-\x7e]*$/.test(s) ? s.length : stringWidth(s);
}

/**
 * `text` wrapped at word boundaries to `width` columns, one entry per line; paragraphs (`\n`)
 * are kept. A word longer than `width` is the only thing ever broken. Whitespace runs inside a
 * paragraph become one space.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(10, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const one = bounded(para).replace(/[ \t]+/g, ' ').trim();
    if (!one) {
      out.push('');
      continue;
    }
    out.push(...wrapAnsi(one, w, { hard: true, trim: true, wordWrap: true }).split('\n'));
  }
  return out;
}

/**
 * `text` wrapped to `width` with `first` before the first line and `rest` before the others
 * (both counted in the width).
 */
export function indentWrap(text: string, width: number, first: string, rest: string = ' '.repeat(displayWidth(first))): string[] {
  const inner = width - Math.max(displayWidth(first), displayWidth(rest));
  return wrapText(text, inner).map((l, i) => `${i === 0 ? first : rest}${l}`);
}

/**
 * A shell command laid out in `width` columns after `prefix` (e.g. `      $ `): split between
 * words, each line but the last ending in ` \` so that it can still be pasted as one command.
 * Only the first line wraps: the lines after it (a here-document, `<<'EOF'` … `EOF`) are data,
 * where a ` \` would become part of the document and the closing `EOF` must start its line; they
 * are returned as they are, wider than `width` if they are.
 */
export function wrapCommand(cmd: string, width: number, prefix: string): string[] {
  const pad = ' '.repeat(displayWidth(prefix) + 2);
  const [command = '', ...document] = bounded(cmd).split('\n');
  const words = command.split(' ');
  const lines: string[] = [];
  let line = '';
  const room = (first: boolean): number => width - displayWidth(first ? prefix : pad) - 2; // 2: " \"
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && displayWidth(candidate) > room(lines.length === 0)) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  lines.push(line);
  // A single word longer than the room is broken only as a last resort.
  const out: string[] = [];
  lines.forEach((l, i) => {
    const head = i === 0 ? prefix : pad;
    const tail = i < lines.length - 1 ? ' \\' : '';
    const parts = displayWidth(head) + displayWidth(l) + displayWidth(tail) > width ? wrapText(l, width - displayWidth(head) - displayWidth(tail)) : [l];
    parts.forEach((p, j) => out.push(`${j === 0 ? head : pad}${p}${j === parts.length - 1 ? tail : ''}`));
  });
  return [...out, ...document];
}

/**
 * `s` (one line) cut to `width` columns with `…`: at a word boundary when one falls in the last
 * 40 % of the room, else mid-word (with the ellipsis saying so).
 */
export function truncate(s: string, width: number): string {
  const one = bounded(s).replace(/\s+/g, ' ').trim();
  if (displayWidth(one) <= width) return one;
  if (width <= 1) return '…'.slice(0, width);
  // cli-truncate may overshoot by one column when a wide character straddles the edge: ask for less.
  let cut = cliTruncate(one, width, { position: 'end' });
  for (let w = width - 1; displayWidth(cut) > width && w > 0; w--) cut = cliTruncate(one, w, { position: 'end' });
  const body = cut.endsWith('…') ? cut.slice(0, -1) : cut;
  const space = body.lastIndexOf(' ');
  const head = space > 0 ? body.slice(0, space).trimEnd() : '';
  if (head && displayWidth(head) >= width * 0.6 && displayWidth(head) + 2 <= width) return `${head} …`;
  return cut;
}

/**
 * Segments joined by two spaces, flowing onto more lines (after `indent`) when they do not
 * fit in `width`; a segment is never split unless it alone is wider than a line.
 */
export function flow(segments: string[], width: number, indent = '  '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const seg of segments.filter(Boolean).map(bounded)) {
    const candidate = line ? `${line}  ${seg}` : seg;
    if (line && displayWidth(candidate) > width) {
      lines.push(line);
      line = `${indent}${seg}`;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines.flatMap((l, i) => (displayWidth(l) <= width ? [l] : indentWrap(l.trimStart(), width, i === 0 ? '' : indent, indent)));
}

/** A table column: its header, and how it gives way when the table is too wide. */
export interface Column {
  header: string;
  /**
   * Lower is more important. When the table does not fit, columns are dropped from the highest
   * priority number down (the `flex` column is shrunk first, to `min`); priority 0 is never dropped.
   */
  priority: number;
  /** The one column that takes the width left (e.g. LAST EVENT), truncated to it. */
  flex?: boolean;
  /** The narrowest the flex column is shown (default 16). */
  min?: number;
}

/**
 * Lays out a table in `width` columns after `indent`: cells are padded by display width and
 * separated by two spaces; the flex column takes the rest and is truncated; columns are dropped
 * by priority (as kubectl shows fewer columns without `-o wide`) until the rest fits, and as a
 * last resort cells of the remaining columns are truncated. With `wide`, nothing is dropped or
 * truncated. Returns the header line and one line per row, and the headers shown.
 */
export function layoutTable(columns: Column[], cellRows: string[][], width: number, opts: { indent?: string; wide?: boolean } = {}): { lines: string[][]; shown: Column[] } {
  const indent = opts.indent ?? '';
  const rows = cellRows.map((r) => r.map(bounded));
  let shown = columns.map((c, i) => ({ c, i }));
  const natural = (i: number): number => rows.reduce((w, r) => Math.max(w, displayWidth(r[i] ?? '')), displayWidth(columns[i]!.header));
  const total = (cols: typeof shown, flexWidth?: number): number =>
    displayWidth(indent) + cols.reduce((sum, x) => sum + (x.c.flex && flexWidth !== undefined ? flexWidth : natural(x.i)), 0) + 2 * Math.max(0, cols.length - 1);
  if (!opts.wide) {
    const flexMin = (x: { c: Column }): number => x.c.min ?? 16;
    for (;;) {
      const flex = shown.find((x) => x.c.flex);
      const need = total(shown, flex ? Math.min(natural(flex.i), flexMin(flex)) : undefined);
      if (need <= width) break;
      const droppable = shown.filter((x) => x.c.priority > 0).sort((a, b) => b.c.priority - a.c.priority);
      if (!droppable.length) break;
      shown = shown.filter((x) => x !== droppable[0]);
    }
  }
  // Widths: natural, the flex column the room left (at most its natural width).
  const widths = shown.map((x) => natural(x.i));
  const flexAt = shown.findIndex((x) => x.c.flex);
  if (!opts.wide) {
    const fixed = displayWidth(indent) + widths.reduce((a, b, k) => a + (k === flexAt ? 0 : b), 0) + 2 * Math.max(0, shown.length - 1);
    if (flexAt >= 0) widths[flexAt] = Math.max(1, Math.min(widths[flexAt]!, width - fixed));
    // Still too wide (only unremovable columns left): shrink the widest ones.
    let over = displayWidth(indent) + widths.reduce((a, b) => a + b, 0) + 2 * Math.max(0, shown.length - 1) - width;
    while (over > 0) {
      const k = widths.indexOf(Math.max(...widths));
      if (widths[k]! <= 4) break;
      const cut = Math.min(over, widths[k]! - 4);
      widths[k]! -= cut;
      over -= cut;
    }
  }
  const render = (cells: string[]): string[] =>
    shown.map((x, k) => {
      const cell = cells[x.i] ?? '';
      const text = opts.wide ? cell.replace(/\s+/g, ' ') : truncate(cell, widths[k]!);
      return k === shown.length - 1 ? text : text + ' '.repeat(Math.max(0, widths[k]! - displayWidth(text)));
    });
  return { lines: [render(columns.map((c) => c.header)), ...rows.map(render)], shown: shown.map((x) => x.c) };
}

/**
 * A duration as kubectl prints ages (k8s.io/apimachinery/pkg/util/duration.HumanDuration): `45s`
 * under 2 minutes, `3m20s` under 10 minutes, `15m` under 3 hours, `5h2m` under 8 hours, `20h`
 * under 2 days, `3d4h` under 8 days, `30d` under 2 years, `2y40d` under 8 years, then `9y`.
 * `?` when unknown.
 */
export function humanDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 10) return s % 60 ? `${minutes}m${s % 60}s` : `${minutes}m`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(s / 3600);
  if (hours < 8) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 ? `${Math.floor(hours / 24)}d${hours % 24}h` : `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy ? `${Math.floor(hours / 24 / 365)}y${dy}d` : `${Math.floor(hours / 24 / 365)}y`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
