/**
 * Reporters: a name-to-function map. Each takes the Diagnosis and returns the text for stdout.
 * json and yaml print the Diagnosis as it is (README, "JSON output"); junit and github are
 * for CI. Only text carries colour.
 */
import type { Diagnosis } from '../diagnosis.js';

/** Every output format `diagnose` and `wait` accept. */
export const OUTPUT_FORMATS = ['text', 'json', 'yaml', 'junit', 'github'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Renders `d` in `format`. YAML and chalk are loaded only when asked for. */
export async function render(d: Diagnosis, format: OutputFormat): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(d, null, 2)}\n`;
    case 'yaml': {
      const { stringify } = await import('../yaml.js');
      return stringify(d, { lineWidth: 0 });
    }
    case 'junit': {
      const { renderJunit } = await import('./junit.js');
      return renderJunit(d);
    }
    case 'github': {
      const { renderGithub } = await import('./junit.js');
      return renderGithub(d);
    }
    case 'text': {
      const { renderText } = await import('./text.js');
      return renderText(d);
    }
  }
}
