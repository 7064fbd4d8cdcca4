// End to end: NetworkPolicies on the real control plane that isolate quiz's replicas or block
// their DNS while the readiness probe fails; sts-doctor names the policy, the port, and proposes
// the policy that fixes it, which the real API server accepts and which clears the finding.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubectl, temporaryDir, waitFor } from '../scenarios/cluster.mjs';
import { endpointSlicePorts, networkScenarios, TEST_DNS_LABEL, waitTestDns } from '../scenarios/network.mjs';
import { FAULT_LABEL } from '../scenarios/quiz.mjs';
import { rootCauses } from '../../src/rules/causes.js';
import type { Diagnosis } from '../../src/diagnosis.js';
import { diagnoseJson, onlyFinding, runCli, testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
const setUp = (name: keyof typeof networkScenarios) => namespaces.scenario<Record<string, string>>(networkScenarios, name);

/** The manifest of a `kubectl apply -f - <<'EOF' … EOF` recovery command. */
const heredoc = (command: string): string => command.split('\n').slice(1, -1).join('\n');

describe.concurrent('network on the real control plane', () => {
  it('Service and StatefulSet disagree on ports: headless-service-missing names the port and the fix, which clears it', async () => {
    const { ns, expected } = await setUp('service-port-mismatch');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    expect(diagnosis.statefulSets[0]!.table.every((r) => r.ready)).toBe(true);
    const f = onlyFinding(diagnosis.findings, 'headless-service-missing');
    expect(f.severity).toBe('warning');
    expect(f.details).toMatchObject({ problem: 'port-mismatch', ports: [{ name: 'mongodb', port: 27018, targetPort: 27018, protocol: 'TCP' }] });
    expect(f.summary).toContain(`mongodb (targetPort ${expected.port})`);
    expect(f.evidence.find((e) => e.label === 'spec.ports[0]')!.text).toBe('mongodb 27018/TCP → 27018: no container declares port 27018/TCP');
    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout).toContain('Service/quiz-pods spec.ports[0]');
    // The proposed patch is accepted by the real API server; the EndpointSlice controller follows; the finding is gone.
    const patch = f.recoveries[0]!.commands![0]!;
    expect(patch).toContain(`"value":${expected.containerPort}`);
    kubectl(['-n', ns, 'patch', 'service', 'quiz-pods', '--type=json', '-p', /-p '(.*)'$/.exec(patch)![1]!]);
    await waitFor('the EndpointSlice of quiz-pods on 27017', () => endpointSlicePorts(ns).includes(27017));
    const after = await diagnoseJson(ns);
    expect(after.diagnosis.findings).toEqual([]);
    expect(after.result.code).toBe(0);
  });

  it('deny-all ingress: network-policy-isolation names the policy and port; the proposed policy clears it', async () => {
    const { ns, expected } = await setUp('network-policy-isolation');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = onlyFinding(diagnosis.findings, 'network-policy-isolation');
    expect(f.severity).toBe('critical');
    expect(f.summary).toContain(expected.policy);
    expect(f.summary).toContain(expected.port);
    expect(f.details).toMatchObject({ policies: [expected.policy], ports: [expected.port], ingress: true, egress: false });
    const policy = f.evidence.find((e) => e.object.kind === 'NetworkPolicy')!;
    expect(policy.text).toBe('podSelector {} (all pods); policyTypes Ingress; no ingress rule (allows nothing)');
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning Unhealthy')).toBe(true);
    expect(diagnosis.findings.map((x) => x.rule)).not.toContain('dns-egress-blocked');
    // The root cause: the failing readiness of the replicas it keeps apart folds under it.
    const probes = diagnosis.findings.filter((x) => x.rule === 'probe-failing');
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) expect(p.causedBy).toEqual({ rule: 'network-policy-isolation', subject: f.subject });
    // The text report quotes the policy too.
    const text = await runCli(['diagnose', 'quiz', '-n', ns]);
    expect(text.stdout).toContain('NetworkPolicy/deny-all-ingress spec');
    expect(text.stdout).toMatch(/Findings \(\d+: 1 root cause, \d+ consequences? folded under it\)/);
    // The proposed policy is accepted by the real API server and clears the finding.
    kubectl(['apply', '-f', '-'], { input: heredoc(f.recoveries[0]!.commands![0]!) });
    const after = await diagnoseJson(ns);
    expect(after.diagnosis.findings.map((x) => x.rule)).not.toContain('network-policy-isolation');
    expect(after.diagnosis.findings.map((x) => x.rule)).toContain('probe-failing');
  });

  it('egress to the peers only: dns-egress-blocked; the proposed policy clears it', async () => {
    const { ns, expected } = await setUp('dns-egress-blocked');
    const { diagnosis } = await diagnoseJson(ns);
    const f = onlyFinding(diagnosis.findings, 'dns-egress-blocked');
    expect(f.summary).toContain(expected.policy);
    expect(f.evidence[0]!.text).toContain('egress[0]: to pods app=quiz on TCP/27017');
    expect(diagnosis.findings.map((x) => x.rule)).not.toContain('network-policy-isolation');
    const probes = diagnosis.findings.filter((x) => x.rule === 'probe-failing');
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) expect(p.causedBy).toEqual({ rule: 'dns-egress-blocked', subject: f.subject });
    kubectl(['apply', '-f', '-'], { input: heredoc(f.recoveries[0]!.commands![0]!) });
    const after = await diagnoseJson(ns);
    expect(after.diagnosis.findings.map((x) => x.rule)).not.toContain('dns-egress-blocked');
  });

  it('policies that allow the peers (named port) and DNS: no network finding, the probe is the cause', async () => {
    const { ns } = await setUp('network-allowed');
    const { diagnosis } = await diagnoseJson(ns);
    const rules = diagnosis.findings.map((x) => x.rule);
    expect(rules).not.toContain('network-policy-isolation');
    expect(rules).not.toContain('dns-egress-blocked');
    expect(rules).toContain('probe-failing');
  });

  it('headless Service without publishNotReadyAddresses while quiz-0 fails readiness: peer-discovery-blocked; the patch clears it', async () => {
    const { ns, expected } = await setUp('peer-discovery-blocked');
    const { diagnosis } = await diagnoseJson(ns);
    const f = onlyFinding(diagnosis.findings, 'peer-discovery-blocked');
    expect(f.severity).toBe('warning');
    expect(f.subject).toMatchObject({ kind: 'Service', name: expected.service });
    expect(f.summary).toContain(`${expected.pod}.${expected.service} does not resolve`);
    expect(f.evidence[0]).toMatchObject({ label: 'spec.publishNotReadyAddresses', text: 'not set (false)' });
    expect(f.evidence[1]).toMatchObject({ type: 'event', label: 'Warning Unhealthy' });
    const patch = f.recoveries[0]!.commands![0]!;
    kubectl(['-n', ns, 'patch', 'service', expected.service!, '--type=merge', '-p', /-p '(.*)'$/.exec(patch)![1]!]);
    const after = await diagnoseJson(ns);
    expect(after.diagnosis.findings.map((x) => x.rule)).not.toContain('peer-discovery-blocked');
  });

  it('an init container waiting for quiz-1, which OrderedReady never creates: init-container-stuck, Init:0/1 in the table', async () => {
    const { ns, expected } = await setUp('init-container-stuck');
    const { result, diagnosis } = await diagnoseJson(ns);
    expect(result.code).toBe(1);
    const f = onlyFinding(diagnosis.findings, 'init-container-stuck');
    expect(f.subject).toMatchObject({ kind: 'Pod', name: expected.pod });
    expect(f.details).toMatchObject({ container: expected.container, waitsFor: [expected.waitsFor], missing: [expected.waitsFor] });
    expect(f.summary).toContain('OrderedReady never creates first');
    expect(f.evidence.map((e) => e.label)).toEqual(['status.initContainerStatuses[wait-for-peers].state.running', 'status.conditions[Initialized]', 'spec.initContainers[wait-for-peers].command']);
    expect(f.evidence[1]!.text).toBe('False ContainersNotInitialized: containers with incomplete status: [wait-for-peers]');
    expect(diagnosis.findings[0]!.rule).toBe('init-container-stuck');
    expect(diagnosis.statefulSets[0]!.table[0]).toMatchObject({ pod: 'quiz-0', status: 'Init:0/1' });
  });

  it('the cluster DNS Service has no ready endpoint while quiz-0 fails readiness: cluster-dns-unavailable, the readiness findings folded under it; gone once the DNS pods are Ready', async () => {
    const { ns, expected } = await setUp('cluster-dns-unavailable');
    const dnsFlag = ['--cluster-dns', expected.clusterDns!];
    const { result, diagnosis } = await diagnoseJson(ns, 'quiz', dnsFlag);
    expect(result.code).toBe(1);
    const f = onlyFinding(diagnosis.findings, 'cluster-dns-unavailable');
    expect(f.severity).toBe('critical');
    expect(f.subject).toEqual({ kind: 'Service', namespace: ns, name: 'dns' });
    expect(f.summary).toContain(`The cluster DNS (Service ${ns}/dns) has 2 endpoints, none ready`);
    expect(f.explains).toEqual(['quiz-0']);
    expect(f.details).toMatchObject({ verdict: 'none-ready', endpoints: 2, ready: 0 });
    // The real EndpointSlice controller's not-ready endpoints, quoted with the DNS pods they target.
    const slices = f.evidence.filter((e) => e.object.kind === 'EndpointSlice');
    expect(slices).toHaveLength(2);
    for (const e of slices) {
      expect(e.label).toMatch(/^endpoints\[\d\]\.conditions$/);
      expect(e.text).toMatch(/^ready=false serving=false terminating=false; addresses [\d.]+; targetRef Pod coredns-[a-z0-9]+-[a-z0-9]{5}; nodeName kwok-node-[012]$/);
    }
    expect(f.evidence.some((e) => e.type === 'event' && e.label === 'Warning Unhealthy' && e.object.name === 'quiz-0')).toBe(true);
    expect(f.recoveries[0]!.automated).toBe(false);
    expect(f.recoveries[0]!.commands!.some((c) => c.startsWith(`kubectl -n ${ns} rollout restart deployment coredns`))).toBe(true);
    // The readiness findings about quiz-0 are its consequences: one root cause.
    const rules = diagnosis.findings.map((x) => x.rule).sort();
    expect(rules).toEqual(['cluster-dns-unavailable', 'ordered-ready-stall', 'peer-discovery-blocked', 'probe-failing']);
    for (const x of diagnosis.findings.filter((y) => y !== f)) expect(x.causedBy, x.rule).toEqual({ rule: 'cluster-dns-unavailable', subject: f.subject });
    expect(rootCauses(diagnosis.findings)).toHaveLength(1);
    const text = await runCli(['diagnose', 'quiz', '-n', ns, ...dnsFlag]);
    expect(text.stdout).toContain('1 root cause, 3 consequences folded under it');
    expect(text.stdout).toContain(`EndpointSlice/dns-`);

    // Without --cluster-dns: the test cluster has no kube-system/kube-dns; never a finding, a gap with the hint.
    const plain = await diagnoseJson(ns);
    expect(plain.diagnosis.findings.map((x) => x.rule)).not.toContain('cluster-dns-unavailable');
    expect(plain.diagnosis.gaps).toEqual([expect.objectContaining({ resource: 'endpointslices', reason: 'absent', message: expect.stringContaining('pass --cluster-dns <namespace>/<service>') })]);

    // The snapshot stores the slices and which Service they are of: --from gives the same finding.
    const snap = await runCli(['snapshot', 'quiz', '-n', ns, ...dnsFlag]);
    expect(snap.code, snap.stderr).toBe(0);
    const path = join(temporaryDir('sts-doctor-dns-snap-'), 'snapshot.yaml');
    writeFileSync(path, snap.stdout);
    const offline = JSON.parse((await runCli(['diagnose', '--from', path, '--now', diagnosis.now, '-o', 'json'])).stdout) as Diagnosis;
    expect(onlyFinding(offline.findings, 'cluster-dns-unavailable').evidence).toEqual(f.evidence);

    // The DNS pods become Ready (the fault label removed: the kubelet's probe passes): the finding is gone.
    kubectl(['-n', ns, 'label', 'pods', '-l', Object.entries(TEST_DNS_LABEL).map(([k, v]) => `${k}=${v}`).join(','), `${FAULT_LABEL}/readiness-`]);
    await waitTestDns(ns, true);
    const after = await diagnoseJson(ns, 'quiz', dnsFlag);
    expect(after.diagnosis.findings.map((x) => x.rule)).not.toContain('cluster-dns-unavailable');
    expect(after.diagnosis.findings.map((x) => x.rule)).toContain('probe-failing');
    expect(after.diagnosis.gaps).toEqual([]);
  });

  it('the cluster DNS has ready endpoints: no cluster-dns-unavailable, no gap; the probe is the cause', async () => {
    const { ns, expected } = await setUp('cluster-dns-ready');
    const { diagnosis } = await diagnoseJson(ns, 'quiz', ['--cluster-dns', expected.clusterDns!]);
    const rules = diagnosis.findings.map((x) => x.rule);
    expect(rules).not.toContain('cluster-dns-unavailable');
    expect(rules).toContain('probe-failing');
    expect(diagnosis.findings.every((x) => x.causedBy?.rule !== 'cluster-dns-unavailable')).toBe(true);
    expect(diagnosis.gaps).toEqual([]);
  });
});
