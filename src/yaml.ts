/**
 * The YAML library behind one static import, so the bundler's CommonJS interop applies; callers
 * import this module lazily (`await import('./yaml.js')`) to keep YAML off the start-up path.
 */
export { Document, Parser, Composer, LineCounter, parse, parseAllDocuments, stringify, visit } from 'yaml';
