// Hostile data (issue 8): bounded by construction, untrusted text neutralised at one choke
// point, typed input validated once, dumps that are not regular files, names that are not DNS
// names, nothing matched, and what `snapshot` must not leak. Recorded fixtures, edited inline.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { diagnose } from '../../src/diagnosis.js';
import { loadSnapshots } from '../../src/commands/load.js';
import { redact, REDACTED } from '../../src/commands/snapshot.js';
import { NotFoundError, StsDoctorError, UsageError } from '../../src/errors.js';
import { render } from '../../src/report/index.js';
import { errorLine, sanitizeText } from '../../src/report/sanitize.js';
import { snapshotsFromDump } from '../../src/snapshot/from-dump.js';
import { rawFixture } from './fixtures.js';

const repo = join(import.meta.dirname, '..', '..');
const tmp = temporaryDir('sts-doctor-hostile-unit-');
type Item = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A recorded fixture's List, edited, written as JSON; returns its path. */
function dump(name: string, fixture: string, edit: (items: Item[], list: Item) => void): string {
  const list = structuredClone(rawFixture(fixture)) as Item;
  edit(list.items as Item[], list);
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify(list));
  return p;
}
const of = (items: Item[], kind: string): Item[] => items.filter((i) => i.kind === kind);

async function diagnoseDump(path: string) {
  const [s] = await snapshotsFromDump(path, {});
  return diagnose(s!);
}

describe('bounded by construction', () => {
  it('an adopted pod quiz-99999999 adds one row, not a hundred million', async () => {
    const path = dump('adopted', 'ordered-ready-stall', (items) => {
      const p = structuredClone(of(items, 'Pod')[0]!);
      p.metadata.name = 'quiz-99999999';
      p.metadata.uid = 'uid-99999999';
      p.metadata.labels['statefulset.kubernetes.io/pod-name'] = 'quiz-99999999';
      items.push(p);
    });
    const t0 = Date.now();
    const d = await diagnoseDump(path);
    expect(Date.now() - t0).toBeLessThan(2000);
    const table = d.statefulSets[0]!.table;
    expect(table.map((r) => [r.ordinal, r.exists, r.condemned])).toEqual([
      [0, true, false],
      [1, false, false],
      [2, false, false],
      [99999999, true, true],
    ]);
  });

  it.each([1_000_000, 2_000_000_000])('spec.replicas %i: missing ordinals are one range row and one range in the finding', async (replicas) => {
    const path = dump(`replicas-${replicas}`, 'ordered-ready-stall', (items) => (of(items, 'StatefulSet')[0]!.spec.replicas = replicas));
    const t0 = Date.now();
    const d = await diagnoseDump(path);
    const text = await render(d, 'text');
    expect(Date.now() - t0).toBeLessThan(2000);
    const range = d.statefulSets[0]!.table.find((r) => r.lastOrdinal !== undefined)!;
    expect(range).toMatchObject({ ordinal: 1, lastOrdinal: replicas - 1, pod: 'quiz-1', lastPod: `quiz-${replicas - 1}`, exists: false, status: 'Missing' });
    expect(d.statefulSets[0]!.table).toHaveLength(2);
    expect(text).toContain(`(quiz-1 … quiz-${replicas - 1})  Missing`);
    const stall = d.findings.find((f) => f.rule === 'ordered-ready-stall')!;
    expect(stall.summary).toContain(`quiz-1 … quiz-${replicas - 1}`);
    expect(stall.details).toMatchObject({ missingCount: replicas - 1, missingRanges: [{ from: 1, to: replicas - 1 }] });
    expect((stall.details!.missingOrdinals as number[]).length).toBeLessThanOrEqual(20);
  });

  it('evidence lines and message length are capped', async () => {
    const path = dump('many-events', 'image-pull', (items) => {
      const c = of(items, 'Pod')[0]!.status.containerStatuses.find((x: Item) => x.state?.waiting)!;
      c.state.waiting.message = `Back-off pulling image: ${'x'.repeat(50_000)}`;
    });
    const d = await diagnoseDump(path);
    for (const f of d.findings) {
      expect(f.evidence.length).toBeLessThanOrEqual(20);
      for (const e of f.evidence) expect(e.text.length).toBeLessThan(2100);
    }
    expect(JSON.stringify(d)).toContain('more characters)');
  });
});

describe('untrusted text', () => {
  const evil = 'boom \x1b]0;pwned\x07 \x1b[2J\u009b31m \u202eevil \x00 ]]> & <x>';
  const path = (): string =>
    dump('evil', 'image-pull', (items) => {
      for (const e of of(items, 'Event')) e.message = evil;
    });

  it('is shown escaped in text, junit and github, and kept verbatim (escaped by the encoder) in json and yaml', async () => {
    const d = await diagnoseDump(path());
    for (const format of ['text', 'junit', 'github'] as const) {
      const out = await render(d, format);
      // eslint-disable-next-line no-control-regex
      expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
      expect(out).toContain(format === 'junit' ? '\\x1b]0;pwned\\x07' : '\\x1b]0;pwned\\x07');
    }
    const json = await render(d, 'json');
    // eslint-disable-next-line no-control-regex
    expect(json).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(json).findings.some((f: { evidence: { text: string }[] }) => f.evidence.some((e) => e.text === evil))).toBe(true);
    const yaml = await render(d, 'yaml');
    // eslint-disable-next-line no-control-regex
    expect(yaml).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    const { parse } = await import('yaml');
    expect(JSON.stringify(parse(yaml))).toContain(JSON.stringify(evil).slice(1, -1));
  });

  it('junit is well-formed XML: no character XML 1.0 forbids, markup escaped', async () => {
    const out = await render(await diagnoseDump(path()), 'junit');
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u);
    expect(out).toContain(']]&gt; &amp; &lt;x&gt;');
    // A real XML 1.0 parser (expat, through python3 where the machine has it) accepts it.
    const py = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read()); print("well-formed")'], { input: out, encoding: 'utf8' });
    if (!py.error) expect(py.stdout.trim(), py.stderr).toBe('well-formed');
  });

  it('error lines on stderr are escaped and lose URL userinfo', () => {
    expect(errorLine(new StsDoctorError('GET https://admin:s3cret@10.0.0.1:6443/api: 500 \x1b]52;c;eA==\x07\nsecond'))).toBe(
      'sts-doctor: GET https://10.0.0.1:6443/api: 500 \\x1b]52;c;eA==\\x07\\nsecond\n',
    );
    expect(sanitizeText('a\tb\u202ec')).toBe('a\\tb\\u202ec');
  });
});

describe('typed input, validated once', () => {
  it('an invalid pod becomes a gap naming the field, never a TypeError', async () => {
    const path = dump('bad-pod', 'image-pull', (items) => (of(items, 'Pod')[0]!.status.containerStatuses = 'nope'));
    const d = await diagnoseDump(path);
    expect(d.gaps).toContainEqual({ resource: 'pods', reason: 'invalid', message: expect.stringMatching(/^pods: not understood: Pod [\w-]+\/quiz-0: status\.containerStatuses is not a list$/) });
    expect(d.statefulSets[0]!.table[0]!.status).toBe('Unknown');
    const text = await render(d, 'text');
    expect(text).not.toMatch(/undefined|\[object Object\]|NaN/);
  });

  it('an event message that is an object, a number for an image: gaps, not [object Object]', async () => {
    const path = dump('bad-types', 'image-pull', (items) => {
      of(items, 'Event')[0]!.message = { a: 1 };
      of(items, 'Pod')[0]!.spec.containers[0].image = 42;
    });
    const d = await diagnoseDump(path);
    const messages = d.gaps.map((g) => g.message).join('\n');
    expect(messages).toMatch(/^events: not understood: Event [\w./-]+: message is not a string$/m);
    expect(messages).toMatch(/^pods: not understood: Pod [\w-]+\/quiz-0: spec\.containers\[0\]\.image is not a string$/m);
    expect(await render(d, 'text')).not.toMatch(/undefined|\[object Object\]/);
  });

  it('a StatefulSet without spec, or replicas beyond int32, is one clear sentence', async () => {
    const noSpec = dump('no-spec', 'healthy', (items) => delete of(items, 'StatefulSet')[0]!.spec);
    await expect(snapshotsFromDump(noSpec, {})).rejects.toThrow(/^StatefulSet [\w-]+\/quiz: spec is missing; this StatefulSet cannot be diagnosed\.$/);
    const huge = dump('huge', 'healthy', (items) => (of(items, 'StatefulSet')[0]!.spec.replicas = 2 ** 40));
    await expect(snapshotsFromDump(huge, {})).rejects.toThrow(/spec\.replicas is not a number from 0 to 2147483647/);
  });

  it('a malformed snapshot header is one sentence', async () => {
    const path = dump('bad-header', 'healthy', (_items, list) => (list.stsDoctor.gaps = 'nope'));
    await expect(snapshotsFromDump(path, {})).rejects.toThrow(/the sts-doctor snapshot header is malformed: stsDoctor\.gaps is not a list\./);
  });
});

describe('dumps', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'bin', 'sts-doctor.js'), ...args], { encoding: 'utf8', timeout: 10_000 });

  it('refuses a FIFO, the zero device and a FIFO in a directory, without blocking', () => {
    const fifo = join(tmp, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const dir = join(tmp, 'with-fifo');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, 'b.json')]);
    for (const [path, what] of [
      [fifo, 'a FIFO'],
      ['/dev/zero', 'a character device'],
      [dir, 'a FIFO'],
    ] as const) {
      const r = cli('diagnose', '--from', path);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`is ${what}.*; --from reads regular files and directories only\\.\\n$`));
    }
  });

  it('refuses a dump over the size cap and a YAML alias bomb', () => {
    const big = dump('big', 'healthy', () => {});
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'sts-doctor.js'), 'diagnose', '--from', big], { encoding: 'utf8', env: { ...process.env, STS_DOCTOR_MAX_DUMP_BYTES: '1000' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the dump is larger than 0 MiB, the most sts-doctor reads/);
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(', ')}]`);
    const bomb = join(tmp, 'bomb.yaml');
    writeFileSync(bomb, `${lines.join('\n')}\nkind: List\nitems: []\n`);
    const b = cli('diagnose', '--from', bomb);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/YAML aliases expand the document by [\d,]+ nodes; sts-doctor refuses more than 10,000\./);
  });

  it('reads multi-document YAML with the core schema (timestamps stay strings)', async () => {
    const raw = rawFixture('healthy');
    const { stringify } = await import('yaml');
    const p = join(tmp, 'multi.yaml');
    writeFileSync(p, raw.items.map((i) => stringify(i)).join('---\n'));
    const [s] = await snapshotsFromDump(p, {});
    expect(typeof s!.pods[0]!.metadata.creationTimestamp).toBe('string');
    expect(diagnose(s!).summary.healthy).toBe(1);
  });
});

describe('names, and nothing matched', () => {
  const healthy = (): string => dump('healthy-copy', 'healthy', () => {});
  it.each([
    ['.', {}],
    ['..', {}],
    ['quiz', { namespace: '..' }],
    ['quiz', { namespace: '.' }],
    ['Quiz/../x', {}],
  ])('%s %o is a usage error before any read', async (name, opts) => {
    await expect(loadSnapshots(name, { from: healthy(), ...opts })).rejects.toBeInstanceOf(UsageError);
    await expect(loadSnapshots(name, { kubeconfig: '/nonexistent', ...opts })).rejects.toBeInstanceOf(UsageError);
  });

  it('--from "" is a usage error, not a live read', async () => {
    await expect(loadSnapshots(undefined, { from: '' })).rejects.toThrow(UsageError);
  });

  it('a selector or namespace that matches nothing is an error, not a green result', async () => {
    await expect(loadSnapshots(undefined, { from: healthy(), selector: 'app=typo', allNamespaces: true })).rejects.toThrow(new NotFoundError('No StatefulSet matches -l app=typo in any namespace in the dump.'));
    await expect(loadSnapshots(undefined, { from: healthy(), selector: 'app=typo' })).rejects.toThrow(/^No StatefulSet matches -l app=typo in namespace "[\w-]+" in the dump\.$/);
  });

  it('a name not found says where StatefulSets of that name are', async () => {
    const p = dump('two-ns', 'healthy', (items) => {
      const s = structuredClone(of(items, 'StatefulSet')[0]!);
      s.metadata.namespace = 'elsewhere';
      s.metadata.uid = 'other';
      items.push(s);
    });
    await expect(loadSnapshots('quiz', { from: p, namespace: 'nowhere' })).rejects.toThrow(/StatefulSet "quiz" is not in the dump for namespace "nowhere" \(the dump has no StatefulSet in that namespace\); a StatefulSet named "quiz" is in namespaces "e2e-healthy-[\w]+", "elsewhere"\./);
  });
});

describe('snapshot secrets', () => {
  it('redacts annotations (but the allow-list), command/args, httpHeaders, probe query strings and URL userinfo', () => {
    const o = {
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true', 'example.com/token': 'abc' } },
      spec: {
        containers: [
          {
            command: ['sh', '-c', 'curl -H "Authorization: Bearer x"'],
            args: ['--password=x'],
            image: 'https://user:pass@registry.example/app:1',
            readinessProbe: { httpGet: { path: '/ready?token=abc', httpHeaders: [{ name: 'Authorization', value: 'Bearer x' }] } },
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] } },
            lifecycle: { postStart: { httpGet: { path: '/x?k=v', httpHeaders: [{ name: 'X-Key', value: 'k' }] } } },
          },
        ],
      },
    };
    redact(o);
    expect(o.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true', 'example.com/token': REDACTED });
    const c = o.spec.containers[0]!;
    expect(c.command).toEqual([REDACTED, REDACTED, REDACTED]);
    expect(c.args).toEqual([REDACTED]);
    expect(c.image).toBe('https://registry.example/app:1');
    expect(c.readinessProbe.httpGet).toEqual({ path: `/ready?${REDACTED}`, httpHeaders: [{ name: 'Authorization', value: REDACTED }] });
    expect(c.livenessProbe.exec.command).toEqual(['cat', '/tmp/healthy']);
    expect(c.lifecycle.postStart.httpGet).toEqual({ path: `/x?${REDACTED}`, httpHeaders: [{ name: 'X-Key', value: REDACTED }] });
  });
});
