/**
 * Parsing and validation of the options shared by the commands. Throws UsageError with one
 * sentence for anything invalid.
 */
import { UsageError } from '../errors.js';

/** Options common to every command that reads a StatefulSet. */
export interface ReadOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
  selector?: string;
  from?: string;
  now?: string;
  allNamespaces?: boolean;
}

/** `--request-timeout` in milliseconds (accepts `30`, `30s`, `1m`, `0`). */
export function requestTimeoutMs(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--request-timeout must be a number of seconds (like 30 or 30s), not "${value}".`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** Validates `--now` (RFC 3339) and returns it normalised to UTC without fractions. */
export function parseNow(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new UsageError(`--now must be an RFC 3339 time like 2026-11-21T05:38:34Z, not "${value}".`);
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Rejects option combinations that make no sense. */
export function checkReadOptions(name: string | undefined, opts: ReadOptions): void {
  if (opts.now && !opts.from) throw new UsageError('--now applies only with --from.');
  if (name && opts.selector) throw new UsageError('Pass either a StatefulSet name or -l/--selector, not both.');
  if (opts.from && (opts.kubeconfig || opts.context)) throw new UsageError('--from reads a dump; --kubeconfig and --context do not apply.');
}
