/**
 * What every CLI command shares: where it reads and writes (CliIo), its exit codes, its flags, usage errors,
 * the logger and SDK clients of one run, the event file as events, and the confirmation question. One place,
 * so a command file holds only what the command does.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { ApiBudget, createAwsClients, type AwsClients, type BudgetClock } from '#core/adapters/aws/index.ts';
import type { Env } from '#core/config.ts';
import { InvalidEventError } from '#core/errors.ts';
import type { ApplyResult } from '#core/executor/executor.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { isNotConfirmed } from './confirmed.ts';

/**
 * Exit codes, stable for scripts (docs/cli.md):
 * 0 done; 1 something failed (an action, an AWS call, the cluster API); 2 usage or bad input (flags, file,
 * JSON, event, configuration); 3 refused, nothing applied (declined, no --yes without a TTY, out-of-scope
 * instance, a guard or DRY_RUN); 4 not available in this build.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, refused: 3, unavailable: 4 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Where the CLI reads and writes; `processIo()` for the real terminal, tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Environment the configuration is read from (the SDK reads process.env itself). */
  readonly env: Env;
  /** Whether a human can answer a question (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Asks a yes/no question; only called when `interactive`. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Reads stdin, for `-` as the event file. */
  readonly readStdin?: () => Promise<string>;
  /** SDK clients (default: `createAwsClients()` on the standard configuration, region from --region). */
  readonly clients?: AwsClients;
  readonly now?: () => Date;
  /** Waits of the executor (leases, Cloud Map operations); default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock of the run's API budget (default real time); see `BudgetClock` in functions/_core/adapters/aws/budget.ts. */
  readonly budgetClock?: BudgetClock;
}

/** The real terminal. */
export function processIo(): CliIo {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive,
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^(y|yes)$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** The flags every command reads (parsed by main.ts). */
export interface Flags {
  readonly json: boolean;
  readonly yes: boolean;
  /** --dry-run: plan (through the recording write port) and stop; never applied. */
  readonly planOnly: boolean;
  readonly verbose: boolean;
  readonly region: string | undefined;
}

/** A wrong command line or event file: answered with the usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A logger whose every line goes to stderr (Powertools writes info to stdout, which belongs to --json). */
export function cliLogger(io: CliIo, verbose: boolean): Logger {
  return createLogger('quiesce-cli', { logLevel: verbose ? 'INFO' : 'ERROR', write: (line) => void io.stderr.write(`${line}\n`) });
}

/** Reads the event file (or stdin) into its events; bad input is an InvalidEventError or a UsageError. */
export async function readInputs(path: string | undefined, io: CliIo): Promise<unknown[]> {
  if (!path) throw new UsageError('missing <event.json> (use - for stdin)');
  let text: string;
  if (path === '-') {
    if (!io.readStdin) throw new UsageError('stdin is not available');
    text = await io.readStdin();
  } else {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`${path} is not JSON: ${(err as Error).message}`, '$');
  }
  // An SQS event (Records[].body) or an `aws sqs receive-message` answer (Messages[].Body): the bodies.
  const records = (raw as { Records?: unknown })?.Records;
  const messages = (raw as { Messages?: unknown })?.Messages;
  const inputs: unknown[] = Array.isArray(raw)
    ? raw
    : Array.isArray(records)
      ? records.map((r) => (r as { body?: unknown }).body)
      : Array.isArray(messages)
        ? messages.map((m) => (m as { Body?: unknown }).Body)
        : [raw];
  if (inputs.length === 0) throw new InvalidEventError(`${path} holds no event`, '$');
  // A message body is JSON text: read as the event it carries (one that is not JSON stays text, and is rejected).
  return inputs.map((input) => {
    if (typeof input !== 'string') return input;
    try {
      return JSON.parse(input) as unknown;
    } catch {
      return input;
    }
  });
}

/** The run's own API budget (doctor, audit, the traffic plan): the documented limits, on the io's budget clock. */
export function cliBudget(io: CliIo): ApiBudget {
  return new ApiBudget(io.budgetClock ? { clock: io.budgetClock } : {});
}

/** The run's SDK clients: the caller's (tests), else the standard configuration with --region on top. */
export function clientsFor(io: CliIo, flags: Flags): AwsClients {
  return io.clients ?? createAwsClients(flags.region ? { overrides: { region: flags.region } } : {});
}

/** Exit code of an apply: an action nobody confirmed that was held back is reported, not a refusal of the run. */
export function resultExit(result: ApplyResult | undefined, retry: number): ExitCode {
  if (!result) return ExitCode.ok;
  if (result.counts.failed > 0 || retry > 0) return ExitCode.failed;
  if (result.outcomes.some((o) => o.status === 'refused' && !isNotConfirmed(o))) return ExitCode.refused;
  return ExitCode.ok;
}

/** Asks before a write; undefined = go on, else the exit code (no --yes without a terminal, or declined). */
export async function askOrRefuse(io: CliIo, flags: Flags, question: string): Promise<ExitCode | undefined> {
  if (flags.yes) return undefined;
  if (!io.interactive) {
    io.stderr.write('refusing to write without a terminal to confirm on: pass --yes\n');
    return ExitCode.usage;
  }
  if (!(await io.confirm(question))) {
    io.stderr.write('not confirmed: nothing applied\n');
    return ExitCode.refused;
  }
  return undefined;
}
