// Application logs as evidence: which containers are read (bounded per StatefulSet, never per
// replica), how an excerpt is bounded, how a stored excerpt is checked, and how it is printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { diagnose } from '../../src/diagnosis.js';
import { render } from '../../src/report/index.js';
import { boundLog, LOG_LINE_CHARS, LOG_TAIL_LINES, logRequests, logWorthReading, MAX_LOG_READS } from '../../src/snapshot/logs.js';
import { snapshotFromDump } from '../../src/snapshot/from-dump.js';
import type { ContainerStatus, Pod, StatefulSet } from '../../src/snapshot/types.js';
import { fixturePath, loadFixture } from './fixtures.js';

const sts = (name: string): StatefulSet =>
  ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: 'demo', uid: `${name}-uid` }, spec: { replicas: 50, selector: { matchLabels: { app: name } }, template: { spec: { containers: [{ name: 'app' }] } } } }) as StatefulSet;

const crashing: ContainerStatus = { name: 'app', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } };
const healthy: ContainerStatus = { name: 'app', ready: true, restartCount: 0, state: { running: {} } };

const pod = (set: string, ordinal: number, status: ContainerStatus, init: ContainerStatus[] = [], initSpec: Pod['spec']['initContainers'] = []): Pod =>
  ({
    kind: 'Pod',
    metadata: { name: `${set}-${ordinal}`, namespace: 'demo', uid: `${set}-${ordinal}-uid`, labels: { app: set }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set, uid: `${set}-uid`, controller: true }] },
    spec: { containers: [{ name: 'app' }], initContainers: initSpec },
    status: { phase: 'Running', containerStatuses: [status], initContainerStatuses: init },
  }) as Pod;

describe('logRequests: what is read', () => {
  it('3 or 50 crash-looping replicas: the same 3 reads, lowest ordinals, --previous', () => {
    const s = sts('quiz');
    const three = logRequests([s], [2, 0, 1].map((i) => pod('quiz', i, crashing)), 'demo');
    const fifty = logRequests([s], Array.from({ length: 50 }, (_, i) => pod('quiz', 49 - i, crashing)), 'demo');
    expect(three).toEqual(fifty);
    expect(fifty.map((r) => [r.pod, r.container, r.previous])).toEqual([
      ['quiz-0', 'app', true],
      ['quiz-1', 'app', true],
      ['quiz-2', 'app', true],
    ]);
  });

  it('a healthy StatefulSet costs no read; a finished init container or a sidecar neither', () => {
    const doneInit: ContainerStatus = { name: 'init', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
    const sidecar: ContainerStatus = { name: 'proxy', ready: true, restartCount: 0, state: { running: {} } };
    const pods = [0, 1, 2].map((i) => pod('quiz', i, healthy, [doneInit, sidecar], [{ name: 'init' }, { name: 'proxy', restartPolicy: 'Always' }]));
    expect(logRequests([sts('quiz')], pods, 'demo')).toEqual([]);
  });

  it('which run: previous after a crash, current for a failed exit, an unready container, a running init container', () => {
    expect(logWorthReading(crashing, false)).toEqual({ previous: true });
    expect(logWorthReading({ ...healthy, ready: false }, false)).toEqual({ previous: false });
    expect(logWorthReading({ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }, false)).toEqual({ previous: false });
    expect(logWorthReading({ name: 'a', ready: false, restartCount: 0, state: { running: {} } }, true)).toEqual({ previous: false });
    // Waiting without a previous run (ContainerCreating, ImagePullBackOff): no logs exist.
    expect(logWorthReading({ name: 'a', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }, false)).toBeUndefined();
    expect(logWorthReading(healthy, false)).toBeUndefined();
  });

  it('many failing StatefulSets: at most MAX_LOG_READS in all', () => {
    const sets = Array.from({ length: 30 }, (_, i) => sts(`s${i}`));
    const pods = sets.flatMap((s) => [0, 1, 2, 3].map((o) => pod(s.metadata.name, o, crashing)));
    expect(logRequests(sets, pods, 'demo')).toHaveLength(MAX_LOG_READS);
  });
});

describe('boundLog: an excerpt is bounded by construction', () => {
  it('keeps the last lines, cuts long lines, marks truncation', () => {
    const many = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const b = boundLog(`${many}\n`, 1 << 20);
    expect(b.lines).toHaveLength(LOG_TAIL_LINES);
    expect(b.lines.at(-1)).toBe('line 99');
    expect(b.truncated).toBe(true);
    const long = boundLog('x'.repeat(10_000), 1 << 20);
    expect(long.lines[0]).toHaveLength(LOG_LINE_CHARS + 1);
    expect(long.truncated).toBe(true);
    expect(boundLog('a\r\nb\n', 1 << 20)).toEqual({ lines: ['a', 'b'], truncated: false });
    expect(boundLog('', 1 << 20)).toEqual({ lines: [], truncated: false });
    // The kubelet stopped at limitBytes: the answer is cut.
    expect(boundLog('abcd', 4).truncated).toBe(true);
  });
});

describe('stored excerpts (snapshot header containerLogs)', () => {
  const withHeader = (edit: (h: Record<string, unknown>) => void): string => {
    const list = parse(readFileSync(fixturePath('logs-crash-loop'), 'utf8')) as { stsDoctor: Record<string, unknown> };
    edit(list.stsDoctor);
    const file = join(tmpdir(), `sts-doctor-logs-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(list));
    return file;
  };

  it('the recorded crash loop quotes the crashed run offline, escaped in text', async () => {
    const s = await loadFixture('logs-crash-loop');
    expect(s.containerLogs?.length).toBeGreaterThan(0);
    const d = diagnose(s);
    const f = d.findings.find((x) => x.rule === 'crash-loop')!;
    const log = f.evidence.find((e) => e.type === 'log')!;
    expect(log.label).toBe('logs -c mongo --previous');
    expect(log.text).toContain('Permission denied');
    expect(log.text).toContain('\u001b');
    const text = await render(d, 'text');
    for (const format of ['junit', 'github'] as const) expect(await render(d, format)).not.toContain('\u001b');
    expect(text).toContain('\\x1b[31mFATAL');
    expect(text).not.toContain('\u001b');
  });

  it('an ill-formed entry is dropped with a podlogs gap; a huge one is bounded again', async () => {
    const bad = await snapshotFromDump(
      withHeader((h) => {
        const logs = h.containerLogs as Record<string, unknown>[];
        logs.push({ ...logs[0], lines: 'not a list' });
        logs[0]!.lines = Array.from({ length: 5000 }, () => 'y'.repeat(5000));
      }),
      {},
    );
    expect(bad.gaps).toEqual([{ resource: 'podlogs', reason: 'invalid', message: expect.stringMatching(/^podlogs: not understood: containerLogs\[\d+\]: lines is not a list$/) }]);
    expect(bad.containerLogs).toHaveLength(1);
    expect(bad.containerLogs![0]!.lines).toHaveLength(LOG_TAIL_LINES);
    expect(bad.containerLogs![0]!.truncated).toBe(true);
    const notList = await snapshotFromDump(withHeader((h) => (h.containerLogs = 'x')), {});
    expect(notList.gaps.map((g) => g.message)).toEqual(['podlogs: not understood: containerLogs is not a list']);
  }, 30_000); // a 25 MB dump: about 3.5 s alone, over 5 s on a loaded machine

  it('an excerpt of an earlier pod of the same name (another uid) is never quoted', async () => {
    const s = await snapshotFromDump(withHeader((h) => ((h.containerLogs as Record<string, unknown>[])[0]!.uid = 'an-earlier-pod')), {});
    expect(s.containerLogs).toEqual([]);
  });
});
