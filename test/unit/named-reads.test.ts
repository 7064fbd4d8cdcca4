// Nodes, PVs and VolumeAttachments read by name (src/snapshot/from-cluster.ts namedReads,
// needsWholeReads, attachmentName) are all the diagnosis needs when the read chooses them: every
// recorded snapshot (examples/ and test/fixtures/, recorded from the real control plane with the
// cluster-scoped objects listed whole) is read again as the live read would read it by name
// (only the named nodes and PVs, the attachments of its CSI PVs on their pods' nodes, scope
// `named`) and gives the same diagnosis: findings (with their vetted recovery offers), gaps,
// tables, everything. A snapshot whose read must list whole stays as it is.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { diagnose } from '../../src/diagnosis.js';
import { snapshotToList } from '../../src/commands/snapshot.js';
import { attachmentName, MAX_NAMED_NODES, MAX_NAMED_PVS, MAX_NAMED_READS, namedReads, needsWholeReads, pvsByName } from '../../src/snapshot/from-cluster.js';
import { snapshotFromDump } from '../../src/snapshot/from-dump.js';
import { SnapshotView, claimOrdinal } from '../../src/snapshot/view.js';
import { nodeState, newClaimBinding } from '../../src/rules/facts.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { examplesDir, fixturesDir, loadFixture } from './fixtures.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const names = [...new Set([examplesDir, fixturesDir].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''))))].sort();

/**
 * The snapshot as the live read would have read it by name, or undefined when it would have
 * listed whole: a forbidden or absent cluster-scoped resource (a GET fails too), namedReads
 * declines, or what the named reads find calls for the whole lists.
 */
function readByName(full: Snapshot): Snapshot | undefined {
  if (full.gaps.some((g) => ['nodes', 'persistentvolumes', 'volumeattachments'].includes(g.resource))) return undefined;
  const named = namedReads(full.statefulSets, full.pods, full.persistentVolumeClaims);
  if (!named) return undefined;
  const nodes = full.nodes.filter((n) => named.nodes.includes(n.metadata.name));
  const persistentVolumes = full.persistentVolumes.filter((pv) => named.persistentVolumes.includes(pv.metadata.name));
  // What the PV Table shows: the Released PVs whose claim is one of the StatefulSets' claims.
  const releasedForSets = full.persistentVolumes
    .filter((pv) => pv.status?.phase === 'Released' && (pv.spec.claimRef?.namespace ?? '') === full.namespace && full.statefulSets.some((s) => claimOrdinal(s, pv.spec.claimRef?.name ?? '') !== undefined))
    .map((pv) => pv.spec.claimRef!.name!);
  if (needsWholeReads(named, { nodes, persistentVolumes, releasedForSets }, full.events)) return undefined;
  const wanted = new Set<string>();
  for (const p of full.pods)
    for (const v of p.spec.volumes ?? []) {
      const claim = full.persistentVolumeClaims.find((c) => c.metadata.name === v.persistentVolumeClaim?.claimName);
      const pv = persistentVolumes.find((x) => x.metadata.name === claim?.spec.volumeName);
      const name = pv && p.spec.nodeName ? attachmentName(pv, p.spec.nodeName) : undefined;
      if (name) wanted.add(name);
    }
  return { ...full, nodes, persistentVolumes, volumeAttachments: full.volumeAttachments.filter((va) => wanted.has(va.metadata.name)), scope: { nodes: 'named', persistentvolumes: 'named', volumeattachments: 'named' } };
}

describe('nodes, PVs and attachments by name: the same diagnosis', () => {
  const byName: string[] = [];

  it.each(names)('%s', async (name) => {
    const full = await loadFixture(name);
    const named = namedReads(full.statefulSets, full.pods, full.persistentVolumeClaims);
    if (named) {
      expect(named.nodes.length).toBeLessThanOrEqual(MAX_NAMED_NODES);
      expect(named.persistentVolumes.length).toBeLessThanOrEqual(MAX_NAMED_PVS);
    }
    const partial = readByName(await loadFixture(name));
    if (!partial) return;
    byName.push(name);
    const a = diagnose(full);
    const b = diagnose(partial);
    expect(b.findings).toEqual(a.findings);
    expect(b.gaps).toEqual(a.gaps);
    expect(b).toEqual(a);
  });

  it('released-volume without its recovery events: the PV Table\'s Released PV alone makes the read list whole', async () => {
    const edit = (s: Snapshot): Snapshot => ({ ...s, events: s.events.filter((e) => e.reason !== 'StsDoctorRecovery') });
    const full = edit(await loadFixture('released-volume'));
    expect(namedReads(full.statefulSets, full.pods, full.persistentVolumeClaims)).toBeDefined();
    expect(readByName(full)).toBeUndefined();
    expect(diagnose(full).findings.map((f) => f.rule)).toContain('released-volume');
  });

  it('reads some recorded snapshots by name (the healthy ones), not none', () => {
    expect(byName).toContain('healthy');
    expect(byName.length).toBeGreaterThanOrEqual(3);
  });
});

describe('PVs by name or listed', () => {
  it('up to 20 always by name; more only while they are few beside the cluster\'s, and at most 1,000', () => {
    expect(pvsByName(MAX_NAMED_READS, 0)).toBe(true);
    expect(pvsByName(3, 4053)).toBe(true);
    // 50 replicas: by name in the cluster of 4,000 PVs, listed in a cluster of 200.
    expect(pvsByName(50, 4103)).toBe(true);
    expect(pvsByName(50, 200)).toBe(false);
    // A StatefulSet that owns most of the cluster's PVs lists them.
    expect(pvsByName(1000, 5053)).toBe(false);
    expect(pvsByName(3000, 7053)).toBe(false);
    expect(pvsByName(1000, 20_000)).toBe(true);
    expect(pvsByName(MAX_NAMED_PVS + 1, 10_000_000)).toBe(false);
  });

  it('namedReads names up to 1,000 PVs and 100 nodes; with more, it lists whole', async () => {
    const s = await loadFixture('healthy');
    const sts = s.statefulSets[0]!;
    const scaled = (replicas: number, nodes: (i: number) => string): Snapshot => {
      const pods = Array.from({ length: replicas }, (_, i) => ({ ...s.pods[0]!, metadata: { ...s.pods[0]!.metadata, name: `${sts.metadata.name}-${i}` }, spec: { ...s.pods[0]!.spec, nodeName: nodes(i), volumes: [{ name: 'v', persistentVolumeClaim: { claimName: `c-${i}` } }] } }));
      const claims = Array.from({ length: replicas }, (_, i) => ({ ...s.persistentVolumeClaims[0]!, metadata: { ...s.persistentVolumeClaims[0]!.metadata, name: `c-${i}` }, spec: { ...s.persistentVolumeClaims[0]!.spec, volumeName: `pv-${i}` } }));
      return { ...s, statefulSets: [{ ...sts, spec: { ...sts.spec, replicas } }], pods, persistentVolumeClaims: claims };
    };
    const few = scaled(MAX_NAMED_PVS, (i) => `node-${i % MAX_NAMED_NODES}`);
    expect(namedReads(few.statefulSets, few.pods, few.persistentVolumeClaims)).toMatchObject({ nodes: { length: MAX_NAMED_NODES }, persistentVolumes: { length: MAX_NAMED_PVS } });
    const manyPVs = scaled(MAX_NAMED_PVS + 1, () => 'node-0');
    expect(namedReads(manyPVs.statefulSets, manyPVs.pods, manyPVs.persistentVolumeClaims)).toBeUndefined();
    const manyNodes = scaled(MAX_NAMED_NODES + 1, (i) => `node-${i}`);
    expect(namedReads(manyNodes.statefulSets, manyNodes.pods, manyNodes.persistentVolumeClaims)).toBeUndefined();
  });
});

describe('scope named', () => {
  it('a node that was not read is unknown, never deleted; with every node listed it is deleted', async () => {
    const s = await loadFixture('healthy');
    const listed = new SnapshotView(s);
    expect(nodeState(listed, 'no-such-node').state).toBe('Deleted');
    const named = new SnapshotView({ ...s, scope: { nodes: 'named', persistentvolumes: 'named', volumeattachments: 'named' } });
    expect(nodeState(named, 'no-such-node').state).toBe('Unknown');
    expect(nodeState(named, s.pods[0]!.spec.nodeName!).state).toBe('Ready');
  });

  it('no "no Available PV" conclusion from PVs read by name: a new claim is unchecked', async () => {
    const s = await loadFixture('healthy');
    const sts = s.statefulSets[0]!;
    const template = sts.spec.volumeClaimTemplates![0]!.metadata.name;
    const noPvs = { ...s, persistentVolumes: [], storageClasses: s.storageClasses.map((c) => ({ ...c, provisioner: 'kubernetes.io/no-provisioner' })) };
    expect(newClaimBinding(new SnapshotView(noPvs), sts, template, 9).ok).toBe(false);
    expect(newClaimBinding(new SnapshotView({ ...noPvs, scope: { persistentvolumes: 'named' } }), sts, template, 9)).toEqual({ ok: true, expect: { via: 'unchecked', claim: `${template}-${sts.metadata.name}-9` } });
  });

  it('survives a dump: snapshot writes it in the header, --from reads it back; a dump without it listed all', async () => {
    const s = await loadFixture('healthy');
    s.scope = { nodes: 'named', persistentvolumes: 'named', volumeattachments: 'named' };
    const list = snapshotToList(s);
    expect(list.stsDoctor.scope).toEqual(s.scope);
    const dir = mkdtempSync(join(tmpdir(), 'sts-doctor-scope-'));
    writeFileSync(join(dir, 'scoped.json'), JSON.stringify(list));
    expect((await snapshotFromDump(join(dir, 'scoped.json'), {})).scope).toEqual(s.scope);
    delete (list.stsDoctor as { scope?: unknown }).scope;
    writeFileSync(join(dir, 'old.json'), JSON.stringify(list));
    expect((await snapshotFromDump(join(dir, 'old.json'), {})).scope).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...list, stsDoctor: { ...list.stsDoctor, scope: { nodes: 'some' } } }));
    await expect(snapshotFromDump(join(dir, 'bad.json'), {})).rejects.toThrow(/scope/);
    expect(parse(JSON.stringify(list))).toBeTruthy();
  });

  it('the attachment name is the CSI attacher\'s (the recorded multi-attach-csi VolumeAttachment)', async () => {
    const s = await loadFixture('multi-attach-csi');
    const va = s.volumeAttachments[0]!;
    const pv = s.persistentVolumes.find((p) => p.metadata.name === va.spec.source.persistentVolumeName)!;
    expect(attachmentName(pv, va.spec.nodeName)).toBe(va.metadata.name);
  });
});
