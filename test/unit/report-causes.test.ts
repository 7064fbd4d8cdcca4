// Root cause first, consequences folded in (issue 12): the three cases of the issue, on the
// snapshots recorded from the real control plane, each print exactly one CRITICAL root cause in
// text, with the others folded under it; -o json keeps every finding with its causedBy link;
// recover offers one entry per root cause.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { problemsOf, runRecover } from '../../src/commands/recover.js';
import { exitCodeOf } from '../../src/commands/diagnose.js';
import { sanitizeDeep } from '../../src/report/sanitize.js';
import { renderText } from '../../src/report/text.js';
import { foldedFinding, rootCauses } from '../../src/rules/causes.js';
import { diagnoseFixture, fixturePath } from './fixtures.js';
import { evidenceBlocks } from './text-helpers.js';

const plain = new Chalk({ level: 0 });

const cases = [
  { file: 'workload-rollout-stuck', root: 'image-pull', pod: 'quiz-2', folded: ['rollout-stuck'], therefore: /therefore the rolling update .* is stuck on quiz-2/ },
  { file: 'workload-crash-loop', root: 'crash-loop', pod: 'quiz-0', folded: ['ordered-ready-stall'], therefore: /therefore quiz-1, quiz-2 are never created/ },
  { file: 'workload-probe-failing', root: 'probe-failing', pod: 'quiz-0', folded: ['ordered-ready-stall'], therefore: /therefore quiz-1, quiz-2 are never created/ },
  { file: 'workload-scale-down-blocked', root: 'probe-failing', pod: 'quiz-0', folded: ['scale-down-blocked'], therefore: /therefore the scale-down to 2 is blocked/ },
];

describe('root cause first, consequences folded in', () => {
  it.each(cases)('$file: one CRITICAL root cause ($root), $folded folded under it', async ({ file, root, pod, folded, therefore }) => {
    const d = await diagnoseFixture(file);
    // Every finding is kept for machines, each consequence linked to its cause.
    expect(d.findings.map((f) => f.rule).sort()).toEqual([root, ...folded].sort());
    for (const rule of folded) {
      const f = d.findings.find((x) => x.rule === rule)!;
      expect(f.causedBy).toEqual({ rule: root, subject: expect.objectContaining({ kind: 'Pod', name: pod }) });
    }
    expect(d.findings.find((x) => x.rule === root)!.causedBy).toBeUndefined();
    const json = JSON.parse(JSON.stringify(d)) as typeof d;
    expect(json.findings.filter((f) => f.causedBy).map((f) => f.rule)).toEqual(folded);
    expect(exitCodeOf(d)).toBe(1);

    const text = renderText(sanitizeDeep(d), plain, 120);
    expect(text.match(/CRITICAL/g)).toHaveLength(1);
    expect(text).toMatch(new RegExp(`✖ CRITICAL ${root}  Pod/${pod}`));
    expect(text).toMatch(therefore);
    // Evidence once: no evidence line (object, label, text) printed twice.
    const blocks = evidenceBlocks(text);
    expect(blocks.length).toBeGreaterThan(2);
    expect(new Set(blocks).size).toBe(blocks.length);
    // Recoveries merged: the same offer once.
    const recoverLines = text.split('\n').filter((l) => l.includes('$ sts-doctor recover'));
    expect(new Set(recoverLines).size).toBe(recoverLines.length);
  });

  it('the same offer of a cause and its consequence is listed once, the root cause first', async () => {
    const d = await diagnoseFixture('workload-probe-failing');
    const roots = rootCauses(d.findings);
    expect(roots).toHaveLength(1);
    const offers = roots[0]!.recoveries.filter((o) => o.offer).map((o) => JSON.stringify(o.offer));
    expect(new Set(offers).size).toBe(offers.length);
    expect(offers.filter((o) => o.includes('"delete-pod"'))).toHaveLength(1);
    // The consequence's own manual step (a readiness that needs peers) is kept.
    expect(foldedFinding(roots[0]!).recoveries.map((o) => o.title)).toContain('Make readiness independent of the peers that do not exist yet');
  });

  it('a finding about another pod is not folded', async () => {
    const d = await diagnoseFixture('workload-crash-loop', (s) => {
      // The crash loop now on a pod that is not the blocker: no link.
      const p = s.pods.find((x) => x.metadata.name === 'quiz-0')!;
      s.pods.push({ ...p, metadata: { ...p.metadata, name: 'quiz-7', uid: 'other' } });
    });
    const stall = d.findings.find((f) => f.rule === 'ordered-ready-stall');
    expect(stall?.causedBy?.subject.name).toBe('quiz-0');
    const loops = d.findings.filter((f) => f.rule === 'crash-loop');
    expect(loops.map((f) => f.subject.name).sort()).toEqual(['quiz-0', 'quiz-7']);
    expect(rootCauses(d.findings).map((r) => `${r.finding.rule} ${r.finding.subject.name}`)).toEqual(['crash-loop quiz-0', 'crash-loop quiz-7']);
  });

  it('recover without a terminal lists one entry per root cause, its consequences under it', async () => {
    const out: string[] = [];
    const code = await runRecover('quiz', { from: fixturePath('workload-rollout-stuck') }, { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text.match(/^CRITICAL /gm)).toHaveLength(1);
    expect(text).toMatch(/^CRITICAL image-pull Pod\/quiz-2/m);
    expect(text).toMatch(/↳ therefore the rolling update .* \[rollout-stuck\]/);
    expect(text.match(/--action delete-pod --pod quiz-2/g)).toHaveLength(1);
  });

  it('the interactive picker gets one problem per root cause, with the merged recoveries', async () => {
    const d = await diagnoseFixture('workload-rollout-stuck');
    const problems = problemsOf(d.findings);
    expect(problems.map((f) => `${f.rule} ${f.subject.name}`)).toEqual(['image-pull quiz-2']);
    const titles = problems[0]!.recoveries.map((o) => o.title);
    expect(titles.filter((t) => t === 'Delete pod quiz-2 so it is recreated from the current template')).toHaveLength(1);
    expect(titles).toContain('The same by hand'); // rollout-stuck's own manual step, folded in
  });
});
