// The GitHub Action's job summary (scripts/action/run.mjs) from recorded diagnoses: the table and
// the root causes, and cluster text that can never become Markdown or HTML.
import { describe, expect, it } from 'vitest';
import { md, summaryMarkdown } from '../../scripts/action/run.mjs';
import type { Diagnosis } from '../../src/diagnosis.js';
import { diagnoseFixture } from './fixtures.js';

const render = summaryMarkdown as (d: Diagnosis, code: number) => string;
const escape = md as (s: string, max?: number) => string;

describe('action job summary', () => {
  it('shows the per-replica table and the findings, root causes first, for image-pull', async () => {
    const d = await diagnoseFixture('image-pull');
    const out = render(d, 1);
    expect(out).toMatch(/^## sts-doctor: ❌ not healthy$/m);
    expect(out).toMatch(/^### StatefulSet [^\n]+\/quiz: 0\/3 ready, unhealthy$/m);
    expect(out).toMatch(/^\| 0 \| quiz\\-0 \| ImagePullBackOff \| 1\/2 \|/m);
    expect(out).toMatch(/^\| 1 \| \(quiz\\-1\) \| Missing \|/m);
    const causes = out.slice(out.indexOf('### Root causes first'));
    expect(causes.indexOf('image\\-pull')).toBeLessThan(causes.indexOf('ordered\\-ready\\-stall'));
    expect(causes).toMatch(/Recovery: /);
  });

  it('a healthy StatefulSet: no findings section', async () => {
    const out = render(await diagnoseFixture('healthy'), 0);
    expect(out).toMatch(/^## sts-doctor: ✅ healthy$/m);
    expect(out).not.toMatch(/Root causes/);
  });

  it('cluster text cannot add HTML, links, images, table cells or lines', async () => {
    const hostile = 'x | y\n## Heading <img src=x onerror=alert(1)> [click](https://evil.example) ![i](https://evil.example/i.png) `code` *b* \u001b[31mred\u0007';
    const d = await diagnoseFixture('image-pull', (s) => {
      for (const e of s.events) e.message = hostile;
    });
    d.findings[0]!.summary = hostile;
    const out = render(d, 1);
    for (const line of out.split('\n').filter((l) => l.startsWith('| 0 |'))) expect(line.split(/(?<!\\)\|/).length).toBe(9);
    expect(out).not.toMatch(/<img|\]\(|\n## Heading/);
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
    expect(out).toContain('\\[click\\]\\(https://evil\\.example\\)');
  });

  it('bounds long text', () => {
    expect(escape('a'.repeat(1000), 50)).toBe(`${'a'.repeat(49)}…`);
  });
});
