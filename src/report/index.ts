/**
 * Reporters: a name-to-function map. Each takes the Diagnosis and returns the text for stdout.
 * json and yaml print the Diagnosis as it is (README, "JSON output"); they never carry colour.
 */
import type { Diagnosis } from '../diagnosis.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** Renders `d` in `format`. YAML and chalk are loaded only when asked for. */
export async function render(d: Diagnosis, format: OutputFormat): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(d, null, 2)}\n`;
    case 'yaml': {
      const { stringify } = await import('../yaml.js');
      return stringify(d, { lineWidth: 0 });
    }
    case 'text': {
      const { renderText } = await import('./text.js');
      return renderText(d);
    }
  }
}
