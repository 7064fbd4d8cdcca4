// examples/: each recorded snapshot still shows the rule its README row names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/commands/diagnose.js';
import { RULES } from '../../src/rules/registry.js';
import { diagnoseFixture, examplesDir } from './fixtures.js';

const rows = [...readFileSync(join(examplesDir, 'README.md'), 'utf8').matchAll(/^\| `([\w-]+)\.yaml` \| (?:`([\w-]+)`|none \(exit 0\)) \|/gm)].map((m) => ({ file: m[1]!, rule: m[2] }));

describe('examples', () => {
  it('the README lists every rule but the fallback, once', () => {
    const shown = rows.map((r) => r.rule).filter(Boolean).sort();
    expect(shown).toEqual(RULES.map((r) => r.id).filter((id) => id !== 'pod-not-ready').sort());
  });

  it.each(rows)('$file shows $rule', async ({ file, rule }) => {
    const d = await diagnoseFixture(file);
    if (!rule) {
      expect(d.findings).toEqual([]);
      expect(exitCodeOf(d)).toBe(0);
      return;
    }
    const f = d.findings.find((x) => x.rule === rule);
    expect(f, d.findings.map((x) => x.rule).join(', ')).toBeDefined();
    expect(f!.evidence.length).toBeGreaterThan(0);
  });
});
