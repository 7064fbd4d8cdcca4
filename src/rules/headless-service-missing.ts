/**
 * `headless-service-missing`: `spec.serviceName` names no Service, a Service that is not
 * headless, one whose selector does not select the StatefulSet's pods, or one whose ports reach
 * no port the pod template declares (a named `targetPort` no container declares, or a number no
 * container declares while the template declares ports: the Service and the StatefulSet disagree). Per-pod DNS names
 * (`<pod>.<serviceName>.<ns>.svc`) then do not exist, and peers that find each other by them
 * (replica sets, quorums) never form.
 *
 * Kubernetes source: the StatefulSet controller never checks `spec.serviceName`
 * (pkg/controller/statefulset sets only the pods' `subdomain`), so there is no event; the DNS
 * records come from the headless Service (`spec.clusterIP: None`) and its EndpointSlices.
 * `serviceName` is optional from 1.33: when it is unset there is nothing to check. A Service
 * read that was not possible (forbidden) gives no finding, never "missing". Version-independent
 * (reads spec fields only).
 */
import type { Container, Service, StatefulSet } from '../snapshot/types.js';
import { absenceEvidence, fieldEvidence, ref, stsRef, type Evidence, type Finding, type RecoveryOption, type Rule } from './types.js';
import { governingService, servicePortTargets } from './facts.js';
import { describeProbe } from './probe-failing.js';
import { applyCommand, type ManifestValue } from './manifest.js';

/**
 * The ports of the headless Service: the existing Service's, else the container ports the pod
 * template declares (name, containerPort, protocol). A headless Service may have no ports at all,
 * so none are invented.
 */
function servicePorts(sts: StatefulSet, existing: Service['spec']['ports']): { name: string; port: number; protocol?: string }[] {
  if (existing?.length) return existing.map((x) => ({ name: x.name ?? `port-${x.port}`, port: x.port, ...(x.protocol ? { protocol: x.protocol } : {}) }));
  const out: { name: string; port: number; protocol?: string }[] = [];
  for (const c of [...(sts.spec.template.spec.initContainers ?? []), ...sts.spec.template.spec.containers]) {
    for (const p of (c as { ports?: { name?: string; containerPort: number; protocol?: string }[] }).ports ?? []) {
      if (out.some((o) => o.port === p.containerPort && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))) continue;
      out.push({ name: p.name ?? `port-${p.containerPort}`, port: p.containerPort, ...(p.protocol && p.protocol !== 'TCP' ? { protocol: p.protocol } : {}) });
    }
  }
  return out;
}

/** The headless Service the StatefulSet expects, as a manifest for `kubectl apply`. */
function manifest(name: string, ns: string, labels: Record<string, string>, ports: { name: string; port: number; protocol?: string }[]): ManifestValue {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: labels, ports: ports.length ? ports : undefined },
  };
}

export const headlessServiceMissing: Rule = {
  id: 'headless-service-missing',
  title: 'Governing headless Service missing or wrong',
  rank: 70,
  doc: {
    severities: ['warning'],
    meaning: '`spec.serviceName` names no Service, a Service that is not headless, or one that does not select the pods: the pods have no per-pod DNS names. Also when the Service and the StatefulSet disagree on ports: a Service port whose `targetPort` reaches no port the pod template declares (a name no container declares with that protocol: the EndpointSlices carry no such port; a number no container declares, while the template declares ports: the SRV records send peers to it), with the container port it should target (same name, else the only unreached one) and the readiness probe that checks it. Not checked when `serviceName` is unset or Services cannot be read.',
    signals: 'StatefulSet `spec.serviceName`, Service `spec.clusterIP`, `spec.selector`, `spec.ports`; the template\'s container ports and readiness probe (the controller emits nothing)',
    recoveries: 'manual (create / recreate the headless Service, fix its selector, `kubectl patch service … targetPort`)',
  },
  evaluate({ view, sts }) {
    const gov = governingService(view, sts);
    if (!gov) return [];
    const { name, service: svc, podLabels } = gov;
    const ns = view.snapshot.namespace;
    const base = { rule: 'headless-service-missing', severity: 'warning' as const, statefulSet: stsRef({ view, sts }), confidence: 'high' as const };
    const serviceNameEvidence = fieldEvidence(sts, 'StatefulSet', 'spec.serviceName', name, undefined, 'spec');
    const dns = `${sts.metadata.name}-0.${name}.${ns}.svc`;
    const createIt: RecoveryOption = {
      id: 'manual',
      title: `Create the headless Service ${name}`,
      description: 'Safe: no pod changes. The pods get their DNS names as soon as the Service selects them (publishNotReadyAddresses lets not-yet-Ready peers find each other).',
      automated: false,
      commands: [applyCommand(manifest(name, ns, podLabels, servicePorts(sts, svc?.spec.ports)))],
    };
    if (!svc) {
      return [
        {
          ...base,
          subject: { kind: 'Service', namespace: ns, name },
          summary: `Service ${name} (spec.serviceName) does not exist: the pods have no DNS names such as ${dns}`,
          explanation: `StatefulSet ${sts.metadata.name} names ${name} as its governing Service, but there is no Service ${name} in namespace ${ns}. The controller does not check this and records no event; the pods run, but their stable DNS names do not resolve, so peers that find each other by name cannot.`,
          evidence: [serviceNameEvidence, absenceEvidence({ kind: 'Service', namespace: ns, name }, `Service ${name} does not exist`)],
          recoveries: [createIt],
          details: { service: name, problem: 'missing' },
        },
      ];
    }
    const out: Finding[] = [];
    const clusterIP = svc.spec.clusterIP;
    if (clusterIP !== 'None') {
      const evidence: Evidence[] = [serviceNameEvidence, fieldEvidence(svc, 'Service', 'spec.clusterIP', clusterIP ?? '(unset)', undefined, 'spec')];
      out.push({
        ...base,
        subject: ref(svc, 'Service'),
        summary: `Service ${name} is not headless (clusterIP ${clusterIP ?? 'unset'}): the pods have no DNS names such as ${dns}`,
        explanation: `The governing Service of a StatefulSet must be headless (spec.clusterIP: None) for the cluster DNS to publish one record per pod. Service ${name} has a cluster IP, so only the Service name resolves (to a load-balanced virtual IP), not ${dns}. spec.clusterIP cannot be changed to None in place: delete and recreate the Service.`,
        evidence,
        recoveries: [
          {
            ...createIt,
            title: `Recreate ${name} as a headless Service`,
            description: 'spec.clusterIP is immutable: delete the Service and create it again with clusterIP: None. Clients of the old virtual IP lose it; if something needs a load-balanced address, give that its own Service under another name.',
            commands: [`kubectl -n ${ns} delete service ${name}`, ...createIt.commands!],
          },
        ],
        details: { service: name, problem: 'not-headless', clusterIP: clusterIP ?? null },
      });
    }
    const selector = svc.spec.selector;
    if (selector && Object.keys(selector).length > 0 && !gov.selectsPods) {
      out.push({
        ...base,
        subject: ref(svc, 'Service'),
        summary: `Service ${name} does not select the pods of ${sts.metadata.name}: its selector ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')} does not match their labels`,
        explanation: `Per-pod DNS records exist only for pods the governing Service selects. The selector of Service ${name} does not match the labels of the StatefulSet's pod template, so no pod of ${sts.metadata.name} gets a DNS name.`,
        evidence: [
          serviceNameEvidence,
          fieldEvidence(svc, 'Service', 'spec.selector', Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(','), undefined, 'spec'),
          fieldEvidence(sts, 'StatefulSet', 'spec.template.metadata.labels', Object.entries(podLabels).map(([k, v]) => `${k}=${v}`).join(','), undefined, 'spec'),
        ],
        recoveries: [
          {
            id: 'manual',
            title: `Fix the selector of Service ${name}`,
            description: 'Safe: no pod changes. Set the Service selector to labels the pods carry.',
            automated: false,
            commands: [`kubectl -n ${ns} patch service ${name} --type=json -p '${JSON.stringify([{ op: 'replace', path: '/spec/selector', value: podLabels }])}'`],
          },
        ],
        details: { service: name, problem: 'selector-mismatch', selector },
      });
    }
    if (gov.selectsPods) {
      const f = portMismatch(sts, svc, name, ns, serviceNameEvidence);
      if (f) out.push({ ...base, ...f });
    }
    return out;
  },
};

/**
 * The Service's ports that reach no declared container port of the template (servicePortTargets),
 * when the template declares ports at all (an application may listen without declaring; with no
 * declaration there is nothing to compare). One finding naming each, with the container port it
 * should target (same name and protocol, else the only declared port of that protocol no other
 * Service port reaches) and the readiness probe that checks that port.
 */
function portMismatch(sts: StatefulSet, svc: Service, name: string, ns: string, serviceNameEvidence: Evidence): Omit<Finding, 'rule' | 'severity' | 'statefulSet' | 'confidence'> | undefined {
  const containers = [...sts.spec.template.spec.containers, ...(sts.spec.template.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const declared = containers.flatMap((c) => (c.ports ?? []).map((p) => ({ c, p, protocol: (p.protocol ?? 'TCP').toUpperCase() })));
  if (!declared.length) return undefined;
  const targets = servicePortTargets(svc, sts);
  const wrong = targets.filter((t) => !t.container);
  if (!wrong.length) return undefined;
  const reached = new Set(targets.filter((t) => t.container).map((t) => t.container!.containerPort));
  const fixes: { index: number; to: number; container: Container; portName: string }[] = [];
  for (const t of wrong) {
    const sameName = declared.find((d) => d.protocol === t.protocol && ((t.name && d.p.name === t.name) || (typeof t.target === 'string' && d.p.name === t.target)));
    const free = declared.filter((d) => d.protocol === t.protocol && !reached.has(d.p.containerPort));
    const pick = sameName ?? (free.length === 1 ? free[0] : undefined);
    if (pick) fixes.push({ index: t.index, to: pick.p.containerPort, container: pick.c, portName: pick.p.name ?? String(pick.p.containerPort) });
  }
  const evidence: Evidence[] = [serviceNameEvidence];
  for (const t of wrong) evidence.push(fieldEvidence(svc, 'Service', `spec.ports[${t.index}]`, `${t.text}: ${typeof t.target === 'string' ? `no container declares a port named ${t.target} (${t.protocol})` : `no container declares port ${t.target}/${t.protocol}`}`, undefined, 'spec'));
  evidence.push(fieldEvidence(sts, 'StatefulSet', 'spec.template.spec.containers[].ports', declared.map((d) => `${d.c.name} ${d.p.name ? `${d.p.name} ` : ''}${d.p.containerPort}/${d.protocol}`).join(', '), undefined, 'spec'));
  for (const f of fixes) {
    const probe = f.container.readinessProbe;
    const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
    if (probe && (port === f.to || (typeof port === 'string' && port === f.portName))) evidence.push(fieldEvidence(sts, 'StatefulSet', `spec.template.spec.containers[${f.container.name}].readinessProbe`, describeProbe(probe), undefined, 'spec'));
  }
  const list = wrong.map((t) => `${t.name ?? t.port} (targetPort ${t.target})`).join(', ');
  const named = wrong.filter((t) => typeof t.target === 'string');
  const recoveries: RecoveryOption[] = [
    {
      id: 'manual',
      title: `Point Service ${name} at the ports the pods serve`,
      description: fixes.length
        ? `Safe: no pod changes. Sets ${fixes.map((f) => `spec.ports[${f.index}].targetPort to ${f.to} (container ${f.container.name} port ${f.portName})`).join(', ')}; the EndpointSlices and SRV records follow within seconds.`
        : `Safe: no pod changes. Set each listed port's targetPort to a port a container declares (or declare the port the application listens on in the pod template).`,
      automated: false,
      commands: fixes.length
        ? [`kubectl -n ${ns} patch service ${name} --type=json -p '${JSON.stringify(fixes.map((f) => ({ op: 'replace', path: `/spec/ports/${f.index}/targetPort`, value: f.to })))}'`]
        : [`kubectl -n ${ns} edit service ${name}`],
    },
  ];
  return {
    subject: ref(svc, 'Service'),
    summary: `Service ${name} and StatefulSet ${sts.metadata.name} disagree on ports: ${list} reaches no port the pods declare`,
    explanation:
      `The governing Service ${name} lists ${list}, but no container of ${sts.metadata.name}'s pod template declares ${wrong.length === 1 ? 'that port' : 'those ports'} (it declares ${declared.map((d) => `${d.p.containerPort}/${d.protocol}`).join(', ')}). ` +
      (named.length
        ? `A named targetPort resolves only to a declared container port of that name and protocol, so the EndpointSlices of ${name} carry no port ${named.map((t) => t.target).join(', ')}: there is no SRV record for it and nothing reaches the pods through it. `
        : `The EndpointSlices publish the Service's target port, so the SRV records (_<port name>._<protocol>.${name}.${ns}.svc) send peers and clients to a port where, by the template, nothing listens. `) +
      `The pods' own DNS names (A records) do not depend on ports, but whatever takes the port from the Service does: SRV-based peer discovery, ${svc.spec.clusterIP === 'None' ? '' : 'the Service\'s virtual IP, '}NetworkPolicies written for those ports.`,
    evidence,
    recoveries,
    details: { service: name, problem: 'port-mismatch', ports: wrong.map((t) => ({ name: t.name ?? null, port: t.port, targetPort: t.target, protocol: t.protocol })) },
  };
}
