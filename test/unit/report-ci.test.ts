// The CI renderings of a diagnosis whose findings fold (a root cause and its consequence), on
// recorded snapshots: GitHub annotations show one error per root cause.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnosis.js';
import { renderGithub } from '../../src/report/junit.js';
import { sanitizeDeep } from '../../src/report/sanitize.js';
import { loadFixture } from './fixtures.js';

describe('-o github', () => {
  it('a consequence is a notice naming its cause; the root cause stays an error', async () => {
    const d = diagnose(await loadFixture('workload-image-pull-unauthorized'));
    expect(d.findings.find((f) => f.rule === 'ordered-ready-stall')?.causedBy?.rule).toBe('image-pull');
    const lines = renderGithub(sanitizeDeep(d)).split('\n');
    const ns = d.namespace;
    expect(lines.filter((l) => l.startsWith('::error '))).toEqual([expect.stringMatching(new RegExp(`^::error title=sts-doctor image-pull ${ns}/quiz::Pod quiz-0 cannot pull image`))]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^::notice title=sts-doctor ordered-ready-stall ${ns}/quiz \\(caused by image-pull Pod/quiz-0\\)::`)));
    // The summary line still counts every finding.
    expect(lines).toContain(`sts-doctor: 0/1 StatefulSets healthy, ${d.summary.critical} critical, ${d.summary.warning} warning, ${d.summary.info} info`);
  });

  it('a diagnosis without folding: every critical finding is an error', async () => {
    const d = diagnose(await loadFixture('unschedulable-cpu'));
    const errors = renderGithub(sanitizeDeep(d)).split('\n').filter((l) => l.startsWith('::error '));
    expect(errors).toHaveLength(d.findings.filter((f) => f.severity === 'critical' && !f.causedBy).length);
    expect(errors.length).toBeGreaterThan(0);
  });
});
