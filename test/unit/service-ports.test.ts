// headless-service-missing, port disagreement: the governing Service's ports against the ports
// the pod template declares, on the recorded healthy quiz (real objects) with the Service edited.
import { describe, expect, it } from 'vitest';
import { diagnoseFixture } from './fixtures.js';
import type { Snapshot, ServicePort } from '../../src/snapshot/types.js';

const withPorts = (ports: ServicePort[], edit?: (s: Snapshot) => void) => (s: Snapshot) => {
  s.services.find((x) => x.metadata.name === 'quiz-pods')!.spec.ports = ports;
  edit?.(s);
};
const portFindings = async (edit: (s: Snapshot) => void) => (await diagnoseFixture('healthy', edit)).findings.filter((f) => f.rule === 'headless-service-missing' && f.details?.problem === 'port-mismatch');

describe('headless-service-missing: Service and StatefulSet disagree on ports', () => {
  it('does not fire on the healthy quiz (mongodb 27017 → the declared 27017)', async () => {
    expect(await portFindings(() => undefined)).toEqual([]);
  });

  it.each([
    ['port 27018, targetPort defaulted', [{ name: 'mongodb', port: 27018 }], 'no container declares port 27018/TCP', /SRV records/],
    ['named targetPort no container declares', [{ name: 'mongodb', port: 27017, targetPort: 'mongo' }], 'no container declares a port named mongo (TCP)', /carry no port mongo/],
    ['the right number over UDP', [{ name: 'mongodb', port: 27017, protocol: 'UDP' }], 'no container declares port 27017/UDP', /SRV records/],
  ] as [string, ServicePort[], string, RegExp][])('%s: a warning with the fix', async (_what, ports, evidenceText, why) => {
    const [f, ...more] = await portFindings(withPorts(ports));
    expect(more).toEqual([]);
    expect(f).toBeDefined();
    expect(f!.severity).toBe('warning');
    expect(f!.summary).toMatch(/^Service quiz-pods and StatefulSet quiz disagree on ports: mongodb \(targetPort \S+\) reaches no port the pods declare$/);
    expect(f!.evidence.some((e) => e.label === 'spec.ports[0]' && e.text.endsWith(evidenceText))).toBe(true);
    expect(f!.evidence.find((e) => e.label === 'spec.template.spec.containers[].ports')!.text).toBe('quiz-api http 8080/TCP, mongo mongodb 27017/TCP');
    expect(f!.explanation).toMatch(why);
    if (ports[0]!.protocol !== 'UDP') expect(f!.recoveries[0]!.commands).toEqual([`kubectl -n ${f!.subject.namespace} patch service quiz-pods --type=json -p '[{"op":"replace","path":"/spec/ports/0/targetPort","value":27017}]'`]);
    else expect(f!.recoveries[0]!.commands![0]).toMatch(/edit service quiz-pods/);
  });

  it('names the readiness probe that checks the port the Service should reach', async () => {
    const [f] = await portFindings(withPorts([{ name: 'web', port: 80 }, { name: 'mongodb', port: 27017 }]));
    expect(f!.summary).toContain('web (targetPort 80)');
    // The only declared TCP port no Service port reaches is quiz-api's 8080, which its readiness probe checks.
    expect(f!.recoveries[0]!.commands![0]).toContain('"path":"/spec/ports/0/targetPort","value":8080');
    expect(f!.evidence.find((e) => e.label === 'spec.template.spec.containers[quiz-api].readinessProbe')?.text).toMatch(/^httpGet http:\/\/:8080\/healthz\/ready/);
  });

  it('does not fire without declared container ports, without ports on the Service, or when the Service selects other pods', async () => {
    const noDeclared = (s: Snapshot) => {
      for (const c of s.statefulSets[0]!.spec.template.spec.containers) delete c.ports;
    };
    expect(await portFindings(withPorts([{ name: 'mongodb', port: 27018 }], noDeclared))).toEqual([]);
    expect(await portFindings(withPorts([]))).toEqual([]);
    const other = (s: Snapshot) => {
      s.services.find((x) => x.metadata.name === 'quiz-pods')!.spec.selector = { app: 'other' };
    };
    expect(await portFindings(withPorts([{ name: 'mongodb', port: 27018 }], other))).toEqual([]);
  });
});

describe('recorded on the real control plane', () => {
  it('service-port-mismatch.yaml: quiz-pods lists 27018, mongo declares 27017; the fix targets 27017', async () => {
    const d = await diagnoseFixture('service-port-mismatch');
    expect(d.findings.map((f) => f.rule)).toEqual(['headless-service-missing']);
    const f = d.findings[0]!;
    expect(f.details).toMatchObject({ problem: 'port-mismatch' });
    expect(f.recoveries[0]!.commands![0]).toContain('[{"op":"replace","path":"/spec/ports/0/targetPort","value":27017}]');
  });
});
