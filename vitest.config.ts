import { defineConfig } from 'vitest/config';

// The e2e files run in parallel against one control plane: each runs its scenarios in its own
// namespaces, and each failable node is failed by one area only (test/cluster/README.md,
// "Sharing the nodes between tests"). They mostly wait on the cluster, so more workers than
// cores pays off.
const E2E_WORKERS = Number(process.env.STS_DOCTOR_E2E_WORKERS ?? 8);

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain `N passed, N failed` closing line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    maxWorkers: E2E_WORKERS,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          maxWorkers: 2,
          // Unit tests first, then the end-to-end tests (projects with different worker counts
          // need their own group).
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: true,
          maxWorkers: E2E_WORKERS,
          sequence: { groupOrder: 1 },
          testTimeout: 240_000,
          hookTimeout: 300_000,
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
