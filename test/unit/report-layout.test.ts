// The layout engine (issue 12): every recorded example rendered at 60, 80, 120 and 200 columns
// fits the width, never breaks a word that fits on a line, prints each evidence block once, and
// matches its snapshot. Plus the pieces: the output width, kubectl's durations, truncation, the
// table's column priorities and -o wide.
import { readdirSync } from 'node:fs';
import { Chalk } from 'chalk';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { render } from '../../src/report/index.js';
import { humanDuration, layoutTable, outputWidth, truncate, wrapCommand, wrapText } from '../../src/report/layout.js';
import { sanitizeDeep } from '../../src/report/sanitize.js';
import { renderText, restartsCell } from '../../src/report/text.js';
import type { Diagnosis } from '../../src/diagnosis.js';
import { rootCauses } from '../../src/rules/causes.js';
import { diagnoseFixture, examplesDir } from './fixtures.js';
import { evidenceBlocks } from './text-helpers.js';

const plain = new Chalk({ level: 0 });
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
const WIDTHS = [60, 80, 120, 200];

/** The prose the report wraps: of each root cause its summary and explanation, the consequences' lines, the evidence and the recoveries. */
function prose(d: Diagnosis): string[] {
  return rootCauses(d.findings).flatMap((r) => [
    r.finding.summary,
    r.finding.explanation,
    ...r.consequences.map((q) => q.consequence ?? ''),
    ...r.evidence.map((e) => e.text),
    ...r.recoveries.flatMap((o) => [o.title, o.description]),
  ]);
}

describe('text layout of every example', () => {
  it.each(examples.flatMap((file) => WIDTHS.map((width) => ({ file, width }))))('$file at $width columns', async ({ file, width }) => {
    const d = sanitizeDeep(await diagnoseFixture(file));
    const text = renderText(d, plain, { width });
    const lines = text.split('\n');
    // No line longer than the width.
    expect(lines.filter((l) => stringWidth(l) > width)).toEqual([]);
    // No word broken mid-word: every word of the prose that fits on a line is found whole.
    const tokens = new Set(lines.flatMap((l) => l.split(/\s+/)));
    const words = [...new Set(prose(d).flatMap((t) => t.split(/\s+/)).filter((w) => w && stringWidth(w) <= width - 10))];
    expect(words.filter((w) => !tokens.has(w))).toEqual([]);
    // No duplicated evidence block.
    const blocks = evidenceBlocks(text);
    expect(blocks.length - new Set(blocks).size).toBe(0);
    expect(text).toMatchSnapshot();
  });
});

describe('layout pieces', () => {
  it('the width: a terminal’s columns, else COLUMNS, else 80 when piped; at least 40', () => {
    expect(outputWidth({ isTTY: true, columns: 132 }, { COLUMNS: '90' })).toBe(132);
    expect(outputWidth({ isTTY: false }, { COLUMNS: '90' })).toBe(90);
    expect(outputWidth({ isTTY: false }, {})).toBe(80);
    expect(outputWidth({ isTTY: false }, { COLUMNS: 'wide' })).toBe(80);
    expect(outputWidth({ isTTY: true, columns: 20 }, {})).toBe(40);
  });

  it('durations as kubectl prints them', () => {
    const cases: [number, string][] = [[0, '0s'], [45, '45s'], [119, '119s'], [200, '3m20s'], [540, '9m'], [900, '15m'], [920, '15m'], [179 * 60, '179m'], [3 * 3600 + 300, '3h5m'], [20 * 3600, '20h'], [50 * 3600, '2d2h'], [30 * 86400, '30d'], [800 * 86400, '2y70d'], [9 * 365 * 86400, '9y']];
    for (const [s, want] of cases) expect(humanDuration(s), String(s)).toBe(want);
    expect(humanDuration(undefined)).toBe('?');
  });

  it('RESTARTS like kubectl: the count, and how long ago the newest container ended', () => {
    const row = { ordinal: 0, pod: 'quiz-0', exists: true, status: 'Running', ready: true, claims: [], condemned: false };
    expect(restartsCell({ ...row, restarts: 0 }, '2026-01-01T00:00:12Z')).toBe('0');
    expect(restartsCell({ ...row, restarts: 2, lastRestart: '2026-01-01T00:00:00Z' }, '2026-01-01T00:00:12Z')).toBe('2 (12s ago)');
    expect(restartsCell(row, '2026-01-01T00:00:12Z')).toBe('-');
  });

  it('wide characters and colour codes count by display width; truncation prefers a word boundary', () => {
    expect(truncate('データベース の ポッド', 10)).toMatch(/…$/);
    expect(stringWidth(truncate('データベース の ポッド', 10))).toBeLessThanOrEqual(10);
    expect(truncate('Warning Unhealthy 7s ago: Readiness probe failed', 30)).toBe('Warning Unhealthy 7s ago: …');
    expect(wrapText('\u001b[31mred words\u001b[39m that wrap', 10).every((l) => stringWidth(l) <= 10)).toBe(true);
  });

  it('a long command wraps between words with a shell continuation', () => {
    const lines = wrapCommand('kubectl -n e2e-workload-scale-down-blocked-mwq11jao delete pod quiz-2', 50, '  $ ');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => stringWidth(l) <= 50)).toBe(true);
    expect(lines.slice(0, -1).every((l) => l.endsWith(' \\'))).toBe(true);
    expect(lines.map((l) => l.replace(/^\s*\$?\s*/, '').replace(/ \\$/, '')).join(' ')).toBe('kubectl -n e2e-workload-scale-down-blocked-mwq11jao delete pod quiz-2');
  });

  it('a command with a here-document: only its first line wraps; the document and EOF are printed as they are, at column 0', () => {
    const doc = ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: small-0', '  namespace: bench-noclaims-mx22w1zn', 'spec:', '  clusterIP: None', '  publishNotReadyAddresses: true', 'EOF'];
    const cmd = [`kubectl apply --namespace bench-noclaims-mx22w1zn -f - <<'EOF'`, ...doc].join('\n');
    const lines = wrapCommand(cmd, 40, '      $ ');
    const at = lines.indexOf('apiVersion: v1');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at)).toEqual(doc);
    expect(lines.slice(0, at - 1).every((l) => l.endsWith(' \\'))).toBe(true);
    expect(lines[at - 1]).not.toMatch(/\\$/);
    expect(lines.slice(0, at).map((l) => l.replace(/^\s*\$?\s*/, '').replace(/ \\$/, '')).join(' ')).toBe(`kubectl apply --namespace bench-noclaims-mx22w1zn -f - <<'EOF'`);
  });

  it('columns are dropped by priority until the table fits; wide keeps them all', () => {
    const cols = [
      { header: 'A', priority: 0 },
      { header: 'B', priority: 2 },
      { header: 'C', priority: 1 },
      { header: 'D', priority: 0, flex: true, min: 5 },
    ];
    const rows = [['aaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddd dddd dddd dddd']];
    expect(layoutTable(cols, rows, 40).shown.map((c) => c.header)).toEqual(['A', 'B', 'C', 'D']);
    expect(layoutTable(cols, rows, 25).shown.map((c) => c.header)).toEqual(['A', 'C', 'D']);
    expect(layoutTable(cols, rows, 14).shown.map((c) => c.header)).toEqual(['A', 'D']);
    const wide = layoutTable(cols, rows, 14, { wide: true });
    expect(wide.shown).toHaveLength(4);
    expect(wide.lines[1]!.at(-1)).toBe('dddd dddd dddd dddd');
  });

  it('-o wide: every column and the whole last event; the table has AGE and RESTARTS', async () => {
    const d = await diagnoseFixture('workload-crash-loop');
    const narrow = renderText(sanitizeDeep(d), plain, { width: 60 });
    expect(narrow.split('\n')[narrow.split('\n').findIndex((l) => l.includes('ORDINAL'))]).not.toMatch(/NODE/);
    const wide = renderText(sanitizeDeep(d), plain, { width: 60, wide: true });
    const head = wide.split('\n').find((l) => l.includes('ORDINAL'))!;
    expect(head.split(/\s{2,}/).map((x) => x.trim()).filter(Boolean)).toEqual(['ORDINAL', 'POD', 'STATUS', 'READY', 'RESTARTS', 'AGE', 'NODE', 'PVC', 'LAST EVENT']);
    expect(wide).toMatch(/quiz-0 {2,}CrashLoopBackOff {2,}1\/2 {2,}1 \(1s ago\) {2,}\S+ {2,}kwok-node-2/);
    expect(wide).toMatch(/Back-off restarting failed container mongo in pod quiz-0_/);
    expect(await render(d, 'wide')).toContain('RESTARTS');
  });
});

describe('bounded', () => {
  it('a 100,000-character name (a revision, a namespace) is laid out in bounded time and width', async () => {
    const d = await diagnoseFixture('workload-rollout-stuck', (s) => {
      s.statefulSets[0]!.status!.updateRevision += 'x'.repeat(100_000);
    });
    const t = Date.now();
    const text = renderText(sanitizeDeep(d), plain, { width: 80 });
    expect(Date.now() - t).toBeLessThan(2000);
    expect(text.split('\n').filter((l) => stringWidth(l) > 80)).toEqual([]);
    expect(text).toMatch(/more characters\)/);
  });
});
