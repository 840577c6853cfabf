/**
 * `quiesce plan` of the triggers whose functions apply them (pod terminations, traffic shifts): what they
 * would do, read from the account as it is, with nothing written.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { AwsElbv2, sdkClientConfig } from '#core/adapters/aws/index.ts';
import { AwsSsmParameterTree } from '#core/adapters/aws/ssm-parameter-tree.ts';
import type { Env } from '#core/config.ts';
import { createLogger } from '#core/telemetry.ts';
import { loadPodEventsConfig } from '../pod-events/config.ts';
import { deregisterPod, type PodWorkflowResult } from '../pod-events/deregister-pod.ts';
import { parsePodSignal } from '../pod-events/events.ts';
import { buildPodWorkflowDeps } from '../pod-events/wiring.ts';
import { trafficPlansSource, type TrafficPlanConfig } from '../traffic-shift/config.ts';
import { parameterPlans } from '../traffic-shift/plans.ts';
import { formatPlan } from './format.ts';
import { cliBudget, cliLogger, clientsFor, ExitCode, type CliIo, type Flags } from './io.ts';
import { formatShiftPlan, planTraffic } from './triggers.ts';

/**
 * `plan` of pod terminations: the pod-events workflow on the recording write port, its audit only logged:
 * nothing written, nothing published.
 */
export async function planPods(inputs: readonly unknown[], io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const config = loadPodEventsConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  try {
    const deps = buildPodWorkflowDeps({
      config,
      writes: 'recording',
      publishAudit: false,
      clients,
      logger,
      ...(io.now ? { now: io.now } : {}),
      ...(io.sleep ? { sleep: io.sleep } : {}),
    });
    const outcomes: PodWorkflowResult[] = [];
    for (const input of inputs) outcomes.push(await deregisterPod(parsePodSignal(input, config), deps));
    const code: ExitCode = outcomes.some((o) => o.retry) ? ExitCode.failed : ExitCode.ok;
    if (flags.json) {
      const results = outcomes.map((o) => ({ status: o.status, reason: o.reason ?? null, pod: o.pod ?? null, lookup: o.lookup ?? null, plan: o.plan ?? null, result: o.result ?? null }));
      io.stdout.write(JSON.stringify({ command: 'plan', trigger: 'pod', cluster: config.clusterName, applied: false, results, exitCode: code }, null, 2) + '\n');
    } else {
      io.stdout.write(outcomes.map((o) => (o.plan ? formatPlan(o.plan) : `ignored ${o.pod ? `pod ${o.pod.namespace}/${o.pod.name}` : 'event'}: ${o.reason ?? 'nothing to do'}\n`)).join('\n'));
    }
    return code;
  } finally {
    if (!io.clients) clients.destroy();
  }
}

/** `plan` of a shift: the steps the traffic-shift function would take, read from the rule as it is. */
export async function planShifts(inputs: readonly unknown[], trigger: 'traffic' | 'argocd', io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const clients = clientsFor(io, flags);
  try {
    const plans = await trafficPlans(env, io, flags);
    const deps = { elbv2: new AwsElbv2(clients.elbv2, cliBudget(io)), plans, now: io.now ?? (() => new Date()) };
    const results = [];
    for (const input of inputs) results.push(await planTraffic(deps, input, trigger));
    const code: ExitCode = results.some((r) => r.status === 'unavailable')
      ? ExitCode.unavailable
      : results.some((r) => r.status === 'refused' || (r.status === 'planned' && r.steps.some((s) => !s.gate.passes)))
        ? ExitCode.refused
        : ExitCode.ok;
    if (flags.json) io.stdout.write(JSON.stringify({ command: 'plan', trigger: 'traffic-shift', applied: false, results, exitCode: code }, null, 2) + '\n');
    else io.stdout.write(results.map((r) => (r.status === 'unavailable' ? `not planned: ${r.reason}\n` : formatShiftPlan(r))).join('\n'));
    return code;
  } finally {
    if (!io.clients) clients.destroy();
  }
}

/**
 * The traffic plans as the function reads them: under TRAFFIC_PLANS_PATH in SSM (the deployed stack's
 * `/quiesce/<stage>/traffic-plans`: an app whose parameter does not parse is reported and has no plan), else
 * TRAFFIC_PLANS / TRAFFIC_PLANS_FILE / --traffic-plans.
 */
async function trafficPlans(env: Env, io: CliIo, flags: Flags): Promise<ReadonlyMap<string, TrafficPlanConfig>> {
  const { plans, plansPath } = trafficPlansSource(env);
  if (plansPath === undefined) return plans;
  const ssm = new SSMClient(sdkClientConfig(flags.region ? { overrides: { region: flags.region } } : {}));
  try {
    // The CLI names an invalid plan itself, once, in words; the function's JSON error line would repeat it.
    const quiet = createLogger('quiesce-cli', { logLevel: 'SILENT' });
    const found = await parameterPlans(new AwsSsmParameterTree(ssm, cliBudget(io)), plansPath, quiet).load();
    for (const [app, reason] of found.invalid) io.stderr.write(`traffic plan of ${app} not valid (no plan for it): ${reason}\n`);
    return found.plans;
  } finally {
    ssm.destroy();
  }
}
