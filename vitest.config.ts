import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { slowFirst } from './test/slow-first.ts';

/** vitest's order (failed first, then by cached duration, else by size) with the known-slow files first. */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return slowFirst(await super.sort(files), (f) => relative(this.ctx.config.root, f.moduleId).split('\\').join('/'));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Logs and EMF metrics stay quiet in tests; tests that assert on logs spy on the logger.
    env: { LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: keep the loopback fakes from competing for them.
    pool: 'forks',
    maxWorkers: 2,
    // Test files share a worker's module cache instead of each loading the SDK, the fakes and the code
    // again: measured 33 s -> 24 s for the suite. It holds because no test changes module state for the
    // files after it: the shared fake AWS is reset before every test and comes back on the same port in
    // the next file (fakes/aws/server.ts), loopback servers are closed by the file that starts them, spies are on
    // objects a test made, and tests that set process.env put it back. A new test must keep to that.
    isolate: false,
    // The files that take longest start first (test/slow-first.ts): no long file left for the end.
    sequence: { sequencer: SlowFirstSequencer },
  },
});
