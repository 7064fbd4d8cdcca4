// Writes the README's rule table from the rule catalog (src/rules/rule-table.ts): bundles that
// module with esbuild (the rules are TypeScript), renders the table and replaces the text between
// the rule-table markers of README.md. `--check` writes nothing and exits 1 when README.md is out
// of date. The unit test test/unit/readme-rules.test.ts checks the same.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const out = await build({ entryPoints: [new URL('src/rules/rule-table.ts', root).pathname], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
const { withRuleTable } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
const path = new URL('README.md', root);
const before = readFileSync(path, 'utf8');
let after;
try {
  after = withRuleTable(before);
} catch (err) {
  // One sentence, not a stack trace through the bundled module's data: URL.
  process.stderr.write(`readme:rules: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
if (after === undefined) {
  // the error above
} else if (process.argv.includes('--check')) {
  if (after !== before) {
    process.stderr.write('README.md: the rule table is out of date; run npm run readme:rules\n');
    process.exitCode = 1;
  }
} else if (after !== before) {
  writeFileSync(path, after);
  process.stdout.write('README.md: rule table updated\n');
} else process.stdout.write('README.md: rule table up to date\n');
