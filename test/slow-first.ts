/**
 * The test files that take longest from start to end (hooks included: a shared package, osls, terraform,
 * moto, cfn-lint, real-time waits), started first: vitest hands files to its two workers in the order its
 * sequencer gives, so a long file that starts last is the run's tail while the other core idles. vitest's
 * own order does not know them: a clean checkout (CI) has no timings cached, and then it runs the largest
 * files first, which puts these small files (the property's two halves are 4 lines each) near the end.
 *
 * The order is measured, not guessed: per-file wall time under load from a probe run (docs/testing.md,
 * "Where the time goes"). stages.test.ts goes first because it makes the run's shared package
 * (test/package/packaged.ts) that four later files wait for; terraform and moto start beside it because
 * they wait on processes of their own. A file added here must exist (test/unit/scripts/slow-first.test.ts).
 */
export const SLOW_FIRST: readonly string[] = [
  'test/package/stages.test.ts',
  'test/deliverables/terraform.test.ts',
  'test/contract/moto.test.ts',
  'test/deliverables/cfn-lint.test.ts',
  'test/integration/zero-writes.test.ts',
  'test/integration/safety.test.ts',
  'test/integration/cli.test.ts',
  'test/integration/concurrent-writers-1.property.test.ts',
  'test/integration/concurrent-writers-2.property.test.ts',
  'test/integration/fuzz.test.ts',
  'test/package/release.test.ts',
  'test/integration/spot-interruption.test.ts',
  'test/contract/fake.test.ts',
  'test/unit/scripts/lint-boundaries.test.ts',
];

/**
 * `files` (in the order vitest's own sequencer gave) with those of {@link SLOW_FIRST} moved to the front in
 * its order; the others keep theirs. `pathOf` gives a file's path relative to the repository.
 */
export function slowFirst<T>(files: readonly T[], pathOf: (file: T) => string): T[] {
  const rank = (f: T): number => {
    const i = SLOW_FIRST.indexOf(pathOf(f));
    return i === -1 ? SLOW_FIRST.length : i;
  };
  return files.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}
