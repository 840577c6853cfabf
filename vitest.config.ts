import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Logs and EMF metrics stay quiet in tests; tests that assert on logs spy on the logger.
    env: { LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: keep the loopback fakes from competing for them.
    pool: 'forks',
    maxWorkers: 2,
  },
});
