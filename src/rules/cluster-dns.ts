/**
 * `cluster-dns-unavailable`: the cluster DNS Service has no ready endpoint, so no name resolves
 * in any pod of the cluster; replicas that must resolve their peers' stable names (a replica set
 * initiating with `quiz-0.quiz-pods`, an init container's `until nslookup …` loop) stay Running
 * and not Ready, or stuck in their init containers, whatever their own configuration. A
 * cluster-level root cause: the readiness findings about the replicas it explains fold under it
 * (causes.ts CLUSTER_CAUSES).
 *
 * Signals, read with one request and only when a replica is Running but not Ready or in an init
 * container (view.ts clusterDnsSuspects; src/snapshot/from-cluster.ts readClusterDns):
 * - the EndpointSlices (discovery.k8s.io/v1, GA since 1.21) of the DNS Service, found by the label
 *   `kubernetes.io/service-name=<service>` the EndpointSlice controller sets
 *   (pkg/controller/endpointslice; https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/),
 *   and each endpoint's `conditions` with the API's semantics (k8s.io/api/discovery/v1 types.go,
 *   EndpointConditions): `ready` unset is "unknown, interpret as ready"; `ready` is false for a
 *   terminating endpoint; `serving` is readiness regardless of termination; the endpoints'
 *   `targetRef` names the DNS pods, whose Ready condition `ready` mirrors.
 * - kube-proxy's choice of endpoints (pkg/proxy/topology.go CategorizeEndpoints, the
 *   ProxyTerminatingEndpoints fallback, GA in 1.28): the ready endpoints, else the serving and
 *   terminating ones. When neither exists the Service's ClusterIP answers nothing.
 * - The DNS specification for Services and pods (https://github.com/kubernetes/dns/blob/master/docs/specification.md,
 *   https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/): every pod resolves
 *   `<pod>.<service>.<ns>.svc.<zone>` through the cluster DNS Service (`kube-dns` in `kube-system`,
 *   the name CoreDNS installs keep; `--cluster-dns` names another).
 * A Service with no EndpointSlice at all is not a finding (the cluster may name its DNS
 * differently): the read leaves an `endpointslices` gap that says to pass `--cluster-dns`.
 * Version-independent from 1.21; recovery is manual (inspecting and restarting the cluster's DNS
 * is the cluster administrator's, never an automated write).
 */
import type { EndpointSlice, ServiceName, SliceEndpoint } from '../snapshot/types.js';
import { clusterDnsSuspects, DEFAULT_CLUSTER_DNS } from '../snapshot/view.js';
import { whyNotReady } from './facts.js';
import { fieldEvidence, stsRef, type Evidence, type Rule } from './types.js';

/** How the cluster DNS Service's endpoints stand, by the EndpointSlice API's rules and kube-proxy's choice. */
export type ClusterDnsVerdict =
  /** No EndpointSlice: nothing can be said (the Service may be named differently). */
  | 'no-slices'
  /** At least one endpoint is ready (or its readiness unknown, which the API says to read as ready). */
  | 'available'
  /** None ready, but some are serving while terminating: kube-proxy still sends queries to them. */
  | 'terminating-fallback'
  /** Slices, but not one endpoint: the Service's selector matches no pod with an IP. */
  | 'no-endpoints'
  /** Endpoints, none ready nor serving while terminating: the Service answers nothing. */
  | 'none-ready';

/** The endpoints of the cluster DNS EndpointSlices, counted, and what they mean. */
export interface ClusterDnsEndpoints {
  verdict: ClusterDnsVerdict;
  /** Every endpoint of every slice (all address types together). */
  total: number;
  /** Endpoints whose `ready` is true or unset. */
  ready: number;
  /** Endpoints not ready but `serving` and `terminating` (kube-proxy's fallback). */
  servingTerminating: number;
}

/** True when the API says to treat the endpoint as ready: `ready` true, or unset ("unknown state … interpret as ready"). */
export function endpointReady(e: SliceEndpoint): boolean {
  const r = e.conditions?.ready;
  return r === true || r === undefined || r === null;
}

/** True when kube-proxy's terminating fallback uses the endpoint: `serving` (unset: its `ready`) and `terminating`. */
function servingWhileTerminating(e: SliceEndpoint): boolean {
  const c = e.conditions;
  if (c?.terminating !== true) return false;
  return c.serving === true || ((c.serving === undefined || c.serving === null) && endpointReady(e));
}

/**
 * What the cluster DNS Service's EndpointSlices say: `available` when some endpoint is ready,
 * `terminating-fallback` when none is but some serve while terminating, `no-endpoints` or
 * `none-ready` when the Service answers nothing, `no-slices` when there is nothing to judge.
 * Pure; slices of every address type count together.
 */
export function clusterDnsEndpoints(slices: EndpointSlice[]): ClusterDnsEndpoints {
  const endpoints = slices.flatMap((s) => s.endpoints ?? []);
  const ready = endpoints.filter(endpointReady).length;
  const servingTerminating = endpoints.filter((e) => !endpointReady(e) && servingWhileTerminating(e)).length;
  const verdict: ClusterDnsVerdict =
    slices.length === 0 ? 'no-slices' : ready > 0 ? 'available' : servingTerminating > 0 ? 'terminating-fallback' : endpoints.length === 0 ? 'no-endpoints' : 'none-ready';
  return { verdict, total: endpoints.length, ready, servingTerminating };
}

/** Endpoints quoted per slice, and slices quoted: the evidence stays bounded however large the DNS deployment. */
const MAX_ENDPOINTS_QUOTED = 5;
const MAX_SLICES_QUOTED = 3;

/** A condition value as the API wrote it: `true`, `false`, or `unset`. */
const flag = (v: boolean | null | undefined): string => (v === undefined || v === null ? 'unset' : String(v));

/** One endpoint in one line: its conditions, then addresses, the pod it targets and its node. */
function endpointText(e: SliceEndpoint): string {
  const c = e.conditions;
  const target = e.targetRef?.name ? `; targetRef ${e.targetRef.kind ?? 'Pod'} ${e.targetRef.name}` : '';
  return `ready=${flag(c?.ready)} serving=${flag(c?.serving)} terminating=${flag(c?.terminating)}; addresses ${e.addresses.slice(0, 4).join(',')}${target}${e.nodeName ? `; nodeName ${e.nodeName}` : ''}`;
}

/** The slices as evidence: each endpoint's conditions (at most {@link MAX_ENDPOINTS_QUOTED} per slice), or `none` for a slice without endpoints. */
function sliceEvidence(slices: EndpointSlice[]): Evidence[] {
  const out: Evidence[] = [];
  for (const s of slices.slice(0, MAX_SLICES_QUOTED)) {
    const eps = s.endpoints ?? [];
    if (eps.length === 0) out.push(fieldEvidence(s, 'EndpointSlice', 'endpoints', `none (addressType ${s.addressType})`));
    eps.slice(0, MAX_ENDPOINTS_QUOTED).forEach((e, i) => out.push(fieldEvidence(s, 'EndpointSlice', `endpoints[${i}].conditions`, endpointText(e))));
    if (eps.length > MAX_ENDPOINTS_QUOTED) out.push(fieldEvidence(s, 'EndpointSlice', 'endpoints', `${eps.length - MAX_ENDPOINTS_QUOTED} more endpoints, none ready`));
  }
  return out;
}

/** A pod name as the API server accepts it (a DNS-1123 subdomain): only such names are put in a kubectl command. */
const POD_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The DNS pods the endpoints target, by name (sorted, at most 10; a name that is not a pod name is left out). */
function dnsPods(slices: EndpointSlice[]): string[] {
  const names = new Set<string>();
  for (const s of slices) for (const e of s.endpoints ?? []) if (e.targetRef?.name && (e.targetRef.kind ?? 'Pod') === 'Pod' && POD_NAME.test(e.targetRef.name)) names.add(e.targetRef.name);
  return [...names].sort().slice(0, 10);
}

/** The Deployment a ReplicaSet pod belongs to, by its name (`coredns-5d78c9869d-abcde` → `coredns`), when it has that shape. */
function deploymentOf(pods: string[]): string | undefined {
  const names = new Set(pods.map((p) => /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(p)?.[1]).filter((n): n is string => n !== undefined));
  return names.size === 1 ? [...names][0] : undefined;
}

/** The manual steps: look at the DNS pods (by the kube-dns label for the default Service, by name otherwise), their Service, then restart them. */
function recoveryCommands(svc: ServiceName, pods: string[]): string[] {
  const ns = svc.namespace;
  const isDefault = svc.namespace === DEFAULT_CLUSTER_DNS.namespace && svc.name === DEFAULT_CLUSTER_DNS.name;
  const commands: string[] = [];
  if (isDefault) commands.push(`kubectl -n ${ns} get pods -l k8s-app=kube-dns -o wide`, `kubectl -n ${ns} describe pods -l k8s-app=kube-dns`);
  else if (pods.length) commands.push(`kubectl -n ${ns} get pods ${pods.join(' ')} -o wide`, `kubectl -n ${ns} describe pods ${pods.join(' ')}`);
  commands.push(`kubectl -n ${ns} describe service ${svc.name}`, `kubectl -n ${ns} get endpointslices -l kubernetes.io/service-name=${svc.name} -o yaml`);
  if (isDefault) commands.push(`kubectl -n ${ns} logs -l k8s-app=kube-dns --tail=50`);
  else if (pods.length) commands.push(`kubectl -n ${ns} logs ${pods[0]} --tail=50`);
  commands.push(`kubectl -n ${ns} rollout restart deployment ${deploymentOf(pods) ?? (isDefault ? 'coredns' : '<the DNS Deployment>')}`);
  return commands;
}

export const clusterDnsUnavailable: Rule = {
  id: 'cluster-dns-unavailable',
  title: 'The cluster DNS Service has no ready endpoint',
  rank: 15,
  doc: {
    severities: ['critical'],
    meaning: 'A replica is Running but not Ready (or in an init container) while the cluster DNS Service (`--cluster-dns`, default `kube-system/kube-dns`) has no ready endpoint: its EndpointSlices have no endpoint at all, or none whose `ready` is true or unset and none serving while terminating (kube-proxy\'s fallback), so no name resolves anywhere in the cluster. A cluster-level root cause: `probe-failing`, `peer-discovery-blocked`, `init-container-stuck`, `ordered-ready-stall`, `scale-down-blocked` and `rollout-stuck` about the replicas it names fold under it. No EndpointSlice for that Service is not a finding but a gap ("Not checked", with the hint to pass `--cluster-dns`).',
    signals: 'discovery.k8s.io/v1 EndpointSlices of the DNS Service (label `kubernetes.io/service-name`), each endpoint\'s `conditions.ready`/`serving`/`terminating`, `targetRef` (the DNS pods); the replicas\' Ready condition and Warning `Unhealthy`',
    recoveries: 'manual: `kubectl -n kube-system get pods -l k8s-app=kube-dns`, `describe`, `logs`, the slices, then `kubectl rollout restart deployment` of the DNS Deployment',
  },
  evaluate({ view, sts }) {
    const svc = view.snapshot.clusterDns;
    if (!svc || !view.canSee('endpointslices')) return [];
    const slices = view.snapshot.endpointSlices ?? [];
    const state = clusterDnsEndpoints(slices);
    if (state.verdict !== 'no-endpoints' && state.verdict !== 'none-ready') return [];
    const suspects = clusterDnsSuspects([sts], view.podsOf(sts));
    if (suspects.length === 0) return [];
    const names = suspects.map((p) => p.metadata.name);
    const first = suspects[0]!;
    const why = whyNotReady(view, first);
    const pods = dnsPods(slices);
    const service = `${svc.namespace}/${svc.name}`;
    const endpoints = state.verdict === 'no-endpoints' ? 'no endpoint at all' : `${state.total} endpoint${state.total === 1 ? '' : 's'}, none ready`;
    const stuck = `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} ${suspects.every((p) => p.status?.phase === 'Running') ? 'Running but not Ready' : 'not Ready'}`;
    return [
      {
        rule: 'cluster-dns-unavailable',
        severity: 'critical',
        statefulSet: stsRef({ view, sts }),
        subject: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        summary: `The cluster DNS (Service ${service}) has ${endpoints}: no name resolves in the cluster, and ${stuck}`,
        explanation:
          `Every pod resolves names, its peers' stable names (${sts.metadata.name}-0.${sts.spec.serviceName ?? '<service>'}) among them, through the cluster DNS Service ${service}. ` +
          `Its EndpointSlices list ${endpoints}${pods.length ? ` (DNS pods ${pods.join(', ')})` : state.verdict === 'no-endpoints' ? ': its selector matches no pod that has an IP' : ''}, so kube-proxy has nowhere to send a query and every lookup times out. ` +
          `${names.join(', ')} ${names.length === 1 ? 'waits' : 'wait'} on ${why ? `this (${why.text})` : 'this'}; the StatefulSet's own configuration may be fine: fix the cluster DNS first. This affects every workload of the cluster, not only ${sts.metadata.name}.`,
        evidence: [...sliceEvidence(slices), ...(why?.evidence ?? [])],
        recoveries: [
          {
            id: 'manual',
            title: `Bring the cluster DNS (${service}) back: look at its pods, then restart them`,
            description:
              'Read why the DNS pods are not Ready (their events, their readiness probe, their logs), fix that, and restart the DNS Deployment if it does not recover by itself. A manual step for the cluster administrator: restarting the DNS pods briefly affects name resolution cluster-wide. The replicas become Ready by themselves once names resolve.',
            automated: false,
            commands: recoveryCommands(svc, pods),
          },
        ],
        confidence: 'high',
        explains: names,
        details: { service, verdict: state.verdict, endpoints: state.total, ready: state.ready, dnsPods: pods, pods: names },
      },
    ];
  },
};
