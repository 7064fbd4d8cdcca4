// Shell completion (src/cli/complete.ts): the walk over the real program (the built bin's hidden
// __complete, with no cluster), the name source through a small program, and the bash script
// run by bash against a stand-in program that records the words it is given.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { complete, completionBudgetMs, completionScript, formatCompletion, namesOf, type CompletionConnection, type NameSource } from '../../src/cli/complete.js';

const repo = join(import.meta.dirname, '..', '..');

/** `sts-doctor __complete ...words` of the built bin, without a cluster: [candidates, directive]. */
function completeBin(...words: string[]): [string[], string] {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'sts-doctor.js'), '__complete', ...words], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent', KUBECONFIG: '/nonexistent/kubeconfig' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  const lines = r.stdout.trimEnd().split('\n');
  return [lines.slice(0, -1), lines[lines.length - 1]!];
}

describe('__complete over the program (built bin, no cluster)', () => {
  // Eleven runs of the bin: minutes on a loaded machine are not a failure.
  it('commands, flags, choices, --action ids; file names only for file flags; no names and no message without a cluster', { timeout: 120_000 }, () => {
    expect(completeBin('')).toEqual([['completion', 'diagnose', 'recover', 'rollout', 'serve', 'snapshot', 'ui', 'wait'], ':4']);
    expect(completeBin('re')).toEqual([['recover'], ':4']);
    const [flags] = completeBin('recover', 'quiz', '--');
    expect(flags).toEqual(expect.arrayContaining(['--action', '--namespace', '--audit-log', '--dry-run', '--kubeconfig', '--context', '--help']));
    expect(completeBin('recover', 'quiz', '--action', '')[0]).toEqual(['delete-pod', 'delete-pvc-and-pod', 'force-delete-pod', 'manual', 'out-of-service-taint', 'remove-out-of-service-taint', 'rollback']);
    expect(completeBin('recover', 'quiz', '--action=f')).toEqual([['--action=force-delete-pod'], ':4']);
    expect(completeBin('diagnose', '-o', 'j')).toEqual([['json', 'junit'], ':4']);
    expect(completeBin('completion', '')).toEqual([['bash', 'fish', 'zsh'], ':4']);
    expect(completeBin('diagnose', '--from', '')).toEqual([[], ':0']);
    expect(completeBin('diagnose', '-n', '')).toEqual([[], ':4']);
    expect(completeBin('diagnose', '')).toEqual([[], ':4']);
    // --action belongs to recover only.
    expect(completeBin('diagnose', '--action', '')).toEqual([[], ':4']);
  });
});

/** A program shaped like sts-doctor's, for the name source. */
function program(): Command {
  const root = new Command('sts-doctor');
  const conn = (c: Command) => c.option('--kubeconfig <file>').option('--context <name>').option('-n, --namespace <namespace>');
  conn(root.command('diagnose').argument('[name]')).addOption(new Option('-o, --output <format>').choices(['text', 'json']));
  conn(root.command('recover').argument('<name>')).option('--action <id>').option('--yes');
  return root;
}

function source(seen: CompletionConnection[], overrides: Partial<NameSource> = {}): NameSource {
  return {
    contexts: async (c) => (seen.push(c), ['kind-a', 'prod']),
    namespaces: async (c) => (seen.push(c), ['default', 'demo', 'kube-system']),
    statefulSets: async (c) => (seen.push(c), c.namespace === 'demo' ? ['quiz', 'queue', 'web'] : ['other']),
    ...overrides,
  };
}

describe('complete: names from the name source', () => {
  const data = { actions: ['delete-pod', 'rollback'], budgetMs: 200 };
  it('StatefulSet names of the namespace given by -n (and the connection flags), namespaces, contexts', async () => {
    const seen: CompletionConnection[] = [];
    expect(await complete(program(), ['diagnose', '-n', 'demo', '--context', 'prod', 'q'], source(seen), data)).toEqual({ candidates: ['queue', 'quiz'], directive: 4 });
    expect(seen.at(-1)).toEqual({ namespace: 'demo', context: 'prod' });
    expect((await complete(program(), ['recover', '--namespace=demo', ''], source(seen), data)).candidates).toEqual(['queue', 'quiz', 'web']);
    expect((await complete(program(), ['diagnose', '-n', 'de'], source(seen), data)).candidates).toEqual(['default', 'demo']);
    expect((await complete(program(), ['diagnose', '--namespace=k'], source(seen), data)).candidates).toEqual(['--namespace=kube-system']);
    expect((await complete(program(), ['diagnose', '--context', ''], source(seen), data)).candidates).toEqual(['kind-a', 'prod']);
    // bash's words for `--namespace=de` and `--namespace=` (= is a word break): the value alone.
    expect((await complete(program(), ['diagnose', '--namespace', '=', 'de'], source(seen), data)).candidates).toEqual(['default', 'demo']);
    expect((await complete(program(), ['diagnose', '--namespace', '='], source(seen), data)).candidates).toEqual(['default', 'demo', 'kube-system']);
    expect((await complete(program(), ['diagnose', '--namespace', '=', 'demo', ''], source(seen), data)).candidates).toEqual(['queue', 'quiz', 'web']);
    // The name is given: nothing more to complete as an argument.
    expect((await complete(program(), ['recover', 'quiz', ''], source(seen), data)).candidates).toEqual([]);
    // A flag's value is not the name.
    expect((await complete(program(), ['recover', '--action', 'rollback', 'o'], source(seen), data)).candidates).toEqual(['other']);
  });

  it('a failing or slow cluster: no names, no error', async () => {
    const failing = source([], { statefulSets: async () => Promise.reject(new Error('connection refused')) });
    expect(await complete(program(), ['diagnose', ''], failing, data)).toEqual({ candidates: [], directive: 4 });
    const slow = source([], { namespaces: () => new Promise((r) => setTimeout(() => r(['late']), 5000)) });
    const t0 = Date.now();
    expect(await complete(program(), ['diagnose', '-n', ''], slow, data)).toEqual({ candidates: [], directive: 4 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('only valid object names from the cluster reach the shell', () => {
    expect(namesOf([{ metadata: { name: 'quiz' } }, { metadata: { name: 'a;rm -rf ~' } }, { metadata: { name: 'x\ny' } }, { metadata: { name: '\u001b[31mred' } }, { metadata: {} }, { metadata: { name: 7 } }, { metadata: { name: 'a'.repeat(254) } }])).toEqual(['quiz']);
  });

  it('the cluster budget: 2.5 s, or STS_DOCTOR_COMPLETION_TIMEOUT (seconds, ms) up to 60 s; anything else is ignored', () => {
    expect(completionBudgetMs({})).toBe(2500);
    expect(completionBudgetMs({ STS_DOCTOR_COMPLETION_TIMEOUT: '5' })).toBe(5000);
    expect(completionBudgetMs({ STS_DOCTOR_COMPLETION_TIMEOUT: '10s' })).toBe(10_000);
    expect(completionBudgetMs({ STS_DOCTOR_COMPLETION_TIMEOUT: '800ms' })).toBe(800);
    for (const bad of ['', 'x', '0', '-1', '5m', '3600']) expect(completionBudgetMs({ STS_DOCTOR_COMPLETION_TIMEOUT: bad }), bad).toBe(2500);
  });

  it("cobra's format: one candidate a line, then :directive", () => {
    expect(formatCompletion({ candidates: ['a', 'b'], directive: 4 })).toBe('a\nb\n:4\n');
    expect(formatCompletion({ candidates: [], directive: 0 })).toBe(':0\n');
  });
});

describe('the completion scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-doctor-completion-'));
  /** A stand-in for sts-doctor: records its arguments, one a line, and answers `answer`. */
  function standIn(answer: string): string {
    const prog = join(dir, 'sts-doctor');
    writeFileSync(prog, `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(dir, 'args')}\nprintf '${answer.replace(/\n/g, '\\n')}'\n`);
    chmodSync(prog, 0o755);
    writeFileSync(join(dir, 'script.bash'), completionScript('bash'));
    return prog;
  }
  function bashComplete(words: string[], cword: number): { reply: string[]; args: string[] } {
    const words_ = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source ${join(dir, 'script.bash')}; COMP_WORDS=(${words_}); COMP_CWORD=${cword}; _sts_doctor; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    return { reply: r.stdout.split('\n').filter(Boolean), args: readFileSync(join(dir, 'args'), 'utf8').split('\n').slice(0, -1) };
  }

  it('bash: passes the words up to the cursor (the empty current word too) and fills COMPREPLY; a directive without 4 falls back to file names', () => {
    const prog = standIn('quiz\nqueue\n:4\n');
    const r = bashComplete([prog, 'diagnose', '-n', 'demo', ''], 4);
    expect(r.args).toEqual(['__complete', 'diagnose', '-n', 'demo', '']);
    expect(r.reply).toEqual(['quiz', 'queue']);
    standIn(':4\n');
    expect(bashComplete([prog, 'diagnose', 'x'], 2).reply).toEqual([]);
    standIn(':0\n');
    writeFileSync(join(dir, 'dump.yaml'), '');
    expect(bashComplete([prog, 'diagnose', '--from', 'dum'], 3).reply).toEqual(['dump.yaml']);
  });

  const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;

  it.skipIf(!has('zsh'))('zsh: passes the words up to the cursor to __complete and adds the candidates; a directive without 4 falls back to _files', () => {
    const prog = standIn('quiz\nqueue\n:4\n');
    writeFileSync(join(dir, 'script.zsh'), completionScript('zsh'));
    // compadd and _files work only inside a completion widget: stand-ins print what they are given.
    const run = (words: string[]) =>
      spawnSync('zsh', ['-f', '-c', `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print FILES; }; source ${join(dir, 'script.zsh')}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _sts_doctor`], { encoding: 'utf8' });
    const r = run([prog, 'diagnose', '-n', 'demo', '']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['quiz', 'queue']);
    expect(readFileSync(join(dir, 'args'), 'utf8').split('\n').slice(0, -1)).toEqual(['__complete', 'diagnose', '-n', 'demo', '']);
    standIn(':0\n');
    expect(run([prog, 'diagnose', '--from', '']).stdout.trim()).toBe('FILES');
  });

  it.skipIf(!has('fish'))('fish: complete -C asks __complete with the current word (empty too) and lists the candidates; a directive without 4 lists paths', () => {
    standIn('quiz\nqueue\n:4\n');
    writeFileSync(join(dir, 'script.fish'), completionScript('fish'));
    const run = (line: string) => spawnSync('fish', ['-N', '-c', `source ${join(dir, 'script.fish')}; complete -C'${line}'`], { encoding: 'utf8', cwd: dir, env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir } });
    const r = run('sts-doctor diagnose -n demo ');
    expect(r.status, r.stderr).toBe(0);
    // fish sorts the candidates itself.
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['queue', 'quiz']);
    expect(readFileSync(join(dir, 'args'), 'utf8').split('\n').slice(0, -1)).toEqual(['__complete', 'diagnose', '-n', 'demo', '']);
    standIn(':0\n');
    writeFileSync(join(dir, 'dump.yaml'), '');
    expect(run('sts-doctor diagnose --from dum').stdout.split('\n').filter(Boolean)).toEqual(['dump.yaml']);
  });

  it('every script completes both sts-doctor and kubectl-sts_doctor through __complete', () => {
    expect(completionScript('bash')).toMatch(/complete -F _sts_doctor sts-doctor kubectl-sts_doctor/);
    expect(completionScript('zsh')).toMatch(/^#compdef sts-doctor kubectl-sts_doctor/);
    expect(completionScript('zsh')).toMatch(/compdef _sts_doctor sts-doctor kubectl-sts_doctor/);
    expect(completionScript('fish')).toMatch(/complete -c sts-doctor -f -a '\(__sts_doctor_complete\)'/);
    expect(completionScript('fish')).toMatch(/complete -c kubectl-sts_doctor /);
    for (const shell of ['bash', 'zsh', 'fish'] as const) expect(completionScript(shell)).toContain('__complete');
    const syntax = spawnSync('bash', ['-n'], { input: completionScript('bash'), encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
  });
});
