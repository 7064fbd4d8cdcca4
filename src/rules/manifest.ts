/**
 * Manifests that recoveries propose, as block YAML ready for `kubectl apply -f -`. A string is
 * written plain only when it is a simple word YAML cannot read as anything else (a name, a
 * label key or value); every other string is a double-quoted scalar with JSON escaping (valid
 * YAML), so a label value or a name from the cluster can never break out of its field. Rules are synchronous and on the
 * start-up path, so this small writer stands in for the YAML library (loaded lazily elsewhere).
 */

/** A value a manifest holds: plain objects, arrays, strings, numbers and booleans. */
export type ManifestValue = string | number | boolean | null | ManifestValue[] | { [key: string]: ManifestValue | undefined };

/** YAML 1.1 and 1.2 words that a plain scalar would turn into a boolean or null. */
const RESERVED = /^(?:y|n|yes|no|true|false|on|off|null)$/i;
const plain = (v: string): string => (/^[A-Za-z][\w./-]*$/.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v));
const scalar = (v: string | number | boolean | null): string => (typeof v === 'string' ? plain(v) : String(v));
const plainKey = plain;

function lines(value: ManifestValue, indent: string): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}[]`];
    const out: string[] = [];
    for (const item of value) {
      const inner = lines(item, `${indent}  `);
      out.push(`${indent}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter((e): e is [string, ManifestValue] => e[1] !== undefined);
    if (entries.length === 0) return [`${indent}{}`];
    const out: string[] = [];
    for (const [k, v] of entries) {
      const simple = v === null || typeof v !== 'object' || (Array.isArray(v) && v.length === 0) || (!Array.isArray(v) && Object.keys(v).length === 0);
      if (simple) out.push(`${indent}${plainKey(k)}: ${v !== null && typeof v === 'object' ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}`);
      else out.push(`${indent}${plainKey(k)}:`, ...lines(v, `${indent}  `));
    }
    return out;
  }
  return [`${indent}${scalar(value)}`];
}

/** `value` as block YAML (no trailing newline). */
export function toManifestYaml(value: ManifestValue): string {
  return lines(value, '').join('\n');
}

/** The shell command that applies `manifest`: `kubectl apply -f - <<'EOF' … EOF`. */
export function applyCommand(manifest: ManifestValue): string {
  return `kubectl apply -f - <<'EOF'\n${toManifestYaml(manifest)}\nEOF`;
}
