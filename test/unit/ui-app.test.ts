// The interactive troubleshooter (`sts-doctor ui`, src/ui/ink/app.tsx) driven through
// ink-testing-library on snapshots recorded from the real control plane: the list and its
// filter, Enter into a diagnosis, evidence unfolded, `r` → the recovery picked → the real plan
// (commands/recover.ts planChoice over the recorded snapshot) → the typed confirmation → a fake
// executor (nothing is sent anywhere at the unit level) → the live per-replica view, and q / Ctrl+C.
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { App } from '../../src/ui/ink/app.js';
import type { LiveError, LiveSource } from '../../src/ui/live.js';
import { watchedSource } from '../../src/ui/live.js';
import { ClusterCache } from '../../src/snapshot/cache.js';
import { SNAPSHOT_FIELDS } from '../../src/snapshot/types.js';
import type { WatchEvent } from '../../src/kube/client.js';
import type { RecoveryDriver } from '../../src/ui/driver.js';
import type { Plan } from '../../src/recovery/plan.js';
import { planChoice } from '../../src/commands/recover.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { ApiError } from '../../src/errors.js';
import { loadFixture } from './fixtures.js';

const tick = (ms = 60): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DOWN = '\u001B[B';
const ESC = '\u001B';

/** A source the test pushes snapshots through, as a live source would after each read. */
function pushSource(): LiveSource & { push(s: Snapshot[]): void; fail(e: LiveError): void } {
  let onSnap: ((s: Snapshot[]) => void) | undefined;
  let onErr: ((e: LiveError) => void) | undefined;
  return {
    subscribe(a, b) {
      onSnap = a;
      onErr = b;
      return () => {
        onSnap = undefined;
        onErr = undefined;
      };
    },
    push: (s) => onSnap?.(s),
    fail: (e) => onErr?.(e),
  };
}

/** A driver that plans with the real planner over `snapshot` and records what it would execute. */
function fakeDriver(snapshot: () => Snapshot): RecoveryDriver & { executed: Plan[] } {
  const executed: Plan[] = [];
  return {
    executed,
    plan: async (sts, finding, option) => planChoice(snapshot(), sts.name, finding, option),
    execute: async (plan, progress) => {
      executed.push(plan);
      progress(`dry run: ${plan.steps.filter((s) => s.call).length} calls accepted`);
      progress('done: fake executor');
      return { outcome: 'done', steps: plan.steps.length };
    },
    refusal: async () => [],
  };
}

/** A recorded snapshot as if it were read in namespace `ns`. */
function into(recorded: Snapshot, ns: string): Snapshot {
  const s = structuredClone(recorded);
  s.namespace = ns;
  for (const o of [...s.statefulSets, ...s.pods, ...s.persistentVolumeClaims, ...s.events]) if (o.metadata.namespace) o.metadata.namespace = ns;
  return s;
}

async function until(frame: () => string | undefined, re: RegExp, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const f = frame() ?? '';
    if (re.test(f)) return f;
    if (Date.now() > end) throw new Error(`no frame matching ${re}:\n${f}`);
    await tick(20);
  }
}

async function type(ui: { stdin: { write(s: string): void } }, text: string): Promise<void> {
  for (const ch of text) {
    ui.stdin.write(ch);
    await tick(10);
  }
}

describe('sts-doctor ui (ink app on recorded snapshots)', { timeout: 60_000 }, () => {
  it('lists the StatefulSets with ready/desired and the top root cause; / filters; Enter opens the diagnosis; evidence unfolds; Esc back; q quits with 0', async () => {
    const snapshots = await Promise.all(['image-pull', 'healthy', 'recovery-pv-node-lost'].map(loadFixture));
    const source = pushSource();
    let code: number | undefined;
    const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshots[2]!), scope: 'all namespaces', allNamespaces: true, onExit: (c) => (code = c) }));
    await tick();
    expect(ui.lastFrame()).toContain('Reading the cluster…');
    source.push(snapshots);
    const list = await until(ui.lastFrame, /3 StatefulSets, 1 healthy/);
    expect(list).toMatch(/❯ .*e2e-image-pull-\S+\s+quiz\s+\S+\/3/);
    expect(list).toMatch(/image-pull: /); // the top root cause of the first one
    expect(list).toMatch(/e2e-healthy-\S+\s+quiz\s+3\/3\s+healthy/);
    expect(list).toMatch(/node-lost: /);

    // `/` filters by namespace/name; Enter keeps the filter.
    ui.stdin.write('/');
    await type(ui, 'pvc-rebuild');
    ui.stdin.write('\r');
    const filtered = await until(ui.lastFrame, /1 StatefulSets?, 0 healthy/);
    expect(filtered).not.toContain('e2e-image-pull');
    expect(filtered).toContain('/pvc-rebuild');

    ui.stdin.write('\r');
    const detail = await until(ui.lastFrame, /StatefulSet e2e-recovery-pvc-rebuild-\S+\/quiz/);
    expect(detail).toMatch(/❯ ✖ CRITICAL node-lost/);
    expect(detail).toMatch(/Evidence: \d+ lines? \(folded\)/);
    expect(detail).toContain('ORDINAL'); // the per-replica table
    expect(detail).toContain('Recovery:');

    ui.stdin.write('e');
    const unfolded = await until(ui.lastFrame, /Evidence:\n/);
    expect(unfolded).toMatch(/• Node\/kwok-node-5 /);
    expect(unfolded).not.toMatch(/\(folded\)/);

    ui.stdin.write(ESC);
    await until(ui.lastFrame, /Enter diagnosis/);
    ui.stdin.write('q');
    await tick();
    expect(code).toBe(0);
    ui.unmount();
  });

  it('/ and the filter text in one read (a fast typist, a paste, a loaded machine): the text is the filter, none of it lost', async () => {
    const snapshots = await Promise.all(['image-pull', 'healthy', 'recovery-pv-node-lost'].map(loadFixture));
    const source = pushSource();
    const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshots[2]!), scope: 'all namespaces', allNamespaces: true, onExit: () => undefined }));
    source.push(snapshots);
    await until(ui.lastFrame, /3 StatefulSets, 1 healthy/);
    ui.stdin.write('/nothing-matches');
    expect(await until(ui.lastFrame, /No StatefulSet matches "nothing-matches"/)).not.toMatch(/❯ /);
    ui.stdin.write(ESC);
    await until(ui.lastFrame, /❯ .*e2e-image-pull-/);
    ui.stdin.write('/pvc-rebuild\r');
    expect(await until(ui.lastFrame, /1 StatefulSets?, 0 healthy/)).toContain('/pvc-rebuild');
    ui.unmount();
  });

  it('r: the recovery is picked, the real plan shown, a typed name confirms, the (fake) executor runs it, the live view follows the next reads', async () => {
    const snapshot = await loadFixture('recovery-pv-node-lost');
    const healthy = await loadFixture('healthy');
    const source = pushSource();
    const driver = fakeDriver(() => snapshot);
    const ui = render(createElement(App, { source, recovery: driver, scope: 'namespace x', allNamespaces: false, onExit: () => undefined }));
    await tick();
    source.push([snapshot]);
    await until(ui.lastFrame, /❯ .*quiz/);
    ui.stdin.write('\r');
    await until(ui.lastFrame, /CRITICAL node-lost/);
    ui.stdin.write('r');
    await until(ui.lastFrame, /How do you want to recover from node-lost quiz-1\?/);
    await tick(); // the prompt (components.tsx) reads keys once mounted
    // The first offer is the manual "bring the node back"; the second the rebuild.
    ui.stdin.write(DOWN);
    await until(ui.lastFrame, /❯ Force-delete pod quiz-1 and its claim db-data-quiz-1/);
    await tick();
    ui.stdin.write('\r');
    const plan = await until(ui.lastFrame, /Confirmation: type "db-data-quiz-1"/);
    await tick();
    expect(plan).toContain('Plan: ');
    expect(plan).toMatch(/DELETE\s+\/api\/v1\/namespaces\/\S+\/persistentvolumeclaims\/db-data-quiz-1/);
    expect(plan).toContain('Risk:');

    // A wrong name asks again (components.tsx TypeName); Esc then cancels, and nothing is written.
    await tick(300);
    await type(ui, 'db-data-quiz-2');
    await until(ui.lastFrame, /> db-data-quiz-2█/);
    await tick(300);
    ui.stdin.write('\r');
    await until(ui.lastFrame, /"db-data-quiz-2" is not db-data-quiz-1: type it again \(2 tries left\)/);
    ui.stdin.write(ESC);
    await until(ui.lastFrame, /Cancelled: nothing was written\./);
    expect(driver.executed).toEqual([]);
    ui.stdin.write(ESC);
    await until(ui.lastFrame, /CRITICAL node-lost/);

    ui.stdin.write('r');
    await until(ui.lastFrame, /How do you want to recover/);
    await tick();
    ui.stdin.write(DOWN);
    await until(ui.lastFrame, /❯ Force-delete pod quiz-1/);
    await tick();
    ui.stdin.write('\r');
    await until(ui.lastFrame, /Confirmation: type "db-data-quiz-1"/);
    await tick(300);
    await type(ui, 'db-data-quiz-1');
    await until(ui.lastFrame, /> db-data-quiz-1█/);
    await tick(300); // TypeName (components.tsx) reads its value through the handler of its last effect
    ui.stdin.write('\r');
    const after = await until(ui.lastFrame, /Waiting for StatefulSet \S+\/quiz to become healthy/);
    expect(driver.executed.map((p) => p.recovery)).toEqual(['delete-pvc-and-pod']);
    expect(after).toContain('done: fake executor');
    expect(after).toContain('ORDINAL');
    // A read where the replica is stuck for good (a recorded volume-node-affinity, moved into this
    // namespace): the live view says it will not heal by itself, as recover's watch stops on it.
    source.push([into(await loadFixture('volume-node-affinity'), snapshot.namespace)]);
    await until(ui.lastFrame, /This will not heal by itself: volume-node-affinity Pod\/quiz-\d/);
    // The next read shows the set healthy (a recorded healthy quiz, moved into this namespace).
    source.push([into(healthy, snapshot.namespace)]);
    const well = await until(ui.lastFrame, /✔ StatefulSet \S+\/quiz is healthy: 3\/3 ready/);
    expect(well).not.toContain('will not heal');
    ui.unmount();
  });

  it('Ctrl+C exits 130, also while a prompt has the keys', async () => {
    const snapshot = await loadFixture('recovery-pv-node-lost');
    for (const atPrompt of [false, true]) {
      const source = pushSource();
      let code: number | undefined;
      const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshot), scope: 'namespace x', allNamespaces: false, onExit: (c) => (code = c) }));
      await tick();
      source.push([snapshot]);
      await until(ui.lastFrame, /❯ .*quiz/);
      if (atPrompt) {
        ui.stdin.write('\r');
        await until(ui.lastFrame, /CRITICAL node-lost/);
        ui.stdin.write('r');
        await until(ui.lastFrame, /How do you want to recover/);
      }
      ui.stdin.write('\u0003');
      await tick();
      expect(code, `at prompt: ${atPrompt}`).toBe(130);
      ui.unmount();
    }
  });

  it('cluster text is sanitised: an escape sequence in an event message is shown escaped, never sent raw', async () => {
    const snapshot = await loadFixture('image-pull');
    for (const e of snapshot.events) e.message = `\u001b]0;pwned\u0007${e.message ?? ''}\u001b[2J`;
    const source = pushSource();
    const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshot), scope: 'namespace x', allNamespaces: false, onExit: () => undefined }));
    await tick();
    source.push([snapshot]);
    await until(ui.lastFrame, /❯ .*quiz/);
    ui.stdin.write('\r');
    await until(ui.lastFrame, /CRITICAL image-pull/);
    ui.stdin.write('e');
    await until(ui.lastFrame, /Evidence:\n/);
    let f = ui.lastFrame() ?? '';
    for (let i = 0; i < 10 && !/\\x1b\]0;pwned/.test(f); i++) {
      ui.stdin.write(' '); // a page down
      await tick();
      f = ui.lastFrame() ?? '';
    }
    expect(f).toMatch(/\\x1b\]0;pwned/);
    expect(f).not.toContain('\u001b]0;');
    expect(f).not.toContain('\u0007');
    ui.unmount();
  });

  it('a list longer than the screen shows the rows around the selected one', async () => {
    const snapshot = await loadFixture('healthy');
    const base = snapshot.statefulSets[0]!;
    snapshot.statefulSets = Array.from({ length: 40 }, (_, i) => ({ ...base, metadata: { ...base.metadata, name: `db-${String(i).padStart(2, '0')}`, uid: `uid-${i}` } }));
    const source = pushSource();
    const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshot), scope: 'namespace x', allNamespaces: false, onExit: () => undefined }));
    await tick();
    source.push([snapshot]);
    const top = await until(ui.lastFrame, /40 StatefulSets/);
    expect(top).toMatch(/❯ \S+\s+db-00 /);
    expect(top).not.toContain('db-39');
    expect(top.split('\n').length).toBeLessThanOrEqual(24);
    for (let i = 0; i < 30; i++) ui.stdin.write(DOWN);
    const down = await until(ui.lastFrame, /❯ \S+\s+db-30 /);
    expect(down).not.toContain('db-00');
    expect(down).toMatch(/\(rows \d+-\d+\)/);
    ui.unmount();
  });

  it('a failed read is shown and the list stays; the next read clears it', async () => {
    const snapshot = await loadFixture('healthy');
    const source = pushSource();
    const ui = render(createElement(App, { source, recovery: fakeDriver(() => snapshot), scope: 'namespace x', allNamespaces: false, onExit: () => undefined }));
    await tick();
    source.push([snapshot]);
    await until(ui.lastFrame, /1 StatefulSets?, 1 healthy/);
    source.fail({ error: new ApiError('connect ECONNREFUSED 127.0.0.1:6443'), retrying: true, since: Date.now() });
    const f = await until(ui.lastFrame, /API server unreachable, retrying/);
    expect(f).toContain('1 healthy');
    source.push([snapshot]);
    await until(ui.lastFrame, /^(?![\s\S]*unreachable)/);
    ui.unmount();
  });
});

describe('watchedSource (the live seam over the watch cache of serve and wait)', () => {
  it('one Snapshot list after the first LISTs, one more per change (debounced), none after unsubscribe; the cache is stopped', async () => {
    const s = await loadFixture('healthy');
    const watchers = new Map<string, (e: WatchEvent) => void>();
    let lists = 0;
    let open = 0;
    const field: Record<string, keyof Snapshot> = SNAPSHOT_FIELDS;
    // A transport serving the recorded objects; its watches stay open until the test sends an event or aborts them.
    const client = {
      server: 'https://recorded',
      requests: 0,
      async listWithVersion(path: string) {
        lists++;
        return { items: structuredClone((s[field[path.split('/').pop()!]!] as unknown[] | undefined) ?? []), resourceVersion: '1' };
      },
      watch(path: string, _q: unknown, _t: number, onEvent: (e: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
        open++;
        watchers.set(path, onEvent);
        return new Promise((resolve) => signal?.addEventListener('abort', () => (open--, resolve()), { once: true }));
      },
    };
    const cache = new ClusterCache({ client: client as never, namespaces: [s.namespace] });
    const got: string[] = [];
    const unsubscribe = watchedSource(cache, 60_000, 20).subscribe(
      (snaps) => got.push(snaps.map((x) => `${x.namespace}: ${x.pods.filter((p) => p.status?.phase === 'Running').length} running`).join()),
      (e) => got.push(`error ${e.error.message}`),
    );
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && got.length < n; i++) await tick(10);
    };
    await until(1);
    expect(got).toEqual([`${s.namespace}: 3 running`]);
    const listed = lists;
    // A pod goes Pending, and back: each change is one delivery, with no new LIST.
    const pod = structuredClone(s.pods[0]!) as unknown as WatchEvent['object'] & { status: { phase: string }; metadata: { resourceVersion: string } };
    const podsWatch = [...watchers.entries()].find(([path]) => path.endsWith('/pods'))![1];
    podsWatch({ type: 'MODIFIED', object: { ...pod, metadata: { ...pod.metadata, resourceVersion: '2' }, status: { ...pod.status, phase: 'Pending' } } });
    await until(2);
    expect(got[1]).toBe(`${s.namespace}: 2 running`);
    podsWatch({ type: 'MODIFIED', object: { ...pod, metadata: { ...pod.metadata, resourceVersion: '3' } } });
    await until(3);
    expect(got[2]).toBe(`${s.namespace}: 3 running`);
    expect(lists).toBe(listed);
    unsubscribe();
    await tick(50);
    expect(open).toBe(0);
    const n = got.length;
    podsWatch({ type: 'MODIFIED', object: { ...pod, metadata: { ...pod.metadata, resourceVersion: '4' }, status: { ...pod.status, phase: 'Pending' } } });
    await tick(80);
    expect(got.length).toBe(n);
  });
});
