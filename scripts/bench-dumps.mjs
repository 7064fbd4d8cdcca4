// Large dumps for `npm run bench`, generated offline from a recorded example (no cluster):
//   - events: examples/image-pull.yaml with N extra Warning events on its pod (default 50,000),
//     written as YAML (a kubectl-style List) and as JSON;
//   - pods: examples/healthy.yaml with spec.replicas = N and N Running, Ready pods (default 20,000)
//     (each a copy of the recorded pod with its name, uid and labels changed), as JSON.
// Usage: node scripts/bench-dumps.mjs <dir> [--events N] [--pods N]; prints the files written.
/* global structuredClone */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const root = new URL('..', import.meta.url).pathname;

/** Writes the dumps into `dir`; returns their paths. */
export function writeBenchDumps(dir, { events = 50_000, pods = 20_000 } = {}) {
  mkdirSync(dir, { recursive: true });
  const base = parse(readFileSync(join(root, 'examples', 'image-pull.yaml'), 'utf8'));
  const pod = base.items.find((i) => i.kind === 'Pod');
  const ev = base.items.find((i) => i.kind === 'Event' && i.involvedObject.kind === 'Pod');
  const t0 = Date.parse(base.stsDoctor.now) - events * 1000;
  const extra = [];
  for (let i = 0; i < events; i++) {
    const e = structuredClone(ev);
    e.metadata.name = `${pod.metadata.name}.bench${i.toString(16)}`;
    e.metadata.uid = `bench-event-${i}`;
    e.reason = i % 2 ? 'Failed' : 'BackOff';
    e.message = `Back-off pulling image "registry.example/mongo:${i}" (synthetic event ${i} of ${events})`;
    e.lastTimestamp = e.firstTimestamp = new Date(t0 + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    e.count = 1 + (i % 7);
    extra.push(e);
  }
  const withEvents = { ...base, items: [...base.items, ...extra] };
  const eventsYaml = join(dir, `events-${events}.yaml`);
  const eventsJson = join(dir, `events-${events}.json`);
  writeFileSync(eventsYaml, stringify(withEvents, { lineWidth: 0 }));
  writeFileSync(eventsJson, JSON.stringify(withEvents, null, 1));

  const healthy = parse(readFileSync(join(root, 'examples', 'healthy.yaml'), 'utf8'));
  const sts = healthy.items.find((i) => i.kind === 'StatefulSet');
  const hpod = healthy.items.find((i) => i.kind === 'Pod');
  sts.spec.replicas = pods;
  Object.assign(sts.status, { replicas: pods, readyReplicas: pods, availableReplicas: pods, currentReplicas: pods, updatedReplicas: pods });
  const many = [];
  for (let i = 0; i < pods; i++) {
    const p = structuredClone(hpod);
    const name = `${sts.metadata.name}-${i}`;
    p.metadata.name = name;
    p.metadata.uid = `bench-pod-${i}`;
    p.metadata.labels['statefulset.kubernetes.io/pod-name'] = name;
    p.metadata.labels['apps.kubernetes.io/pod-index'] = String(i);
    p.spec.hostname = name;
    for (const v of p.spec.volumes ?? []) if (v.persistentVolumeClaim) v.persistentVolumeClaim.claimName = v.persistentVolumeClaim.claimName.replace(/-\d+$/, `-${i}`);
    many.push(p);
  }
  const podsJson = join(dir, `pods-${pods}.json`);
  writeFileSync(podsJson, JSON.stringify({ ...healthy, items: [...healthy.items.filter((i) => i.kind !== 'Pod'), ...many] }));
  return { eventsYaml, eventsJson, podsJson };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const num = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
  const files = writeBenchDumps(args[0] ?? 'bench-dumps', { events: num('--events', 50_000), pods: num('--pods', 20_000) });
  for (const f of Object.values(files)) console.log(f);
}
