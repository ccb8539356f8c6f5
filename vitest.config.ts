import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // after the run, one summary of what was skipped and what to install (test/skipped-summary.ts)
    reporters: ['default', './test/skipped-summary.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration tests start sshd/QEMU and run whole cucumber suites: keep the two cores calm
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
  },
});
