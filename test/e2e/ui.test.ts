// End to end: `sts-doctor` alone in a real terminal (tmux) opens the interactive app on the
// kubeconfig context's namespace, and the list follows the cluster live. Fails no node (the
// recovery through the app, which fails kwok-node-5, is in recovery.test.ts, its owner).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigPath, kubectl, repoRoot, temporaryDir } from '../scenarios/cluster.mjs';
import { deployQuiz } from '../scenarios/quiz.mjs';
import { testNamespaces } from './helpers.js';
import { hasTmux, tmuxSession } from './tmux.js';

const namespaces = testNamespaces();

describe.skipIf(!hasTmux)('sts-doctor alone on a terminal', () => {
  it('opens the app on the context namespace; the list follows quiz from created to 3/3 healthy with no key pressed; / filters; Ctrl+C exits 130', async () => {
    const ns = namespaces.fresh('ui-live');
    // A kubeconfig whose context names the namespace: `sts-doctor` takes no flag at all.
    const kubeconfig = join(temporaryDir('sts-doctor-ui-'), 'kubeconfig');
    copyFileSync(kubeconfigPath(), kubeconfig);
    kubectl(['--kubeconfig', kubeconfig, 'config', 'set-context', '--current', `--namespace=${ns}`]);
    await deployQuiz(ns);
    const term = tmuxSession(`sts-doctor-ui-live-${process.pid}`, 100, 30);
    term.start(`cd ${repoRoot} && env -u CI -u CONTINUOUS_INTEGRATION KUBECONFIG=${kubeconfig} NO_COLOR=1 HOME=/nonexistent node bin/sts-doctor.js; echo EXIT=$?; sleep 600`);
    try {
      const first = await term.until('the app', new RegExp(`sts-doctor · namespace ${ns} · read`));
      expect(first).not.toContain('Usage: sts-doctor');
      // quiz was just created: first seen with fewer than 3 ready, then healthy, by the app's own re-reads.
      await term.until('quiz not ready yet', /quiz\s+[0-2]\/3\s/);
      const healthy = await term.until('quiz healthy, read again by the app', /❯ \S+\s+quiz\s+3\/3\s+healthy/, 240_000);
      expect(healthy).toContain('1 StatefulSets, 1 healthy');
      term.keys('/');
      term.type('nothing-matches');
      await term.until('the filter', /No StatefulSet matches "nothing-matches"/);
      term.keys('Escape');
      await term.until('the list again', /❯ \S+\s+quiz\s+3\/3\s+healthy/);
      term.keys('C-c');
      const done = await term.until('the exit', /EXIT=\d+/);
      expect(done).toContain('EXIT=130');
    } finally {
      term.kill();
    }
  }, 400_000);
});
