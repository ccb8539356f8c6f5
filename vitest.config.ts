import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration tests start sshd/QEMU and run whole cucumber suites: keep the two cores calm
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
  },
});
