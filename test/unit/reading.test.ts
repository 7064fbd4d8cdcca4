// Reading, offline: the dump reader on recorded fixtures (typed lists, gaps, several namespaces),
// the snapshot List (redaction), joining diagnoses of several namespaces and their text overview,
// rules under gaps (never "missing" because not read), and the start-up path (no ink, no React).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Chalk } from 'chalk';
import { diagnose } from '../../src/diagnosis.js';
import { diagnoseAll } from '../../src/commands/diagnose.js';
import { redact, REDACTED, snapshotToList } from '../../src/commands/snapshot.js';
import { renderText } from '../../src/report/text.js';
import { snapshotsFromDump } from '../../src/snapshot/from-dump.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { fixturePath, loadFixture, rawFixture } from './fixtures.js';

const repo = join(import.meta.dirname, '..', '..');
const tmp = temporaryDir('sts-doctor-reading-unit-');

function write(name: string, content: string): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

/** The fixture's items as a plain `kubectl get -o json` List (no sts-doctor header). */
function plainList(name: string, keep: (kind: string) => boolean = () => true): string {
  const raw = rawFixture(name);
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: raw.items.filter((i) => keep(i.kind as string)) });
}

describe('dump reader', () => {
  it('typed lists show a resource was read even when empty (items: null, as cluster-info dump writes)', async () => {
    const raw = rawFixture('image-pull');
    const dir = join(tmp, 'typed');
    mkdirSync(dir, { recursive: true });
    const byKind = (k: string): unknown[] => raw.items.filter((i) => i.kind === k);
    writeFileSync(join(dir, 'statefulsets.json'), JSON.stringify({ kind: 'StatefulSetList', apiVersion: 'apps/v1', items: byKind('StatefulSet') }));
    writeFileSync(join(dir, 'pods.json'), JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: byKind('Pod').map((p) => ({ ...(p as object), kind: undefined })) }));
    writeFileSync(join(dir, 'events.json'), JSON.stringify({ kind: 'EventList', apiVersion: 'v1', items: byKind('Event') }));
    writeFileSync(join(dir, 'daemonsets.json'), JSON.stringify({ kind: 'DaemonSetList', apiVersion: 'apps/v1', items: null }));
    writeFileSync(join(dir, 'resourcequotas.json'), JSON.stringify({ kind: 'ResourceQuotaList', apiVersion: 'v1', items: null }));
    writeFileSync(join(dir, 'logs.txt'), 'not read');
    const [s] = await snapshotsFromDump(dir, {});
    expect(s!.pods.map((p) => [p.kind, p.metadata.name])).toEqual([['Pod', 'quiz-0']]);
    expect(s!.gaps.map((g) => g.resource).sort()).toEqual(['controllerrevisions', 'networkpolicies', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'services', 'storageclasses', 'volumeattachments']);
    expect(s!.gaps.every((g) => g.reason === 'absent' && g.message === `${g.resource}: not in the dump`)).toBe(true);
  });

  it('-A splits a dump into one snapshot per namespace; -n picks one; -l filters', async () => {
    const dir = join(tmp, 'two');
    mkdirSync(dir, { recursive: true });
    copyFileSync(fixturePath('image-pull'), join(dir, 'a.yaml'));
    copyFileSync(fixturePath('healthy'), join(dir, 'b.yaml'));
    const all = await snapshotsFromDump(dir, { allNamespaces: true });
    const nsA = rawFixture('image-pull').items[0]!.metadata as { namespace: string };
    const nsB = rawFixture('healthy').items[0]!.metadata as { namespace: string };
    expect(all.map((s) => s.namespace)).toEqual([nsA.namespace, nsB.namespace].sort());
    for (const s of all) expect(s.pods.every((p) => p.metadata.namespace === s.namespace)).toBe(true);
    const one = await snapshotsFromDump(dir, { namespace: nsB.namespace });
    expect(one.map((s) => s.statefulSets.map((x) => x.metadata.namespace))).toEqual([[nsB.namespace]]);
    expect(await snapshotsFromDump(dir, { allNamespaces: true, labelSelector: 'app=nothing' })).toEqual([]);
    await expect(snapshotsFromDump(dir, { allNamespaces: true, name: 'quiz' })).rejects.toThrow(/cannot be combined with -A/);
  });

  it('--now overrides; else the header time; else the newest timestamp in the dump', async () => {
    const header = rawFixture('image-pull').stsDoctor as { now: string };
    expect((await loadFixture('image-pull')).now).toBe(header.now);
    const [plain] = await snapshotsFromDump(write('plain.json', plainList('image-pull')), {});
    expect(Date.parse(plain!.now)).toBeGreaterThan(0);
    expect(Date.parse(plain!.now)).toBeLessThanOrEqual(Date.parse(header.now) + 5000);
    const [fixed] = await snapshotsFromDump(fixturePath('image-pull'), { now: '2030-01-01T00:00:00Z' });
    expect(fixed!.now).toBe('2030-01-01T00:00:00Z');
  });
});

describe('snapshot List', () => {
  it('redacts every env value (templates, pods, revisions) and keeps names and valueFrom', async () => {
    const s = await loadFixture('image-pull');
    const list = snapshotToList(s);
    const text = JSON.stringify(list);
    expect(text).not.toContain('mongodb://localhost/quiz');
    const envs: unknown[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'env') envs.push(...(x as unknown[]));
          else visit(x);
        }
      }
    };
    visit(list.items);
    expect(envs.length).toBeGreaterThanOrEqual(3); // StatefulSet, ControllerRevision, Pod
    for (const e of envs) expect(e).toEqual({ name: 'MONGODB_URI', value: REDACTED });
    const o = { env: [{ name: 'A', value: 'secret' }, { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] };
    redact(o);
    expect(o.env).toEqual([{ name: 'A', value: REDACTED }, { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]);
  });

  it('several namespaces share one List: cluster-scoped objects once, header namespace *; read back it diagnoses the same', async () => {
    const a = await loadFixture('image-pull');
    const b = await loadFixture('healthy');
    const list = snapshotToList([a, b], true);
    expect(list.stsDoctor.namespace).toBe('*');
    const nodes = list.items.filter((i) => i.kind === 'Node').map((n) => n.metadata.name);
    expect(nodes.length).toBeGreaterThan(0);
    expect(new Set(nodes).size).toBe(nodes.length);
    const path = write('all.yaml', stringify(list));
    const back = await snapshotsFromDump(path, { allNamespaces: true });
    const before = diagnoseAll([await loadFixture('image-pull'), await loadFixture('healthy')].sort((x, y) => x.namespace.localeCompare(y.namespace)), true);
    const after = diagnoseAll(back, true);
    expect(after.findings).toEqual(before.findings);
    expect(after.statefulSets).toEqual(before.statefulSets);
  });
});

describe('several StatefulSets', () => {
  it('one Diagnosis: namespace *, summary recounted; text has one overview line each, then the findings grouped', async () => {
    const snaps = [await loadFixture('healthy'), await loadFixture('image-pull')];
    const d = diagnoseAll(snaps, true);
    expect(d.namespace).toBe('*');
    expect(d.summary).toMatchObject({ statefulSets: 2, healthy: 1 });
    expect(d.summary.critical).toBe(d.findings.filter((f) => f.severity === 'critical').length);
    const text = renderText(d, new Chalk({ level: 0 }), 160);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS$/);
    expect(lines[1]).toMatch(new RegExp(`^${snaps[0]!.namespace}\\s+quiz\\s+3/3\\s+healthy$`));
    expect(lines[2]).toMatch(new RegExp(`^${snaps[1]!.namespace}\\s+quiz\\s+0/3\\s+✖ image-pull: Pod quiz-0 cannot pull image`));
    expect(lines[3]).toBe('2 StatefulSets, 1 healthy');
    expect(text).toContain(`── StatefulSet ${snaps[1]!.namespace}/quiz`);
    expect(text).not.toContain('ORDINAL');
    // One StatefulSet keeps the detailed view.
    expect(renderText(diagnoseAll([await loadFixture('image-pull')]), new Chalk({ level: 0 }), 160)).toContain('ORDINAL');
    expect(renderText(diagnoseAll([], true), new Chalk({ level: 0 }))).toContain('No StatefulSet found in any namespace.');
  });
});

describe('rules under gaps: unknown, never missing', () => {
  const forbid = (s: Snapshot, ...resources: Snapshot['gaps'][number]['resource'][]): void => {
    for (const r of resources) {
      (s as unknown as Record<string, unknown[]>)[{ events: 'events', nodes: 'nodes', persistentvolumes: 'persistentVolumes', storageclasses: 'storageClasses', persistentvolumeclaims: 'persistentVolumeClaims', pods: 'pods' }[r as string] ?? r] = [];
      s.gaps.push({ resource: r, reason: 'forbidden', message: `${r}: forbidden` });
    }
  };

  it('pvc-unbound without events and classes: low confidence, says what could not be read', async () => {
    const s = await loadFixture('pvc-unbound');
    forbid(s, 'events', 'storageclasses', 'persistentvolumes', 'nodes');
    const d = diagnose(s);
    const f = d.findings.find((x) => x.rule === 'pvc-unbound')!;
    expect(f.confidence).toBe('low');
    expect(f.summary).toMatch(/the cause is unknown: events and storageclasses could not be read/);
    expect(d.findings.flatMap((x) => x.evidence).filter((e) => e.type === 'absence' && ['Node', 'PersistentVolume', 'StorageClass'].includes(e.object.kind))).toEqual([]);
    // With the reads, the same fixture names the cause.
    expect(diagnose(await loadFixture('pvc-unbound')).findings.find((x) => x.rule === 'pvc-unbound')!.confidence).toBe('high');
  });

  it('claims or pods not read show as Unknown in the table, and no finding says they do not exist', async () => {
    const s = await loadFixture('image-pull');
    forbid(s, 'persistentvolumeclaims');
    const d = diagnose(s);
    expect(d.statefulSets[0]!.table.map((r) => r.claims[0]!.phase)).toEqual(['Unknown', 'Unknown', 'Unknown']);
    expect(d.findings.flatMap((x) => x.evidence).filter((e) => e.type === 'absence' && e.object.kind === 'PersistentVolumeClaim')).toEqual([]);
    const p = await loadFixture('image-pull');
    forbid(p, 'pods');
    const dp = diagnose(p);
    expect(dp.statefulSets[0]!.table.map((r) => r.status)).toEqual(['Unknown', 'Unknown', 'Unknown']);
    expect(dp.findings.flatMap((x) => x.evidence).filter((e) => e.type === 'absence' && e.object.kind === 'Pod')).toEqual([]);
  });

  it('node-lost: nodes not read means node state unknown, not a deleted node', async () => {
    const s = await loadFixture('node-lost');
    forbid(s, 'nodes');
    const d = diagnose(s);
    expect(d.findings.flatMap((x) => x.evidence).filter((e) => e.object.kind === 'Node' && e.type === 'absence')).toEqual([]);
    expect(d.findings.some((f) => f.rule === 'node-lost' && /no longer exists/.test(f.summary))).toBe(false);
  });
});

describe('start-up path', () => {
  beforeAll(() => {
    if (!existsSync(join(repo, 'dist', 'cli.js'))) {
      const b = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { cwd: repo, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
    }
  });

  // Markers of ink and React that survive minification: ink's host element names, React's element symbol.
  const INK = ['ink-box', 'ink-text'];
  const REACT = ['react.transitional.element', 'react.element'];

  it('the markers really identify ink and React', () => {
    expect(readFileSync(join(repo, 'node_modules', 'ink', 'build', 'reconciler.js'), 'utf8')).toContain(INK[0]);
    const reactProd = readdirSync(join(repo, 'node_modules', 'react', 'cjs')).filter((f) => f.endsWith('production.js'));
    expect(reactProd.some((f) => readFileSync(join(repo, 'node_modules', 'react', 'cjs', f), 'utf8').includes('react.transitional.element'))).toBe(true);
  });

  it.each([
    ['diagnose -o json', ['diagnose', '--from', fixturePath('image-pull'), '-o', 'json'], 1],
    ['diagnose (text)', ['diagnose', '--from', fixturePath('image-pull')], 1],
    ['diagnose -o yaml', ['diagnose', '--from', fixturePath('image-pull'), '-o', 'yaml'], 1],
    ['sts-doctor alone (help on stdout)', [], 0],
    ['ui (one sentence, exit 2)', ['ui'], 2],
  ] as const)('%s, not on a TTY, loads neither ink nor React', (_label, args, code) => {
    // A module hook records every module the process loads (resolved URLs).
    const log = join(tmp, `loads-${Math.random().toString(36).slice(2)}.txt`);
    const hooks = write(
      'hooks.mjs',
      `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.STS_DOCTOR_LOADS, url + '\\n'); return next(url, context); }\n`,
    );
    const register = write('register.mjs', `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, join(repo, 'bin', 'sts-doctor.js'), ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1', STS_DOCTOR_LOADS: log },
    });
    expect(r.status, r.stderr).toBe(code);
    if (args.length === 0) {
      // Without a terminal, `sts-doctor` alone is the help, on stdout, and nothing on stderr.
      expect(r.stdout).toMatch(/^Usage: sts-doctor /);
      expect(r.stdout).toContain('ui [options]');
      expect(r.stderr).toBe('');
    }
    if (args[0] === 'ui') expect(r.stderr).toBe('sts-doctor: ui needs a terminal on stdin and stderr, outside CI: without one, use sts-doctor diagnose.\n');
    const urls = readFileSync(log, 'utf8').trim().split('\n');
    const dist = urls.filter((u) => u.startsWith('file:') && u.includes('/dist/'));
    expect(dist.some((u) => u.endsWith('/dist/cli.js'))).toBe(true); // the hook saw the bundle
    expect(urls.filter((u) => /\/node_modules\/(ink|react|react-reconciler|yoga-layout)\//.test(u))).toEqual([]);
    for (const u of dist) {
      const code = readFileSync(new URL(u), 'utf8');
      for (const m of [...INK, ...REACT]) expect(code.includes(m), `${u} contains ${m}`).toBe(false);
    }
  });
});
