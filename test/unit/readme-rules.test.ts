// The README's rule table is generated from the rule catalog (src/rules/rule-table.ts): this
// fails when README.md is out of date (run `npm run readme:rules`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/rules/registry.js';
import { RULE_TABLE_BEGIN, RULE_TABLE_END, ruleTable, withRuleTable } from '../../src/rules/rule-table.js';
import type { Rule } from '../../src/rules/types.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README rule table', () => {
  it('README.md holds the table generated from the rule catalog (npm run readme:rules)', () => {
    expect(withRuleTable(readme), 'README.md is out of date: run npm run readme:rules').toBe(readme);
  });

  it('one row per rule, in report order, each with its severities, meaning, signals and recoveries', () => {
    const table = readme.slice(readme.indexOf(RULE_TABLE_BEGIN), readme.indexOf(RULE_TABLE_END));
    const ids = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(ids)).toEqual(new Set(RULES.map((r) => r.id)));
    expect(ids).toHaveLength(RULES.length);
    for (const r of RULES) {
      expect(r.doc.severities.length, r.id).toBeGreaterThan(0);
      for (const k of ['meaning', 'signals', 'recoveries'] as const) expect(r.doc[k].length, `${r.id} ${k}`).toBeGreaterThan(0);
    }
    expect(ids[0]).toBe('node-lost');
  });

  it('a changed rule doc makes the README stale; a cell that would break the table is refused', () => {
    const changed: Rule[] = RULES.map((r) => (r.id === 'crash-loop' ? { ...r, doc: { ...r.doc, meaning: 'changed' } } : r));
    expect(withRuleTable(readme, ruleTable(changed))).not.toBe(readme);
    const pipe: Rule[] = [{ ...RULES[0]!, doc: { ...RULES[0]!.doc, meaning: 'a | b' } }];
    expect(() => ruleTable(pipe)).toThrow(/\| outside inline code/);
    expect(ruleTable([{ ...RULES[0]!, doc: { ...RULES[0]!.doc, meaning: 'a `x|y` b' } }])).toContain('a `x|y` b');
    expect(() => withRuleTable('# no markers')).toThrow(/no rule-table markers/);
  });
});
