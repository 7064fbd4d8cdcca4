// "Already fixed" for every template field a finding is about (issue 12): when the StatefulSet's
// template already differs from what the stuck pod runs, the finding says so and offers
// delete-pod first, instead of asking for the fix that was made. The recorded snapshots, with the
// fix the book's user makes applied to the template (a new update revision, as the controller
// records one on a template change).
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/report/text.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { diagnoseFixture } from './fixtures.js';

/** Edits the template of quiz as `kubectl edit sts` would: the controller then has a new update revision. */
function editTemplate(edit: (s: Snapshot) => void): (s: Snapshot) => void {
  return (s) => {
    edit(s);
    s.statefulSets[0]!.status!.updateRevision = 'quiz-fixed1234';
  };
}

const container = (s: Snapshot, name: string) => s.statefulSets[0]!.spec.template.spec.containers.find((c) => c.name === name)!;

describe('already fixed in the template', () => {
  it('probe-failing: the readiness path changed in the template → no "fix the readiness probe"; delete-pod first', async () => {
    const before = await diagnoseFixture('workload-probe-failing');
    expect(before.findings.find((f) => f.rule === 'probe-failing')!.recoveries[0]!.title).toMatch(/^Fix the application or the readiness probe/);

    const d = await diagnoseFixture(
      'workload-probe-failing',
      editTemplate((s) => {
        container(s, 'quiz-api').readinessProbe!.httpGet!.path = '/healthz/live';
      }),
    );
    const f = d.findings.find((x) => x.rule === 'probe-failing')!;
    expect(f.summary).toMatch(/the template already has another readiness probe/);
    expect(f.recoveries[0]!.offer).toEqual({ action: 'delete-pod', pod: expect.objectContaining({ name: 'quiz-0' }) });
    expect(f.recoveries[0]!.description).toMatch(/already has another readiness probe for container quiz-api \(httpGet http:\/\/:8080\/healthz\/live/);
    expect(f.recoveries.map((r) => r.title).join('\n')).not.toMatch(/Fix the application or the readiness probe/);
    expect(f.evidence.some((e) => e.object.kind === 'StatefulSet' && e.label === 'spec.template.spec.containers[quiz-api].readinessProbe' && e.text.includes('/healthz/live'))).toBe(true);
    const text = renderText(d, new Chalk({ level: 0 }), 120);
    expect(text).not.toMatch(/fix the readiness probe/i);
    // The folded consequence's delete-pod is the same offer: listed once, first.
    const recovery = text.slice(text.indexOf('Recovery:'));
    expect(recovery.split('\n')[1]).toMatch(/→ Delete pod quiz-0 so it is recreated from the current template/);
    expect(recovery.match(/--action delete-pod --pod quiz-0/g)).toHaveLength(1);
  });

  it('probe-failing: only labels changed (the pod is not on the update revision) → still asks for the fix', async () => {
    const d = await diagnoseFixture('workload-probe-failing', editTemplate(() => {}));
    const f = d.findings.find((x) => x.rule === 'probe-failing')!;
    expect(f.recoveries[0]!.title).toMatch(/^Fix the application or the readiness probe/);
    expect(f.details?.templateFixed).toBeUndefined();
  });

  it('crash-loop (OOMKilled): the memory in the template changed → delete-pod first, no "reserve memory"', async () => {
    const d = await diagnoseFixture(
      'workload-crash-loop',
      editTemplate((s) => {
        container(s, 'mongo').resources = { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } };
      }),
    );
    const f = d.findings.find((x) => x.rule === 'crash-loop')!;
    expect(f.summary).toMatch(/the template already has other resources/);
    expect(f.recoveries[0]!.offer?.action).toBe('delete-pod');
    expect(f.recoveries[0]!.description).toMatch(/already has other resources for container mongo/);
    expect(f.recoveries.map((r) => r.title)).not.toContain('Reserve memory for container mongo');
    expect(f.evidence.some((e) => e.label === 'spec.template.spec.containers[mongo].resources' && e.text.includes('2Gi'))).toBe(true);
  });

  it('crash-loop: the command changed → delete-pod first', async () => {
    const d = await diagnoseFixture(
      'workload-crash-loop-exit',
      editTemplate((s) => {
        container(s, 'mongo').args = ['--fixed'];
      }),
    );
    const f = d.findings.find((x) => x.rule === 'crash-loop')!;
    expect(f.recoveries[0]!.offer?.action).toBe('delete-pod');
    expect(f.recoveries[0]!.description).toMatch(/already has another command or arguments/);
  });

  it('container-config-error: the env reference changed in the template → delete-pod first', async () => {
    const d = await diagnoseFixture(
      'workload-config-error',
      editTemplate((s) => {
        // The book's fix: point envFrom at the ConfigMap that exists.
        for (const c of s.statefulSets[0]!.spec.template.spec.containers) {
          if (c.envFrom) c.envFrom = JSON.parse(JSON.stringify(c.envFrom).replace(/"name":"[^"]+"/, '"name":"quiz-config-fixed"')) as typeof c.envFrom;
        }
      }),
    );
    const f = d.findings.find((x) => x.rule === 'container-config-error')!;
    expect(f.recoveries[0]!.offer?.action).toBe('delete-pod');
    expect(f.recoveries[0]!.description).toMatch(/already has other environment references/);
  });

  it('unchanged template: no delete-pod first for a missing ConfigMap', async () => {
    const d = await diagnoseFixture('workload-config-error');
    const f = d.findings.find((x) => x.rule === 'container-config-error')!;
    expect(f.recoveries[0]!.automated).toBe(false);
  });
});
