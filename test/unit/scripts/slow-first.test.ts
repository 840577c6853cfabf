import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOW_FIRST, slowFirst } from '../../slow-first.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('slow test files first', () => {
  it('names test files that exist, each once', () => {
    for (const f of SLOW_FIRST) expect(existsSync(`${root}${f}`), f).toBe(true);
    expect(new Set(SLOW_FIRST).size).toBe(SLOW_FIRST.length);
  });

  it('moves the known-slow files to the front in their order and keeps the order of the others', () => {
    const [first, second] = SLOW_FIRST as [string, string];
    const files = ['test/unit/a.test.ts', second, 'test/unit/b.test.ts', first, 'test/unit/c.test.ts'];
    expect(slowFirst(files, (f) => f)).toEqual([first, second, 'test/unit/a.test.ts', 'test/unit/b.test.ts', 'test/unit/c.test.ts']);
  });
});
