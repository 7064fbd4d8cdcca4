/**
 * What the interactive app (`sts-doctor ui`) needs to recover a StatefulSet, as a typed seam:
 * src/commands/ui.ts builds the real one from the same functions `sts-doctor recover` uses
 * (commands/recover.ts `planChoice`, `refusalLines`, `auditSink`; recovery/execute.ts
 * `executePlan`), and the unit tests pass one whose executor is a fake. No React here.
 */
import type { ExecuteResult } from '../recovery/execute.js';
import type { Plan } from '../recovery/plan.js';
import type { Finding, RecoveryOption } from '../rules/types.js';

/** A StatefulSet by namespace and name. */
export interface StatefulSetRef {
  namespace: string;
  name: string;
}

export interface RecoveryDriver {
  /**
   * The plan of `option` (one of the recoveries of `finding`, a root cause with its
   * consequences' recoveries folded in) for `sts`, made over a fresh read of its namespace: the
   * planner re-validates the offer.
   * @throws PlanError when the offer no longer fits the state; read errors (ApiError...)
   */
  plan(sts: StatefulSetRef, finding: Finding, option: RecoveryOption): Promise<Plan>;
  /**
   * Executes an automated plan as `recover` does: every call first as a server-side dry run,
   * then for real with uid/resourceVersion preconditions, an Event on the StatefulSet, one audit
   * record per call. `progress` gets one line per step.
   */
  execute(plan: Plan, progress: (line: string) => void): Promise<ExecuteResult>;
  /** After a refused execution: what changed since the plan was made and what the diagnosis says now (a fresh read), as lines. */
  refusal(plan: Plan, sts: StatefulSetRef): Promise<string[]>;
}
