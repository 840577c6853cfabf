import { describe, expect, it } from 'vitest';
import { summarize, table } from '../../../scripts/test-repeat.ts';

describe('test-repeat summary', () => {
  it('reads vitest counts and failed tests, and names the step that failed before vitest', () => {
    const out = ' ❯ test/a.test.ts (2 tests | 1 failed)\n   × adds 12ms\n      Tests  1 failed | 1 passed (2)\n';
    expect(summarize(out, 1)).toEqual({ summary: '1 failed | 1 passed (2)', failed: ['adds'] });
    expect(summarize("src/x.ts(1,1): error TS2322: Type 'a' is not assignable", 1).summary).toBe('type check failed');
    expect(summarize('\u001b[32m      Tests  3 passed (3)\u001b[39m', 0)).toEqual({ summary: '3 passed (3)', failed: [] });
  });

  it('prints one row per run', () => {
    const t = table([{ run: 1, ok: true, exitCode: 0, wallMs: 41_234, summary: '3 passed (3)', failed: [], log: '/tmp/x' }]);
    expect(t.split('\n')).toEqual(['| run | result | wall | tests |', '|---|---|---|---|', '| 1 | pass | 41.2 s | 3 passed (3) |']);
  });
});
