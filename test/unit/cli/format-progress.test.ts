/**
 * The CLI's presentation pieces: aligned tables and the progress counter (which must wrap a port without
 * changing what it returns or whom it is called on).
 */
import { describe, expect, it } from 'vitest';
import { table } from '../../../functions/cli/format.ts';
import { Progress } from '../../../functions/cli/progress.ts';
import { ExitCode, main, type CliIo } from '../../../functions/cli/main.ts';

describe('table', () => {
  it('aligns columns under their headers and says (none) when empty', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('  A    LONGER\n  ---  ------\n  xyz  1\n  q    22\n');
    expect(table(['A'], [])).toBe('  (none)\n');
  });
});

describe('Progress', () => {
  it('counts calls through a wrapped port, keeps `this` and results, and summarises on done()', async () => {
    let out = '';
    const p = new Progress({ write: (t) => (out += t), isTTY: false }, 0);
    class Port {
      readonly #secret = 41;
      async get(n: number): Promise<number> {
        return this.#secret + n;
      }
    }
    const port = p.wrap('elbv2', new Port());
    expect(await port.get(1)).toBe(42);
    expect(await port.get(2)).toBe(43);
    p.done();
    expect(p.total).toBe(2);
    expect(out).toMatch(/observing: 1 calls \(last: elbv2\.get\)\n/);
    expect(out.endsWith('observed with 2 calls: elbv2.get=2\n')).toBe(true);
  });

  it('prints nothing when nothing was called', () => {
    let out = '';
    new Progress({ write: (t) => (out += t), isTTY: true }).done();
    expect(out).toBe('');
  });
});

describe('main: usage', () => {
  const io = (): { io: CliIo; out: () => string; err: () => string } => {
    let out = '';
    let err = '';
    return {
      io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {}, interactive: false, confirm: async () => false },
      out: () => out,
      err: () => err,
    };
  };

  it('--help prints the usage with the exit codes on stdout (exit 0)', async () => {
    const t = io();
    expect(await main(['--help'], t.io)).toBe(ExitCode.ok);
    expect(t.out()).toMatch(/Exit codes: 0 ok, 1 failures, 2 usage\/bad input, 3 refused\/nothing applied, 4 not available/);
  });

  it('no command is a usage error (exit 2) on stderr', async () => {
    const t = io();
    expect(await main([], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toMatch(/missing command/);
    expect(t.out()).toBe('');
  });

  it('sweep takes no positional argument', async () => {
    const t = io();
    expect(await main(['sweep', 'extra'], t.io, { loadSweeper: async () => undefined })).toBe(ExitCode.usage);
  });
});
