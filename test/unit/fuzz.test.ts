// Fuzz: seeded mutations of every recorded snapshot plus the hand-made hostile cases of issue 8,
// judged by one oracle (fuzz-harness.ts `judge`). Most mutation cases run the `diagnose`
// command function in-process over the dump; a sample of them, and every hostile case, run as
// real `node bin/sts-doctor.js` processes with a 5 s limit and their peak RSS measured.
//
//   STS_DOCTOR_FUZZ_SEED=<n>     replay a run (the seed is printed at the start)
//   STS_DOCTOR_FUZZ_CASES=<n>    number of mutation cases (default 2000)
//   STS_DOCTOR_FUZZ_PROCESS=1    run every mutation case as a real process (slow; for measuring)
//   STS_DOCTOR_FUZZ_REPORT=<f>   write every failure as JSON to <f>
//   STS_DOCTOR_FUZZ_BIN=<js>     real processes run this build instead of bin/sts-doctor.js
/* eslint-disable @typescript-eslint/no-explicit-any -- the hostile cases reach into arbitrary JSON */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { diagnoseCommand } from '../../src/commands/diagnose.js';
import { StsDoctorError } from '../../src/errors.js';
import type { OutputFormat } from '../../src/report/index.js';
import { errorLine } from '../../src/report/sanitize.js';
import { corpus, HOSTILE_STRINGS, judge, mutate, prng, runProcess, writeDump, type Outcome } from './fuzz-harness.js';

const seed = Number(process.env.STS_DOCTOR_FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31);
const CASES = Number(process.env.STS_DOCTOR_FUZZ_CASES) || 2000;
const ALL_PROCESS = process.env.STS_DOCTOR_FUZZ_PROCESS === '1';
/** Mutation cases that also run as real processes (every 80th), to bound memory too. */
const PROCESS_EVERY = 80;
const FORMATS: OutputFormat[] = ['text', 'junit', 'github', 'json', 'yaml'];

const tmp = temporaryDir('sts-doctor-fuzz-');
const failures: { id: string; what: string; bad: string[]; replay: string }[] = [];
const rss: number[] = [];

/** The `diagnose` command function in-process, with stdout and stderr captured; errors mapped as src/cli does. */
async function runInProcess(from: string, output: OutputFormat): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const started = Date.now();
  let code: number | null = null;
  let internal: string | undefined;
  try {
    code = await diagnoseCommand(undefined, { from, output, allNamespaces: true });
  } catch (e) {
    if (e instanceof StsDoctorError) {
      err.push(errorLine(e));
      code = e.exitCode;
    } else internal = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return { code, stdout: out.join(''), stderr: err.join(''), ms: Date.now() - started, internal };
}

function record(id: string, what: string, o: Outcome, real: boolean, replay: string): void {
  if (o.rssMb !== undefined) rss.push(o.rssMb);
  const bad = judge(o, real);
  if (bad.length) failures.push({ id, what, bad, replay });
}

afterAll(() => {
  if (process.env.STS_DOCTOR_FUZZ_REPORT) writeFileSync(process.env.STS_DOCTOR_FUZZ_REPORT, JSON.stringify({ seed, cases: CASES, failures }, null, 1));
  const sorted = [...rss].sort((a, b) => a - b);
  console.log(
    `fuzz: seed ${seed}, ${CASES} mutation cases + hostile cases, ${failures.length} failures; ` +
      `real processes: ${rss.length}, peak RSS median ${sorted[Math.floor(sorted.length / 2)] ?? '-'} MB, max ${sorted.at(-1) ?? '-'} MB`,
  );
});

describe(`fuzz (seed ${seed}; replay with STS_DOCTOR_FUZZ_SEED=${seed})`, () => {
  it(`${CASES} seeded mutations of every recorded snapshot`, async () => {
    console.log(`fuzz seed: ${seed} (STS_DOCTOR_FUZZ_SEED=${seed} replays it)`);
    const docs = corpus();
    const dir = join(tmp, 'mutations');
    for (let i = 0; i < CASES; i++) {
      const r = prng(seed + i);
      const base = docs[Math.floor(r() * docs.length)]!;
      const doc = structuredClone(base.doc);
      const what = [base.name];
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) what.push(mutate(doc, r));
      const output = FORMATS[Math.floor(r() * FORMATS.length)]!;
      const path = writeDump(dir, `case-${i}.json`, doc);
      const replay = `STS_DOCTOR_FUZZ_SEED=${seed} case ${i}`;
      const real = ALL_PROCESS || i % PROCESS_EVERY === 0;
      if (real) record(`case ${i}`, what.join('; '), await runProcess(['diagnose', '-A', '--from', path, '-o', output], tmp), true, replay);
      if (!ALL_PROCESS) record(`case ${i}`, what.join('; '), await runInProcess(path, output), false, replay);
    }
    const mine = failures.filter((f) => f.id.startsWith('case'));
    expect(mine.slice(0, 20), `${mine.length} of ${CASES} failed`).toEqual([]);
  }, 600_000);

  it('the hand-made hostile cases', async () => {
    const dir = join(tmp, 'hostile');
    mkdirSync(dir, { recursive: true });
    const docs = corpus();
    const base = (name: string): Record<string, any> => structuredClone(docs.find((d) => d.name === `${name}.yaml`)!.doc) as Record<string, any>;
    const items = (d: Record<string, any>, kind: string): Record<string, any>[] => d.items.filter((i: { kind: string }) => i.kind === kind);
    const cases: { name: string; args: (p: string) => string[]; doc?: unknown; setup?: () => string }[] = [];
    const dump = (name: string, edit: (d: Record<string, any>) => void, fixture = 'image-pull'): void => {
      const d = base(fixture);
      edit(d);
      cases.push({ name, doc: d, args: (p) => ['diagnose', '-A', '--from', p] });
    };
    dump('StatefulSet without spec', (d) => delete items(d, 'StatefulSet')[0]!.spec);
    dump('Pod without spec', (d) => delete items(d, 'Pod')[0]!.spec);
    dump('Pod without status', (d) => delete items(d, 'Pod')[0]!.status);
    dump('a number where a string belongs (image, message, name)', (d) => {
      items(d, 'Pod')[0]!.spec.containers[0].image = 42;
      items(d, 'Event')[0]!.message = 7;
      items(d, 'PersistentVolumeClaim')[0]!.spec.storageClassName = 3;
    });
    dump('an object where a string belongs', (d) => {
      for (const e of items(d, 'Event')) e.message = { text: 'x' };
    });
    dump('status.containerStatuses not a list', (d) => (items(d, 'Pod')[0]!.status.containerStatuses = 'nope'));
    dump('gaps not a list', (d) => (d.stsDoctor.gaps = 'nope'));
    dump('header now not a time', (d) => (d.stsDoctor.now = { a: 1 }));
    dump('items not objects', (d) => d.items.push(1, 'x', null, []));
    dump('pod quiz-99999999 adopted', (d) => {
      const p = structuredClone(items(d, 'Pod')[0]!);
      p.metadata.name = 'quiz-99999999';
      p.metadata.uid = 'fuzz-uid-99999999';
      p.metadata.labels['statefulset.kubernetes.io/pod-name'] = 'quiz-99999999';
      d.items.push(p);
    });
    dump('spec.replicas 1,000,000', (d) => (items(d, 'StatefulSet')[0]!.spec.replicas = 1_000_000), 'ordered-ready-stall');
    dump('spec.replicas 2,000,000,000', (d) => (items(d, 'StatefulSet')[0]!.spec.replicas = 2_000_000_000), 'ordered-ready-stall');
    dump('spec.ordinals.start 2,000,000,000', (d) => (items(d, 'StatefulSet')[0]!.spec.ordinals = { start: 2_000_000_000 }), 'ordered-ready-stall');
    dump('hostile event, waiting, terminated, condition messages and image', (d) => {
      for (const e of items(d, 'Event')) e.message = HOSTILE_STRINGS.join(' ');
      const p = items(d, 'Pod')[0]!;
      p.spec.containers[0].image = `evil\x1b]0;x\x07:1`;
      for (const c of p.status.containerStatuses ?? []) {
        c.image = `evil\x1b[2J`;
        c.state = { waiting: { reason: 'ImagePullBackOff\x1b[31m', message: HOSTILE_STRINGS.join(' ') } };
        c.lastState = { terminated: { reason: 'Error', exitCode: 1, message: '\x1b]52;c;eA==\x07' } };
      }
      for (const n of items(d, 'Node')) for (const c of n.status.conditions ?? []) c.message = '\x1b[2J\u009b1m\u202e';
    });
    dump('hostile text, junit', (d) => {
      for (const e of items(d, 'Event')) e.message = '\x00\x01\x02\x1b\x7f\u0085 ]]> <x> &amp;';
    });
    // 100,000 levels of nesting, written as text (JSON.stringify itself would overflow the stack).
    const deep = base('image-pull');
    items(deep, 'Pod')[0]!.metadata.annotations = { deep: '@DEEP@' };
    cases.push({ name: 'a value nested 100,000 deep', doc: JSON.stringify(deep).replace('"@DEEP@"', `${'['.repeat(100_000)}${']'.repeat(100_000)}`), args: (p) => ['diagnose', '-A', '--from', p] });
    for (const c of cases) {
      const p = writeDump(dir, `${c.name.replace(/\W+/g, '-')}.json`, c.doc);
      const args = c.args(p);
      for (const o of ['text', 'junit', 'github']) record(`hostile: ${c.name} -o ${o}`, args.join(' '), await runProcess([...args, '-o', o], tmp), true, args.join(' '));
    }

    // Files that are not dumps.
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const fifoDir = join(dir, 'with-fifo');
    mkdirSync(fifoDir);
    writeFileSync(join(fifoDir, 'a.json'), JSON.stringify(base('image-pull')));
    execFileSync('mkfifo', [join(fifoDir, 'b.yaml')]);
    const devDir = join(dir, 'with-device');
    mkdirSync(devDir);
    writeFileSync(join(devDir, 'a.json'), JSON.stringify(base('image-pull')));
    symlinkSync('/dev/zero', join(devDir, 'zero.yaml'));
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    const files: [string, string[]][] = [
      ['the zero device', ['diagnose', '--from', '/dev/zero']],
      ['a FIFO', ['diagnose', '--from', fifo]],
      ['a FIFO in a directory', ['diagnose', '--from', fifoDir]],
      ['a device in a directory', ['diagnose', '--from', devDir]],
      ['--from ""', ['diagnose', '--from', '']],
      ['a YAML alias bomb', ['diagnose', '--from', writeDump(dir, 'bomb.yaml', `${bomb.join('\n')}\nkind: List\nitems: []\n`)]],
      ['binary garbage', ['diagnose', '--from', writeDump(dir, 'garbage.yaml', '\x00\x1b[2J\xff\xfe garbage')]],
      ['an empty file', ['diagnose', '--from', writeDump(dir, 'empty.yaml', '')]],
      ['diagnose .', ['diagnose', '.', '--from', writeDump(dir, 'ok.json', base('image-pull'))]],
      ['-n ..', ['diagnose', '-n', '..', '--from', join(dir, 'ok.json')]],
      ['a name with escapes', ['diagnose', 'qu\x1b]0;x\x07iz', '--from', join(dir, 'ok.json')]],
      ['a selector that matches nothing', ['diagnose', '-A', '-l', 'app=typo', '--from', join(dir, 'ok.json')]],
      ['live: diagnose . (no request is made)', ['diagnose', '.']],
      ['live: -n ..', ['diagnose', 'quiz', '-n', '..']],
    ];
    for (const [name, args] of files) record(`hostile: ${name}`, args.join(' '), await runProcess(args, tmp), true, args.join(' '));
    const mine = failures.filter((f) => f.id.startsWith('hostile'));
    expect(mine, `${mine.length} hostile cases failed`).toEqual([]);
  }, 300_000);
});
