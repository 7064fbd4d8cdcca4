/**
 * Entry point: commander wiring, kubectl-compatible flags, and the one place where errors
 * become a sentence on stderr and an exit code. Commands are imported lazily so that `--help`
 * and usage errors never load the Kubernetes client.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { ExitCode, StsDoctorError, UsageError } from '../errors.js';
import { checkNamespace, checkObjectName } from '../commands/options.js';
import { VERSION } from './version.js';
import { OUTPUT_FORMATS } from '../report/index.js';
import { errorLine, sanitizeText, stripUserinfo } from '../report/sanitize.js';
import { SHELLS, completionScript, type Shell } from './complete.js';

/** Flags every command that talks to a cluster accepts, named as kubectl names them. */
function connectionFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('-n, --namespace <namespace>', "namespace of the StatefulSet (default: the context's namespace, else default)")
    .addOption(new Option('--request-timeout <seconds>', 'timeout of each API request in seconds (0: none)').default('30'))
    .option('--cluster-dns <namespace/service>', 'the cluster DNS Service whose EndpointSlices are checked when replicas are not Ready (default: kube-system/kube-dns)');
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
    .option('--no-fail-fast', 'keep waiting until --timeout through a permanent finding (an image that does not exist, a crash loop, ...) instead of exiting 1 at once')
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
    .option('--audit-log <file>', 'append the audit log (JSON lines) to this file; - for stderr (default: on a terminal $XDG_STATE_HOME/sts-doctor/audit.log, i.e. ~/.local/state/sts-doctor/audit.log; else stderr)')
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { runRecover } = await import('../commands/recover.js');
      process.exitCode = await runRecover(name, opts as never);
    });

  root
    .command('completion')
    .description('print the shell completion script (commands, flags, namespaces, StatefulSet names, --action ids): source <(sts-doctor completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices([...SHELLS]))
    .exitOverride()
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell));
    });

  connectionFlags(root.command('ui').description('the interactive troubleshooter: the StatefulSets of the namespace, live; Enter for the diagnosis, r to recover (also: sts-doctor alone on a terminal)'))
    .option('-A, --all-namespaces', 'list the StatefulSets of every namespace')
    .option('-l, --selector <selector>', 'label selector on StatefulSets')
    .option('--interval <duration>', 'longest pause between refreshes when nothing changes (the list follows the cluster by watches)', '2s')
    .option('--audit-log <file>', 'append the audit log of recoveries (JSON lines) to this file; - for stderr once the app is left (default: $XDG_STATE_HOME/sts-doctor/audit.log)')
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      const { uiCommand } = await import('../commands/ui.js');
      process.exitCode = await uiCommand(opts as never);
    });

  connectionFlags(
    root
      .command('rollout')
      .description('roll out a change to a StatefulSet with a canary (partition), steps, a classified abort and a rollback that unsticks pods (kubernetes#67250)')
      .argument('<name>', 'StatefulSet name'),
  )
    .option('--image <container=ref>', 'set the image of a container (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--patch <file>', 'a strategic merge patch of the StatefulSet (YAML or JSON), e.g. spec.template changes')
    .option('--from-current', 'drive a template change someone else already made (helm, kubectl apply, Argo CD)')
    .option('--canary <n>', 'replicas (highest ordinals) updated first', '1')
    .option('--steps <list>', 'replicas on the new revision after each later step: numbers or percentages, e.g. 1,50%,100%', '100%')
    .option('--soak <duration>', 'how long the updated replicas must stay Running and Ready with no finding before the next step', '30s')
    .option('--progress-deadline <duration>', 'how long a step may take (a transient finding, e.g. an image still pulling, is waited on this long)', '5m')
    .option('--rollback-on-failure', 'on abort, roll back without asking: the previous template and partition, then delete the pods not Ready on the new revision')
    .option('--lower-partition', 'let the rollout lower an existing partition (by default it stops at the partition set before)')
    .option('--on-delete', 'for updateStrategy OnDelete: delete the pods to update them, highest ordinal first, one at a time (asked for on a terminal)')
    .option('--yes', 'without a terminal: run the rollout without asking')
    .option('--dry-run <mode>', 'server: print every step\'s plan and send only server-side dry runs; nothing is written')
    .addOption(new Option('-o, --output <format>', 'output format of the rollout report').choices(['text', 'json', 'junit', 'github']).default('text'))
    .option('--interval <duration>', 'pause between reads while watching', '2s')
    .option('--audit-log <file>', 'append the audit log (JSON lines) to this file; - for stderr (default: on a terminal $XDG_STATE_HOME/sts-doctor/audit.log; else stderr)')
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { runRollout } = await import('../commands/rollout.js');
      process.exitCode = await runRollout(name, opts as never);
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
    .option('--cluster-dns <namespace/service>', 'the cluster DNS Service whose EndpointSlices are watched (default: kube-system/kube-dns)')
    .addOption(new Option('--request-timeout <seconds>', 'timeout of each API request in seconds (0: none)').default('30'))
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      const { serveCommand } = await import('../commands/serve.js');
      process.exitCode = await serveCommand(opts as never);
    });

  return root;
}

/**
 * The hidden `__complete <words...>` (src/cli/complete.ts): candidates for the last word, in
 * cobra's format, for the completion scripts and kubectl's plugin completion. Never fails: any
 * error is no candidates.
 */
async function runComplete(words: string[]): Promise<void> {
  const [{ complete, clusterNames, completionBudgetMs, formatCompletion, DIRECTIVE_NO_FILES }, { ACTIONS }] = await Promise.all([import('./complete.js'), import('../commands/recover.js')]);
  let answer;
  try {
    const budgetMs = completionBudgetMs(process.env);
    answer = await complete(program(), words, clusterNames(budgetMs), { actions: ACTIONS, budgetMs });
  } catch {
    answer = { candidates: [], directive: DIRECTIVE_NO_FILES };
  }
  process.stdout.write(formatCompletion(answer));
}

/** Runs the command line `argv` (as process.argv) and sets process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  if (argv[2] === '__complete') return runComplete(argv.slice(3));
  if (process.argv.includes('--no-color')) process.env.NO_COLOR = '1';
  try {
    // `sts-doctor` alone: the interactive app on a terminal, else the help on stdout (exit 0).
    if (argv.length <= 2) {
      const { canRunUi } = await import('../commands/ui.js');
      if (!(await canRunUi())) return void program().outputHelp();
      argv = [...argv, 'ui'];
    }
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
