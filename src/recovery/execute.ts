/**
 * The executor: the only code of sts-doctor that writes to the cluster. For a plan it
 * 1. sends every call with `dryRun=All` (server-side dry run: admission, validation and the
 *    uid/resourceVersion preconditions are checked, nothing is persisted);
 * 2. unless only a dry run was asked, sends the real calls in order, each with its
 *    preconditions (DeleteOptions.preconditions, or `metadata.resourceVersion` in the patch);
 * 3. stops at the first HTTP 409 Conflict (the object changed since the plan was made: a
 *    replacement pod took the name, the node was updated) and writes nothing further;
 * 4. records each real action as an Event on the StatefulSet (reason `StsDoctorRecovery`, or
 *    `StsDoctorRollout` for a rollout's steps,
 *    source component `sts-doctor`) and every call as one JSON line in the audit log.
 */
import { hostname, userInfo } from 'node:os';
import { ApiError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { RECOVERY_EVENT_REASON, toTimestamp } from '../snapshot/view.js';
import type { ApiCall, Plan, PlanStep } from './plan.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Reason of the Events sts-doctor records on the StatefulSet. */
export const EVENT_REASON = RECOVERY_EVENT_REASON;
/** Reason of the Events of `sts-doctor rollout`'s writes (plans whose `recovery` is `rollout`). */
export const ROLLOUT_EVENT_REASON = 'StsDoctorRollout';
/** `source.component` / `reportingComponent` of those Events. */
export const EVENT_COMPONENT = 'sts-doctor';

/**
 * One line of the audit log (README, "Audit log"): one per API call sent (dry run or real) and
 * one per wait.
 */
export interface AuditRecord {
  time: string;
  user: string;
  host: string;
  recovery: string;
  statefulSet: { namespace?: string; name: string; uid?: string };
  step: number;
  title: string;
  /** `DELETE`, `PATCH`, or `WAIT`. */
  method: string;
  path: string;
  object?: { kind: string; name: string; namespace?: string; uid?: string; resourceVersion?: string };
  dryRun: boolean;
  /** `ok`, `conflict` (409, or 422 on a failed JSON patch `test`: the object changed; nothing further written), `error`, `timeout` (a wait). */
  result: 'ok' | 'conflict' | 'error' | 'timeout';
  status?: number;
  message?: string;
}

/** How a plan's execution ended. */
export type ExecuteResult =
  | { outcome: 'done' | 'dry-run'; steps: number }
  | { outcome: 'refused'; step: number; dryRun: boolean; message: string };

export interface ExecuteOptions {
  client: KubeClient;
  /** Only the server-side dry run. */
  dryRunOnly?: boolean;
  /** Receives every audit record (the command writes them as JSON lines to stderr or --audit-log). */
  audit: (record: AuditRecord) => void;
  /** Progress lines for the user (stderr). */
  progress: (line: string) => void;
  /** Poll interval of waits in milliseconds (default 1000). */
  pollMs?: number;
  /** Receives the API server's answer to each real call (e.g. the patched object), by step index. */
  onWritten?: (step: number, response: unknown) => void;
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function send(client: KubeClient, call: ApiCall, dryRun: boolean): Promise<unknown> {
  const query: Record<string, string | number> = { ...(call.query ?? {}) };
  let body = call.body;
  if (dryRun) {
    query.dryRun = 'All';
    // The API server reads DELETE options from the body when there is one and then ignores the
    // query (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go): dryRun must be in it.
    if (call.method === 'DELETE') body = { ...(call.body as Record<string, unknown>), dryRun: ['All'] };
  }
  const opts: Parameters<KubeClient['request']>[1] = { method: call.method, query, body };
  if (call.contentType) opts.contentType = call.contentType;
  return client.request(call.path, opts);
}

/**
 * Executes `plan` (its automated steps); manual plans write nothing.
 * @returns `done`, `dry-run`, or `refused` at the step whose call got 409 Conflict (nothing after
 *   it was sent; with `dryRun: true` nothing at all was written).
 * @throws ApiError for any other failed call (the steps before it were written; the audit log says which).
 */
export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<ExecuteResult> {
  if (!plan.automated) return { outcome: opts.dryRunOnly ? 'dry-run' : 'done', steps: 0 };
  const base = {
    user: who(),
    host: hostname(),
    recovery: plan.recovery,
    statefulSet: { namespace: plan.statefulSet.namespace, name: plan.statefulSet.name, uid: plan.statefulSet.uid },
  };
  const record = (i: number, step: PlanStep, dryRun: boolean, result: AuditRecord['result'], extra: Partial<AuditRecord> = {}): void => {
    const call = step.call;
    const r: AuditRecord = { time: new Date().toISOString(), ...base, step: i + 1, title: step.title, method: call?.method ?? 'WAIT', path: call?.path ?? step.waitGone?.path ?? '', dryRun, result, ...extra };
    if (call) r.object = { ...call.object };
    opts.audit(r);
  };
  // 1. Server-side dry run of every call.
  for (const [i, step] of plan.steps.entries()) {
    if (!step.call) continue;
    try {
      await send(opts.client, step.call, true);
      record(i, step, true, 'ok');
      opts.progress(`dry run ok: ${step.title}`);
    } catch (err) {
      const e = err as ApiError;
      const conflict = isConflict(e, step.call);
      record(i, step, true, conflict ? 'conflict' : 'error', { status: e.status, message: e.message });
      if (conflict) return { outcome: 'refused', step: i + 1, dryRun: true, message: e.message };
      throw err;
    }
  }
  if (opts.dryRunOnly) return { outcome: 'dry-run', steps: plan.steps.length };
  // 2. The real calls, in order, with their preconditions.
  for (const [i, step] of plan.steps.entries()) {
    if (step.call) {
      try {
        const response = await send(opts.client, step.call, false);
        opts.onWritten?.(i, response);
      } catch (err) {
        const e = err as ApiError;
        const conflict = isConflict(e, step.call);
        record(i, step, false, conflict ? 'conflict' : 'error', { status: e.status, message: e.message });
        if (conflict) return { outcome: 'refused', step: i + 1, dryRun: false, message: e.message };
        throw err;
      }
      record(i, step, false, 'ok');
      opts.progress(`done: ${step.title}`);
      await recordEvent(opts, plan, `sts-doctor ${plan.recovery}: ${step.title}`);
    }
    if (step.waitGone) {
      const gone = await waitGone(opts, step.waitGone);
      record(i, step, false, gone ? 'ok' : 'timeout');
      opts.progress(gone ? `${step.waitGone.what} is gone` : `${step.waitGone.what} still exists after ${step.waitGone.timeoutSeconds} s (a finalizer holds it); continuing`);
    }
  }
  return { outcome: 'done', steps: plan.steps.length };
}

/**
 * True when a failed call means "the object changed since the plan": 409 Conflict (a
 * uid/resourceVersion precondition), or 422 on a JSON patch with `test` ops (a test failed).
 */
export function isConflict(err: unknown, call: ApiCall): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 409) return true;
  return err.status === 422 && call.contentType === 'application/json-patch+json' && Array.isArray(call.body) && call.body.some((op) => (op as { op?: string }).op === 'test');
}

async function waitGone(opts: ExecuteOptions, w: NonNullable<PlanStep['waitGone']>): Promise<boolean> {
  const deadline = Date.now() + w.timeoutSeconds * 1000;
  for (;;) {
    try {
      const o = await opts.client.get<{ metadata: { uid?: string } }>(w.path);
      if (w.uid && o.metadata.uid !== w.uid) return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return true;
      throw err;
    }
    if (Date.now() > deadline) return false;
    await sleep(opts.pollMs ?? 1000);
  }
}

/** Posts a core/v1 Event on the StatefulSet; a failure (e.g. forbidden) is a warning, not an error. */
async function recordEvent(opts: ExecuteOptions, plan: Plan, message: string): Promise<void> {
  const sts = plan.statefulSet;
  const now = toTimestamp();
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${sts.name}.sts-doctor-`, namespace: sts.namespace },
    involvedObject: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: sts.namespace, name: sts.name, uid: sts.uid },
    type: 'Normal',
    reason: plan.recovery === 'rollout' ? ROLLOUT_EVENT_REASON : EVENT_REASON,
    message: message.slice(0, 1000),
    source: { component: EVENT_COMPONENT, host: hostname() },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: hostname(),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  try {
    await opts.client.request(`/api/v1/namespaces/${sts.namespace}/events`, { method: 'POST', body: event });
  } catch (err) {
    opts.progress(`warning: could not record an Event on StatefulSet ${sts.name}: ${(err as Error).message}`);
  }
}
