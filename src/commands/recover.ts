/**
 * `sts-doctor recover <name>`: diagnose, pick a finding and a recovery, show the plan, confirm,
 * execute (dry run first, then the real calls with preconditions), and verify until the
 * StatefulSet is healthy or --timeout.
 *
 * Interactive on a TTY when --action is not given. Without a TTY nothing is asked: without
 * --action it prints the findings and the command for each recovery; with --action it prints
 * the plan and writes only with --yes. stdout carries the plan and the outcome; progress,
 * prompts and the audit log (unless --audit-log) go to stderr.
 *
 * Exit codes: 0 healthy at the end (or a --dry-run=server that passed); 1 not healthy at the end,
 * declined, or nothing written for want of --yes; 2 error; 3 refused: an object changed between
 * the plan and the write (HTTP 409 on a precondition), nothing further written.
 */
import { appendFileSync } from 'node:fs';
import { diagnose, type Diagnosis } from '../diagnosis.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Finding, RecoveryId, RecoveryOption } from '../rules/types.js';
import type { Snapshot, StatefulSet } from '../snapshot/types.js';
import { SnapshotView, formatAge } from '../snapshot/view.js';
import { executePlan, type AuditRecord } from '../recovery/execute.js';
import { sanitizeText } from '../report/sanitize.js';
import { OUT_OF_SERVICE_TAINT, findingsOffering, planRecovery, renderPlan, type Plan } from '../recovery/plan.js';
import { recoverCommand } from '../recovery/command.js';
import { verifyRecovery } from '../recovery/verify.js';
import { createPrompter, isInteractive, type Prompter } from '../ui/prompter.js';
import { requestTimeoutMs } from './options.js';

/** Exit code when the recovery was refused (README, "Exit codes"). */
export const EXIT_REFUSED = ExitCode.Refused;

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
  yes?: boolean;
  dryRun?: string;
  timeout?: string;
  auditLog?: string;
}

/** `--timeout` in milliseconds: `90s`, `5m`, `1h`, `300` (seconds), `0` (do not wait). */
export function parseDuration(value: string | undefined, fallbackMs = 300_000): number {
  if (value === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--timeout must be a duration like 90s or 5m, not "${value}".`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
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

function listFindings(findings: Finding[], sts: StatefulSet): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.severity.toUpperCase()} ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`);
    for (const o of f.recoveries) {
      lines.push(`  → ${o.title}`);
      if (o.automated) lines.push(`    $ ${recoverCommand({ kind: 'StatefulSet', name: sts.metadata.name, namespace: sts.metadata.namespace }, o, f)}`);
      for (const c of o.commands ?? []) lines.push(`    $ ${c}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The follow-up step of `out-of-service-taint`, offered as its own choice: for each node that
 * still carries the out-of-service taint, a warning whose only recovery is
 * `remove-out-of-service-taint` (once the node is Ready again, that is the next step).
 */
export function outOfServiceLeftovers(snapshot: Snapshot, sts: StatefulSet): Finding[] {
  return snapshot.nodes
    .filter((n) => (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT.key))
    .map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const f: Finding = {
        rule: 'out-of-service-taint',
        severity: 'warning',
        statefulSet: { kind: 'StatefulSet', namespace: sts.metadata.namespace, name: sts.metadata.name, uid: sts.metadata.uid },
        subject: { kind: 'Node', name: n.metadata.name, uid: n.metadata.uid },
        summary: `Node ${n.metadata.name} still has the ${OUT_OF_SERVICE_TAINT.key} taint${ready ? ' and is Ready again' : ''}`,
        explanation: `The taint was set for a non-graceful node shutdown. ${ready ? 'The node is Ready again: remove the taint so that pods can be scheduled there.' : 'Remove it once the node is repaired and Ready.'}`,
        evidence: [],
        recoveries: [
          {
            id: 'remove-out-of-service-taint',
            title: `Remove the out-of-service taint from node ${n.metadata.name}`,
            description: ready ? 'The node is Ready again.' : 'Only once the node is repaired.',
            automated: true,
            target: { kind: 'Node', name: n.metadata.name },
          },
        ],
        confidence: 'high',
        details: { node: n.metadata.name },
      };
      return f;
    });
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

function auditSink(file: string | undefined, err: (s: string) => void): (r: AuditRecord) => void {
  return (r) => {
    const line = JSON.stringify(r) + '\n';
    if (file) appendFileSync(file, line);
    else err(line);
  };
}

/**
 * Runs the command; returns the exit code.
 * @throws UsageError for bad flags; KubeconfigError, ApiError, NotFoundError from the reads;
 *   PlanError when the asked recovery does not fit the current state.
 */
export async function runRecover(name: string, opts: RecoverOptions, io: RecoverIO = processIO): Promise<number> {
  const { out, err } = io;
  if (opts.action && !ACTIONS.includes(opts.action as RecoveryId)) throw new UsageError(`--action must be one of ${ACTIONS.join(', ')}, not "${opts.action}".`);
  if (opts.dryRun !== undefined && opts.dryRun !== 'server') throw new UsageError(`--dry-run accepts only "server", not "${opts.dryRun}".`);
  if (opts.yes && !opts.action) throw new UsageError('--yes needs an explicit --action: sts-doctor never picks a recovery for you.');
  const timeoutMs = parseDuration(opts.timeout);
  const [{ resolveKubeconfig }, { KubeClient }, { collectFromCluster }] = await Promise.all([
    import('../kube/kubeconfig.js'),
    import('../kube/client.js'),
    import('../snapshot/from-cluster.js'),
  ]);
  const config = resolveKubeconfig(opts);
  const client = new KubeClient(config, requestTimeoutMs(opts.requestTimeout));
  const collect = (): Promise<Snapshot> => collectFromCluster(client, { namespace: config.namespace, name, context: config.context });

  const snapshot = await collect();
  const view = new SnapshotView(snapshot);
  const sts = snapshot.statefulSets.find((s) => s.metadata.name === name)!;
  const d = diagnose(snapshot);
  const findings = [...findingsOf(d, name), ...outOfServiceLeftovers(snapshot, sts)];
  const interactive = (io.prompter !== undefined || isInteractive()) && !opts.yes && opts.dryRun === undefined;

  let prompter: Prompter | undefined;
  let request: { recovery: RecoveryId; finding?: Finding; pod?: string; node?: string };
  if (!opts.action) {
    if (!interactive) {
      const healthy = d.statefulSets.find((s) => s.name === name)?.healthy ?? false;
      if (findings.length === 0) out(healthy ? `StatefulSet ${config.namespace}/${name} is healthy: nothing to recover.` : `StatefulSet ${config.namespace}/${name} is not healthy, but no finding names a cause.`);
      else out(listFindings(findings, sts));
      err('sts-doctor: no terminal to ask on, so nothing was written. Run one of the commands above (--action <id> --yes) to recover.');
      return healthy ? ExitCode.Ok : ExitCode.Findings;
    }
    prompter = io.prompter ?? (await createPrompter({ interactive: true, yes: false }));
    if (findings.length === 0) {
      out(`StatefulSet ${config.namespace}/${name} is ${d.statefulSets[0]?.healthy ? 'healthy: nothing to recover' : 'not healthy, but no finding names a cause'}.`);
      return d.statefulSets[0]?.healthy ? ExitCode.Ok : ExitCode.Findings;
    }
    const finding = await prompter.chooseFinding(findings);
    if (!finding) return declined(out);
    if (finding.recoveries.length === 0) {
      out(`sts-doctor knows no recovery for ${finding.rule} ${finding.subject.kind}/${finding.subject.name}; the evidence in \`sts-doctor diagnose ${name}\` says what the cluster reports. Nothing was written.`);
      return ExitCode.Findings;
    }
    const option: RecoveryOption | undefined = await prompter.chooseRecovery(finding, finding.recoveries);
    if (!option) return declined(out);
    request = { recovery: option.id, finding };
  } else {
    const recovery = opts.action as RecoveryId;
    const offered = findingsOffering(findings, sts, recovery, { pod: opts.pod, node: opts.node });
    request = { recovery, finding: offered[0]?.finding, pod: opts.pod, node: opts.node };
    if (!offered.length && recovery !== 'manual')
      err(`sts-doctor: no finding offers ${recovery}${opts.pod ? ` for pod ${opts.pod}` : ''}${opts.node ? ` for node ${opts.node}` : ''}; planning it from the current state anyway (its own safety checks apply).`);
  }

  const plan = planRecovery(view, sts, request, d.findings);
  if (plan.node) {
    const lease = await leaseFact(client, plan.node);
    if (lease) plan.facts.splice(1, 0, lease);
  }
  // On a terminal the prompter shows the plan before asking; otherwise it is the report.
  const asking = interactive && opts.dryRun === undefined;
  if (!asking) out(renderPlan(plan));

  if (!plan.automated) {
    if (opts.dryRun !== undefined || timeoutMs === 0) {
      if (asking) out(renderPlan(plan));
      return ExitCode.Findings;
    }
    if (asking) {
      prompter ??= io.prompter ?? (await createPrompter({ interactive: true, yes: false }));
      if (!(await prompter.showPlan(renderPlan(plan)))) return declined(out);
    }
    err(`sts-doctor writes nothing for manual steps; waiting up to ${Math.round(timeoutMs / 1000)} s for StatefulSet ${name} to become healthy once they are carried out...`);
    return verifyAndReport(io, client, config.namespace, name, timeoutMs, collect);
  }

  if (opts.dryRun === undefined) {
    prompter ??= interactive ? (io.prompter ?? (await createPrompter({ interactive: true, yes: false }))) : undefined;
    if (!prompter && !opts.yes) {
      err('sts-doctor: nothing was written: without a terminal, pass --yes together with --action to run this plan (or --dry-run=server to check it).');
      return ExitCode.Findings;
    }
    if (prompter) {
      if (!(await prompter.showPlan(renderPlan(plan)))) return declined(out);
      const ok = plan.confirm.type === 'name' ? await prompter.confirmName(plan.confirm.question, plan.confirm.name) : await prompter.confirm(plan.confirm.question);
      if (!ok) return declined(out);
    }
  }

  const result = await executePlan(plan, { client, dryRunOnly: opts.dryRun === 'server', audit: auditSink(opts.auditLog, err), progress: (l) => err(l) });
  if (result.outcome === 'refused') {
    out(`Refused at step ${result.step}${result.dryRun ? ' (dry run: nothing was written)' : ' (the steps before it were written, nothing after it)'}: ${result.message}`);
    const again = await collect();
    out('What changed since the plan was made:');
    for (const l of describeChanges(plan, again)) out(`  • ${l}`);
    const now = findingsOf(diagnose(again), name);
    out(now.length ? 'The diagnosis now:' : 'The diagnosis now finds nothing in the way.');
    for (const f of now) out(`  ${f.severity.toUpperCase()} ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`);
    return EXIT_REFUSED;
  }
  if (result.outcome === 'dry-run') {
    out(`Dry run (server-side, dryRun=All): all ${plan.steps.filter((s) => s.call).length} calls accepted; nothing was written.`);
    return ExitCode.Ok;
  }
  out(`Executed: ${plan.title}.`);
  for (const f of plan.followUp) out(`Afterwards: ${f}`);
  if (timeoutMs === 0) {
    const dd = diagnose(await collect());
    return dd.statefulSets.find((s) => s.name === name)?.healthy ? ExitCode.Ok : ExitCode.Findings;
  }
  return verifyAndReport(io, client, config.namespace, name, timeoutMs, collect);
}

/**
 * The last renewal of a node's Lease (kube-node-lease), the kubelet's heartbeat since 1.17, as a
 * fact: `Lease kube-node-lease/<node> ... last renewed <time>, <age> ago.` Undefined when it
 * cannot be read (forbidden, no lease).
 */
async function leaseFact(client: import('../kube/client.js').KubeClient, node: string): Promise<string | undefined> {
  try {
    const lease = await client.get<{ spec?: { renewTime?: string; leaseDurationSeconds?: number } }>(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(node)}`);
    const t = lease.spec?.renewTime;
    if (!t) return undefined;
    const age = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
    return `Lease kube-node-lease/${node} (the kubelet's heartbeat) last renewed ${t.replace(/\.\d+Z$/, 'Z')}, ${formatAge(age)} ago${lease.spec?.leaseDurationSeconds ? ` (lease duration ${lease.spec.leaseDurationSeconds}s)` : ''}.`;
  } catch {
    return undefined;
  }
}

function declined(out: (s: string) => void): number {
  out('Cancelled: nothing was written.');
  return ExitCode.Findings;
}

async function verifyAndReport({ out, err }: RecoverIO, client: import('../kube/client.js').KubeClient, namespace: string, name: string, timeoutMs: number, collect: () => Promise<Snapshot>): Promise<number> {
  err(`Watching StatefulSet ${namespace}/${name} (up to ${Math.round(timeoutMs / 1000)} s):`);
  const v = await verifyRecovery({ client, namespace, name, timeoutMs, collect, progress: (l) => err(l) });
  if (v.healthy) {
    const r = v.diagnosis.statefulSets.find((s) => s.name === name)!;
    out(`StatefulSet ${namespace}/${name} is healthy: ${r.replicas.ready}/${r.replicas.desired} ready (after ${Math.round(v.elapsedMs / 1000)} s).`);
    return ExitCode.Ok;
  }
  out(`StatefulSet ${namespace}/${name} is not healthy after ${Math.round(v.elapsedMs / 1000)} s. What is in the way now:`);
  const now = findingsOf(v.diagnosis, name);
  if (now.length === 0) out('  no finding names a cause; the controller has not converged yet.');
  for (const f of now) out(`  ${f.severity.toUpperCase()} ${f.rule} ${f.subject.kind}/${f.subject.name}: ${f.summary}`);
  return ExitCode.Findings;
}
