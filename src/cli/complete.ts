/**
 * Shell completion. `sts-doctor completion bash|zsh|fish` prints a script; the script, and
 * kubectl's plugin completion (`kubectl_complete-sts_doctor`, kubectl ≥ 1.26), call the hidden
 * `sts-doctor __complete <words...>` with the words after the program name, the last one being
 * the word under the cursor (possibly empty). It answers in cobra's `__complete` format, the one
 * kubectl reads from a plugin: one candidate a line, then `:<directive>` (4: no file completion;
 * 0: the shell may complete file names).
 *
 * Commands and flags come from the commander program; `-o` values from the option's choices;
 * `--action` ids from recover's list; namespaces, StatefulSet names and contexts from the
 * kubeconfig and the cluster, within {@link COMPLETE_BUDGET_MS} ({@link completionBudgetMs}). Any error (no kubeconfig, no
 * cluster, no permission, too slow) yields no candidates and no message: a completion never
 * prints an error into the command line. Names from the cluster are offered only when they are
 * valid Kubernetes names, so nothing a shell could misread reaches it.
 *
 * Why no library: tabtab and @pnpm/tabtab bring an interactive installer (inquirer/enquirer);
 * omelette has its own protocol, which kubectl's plugin completion does not speak; @bomb.sh/tab
 * (cobra-like, with a commander adapter) is still 0.0.x and adds its own `complete` command. The
 * three scripts below are short, and one protocol serves the shells and kubectl.
 */
import type { Command, Option } from 'commander';

/** Everything a completion may spend on the cluster, in milliseconds (default). */
export const COMPLETE_BUDGET_MS = 2500;

/**
 * The cluster budget: `STS_DOCTOR_COMPLETION_TIMEOUT` (seconds, or with a unit: `500ms`, `5s`;
 * for slow credential plugins or API servers), else {@link COMPLETE_BUDGET_MS}; an invalid value
 * is ignored (a completion never fails).
 */
export function completionBudgetMs(env: NodeJS.ProcessEnv): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(env.STS_DOCTOR_COMPLETION_TIMEOUT?.trim() ?? '');
  if (!m) return COMPLETE_BUDGET_MS;
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
  return ms > 0 && ms <= 60_000 ? Math.round(ms) : COMPLETE_BUDGET_MS;
}
/** cobra's ShellCompDirectiveDefault: the shell may fall back to file names. */
export const DIRECTIVE_DEFAULT = 0;
/** cobra's ShellCompDirectiveNoFileComp: no file names. */
export const DIRECTIVE_NO_FILES = 4;

/** The shells `completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Where names come from; the real one reads the kubeconfig and the cluster ({@link clusterNames}). */
export interface NameSource {
  /** Contexts of the kubeconfig. */
  contexts(conn: CompletionConnection): Promise<string[]>;
  /** Namespaces of the cluster. */
  namespaces(conn: CompletionConnection): Promise<string[]>;
  /** StatefulSets of `conn.namespace` (default: the context's namespace). */
  statefulSets(conn: CompletionConnection): Promise<string[]>;
}

/** The connection flags already on the command line. */
export interface CompletionConnection {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** The answer: candidates (already filtered by the word under the cursor) and the directive. */
export interface Completion {
  candidates: string[];
  directive: number;
}

/** What the completion needs besides the program: `--action` ids (from recover), the cluster budget. */
export interface CompletionData {
  actions: readonly string[];
  /** Milliseconds the name source may take before no names are offered (default {@link COMPLETE_BUDGET_MS}). */
  budgetMs?: number;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A context name is free text in a kubeconfig: offered only when it is plain. */
const PLAIN = /^[A-Za-z0-9][-A-Za-z0-9_.:@/]{0,252}$/;

function visibleCommands(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function flagsOf(cmd: Command): string[] {
  const out: string[] = [];
  for (const o of cmd.options) {
    if (o.hidden) continue;
    if (o.long) out.push(o.long);
    if (o.short) out.push(o.short);
  }
  return out;
}

function findOption(cmds: Command[], flag: string): Option | undefined {
  for (const c of cmds) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

const takesValue = (o: Option | undefined): boolean => Boolean(o && (o.required || o.optional));

/**
 * The completion of `words` (the words after the program name; the last is the one under the
 * cursor) against the program `root`.
 */
export async function complete(root: Command, words: string[], names: NameSource, data: CompletionData): Promise<Completion> {
  const args = words.length ? words : [''];
  const cur = args[args.length - 1]!;
  const before = args.slice(0, -1);
  const conn: CompletionConnection = {};
  let sub: Command | undefined;
  let positional = 0;
  let expecting: Option | undefined;
  for (const w of before) {
    // bash splits `--namespace=demo` at `=` (COMP_WORDBREAKS): `--namespace`, `=`, `demo`.
    if (expecting && w === '=') continue;
    if (expecting) {
      setConn(conn, expecting, w);
      expecting = undefined;
      continue;
    }
    if (w === '--') break;
    if (w.startsWith('-') && w.length > 1) {
      const [flag, value] = w.startsWith('--') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
      const o = findOption(sub ? [sub, root] : [root], flag);
      if (value !== undefined) setConn(conn, o, value);
      else if (takesValue(o)) expecting = o;
      continue;
    }
    if (!sub) sub = visibleCommands(root).find((c) => c.name() === w || c.aliases().includes(w));
    else positional++;
  }
  const cmds = sub ? [sub, root] : [root];
  const done = (candidates: string[], prefix = cur, directive = DIRECTIVE_NO_FILES): Completion => ({ candidates: [...new Set(candidates)].filter((c) => c.startsWith(prefix)).sort(), directive });

  if (expecting) return valuesFor(expecting, cur === '=' ? '' : cur, '', conn, names, data, sub);
  if (cur.startsWith('--') && cur.includes('=')) {
    const flag = cur.slice(0, cur.indexOf('='));
    const o = findOption(cmds, flag);
    if (takesValue(o)) return valuesFor(o!, cur.slice(flag.length + 1), `${flag}=`, conn, names, data, sub);
    return done([]);
  }
  if (cur.startsWith('-')) return done([...(sub ? flagsOf(sub) : []), ...flagsOf(root), '--help']);
  if (!sub) return done(visibleCommands(root).map((c) => c.name()));
  const arg = sub.registeredArguments[positional];
  if (!arg) return done([]);
  if (arg.argChoices) return done(arg.argChoices);
  if (arg.name() === 'name') return done(await quietly(() => names.statefulSets(conn), data.budgetMs));
  return done([]);
}

async function valuesFor(o: Option, cur: string, prefix: string, conn: CompletionConnection, names: NameSource, data: CompletionData, sub: Command | undefined): Promise<Completion> {
  const out = (values: string[], directive = DIRECTIVE_NO_FILES): Completion => ({
    candidates: [...new Set(values)]
      .filter((v) => v.startsWith(cur))
      .sort()
      .map((v) => prefix + v),
    directive,
  });
  if (o.argChoices) return out(o.argChoices);
  switch (o.long) {
    case '--namespace':
      return out(await quietly(() => names.namespaces(conn), data.budgetMs));
    case '--context':
      return out(await quietly(() => names.contexts(conn), data.budgetMs));
    case '--action':
      return out(sub?.name() === 'recover' ? [...data.actions] : []);
    case '--kubeconfig':
    case '--from':
    case '--audit-log':
      return out([], DIRECTIVE_DEFAULT);
    default:
      return out([]);
  }
}

function setConn(conn: CompletionConnection, o: Option | undefined, value: string): void {
  if (o?.long === '--namespace') conn.namespace = value;
  else if (o?.long === '--context') conn.context = value;
  else if (o?.long === '--kubeconfig') conn.kubeconfig = value;
}

/** `get()`'s names, or none on any error or after {@link COMPLETE_BUDGET_MS}. */
async function quietly(get: () => Promise<string[]>, budgetMs: number = COMPLETE_BUDGET_MS): Promise<string[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([get(), new Promise<string[]>((resolve) => (timer = setTimeout(() => resolve([]), budgetMs)))]);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/** The names of a list answer that are valid object names (anything else is dropped). */
export function namesOf(items: { metadata?: { name?: unknown } }[]): string[] {
  return items.map((i) => i.metadata?.name).filter((n): n is string => typeof n === 'string' && n.length <= 253 && DNS_SUBDOMAIN.test(n));
}

/**
 * The real name source: the kubeconfig (the flags on the command line, else `KUBECONFIG`) and
 * one LIST each, with a per-request timeout and a deadline of {@link COMPLETE_BUDGET_MS}.
 */
export function clusterNames(budgetMs = COMPLETE_BUDGET_MS): NameSource {
  const client = async (conn: CompletionConnection) => {
    const [{ resolveKubeconfig }, { KubeClient }] = await Promise.all([import('../kube/kubeconfig.js'), import('../kube/client.js')]);
    const config = resolveKubeconfig(conn);
    const c = new KubeClient(config, budgetMs);
    c.deadline = Date.now() + budgetMs;
    return { config, c };
  };
  return {
    async contexts(conn) {
      const { resolveKubeconfig } = await import('../kube/kubeconfig.js');
      return resolveKubeconfig({ kubeconfig: conn.kubeconfig })
        .kubeConfig.getContexts()
        .map((x) => x.name)
        .filter((n) => PLAIN.test(n));
    },
    async namespaces(conn) {
      const { c } = await client(conn);
      return namesOf(await c.list<{ metadata?: { name?: unknown } }>('/api/v1/namespaces'));
    },
    async statefulSets(conn) {
      const { config, c } = await client(conn);
      return namesOf(await c.list<{ metadata?: { name?: unknown } }>(`/apis/apps/v1/namespaces/${encodeURIComponent(config.namespace)}/statefulsets`));
    },
  };
}

/** The lines `__complete` prints: the candidates, then `:<directive>`. */
export function formatCompletion(c: Completion): string {
  return [...c.candidates, `:${c.directive}`].join('\n') + '\n';
}

/** The completion script for `shell`; it completes both `sts-doctor` and `kubectl-sts_doctor`. */
export function completionScript(shell: Shell): string {
  return SCRIPTS[shell];
}

const BASH = `# bash completion for sts-doctor: source <(sts-doctor completion bash)
# Asks \`sts-doctor __complete <words>\` (cobra's protocol: candidates, then :<directive>).
_sts_doctor() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out line directive=0
  local -a cands=()
  out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  while IFS= read -r line; do
    case "$line" in
      :[0-9]*) directive="\${line#:}" ;;
      '') ;;
      *) cands+=("$line") ;;
    esac
  done <<< "$out"
  COMPREPLY=("\${cands[@]}")
  if (( \${#cands[@]} == 0 && (directive & 4) == 0 )); then
    compopt -o default 2>/dev/null || COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -F _sts_doctor sts-doctor kubectl-sts_doctor
`;

const ZSH = `#compdef sts-doctor kubectl-sts_doctor
# zsh completion for sts-doctor: source <(sts-doctor completion zsh) (after compinit)
# Asks \`sts-doctor __complete <words>\` (cobra's protocol: candidates, then :<directive>).
_sts_doctor() {
  local out line directive=0
  local -a cands
  out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  for line in "\${(@f)out}"; do
    if [[ $line == :[0-9]* ]]; then directive=\${line#:}; elif [[ -n $line ]]; then cands+=("$line"); fi
  done
  if (( \${#cands} )); then
    compadd -- "\${cands[@]}"
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
compdef _sts_doctor sts-doctor kubectl-sts_doctor
`;

const FISH = `# fish completion for sts-doctor: sts-doctor completion fish | source
# Asks \`sts-doctor __complete <words>\` (cobra's protocol: candidates, then :<directive>).
function __sts_doctor_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l directive 0
    set -l cands
    for line in ($words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
        if string match -qr '^:[0-9]+$' -- $line
            set directive (string sub -s 2 -- $line)
        else if test -n "$line"
            set -a cands $line
        end
    end
    if test (count $cands) -gt 0
        printf '%s\\n' $cands
    else if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path "$cur"
    end
end
complete -c sts-doctor -f -a '(__sts_doctor_complete)'
complete -c kubectl-sts_doctor -f -a '(__sts_doctor_complete)'
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };
