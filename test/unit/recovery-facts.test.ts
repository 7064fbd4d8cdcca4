// The facts recovery and rules share (src/rules/facts.ts), one function each, on small inline
// snapshots (kstatus style): the nodes a PV is pinned to, the reclaim-policy default, a node's
// last heartbeat, where a new claim can bind, and the template diff.
import { describe, expect, it } from 'vitest';
import { newClaimBinding, nodeHeartbeat, pinnedNodes, reclaimPolicy } from '../../src/rules/facts.js';
import { diffTemplates } from '../../src/rules/template-diff.js';
import type { Node, PersistentVolume, Snapshot, StatefulSet } from '../../src/snapshot/types.js';
import { SnapshotView } from '../../src/snapshot/view.js';

const node = (name: string, labels: Record<string, string> = {}, ready: 'True' | 'Unknown' = 'True', heartbeat = '2026-01-01T00:00:00Z'): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: heartbeat }] },
});
const pv = (name: string, terms: PersistentVolume['spec']['nodeAffinity'], extra: Partial<PersistentVolume['spec']> = {}, phase?: 'Available' | 'Bound'): PersistentVolume => ({
  metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local', ...(terms ? { nodeAffinity: terms } : {}), ...extra },
  ...(phase ? { status: { phase } } : {}),
});
const snapshot = (parts: Partial<Snapshot>): Snapshot => ({
  schemaVersion: 1,
  source: { type: 'dump', path: 'inline' },
  now: '2026-01-01T00:10:00Z',
  namespace: 'demo',
  statefulSets: [],
  pods: [],
  persistentVolumeClaims: [],
  events: [],
  services: [],
  controllerRevisions: [],
  resourceQuotas: [],
  nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'a' }, 'Unknown')],
  persistentVolumes: [],
  storageClasses: [{ metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner' }],
  volumeAttachments: [],
  networkPolicies: [],
  gaps: [],
  ...parts,
});
const terms = (...t: NonNullable<PersistentVolume['spec']['nodeAffinity']>['required'] extends infer R ? (R extends { nodeSelectorTerms: infer T } ? T : never) : never) => ({ required: { nodeSelectorTerms: t } });
const sts: StatefulSet = {
  metadata: { name: 'quiz', namespace: 'demo' },
  spec: {
    selector: { matchLabels: { app: 'quiz' } },
    template: { spec: { containers: [] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
};

describe('pinnedNodes', () => {
  it.each([
    ['hostname In (matchExpressions)', terms({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['gone'] }] }), ['gone']],
    ['metadata.name In (matchFields)', terms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }), ['n2']],
    ['a zone label', terms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }), ['n1', 'n3']],
    ['two terms (OR)', terms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }), ['n1', 'n2']],
    ['zone AND name (one term)', terms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }), ['n3']],
    ['no affinity', undefined, []],
  ] as const)('%s', (_what, affinity, expected) => {
    expect(pinnedNodes(new SnapshotView(snapshot({})), pv('v', affinity as never))).toEqual(expected);
  });
});

describe('reclaimPolicy, nodeHeartbeat', () => {
  it('reclaim policy defaults to Retain (the API server default), else the PV says', () => {
    expect(reclaimPolicy(pv('v', undefined))).toBe('Retain');
    expect(reclaimPolicy(pv('v', undefined, { persistentVolumeReclaimPolicy: 'Delete' }))).toBe('Delete');
  });

  it('the heartbeat is the Lease renewal when there is one, else the Ready condition', () => {
    const s = snapshot({ leases: [{ metadata: { name: 'n3', namespace: 'kube-node-lease' }, spec: { renewTime: '2026-01-01T00:09:30.500000Z' } }] });
    const v = new SnapshotView(s);
    expect(nodeHeartbeat(v, 'n3')).toMatchObject({ time: '2026-01-01T00:09:30Z', source: 'Lease', age: 30 });
    expect(nodeHeartbeat(v, 'n1')).toMatchObject({ time: '2026-01-01T00:00:00Z', source: 'Ready condition', age: 600 });
    expect(nodeHeartbeat(v, 'nope')).toBeUndefined();
  });
});

describe('newClaimBinding', () => {
  it.each([
    ['an Available PV on a Ready node', [pv('spare', terms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }), {}, 'Available')], { ok: true, expect: { via: 'volume', volume: 'spare', nodes: ['n2'] } }],
    ['only on the lost node', [pv('spare', terms({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n3'] }] }), {}, 'Available')], { ok: false }],
    ['too small', [pv('spare', undefined, { capacity: { storage: '512Mi' } }, 'Available')], { ok: false }],
    ['another class', [pv('spare', undefined, { storageClassName: 'other' }, 'Available')], { ok: false }],
    ['pre-bound to another claim', [pv('spare', undefined, { claimRef: { namespace: 'demo', name: 'data-other-0' } }, 'Available')], { ok: false }],
    ['pre-bound to this claim', [pv('spare', undefined, { claimRef: { namespace: 'demo', name: 'data-quiz-1' } }, 'Available')], { ok: true }],
    ['Bound already', [pv('spare', undefined, {}, 'Bound')], { ok: false }],
  ] as const)('%s', (_what, volumes, expected) => {
    const b = newClaimBinding(new SnapshotView(snapshot({ persistentVolumes: [...volumes] })), sts, 'data', 1, ['n3']);
    expect(b).toMatchObject(expected);
    if (!b.ok) expect(b.reason).toMatch(/First create a PersistentVolume of StorageClass local with at least 1Gi and access mode ReadWriteOnce on a Ready node/);
  });

  it('a class with a provisioner binds by itself', () => {
    const s = snapshot({ storageClasses: [{ metadata: { name: 'local' }, provisioner: 'ebs.csi.aws.com' }] });
    expect(newClaimBinding(new SnapshotView(s), sts, 'data', 1)).toEqual({ ok: true, expect: { via: 'provisioner', claim: 'data-quiz-1', storageClass: 'local', provisioner: 'ebs.csi.aws.com' } });
  });
});

describe('diffTemplates', () => {
  it('one line per changed container field, label and annotation; none for the same template in another key order', () => {
    const a = { metadata: { labels: { app: 'q', fault: 'x' } }, spec: { containers: [{ name: 'db', image: 'mongo:bad', env: [{ name: 'A', value: '1' }], readinessProbe: { httpGet: { path: '/', port: 80 } } }] } };
    const b = { metadata: { labels: { app: 'q' }, annotations: { note: 'y' } }, spec: { containers: [{ env: [{ value: '1', name: 'A' }], name: 'db', image: 'mongo:5', readinessProbe: { httpGet: { port: 80, path: '/' } } }] } };
    expect(diffTemplates(a, b)).toEqual(['container db image: mongo:bad → mongo:5', 'label fault: x → (none)', 'annotation note: (none) → y']);
    expect(diffTemplates(a, a)).toEqual([]);
  });
});
