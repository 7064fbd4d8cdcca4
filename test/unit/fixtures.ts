// Unit-test fixtures: snapshots recorded from the real control plane by the end-to-end tests
// (STS_DOCTOR_RECORD=1), read back through the same dump reader `diagnose --from` uses. The
// recordings that serve as the user-facing examples (one per rule) live in examples/; the
// rest in test/fixtures/. A fixture is named by its file name, wherever it lives.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { diagnose, type Diagnosis } from '../../src/diagnosis.js';
import { snapshotFromDump } from '../../src/snapshot/from-dump.js';
import type { KubeEvent, Snapshot } from '../../src/snapshot/types.js';

export const fixturesDir = join(import.meta.dirname, '..', 'fixtures');
export const examplesDir = join(import.meta.dirname, '..', '..', 'examples');

/** The path of a recorded fixture: examples/<name>.yaml if there is one, else test/fixtures/<name>.yaml. */
export function fixturePath(name: string): string {
  const example = join(examplesDir, `${name}.yaml`);
  return existsSync(example) ? example : join(fixturesDir, `${name}.yaml`);
}

/** A recorded fixture as a Snapshot. */
export function loadFixture(name: string): Promise<Snapshot> {
  return snapshotFromDump(fixturePath(name), {});
}

/** A recorded fixture, diagnosed. */
export async function diagnoseFixture(name: string, edit?: (s: Snapshot) => void): Promise<Diagnosis> {
  const s = await loadFixture(name);
  edit?.(s);
  return diagnose(s);
}

/** The raw List of a fixture (for tests of the dump reader itself). */
export function rawFixture(name: string): { items: Record<string, unknown>[]; stsDoctor?: unknown } {
  return parse(readFileSync(fixturePath(name), 'utf8')) as { items: Record<string, unknown>[] };
}

/**
 * Rewrites the messages of a recorded snapshot's events (and waiting/condition messages) with
 * `rewrite`, to replay the same failure as an older or newer Kubernetes version words it.
 * Only the wording changes: objects, reasons and times stay as recorded.
 */
export function rewordEvents(s: Snapshot, rewrite: (message: string, e: KubeEvent) => string): void {
  for (const e of s.events) if (e.message) e.message = rewrite(e.message, e);
}
