// serve's parts without a cluster: the watch-based cache against every recorded snapshot (the
// objects as the API listed them, served by a stand-in transport whose watches stay quiet), the
// Prometheus series and their lifecycle, the flags, and the shipped PrometheusRule (checked by
// `promtool test rules` when promtool is installed).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { diagnose, type Diagnosis } from '../../src/diagnosis.js';
import { eventReason, parseListen } from '../../src/commands/serve.js';
import { CacheSource, ClusterCache, EVENT_KINDS, nodeFingerprint } from '../../src/snapshot/cache.js';
import { watch } from '../../src/recovery/watch.js';
import { ServeMetrics, MAX_FINDINGS_PER_STATEFULSET } from '../../src/serve/metrics.js';
import { SNAPSHOT_FIELDS, type KubeObject, type Node, type Snapshot } from '../../src/snapshot/types.js';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { examplesDir, fixturesDir, loadFixture } from './fixtures.js';

// The resources the cache watches: every one a snapshot holds but the Leases (the cache reads none).
const RESOURCE_FIELDS: Record<string, keyof Snapshot> = Object.fromEntries(Object.entries(SNAPSHOT_FIELDS).filter(([r]) => r !== 'leases'));

/** A transport that lists the recorded objects by path (and event field selector) and whose watches stay open, quiet, until aborted. */
function recordedClient(s: Snapshot) {
  const client = {
    server: 'https://recorded',
    requests: 0,
    async listWithVersion(path: string, query: Record<string, string | undefined>) {
      client.requests++;
      const resource = path.split('/').pop()!;
      let items = structuredClone((s[RESOURCE_FIELDS[resource]!] as KubeObject[] | undefined) ?? []) as KubeObject[];
      const kind = /^involvedObject\.kind=(\w+)$/.exec(query.fieldSelector ?? '')?.[1];
      if (resource === 'events' && kind) items = items.filter((e) => (e as unknown as { involvedObject: { kind?: string } }).involvedObject.kind === kind);
      return { items, resourceVersion: '1' };
    },
    watch(_path: string, _q: unknown, _t: number, _on: unknown, signal?: AbortSignal): Promise<void> {
      client.requests++;
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
  return client;
}

const keys = (d: Diagnosis): string[] => d.findings.map((f) => `${f.rule} ${f.subject.kind}/${f.subject.name} ${f.severity}${f.causedBy ? ` <- ${f.causedBy.rule}` : ''}`).sort();
const recordings = [...readdirSync(fixturesDir).map((f) => ['fixture', f]), ...readdirSync(examplesDir).map((f) => ['example', f])].filter(([, f]) => f!.endsWith('.yaml')).map(([, f]) => f!.replace(/\.yaml$/, ''));

describe('the watch-based cache gives the diagnosis of a full read', () => {
  it.each(recordings)('%s', async (name) => {
    const s = await loadFixture(name);
    const expected = diagnose(structuredClone(s));
    const client = recordedClient(s);
    const cache = new ClusterCache({ client: client as never, namespaces: [s.namespace], clusterDns: s.clusterDns });
    cache.start();
    await cache.whenSynced();
    expect(cache.ready()).toBe(true);
    const got = diagnose(cache.snapshot(s.namespace, undefined, s.now));
    await cache.stop();
    expect(keys(got)).toEqual(keys(expected));
    expect(got.statefulSets.map((x) => [x.name, x.healthy, x.replicas])).toEqual(expected.statefulSets.map((x) => [x.name, x.healthy, x.replicas]));
    // One LIST and one WATCH per resource, the events in three server-filtered watches.
    expect(client.requests).toBe(2 * (Object.keys(RESOURCE_FIELDS).length + EVENT_KINDS.length - 1));
  });

  it('a pod change touches its StatefulSet; a node change that moves only heartbeats touches nothing', async () => {
    const s = await loadFixture('node-lost');
    const cache = new ClusterCache({ client: recordedClient(s) as never, namespaces: [s.namespace] });
    cache.start();
    await cache.whenSynced();
    const pod = s.pods[0]!;
    expect([...cache.touched('pods', pod)]).toEqual([`${s.namespace}/quiz`]);
    const node = s.nodes.find((n) => n.metadata.name === pod.spec.nodeName)!;
    expect([...cache.touched('nodes', node)]).toContain(`${s.namespace}/quiz`);
    const beat = structuredClone(node) as Node;
    for (const c of beat.status?.conditions ?? []) (c as { lastHeartbeatTime?: string }).lastHeartbeatTime = '2030-01-01T00:00:00Z';
    beat.metadata.resourceVersion = '999999';
    expect(nodeFingerprint(beat)).toBe(nodeFingerprint(node));
    const notReady = structuredClone(node) as Node;
    notReady.status!.conditions = [{ type: 'Ready', status: 'False' } as never];
    expect(nodeFingerprint(notReady)).not.toBe(nodeFingerprint(node));
    await cache.stop();
  });
});

describe('the watch loop over the watch-based source (wait)', () => {
  it('wakes on a change at once, not after --interval (a pod event 300 ms in, with a 60 s interval)', async () => {
    const s = await loadFixture('image-pull');
    const client = recordedClient(s);
    // The pods watch delivers quiz-0 Running and Ready after 300 ms (the other two stay as recorded).
    let deliver: ((e: unknown) => void) | undefined;
    const baseWatch = client.watch;
    client.watch = (path: string, q: unknown, t: number, on: unknown, signal?: AbortSignal) => {
      if (path.endsWith('/pods')) deliver = on as (e: unknown) => void;
      return baseWatch(path, q, t, on, signal);
    };
    const cache = new ClusterCache({ client: client as never, namespaces: [s.namespace], statefulSetName: 'quiz' });
    cache.start();
    const source = new CacheSource(cache, s.namespace, 'quiz', 60_000, () => new Error('gone'));
    const rounds: number[] = [];
    const t0 = Date.now();
    setTimeout(() => {
      const pod = structuredClone(s.pods.find((p) => p.metadata.name === 'quiz-0')!);
      pod.metadata.resourceVersion = '2';
      deliver!({ type: 'MODIFIED', object: pod });
    }, 300);
    const r = await watch({
      collect: () => Promise.reject(new Error('not polled')),
      source: { collect: async () => (rounds.push(Date.now() - t0), source.collect()), nextChange: (ms, signal) => source.nextChange(ms, signal) },
      done: () => rounds.length >= 2,
      timeoutMs: 10_000,
      intervalMs: 60_000,
      progress: () => {},
    });
    expect(r.outcome).toBe('done');
    // The second round came with the change (~300 ms), not after the 60 s interval.
    expect(rounds[1]).toBeLessThan(5_000);
    source.close();
    await cache.stop();
  });
});

describe('serve metrics', () => {
  const text = async (m: ServeMetrics): Promise<string> => m.registry.metrics();

  it('a finding is one series while it holds, with its first-seen time and summary; it goes when the finding ends', async () => {
    const failing = diagnose(await loadFixture('image-pull'));
    const ns = failing.namespace;
    const m = new ServeMetrics(() => [], () => true);
    const started = m.update(`${ns}/quiz`, failing, 1_700_000_000_000);
    expect(started.map((s) => s.finding.rule).sort()).toEqual(failing.findings.map((f) => f.rule).sort());
    let t = await text(m);
    expect(t).toContain(`sts_doctor_finding{namespace="${ns}",statefulset="quiz",rule="image-pull",severity="critical",subject_kind="Pod",subject="quiz-0"} 1`);
    expect(t).toContain(`sts_doctor_finding_first_seen_timestamp_seconds{namespace="${ns}",statefulset="quiz",rule="image-pull",severity="critical",subject_kind="Pod",subject="quiz-0"} 1700000000`);
    expect(t).toMatch(/sts_doctor_finding_info\{[^}]*rule="image-pull"[^}]*summary="Pod quiz-0 cannot pull image[^}]*\} 1/);
    expect(t).toContain(`sts_doctor_statefulset_healthy{namespace="${ns}",statefulset="quiz"} 0`);
    // Again: nothing starts, the first-seen time stays.
    expect(m.update(`${ns}/quiz`, failing, 1_700_000_100_000)).toEqual([]);
    expect(await text(m)).toContain('} 1700000000\n');
    // Healed: every finding series goes, healthy 1.
    const healed: Diagnosis = { ...failing, findings: [], statefulSets: failing.statefulSets.map((x) => ({ ...x, healthy: true })) };
    m.update(`${ns}/quiz`, healed);
    t = await text(m);
    expect(t).not.toMatch(/^sts_doctor_finding(_info|_first_seen_timestamp_seconds)?\{/m);
    expect(t).toContain(`sts_doctor_statefulset_healthy{namespace="${ns}",statefulset="quiz"} 1`);
    // Deleted: its healthy series goes too.
    m.update(`${ns}/quiz`, undefined);
    expect(await text(m)).not.toContain(`statefulset="quiz"`);
  });

  it('a consequence has a caused_by series naming its root cause; it goes with the finding, or when the finding stands alone', async () => {
    const d = diagnose(await loadFixture('workload-image-pull-unauthorized'));
    const ns = d.namespace;
    const stall = d.findings.find((f) => f.rule === 'ordered-ready-stall')!;
    expect(stall.causedBy).toEqual({ rule: 'image-pull', subject: expect.objectContaining({ kind: 'Pod', name: 'quiz-0' }) });
    const m = new ServeMetrics(() => [], () => true);
    m.update(`${ns}/quiz`, d);
    const caused = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('sts_doctor_finding_caused_by{'));
    expect(caused(await text(m))).toEqual([`sts_doctor_finding_caused_by{namespace="${ns}",statefulset="quiz",rule="ordered-ready-stall",subject_kind="Pod",subject="quiz-0",cause_rule="image-pull",cause_subject_kind="Pod",cause_subject="quiz-0"} 1`]);
    // The same finding, now standing alone (its cause ended first): its caused_by series goes, the finding stays.
    const alone: Diagnosis = { ...d, findings: d.findings.filter((f) => f.rule === 'ordered-ready-stall').map((f) => ({ ...f, causedBy: undefined })) };
    m.update(`${ns}/quiz`, alone);
    let t = await text(m);
    expect(caused(t)).toEqual([]);
    expect(t).toMatch(/sts_doctor_finding\{[^}]*rule="ordered-ready-stall"[^}]*\} 1/);
    // Folded again, then healed: the series comes and goes with the finding.
    m.update(`${ns}/quiz`, d);
    expect(caused(await text(m))).toHaveLength(1);
    m.update(`${ns}/quiz`, { ...d, findings: [] });
    t = await text(m);
    expect(caused(t)).toEqual([]);
  });

  it('bounded: at most one series per (StatefulSet, rule, subject) and MAX_FINDINGS_PER_STATEFULSET per StatefulSet', async () => {
    const d = diagnose(await loadFixture('image-pull'));
    const f = d.findings[0]!;
    const many: Diagnosis = { ...d, findings: Array.from({ length: 500 }, (_, i) => ({ ...f, subject: { ...f.subject, name: `quiz-${i % 120}` } })) };
    const m = new ServeMetrics(() => [], () => true);
    m.update(`${d.namespace}/quiz`, many);
    const series = (await text(m)).split('\n').filter((l) => l.startsWith('sts_doctor_finding{'));
    expect(series).toHaveLength(MAX_FINDINGS_PER_STATEFULSET);
    expect(new Set(series).size).toBe(series.length);
  });

  it('watch health: restarts, re-lists and last sync age per watch', async () => {
    const m = new ServeMetrics(() => [{ resource: 'pods', namespace: 'a', synced: true, restarts: 3, relists: 1, lastSyncMs: Date.now() - 2000, error: undefined }], () => false);
    const t = await text(m);
    expect(t).toContain('sts_doctor_watch_restarts_total{resource="pods",namespace="a"} 3');
    expect(t).toContain('sts_doctor_watch_relists_total{resource="pods",namespace="a"} 1');
    expect(t).toMatch(/sts_doctor_watch_last_sync_age_seconds\{resource="pods",namespace="a"\} 2(\.\d+)?\n/);
    expect(t).toContain('sts_doctor_ready 0');
  });
});

describe('serve flags', () => {
  it.each([
    [':9090', { host: undefined, port: 9090 }],
    ['9090', { host: undefined, port: 9090 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
  ])('--listen %s', (v, want) => expect(parseListen(v)).toEqual(want));
  it.each(['', 'x', ':99999', 'http://a:1'])('--listen %j is refused in one sentence', (v) => expect(() => parseListen(v)).toThrow(/^--listen must be \[host\]:port/));
  it('Event reasons', () => {
    expect(eventReason('image-pull')).toBe('StsDoctorImagePull');
    expect(eventReason('node-lost')).toBe('StsDoctorNodeLost');
    expect(eventReason('pod-not-ready')).toBe('StsDoctorPodNotReady');
  });
});

describe('deploy/serve/prometheusrule.yaml', () => {
  const rule = parse(readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'serve', 'prometheusrule.yaml'), 'utf8')) as {
    spec: { groups: { name: string; rules: { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] };
  };
  const alerts = rule.spec.groups.flatMap((g) => g.rules);

  it('every finding alert waits 1m, carries the summary and a runbook_url, and reads only metrics serve exports', () => {
    const exported = new Set(['sts_doctor_finding', 'sts_doctor_finding_info', 'sts_doctor_finding_caused_by', 'sts_doctor_ready']);
    for (const a of alerts) {
      expect(a.annotations.runbook_url).toMatch(/^https:\/\/github\.com\/sts-doctor\/sts-doctor\/blob\/main\/README\.md#/);
      for (const m of a.expr.matchAll(/\b(sts_doctor_\w+)/g)) expect(exported).toContain(m[1]);
    }
    const findings = alerts.filter((a) => a.alert.endsWith('Finding'));
    expect(findings.map((a) => [a.alert, a.for, a.labels.severity])).toEqual([
      ['StsDoctorCriticalFinding', '1m', 'critical'],
      ['StsDoctorWarningFinding', '1m', 'warning'],
    ]);
    for (const a of findings) expect(a.annotations.summary).toBe('{{ $labels.summary }}');
  });

  // promtool (github.com/prometheus/prometheus/cmd/promtool) from PATH or STS_DOCTOR_PROMTOOL.
  const promtool = [process.env.STS_DOCTOR_PROMTOOL, ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))].find((p) => p && existsSync(p));
  it.skipIf(!promtool)('promtool test rules: the critical alert fires after 1m with the summary; not for a finding that ended, a consequence or a warning', () => {
    const dir = temporaryDir('sts-doctor-promtool-');
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
    const labels = 'namespace="prod",statefulset="quiz",rule="node-lost",subject_kind="Pod",subject="quiz-1"';
    const summary = 'quiz-1 is Terminating on kwok-node-3, which stopped reporting';
    writeFileSync(
      join(dir, 'test.yaml'),
      stringify({
        rule_files: ['rules.yaml'],
        evaluation_interval: '15s',
        tests: [
          {
            interval: '15s',
            input_series: [
              { series: `sts_doctor_finding{${labels},severity="critical"}`, values: '1x8' },
              { series: `sts_doctor_finding_info{${labels},summary="${summary}"}`, values: '1x8' },
              { series: 'sts_doctor_finding{namespace="prod",statefulset="web",rule="image-pull",subject_kind="Pod",subject="web-0",severity="critical"}', values: '1 1 stale' },
              { series: 'sts_doctor_finding_info{namespace="prod",statefulset="web",rule="image-pull",subject_kind="Pod",subject="web-0",summary="x"}', values: '1 1 stale' },
              { series: 'sts_doctor_ready', values: '1x8' },
              // A consequence (folded under its root cause): no alert of its own.
              { series: 'sts_doctor_finding{namespace="prod",statefulset="quiz",rule="ordered-ready-stall",subject_kind="Pod",subject="quiz-1",severity="critical"}', values: '1x8' },
              { series: 'sts_doctor_finding_info{namespace="prod",statefulset="quiz",rule="ordered-ready-stall",subject_kind="Pod",subject="quiz-1",summary="y"}', values: '1x8' },
              { series: 'sts_doctor_finding_caused_by{namespace="prod",statefulset="quiz",rule="ordered-ready-stall",subject_kind="Pod",subject="quiz-1",cause_rule="node-lost",cause_subject_kind="Pod",cause_subject="quiz-1"}', values: '1x8' },
            ],
            alert_rule_test: [
              { eval_time: '45s', alertname: 'StsDoctorCriticalFinding', exp_alerts: [] },
              {
                eval_time: '90s',
                alertname: 'StsDoctorCriticalFinding',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', namespace: 'prod', statefulset: 'quiz', rule: 'node-lost', subject_kind: 'Pod', subject: 'quiz-1', summary },
                    exp_annotations: {
                      summary,
                      description: 'StatefulSet prod/quiz: node-lost on Pod quiz-1. Evidence and the recoveries: sts-doctor diagnose quiz -n prod; guided recovery: sts-doctor recover quiz -n prod',
                      runbook_url: 'https://github.com/sts-doctor/sts-doctor/blob/main/README.md#rules',
                    },
                  },
                ],
              },
              { eval_time: '90s', alertname: 'StsDoctorWarningFinding', exp_alerts: [] },
              { eval_time: '90s', alertname: 'StsDoctorServeNotReady', exp_alerts: [] },
            ],
          },
        ],
      }),
    );
    const out = execFileSync(promtool!, ['test', 'rules', join(dir, 'test.yaml')], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
    expect(execFileSync(promtool!, ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' })).toMatch(/SUCCESS: 3 rules found/);
  });
});
