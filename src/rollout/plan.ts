/**
 * `sts-doctor rollout` as data: the steps of a guarded, partitioned rollout of a StatefulSet
 * and the record of the one in progress. Pure functions; the writes go through the same
 * executor as `recover` (src/recovery/execute.ts: server-side dry run first, then the call with
 * its `metadata.resourceVersion` precondition, an Event and an audit line each).
 *
 * How the partition works (pkg/controller/statefulset/stateful_set_control.go,
 * `updateStatefulSet`): the controller replaces, from the highest down, the pods whose index in
 * its replica list (ordinal − `spec.ordinals.start`) is at or above
 * `spec.updateStrategy.rollingUpdate.partition`, one at a time, waiting for each to be Running
 * and Ready (and, with the MaxUnavailableStatefulSet feature, up to `maxUnavailable` at once).
 * So updating the highest `n` of `r` replicas takes partition `r − n`, whatever
 * `ordinals.start` is.
 */
import { UsageError } from '../errors.js';
import { deleteCall, PlanError, type Plan, type PlanStep, type TargetRef } from '../recovery/plan.js';
import type { Pod, StatefulSet } from '../snapshot/types.js';
import { desiredReplicas, REVISION_LABEL } from '../snapshot/view.js';

/** The annotation on the StatefulSet that records the rollout in progress (a JSON {@link RolloutRecord}). */
export const ROLLOUT_ANNOTATION = 'sts-doctor.io/rollout';

/**
 * The rollout in progress, as the annotation records it. `partitions[i]` is the partition of
 * step `i` (step 0 is the canary; the last one is where the rollout ends); `step` is the step
 * whose partition has been written.
 */
export interface RolloutRecord {
  v: 1;
  /** The revision the rollout started from (`status.currentRevision` then): where a rollback returns. */
  from: string;
  /** The new revision, once the controller has made it (written with the second step). */
  to?: string;
  /** `spec.updateStrategy.rollingUpdate.partition` before the rollout (0 when unset); restored by a rollback. */
  partitionBefore: number;
  partitions: number[];
  step: number;
  /** When the rollout started (RFC 3339). */
  started: string;
}

/** Longest annotation value read (bytes); a longer one is refused, not parsed. */
const MAX_RECORD = 4096;

/**
 * The rollout record of `sts`, validated; undefined when it has none.
 * @throws PlanError (exit 3) when the annotation is there but is not a record this version
 *   wrote (refusing is safer than guessing where a rollout stands)
 */
export function readRecord(sts: StatefulSet): RolloutRecord | undefined {
  const raw = sts.metadata.annotations?.[ROLLOUT_ANNOTATION];
  if (raw === undefined) return undefined;
  const bad = (): never => {
    throw new PlanError(`The annotation ${ROLLOUT_ANNOTATION} on StatefulSet ${sts.metadata.name} is not a rollout record sts-doctor can read; refusing. Remove it (kubectl annotate statefulset ${sts.metadata.name} ${ROLLOUT_ANNOTATION}-) once no rollout is in progress.`);
  };
  if (raw.length > MAX_RECORD) bad();
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return bad();
  }
  const r = o as Partial<RolloutRecord>;
  const int = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 1_000_000;
  if (!r || typeof r !== 'object' || r.v !== 1 || typeof r.from !== 'string' || (r.to !== undefined && typeof r.to !== 'string') || !int(r.partitionBefore) || !Array.isArray(r.partitions) || r.partitions.length === 0 || r.partitions.length > 100 || !r.partitions.every(int) || !int(r.step) || r.step >= r.partitions.length || typeof r.started !== 'string')
    return bad();
  return { v: 1, from: r.from, ...(r.to ? { to: r.to } : {}), partitionBefore: r.partitionBefore, partitions: r.partitions, step: r.step, started: r.started };
}

/** One `--image container=ref`. */
export interface ImageChange {
  container: string;
  image: string;
}

/** Parses the `--image` values; @throws UsageError for one without `=` or with an empty side. */
export function parseImages(values: string[]): ImageChange[] {
  return values.map((v) => {
    const i = v.indexOf('=');
    const container = i > 0 ? v.slice(0, i) : '';
    const image = i > 0 ? v.slice(i + 1) : '';
    if (!container || !image || /\s/.test(v)) throw new UsageError(`--image takes container=image, e.g. --image mongo=mongo:7.0, not "${v}".`);
    return { container, image };
  });
}

/**
 * The counts of updated replicas after each step: the canary first, then `--steps` (`1,50%,100%`:
 * a number of replicas or a percentage of `updatable`, rounded up), ascending, each above the
 * one before (a step that updates no more replicas is dropped), the last being `updatable`.
 * @param updatable how many replicas the rollout may update (replicas − the partition it must not go below)
 * @throws UsageError for a malformed step or a canary of 0 or above `updatable`
 */
export function stepCounts(steps: string, canary: number, updatable: number): number[] {
  if (!Number.isInteger(canary) || canary < 1) throw new UsageError(`--canary must be a whole number of replicas of at least 1, not ${canary}.`);
  if (canary > updatable) throw new UsageError(`--canary ${canary} is more than the ${updatable} replica(s) the rollout may update.`);
  const counts = [canary];
  for (const raw of steps.split(',').map((s) => s.trim())) {
    const m = /^(\d{1,7})(%?)$/.exec(raw);
    if (!m) throw new UsageError(`--steps takes numbers of replicas or percentages separated by commas (e.g. 1,50%,100%), not "${steps}".`);
    const n = Number(m[1]);
    if (m[2] && (n < 1 || n > 100)) throw new UsageError(`--steps: a percentage must be between 1% and 100%, not ${raw}.`);
    if (!m[2] && n < 1) throw new UsageError(`--steps: a step must update at least 1 replica, not ${raw}.`);
    const count = Math.min(updatable, m[2] ? Math.ceil((updatable * n) / 100) : n);
    if (count > counts[counts.length - 1]!) counts.push(count);
  }
  if (counts[counts.length - 1]! < updatable) counts.push(updatable);
  return counts;
}

/** The partition of each step: `replicas − count`. */
export function partitionsFor(counts: number[], replicas: number): number[] {
  return counts.map((c) => replicas - c);
}

/** `spec.updateStrategy.rollingUpdate.partition` (0 when unset). */
export function currentPartition(sts: StatefulSet): number {
  return sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
}

function stsTarget(sts: StatefulSet): TargetRef {
  const t: TargetRef = { kind: 'StatefulSet', name: sts.metadata.name };
  if (sts.metadata.namespace) t.namespace = sts.metadata.namespace;
  if (sts.metadata.uid) t.uid = sts.metadata.uid;
  if (sts.metadata.resourceVersion) t.resourceVersion = sts.metadata.resourceVersion;
  return t;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `a` with `b` merged in, objects recursively (b wins); neither is changed. */
function merged(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(out[k]) ? merged(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * The template change as a strategic merge patch of the StatefulSet: `--image` values (a
 * container list merged by name; init containers too) merged into the `--patch` document.
 * @throws UsageError when `--image` names no container of the template, or the patch touches
 *   `spec.updateStrategy` or `metadata` (the rollout owns those)
 */
export function changePatch(sts: StatefulSet, images: ImageChange[], patch: Record<string, unknown> | undefined): Record<string, unknown> {
  if (patch && (isObject(patch.spec) && 'updateStrategy' in patch.spec)) throw new UsageError('--patch must not change spec.updateStrategy: the rollout sets the partition itself.');
  if (patch && 'metadata' in patch) throw new UsageError('--patch must not change the StatefulSet\'s metadata: the rollout records itself there; patch spec.template.');
  const spec = sts.spec.template.spec ?? { containers: [] };
  const containers: { name: string; image: string }[] = [];
  const inits: { name: string; image: string }[] = [];
  for (const c of images) {
    if (spec.containers.some((x) => x.name === c.container)) containers.push({ name: c.container, image: c.image });
    else if ((spec.initContainers ?? []).some((x) => x.name === c.container)) inits.push({ name: c.container, image: c.image });
    else throw new UsageError(`--image ${c.container}=…: StatefulSet ${sts.metadata.name} has no container ${c.container} (it has: ${[...spec.containers, ...(spec.initContainers ?? [])].map((x) => x.name).join(', ')}).`);
  }
  const podSpec: Record<string, unknown> = {};
  if (containers.length) podSpec.containers = containers;
  if (inits.length) podSpec.initContainers = inits;
  const fromImages = Object.keys(podSpec).length ? { spec: { template: { spec: podSpec } } } : {};
  return merged(patch ?? {}, fromImages);
}

const n = (sts: StatefulSet): string => sts.metadata.namespace ?? '';
const path = (sts: StatefulSet): string => `/apis/apps/v1/namespaces/${n(sts)}/statefulsets/${sts.metadata.name}`;

function patchStep(sts: StatefulSet, title: string, body: Record<string, unknown>, kubectl: string): PlanStep {
  return {
    title,
    call: { verb: 'patch', method: 'PATCH', path: path(sts), object: stsTarget(sts), body, contentType: 'application/strategic-merge-patch+json' },
    kubectl,
  };
}

function rolloutPlan(sts: StatefulSet, title: string, facts: string[], risks: string[], question: string, steps: PlanStep[]): Plan {
  return { recovery: 'rollout', title, automated: true, statefulSet: stsTarget(sts), facts, risks, confirm: { type: 'yes', question }, steps, commands: [], followUp: [] };
}

const partitionJson = (p: number): string => JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: p } } } });

/**
 * Step 0: one conditional patch that changes the template (unless `change` is empty:
 * `--from-current`), sets the canary partition and writes the rollout record.
 */
export function planStart(sts: StatefulSet, change: Record<string, unknown>, record: RolloutRecord, words: { change: string; kubectl: string[] }): Plan {
  const replicas = desiredReplicas(sts);
  const p = record.partitions[0]!;
  const onDelete = isOnDelete(sts);
  const body = merged(change, {
    metadata: { resourceVersion: sts.metadata.resourceVersion, annotations: { [ROLLOUT_ANNOTATION]: JSON.stringify(record) } },
    // OnDelete has no partition (the API refuses rollingUpdate there): the rollout deletes the pods itself.
    ...(onDelete ? {} : { spec: { updateStrategy: { rollingUpdate: { partition: p } } } }),
  });
  const ns = n(sts);
  const facts = [
    `Change: ${words.change}.`,
    `From revision ${record.from}; ${replicas} replicas, ordinals from ${sts.spec.ordinals?.start ?? 0}; ${sts.spec.podManagementPolicy ?? 'OrderedReady'}${sts.spec.minReadySeconds ? `, minReadySeconds ${sts.spec.minReadySeconds}` : ''}${sts.spec.updateStrategy?.rollingUpdate?.maxUnavailable !== undefined ? `, maxUnavailable ${sts.spec.updateStrategy.rollingUpdate.maxUnavailable}` : ''}.`,
    `Steps (partition → replicas on the new revision): ${record.partitions.map((x) => `${x} → ${replicas - x}`).join(', ')}; the partition was ${record.partitionBefore} before.`,
    `The rollout is recorded in the annotation ${ROLLOUT_ANNOTATION}: a second run resumes it.`,
  ];
  return rolloutPlan(
    sts,
    `Start the rollout of ${sts.metadata.name}: ${words.change}, canary of ${replicas - p} replica(s)`,
    facts,
    [`Replica(s) ${replicas - p === 1 ? 'with the highest ordinal is' : `with the ${replicas - p} highest ordinals are`} replaced by the new revision; a failing one is rolled back only with --rollback-on-failure (or on confirmation).`],
    `Start the rollout (partition ${p})?`,
    [
      patchStep(
        sts,
        `Patch StatefulSet ${sts.metadata.name} (resourceVersion ${sts.metadata.resourceVersion}): ${words.change}${onDelete ? '' : `, partition ${p}`}, annotation ${ROLLOUT_ANNOTATION}`,
        body,
        [...words.kubectl, ...(onDelete ? [] : [`kubectl -n ${ns} patch statefulset ${sts.metadata.name} --type=strategic -p '${partitionJson(p)}'`])].join(' && ') || `kubectl -n ${ns} annotate statefulset ${sts.metadata.name} ${ROLLOUT_ANNOTATION}=…`,
      ),
    ],
  );
}

/** True for `updateStrategy: OnDelete`: the controller replaces a pod only when it is deleted. */
export function isOnDelete(sts: StatefulSet): boolean {
  return sts.spec.updateStrategy?.type === 'OnDelete';
}

/**
 * `--on-delete`: delete one pod that is not on the update revision, so that the controller
 * recreates it from the new template (what the RollingUpdate controller does by itself), with
 * uid and resourceVersion preconditions. The rollout picks the pods highest ordinal first, one at
 * a time, waiting for each replacement to be Running and Ready.
 */
export function planDeleteForUpdate(sts: StatefulSet, pod: Pod, update: string): Plan {
  const t: TargetRef = { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace ?? n(sts) };
  if (pod.metadata.uid) t.uid = pod.metadata.uid;
  if (pod.metadata.resourceVersion) t.resourceVersion = pod.metadata.resourceVersion;
  return rolloutPlan(
    sts,
    `Update pod ${pod.metadata.name} of ${sts.metadata.name} (OnDelete): delete it so that the controller recreates it from revision ${update}`,
    [`Pod ${pod.metadata.name} is on revision ${pod.metadata.labels?.[REVISION_LABEL] ?? '?'}; the update revision is ${update}. Under OnDelete the controller replaces a pod only once it is deleted; its PVCs are kept.`],
    [`Pod ${pod.metadata.name} restarts.`],
    `Delete pod ${pod.metadata.name} to update it?`,
    [{ title: `Delete pod ${pod.metadata.name} (uid ${t.uid}, resourceVersion ${t.resourceVersion})`, call: deleteCall(`/api/v1/namespaces/${t.namespace}/pods/${pod.metadata.name}`, t), kubectl: `kubectl -n ${t.namespace} delete pod ${pod.metadata.name}` }],
  );
}

/** Step `record.step` (≥ 1): lower the partition to `record.partitions[record.step]`, recording the step. */
export function planStep(sts: StatefulSet, record: RolloutRecord): Plan {
  const replicas = desiredReplicas(sts);
  const p = record.partitions[record.step]!;
  const onDelete = isOnDelete(sts);
  const body = { metadata: { resourceVersion: sts.metadata.resourceVersion, annotations: { [ROLLOUT_ANNOTATION]: JSON.stringify(record) } }, ...(onDelete ? {} : { spec: { updateStrategy: { rollingUpdate: { partition: p } } } }) };
  return rolloutPlan(
    sts,
    `Step ${record.step + 1} of ${record.partitions.length}: update ${sts.metadata.name} to ${replicas - p} of ${replicas} replicas on revision ${record.to ?? 'the new revision'}`,
    [
      onDelete
        ? `OnDelete: the rollout deletes the pods with index ${p} and above that are not on the new revision, highest first, one at a time (each asked for on a terminal).`
        : `The partition goes from ${sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0} to ${p}: the controller replaces the pods with index ${p} and above, highest first.`,
    ],
    [],
    onDelete ? `Go on to ${replicas - p} of ${replicas} replicas on the new revision?` : `Lower the partition to ${p} (${replicas - p} of ${replicas} replicas on the new revision)?`,
    [
      patchStep(
        sts,
        `Patch StatefulSet ${sts.metadata.name} (resourceVersion ${sts.metadata.resourceVersion}): ${onDelete ? '' : `partition ${p}, `}step ${record.step + 1}`,
        body,
        onDelete ? `kubectl -n ${n(sts)} annotate --overwrite statefulset ${sts.metadata.name} ${ROLLOUT_ANNOTATION}=…` : `kubectl -n ${n(sts)} patch statefulset ${sts.metadata.name} --type=strategic -p '${partitionJson(p)}'`,
      ),
    ],
  );
}

/** The end of a rollout that completed: remove the record. */
export function planFinish(sts: StatefulSet): Plan {
  const body = { metadata: { resourceVersion: sts.metadata.resourceVersion, annotations: { [ROLLOUT_ANNOTATION]: null } } };
  return rolloutPlan(sts, `Finish the rollout of ${sts.metadata.name}`, [], [], 'Remove the rollout record?', [
    patchStep(sts, `Patch StatefulSet ${sts.metadata.name} (resourceVersion ${sts.metadata.resourceVersion}): remove annotation ${ROLLOUT_ANNOTATION}`, body, `kubectl -n ${n(sts)} annotate statefulset ${sts.metadata.name} ${ROLLOUT_ANNOTATION}-`),
  ]);
}

/**
 * An OnDelete StatefulSet is refused unless `--on-delete` lets the rollout delete its pods.
 * @throws PlanError naming the strategy
 */
export function refuseOnDelete(sts: StatefulSet, onDeleteFlag: boolean): void {
  if (isOnDelete(sts) && !onDeleteFlag)
    throw new PlanError(`StatefulSet ${sts.metadata.name} has updateStrategy OnDelete: the controller replaces a pod only when it is deleted, so a partition does not stage anything. Refusing; --on-delete lets the rollout delete the pods itself, highest ordinal first.`);
}

