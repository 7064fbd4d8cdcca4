// The events read by involvedObject (src/snapshot/from-cluster.ts eventSubjects) are all the
// diagnosis needs: every recorded snapshot (examples/ and test/fixtures/, recorded from the real
// control plane with the namespace's events listed whole), diagnosed again with only the events
// of its subjects, gives the same findings. Only the pod table's newest event of a Ready pod may
// differ (those events are not read).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { eventSubjects, MAX_EVENT_READS } from '../../src/snapshot/from-cluster.js';
import { examplesDir, fixturesDir, loadFixture } from './fixtures.js';

const names = [...new Set([examplesDir, fixturesDir].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''))))].sort();

describe('events by involvedObject: the same diagnosis', () => {
  it.each(names)('%s', async (name) => {
    const full = await loadFixture(name);
    const subjects = eventSubjects(full.statefulSets, full.pods, full.persistentVolumeClaims);
    if (subjects) {
      expect(subjects.length).toBeLessThanOrEqual(MAX_EVENT_READS);
      expect(subjects.filter((s) => s.kind === 'StatefulSet')).toHaveLength(full.statefulSets.length);
    }
    const wanted = new Set((subjects ?? []).map((s) => `${s.kind}/${s.name}`));
    const partial = await loadFixture(name);
    if (subjects) partial.events = partial.events.filter((e) => wanted.has(`${e.involvedObject.kind}/${e.involvedObject.name}`));
    const a = diagnose(full);
    const b = diagnose(partial);
    expect(b.findings).toEqual(a.findings);
    expect(b.gaps).toEqual(a.gaps);
    const rows = (d: typeof a) => d.statefulSets.map((s) => s.table.map((r) => (r.ready ? { ...r, event: undefined } : r)));
    expect(rows(b)).toEqual(rows(a));
  });
});
