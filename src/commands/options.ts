/**
 * Parsing and validation of the options shared by the commands. Throws UsageError with one
 * sentence for anything invalid.
 */
import { UsageError } from '../errors.js';
import type { ServiceName } from '../snapshot/types.js';
import { toTimestamp } from '../snapshot/view.js';

/** Options common to every command that reads a StatefulSet. */
export interface ReadOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
  selector?: string;
  from?: string;
  now?: string;
  /** `-A/--all-namespaces`: every StatefulSet of every namespace (with `-l`, the matching ones). */
  allNamespaces?: boolean;
  /** `false` (`snapshot --no-logs`): read no container logs. */
  logs?: boolean;
  /** `--cluster-dns <namespace>/<service>`: the cluster DNS Service (see {@link parseClusterDns}). */
  clusterDns?: string;
}

/**
 * A duration flag in milliseconds: a number of seconds (`30`), or with a unit (`500ms`, `30s`,
 * `5m`, `1h`). @throws UsageError naming `flag` when the value is not a duration.
 */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 30, 30s, 5m or 1h, not "${value}".`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Math.round(n * unit);
}

/** `--request-timeout` in milliseconds (default 30 s; `0` for none). */
export function requestTimeoutMs(value: string | undefined): number {
  return value === undefined ? 30_000 : parseDuration(value, '--request-timeout');
}

/** Validates `--now` (RFC 3339) and returns it normalised to UTC without fractions. */
export function parseNow(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new UsageError(`--now must be an RFC 3339 time like 2026-11-21T05:38:34Z, not "${value}".`);
  return toTimestamp(t);
}

/** A DNS-1123 label (RFC 1123): what a namespace name must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: what an object name (a StatefulSet, a pod, a node) must be. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks a namespace name before it reaches a URL (so `.` and `..` never become dot segments).
 * @throws UsageError naming `what` (`-n/--namespace`, `the kubeconfig context's namespace`)
 */
export function checkNamespace(ns: string, what = '-n/--namespace'): void {
  if (ns.length > 63 || !DNS_LABEL.test(ns)) {
    throw new UsageError(`${what} must be a namespace name (lowercase letters, digits and '-', at most 63 characters), not "${ns}".`);
  }
}

/**
 * Checks an object name (a StatefulSet, a pod, a node) before it reaches a URL.
 * @throws UsageError naming `what`
 */
export function checkObjectName(name: string, what = 'The StatefulSet name'): void {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new UsageError(`${what} must be a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253 characters), not "${name}".`);
  }
}

/**
 * `--cluster-dns <namespace>/<service>`: the Service whose EndpointSlices tell whether the cluster
 * DNS has a ready endpoint. Undefined when the flag is not given (the reader's default,
 * kube-system/kube-dns, or a dump's own).
 * @throws UsageError when the value is not a namespace and a Service name separated by `/`
 */
export function parseClusterDns(value: string | undefined): ServiceName | undefined {
  if (value === undefined) return undefined;
  const parts = value.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`--cluster-dns must be <namespace>/<service>, e.g. kube-system/kube-dns, not "${value}".`);
  checkNamespace(parts[0], 'The namespace of --cluster-dns');
  // A Service name is a DNS-1035 label (a namespace name's rules).
  checkNamespace(parts[1], 'The Service name of --cluster-dns');
  return { namespace: parts[0], name: parts[1] };
}

/**
 * Rejects option combinations that make no sense, and names and namespaces that are not DNS
 * names (before any request is made).
 */
export function checkReadOptions(name: string | undefined, opts: ReadOptions): void {
  if (opts.from === '') throw new UsageError('--from needs a path: a file, a directory, or - for standard input.');
  if (name !== undefined) checkObjectName(name);
  if (opts.namespace !== undefined) checkNamespace(opts.namespace);
  if (opts.now && !opts.from) throw new UsageError('--now applies only with --from.');
  if (name && opts.selector) throw new UsageError('Pass either a StatefulSet name or -l/--selector, not both.');
  if (opts.from && (opts.kubeconfig || opts.context)) throw new UsageError('--from reads a dump; --kubeconfig and --context do not apply.');
  if (opts.allNamespaces && name) throw new UsageError('A StatefulSet name cannot be combined with -A/--all-namespaces; pass -n <namespace> instead.');
  if (opts.allNamespaces && opts.namespace) throw new UsageError('Pass either -n/--namespace or -A/--all-namespaces, not both.');
  parseClusterDns(opts.clusterDns);
}
