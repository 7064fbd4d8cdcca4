/**
 * The `sts-doctor recover` command line for a recovery a finding offers: what `diagnose` prints
 * under "Recovery" and what `recover` prints when it has no terminal to ask on. Kept apart from
 * the planner so that the report does not load it.
 *
 * The command carries the same `--kubeconfig` and `--context` the user gave (and always `-n`):
 * a pasted `--yes` command must act on the cluster that was diagnosed, not on the current context.
 */
import type { Finding, ObjectRef, RecoveryOption } from '../rules/types.js';

/** The connection flags of this run, repeated in every suggested command. */
export interface SuggestedConnection {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

let connection: SuggestedConnection = {};

/** Sets the `--kubeconfig`/`--context` of this run (called once by the command that reads the cluster). */
export function setSuggestedConnection(c: SuggestedConnection): void {
  connection = { kubeconfig: c.kubeconfig, context: c.context };
}

/** Quotes a shell word when it holds anything but safe characters. */
function word(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `sts-doctor recover <sts> [--kubeconfig k] [--context c] -n ns --action <id> [--pod p |
 * --node n | --to-revision r] [--yes]`, from the option's typed offer.
 * @param yes append `--yes` (the non-interactive form)
 */
export function recoverCommand(sts: ObjectRef, option: RecoveryOption, _finding?: Finding, yes = true, conn: SuggestedConnection = connection): string {
  const parts = ['sts-doctor', 'recover', sts.name];
  if (conn.kubeconfig) parts.push('--kubeconfig', conn.kubeconfig);
  if (conn.context) parts.push('--context', conn.context);
  if (sts.namespace) parts.push('-n', sts.namespace);
  parts.push('--action', option.id);
  const o = option.offer;
  if (o) {
    switch (o.action) {
      case 'delete-pod':
      case 'force-delete-pod':
      case 'delete-pvc-and-pod':
        parts.push('--pod', o.pod.name);
        break;
      case 'out-of-service-taint':
      case 'remove-out-of-service-taint':
        parts.push('--node', o.node.name);
        break;
      case 'rollback':
        parts.push('--to-revision', String(o.toRevision.revision));
        break;
    }
  } else if (option.target?.kind === 'Pod') parts.push('--pod', option.target.name);
  else if (option.target?.kind === 'Node') parts.push('--node', option.target.name);
  if (yes) parts.push('--yes');
  return parts.map(word).join(' ');
}
