/** Kubernetes resource quantities (apimachinery's resource.Quantity), parsed and written back. */

/**
 * A Kubernetes quantity (`500m`, `2`, `1Gi`, `1e3`) as a number in base units (cores, bytes);
 * undefined when it cannot be parsed.
 */
export function parseQuantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(q).trim());
  if (!m) return undefined;
  const factors: Record<string, number> = {
    '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
  };
  const f = factors[m[2]!];
  return f === undefined ? undefined : Number(m[1]) * f;
}

/** A quantity in base units written back the way Kubernetes users read it (`64`, `500m`, `2Gi`). */
export function formatQuantity(value: number, resource: string): string {
  if (resource === 'cpu') return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
  if (resource === 'memory' || resource.endsWith('storage')) {
    for (const [unit, f] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
      if (value >= f && Number.isInteger(value / f)) return `${value / f}${unit}`;
    }
    for (const [unit, f] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2]] as const) if (value >= f) return `${(value / f).toFixed(1)}${unit}`;
  }
  return String(value);
}

