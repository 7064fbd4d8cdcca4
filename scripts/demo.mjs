// `npm run demo [-- <fault>]`: the main job for someone with no cluster of their own. Starts the
// local control plane of test/cluster (building it on first use), deploys the quiz StatefulSet
// with a fault in a fresh namespace, and runs `sts-doctor diagnose quiz` on it. Exits 0 when
// sts-doctor ran and answered (whatever it found), 2 when it failed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterUp, kubeconfigPath, repoRoot } from '../test/scenarios/cluster.mjs';
import { deleteNamespace, scenarios } from '../test/scenarios/quiz.mjs';

const fault = process.argv[2] ?? 'image-pull';
if (!scenarios[fault]) {
  process.stderr.write(`demo: unknown fault "${fault}"; choose one of: ${Object.keys(scenarios).join(', ')}\n`);
  process.exitCode = 2;
} else {
  const ns = `demo-${fault}`;
  process.stderr.write(`demo: starting the local control plane (test/cluster/up)...\n`);
  clusterUp();
  deleteNamespace(ns);
  const { kubectl, waitFor } = await import('../test/scenarios/cluster.mjs');
  await waitFor(`namespace ${ns} to be gone`, () => !kubectl(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name']).trim(), 180_000);
  process.stderr.write(`demo: deploying quiz with fault "${fault}" in namespace ${ns}...\n`);
  await scenarios[fault].setup(ns);
  process.stderr.write(`demo: $ sts-doctor diagnose quiz -n ${ns}\n\n`);
  const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'sts-doctor.js'), 'diagnose', 'quiz', '-n', ns], {
    stdio: 'inherit',
    env: { ...process.env, KUBECONFIG: kubeconfigPath() },
  });
  process.stderr.write(
    `\ndemo: sts-doctor exited with ${res.status} (0 healthy, 1 findings). The cluster keeps running:\n` +
      `  export KUBECONFIG=${kubeconfigPath()}\n  npm run cluster:down   # to stop it\n`,
  );
  if (fault === 'node-lost') process.stderr.write(`demo: a node is still failed; test/cluster/node-recover <node> brings it back.\n`);
  process.exitCode = res.status === 0 || res.status === 1 ? 0 : 2;
}
