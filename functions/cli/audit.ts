/**
 * `quiesce audit --stage <stage> [--since 24h]`: what the plans of a stage did, or in dry run would have done,
 * per trigger and per target group, and what the guards held back. The audit events land on the quiesce bus;
 * the stack archives them (for replays) and a rule writes each to the audit log group (infra/serverless/
 * audit.yml), which this reads with FilterLogEvents: an archive cannot be read directly, only replayed onto a
 * bus, and a replay to read one window would be slow and would need a target of its own. Read-only.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { sdkClientConfig } from '#core/adapters/aws/index.ts';
import { formatAuditSummary, summariseAudit, type AuditEnvelope } from '#core/audit-summary.ts';
import { cliBudget, ExitCode, UsageError, type CliIo, type Flags } from './io.ts';
import { loadStage } from './stage.ts';

/** The flags of `audit`. */
export interface AuditOptions {
  readonly stage: string | undefined;
  readonly settings?: string | undefined;
  /** How far back: `30m`, `24h`, `7d` (default 24h). */
  readonly since?: string | undefined;
}

/** Parses `--since`: a number and a unit (m, h, d), at most 90 days. */
export function parseSince(text: string | undefined): number {
  const m = /^(\d+)\s*([mhd])$/.exec((text ?? '24h').trim());
  if (!m) throw new UsageError(`--since ${text ?? ''}: expected a number and m, h or d (30m, 24h, 7d)`);
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  if (ms <= 0 || ms > 90 * 86_400_000) throw new UsageError(`--since ${text ?? ''}: expected more than 0 and at most 90d`);
  return ms;
}

/** Reads the stage's audit log group over the window and prints the summary. */
export async function audit(io: CliIo, flags: Flags, options: AuditOptions): Promise<ExitCode> {
  if (!options.stage) throw new UsageError('quiesce audit needs --stage <stage> (its settings file: infra/stages/<stage>.yml, or --settings <file>)');
  const stage = loadStage(options.stage, options.settings, flags.region);
  const to = io.now?.() ?? new Date();
  const from = new Date(to.getTime() - parseSince(options.since));
  const logs = new CloudWatchLogsClient(sdkClientConfig({ overrides: { region: stage.region } }));
  const budget = cliBudget(io);
  const events: AuditEnvelope[] = [];
  let unreadable = 0;
  try {
    let token: string | undefined;
    do {
      const page = await budget.call('logs', 'FilterLogEvents', () =>
        logs.send(new FilterLogEventsCommand({ logGroupName: stage.names.auditLogGroup, startTime: from.getTime(), endTime: to.getTime(), ...(token ? { nextToken: token } : {}) })),
      );
      for (const e of page.events ?? []) {
        try {
          events.push(JSON.parse(e.message ?? '') as AuditEnvelope);
        } catch {
          unreadable += 1;
        }
      }
      token = page.nextToken || undefined;
    } while (token);
  } catch (err) {
    io.stderr.write(`quiesce audit: reading ${stage.names.auditLogGroup}: ${(err as Error).name}: ${(err as Error).message}\n`);
    return ExitCode.failed;
  } finally {
    logs.destroy();
  }
  if (unreadable > 0) io.stderr.write(`${unreadable} log event(s) were not JSON events and were left out\n`);
  const summary = summariseAudit(events, { from, to });
  io.stdout.write(flags.json ? `${JSON.stringify({ command: 'audit', stage: stage.name, logGroup: stage.names.auditLogGroup, ...summary })}\n` : formatAuditSummary(summary));
  return ExitCode.ok;
}
