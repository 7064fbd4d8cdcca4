// The fuzz harness: seeded mutations of every recorded snapshot (examples/ and test/fixtures/)
// and the hand-made hostile cases of issue 8, each run through `diagnose --from` either
// in-process (the command function over the dump, most cases) or as a real
// `node bin/sts-doctor.js` process (with a wall-clock and memory limit), and judged by one
// oracle: exit 0, 1 or 2; no "internal error"; no `undefined` or `[object Object]`; no raw
// control character on stdout or stderr; within 5 s (and 300 MB for a real process).
/* eslint-disable @typescript-eslint/no-explicit-any -- mutations reach into arbitrary JSON */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const repo = join(import.meta.dirname, '..', '..');
export const TIME_LIMIT_MS = 5_000;
export const MEMORY_LIMIT_MB = 300;

/** A small, fast, seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every recorded snapshot, parsed once: `{ name, doc }`. */
export function corpus(): { name: string; doc: Record<string, unknown> }[] {
  const out: { name: string; doc: Record<string, unknown> }[] = [];
  for (const dir of [join(repo, 'examples'), join(repo, 'test', 'fixtures')]) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
      out.push({ name: f, doc: parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown> });
    }
  }
  return out;
}

/** Strings a hostile cluster could put anywhere: terminal escapes, C1, bidi, NUL, CR, XML-forbidden characters. */
export const HOSTILE_STRINGS = [
  '\x1b]0;pwned\x07',
  '\x1b]52;c;ZWNobyBwd25lZA==\x07',
  '\x1b[2J\x1b[H✔ No problems found.',
  '\u009b31mred',
  '\u202eevil\u202c',
  'cr\roverwrite',
  'nul\x00byte',
  'bell\x07\x08\x0b\x0c\x7f',
  '<![CDATA[ ]]> & </failure>',
  '%0A::error::injected',
];

const HOSTILE_VALUES: unknown[] = [null, 0, -1, 1.5, 1e6, 2e9, true, '', 'x', [], {}, [null], [1, 'a'], { a: 1 }, ...HOSTILE_STRINGS];

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

function slots(root: unknown, out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 40) return out;
  if (Array.isArray(root)) {
    root.forEach((v, i) => {
      out.push({ parent: root, key: i });
      slots(v, out, depth + 1);
    });
  } else if (root && typeof root === 'object') {
    for (const [k, v] of Object.entries(root)) {
      out.push({ parent: root as Record<string, unknown>, key: k });
      slots(v, out, depth + 1);
    }
  }
  return out;
}

const pick = <T>(r: () => number, list: T[]): T => list[Math.floor(r() * list.length)]!;

/**
 * One seeded mutation of a parsed dump, in place: a random field replaced by a hostile value,
 * deleted, given the wrong type, or a string made hostile; or a targeted one (a pod renamed to
 * ordinal 99999999, `spec.replicas` of a million or two billion, a duplicated item, a long
 * message). Returns a short description for the failure report.
 */
export function mutate(doc: Record<string, unknown>, r: () => number): string {
  const items = (Array.isArray(doc.items) ? doc.items : []) as Record<string, any>[];
  const kind = r();
  if (kind < 0.08 && items.length) {
    // Earlier mutations of the same document may have deleted a metadata: only whole objects are renamed.
    const pods = items.filter((i) => i?.kind === 'Pod' && i.metadata && typeof i.metadata === 'object');
    const sts = items.find((i) => i?.kind === 'StatefulSet');
    if (pods.length && typeof sts?.metadata?.name === 'string') {
      const p = pick(r, pods);
      const name = `${sts.metadata.name}-99999999`;
      p.metadata.name = name;
      // Labels an earlier mutation made a scalar stay as they are (seed 1007123688 crashed the harness here).
      const labels = p.metadata.labels;
      if (labels && typeof labels === 'object' && !Array.isArray(labels)) labels['statefulset.kubernetes.io/pod-name'] = name;
      return `pod renamed to ${name}`;
    }
  }
  if (kind < 0.14 && items.length) {
    const sts = items.find((i) => i?.kind === 'StatefulSet');
    if (sts?.spec && typeof sts.spec === 'object') {
      const v = pick(r, [1_000_000, 2_000_000_000, -3, 2.5, 2 ** 53]);
      if (r() < 0.7) sts.spec.replicas = v;
      else sts.spec.ordinals = { start: v };
      return `StatefulSet replicas/ordinals ${v}`;
    }
  }
  if (kind < 0.18 && items.length) {
    const i = pick(r, items);
    items.push(structuredClone(i));
    return 'item duplicated';
  }
  const all = slots(doc);
  if (all.length === 0) return 'nothing to mutate';
  const s = pick(r, all);
  const cur = (s.parent as Record<string | number, unknown>)[s.key];
  const path = String(s.key);
  const op = r();
  if (op < 0.25 && typeof cur === 'string') {
    (s.parent as Record<string | number, unknown>)[s.key] = cur + pick(r, HOSTILE_STRINGS);
    return `hostile text at ${path}`;
  }
  if (op < 0.4) {
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete s.parent[s.key as string];
    return `deleted ${path}`;
  }
  if (op < 0.45 && typeof cur === 'string') {
    (s.parent as Record<string | number, unknown>)[s.key] = cur + 'x'.repeat(100_000);
    return `long text at ${path}`;
  }
  const v = pick(r, HOSTILE_VALUES);
  (s.parent as Record<string | number, unknown>)[s.key] = structuredClone(v);
  return `${path} = ${JSON.stringify(v)}`;
}

/** What one run printed and how it ended. */
export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak RSS in MB (real processes only). */
  rssMb?: number;
  /** The error that escaped the command, for in-process runs (an "internal error"). */
  internal?: string;
  timedOut?: boolean;
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** The oracle: the list of rules an outcome breaks (empty when it passes). */
export function judge(o: Outcome, realProcess: boolean): string[] {
  const bad: string[] = [];
  if (o.timedOut) bad.push(`did not end within ${TIME_LIMIT_MS} ms`);
  else if (o.code !== 0 && o.code !== 1 && o.code !== 2) bad.push(`exit code ${o.code}`);
  if (o.internal) bad.push(`internal error: ${o.internal}`);
  if (/internal error/.test(o.stderr)) bad.push(`stderr: ${o.stderr.split('\n').find((l) => /internal error/.test(l))}`);
  for (const [name, text] of [['stdout', o.stdout], ['stderr', o.stderr]] as const) {
    const m = /undefined|\[object Object\]|NaN/.exec(text);
    if (m) bad.push(`${name} contains "${m[0]}" (…${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 20))})`);
    const c = RAW_CONTROL.exec(text);
    if (c) bad.push(`${name} contains raw control character U+${c[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (!o.timedOut && o.ms > TIME_LIMIT_MS) bad.push(`took ${o.ms} ms`);
  if (realProcess && o.rssMb !== undefined && o.rssMb > MEMORY_LIMIT_MB) bad.push(`peak RSS ${o.rssMb} MB`);
  return bad;
}

const probe = join(import.meta.dirname, 'fuzz-rss-probe.mjs');

/**
 * Runs `node bin/sts-doctor.js <args>` with a wall-clock limit (killed after 5 s) and reports
 * its peak RSS (written at exit by a preloaded probe). NO_COLOR keeps chalk's escapes out.
 * `STS_DOCTOR_FUZZ_BIN` runs another build (e.g. a copy of an older one, to count its failures).
 */
export async function runProcess(args: string[], tmp: string, stdin?: string): Promise<Outcome> {
  const rssFile = join(tmp, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', `file://${probe}`, process.env.STS_DOCTOR_FUZZ_BIN ?? join(repo, 'bin', 'sts-doctor.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', STS_DOCTOR_RSS_FILE: rssFile, KUBECONFIG: join(tmp, 'no-such-kubeconfig'), CI: 'true' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout.length < 5e6 ? (stdout += d) : undefined));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr.length < 1e6 ? (stderr += d) : undefined));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIME_LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      let rssMb: number | undefined;
      try {
        rssMb = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
        rmSync(rssFile, { force: true });
      } catch {
        rssMb = undefined;
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started, rssMb, timedOut });
    });
  });
}

/** Writes `doc` as JSON into `dir` and returns its path. */
export function writeDump(dir: string, name: string, doc: unknown): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}
