/**
 * NetworkPolicy semantics, as the API defines them: which policies select a pod, whether the pod
 * is isolated for ingress or egress, and whether one connection (from a pod to a pod, on a port
 * and protocol) is allowed. Pure functions over plain objects; the network rules build on them.
 *
 * Sources (networking.k8s.io/v1; https://kubernetes.io/docs/concepts/services-networking/network-policies/
 * and the API reference of NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort):
 * - A policy in namespace N selects the pods of N that match `spec.podSelector` (empty: all).
 * - `spec.policyTypes` unset defaults to `["Ingress"]`, plus `"Egress"` when `spec.egress` has
 *   rules (pkg/apis/networking/v1/defaults.go `SetDefaults_NetworkPolicy`); the API server always
 *   stores the defaulted value, dumps may not.
 * - A pod is isolated for ingress (egress) when at least one policy that selects it has Ingress
 *   (Egress) in its policyTypes; then only what the union of those policies' rules allows gets
 *   through. Policies are additive: none can deny what another allows.
 * - A connection from A to B needs both: B's ingress allows it (or B is not isolated for
 *   ingress) and A's egress allows it (or A is not isolated for egress).
 * - A rule matches when one of its peers matches (no `from`/`to` or an empty list: every peer)
 *   and one of its ports matches (no `ports` or an empty list: every port).
 * - A peer with only `podSelector` selects pods of the policy's own namespace; with only
 *   `namespaceSelector`, every pod of the matching namespaces; with both, the matching pods of
 *   the matching namespaces. `ipBlock` selects IPs in `cidr` but not in `except` (the docs mean
 *   it for cluster-external IPs; whether a pod IP matches is up to the network plugin, so a
 *   match on a pod's IP is reported as uncertain).
 * - A port: `protocol` (default TCP), `port` a number or a named port, `endPort` (with a
 *   numeric `port`) an inclusive range. A named port is resolved on the destination pod: its
 *   container port of that name and protocol. No `port`: every port of the protocol.
 */
import type { LabelSelector, LabelSelectorRequirement, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../snapshot/types.js';

export type { NetworkPolicy } from '../snapshot/types.js';

/** A container port of a pod: what a named port resolves to. */
export interface NamedPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/**
 * One end of a connection: a pod (its namespace, labels and, when known, IP and container
 * ports) and its namespace's labels. `namespaceLabels` undefined means the Namespace was not
 * read: only `kubernetes.io/metadata.name` (set on every namespace by the API server since
 * 1.21) is then known.
 */
export interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  ip?: string;
  ports?: NamedPort[];
}

/** Traffic to one destination port: a number, and the protocol (TCP, UDP, SCTP). */
export interface Traffic {
  port: number;
  protocol: string;
}

/** Yes, no, or cannot tell from what was read (namespace labels not read, an ipBlock on a pod IP). */
export type Verdict = 'allowed' | 'denied' | 'unknown';

/** The policies that decide one direction of one pod, and what they concluded. */
export interface DirectionResult {
  verdict: Verdict;
  /** The pod is isolated in this direction (some policy selecting it has this policy type). */
  isolated: boolean;
  /** The policies that select the pod for this direction. */
  policies: NetworkPolicy[];
  /** When allowed or unknown because of a rule: `<policy> <ingress|egress>[<i>]`. */
  matchedBy?: string;
  /** Why the answer is unknown, in words. */
  uncertainty?: string;
}

/** Both directions of one connection. */
export interface ConnectionResult {
  verdict: Verdict;
  /** The destination's ingress side. */
  ingress: DirectionResult;
  /** The source's egress side. */
  egress: DirectionResult;
}

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** The policy types of a policy, defaulted as the API server does. */
export function policyTypes(p: NetworkPolicy): ('Ingress' | 'Egress')[] {
  const t = p.spec.policyTypes;
  if (t && t.length) return t;
  return (p.spec.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/**
 * Whether `labels` satisfy `selector`, three-valued: `unknown` when `known` is given and the
 * selector reads a key outside it (labels that were not read). An empty selector matches all.
 */
export function selectorVerdict(selector: LabelSelector | undefined, labels: Record<string, string>, known?: ReadonlySet<string>): Verdict {
  let unknown = false;
  const check = (key: string, ok: () => boolean): boolean => {
    if (known && !known.has(key)) {
      unknown = true;
      return true;
    }
    return ok();
  };
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (!check(k, () => labels[k] === v)) return 'denied';
  for (const e of selector?.matchExpressions ?? []) if (!check(e.key, () => requirementMatches(e, labels))) return 'denied';
  return unknown ? 'unknown' : 'allowed';
}

function requirementMatches(e: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, e.key);
  const values = e.values ?? [];
  switch (e.operator) {
    case 'In':
      return has && values.includes(labels[e.key]!);
    case 'NotIn':
      return !has || !values.includes(labels[e.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false; // an operator the API would have refused selects nothing
  }
}

/** The labels of an endpoint's namespace, and which keys are known. */
function namespaceView(e: Endpoint): { labels: Record<string, string>; known?: ReadonlySet<string> } {
  if (e.namespaceLabels) return { labels: { ...e.namespaceLabels, [NAME_LABEL]: e.namespace } };
  return { labels: { [NAME_LABEL]: e.namespace }, known: new Set([NAME_LABEL]) };
}

/** True when policy `p` selects the pod `e` (same namespace, podSelector matches). */
export function selects(p: NetworkPolicy, e: Endpoint): boolean {
  return (p.metadata.namespace ?? e.namespace) === e.namespace && selectorVerdict(p.spec.podSelector, e.labels) === 'allowed';
}

/** Whether `peer`, in a policy of namespace `policyNs`, matches endpoint `e`. */
export function peerVerdict(peer: NetworkPolicyPeer, policyNs: string, e: Endpoint): { verdict: Verdict; uncertainty?: string } {
  if (peer.ipBlock) {
    if (!e.ip) return { verdict: 'unknown', uncertainty: `ipBlock ${peer.ipBlock.cidr}: the peer's IP is not known` };
    const inside = cidrContains(peer.ipBlock.cidr, e.ip) && !(peer.ipBlock.except ?? []).some((x) => cidrContains(x, e.ip!));
    if (!inside) return { verdict: 'denied' };
    return { verdict: 'unknown', uncertainty: `ipBlock ${peer.ipBlock.cidr} covers pod IP ${e.ip}; whether it applies to pod traffic depends on the network plugin` };
  }
  if (!peer.podSelector && !peer.namespaceSelector) return { verdict: 'denied' }; // an empty peer is refused by validation
  let nsVerdict: Verdict;
  if (peer.namespaceSelector) {
    const v = namespaceView(e);
    nsVerdict = selectorVerdict(peer.namespaceSelector, v.labels, v.known);
  } else nsVerdict = e.namespace === policyNs ? 'allowed' : 'denied';
  if (nsVerdict === 'denied') return { verdict: 'denied' };
  const podVerdict = peer.podSelector ? selectorVerdict(peer.podSelector, e.labels) : 'allowed';
  if (podVerdict === 'denied') return { verdict: 'denied' };
  if (nsVerdict === 'unknown') return { verdict: 'unknown', uncertainty: `namespace labels of ${e.namespace} were not read` };
  return { verdict: 'allowed' };
}

/** Whether a rule port matches traffic to destination `dest`. */
export function portMatches(p: NetworkPolicyPort, t: Traffic, dest: Endpoint): boolean {
  const protocol = (p.protocol ?? 'TCP').toUpperCase();
  if (protocol !== t.protocol.toUpperCase()) return false;
  if (p.port === undefined || p.port === null) return true;
  if (typeof p.port === 'number') return p.endPort !== undefined ? t.port >= p.port && t.port <= p.endPort : t.port === p.port;
  if (/^\d+$/.test(p.port)) return Number(p.port) === t.port; // int-or-string given as a string of digits
  return (dest.ports ?? []).some((cp) => cp.name === p.port && (cp.protocol ?? 'TCP').toUpperCase() === protocol && cp.containerPort === t.port);
}

function anyPort(ports: NetworkPolicyPort[] | undefined, t: Traffic, dest: Endpoint): boolean {
  return !ports || ports.length === 0 || ports.some((p) => portMatches(p, t, dest));
}

function anyPeer(peers: NetworkPolicyPeer[] | undefined, policyNs: string, e: Endpoint): { verdict: Verdict; uncertainty?: string } {
  if (!peers || peers.length === 0) return { verdict: 'allowed' };
  let unknown: string | undefined;
  for (const peer of peers) {
    const v = peerVerdict(peer, policyNs, e);
    if (v.verdict === 'allowed') return v;
    if (v.verdict === 'unknown') unknown ??= v.uncertainty;
  }
  return unknown ? { verdict: 'unknown', uncertainty: unknown } : { verdict: 'denied' };
}

/**
 * One direction of one pod: `subject` is the pod whose policies apply (the destination for
 * ingress, the source for egress), `other` the far end, `dest` the pod whose named ports count.
 */
function direction(kind: 'Ingress' | 'Egress', policies: NetworkPolicy[], subject: Endpoint, other: Endpoint, dest: Endpoint, t: Traffic): DirectionResult {
  const applying = policies.filter((p) => selects(p, subject) && policyTypes(p).includes(kind));
  if (applying.length === 0) return { verdict: 'allowed', isolated: false, policies: [] };
  let unknown: { matchedBy: string; uncertainty?: string } | undefined;
  for (const p of applying) {
    const ns = p.metadata.namespace ?? subject.namespace;
    const rules = kind === 'Ingress' ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!anyPort(r.ports, t, dest)) continue;
      const v = anyPeer(r.peers, ns, other);
      const matchedBy = `${p.metadata.name} ${kind.toLowerCase()}[${i}]`;
      if (v.verdict === 'allowed') return { verdict: 'allowed', isolated: true, policies: applying, matchedBy };
      if (v.verdict === 'unknown') unknown ??= { matchedBy, uncertainty: v.uncertainty };
    }
  }
  if (unknown) return { verdict: 'unknown', isolated: true, policies: applying, ...unknown };
  return { verdict: 'denied', isolated: true, policies: applying };
}

/**
 * Whether a connection from `source` to `dest` on `traffic` is allowed by the NetworkPolicies
 * `policies` (any namespaces; each applies to its own). Both the destination's ingress and the
 * source's egress must allow it.
 */
export function connection(policies: NetworkPolicy[], source: Endpoint, dest: Endpoint, traffic: Traffic): ConnectionResult {
  const ingress = direction('Ingress', policies, dest, source, dest, traffic);
  const egress = direction('Egress', policies, source, dest, dest, traffic);
  const verdict: Verdict = ingress.verdict === 'denied' || egress.verdict === 'denied' ? 'denied' : ingress.verdict === 'unknown' || egress.verdict === 'unknown' ? 'unknown' : 'allowed';
  return { verdict, ingress, egress };
}

/** Parses an IPv4 or IPv6 address to a bigint and its bit width; undefined when malformed. */
function parseIp(ip: string): { value: bigint; bits: number } | undefined {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    if (ip.split('::').length > 2) return undefined;
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    const groups = tail !== undefined ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n), bits: 32 };
}

/** True when `ip` is inside `cidr` (same address family); false for malformed input. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, lenText] = cidr.split('/');
  const net = parseIp(base ?? '');
  const addr = parseIp(ip);
  if (!net || !addr || net.bits !== addr.bits) return false;
  const len = lenText === undefined ? net.bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > net.bits) return false;
  const shift = BigInt(net.bits - len);
  return net.value >> shift === addr.value >> shift;
}
