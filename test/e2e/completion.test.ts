// Shell completion against the real control plane: bash sources `sts-doctor completion bash`
// and calls its function with COMP_WORDS/COMP_CWORD, as bash does on TAB, and reads COMPREPLY;
// kubectl (the test cluster's build, ≥ 1.26) completes `kubectl sts-doctor ...` through
// kubectl_complete-sts_doctor. Names come from the cluster.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apply, clusterEnv, kubeconfigPath, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { createNamespace, quizObjects } from '../scenarios/quiz.mjs';
import { testNamespaces } from './helpers.js';

const namespaces = testNamespaces();
let ns = '';
let path = '';

beforeAll(async () => {
  ns = namespaces.fresh('completion');
  await createNamespace(ns);
  // The StatefulSet only needs to exist: its pods are not waited for.
  apply(quizObjects(ns, { replicas: 1, storageClassName: null }));
  // A PATH as an installation makes it: sts-doctor, kubectl-sts_doctor and kubectl_complete-sts_doctor in one directory.
  const bin = join(temporaryDir('sts-doctor-completion-'), 'bin');
  mkdirSync(bin);
  symlinkSync(join(repoRoot, 'bin', 'sts-doctor.js'), join(bin, 'sts-doctor'));
  symlinkSync(join(repoRoot, 'bin', 'sts-doctor.js'), join(bin, 'kubectl-sts_doctor'));
  symlinkSync(join(repoRoot, 'bin', 'kubectl_complete-sts_doctor'), join(bin, 'kubectl_complete-sts_doctor'));
  path = `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`;
});

/** COMPREPLY after bash's completion of `words` with the cursor on the last word. */
function bashComplete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const script = `source <(sts-doctor completion bash) && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && _sts_doctor && printf '%s\\n' "\${COMPREPLY[@]}"`;
  // A generous budget: the e2e files run in parallel on a loaded machine.
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: path, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), STS_DOCTOR_COMPLETION_TIMEOUT: '20s' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('shell completion on the real cluster', () => {
  it('bash: a namespace, then a StatefulSet name of that namespace, then recover --action ids', () => {
    expect(bashComplete('sts-doctor', 'diag')).toEqual(['diagnose']);
    expect(bashComplete('sts-doctor', 'diagnose', '-n', ns.slice(0, -2))).toEqual([ns]);
    expect(bashComplete('sts-doctor', 'diagnose', '-n', ns, '')).toEqual(['quiz']);
    // `--namespace=<TAB>`: bash splits the word at = (COMP_WORDBREAKS).
    expect(bashComplete('sts-doctor', 'diagnose', '--namespace', '=', ns.slice(0, -2))).toEqual([ns]);
    expect(bashComplete('sts-doctor', 'recover', '--namespace', ns, 'q')).toEqual(['quiz']);
    expect(bashComplete('sts-doctor', 'recover', 'quiz', '-n', ns, '--action', 'delete-')).toEqual(['delete-pod', 'delete-pvc-and-pod']);
    // Without a cluster: no names, nothing on stderr, quickly.
    const t0 = Date.now();
    const r = spawnSync('bash', ['-c', `source <(sts-doctor completion bash) && COMP_WORDS=(sts-doctor diagnose '') && COMP_CWORD=2 && _sts_doctor && echo "n=\${#COMPREPLY[@]}"`], {
      encoding: 'utf8',
      env: { PATH: path, HOME: '/nonexistent', KUBECONFIG: '/nonexistent/kubeconfig' },
    });
    expect(r.stdout.trim()).toBe('n=0');
    expect(r.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('kubectl plugin completion: kubectl __complete sts-doctor ... runs kubectl_complete-sts_doctor', () => {
    const kubectl = clusterEnv().STS_DOCTOR_KUBECTL!;
    const run = (...words: string[]) => spawnSync(kubectl, ['__complete', 'sts-doctor', ...words], { encoding: 'utf8', env: { PATH: path, HOME: '/nonexistent', KUBECONFIG: kubeconfigPath(), STS_DOCTOR_COMPLETION_TIMEOUT: '20s' } });
    const sts = run('diagnose', '-n', ns, '');
    expect(sts.status, sts.stderr).toBe(0);
    expect(sts.stdout.split('\n')).toEqual(['quiz', ':4', '']);
    const nss = run('wait', '-n', ns.slice(0, -2));
    expect(nss.stdout.split('\n')).toEqual([ns, ':4', '']);
    const cmds = run('');
    expect(cmds.stdout.split('\n').slice(0, -2)).toEqual(['completion', 'diagnose', 'recover', 'rollout', 'serve', 'snapshot', 'ui', 'wait']);
  });
});
