/**
 * Runs the `quiesce` CLI in-process against the fake AWS, as a terminal-less user would (no question can be
 * answered): its exit code, stdout and stderr. Time is the fake clock's; the CLI's waits advance it,
 * and its API budget skips its waits (budget-clock.ts).
 */
import { main, type CliIo, type ExitCode } from '../../functions/cli/main.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { skippingBudgetClock } from './budget-clock.ts';

/** One CLI run with `env` as its environment. */
export async function runCli(argv: string[], env: Record<string, string>): Promise<{ code: ExitCode; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
    interactive: false,
    confirm: async () => false,
    now: () => new Date(fakeAws.clock.now()),
    sleep: async (ms) => fakeAws.clock.advance(ms),
    budgetClock: skippingBudgetClock(),
  };
  const code = await main(argv, io);
  return { code, out, err };
}
