/**
 * `quiesce sweep` (and `plan|apply` of a scheduled sweep): one sweeper run, dry first; applied only as
 * confirmed. The sweeper's modules are loaded at run time, so the CLI works in a build without them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AwsClients, BudgetClock } from '#core/adapters/aws/index.ts';
import type { Env, QuiesceConfig } from '#core/config.ts';
import type { Plan } from '#core/domain/plan.ts';
import type { ApplyResult, Executor } from '#core/executor/executor.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { writeModeFor } from '#core/wiring.ts';
import type { Logger } from '#core/telemetry.ts';
import { applyOnlyConfirmed, isNotConfirmed } from './confirmed.ts';
import { formatPlan, formatResult } from './format.ts';
import { askOrRefuse, cliLogger, clientsFor, ExitCode, resultExit, type CliIo, type Flags } from './io.ts';
import { Progress } from './progress.ts';

/** The parts of functions/sweeper the CLI uses (loaded at run time: the CLI works without it). */
export interface SweeperModules {
  loadSweeperConfig(env: Env): QuiesceConfig & { readonly region: string };
  buildSweepDeps(wiring: { config: QuiesceConfig; clients: AwsClients; logger: Logger; env: Env; writes?: WriteMode; publishAudit?: boolean; now?: () => Date; sleep?: (ms: number) => Promise<void>; budgetClock?: BudgetClock }): Record<string, unknown> & { destroy(): void };
  runSweep(deps: Record<string, unknown>): Promise<{
    status: string;
    plan: Plan;
    result: ApplyResult;
    stale: number;
    reported: number;
    cloudMap: string;
    clusterError: { name: string; message: string } | undefined;
    apiCalls: number | undefined;
    durationMs: number;
  }>;
}

/** Loads the sweeper's workflow if this build has it; undefined otherwise. */
export async function loadSweeper(): Promise<SweeperModules | undefined> {
  const file = (name: string): URL => new URL(`../sweeper/${name}`, import.meta.url);
  const parts = ['config.ts', 'deps.ts', 'run-sweep.ts'].map(file);
  if (!parts.every((u) => existsSync(fileURLToPath(u)))) return undefined;
  const [config, deps, run] = (await Promise.all(parts.map((u) => import(u.href)))) as [Partial<SweeperModules>, Partial<SweeperModules>, Partial<SweeperModules>];
  if (!config.loadSweeperConfig || !deps.buildSweepDeps || !run.runSweep) return undefined;
  return { loadSweeperConfig: config.loadSweeperConfig, buildSweepDeps: deps.buildSweepDeps, runSweep: run.runSweep };
}

/**
 * One sweeper run: the dry run shown (the sweep on the recording write port, its audit only logged), then
 * (unless --dry-run) asked and applied as confirmed on the live port.
 */
export async function sweep(io: CliIo, flags: Flags, env: Env, loader: () => Promise<SweeperModules | undefined>): Promise<ExitCode> {
  const mods = await loader();
  if (!mods) {
    io.stderr.write('quiesce sweep: not available in this build (functions/sweeper has no runSweep workflow)\n');
    return ExitCode.unavailable;
  }
  const config = mods.loadSweeperConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  const run = async (writes: WriteMode, confirmed?: Plan) => {
    const base = mods.buildSweepDeps({ config, clients, logger, env, writes, ...(writes === 'recording' ? { publishAudit: false } : {}), ...(io.now ? { now: io.now } : {}), ...(io.sleep ? { sleep: io.sleep } : {}), ...(io.budgetClock ? { budgetClock: io.budgetClock } : {}) });
    const progress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
    const deps = { ...base };
    for (const port of ['ec2', 'elbv2', 'cloudMap'] as const) if (typeof base[port] === 'object' && base[port] !== null) deps[port] = progress.wrap(port, base[port] as object);
    // The real run applies only what the dry run showed and the operator confirmed.
    const executor = base['executor'] as Executor | undefined;
    if (confirmed && executor) deps['executor'] = applyOnlyConfirmed(executor, confirmed);
    const out = await mods.runSweep(deps);
    progress.done();
    return out;
  };
  try {
    const dry = await run('recording');
    const summary = (o: typeof dry) =>
      `Sweep ${o.status}: ${o.stale} stale, ${o.reported} reported (healthy, not removed), Cloud Map ${o.cloudMap}, ${o.apiCalls ?? '?'} API calls, ${Math.round(o.durationMs)} ms\n` +
      (o.clusterError ? `! no usable pod list: cluster API unreadable or its answer not believed (${o.clusterError.name}: ${o.clusterError.message}): only the VPC truth was used\n` : '');
    const failedExit = (o: typeof dry): ExitCode => (o.status === 'degraded' ? ExitCode.failed : resultExit(o.result, 0));
    const configured = writeModeFor(config);
    if (flags.planOnly || configured === 'recording' || dry.plan.actions.length === 0) {
      const code = failedExit(dry);
      if (flags.json) io.stdout.write(JSON.stringify({ command: 'sweep', cluster: config.clusterName, applied: false, ...dry, exitCode: code }, null, 2) + '\n');
      else io.stdout.write(formatPlan(dry.plan) + '\n' + summary(dry));
      if (!flags.planOnly && configured === 'recording') io.stderr.write('DRY_RUN=true in the environment: nothing applied\n');
      return code;
    }
    if (!flags.json) io.stdout.write(formatPlan(dry.plan) + '\n' + summary(dry));
    const refused = await askOrRefuse(io, flags, `Apply ${dry.plan.actions.length} sweep action(s) in cluster ${config.clusterName}? [y/N] `);
    if (refused !== undefined) return refused;
    const applied = await run('live', dry.plan);
    const notConfirmed = applied.result.outcomes.filter(isNotConfirmed).map((o) => o.key);
    if (notConfirmed.length > 0) io.stderr.write(`NOT APPLIED: ${notConfirmed.length} sweep action(s) appeared after the plan was confirmed: ${notConfirmed.join(', ')}\n`);
    const code = failedExit(applied);
    if (flags.json) io.stdout.write(JSON.stringify({ command: 'sweep', cluster: config.clusterName, applied: true, ...applied, exitCode: code }, null, 2) + '\n');
    else io.stdout.write('\n' + formatResult(applied.result) + summary(applied));
    return code;
  } finally {
    if (!io.clients) clients.destroy();
  }
}
