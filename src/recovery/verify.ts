/**
 * Verify: after a recovery, poll the StatefulSet, its pods and the namespace's PVCs (three
 * requests a round, whatever the number of replicas) and report progress — pod recreated,
 * scheduled, Running, Ready; PVC bound — until the StatefulSet is healthy (its status converged,
 * confirmed by a full re-diagnosis with no warning or critical finding) or the deadline passes.
 * On timeout the caller gets a fresh diagnosis saying what is now in the way.
 */
import { diagnose, statusConverged, type Diagnosis } from '../diagnosis.js';
import type { KubeClient } from '../kube/client.js';
import type { PersistentVolumeClaim, Pod, Snapshot, StatefulSet } from '../snapshot/types.js';
import { claimOrdinal, isPodReady, isTerminating, podBelongsTo, selectorString } from '../snapshot/view.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface VerifyOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Deadline in milliseconds from now. */
  timeoutMs: number;
  /** A full collection (the same reads as `diagnose`). */
  collect: () => Promise<Snapshot>;
  progress: (line: string) => void;
  /** Poll interval in milliseconds (default 2000). */
  pollMs?: number;
}

export interface VerifyResult {
  healthy: boolean;
  /** The final diagnosis (healthy or what is in the way). */
  diagnosis: Diagnosis;
  elapsedMs: number;
}

/** One line describing a pod's progress: `created`, `scheduled on X`, `Running`, `Ready`, `Terminating`. */
export function podProgress(pod: Pod): string {
  if (isTerminating(pod)) return `Terminating${pod.spec.nodeName ? ` on ${pod.spec.nodeName}` : ''}`;
  if (isPodReady(pod)) return `Ready on ${pod.spec.nodeName}`;
  if (pod.status?.phase === 'Running') return `Running on ${pod.spec.nodeName}, not Ready`;
  if (pod.spec.nodeName) return `scheduled on ${pod.spec.nodeName}`;
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return sched ? `created, not scheduled: ${sched.message ?? sched.reason ?? ''}` : 'created';
}

function claimProgress(c: PersistentVolumeClaim): string {
  if (c.metadata.deletionTimestamp) return 'Terminating';
  return c.status?.phase === 'Bound' ? `Bound to ${c.spec.volumeName}` : (c.status?.phase ?? 'Pending');
}


/**
 * Polls until healthy or `timeoutMs`. Never writes.
 * @throws ApiError when a read fails (other than a transient 404 of a list).
 */
export async function verifyRecovery(opts: VerifyOptions): Promise<VerifyResult> {
  const start = Date.now();
  const seen = new Map<string, string>();
  const note = (key: string, text: string): void => {
    if (seen.get(key) === text) return;
    seen.set(key, text);
    opts.progress(`  ${key}: ${text}`);
  };
  for (;;) {
    const sts = await opts.client.get<StatefulSet>(`/apis/apps/v1/namespaces/${opts.namespace}/statefulsets/${opts.name}`);
    const [pods, claims] = await Promise.all([
      opts.client.list<Pod>(`/api/v1/namespaces/${opts.namespace}/pods`, { labelSelector: selectorString(sts.spec.selector) }),
      opts.client.list<PersistentVolumeClaim>(`/api/v1/namespaces/${opts.namespace}/persistentvolumeclaims`),
    ]);
    const own = pods.filter((p) => podBelongsTo(p, sts));
    for (const p of own) note(`pod ${p.metadata.name}`, `${podProgress(p)} (uid ${p.metadata.uid?.slice(0, 8)})`);
    for (const c of claims.filter((x) => claimOrdinal(sts, x.metadata.name))) note(`pvc ${c.metadata.name}`, `${claimProgress(c)} (uid ${c.metadata.uid?.slice(0, 8)})`);
    const s = sts.status ?? {};
    note(`statefulset ${sts.metadata.name}`, `${s.readyReplicas ?? 0}/${sts.spec.replicas ?? 1} ready, ${s.replicas ?? 0} pods, revision ${s.currentRevision ?? '?'}${s.updateRevision && s.updateRevision !== s.currentRevision ? ` → ${s.updateRevision}` : ''}`);
    const elapsed = Date.now() - start;
    if (statusConverged(sts) && own.every((p) => isPodReady(p) && !isTerminating(p))) {
      const d = diagnose(await opts.collect());
      const report = d.statefulSets.find((x) => x.name === opts.name);
      if (report?.healthy) return { healthy: true, diagnosis: d, elapsedMs: Date.now() - start };
    }
    if (elapsed >= opts.timeoutMs) return { healthy: false, diagnosis: diagnose(await opts.collect()), elapsedMs: elapsed };
    await sleep(Math.min(opts.pollMs ?? 2000, Math.max(0, opts.timeoutMs - elapsed)));
  }
}
