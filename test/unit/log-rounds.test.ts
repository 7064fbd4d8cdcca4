// The log reads of a loop of rounds on one client (`wait`, `recover`'s verify): an excerpt is
// read again only when the container's run changed, or after LOG_REFRESH_SECONDS for a container
// still running; a 403 is remembered as long. A fake client serves the objects recorded from the
// real control plane (examples/logs-crash-loop.yaml, examples/workload-probe-failing.yaml).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { collectFromCluster } from '../../src/snapshot/from-cluster.js';
import { LOG_REFRESH_SECONDS } from '../../src/snapshot/logs.js';
import type { Pod, Snapshot } from '../../src/snapshot/types.js';
import { loadFixture } from './fixtures.js';
import { standInClient } from './stand-in-client.js';

/** The stand-in client (stand-in-client.ts) serving `state.pods` (editable between rounds) and answering log reads with `log`, recording them. */
function fakeClient(s: Snapshot, log: (path: string) => Promise<string> = async () => 'line 1\nline 2\n') {
  const state = { pods: structuredClone(s.pods) as Pod[], logReads: [] as string[] };
  const { client } = standInClient(s, {
    pods: () => state.pods,
    text: (path, query) => {
      state.logReads.push(`${path}?container=${String(query.container)}&previous=${String(query.previous)}`);
      return log(path);
    },
  });
  return { client, state };
}

const round = (client: unknown, s: Snapshot): Promise<Snapshot> => collectFromCluster(client as never, { namespace: s.namespace, name: 'quiz' });

afterEach(() => vi.restoreAllMocks());

describe('log reads across rounds of one process', () => {
  it('a crash loop: the previous run is read once; read again only after the next restart', async () => {
    const s = await loadFixture('logs-crash-loop');
    const { client, state } = fakeClient(s);
    const first = await round(client, s);
    const reads = state.logReads.length;
    expect(reads).toBeGreaterThan(0);
    expect(state.logReads.every((p) => p.endsWith('previous=true'))).toBe(true);
    const second = await round(client, s);
    expect(state.logReads).toHaveLength(reads);
    expect(second.containerLogs).toEqual(first.containerLogs);
    // quiz-0's crashing container restarts once more: its new previous run is read, nothing else.
    const pod = state.pods.find((p) => p.metadata.name === 'quiz-0')!;
    const crashing = pod.status!.containerStatuses!.find((c) => c.state?.waiting)!;
    crashing.restartCount += 1;
    crashing.lastState = { terminated: { ...crashing.lastState!.terminated, finishedAt: '2030-01-01T00:00:00Z' } };
    await round(client, s);
    expect(state.logReads.slice(reads)).toEqual([`/api/v1/namespaces/${s.namespace}/pods/quiz-0/log?container=${crashing.name}&previous=true`]);
  });

  it('a running container that fails its probe: reused for LOG_REFRESH_SECONDS, then read again', async () => {
    const s = await loadFixture('workload-probe-failing');
    const { client, state } = fakeClient(s);
    const t0 = Date.now();
    const now = vi.spyOn(Date, 'now').mockReturnValue(t0);
    await round(client, s);
    const reads = state.logReads.length;
    expect(reads).toBeGreaterThan(0);
    expect(state.logReads.every((p) => p.endsWith('previous=false'))).toBe(true);
    now.mockReturnValue(t0 + (LOG_REFRESH_SECONDS - 1) * 1000);
    await round(client, s);
    expect(state.logReads).toHaveLength(reads);
    now.mockReturnValue(t0 + (LOG_REFRESH_SECONDS + 1) * 1000);
    await round(client, s);
    expect(state.logReads).toHaveLength(2 * reads);
  });

  it('no log for that run (404): not asked again while the run is the same', async () => {
    const s = await loadFixture('logs-crash-loop');
    const { client, state } = fakeClient(s, async () => {
      throw new ApiError('GET pods/log: 404 Not Found: previous terminated container "mongo" not found', 404);
    });
    const first = await round(client, s);
    const tried = state.logReads.length;
    expect(tried).toBeGreaterThan(0);
    expect(first.containerLogs).toEqual([]);
    await round(client, s);
    expect(state.logReads).toHaveLength(tried);
  });

  it('another client (another process: a diagnose) reads them all', async () => {
    const s = await loadFixture('logs-crash-loop');
    const a = fakeClient(s);
    await round(a.client, s);
    const b = fakeClient(s);
    await round(b.client, s);
    expect(b.state.logReads).toEqual(a.state.logReads);
  });

  it('pods/log forbidden: the gap in every round, the reads not tried again for LOG_REFRESH_SECONDS', async () => {
    const s = await loadFixture('logs-crash-loop');
    const { client, state } = fakeClient(s, async () => {
      throw new ApiError('GET pods/log: 403 Forbidden: cannot get resource "pods/log"', 403);
    });
    const first = await round(client, s);
    const tried = state.logReads.length;
    expect(tried).toBeGreaterThan(0);
    const second = await round(client, s);
    expect(state.logReads).toHaveLength(tried);
    expect(second.gaps.filter((g) => g.resource === 'podlogs')).toEqual(first.gaps.filter((g) => g.resource === 'podlogs'));
    expect(second.gaps.find((g) => g.resource === 'podlogs')!.reason).toBe('forbidden');
  });
});
