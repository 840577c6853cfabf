/**
 * How many random cases the two randomized integration suites run: the concurrent-writers property and the
 * handler fuzz. Each case goes through the real handlers and SDK clients (tens of milliseconds for a
 * property case), so the count is most of their cost. `npm test` runs the default counts, which catch what
 * these suites have been shown to catch (docs/testing.md, "Where the time goes"); `npm run test:deep` and every
 * run of `npm run test:repeat` set the full counts (500 property cases, 10,000 fuzz cases per handler)
 * through the variables below (scripts/check.mjs --deep).
 */

/** A positive whole number from the environment variable `name`, or `fallback` when it is unset or empty. */
export function caseCount(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number of cases, got "${raw}"`);
  return n;
}

/** Property cases in all (the two test files run half each): QUIESCE_PROPERTY_RUNS, default 100. */
export const propertyRuns = (env: NodeJS.ProcessEnv = process.env): number => caseCount('QUIESCE_PROPERTY_RUNS', 100, env);

/** Fuzz cases per handler: QUIESCE_FUZZ_CASES, default 2,000. */
export const fuzzCases = (env: NodeJS.ProcessEnv = process.env): number => caseCount('QUIESCE_FUZZ_CASES', 2_000, env);
