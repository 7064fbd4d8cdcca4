// The one watch loop of `wait` and `recover` (src/recovery/watch.ts): stops when done, on a
// permanent finding seen twice (recover), at the deadline (within about a second), and keeps
// going through transient API errors, saying so. Snapshots are recorded ones; the clock is real.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { watch } from '../../src/recovery/watch.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { loadFixture } from './fixtures.js';

describe('watch loop', () => {
  it('stops early on a dead end (a permanent finding seen in two rounds) with that finding (case 5)', async () => {
    const s = await loadFixture('volume-node-affinity');
    const lines: string[] = [];
    const started = Date.now();
    const r = await watch({ collect: async () => structuredClone(s), done: () => false, timeoutMs: 60_000, intervalMs: 100, stopOnPermanent: true, progress: (l) => lines.push(l) });
    expect(r.outcome).toBe('dead-end');
    expect(r.deadEnd).toMatchObject({ rule: 'volume-node-affinity', permanent: true, subject: { name: 'quiz-1' } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lines[0]).toMatch(/^\[0s\] quiz: /);
  });

  it('wait (no early stop) runs to the deadline and ends within about a second of it', async () => {
    const s = await loadFixture('volume-node-affinity');
    const started = Date.now();
    const r = await watch({ collect: async () => structuredClone(s), done: () => false, timeoutMs: 1500, intervalMs: 400, progress: () => {} });
    const took = Date.now() - started;
    expect(r.outcome).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(2500);
  });

  it('a transient read error is reported ("API server unreachable, retrying (N s)") and retried until the deadline; then healthy', async () => {
    const healthy = await loadFixture('healthy');
    let calls = 0;
    const lines: string[] = [];
    const client = { deadline: undefined as number | undefined };
    const deadlines: (number | undefined)[] = [];
    const collect = async (): Promise<Snapshot> => {
      calls++;
      deadlines.push(client.deadline);
      if (calls <= 3) throw new ApiError('Cannot reach the API server at https://127.0.0.1:6443: connection refused.');
      return structuredClone(healthy);
    };
    const r = await watch({ collect, done: (d) => d.statefulSets.every((x) => x.healthy), timeoutMs: 10_000, intervalMs: 100, client, progress: (l) => lines.push(l) });
    expect(r.outcome).toBe('done');
    expect(lines.filter((l) => /API server unreachable, retrying \(\d+ s\)/.test(l))).toHaveLength(3);
    // The client's own deadline is the loop's, so no request outlasts --timeout; cleared afterwards.
    expect(deadlines.every((d) => typeof d === 'number')).toBe(true);
    expect(client.deadline).toBeUndefined();
  });

  it('a non-transient error ends the loop at once; a loop that never reached the API throws its last error at the deadline', async () => {
    await expect(watch({ collect: async () => Promise.reject(new ApiError('GET /x: 403 Forbidden: no', 403)), done: () => true, timeoutMs: 5000, intervalMs: 100, progress: () => {} })).rejects.toThrow(/403/);
    const started = Date.now();
    await expect(watch({ collect: async () => Promise.reject(new ApiError('GET /x: 503 Service Unavailable: restarting', 503)), done: () => true, timeoutMs: 800, intervalMs: 200, progress: () => {} })).rejects.toThrow(/503/);
    expect(Date.now() - started).toBeLessThan(1800);
  });

  it('Ctrl+C (the abort signal) ends it as interrupted', async () => {
    const s = await loadFixture('ordered-ready-stall');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const r = await watch({ collect: async () => structuredClone(s), done: () => false, timeoutMs: 60_000, intervalMs: 1000, progress: () => {}, signal: abort.signal });
    expect(r.outcome).toBe('interrupted');
    expect(r.diagnosis).toBeDefined();
  });

  it('a read cut by the deadline mid-collection fails the round cleanly (no unhandled rejection of the parallel reads, which crashed wait with exit 1)', async () => {
    const { collectFromCluster } = await import('../../src/snapshot/from-cluster.js');
    const s = await loadFixture('ordered-ready-stall');
    const late = new ApiError('GET /api/v1/nodes: not sent, the deadline has passed.', undefined, { transient: true });
    const client = {
      requests: 0,
      server: 'https://127.0.0.1:6443',
      deadline: undefined,
      get: async () => s.statefulSets[0],
      // Namespaced lists fail at once; the cluster-scoped ones a moment later.
      list: (path: string) => (path.includes('/namespaces/') ? Promise.reject(new ApiError('GET pods: not sent, the deadline has passed.', undefined, { transient: true })) : new Promise((_, reject) => setTimeout(() => reject(late), 20))),
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(collectFromCluster(client as never, { namespace: s.namespace, name: 'quiz' })).rejects.toThrow(/deadline/);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
