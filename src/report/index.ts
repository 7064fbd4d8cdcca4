/**
 * Reporters: a name-to-function map. Each takes the Diagnosis and returns the text for stdout.
 * json and yaml print the Diagnosis as it is (README, "JSON output"); junit and github are
 * for CI. Only text carries colour. Untrusted text passes one choke point (./sanitize.ts): text,
 * junit and github render a sanitised copy of the Diagnosis (control characters shown as
 * `\x1b`); json and yaml keep the data verbatim, with the characters their encoders leave raw
 * written as `\uXXXX` escapes.
 */
import type { Diagnosis } from '../diagnosis.js';
import { escapeJsonText, sanitizeDeep, TERMINAL_RISKY } from './sanitize.js';

/** Every output format `diagnose` and `wait` accept (`wide`: text whose tables keep every column and cell whole). */
export const OUTPUT_FORMATS = ['text', 'wide', 'json', 'yaml', 'junit', 'github'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Renders `d` in `format`. YAML and chalk are loaded only when asked for. */
export async function render(d: Diagnosis, format: OutputFormat): Promise<string> {
  switch (format) {
    case 'json':
      return `${escapeJsonText(JSON.stringify(d, null, 2))}\n`;
    case 'yaml':
      return yamlText(d);
    case 'junit': {
      const { renderJunit } = await import('./junit.js');
      return renderJunit(sanitizeDeep(d));
    }
    case 'github': {
      const { renderGithub } = await import('./junit.js');
      return renderGithub(sanitizeDeep(d));
    }
    case 'text':
    case 'wide': {
      const { renderText, colors } = await import('./text.js');
      return renderText(sanitizeDeep(d), colors(), { wide: format === 'wide' });
    }
  }
}

/**
 * `value` as YAML, verbatim: a string holding a character a terminal may act on is written
 * double-quoted, where YAML escapes C0 controls itself and the rest become `\uXXXX` escapes.
 */
export async function yamlText(value: unknown): Promise<string> {
  const { Document, visit } = await import('../yaml.js');
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && TERMINAL_RISKY.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeJsonText(doc.toString({ lineWidth: 0 }));
}
