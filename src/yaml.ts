/**
 * The YAML library (for writing: `-o yaml`, `snapshot -o yaml`) behind one static import, so the
 * bundler's CommonJS interop applies; callers import this module lazily
 * (`await import('./yaml.js')`) to keep YAML off the start-up path. `parse` reads
 * `rollout --patch` files (YAML or JSON). Dumps are read with js-yaml
 * (src/snapshot/from-dump.ts).
 */
export { Document, parse, visit } from 'yaml';
