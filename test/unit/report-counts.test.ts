// Counts that mean something (issue 12): the readiness of the ordinals the StatefulSet keeps,
// condemned pods apart, in the header, the JSON, wait's progress line and recover's watch.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { verifyLines } from '../../src/commands/recover.js';
import { diagnose } from '../../src/diagnosis.js';
import { progressLine } from '../../src/recovery/watch.js';
import { renderText } from '../../src/report/text.js';
import { SnapshotView, formatReplicaCounts } from '../../src/snapshot/view.js';
import { loadFixture } from './fixtures.js';

describe('replica counts of the kept ordinals', () => {
  it('a blocked scale-down (3 → 2, quiz-0 not Ready, quiz-2 condemned and Ready) is 1/2 ready, 1 condemned everywhere, never 2/2 or 3/2', async () => {
    const s = await loadFixture('workload-scale-down-blocked');
    const sts = s.statefulSets[0]!;
    expect(sts.status?.readyReplicas).toBe(2); // what the controller says: quiz-1 and the condemned quiz-2
    const counts = new SnapshotView(s).replicaCounts(sts);
    expect(counts).toEqual({ replicas: 2, ready: 1, condemned: 1, condemnedReady: 1 });
    const d = diagnose(s);
    expect(d.statefulSets[0]!.replicas).toMatchObject({ desired: 2, ready: 1, condemned: 1, statusReady: 2, existing: 3 });
    const text = renderText(d, new Chalk({ level: 0 }), 120);
    expect(text.split('\n')[0]).toMatch(/ 1\/2 ready, 1 condemned /);
    expect(text).not.toMatch(/\b[23]\/2 ready/);
    expect(progressLine(d)).toMatch(/^quiz: 1\/2 ready, 1 condemned; probe-failing quiz-0: /);
    expect(verifyLines('quiz')(s).get('statefulset quiz')).toMatch(/^1\/2 ready, 1 condemned, 3 pods/);
  });

  it('without condemned pods the words are the plain ready/desired', async () => {
    const s = await loadFixture('healthy');
    const d = diagnose(s);
    expect(d.statefulSets[0]!.replicas).toMatchObject({ desired: 3, ready: 3, condemned: 0 });
    expect(progressLine(d)).toBe('quiz: 3/3 ready, healthy');
    expect(formatReplicaCounts({ ready: 0, replicas: 3, condemned: 0 })).toBe('0/3 ready');
  });

  it('pods below ordinals.start are condemned too; a kept ordinal that is Running but not Ready is not ready', async () => {
    const s = await loadFixture('healthy');
    const sts = s.statefulSets[0]!;
    sts.spec.ordinals = { start: 1 };
    sts.spec.replicas = 2;
    const c = new SnapshotView(s).replicaCounts(sts);
    expect(c).toEqual({ replicas: 2, ready: 2, condemned: 1, condemnedReady: 1 });
    const p = s.pods.find((x) => x.metadata.name === 'quiz-1')!;
    p.status!.conditions = p.status!.conditions!.map((x) => (x.type === 'Ready' ? { ...x, status: 'False' } : x));
    expect(new SnapshotView(s).replicaCounts(sts).ready).toBe(1);
  });
});
