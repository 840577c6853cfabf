/**
 * `quiesce --help` lists every flag docs/cli.md lists, and both list exactly the flags the CLI parses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS, USAGE } from '../../../functions/cli/main.ts';

const docs = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
const options = docs.slice(docs.indexOf('## Options'), docs.indexOf('\n## ', docs.indexOf('## Options') + 1));

/** The flags in the first cell of each row of the Options table (`--x`, `-x`). */
const documented = [...options.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/`(--?[a-z-]+)/g)].map((f) => f[1] as string)).filter((f) => f !== '--');

describe('quiesce --help', () => {
  it('lists every flag of docs/cli.md, long and short, and the docs list every flag the CLI takes', () => {
    const parsed = Object.entries(OPTIONS).flatMap(([name, o]) => [`--${name}`, ...('short' in o ? [`-${o.short}`] : [])]);
    expect(documented.sort()).toEqual([...parsed].sort());
    for (const flag of parsed) expect(USAGE, flag).toMatch(new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm'));
  });
});
