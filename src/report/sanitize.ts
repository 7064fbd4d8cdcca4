/**
 * The one choke point for untrusted text on its way to a terminal, an XML document or a CI
 * annotation. Pod names are DNS names, but event messages, waiting and terminated messages,
 * condition messages, image names and API error bodies are whatever someone wrote: a raw ESC,
 * BEL or C1 byte there can retitle the window, write the clipboard (OSC 52), clear the screen
 * and draw a fake verdict. Every such character is shown visibly escaped instead (`\x1b`,
 * `\u202e`), so the reader sees that it was there and nothing is interpreted.
 *
 * Used by the text, junit and github reporters (via {@link sanitizeDeep} on the Diagnosis), the
 * error line on stderr ({@link errorLine}), `wait`'s progress lines and the ink prompts.
 * `-o json|yaml` keep the data verbatim: their encoders escape it (see report/index.ts).
 */

/**
 * What is never printed raw: C0 controls (newline excepted where allowed), DEL, C1 controls,
 * the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, which reorder what
 * the reader sees), U+061C, U+200E/U+200F, and the line and paragraph separators U+2028/U+2029.
 * Also the characters XML 1.0 forbids (U+FFFE, U+FFFF, lone surrogates).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `s` with every control character, escape sequence introducer and bidi override replaced by a
 * visible escape (`\x1b`, `\x07`, `\u009b`, `\u202e`). Newlines stay unless `newlines` is false
 * (one-line contexts: error lines, table cells), where they become `\n`.
 */
export function sanitizeText(s: string, newlines = true): string {
  return s.replace(newlines ? UNSAFE : UNSAFE_OR_NEWLINE, visible);
}

/**
 * A deep copy of `value` with every string passed through {@link sanitizeText} (newlines kept).
 * Numbers, booleans and the shape are unchanged, so the result has the same type.
 */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === 'string') return sanitizeText(value) as T;
  if (Array.isArray(value)) return value.map((v) => sanitizeDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = sanitizeDeep(v);
    return out as T;
  }
  return value;
}

/**
 * Characters that a JSON or YAML encoder leaves raw although a terminal may act on them (C1
 * controls, bidi overrides, U+2028/U+2029), written as `\uXXXX` escapes: the parsed data is
 * unchanged, only its spelling. For `-o json`.
 */
export function escapeJsonText(json: string): string {
  return json.replace(ENCODER_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ENCODER_RAW = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** True for a string holding any character {@link sanitizeText} would escape (newline and tab excepted). */
// eslint-disable-next-line no-control-regex
export const TERMINAL_RISKY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The one line src/cli writes to stderr for an error: `sts-doctor: <message>`, sanitised, newlines escaped. */
export function errorLine(err: Error): string {
  return `sts-doctor: ${sanitizeText(stripUserinfo(err.message), false)}\n`;
}

/** A URL without its userinfo (`https://user:pass@host` → `https://host`), wherever it occurs in `s`. */
export function stripUserinfo(s: string): string {
  return s.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"']*@/gi, '$1');
}
