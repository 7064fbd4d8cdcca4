/**
 * The `sts-doctor recover` command line for a recovery a finding offers: what `diagnose` prints
 * under "Recovery" and what `recover` prints when it has no terminal to ask on. Kept apart from
 * the planner so that the report does not load it.
 */
import type { Finding, ObjectRef, RecoveryOption } from '../rules/types.js';

/**
 * `sts-doctor recover <sts> [-n ns] --action <id> [--pod p | --node n] [--yes]`.
 * The pod or node is the option's target (or, without one, the finding's subject); for a claim
 * target, the pod the finding names in `details.pod`.
 * @param yes append `--yes` (the non-interactive form)
 */
export function recoverCommand(sts: ObjectRef, option: RecoveryOption, finding?: Finding, yes = true): string {
  const parts = ['sts-doctor', 'recover', sts.name];
  if (sts.namespace) parts.push('-n', sts.namespace);
  parts.push('--action', option.id);
  const t = option.target ?? finding?.subject;
  const claimPod = (finding?.details as { pod?: unknown } | undefined)?.pod;
  if (t?.kind === 'Pod' && option.id !== 'rollback') parts.push('--pod', t.name);
  else if (t?.kind === 'Node') parts.push('--node', t.name);
  else if (t?.kind === 'PersistentVolumeClaim' && typeof claimPod === 'string') parts.push('--pod', claimPod);
  if (yes) parts.push('--yes');
  return parts.join(' ');
}
