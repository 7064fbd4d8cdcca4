/**
 * Entry point: commander wiring, kubectl-compatible flags, and the one place where errors
 * become a sentence on stderr and an exit code. Commands are imported lazily so that `--help`
 * and usage errors never load the Kubernetes client.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, StsDoctorError, UsageError } from '../errors.js';
import { checkNamespace, checkObjectName } from '../commands/options.js';
import { VERSION } from './version.js';
import { OUTPUT_FORMATS } from '../report/index.js';
import { errorLine, sanitizeText, stripUserinfo } from '../report/sanitize.js';

/** Flags every command that talks to a cluster accepts, named as kubectl names them. */
function connectionFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('-n, --namespace <namespace>', "namespace of the StatefulSet (default: the context's namespace, else default)")
    .addOption(new Option('--request-timeout <seconds>', 'timeout of each API request in seconds (0: none)').default('30'));
}

function program(): Command {
  const root = new Command('sts-doctor')
    .description('Explains, with evidence, why a StatefulSet\'s pods do not start, and guides the recovery.')
    .version(VERSION, '--version', 'print the version')
    .option('--no-color', 'disable colours (also: NO_COLOR=1)')
    // Usage errors are one sentence too: `sts-doctor: unknown option '--x' (see sts-doctor --help).`
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`sts-doctor: ${sanitizeText(s.replace(/^error: /, '').trim().replace(/\.$/, ''), false)} (see sts-doctor --help).\n`),
    })
    .exitOverride()
    // Names and namespaces are DNS names, checked before any command runs (so `.` and `..`
    // never reach a URL), for every command, recover's --pod and --node included.
    .hook('preAction', (_root, action) => {
      const [name] = action.args as (string | undefined)[];
      const o = action.opts() as { namespace?: string | string[]; pod?: string; node?: string; from?: string };
      if (o.from === '') throw new UsageError('--from needs a path: a file, a directory, or - for standard input.');
      if (name !== undefined) checkObjectName(name);
      // `serve -n` is repeatable: an array.
      for (const ns of o.namespace === undefined ? [] : [o.namespace].flat()) checkNamespace(ns);
      if (o.pod !== undefined) checkObjectName(o.pod, '--pod');
      if (o.node !== undefined) checkObjectName(o.node, '--node');
    });

  connectionFlags(
    root
      .command('diagnose')
      .description('diagnose a StatefulSet (or every StatefulSet in the namespace) and print the findings with their evidence')
      .argument('[name]', 'StatefulSet name; omit to diagnose every StatefulSet in the namespace'),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('text'))
    .option('-l, --selector <selector>', 'label selector on StatefulSets, when no name is given')
    .option('-A, --all-namespaces', 'diagnose the StatefulSets of every namespace (with -l: the matching ones)')
    .option('--from <path>', 'read a saved dump instead of the cluster: a kubectl List (YAML or JSON), multi-document YAML, a cluster-info dump directory, or - for stdin')
    .option('--now <time>', 'with --from: the time to judge ages against (RFC 3339; default: the newest timestamp in the dump)')
    .exitOverride()
    .action(async (name: string | undefined, opts: Record<string, unknown>) => {
      const { diagnoseCommand } = await import('../commands/diagnose.js');
      process.exitCode = await diagnoseCommand(name, opts as never);
    });

  connectionFlags(
    root
      .command('wait')
      .description('wait until a StatefulSet is healthy (exit 0) or --timeout passes (exit 1, with the diagnosis): a CI gate')
      .argument('[name]', 'StatefulSet name; omit to wait for every StatefulSet in the namespace'),
  )
    .addOption(new Option('-o, --output <format>', 'output format of the final diagnosis').choices([...OUTPUT_FORMATS]).default('text'))
    .option('-l, --selector <selector>', 'label selector on StatefulSets, when no name is given')
    .option('--timeout <duration>', 'how long to wait (e.g. 300, 90s, 5m)', '5m')
    .option('--interval <duration>', 'pause between reads', '2s')
    .exitOverride()
    .action(async (name: string | undefined, opts: Record<string, unknown>) => {
      const { waitCommand } = await import('../commands/wait.js');
      process.exitCode = await waitCommand(name, opts as never);
    });

  connectionFlags(
    root
      .command('snapshot')
      .description('write everything diagnose reads about a StatefulSet as one kubectl List (env values redacted), for --from or a bug report')
      .argument('[name]', 'StatefulSet name; omit for every StatefulSet in the namespace'),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('-l, --selector <selector>', 'label selector on StatefulSets, when no name is given')
    .option('-A, --all-namespaces', 'every StatefulSet of every namespace (with -l: the matching ones)')
    .option('--no-logs', 'read and store no container logs (by default the last lines of failing containers are kept)')
    .exitOverride()
    .action(async (name: string | undefined, opts: Record<string, unknown>) => {
      const { snapshotCommand } = await import('../commands/snapshot.js');
      process.exitCode = await snapshotCommand(name, opts as never);
    });

  connectionFlags(
    root
      .command('recover')
      .description('guide the recovery of a StatefulSet: pick a finding and a recovery, read the plan, confirm, execute (dry run first, with preconditions), and watch until healthy')
      .argument('<name>', 'StatefulSet name'),
  )
    .option('--action <id>', 'the recovery to plan: out-of-service-taint, remove-out-of-service-taint, force-delete-pod, delete-pvc-and-pod, delete-pod, rollback, manual')
    .option('--pod <name>', 'the pod the recovery acts on')
    .option('--node <name>', 'the node the recovery acts on')
    .option('--to-revision <revision>', 'with --action rollback: the revision number (or ControllerRevision name) to roll back to')
    .option('--yes', 'without a terminal: run the plan of --action without asking')
    .option('--dry-run <mode>', 'server: the plan and the server-side dry run only; client: the plan only (no request); nothing is written')
    .option('--force-unrelated', 'plan --action even though no current finding offers it for that target (named in the plan\'s Risk)')
    .option('--from <path>', 'plan against a saved dump instead of the cluster (with --dry-run=client); without --action, list the offers')
    .option('--now <time>', 'with --from: the time to judge ages against (RFC 3339)')
    .addOption(new Option('-o, --output <format>', 'output format of the plan and outcome').choices(['text', 'json']).default('text'))
    .option('--timeout <duration>', 'how long to watch for the StatefulSet to become healthy (e.g. 90s, 5m; 0: do not wait)', '5m')
    .option('--audit-log <file>', 'append the audit log (JSON lines) to this file instead of stderr')
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { runRecover } = await import('../commands/recover.js');
      process.exitCode = await runRecover(name, opts as never);
    });

  root
    .command('serve')
    .description('continuous mode: watch the cluster, re-evaluate on every change, serve the findings as Prometheus metrics (/metrics, /statefulsets, /healthz, /readyz)')
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config; in a pod: its service account)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('-n, --namespace <namespace>', 'a namespace to watch; repeat for several (default: every namespace)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-l, --selector <selector>', 'label selector on StatefulSets')
    .option('--listen <address>', 'address of the HTTP server ([host]:port)', ':9090')
    .option('--resync <duration>', 'full re-evaluation period (e.g. 5m; 0: none)', '5m')
    .option('--emit-events', 'record a Kubernetes Event on the StatefulSet when a finding starts (the only write serve makes)')
    .addOption(new Option('--request-timeout <seconds>', 'timeout of each API request in seconds (0: none)').default('30'))
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      const { serveCommand } = await import('../commands/serve.js');
      process.exitCode = await serveCommand(opts as never);
    });

  return root;
}

/** Runs the command line `argv` (as process.argv) and sets process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  if (process.argv.includes('--no-color')) process.env.NO_COLOR = '1';
  try {
    await program().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

/**
 * Maps any error to its exit code, writing its one-sentence message to stderr: sanitised (an
 * API error body can carry terminal escapes) and without userinfo in URLs.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed its own one-line message (or the help / version).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.Ok;
    return ExitCode.Error;
  }
  if (err instanceof StsDoctorError) {
    process.stderr.write(errorLine(err));
    if (process.env.STS_DOCTOR_DEBUG && err.cause) process.stderr.write(`${sanitizeText(stripUserinfo(String((err.cause as Error).stack ?? err.cause)))}\n`);
    return err.exitCode;
  }
  // A bug: still one sentence, and the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sts-doctor: internal error: ${sanitizeText(stripUserinfo(message.split('\n')[0] ?? ''), false)} (set STS_DOCTOR_DEBUG=1 for details)\n`);
  if (process.env.STS_DOCTOR_DEBUG && err instanceof Error) process.stderr.write(`${sanitizeText(stripUserinfo(err.stack ?? ''))}\n`);
  return ExitCode.Error;
}


await run(process.argv);
