import { describe, expect, it } from 'vitest';
import { caseCount, fuzzCases, propertyRuns } from '../../integration/case-counts.ts';

describe('randomized suites: case counts', () => {
  it('runs the defaults unless the deep run (or a person) sets a count', () => {
    expect(propertyRuns({})).toBe(100);
    expect(fuzzCases({})).toBe(2_000);
    expect(propertyRuns({ QUIESCE_PROPERTY_RUNS: '500' })).toBe(500);
    expect(fuzzCases({ QUIESCE_FUZZ_CASES: '10000', QUIESCE_PROPERTY_RUNS: '7' })).toBe(10_000);
    expect(caseCount('X', 3, { X: '' })).toBe(3);
  });

  it('refuses a count that is not a positive whole number, naming the variable', () => {
    for (const bad of ['0', '-5', '2.5', 'lots', '1e']) expect(() => caseCount('QUIESCE_FUZZ_CASES', 1, { QUIESCE_FUZZ_CASES: bad })).toThrow(/QUIESCE_FUZZ_CASES must be a positive whole number/);
  });
});
