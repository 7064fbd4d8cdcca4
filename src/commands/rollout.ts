/**
 * `sts-doctor rollout <name>`: a guarded, partitioned rollout of a StatefulSet, from a laptop or
 * a CI job, with nothing installed in the cluster.
 *
 * 1. Plan (src/rollout/plan.ts) and confirm (on a terminal; `--yes` without one): one
 *    conditional strategic merge patch changes the template (`--image`, `--patch`; none with
 *    `--from-current`), sets the canary partition and records the rollout in the annotation
 *    `sts-doctor.io/rollout`.
 * 2. Watch (the one watch loop, src/recovery/watch.ts) until the updated replicas are Running
 *    and Ready for `--soak`, then lower the partition step by step (`--steps`), each step a
 *    conditional patch, dry-run on the server first (the executor of `recover`).
 * 3. A permanent finding (diagnosis.ts `classifyFinding`) on a replica of the new revision
 *    aborts at once; a transient one is waited on up to `--progress-deadline`. On abort, with
 *    `--rollback-on-failure` or on confirmation, the rollback planner of `recover` restores the
 *    template of the revision the rollout started from and the partition, then the pods not Ready
 *    and not on that revision are deleted (uid preconditions: kubernetes#67250), and the watch
 *    verifies it heals.
 * The StatefulSet's generation is the guard against others: when it moves without us (another
 * template change, a scale), or a write meets 409 Conflict with a new generation, the rollout
 * stops and writes nothing more (exit 3). A rerun resumes from the annotation.
 *
 * Exit codes: 0 rolled out (or a dry run accepted); 1 aborted, rolled back and healthy again;
 * 4 aborted and not healed (no rollback, or the rollback did not heal it); 3 refused or
 * changed by someone else; 2 error; 130 Ctrl+C (the record stays; a rerun resumes).
 */
import { readFileSync, statSync } from 'node:fs';
import { classifyFinding, type Diagnosis } from '../diagnosis.js';
import { ExitCode, StsDoctorError, UsageError } from '../errors.js';
import type { Finding } from '../rules/types.js';
import type { KubeClient } from '../kube/client.js';
import type { Plan } from '../recovery/plan.js';
import { auditSink, auditTarget } from '../recovery/audit.js';
import type { AuditRecord } from '../recovery/execute.js';
import { PlanError, planOffer, planReplaceStuck, renderPlan, retargetRollback } from '../recovery/plan.js';
import { watch, type WatchOptions, type WatchResult } from '../recovery/watch.js';
import { setSuggestedConnection } from '../recovery/command.js';
import { changePatch, currentPartition, isOnDelete, parseImages, partitionsFor, planDeleteForUpdate, planFinish, planStart, planStep, readRecord, refuseOnDelete, ROLLOUT_ANNOTATION, stepCounts, type RolloutRecord } from '../rollout/plan.js';
import { renderRolloutGithub, renderRolloutJson, renderRolloutJunit, renderRolloutText, type RolloutOutcome, type RolloutReport } from '../rollout/report.js';
import type { Pod, Snapshot, StatefulSet } from '../snapshot/types.js';
import { claimOrdinal, desiredReplicas, isRunningAndReady, isTerminating, ordinalStart, podOrdinal, REVISION_LABEL, SnapshotView } from '../snapshot/view.js';
import { DIAGNOSIS_API_VERSION } from '../diagnosis.js';
import { createPrompter, isInteractive, type Prompter } from '../ui/prompter.js';
import { checkNamespace, checkObjectName, parseDuration, requestTimeoutMs } from './options.js';
import { processIO, verifyLines, type RecoverIO } from './recover.js';

/** Exit code: aborted, and the StatefulSet was not healed (no rollback, or it did not heal). */
export const EXIT_NOT_HEALED = 4;
/** Exit code of Ctrl+C. */
export const EXIT_INTERRUPTED = 130;

/** The rollout's output formats. */
export const ROLLOUT_FORMATS = ['text', 'json', 'junit', 'github'] as const;

export interface RolloutOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
  image?: string[];
  patch?: string;
  fromCurrent?: boolean;
  canary?: string;
  steps?: string;
  soak?: string;
  progressDeadline?: string;
  rollbackOnFailure?: boolean;
  lowerPartition?: boolean;
  onDelete?: boolean;
  yes?: boolean;
  dryRun?: string;
  output?: string;
  interval?: string;
  auditLog?: string;
}

/** Largest `--patch` file read (bytes). */
const MAX_PATCH_BYTES = 1 << 20;

/** The StatefulSet changed under the rollout (another writer): stop, write nothing more. */
class ConcurrentChange extends StsDoctorError {
  override readonly exitCode: number = ExitCode.Refused;
}

function readPatchFile(file: string): Promise<Record<string, unknown>> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new UsageError(`--patch ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  if (size > MAX_PATCH_BYTES) throw new UsageError(`--patch ${file} is larger than 1 MiB.`);
  return import('../yaml.js').then(({ parse }) => {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`--patch ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`--patch ${file} must hold one object: a strategic merge patch of the StatefulSet (e.g. spec.template...).`);
    return doc as Record<string, unknown>;
  });
}

/** True when `pod`'s index (ordinal − ordinals.start) is at or above `partition`: the controller updates it. */
function inPartition(sts: StatefulSet, ordinal: number | undefined, partition: number): boolean {
  return ordinal !== undefined && ordinal - ordinalStart(sts) >= partition && ordinal - ordinalStart(sts) < desiredReplicas(sts);
}

/**
 * True when every replica is Running and Ready and each one at or above `partition` is on the
 * update revision (and the controller has observed the current spec).
 */
export function stepReady(view: SnapshotView, sts: StatefulSet, partition: number): boolean {
  const s = sts.status ?? {};
  if ((s.observedGeneration ?? 0) < (sts.metadata.generation ?? 0) || !s.updateRevision) return false;
  const want = desiredReplicas(sts);
  const byOrdinal = view.podsByOrdinal(sts);
  for (let i = 0; i < want; i++) {
    const pod = byOrdinal.get(ordinalStart(sts) + i);
    if (!pod || isTerminating(pod) || !isRunningAndReady(pod)) return false;
    if (i >= partition && pod.metadata.labels?.[REVISION_LABEL] !== s.updateRevision) return false;
  }
  return true;
}

/**
 * The permanent finding (diagnosis.ts `classifyFinding`) of StatefulSet `sts` about a replica
 * of the new revision: a pod labelled with `status.updateRevision`, or a pod (or claim) not yet
 * created at an ordinal the partition gives to the new revision. Findings about replicas of the
 * old revision, or about a pod being deleted (Terminating), never abort a rollout. Undefined
 * while the new revision is not made yet.
 */
export function abortFinding(d: Diagnosis, snapshot: Snapshot, name: string, from: string, partition: number): Finding | undefined {
  return revisionFailure(d, snapshot, name, from, partition, true);
}

/**
 * The first warning or critical finding about a replica of the new revision, as `abortFinding`
 * selects them; with `permanentOnly` false, transient ones (image still pulling, back-off) too.
 */
export function revisionFailure(d: Diagnosis, snapshot: Snapshot, name: string, from: string, partition: number, permanentOnly: boolean): Finding | undefined {
  const sts = snapshot.statefulSets.find((s) => s.metadata.name === name);
  const update = sts?.status?.updateRevision;
  if (!sts || !update || update === from) return undefined;
  const view = new SnapshotView(snapshot);
  const pods = view.podsOf(sts);
  return d.findings.find((f) => {
    if (f.statefulSet.name !== name || f.severity === 'info' || (permanentOnly && !classifyFinding(f)?.permanent)) return false;
    if (f.subject.kind === 'Pod') {
      const pod = pods.find((p) => p.metadata.name === f.subject.name);
      // A pod being deleted is being replaced: its failure is not the new revision's last word.
      if (pod) return !isTerminating(pod) && pod.metadata.labels?.[REVISION_LABEL] === update;
      return inPartition(sts, podOrdinal(sts, f.subject.name), partition);
    }
    if (f.subject.kind === 'PersistentVolumeClaim') return inPartition(sts, claimOrdinal(sts, f.subject.name)?.ordinal, partition);
    return false;
  });
}

/** The newest ControllerRevision older than the update revision: the template before the last change. */
function previousRevision(view: SnapshotView, sts: StatefulSet): string | undefined {
  const revisions = view.revisionsOf(sts);
  const update = revisions.find((r) => r.metadata.name === sts.status?.updateRevision);
  return revisions.find((r) => update && r.revision < update.revision && r.data?.spec?.template)?.metadata.name;
}

/** The earliest time among a finding's evidence: when the cluster first reported it. */
function firstReported(f: Finding): string | undefined {
  const times = f.evidence.map((e) => e.time).filter((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  return times.length ? times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) : undefined;
}

/**
 * Runs the command; returns the exit code.
 * @throws UsageError for bad flags; KubeconfigError, ApiError, NotFoundError from the reads;
 *   PlanError (exit 3) when the rollout is refused.
 */
export async function runRollout(name: string, opts: RolloutOptions, io: RecoverIO = processIO): Promise<number> {
  const output = opts.output ?? 'text';
  if (!(ROLLOUT_FORMATS as readonly string[]).includes(output)) throw new UsageError(`-o/--output must be one of ${ROLLOUT_FORMATS.join(', ')}, not "${output}".`);
  if (opts.dryRun !== undefined && opts.dryRun !== 'server') throw new UsageError(`--dry-run accepts only "server" for rollout, not "${opts.dryRun}".`);
  checkObjectName(name);
  if (opts.namespace !== undefined) checkNamespace(opts.namespace);
  const images = parseImages(opts.image ?? []);
  const patch = opts.patch !== undefined ? await readPatchFile(opts.patch) : undefined;
  if (opts.fromCurrent && (images.length || patch)) throw new UsageError('--from-current drives a template someone else already changed; it does not take --image or --patch.');
  if (!opts.fromCurrent && !images.length && !patch) throw new UsageError('Give the change: --image container=ref (repeatable), --patch FILE, or --from-current (the template was already changed by helm, kubectl apply, ...).');
  const canaryText = opts.canary ?? '1';
  if (!/^\d{1,7}$/.test(canaryText)) throw new UsageError(`--canary must be a whole number of replicas, not "${canaryText}".`);
  const canary = Number(canaryText);
  const soakMs = parseDuration(opts.soak ?? '30s', '--soak');
  const progressMs = parseDuration(opts.progressDeadline ?? '5m', '--progress-deadline');
  const intervalMs = parseDuration(opts.interval ?? '2s', '--interval');
  if (intervalMs < 500) throw new UsageError('--interval must be at least 500ms.');
  if (progressMs < 1000) throw new UsageError('--progress-deadline must be at least 1s.');
  setSuggestedConnection(opts);

  const { connect } = await import('../kube/connect.js');
  const { collectFromCluster } = await import('../snapshot/from-cluster.js');
  const { config, client } = connect(opts, requestTimeoutMs(opts.requestTimeout));
  const collect = (): Promise<Snapshot> => collectFromCluster(client, { namespace: config.namespace, name, context: config.context });
  const run = new RolloutRun(name, config.namespace, opts, io, client, collect, { soakMs, progressMs, intervalMs });
  return run.main(images, patch, canary);
}

interface Timing {
  soakMs: number;
  progressMs: number;
  intervalMs: number;
}

/** One run of the command: its state, its report, its writes. */
class RolloutRun {
  private readonly started = Date.now();
  private readonly report: RolloutReport;
  private readonly out: (s: string) => void;
  private readonly err: (s: string) => void;
  /** The audit log (src/recovery/audit.ts): `--audit-log`, else the XDG state file on a terminal, else stderr. */
  private readonly audit: (r: AuditRecord) => void;
  private readonly abort = new AbortController();
  private prompter: Prompter | undefined;
  private readonly interactive: boolean;
  /** `metadata.generation` after our last write: anything else means another writer. */
  private expectedGeneration: number | undefined;
  /** `--on-delete` on an OnDelete StatefulSet: the rollout deletes the pods to update them. */
  private onDelete = false;
  /** When a watch round first saw a failure of the new revision (`revisionFailure`, transient ones too). */
  private firstSeenFailure: Date | undefined;

  constructor(
    private readonly name: string,
    private readonly namespace: string,
    private readonly opts: RolloutOptions,
    private readonly io: RecoverIO,
    private readonly client: KubeClient,
    private readonly collect: () => Promise<Snapshot>,
    private readonly timing: Timing,
  ) {
    const structured = (opts.output ?? 'text') !== 'text';
    this.out = structured ? io.err : io.out;
    this.err = io.err;
    this.audit = auditSink(auditTarget(opts.auditLog, io === processIO && Boolean(process.stderr.isTTY)), io.err);
    this.interactive = (io.prompter !== undefined || isInteractive()) && !opts.yes && opts.dryRun === undefined && !structured;
    this.report = { apiVersion: DIAGNOSIS_API_VERSION, kind: 'RolloutReport', statefulSet: { namespace, name }, outcome: 'refused', exitCode: ExitCode.Refused, message: '', resumed: false, steps: [], timeline: [] };
  }

  /** The watch rounds' abort test (`abortFinding`); notes when a failure of the new revision was first seen. */
  private guard(d: Diagnosis, s: Snapshot, from: string, partition: number): Finding | undefined {
    if (!this.firstSeenFailure && revisionFailure(d, s, this.name, from, partition, false)) this.firstSeenFailure = new Date();
    return abortFinding(d, s, this.name, from, partition);
  }

  private mark(event: string, at = new Date()): void {
    this.report.timeline.push({ time: at.toISOString(), seconds: Math.round((at.getTime() - this.started) / 100) / 10, event });
    this.err(`[${Math.round((at.getTime() - this.started) / 1000)}s] ${event}`);
  }

  private finish(outcome: RolloutOutcome, code: number, message: string): number {
    this.report.outcome = outcome;
    this.report.exitCode = code;
    this.report.message = message;
    const r = this.report;
    const text = this.opts.output === 'json' ? renderRolloutJson(r) : this.opts.output === 'junit' ? renderRolloutJunit(r) : this.opts.output === 'github' ? renderRolloutGithub(r) : renderRolloutText(r);
    this.io.out(text.replace(/\n$/, ''));
    return code;
  }

  private async read(): Promise<{ snapshot: Snapshot; view: SnapshotView; sts: StatefulSet }> {
    const snapshot = await this.collect();
    const sts = snapshot.statefulSets.find((s) => s.metadata.name === this.name);
    if (!sts) throw new ConcurrentChange(`StatefulSet ${this.namespace}/${this.name} no longer exists.`);
    return { snapshot, view: new SnapshotView(snapshot), sts };
  }

  private checkGeneration(sts: StatefulSet): void {
    if (this.expectedGeneration !== undefined && sts.metadata.generation !== this.expectedGeneration)
      throw new ConcurrentChange(
        `StatefulSet ${this.namespace}/${this.name} was changed by someone else during the rollout (generation ${this.expectedGeneration} → ${sts.metadata.generation}${sts.status?.updateRevision ? `, update revision ${sts.status.updateRevision}` : ''}). Stopping; nothing more is written. The record ${ROLLOUT_ANNOTATION} stays on it: remove it (kubectl annotate statefulset ${this.name} ${ROLLOUT_ANNOTATION}-) once you have decided what to keep.`,
      );
  }

  private async askPrompter(): Promise<Prompter> {
    this.prompter ??= this.io.prompter ?? (await createPrompter({ interactive: true, yes: false }));
    return this.prompter;
  }

  /** Shows the plan and, on a terminal, asks; false when declined. */
  private async confirm(plan: Plan): Promise<boolean> {
    if (!this.interactive) {
      this.out(renderPlan(plan).replace(/\n$/, ''));
      return true;
    }
    // One confirmation per plan (as `recover`): the plan, then its own question.
    return (await this.askPrompter()).confirmPlan(renderPlan(plan), plan.confirm);
  }

  /**
   * Executes the plan `make` builds from a fresh read, dry run first; a 409 Conflict caused by
   * a status update (same generation) is planned again and retried (up to 3 times); a new
   * generation is another writer (ConcurrentChange). Returns the patched object's generation.
   */
  private async execute(make: (sts: StatefulSet, view: SnapshotView) => Plan): Promise<{ plan: Plan; generation: number | undefined }> {
    const { executePlan } = await import('../recovery/execute.js');
    for (let attempt = 1; ; attempt++) {
      const { sts, view } = await this.read();
      this.checkGeneration(sts);
      const plan = make(sts, view);
      let generation: number | undefined;
      const r = await executePlan(plan, {
        client: this.client,
        audit: this.audit,
        progress: (l) => this.err(l),
        onWritten: (_i, response) => {
          const g = (response as { metadata?: { generation?: unknown; name?: unknown } } | undefined)?.metadata;
          if (g?.name === this.name && typeof g.generation === 'number') generation = g.generation;
        },
      });
      if (r.outcome !== 'refused') return { plan, generation };
      this.err(`conflict at step ${r.step}${r.dryRun ? ' (dry run)' : ''}: ${r.message}`);
      const again = await this.read();
      this.checkGeneration(again.sts);
      if (attempt >= 3) throw new ConcurrentChange(`StatefulSet ${this.namespace}/${this.name} kept changing under the rollout (409 Conflict three times): ${r.message}. Stopping; nothing more is written.`);
    }
  }

  /** The watch() options every step of the rollout shares: this run's reads, interval, Ctrl+C, progress and per-replica lines, for `timeoutMs`. */
  private stepWatch(timeoutMs: number): Pick<WatchOptions, 'collect' | 'client' | 'intervalMs' | 'timeoutMs' | 'statefulSet' | 'signal' | 'progress' | 'describe'> {
    return { collect: this.collect, client: this.client, intervalMs: this.timing.intervalMs, timeoutMs, statefulSet: this.name, signal: this.abort.signal, progress: (l) => this.err(l), describe: verifyLines(this.name) };
  }

  /**
   * How the StatefulSet changed under the rollout in snapshot `s`: `deleted`, or `generation a → b`
   * when its generation is not the one of our last write; undefined (with the StatefulSet) when not.
   */
  private changedIn(s: Snapshot): { sts: StatefulSet; changed?: undefined } | { sts?: undefined; changed: string } {
    const sts = s.statefulSets.find((x) => x.metadata.name === this.name);
    if (!sts) return { changed: 'deleted' };
    if (this.expectedGeneration !== undefined && sts.metadata.generation !== this.expectedGeneration) return { changed: `generation ${this.expectedGeneration} → ${sts.metadata.generation}` };
    return { sts };
  }

  /** Watches one step until it is done (soaked), aborted, timed out or interrupted. */
  private async watchStep(record: RolloutRecord, step: number, final: boolean): Promise<{ v: WatchResult; changed?: string }> {
    const partition = record.partitions[step]!;
    let readySince: number | undefined;
    let changed: string | undefined;
    const soakMs = Math.max(this.timing.soakMs, 0);
    const v = await watch({
      ...this.stepWatch(this.timing.progressMs + soakMs),
      done: (d, s) => {
        const now = this.changedIn(s);
        if (!now.sts) {
          changed = now.changed;
          return true;
        }
        const sts = now.sts;
        const ok = stepReady(new SnapshotView(s), sts, partition) && (!final || (d.statefulSets.find((x) => x.name === this.name)?.healthy ?? false));
        if (!ok) {
          readySince = undefined;
          return false;
        }
        // minReadySeconds: a replica counts as available only after it (StatefulSetSpec.minReadySeconds).
        const soak = Math.max(soakMs, (sts.spec.minReadySeconds ?? 0) * 1000);
        readySince ??= Date.now();
        return Date.now() - readySince >= soak;
      },
      abortOn: (d, s) => this.guard(d, s, record.from, partition),
    });
    return changed ? { v, changed } : { v };
  }

  /**
   * `--on-delete`, step `step`: deletes, highest ordinal first and one at a time, each pod with
   * index ≥ the step's partition that is not on the update revision (uid and resourceVersion
   * preconditions; asked for on a terminal), and watches until its replacement is Running and
   * Ready on the update revision, aborting on a permanent finding of the new revision. Returns
   * undefined once every such pod was replaced (the step's soak follows), else how it ended.
   */
  private async deleteForUpdate(rec: RolloutRecord, step: number): Promise<{ v: WatchResult; changed?: string } | undefined> {
    const partition = rec.partitions[step]!;
    const { executePlan } = await import('../recovery/execute.js');
    const watchFor = async (done: (sts: StatefulSet, s: Snapshot) => boolean, abort: boolean): Promise<{ v: WatchResult; changed?: string }> => {
      let changed: string | undefined;
      const v = await watch({
        ...this.stepWatch(this.timing.progressMs),
        done: (_d, s) => {
          const now = this.changedIn(s);
          if (!now.sts) {
            changed = now.changed;
            return true;
          }
          return done(now.sts, s);
        },
        ...(abort ? { abortOn: (d: Diagnosis, s: Snapshot) => this.guard(d, s, rec.from, partition) } : {}),
      });
      return changed ? { v, changed } : { v };
    };
    // The controller must have made the new revision first.
    const made = await watchFor((sts) => (sts.status?.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0) && Boolean(sts.status?.updateRevision) && sts.status?.updateRevision !== rec.from, false);
    if (made.changed || made.v.outcome !== 'done') return made;
    for (let attempts = 0; attempts < 1000; attempts++) {
      const { sts, view } = await this.read();
      this.checkGeneration(sts);
      const update = sts.status?.updateRevision ?? '';
      const byOrdinal = view.podsByOrdinal(sts);
      let target: Pod | undefined;
      for (let i = desiredReplicas(sts) - 1; i >= partition && !target; i--) {
        const p = byOrdinal.get(ordinalStart(sts) + i);
        if (p && !isTerminating(p) && p.metadata.labels?.[REVISION_LABEL] !== update) target = p;
      }
      if (!target) return undefined;
      const plan = planDeleteForUpdate(sts, target, update);
      if (!(await this.confirm(plan))) {
        this.abort.abort();
        return { v: { outcome: 'interrupted', diagnosis: undefined, elapsedMs: 0 } };
      }
      const r = await executePlan(plan, { client: this.client, audit: this.audit, progress: (l) => this.err(l) });
      if (r.outcome === 'refused') {
        this.err(`conflict: ${r.message}; reading again`);
        continue;
      }
      const old = target;
      this.mark(`deleted ${old.metadata.name} (OnDelete) for revision ${update}`);
      const replaced = await watchFor((_sts, s) => {
        const p = s.pods.find((x) => x.metadata.name === old.metadata.name);
        return Boolean(p && p.metadata.uid !== old.metadata.uid && p.metadata.labels?.[REVISION_LABEL] === update && isRunningAndReady(p));
      }, true);
      if (replaced.changed || replaced.v.outcome !== 'done') return replaced;
    }
    throw new ConcurrentChange(`The pods of StatefulSet ${this.name} kept changing while the rollout deleted them. Stopping.`);
  }

  async main(images: ReturnType<typeof parseImages>, patch: Record<string, unknown> | undefined, canary: number): Promise<number> {
    const onSigint = (): void => this.abort.abort();
    const real = this.io === processIO;
    if (real) process.once('SIGINT', onSigint);
    try {
      return await this.drive(images, patch, canary);
    } catch (err) {
      if (err instanceof ConcurrentChange || err instanceof PlanError) {
        this.mark(`refused: ${err.message}`);
        for (const s of this.report.steps) if (s.outcome === 'pending' && s.started) s.outcome = 'refused';
        return this.finish('refused', ExitCode.Refused, err.message);
      }
      throw err;
    } finally {
      if (real) process.removeListener('SIGINT', onSigint);
    }
  }

  private async drive(images: ReturnType<typeof parseImages>, patch: Record<string, unknown> | undefined, canary: number): Promise<number> {
    const { snapshot, sts } = await this.read();
    this.report.statefulSet.uid = sts.metadata.uid;
    this.onDelete = Boolean(this.opts.onDelete) && isOnDelete(sts);
    refuseOnDelete(sts, this.onDelete);
    if (this.opts.onDelete && !this.onDelete) throw new UsageError(`--on-delete applies to a StatefulSet with updateStrategy OnDelete; ${this.name} has ${sts.spec.updateStrategy?.type ?? 'RollingUpdate'}.`);
    const replicas = desiredReplicas(sts);
    const change = this.opts.fromCurrent ? {} : changePatch(sts, images, patch);
    let record = readRecord(sts);
    const dryRun = this.opts.dryRun === 'server';

    if (record) {
      // Resume: the template must still be the rollout's, and the asked change already in it.
      if (record.to && sts.status?.updateRevision !== record.to)
        throw new PlanError(`A rollout to revision ${record.to} is recorded on StatefulSet ${this.name}, but its update revision is now ${sts.status?.updateRevision ?? '?'}: someone else changed the template. Refusing; remove the record (kubectl annotate statefulset ${this.name} ${ROLLOUT_ANNOTATION}-) once you have decided what to keep.`);
      if (!this.opts.fromCurrent && !(await this.changeApplied(sts, change)))
        throw new PlanError(`Another rollout is in progress on StatefulSet ${this.name} (recorded in ${ROLLOUT_ANNOTATION}, step ${record.step + 1} of ${record.partitions.length}), for a different change. Refusing; rerun it with the same change, or --from-current, to resume it.`);
      this.report.resumed = true;
      this.expectedGeneration = sts.metadata.generation;
      this.mark(`resuming the rollout recorded on ${this.name}: step ${record.step + 1} of ${record.partitions.length}, partition ${record.partitions[record.step]}`);
    } else {
      const before = currentPartition(sts);
      const floor = this.opts.lowerPartition ? 0 : before;
      const updatable = replicas - floor;
      if (updatable <= 0) throw new PlanError(`StatefulSet ${this.name} has partition ${before} with ${replicas} replicas: no replica would be updated. Refusing; --lower-partition lets the rollout go below it.`);
      const update = sts.status?.updateRevision;
      const current = sts.status?.currentRevision;
      if (!current) throw new PlanError(`StatefulSet ${this.name} has no current revision yet (the controller has not observed it). Refusing.`);
      if (this.opts.fromCurrent) {
        if (!update || update === current) throw new PlanError(`--from-current: StatefulSet ${this.name}'s template was not changed (update revision = current revision ${current}): nothing to roll out.`);
        // Under OnDelete the controller never moves currentRevision on: the pods tell.
        if (this.onDelete && new SnapshotView(snapshot).podsOf(sts).every((p) => p.metadata.labels?.[REVISION_LABEL] === update))
          throw new PlanError(`--from-current: every pod of StatefulSet ${this.name} already runs its update revision ${update} (under OnDelete the controller leaves currentRevision at ${current}): nothing to roll out.`);
      } else if (
        // Under OnDelete the controller never moves currentRevision on: the pods tell.
        this.onDelete ? new SnapshotView(snapshot).podsOf(sts).some((p) => p.metadata.labels?.[REVISION_LABEL] !== update) : update && update !== current && before === 0
      ) {
        throw new PlanError(`StatefulSet ${this.name} is already rolling out from ${current} to ${update}. Refusing to change the template again; --from-current drives that rollout.`);
      }
      const view = new SnapshotView(snapshot);
      // With --from-current the controller may already be replacing a pod (Terminating) or have made one of the new revision.
      const notReady = view.podsOf(sts).filter((p) => !isRunningAndReady(p) && !(this.opts.fromCurrent && (isTerminating(p) || p.metadata.labels?.[REVISION_LABEL] === update)));
      if (notReady.length) throw new PlanError(`StatefulSet ${this.name} is not healthy before the rollout (${notReady.map((p) => p.metadata.name).join(', ')} not Running and Ready): refusing to start; sts-doctor diagnose ${this.name} -n ${this.namespace} says why.`);
      const counts = stepCounts(this.opts.steps ?? '100%', canary, updatable);
      // Where a rollback returns: the template the change replaces, which was healthy (checked
      // above): the update revision (with a partition set before, the pods above it run it, not
      // the current one); with --from-current, the revision before the update revision (the
      // controller may already be replacing its pods, so which pods are Ready on it cannot tell).
      const from = this.opts.fromCurrent ? (previousRevision(view, sts) ?? current) : (update ?? current);
      record = { v: 1, from, partitionBefore: before, partitions: partitionsFor(counts, replicas), step: 0, started: new Date().toISOString() };
    }
    const rec: RolloutRecord = record;
    this.report.fromRevision = rec.from;
    if (rec.to) this.report.toRevision = rec.to;
    this.report.partitionBefore = rec.partitionBefore;
    this.report.steps = rec.partitions.map((p, i) => ({ step: i, partition: p, updatedReplicas: replicas - p, outcome: i < rec.step ? 'done' : 'pending' }));
    const words = this.changeWords(images, patch);

    if (dryRun) return this.dryRun(sts, change, rec, words);

    if (!this.report.resumed) {
      const plan = planStart(sts, change, rec, words);
      if (!this.interactive && !this.opts.yes) {
        this.out(renderPlan(plan).replace(/\n$/, ''));
        throw new PlanError('Nothing was written: without a terminal, pass --yes to run the rollout (or --dry-run=server to check it).');
      }
      if (!(await this.confirm(plan))) return this.finish('refused', ExitCode.Refused, 'Cancelled: nothing was written.');
      this.expectedGeneration = sts.metadata.generation;
      this.report.steps[0]!.started = new Date().toISOString();
      const r = await this.execute((s) => planStart(s, change, rec, words));
      this.expectedGeneration = r.generation;
      this.mark(`step 1 written: ${words.change}, partition ${rec.partitions[0]}`);
    }

    for (let step = rec.step; step < rec.partitions.length; step++) {
      const sr = this.report.steps[step]!;
      sr.started ??= new Date().toISOString();
      const final = step === rec.partitions.length - 1;
      // OnDelete (--on-delete): the rollout deletes the pods the partition would have given to the controller.
      const deleting = this.onDelete ? await this.deleteForUpdate(rec, step) : undefined;
      const { v, changed } = deleting ?? (await this.watchStep(rec, step, final));
      if (changed) {
        sr.outcome = 'refused';
        const { sts: now } = await this.read();
        this.checkGeneration(now);
        throw new ConcurrentChange(`StatefulSet ${this.namespace}/${this.name} was ${changed === 'deleted' ? 'deleted' : `changed by someone else (${changed})`} during step ${step + 1}. Stopping; nothing more is written.`);
      }
      if (v.outcome === 'interrupted') {
        sr.outcome = 'interrupted';
        this.mark('interrupted (Ctrl+C)');
        return this.finish('interrupted', EXIT_INTERRUPTED, `Interrupted at step ${step + 1} of ${rec.partitions.length}: nothing more is written. The record ${ROLLOUT_ANNOTATION} stays on ${this.name}; run the same command again to resume.`);
      }
      if (v.outcome === 'aborted' || v.outcome === 'timeout' || v.outcome === 'dead-end') {
        sr.outcome = 'aborted';
        sr.finished = new Date().toISOString();
        return this.abortAndRollBack(rec, v, step);
      }
      sr.outcome = 'done';
      sr.finished = new Date().toISOString();
      const upd = v.diagnosis?.statefulSets.find((s) => s.name === this.name)?.updateRevision;
      if (upd && !rec.to) {
        rec.to = upd;
        this.report.toRevision = upd;
      }
      this.mark(`step ${step + 1} done: ${replicasWord(replicas - rec.partitions[step]!)} on revision ${rec.to ?? '?'}, Running and Ready${final ? '' : ` for ${Math.round(this.timing.soakMs / 1000)} s`}`);
      if (rec.to === rec.from) {
        this.mark('the change made no new revision');
      }
      if (final) break;
      rec.step = step + 1;
      if (this.interactive && !(await this.confirm(planStep((await this.read()).sts, rec)))) {
        this.report.steps[step + 1]!.outcome = 'pending';
        return this.finish('interrupted', EXIT_INTERRUPTED, `Stopped before step ${step + 2}: nothing more is written. The record ${ROLLOUT_ANNOTATION} stays; run the same command again to resume.`);
      }
      const r = await this.execute((s) => planStep(s, rec));
      this.expectedGeneration = r.generation;
      this.mark(`step ${step + 2} written: partition ${rec.partitions[step + 1]}`);
    }
    const r = await this.execute((s) => planFinish(s));
    this.expectedGeneration = r.generation;
    this.mark(`rollout record removed`);
    return this.finish('rolled-out', ExitCode.Ok, `Rolled out: StatefulSet ${this.namespace}/${this.name} has ${replicasWord(replicas - rec.partitions[rec.partitions.length - 1]!)} on revision ${rec.to ?? '?'}, Running and Ready.`);
  }

  private changeWords(images: ReturnType<typeof parseImages>, patch: Record<string, unknown> | undefined): { change: string; kubectl: string[] } {
    const ns = this.namespace;
    const parts: string[] = [];
    const kubectl: string[] = [];
    if (images.length) {
      parts.push(images.map((c) => `${c.container}=${c.image}`).join(', '));
      kubectl.push(`kubectl -n ${ns} set image statefulset/${this.name} ${images.map((c) => `${c.container}=${c.image}`).join(' ')}`);
    }
    if (patch) {
      parts.push(`the patch in ${this.opts.patch}`);
      kubectl.push(`kubectl -n ${ns} patch statefulset ${this.name} --type=strategic --patch-file=${this.opts.patch}`);
    }
    return { change: parts.join(' and ') || 'the template as it is (--from-current)', kubectl };
  }

  /** True when the template already holds `change` (a server-side dry run of it changes nothing in spec.template). */
  private async changeApplied(sts: StatefulSet, change: Record<string, unknown>): Promise<boolean> {
    const path = `/apis/apps/v1/namespaces/${this.namespace}/statefulsets/${sts.metadata.name}`;
    const now = await this.client.get<{ spec?: { template?: unknown } }>(path);
    const after = await this.client.request<{ spec?: { template?: unknown } }>(path, { method: 'PATCH', query: { dryRun: 'All' }, body: change, contentType: 'application/strategic-merge-patch+json' });
    return JSON.stringify(now.spec?.template) === JSON.stringify(after.spec?.template);
  }

  /** `--dry-run=server`: every step's plan printed and sent with dryRun=All; nothing written. */
  private async dryRun(sts: StatefulSet, change: Record<string, unknown>, rec: RolloutRecord, words: { change: string; kubectl: string[] }): Promise<number> {
    const { executePlan } = await import('../recovery/execute.js');
    const plans: Plan[] = [];
    if (!this.report.resumed) plans.push(planStart(sts, change, rec, words));
    for (let i = rec.step + 1; i < rec.partitions.length; i++) plans.push(planStep(sts, { ...rec, step: i }));
    plans.push(planFinish(sts));
    for (const plan of plans) {
      this.out(renderPlan(plan).replace(/\n$/, ''));
      const r = await executePlan(plan, { client: this.client, dryRunOnly: true, audit: this.audit, progress: (l) => this.err(l) });
      if (r.outcome === 'refused') throw new ConcurrentChange(`The server refused the dry run of "${plan.title}": ${r.message}. Nothing was written.`);
    }
    for (const s of this.report.steps) if (s.outcome === 'pending') s.outcome = 'dry-run';
    this.mark(`dry run: ${plans.length} plan(s) accepted by the server`);
    return this.finish('dry-run', ExitCode.Ok, `Dry run (server-side, dryRun=All): all ${plans.reduce((n, p) => n + p.steps.length, 0)} calls of the rollout accepted; nothing was written.`);
  }

  private async abortAndRollBack(rec: RolloutRecord, v: WatchResult, step: number): Promise<number> {
    const now = new Date();
    const f = v.abortedOn ?? v.deadEnd ?? (v.diagnosis ? v.diagnosis.findings.find((x) => x.statefulSet.name === this.name && x.severity !== 'info' && !x.causedBy) : undefined);
    const reason = v.outcome === 'timeout' ? 'progress-deadline' : 'permanent-finding';
    // The cluster's own time when the evidence carries one; else, or if earlier, when a watch round first saw it.
    const reported = f ? firstReported(f) : undefined;
    const seen = f ? this.firstSeenFailure?.toISOString() : undefined;
    const first = reported && seen ? (Date.parse(reported) <= Date.parse(seen) ? reported : seen) : (reported ?? seen);
    if (first) this.mark(`first failure reported by the cluster for the new revision${f ? ` (${f.rule} ${f.subject.name})` : ''}`, new Date(first));
    this.report.abort = { reason, at: now.toISOString(), ...(first ? { firstFailureAt: first } : {}) };
    if (f) {
      const cls = classifyFinding(f);
      this.report.abort.finding = { rule: f.rule, subject: f.subject, summary: f.summary, ...(cls ? { class: cls } : {}), evidence: f.evidence };
    }
    const why = f ? `${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}` : 'no finding names a cause';
    this.mark(`abort decided at step ${step + 1}: ${reason === 'progress-deadline' ? `not done within --progress-deadline (${why})` : why}`, now);
    let rollBack = this.opts.rollbackOnFailure ?? false;
    if (!rollBack && this.interactive) rollBack = await (await this.askPrompter()).confirmPlan('', { type: 'yes', question: `Roll ${this.name} back to revision ${rec.from} and delete the pods not Ready on the new revision?` });
    if (!rollBack)
      return this.finish(
        'aborted',
        EXIT_NOT_HEALED,
        `Aborted at step ${step + 1} of ${rec.partitions.length}: ${why}. Not rolled back (no --rollback-on-failure); the record ${ROLLOUT_ANNOTATION} stays. To roll back: sts-doctor recover ${this.name} -n ${this.namespace} --action rollback --to-revision ${rec.from}`,
      );
    // The template and partition back, then the stuck pods, then verify.
    const started = new Date();
    let deleted: string[] = [];
    try {
      await this.execute((sts, view) => {
        const offer = retargetRollback(view, sts, rec.from);
        const plan = planOffer(view, sts, offer, { ...(f ? { finding: f } : {}), restore: { ...(this.onDelete ? {} : { partition: rec.partitionBefore }), annotation: ROLLOUT_ANNOTATION }, deferDeletes: true });
        this.err(renderPlan(plan).replace(/\n$/, ''));
        return plan;
      });
      this.expectedGeneration = undefined;
      this.mark(`rollback written: template of ${rec.from}${this.onDelete ? '' : `, partition ${rec.partitionBefore}`}`);
      const observed = await watch({
        collect: this.collect,
        client: this.client,
        intervalMs: 1000,
        timeoutMs: 60_000,
        signal: this.abort.signal,
        progress: () => undefined,
        done: (_d, s) => {
          const sts = s.statefulSets.find((x) => x.metadata.name === this.name);
          return Boolean(sts && (sts.status?.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0) && sts.status?.updateRevision === rec.from);
        },
      });
      if (observed.outcome !== 'done') throw new PlanError(`The controller did not observe the rollback within 60 s (update revision still not ${rec.from}).`);
      const { executePlan } = await import('../recovery/execute.js');
      const { sts, view } = await this.read();
      const del = planReplaceStuck(view, sts, rec.from, 'rollout');
      if (del.steps.length) {
        this.err(renderPlan(del).replace(/\n$/, ''));
        const r = await executePlan(del, { client: this.client, audit: this.audit, progress: (l) => this.err(l) });
        deleted = del.steps.slice(0, r.outcome === 'refused' ? r.step - 1 : del.steps.length).map((s) => s.call!.object.name);
        if (r.outcome === 'refused') this.err(`not deleted: ${r.message} (the pod was replaced meanwhile)`);
        this.mark(`deleted ${deleted.join(', ') || 'nothing'} (not Ready, not on ${rec.from})`);
      }
    } catch (err) {
      if (!(err instanceof PlanError || err instanceof ConcurrentChange)) throw err;
      this.report.rollback = { toRevision: rec.from, deletedPods: deleted, started: started.toISOString(), healthy: false };
      return this.finish('aborted', EXIT_NOT_HEALED, `Aborted at step ${step + 1}: ${why}. The rollback could not be completed: ${err.message}`);
    }
    const verify = await watch({
      collect: this.collect,
      client: this.client,
      intervalMs: this.timing.intervalMs,
      timeoutMs: this.timing.progressMs,
      stopOnPermanent: true,
      statefulSet: this.name,
      signal: this.abort.signal,
      progress: (l) => this.err(l),
      describe: verifyLines(this.name),
      done: (d) => d.statefulSets.find((s) => s.name === this.name)?.healthy ?? false,
    });
    const healthy = verify.outcome === 'done';
    this.report.rollback = { toRevision: rec.from, deletedPods: deleted, started: started.toISOString(), healthy };
    if (healthy) {
      this.report.rollback.healthyAt = new Date().toISOString();
      this.mark(`healthy again on revision ${rec.from}`);
      return this.finish('rolled-back', ExitCode.Findings, `Aborted at step ${step + 1} of ${rec.partitions.length} (${why}); rolled back to revision ${rec.from}: healthy again.`);
    }
    if (verify.outcome === 'interrupted') return this.finish('interrupted', EXIT_INTERRUPTED, `Interrupted while verifying the rollback to ${rec.from}; nothing more is written.`);
    return this.finish('aborted', EXIT_NOT_HEALED, `Aborted at step ${step + 1} (${why}); rolled back to revision ${rec.from}, but it is not healthy after ${Math.round(verify.elapsedMs / 1000)} s.`);
  }
}

function replicasWord(n: number): string {
  return `${n} replica${n === 1 ? '' : 's'}`;
}
