/**
 * `quiesce plan|apply` of node signals: the spot trigger's own workflow, planned read-only, and applied only
 * as confirmed (a plan that changed while the operator answered is shown and asked about again).
 */
import type { QuiesceConfig } from '#core/config.ts';
import { loadConfig, type Env } from '#core/config.ts';
import { writeModeFor } from '#core/wiring.ts';
import type { AwsClients } from '#core/adapters/aws/index.ts';
import type { Plan } from '#core/domain/plan.ts';
import { actionKey } from '#core/domain/plan.ts';
import type { Logger } from '#core/telemetry.ts';
import { buildNodeWorkflowDeps } from '../spot-interruption/wiring.ts';
import { deregisterNodes, type NodeWorkflowDeps, type NodeWorkflowResult, type WorkItem } from '../spot-interruption/workflow.ts';
import { applyOnlyConfirmed, isNotConfirmed, planDifference, samePlan } from './confirmed.ts';
import { formatPlan, formatPlanDifference, formatResult } from './format.ts';
import { askOrRefuse, cliLogger, clientsFor, ExitCode, resultExit, type CliIo, type Flags } from './io.ts';
import { Progress } from './progress.ts';

/**
 * How often `apply` asks before giving up on an account that keeps changing: each "yes" is followed by a
 * fresh look, and a changed plan is shown and asked about again, never applied unseen.
 */
export const MAX_CONFIRMATIONS = 3;

/**
 * Node-signal deps for one mode: `plan` is the trigger's own workflow on the recording write port with an
 * audit sink that only logs, so it writes and publishes nothing (its re-checks, lifecycle completions and
 * scheduled changes are recorded, not sent). `apply` is the live port and writes what the function writes,
 * except the function's own queue messages (re-checks, due messages within 15 minutes, second looks): the
 * function takes those only from its own role (SenderId, contracts/internal-messages.ts) and the queue
 * refuses the operator, so the CLI does not send them.
 */
function nodeDeps(config: QuiesceConfig, mode: 'plan' | 'apply', io: CliIo, env: Env, clients: AwsClients, logger: Logger, progress: Progress): NodeWorkflowDeps {
  const base = buildNodeWorkflowDeps('quiesce-cli', {
    config: mode === 'apply' ? { ...config, recheckQueueUrl: undefined } : config,
    clients,
    logger,
    env,
    ...(mode === 'plan' ? { writes: 'recording' as const, publishAudit: false } : {}),
    ...(io.now ? { now: io.now } : {}),
    ...(io.sleep ? { sleep: io.sleep } : {}),
    ...(io.budgetClock ? { budgetClock: io.budgetClock } : {}),
  });
  return { ...base, ec2: progress.wrap('ec2', base.ec2), elbv2: progress.wrap('elbv2', base.elbv2), cloudMap: progress.wrap('cloudmap', base.cloudMap) };
}

/** JSON shape of a node-signal outcome. */
function outcomeJson(o: NodeWorkflowResult): Record<string, unknown> {
  return { plan: o.plan ?? null, result: o.result ?? null, ignored: o.ignored, rejected: o.rejected, retry: o.retry, rechecksScheduled: o.rechecksScheduled, lifecycleCompleted: o.lifecycleCompleted };
}

function humanOutcome(o: NodeWorkflowResult): string {
  let out = '';
  for (const r of o.rejected) out += `REJECTED ${r.instanceId}: ${r.reason} (not a node of this cluster: nothing is planned for it)\n`;
  for (const i of o.ignored) out += `ignored ${i.itemId}: ${i.reason}\n`;
  if (o.plan) out += (out ? '\n' : '') + formatPlan(o.plan);
  else if (o.rejected.length === 0) out += 'Nothing to do.\n';
  return out;
}

/** Plans the work items, and for `apply` asks and applies exactly the confirmed plan. */
export async function planOrApplyNodeSignals(command: 'plan' | 'apply', items: WorkItem[], io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const config = loadConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  try {
    const progress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
    const planned = await deregisterNodes(items, nodeDeps(config, 'plan', io, env, clients, logger, progress));
    progress.done();
    const planExit: ExitCode = planned.rejected.length > 0 && !planned.plan ? ExitCode.refused : ExitCode.ok;
    if (command === 'plan' || !planned.plan || planned.plan.actions.length === 0) {
      if (command === 'apply' && planned.plan) io.stderr.write('nothing to apply\n');
      if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: false, ...outcomeJson(planned), exitCode: planExit }, null, 2) + '\n');
      else io.stdout.write(humanOutcome(planned));
      return planExit;
    }
    // apply
    if (!flags.json) io.stdout.write(humanOutcome(planned));
    if (flags.planOnly || writeModeFor(config) === 'recording') {
      io.stderr.write(`${flags.planOnly ? '--dry-run' : 'DRY_RUN=true in the environment'}: nothing applied\n`);
      if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: false, ...outcomeJson(planned), exitCode: ExitCode.refused }, null, 2) + '\n');
      return ExitCode.refused;
    }
    // The plan to apply is the one the operator saw. Asked on a terminal, look again after the "yes": if the
    // account moved, show what changed and ask again (at most MAX_CONFIRMATIONS times). With --yes, the plan
    // computed and printed above is the one confirmed.
    let confirmed: Plan = planned.plan;
    let latest: NodeWorkflowResult = planned;
    for (let round = 1; ; round++) {
      const refused = await askOrRefuse(io, flags, `Apply ${confirmed.actions.length} action(s) in cluster ${config.clusterName}? [y/N] `);
      if (refused !== undefined) {
        if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: false, ...outcomeJson(latest), exitCode: refused }, null, 2) + '\n');
        return refused;
      }
      if (flags.yes) break;
      const lookProgress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
      latest = await deregisterNodes(items, nodeDeps(config, 'plan', io, env, clients, logger, lookProgress));
      lookProgress.done();
      const difference = planDifference(confirmed, latest.plan);
      if (samePlan(difference)) break;
      (flags.json ? io.stderr : io.stdout).write(`\nThe plan changed since it was shown:\n${formatPlanDifference(difference)}`);
      if (!latest.plan || latest.plan.actions.length === 0) {
        io.stderr.write('nothing left to apply\n');
        if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: false, ...outcomeJson(latest), exitCode: ExitCode.ok }, null, 2) + '\n');
        return ExitCode.ok;
      }
      if (round >= MAX_CONFIRMATIONS) {
        io.stderr.write(`the plan changed after each of ${MAX_CONFIRMATIONS} confirmations: nothing applied; run it again when the account is quieter\n`);
        if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: false, ...outcomeJson(latest), exitCode: ExitCode.refused }, null, 2) + '\n');
        return ExitCode.refused;
      }
      confirmed = latest.plan;
    }
    // Apply = the trigger's own workflow (current state, audit, lifecycle completion, re-checks), whose
    // executor applies nothing but the confirmed actions.
    const applyProgress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
    const applyDeps = nodeDeps(config, 'apply', io, env, clients, logger, applyProgress);
    const applied = await deregisterNodes(items, { ...applyDeps, executor: applyOnlyConfirmed(applyDeps.executor, confirmed) });
    applyProgress.done();
    const notConfirmed = (applied.result?.outcomes ?? []).filter(isNotConfirmed).map((o) => o.key);
    if (notConfirmed.length > 0) {
      io.stderr.write(`NOT APPLIED: ${notConfirmed.length} action(s) appeared after the plan was confirmed: ${notConfirmed.join(', ')} (run quiesce plan to review them)\n`);
    }
    const noLongerPlanned = planDifference(confirmed, applied.plan).gone.map(actionKey);
    if (noLongerPlanned.length > 0) io.stderr.write(`${noLongerPlanned.length} confirmed action(s) were no longer planned when applied (already going, or held by a guard): ${noLongerPlanned.join(', ')}\n`);
    const code = resultExit(applied.result, applied.retry.length);
    if (flags.json) io.stdout.write(JSON.stringify({ command, cluster: config.clusterName, applied: true, confirmedPlan: confirmed, notConfirmed, ...outcomeJson(applied), exitCode: code }, null, 2) + '\n');
    else if (applied.result) {
      io.stdout.write('\n' + formatResult(applied.result) + `lifecycle actions completed: ${applied.lifecycleCompleted}\n`);
      io.stdout.write('re-registration guard: not run by the CLI (the function takes re-checks only from its own role); the node\'s signal delivered to the function starts it, or run apply again\n');
    }
    return code;
  } finally {
    if (!io.clients) clients.destroy();
  }
}
