/**
 * `sts-doctor recover <name>`: diagnose, pick a finding and one of its offers, show the plan,
 * confirm, execute (dry run first, then the real calls with preconditions), and watch until the
 * StatefulSet is healthy, a dead end, or --timeout.
 *
 * Interactive on a TTY when --action is not given. Without a TTY nothing is asked: without
 * --action it prints the findings and the command for each offer; with --action it prints the
 * plan and writes only with --yes. `--from FILE --dry-run=client` plans against a saved
 * snapshot and needs no cluster. stdout carries the plan and the outcome (`-o json`: one JSON
 * document); progress, prompts and the audit log (unless --audit-log) go to stderr.
 *
 * Writes only what a current finding offers: `--action X` for a target no finding offers X for
 * is refused (exit 3) unless `--force-unrelated`, which the plan's Risk names.
 *
 * Exit codes: 0 healthy at the end (or a dry run that passed); 1 not healthy at the end (a dead
 * end, or --timeout), declined, or nothing written for want of --yes; 2 error; 3 refused (no
 * finding offers it, the plan does not fit the current state, or an object changed between
 * the plan and the write: HTTP 409 on a precondition); 130 interrupted during the watch.
 */
import { diagnose, type Diagnosis } from '../diagnosis.js';
import { ExitCode, UsageError } from '../errors.js';
import { sanitizeText } from '../report/sanitize.js';
import type { Finding, OfferAction, RecoveryId, RecoveryOffer, RecoveryOption } from '../rules/types.js';
import type { Pod, PersistentVolumeClaim, Snapshot, StatefulSet } from '../snapshot/types.js';
import { SnapshotView, claimOrdinal, formatReplicaCounts, isPodReady, isTerminating } from '../snapshot/view.js';
import { PlanError, findOffers, forcedOffer, planManual, planOffer, renderPlan, retargetRollback, type Plan, type PlanContext } from '../recovery/plan.js';
import { recoverCommand, setSuggestedConnection } from '../recovery/command.js';
import { watch } from '../recovery/watch.js';
import { createPrompter, isInteractive, type Prompter } from '../ui/prompter.js';
import { foldedFinding, rootCauses } from '../rules/causes.js';
import { parseDuration, parseNow, requestTimeoutMs } from './options.js';

/** Exit code when the recovery was refused (README, "Exit codes"). */
export const EXIT_REFUSED = ExitCode.Refused;
/** Exit code when the watch was interrupted with Ctrl+C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** Every recovery id `--action` accepts. */
export const ACTIONS: RecoveryId[] = ['out-of-service-taint', 'remove-out-of-service-taint', 'force-delete-pod', 'delete-pvc-and-pod', 'delete-pod', 'rollback', 'manual'];

export interface RecoverOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
  action?: string;
  pod?: string;
  node?: string;
  toRevision?: string;
  yes?: boolean;
  dryRun?: string;
  timeout?: string;
  auditLog?: string;
  forceUnrelated?: boolean;
  from?: string;
  now?: string;
  output?: string;
}

/** Where the command writes and whom it asks; tests pass their own. */
export interface RecoverIO {
  /** The plan and the outcome (stdout). */
  out: (line: string) => void;
  /** Progress, warnings and, without --audit-log, the audit lines (stderr). */
  err: (line: string) => void;
  /** A prompter to use instead of the TTY detection (tests); treated as interactive. */
  prompter?: Prompter;
}

const line = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
/** The real terminal: stdout and stderr (cluster text sanitised: report/sanitize.ts), prompter chosen by TTY detection. */
export const processIO: RecoverIO = { out: (s) => void process.stdout.write(line(sanitizeText(s))), err: (s) => void process.stderr.write(line(sanitizeText(s))) };

/** The findings of one StatefulSet that are not merely informational, root causes first. */
function findingsOf(d: Diagnosis, name: string): Finding[] {
  return d.findings.filter((f) => f.statefulSet.name === name && f.severity !== 'info');
}

/**
 * One entry per root cause (rules/causes.ts): the root finding with the recoveries of the
 * consequences folded under it merged in, each offer once.
 */
export function problemsOf(findings: Finding[]): Finding[] {
  return rootCauses(findings).map(foldedFinding);
}

/** The findings as root causes, one line each, their consequences folded under them (`↳ therefore … [rule]`). */
function rootCauseLines(findings: Finding[]): string[] {
  return rootCauses(findings).flatMap((r) => [
    `${r.finding.severity.toUpperCase()} ${r.finding.rule} ${r.finding.subject.kind}/${r.finding.subject.name}: ${r.finding.summary}`,
    ...r.consequences.map((q) => `  ↳ ${q.consequence ?? `therefore: ${q.summary}`} [${q.rule}]`),
  ]);
}

function listFindings(findings: Finding[], sts: StatefulSet): string {
  const lines: string[] = [];
  for (const r of rootCauses(findings)) {
    const f = foldedFinding(r);
    lines.push(...rootCauseLines([r.finding, ...r.consequences]));
    for (const o of f.recoveries) {
      lines.push(`  → ${o.title}`);
      if (o.automated) lines.push(`    $ ${recoverCommand({ kind: 'StatefulSet', name: sts.metadata.name, namespace: sts.metadata.namespace }, o, f)}`);
      else if (/sts-doctor does not offer it now/.test(o.description)) lines.push(`    ${o.description.slice(o.description.indexOf('sts-doctor does not offer it now'))}`);
      for (const c of o.commands ?? []) lines.push(`    $ ${c}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** What changed between the plan's objects and a new snapshot, one line each. */
export function describeChanges(plan: Plan, snapshot: Snapshot): string[] {
  const lines: string[] = [];
  const lists: Record<string, { metadata: { name: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string } }[]> = {
    Pod: snapshot.pods,
    PersistentVolumeClaim: snapshot.persistentVolumeClaims,
    Node: snapshot.nodes,
    StatefulSet: snapshot.statefulSets,
  };
  for (const step of plan.steps) {
    const o = step.call?.object;
    if (!o) continue;
    const now = (lists[o.kind] ?? []).find((x) => x.metadata.name === o.name);
    if (!now) lines.push(`${o.kind} ${o.name} (uid ${o.uid}) no longer exists.`);
    else if (o.uid && now.metadata.uid !== o.uid) lines.push(`${o.kind} ${o.name} was replaced: the plan was for uid ${o.uid}, the object now has uid ${now.metadata.uid}. It was not touched.`);
    else if (o.resourceVersion && now.metadata.resourceVersion !== o.resourceVersion)
      lines.push(`${o.kind} ${o.name} changed: resourceVersion ${o.resourceVersion} → ${now.metadata.resourceVersion}${now.metadata.deletionTimestamp ? ' (now Terminating)' : ''}.`);
    else lines.push(`${o.kind} ${o.name} is unchanged.`);
  }
  return lines;
}

/** The words for a `--pod`/`--node` target in a refusal. */
function targetWords(opts: RecoverOptions): string {
  return `${opts.pod ? ` for pod ${opts.pod}` : ''}${opts.node ? ` for node ${opts.node}` : ''}${opts.toRevision ? ` to revision ${opts.toRevision}` : ''}`;
}

/**
 * The offer `--action` (with `--pod`/`--node`/`--to-revision`) stands for: one that a current
 * finding offers, re-targeted to `--to-revision` for a rollback; else, only with
 * `--force-unrelated`, one built from the flags.
 * @throws PlanError (exit 3) when no finding offers it and --force-unrelated was not given
 */
export function chooseOffer(view: SnapshotView, sts: StatefulSet, findings: Finding[], action: OfferAction, opts: RecoverOptions): { offer: RecoveryOffer; ctx: PlanContext } {
  const offered = findOffers(findings, sts, action, { pod: opts.pod, node: opts.node });
  if (offered.length) {
    const first = offered[0]!;
    if (action === 'rollback' && opts.toRevision) return { offer: retargetRollback(view, sts, opts.toRevision), ctx: { finding: first.finding } };
    return { offer: first.offer, ctx: { finding: first.finding } };
  }
  const withheld = findings.flatMap((f) => f.recoveries).find((o) => o.withheld?.action === action && (!opts.pod || o.withheld.pod === opts.pod) && (!opts.node || o.withheld.node === opts.node))?.withheld;
  if (withheld && !opts.forceUnrelated) throw new PlanError(`${action}${targetWords(opts)} is not offered now: ${withheld.reason.replace(/\.$/, '')}.`);
  if (!opts.forceUnrelated)
    throw new PlanError(
      `no finding offers ${action}${targetWords(opts)} on StatefulSet ${sts.metadata.name}, so sts-doctor writes nothing (run sts-doctor recover ${sts.metadata.name} -n ${view.snapshot.namespace} to see what is offered; --force-unrelated plans it anyway).`,
    );
  return { offer: forcedOffer(view, sts, { action, pod: opts.pod, node: opts.node, toRevision: opts.toRevision }), ctx: { forced: true } };
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

/** The verify watch's state lines: each pod and claim of the StatefulSet, and its status. */
export function verifyLines(name: string): (s: Snapshot) => Map<string, string> {
  return (s) => {
    const lines = new Map<string, string>();
    const sts = s.statefulSets.find((x) => x.metadata.name === name);
    if (!sts) return lines;
    const view = new SnapshotView(s);
    for (const p of view.podsOf(sts)) lines.set(`pod ${p.metadata.name}`, `${podProgress(p)} (uid ${p.metadata.uid?.slice(0, 8)})`);
    for (const c of s.persistentVolumeClaims.filter((x) => claimOrdinal(sts, x.metadata.name))) lines.set(`pvc ${c.metadata.name}`, `${claimProgress(c)} (uid ${c.metadata.uid?.slice(0, 8)})`);
    const st = sts.status ?? {};
    lines.set(`statefulset ${name}`, `${formatReplicaCounts(view.replicaCounts(sts))}, ${st.replicas ?? 0} pods, revision ${st.currentRevision ?? '?'}${st.updateRevision && st.updateRevision !== st.currentRevision ? ` → ${st.updateRevision}` : ''}`);
    return lines;
  };
}

/**
 * Runs the command; returns the exit code.
 * @throws UsageError for bad flags; KubeconfigError, ApiError, NotFoundError, DumpError from the
 *   reads; PlanError (exit 3) when the asked recovery is not offered or does not fit the state.
 */
export async function runRecover(name: string, opts: RecoverOptions, io: RecoverIO = processIO): Promise<number> {
  const json = opts.output === 'json';
  if (opts.output !== undefined && opts.output !== 'text' && opts.output !== 'json') throw new UsageError(`-o/--output must be text or json, not "${opts.output}".`);
  if (opts.action && !ACTIONS.includes(opts.action as RecoveryId)) throw new UsageError(`--action must be one of ${ACTIONS.join(', ')}, not "${opts.action}".`);
  if (opts.dryRun !== undefined && opts.dryRun !== 'server' && opts.dryRun !== 'client') throw new UsageError(`--dry-run accepts "server" or "client", not "${opts.dryRun}".`);
  if (opts.yes && !opts.action) throw new UsageError('--yes needs an explicit --action: sts-doctor never picks a recovery for you.');
  if (opts.toRevision !== undefined && opts.action !== 'rollback') throw new UsageError('--to-revision applies only to --action rollback.');
  if (opts.from !== undefined) {
    if (opts.from === '') throw new UsageError('--from needs a file or directory.');
    if (opts.kubeconfig || opts.context) throw new UsageError('--from reads a dump; --kubeconfig and --context do not apply.');
    if (opts.yes || opts.dryRun === 'server') throw new UsageError('--from plans against a saved snapshot and never writes: use --dry-run=client (not --yes or --dry-run=server).');
    if (opts.action && opts.dryRun !== 'client') throw new UsageError('--from needs --dry-run=client with --action: the plan is printed, nothing is written.');
  } else if (opts.now) throw new UsageError('--now applies only with --from.');
  const timeoutMs = parseDuration(opts.timeout ?? '5m', '--timeout');
  // In JSON mode stdout holds one document; the sentences go to stderr.
  const out = json ? io.err : io.out;
  const err = io.err;
  setSuggestedConnection(opts);

  let client: import('../kube/client.js').KubeClient | undefined;
  let collect: () => Promise<Snapshot>;
  let namespace: string;
  if (opts.from !== undefined) {
    const { snapshotFromDump } = await import('../snapshot/from-dump.js');
    const from = opts.from;
    const now = parseNow(opts.now);
    collect = () => snapshotFromDump(from, { name, namespace: opts.namespace, now });
    namespace = opts.namespace ?? '';
  } else {
    const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster }] = await Promise.all([import('../kube/kubeconfig.js'), import('../kube/client.js'), import('../snapshot/from-cluster.js')]);
    const config = resolveKubeconfig(opts);
    const c = new KubeClient(config, requestTimeoutMs(opts.requestTimeout));
    client = c;
    collect = () => collectFromCluster(c, { namespace: config.namespace, name, context: config.context });
    namespace = config.namespace;
  }

  let snapshot = await collect();
  namespace ||= snapshot.namespace;
  let view = new SnapshotView(snapshot);
  let sts = snapshot.statefulSets.find((s) => s.metadata.name === name)!;
  let d = diagnose(snapshot);
  const stsFindings = (dd: Diagnosis): Finding[] => dd.findings.filter((f) => f.statefulSet.name === name);
  const interactive = opts.from === undefined && (io.prompter !== undefined || isInteractive()) && !opts.yes && opts.dryRun === undefined && !json;
  const healthyNow = (dd: Diagnosis): boolean => dd.statefulSets.find((s) => s.name === name)?.healthy ?? false;

  let prompter: Prompter | undefined;
  let plan: Plan;
  if (!opts.action) {
    const findings = findingsOf(d, name);
    if (!interactive) {
      if (json) io.out(JSON.stringify({ statefulSet: { namespace, name }, healthy: healthyNow(d), findings }, null, 2));
      else if (findings.length === 0) io.out(healthyNow(d) ? `StatefulSet ${namespace}/${name} is healthy: nothing to recover.` : `StatefulSet ${namespace}/${name} is not healthy, but no finding names a cause.`);
      else io.out(listFindings(findings, sts));
      if (opts.from === undefined) err('sts-doctor: no terminal to ask on, so nothing was written. Run one of the commands above (--action <id> --yes) to recover.');
      return healthyNow(d) ? ExitCode.Ok : ExitCode.Findings;
    }
    prompter = io.prompter ?? (await createPrompter({ interactive: true, yes: false }));
    if (findings.length === 0) {
      out(`StatefulSet ${namespace}/${name} is ${healthyNow(d) ? 'healthy: nothing to recover' : 'not healthy, but no finding names a cause'}.`);
      return healthyNow(d) ? ExitCode.Ok : ExitCode.Findings;
    }
    const finding = await prompter.chooseFinding(problemsOf(findings));
    if (!finding) return declined(out);
    if (finding.recoveries.length === 0) {
      out(`sts-doctor knows no recovery for ${finding.rule} ${finding.subject.kind}/${finding.subject.name}; the evidence in \`sts-doctor diagnose ${name}\` says what the cluster reports. Nothing was written.`);
      return ExitCode.Findings;
    }
    const option: RecoveryOption | undefined = await prompter.chooseRecovery(finding, finding.recoveries);
    if (!option) return declined(out);
    // Time has passed while choosing: plan against a fresh read; the planner re-validates the offer.
    snapshot = await collect();
    view = new SnapshotView(snapshot);
    sts = snapshot.statefulSets.find((s) => s.metadata.name === name)!;
    d = diagnose(snapshot);
    plan = option.offer ? planOffer(view, sts, option.offer, { finding }) : planManual(view, sts, finding, d.findings);
  } else if (opts.action === 'manual') {
    const f = stsFindings(d).find((x) => x.severity !== 'info' && x.recoveries.some((r) => !r.automated));
    plan = planManual(view, sts, f, d.findings);
  } else {
    const { offer, ctx } = chooseOffer(view, sts, stsFindings(d), opts.action as OfferAction, opts);
    plan = planOffer(view, sts, offer, ctx);
  }

  // On a terminal the prompter shows the plan before asking; otherwise it is the report.
  const asking = interactive;
  const emitPlan = (extra: Record<string, unknown> = {}): void => {
    if (json) io.out(JSON.stringify({ plan, ...extra }, null, 2));
  };
  if (!asking && !json) io.out(renderPlan(plan));

  if (opts.dryRun === 'client') {
    emitPlan({ dryRun: 'client' });
    err('sts-doctor: --dry-run=client: the plan only; nothing was sent to a cluster.');
    return ExitCode.Ok;
  }

  if (!plan.automated) {
    if (opts.dryRun !== undefined || timeoutMs === 0) {
      emitPlan();
      if (asking) io.out(renderPlan(plan));
      return ExitCode.Findings;
    }
    if (asking) {
      prompter ??= io.prompter ?? (await createPrompter({ interactive: true, yes: false }));
      if (!(await prompter.showPlan(renderPlan(plan)))) return declined(out);
    }
    err(`sts-doctor writes nothing for manual steps; waiting up to ${Math.round(timeoutMs / 1000)} s for StatefulSet ${name} to become healthy once they are carried out...`);
    return verifyAndReport(io, json, plan, [], client!, namespace, name, timeoutMs, collect);
  }

  if (opts.dryRun === undefined) {
    prompter ??= interactive ? (io.prompter ?? (await createPrompter({ interactive: true, yes: false }))) : undefined;
    if (!prompter && !opts.yes) {
      emitPlan({ written: false });
      err('sts-doctor: nothing was written: without a terminal, pass --yes together with --action to run this plan (or --dry-run=server to check it).');
      return ExitCode.Findings;
    }
    if (prompter) {
      if (!(await prompter.showPlan(renderPlan(plan)))) return declined(out);
      const ok = plan.confirm.type === 'name' ? await prompter.confirmName(plan.confirm.question, plan.confirm.name) : await prompter.confirm(plan.confirm.question);
      if (!ok) return declined(out);
    }
  }

  const { executePlan, auditSink } = await import('../recovery/execute.js');
  const written: string[] = [];
  const result = await executePlan(plan, {
    client: client!,
    dryRunOnly: opts.dryRun === 'server',
    audit: auditSink(opts.auditLog, err),
    progress: (l) => {
      if (l.startsWith('done: ')) written.push(l.slice(6));
      err(l);
    },
  });
  if (result.outcome === 'refused') {
    out(`Refused at step ${result.step}${result.dryRun ? ' (dry run: nothing was written)' : ' (the steps before it were written, nothing after it)'}: ${result.message}`);
    const again = await collect();
    out('What changed since the plan was made:');
    for (const l of describeChanges(plan, again)) out(`  • ${l}`);
    const now = findingsOf(diagnose(again), name);
    out(now.length ? 'The diagnosis now:' : 'The diagnosis now finds nothing in the way.');
    for (const l of rootCauseLines(now)) out(`  ${l}`);
    emitPlan({ outcome: 'refused', step: result.step, message: result.message });
    return EXIT_REFUSED;
  }
  if (result.outcome === 'dry-run') {
    out(`Dry run (server-side, dryRun=All): all ${plan.steps.filter((s) => s.call).length} calls accepted; nothing was written.`);
    emitPlan({ dryRun: 'server', outcome: 'accepted' });
    return ExitCode.Ok;
  }
  out(`Executed: ${plan.title}.`);
  for (const f of plan.followUp) out(`Afterwards: ${f}`);
  if (timeoutMs === 0) {
    const dd = diagnose(await collect());
    emitPlan({ outcome: 'executed', healthy: healthyNow(dd) });
    return healthyNow(dd) ? ExitCode.Ok : ExitCode.Findings;
  }
  return verifyAndReport(io, json, plan, written, client!, namespace, name, timeoutMs, collect);
}

function declined(out: (s: string) => void): number {
  out('Cancelled: nothing was written.');
  return ExitCode.Findings;
}

/** The next offers of a finding, as commands, for a dead end or an interruption. */
function nextSteps(f: Finding): string[] {
  return f.recoveries.map((o) => (o.automated ? `${o.title}: ${recoverCommand(f.statefulSet, o, f)}` : `${o.title}${o.commands?.length ? `: ${o.commands.join(' ; ')}` : ''}`));
}

async function verifyAndReport(
  io: RecoverIO,
  json: boolean,
  plan: Plan,
  written: string[],
  client: import('../kube/client.js').KubeClient,
  namespace: string,
  name: string,
  timeoutMs: number,
  collect: () => Promise<Snapshot>,
): Promise<number> {
  const out = json ? io.err : io.out;
  const err = io.err;
  err(`Watching StatefulSet ${namespace}/${name} (up to ${Math.round(timeoutMs / 1000)} s; it stops early on a dead end):`);
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  const real = io === processIO;
  if (real) process.once('SIGINT', onSigint);
  let v;
  try {
    v = await watch({
      collect,
      done: (d) => d.statefulSets.find((s) => s.name === name)?.healthy ?? false,
      timeoutMs,
      intervalMs: 2000,
      client,
      stopOnPermanent: true,
      statefulSet: name,
      progress: (l) => err(l),
      describe: verifyLines(name),
      signal: abort.signal,
    });
  } finally {
    if (real) process.removeListener('SIGINT', onSigint);
  }
  const secs = Math.round(v.elapsedMs / 1000);
  const result = (outcome: string, code: number): number => {
    if (json) io.out(JSON.stringify({ plan, outcome, elapsedSeconds: secs, ...(v.deadEnd ? { deadEnd: v.deadEnd } : {}) }, null, 2));
    return code;
  };
  if (v.outcome === 'interrupted') {
    out(`Interrupted after ${secs} s. ${plan.automated ? (written.length ? `sts-doctor wrote: ${written.join('; ')}.` : 'sts-doctor wrote nothing.') : 'sts-doctor wrote nothing (manual steps).'} Nothing else will be written.`);
    out(`Next: sts-doctor diagnose ${name} -n ${namespace} (or sts-doctor wait ${name} -n ${namespace}) to see where it stands.`);
    return result('interrupted', EXIT_INTERRUPTED);
  }
  const r = v.diagnosis?.statefulSets.find((s) => s.name === name);
  if (v.outcome === 'done' && r) {
    out(`StatefulSet ${namespace}/${name} is healthy: ${formatReplicaCounts({ ready: r.replicas.ready, replicas: r.replicas.desired, condemned: r.replicas.condemned })} (after ${secs} s).`);
    return result('healthy', ExitCode.Ok);
  }
  if (v.outcome === 'dead-end' && v.deadEnd) {
    const f = v.deadEnd;
    out(`StatefulSet ${namespace}/${name} will not heal by itself (stopped watching after ${secs} s): ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`);
    const next = nextSteps(f);
    if (next.length) out('Next:');
    for (const n of next) out(`  → ${n}`);
    return result('dead-end', ExitCode.Findings);
  }
  out(`StatefulSet ${namespace}/${name} is not healthy after ${secs} s. What is in the way now:`);
  const now = v.diagnosis ? findingsOf(v.diagnosis, name) : [];
  if (now.length === 0) out(v.lastError ? `  the last reads failed: ${(v.lastError as Error).message}` : '  no finding names a cause; the controller has not converged yet.');
  for (const l of rootCauseLines(now)) out(`  ${l}`);
  return result('timeout', ExitCode.Findings);
}
