/**
 * The `quiesce` CLI: see what a trigger *would* do in a real account before it does it, and do it by hand
 * when needed. It runs the Lambdas' own core (wiring.ts, the workflows, the one executor): a plan printed here
 * is the plan the function would apply, not a re-implementation of it.
 *
 *   quiesce plan  <event.json|->   observe read-only and print the plan of the event's trigger: a node signal,
 *                                  a pod termination, a scheduled sweep, a Deployment Synced / an ArgoCD
 *                                  webhook body / a shift step (the shift's steps); dry-run executor, no audit
 *   quiesce apply <event.json|->   plan, ask, then apply (node signals, and a scheduled sweep = `sweep`)
 *   quiesce sweep [--dry-run]      one sweeper run (plan only with --dry-run)
 *
 * AWS access follows the SDK's standard configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...), the
 * configuration the same variables as the Lambdas (functions/_core/config.ts), with flags on top. Output:
 * tables on stdout, `--json` for scripts; progress and logs on stderr. Exit codes: {@link ExitCode}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { EKSClient } from '@aws-sdk/client-eks';
import { ApiBudget, AwsElbv2, createAwsClients, sdkClientConfig, type AwsClients } from '#core/adapters/aws/index.ts';
import { loadConfig, type Env, type QuiesceConfig } from '#core/config.ts';
import type { Plan } from '#core/domain/plan.ts';
import { actionKey } from '#core/domain/plan.ts';
import { ConfigError, InvalidEventError, OutOfScopeError } from '#core/errors.ts';
import type { ApplyResult, Executor } from '#core/executor/executor.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildNodeWorkflowDeps } from '../spot-interruption/wiring.ts';
import { deregisterNodes, type NodeWorkflowDeps, type NodeWorkflowResult, type WorkItem } from '../spot-interruption/workflow.ts';
import { toWorkItem } from '../spot-interruption/handler.ts';
import { loadPodEventsConfig } from '../pod-events/config.ts';
import { deregisterPod, type PodWorkflowResult } from '../pod-events/deregister-pod.ts';
import { parsePodSignal } from '../pod-events/events.ts';
import { buildPodWorkflowDeps } from '../pod-events/wiring.ts';
import { loadTrafficPlans } from '../traffic-shift/config.ts';
import { formatShiftPlan, planTraffic, triggerOf, type Trigger } from './triggers.ts';
import { applyOnlyConfirmed, isNotConfirmed, planDifference, samePlan } from './confirmed.ts';
import { formatPlan, formatPlanDifference, formatResult } from './format.ts';
import { Progress } from './progress.ts';

/**
 * Exit codes, stable for scripts (docs/cli.md):
 * 0 done; 1 something failed (an action, an AWS call, the cluster API); 2 usage or bad input (flags, file,
 * JSON, event, configuration); 3 refused, nothing applied (declined, no --yes without a TTY, out-of-scope
 * instance, a guard or DRY_RUN); 4 not available in this build.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, refused: 3, unavailable: 4 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * How often `apply` asks before giving up on an account that keeps changing: each "yes" is followed by a
 * fresh look, and a changed plan is shown and asked about again, never applied unseen.
 */
export const MAX_CONFIRMATIONS = 3;

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

export const USAGE = `Usage:
  quiesce plan  <event.json|->  [options]   print the plan the event's trigger would apply (read-only)
  quiesce apply <event.json|->  [options]   plan, confirm, apply   (--yes: no question; node signals, sweeps)
  quiesce sweep [--dry-run]     [options]   one sweeper run        (--dry-run: plan only)

Triggers, by the event: a node signal (spot warning, rebalance, state change, ASG hook, re-check), a pod
termination (forwarder or kubernetes-event-exporter), a scheduled sweep, a Deployment Synced / an ArgoCD
webhook body / a Traffic Shift Step Due (the shift's steps).

Options:
  --cluster <name>       CLUSTER_NAME            --namespaces <a,b>     CLOUDMAP_NAMESPACES
  --owner-attributes k=v CLOUDMAP_OWNER_ATTRIBUTES
  --traffic-plans <file> TRAFFIC_PLANS_FILE (the traffic plans JSON a shift is planned with)
  --region <region>      AWS region (else the SDK's standard configuration)
  --profile <name>       AWS profile (sets AWS_PROFILE for this process)
  --json                 machine-readable output on stdout
  --yes, -y              do not ask before writing (required without a terminal)
  --dry-run              sweep: plan only; apply: plan and stop
  --verbose, -v          structured logs on stderr
  --help, -h             this text

Exit codes: 0 ok, 1 failures, 2 usage/bad input, 3 refused/nothing applied, 4 not available in this build.
The event file holds one EventBridge event, an array of them, an SQS event (Records[].body) or an
"aws sqs receive-message" answer (Messages[].Body); all of one trigger.`;

interface Flags {
  readonly json: boolean;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly verbose: boolean;
  readonly region: string | undefined;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Every flag the CLI takes (docs/cli.md lists each; USAGE too: test/unit/cli/usage.test.ts). */
export const OPTIONS = {
  json: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  'dry-run': { type: 'boolean', default: false },
  verbose: { type: 'boolean', short: 'v', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  cluster: { type: 'string' },
  namespaces: { type: 'string' },
  'owner-attributes': { type: 'string' },
  'traffic-plans': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

/** Parses argv (without `node` and the script). */
function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
}

/** A logger whose every line goes to stderr (Powertools writes info to stdout, which belongs to --json). */
function cliLogger(io: CliIo, verbose: boolean): Logger {
  return createLogger('quiesce-cli', { logLevel: verbose ? 'INFO' : 'ERROR', write: (line) => void io.stderr.write(`${line}\n`) });
}

/** Reads the event file (or stdin) into its events; bad input is an InvalidEventError or a UsageError. */
async function readInputs(path: string | undefined, io: CliIo): Promise<unknown[]> {
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

/** Configuration: the Lambdas' variables from the environment, flags on top. */
function envWithFlags(io: CliIo, values: ReturnType<typeof parse>['values']): Env {
  return {
    ...io.env,
    ...(values.cluster !== undefined ? { CLUSTER_NAME: values.cluster } : {}),
    ...(values.namespaces !== undefined ? { CLOUDMAP_NAMESPACES: values.namespaces } : {}),
    ...(values['owner-attributes'] !== undefined ? { CLOUDMAP_OWNER_ATTRIBUTES: values['owner-attributes'] } : {}),
    ...(values['traffic-plans'] !== undefined ? { TRAFFIC_PLANS_FILE: values['traffic-plans'], TRAFFIC_PLANS: '' } : {}),
    ...(values.region !== undefined ? { AWS_REGION: values.region } : {}),
  };
}

function clientsFor(io: CliIo, flags: Flags): AwsClients {
  return io.clients ?? createAwsClients(flags.region ? { overrides: { region: flags.region } } : {});
}

/** Node-signal deps for one mode: `plan` writes nothing at all (no executor write, no audit, no re-check). */
function nodeDeps(config: QuiesceConfig, mode: 'plan' | 'apply', io: CliIo, clients: AwsClients, logger: Logger, progress: Progress): NodeWorkflowDeps {
  const effective: QuiesceConfig = mode === 'plan' ? { ...config, dryRun: true, auditEventBus: undefined, recheckQueueUrl: undefined } : config;
  const base = buildNodeWorkflowDeps('quiesce-cli', { config: effective, clients, logger, ...(io.now ? { now: io.now } : {}), ...(io.sleep ? { sleep: io.sleep } : {}) });
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

/** Exit code of an apply: an action nobody confirmed that was held back is reported, not a refusal of the run. */
function resultExit(result: ApplyResult | undefined, retry: number): ExitCode {
  if (!result) return ExitCode.ok;
  if (result.counts.failed > 0 || retry > 0) return ExitCode.failed;
  if (result.outcomes.some((o) => o.status === 'refused' && !isNotConfirmed(o))) return ExitCode.refused;
  return ExitCode.ok;
}

async function askOrRefuse(io: CliIo, flags: Flags, question: string): Promise<ExitCode | undefined> {
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

/** Plans (or for node signals and sweeps, applies) the events of one file, by their trigger. */
async function planOrApply(command: 'plan' | 'apply', path: string | undefined, io: CliIo, flags: Flags, env: Env, loader: () => Promise<SweeperModules | undefined>): Promise<ExitCode> {
  const inputs = await readInputs(path, io);
  const exporterSources = (env['EXPORTER_SOURCES'] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  const triggers = [...new Set(inputs.map((i) => triggerOf(i, exporterSources.length > 0 ? exporterSources : ['kubernetes-event-exporter'])))];
  if (triggers.length > 1) throw new UsageError(`${path} mixes triggers (${triggers.join(', ')}): one trigger per file`);
  const trigger = triggers[0] as Trigger;
  if (trigger === 'sweep') return sweep(io, command === 'plan' ? { ...flags, dryRun: true } : flags, env, loader);
  if (trigger !== 'node' && command === 'apply') {
    throw new UsageError(`quiesce apply: a ${trigger === 'pod' ? 'pod termination' : 'traffic shift'} is applied by its function; \`quiesce plan\` shows what it would do`);
  }
  if (trigger === 'pod') return planPods(inputs, io, flags, env);
  if (trigger === 'traffic' || trigger === 'argocd') return planShifts(inputs, trigger, io, flags, env);
  return planOrApplyNodeSignals(command, inputs.flatMap((input, i) => toWorkItem(`event-${i + 1}`, input)), io, flags, env);
}

/** `plan` of pod terminations: the pod-events workflow, its executor in dry run, no audit bus: nothing written. */
async function planPods(inputs: readonly unknown[], io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const config = loadPodEventsConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  try {
    const deps = buildPodWorkflowDeps({
      config: { ...config, dryRun: true, auditEventBus: undefined },
      clients,
      eks: new EKSClient(sdkClientConfig(flags.region ? { overrides: { region: flags.region } } : {})),
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
async function planShifts(inputs: readonly unknown[], trigger: 'traffic' | 'argocd', io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const plans = loadTrafficPlans(env);
  const clients = clientsFor(io, flags);
  try {
    const deps = { elbv2: new AwsElbv2(clients.elbv2, new ApiBudget()), plans, now: io.now ?? (() => new Date()) };
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

async function planOrApplyNodeSignals(command: 'plan' | 'apply', items: WorkItem[], io: CliIo, flags: Flags, env: Env): Promise<ExitCode> {
  const config = loadConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  try {
    const progress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
    const planned = await deregisterNodes(items, nodeDeps(config, 'plan', io, clients, logger, progress));
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
    if (config.dryRun || flags.dryRun) {
      io.stderr.write(`${flags.dryRun ? '--dry-run' : 'DRY_RUN=true in the environment'}: nothing applied\n`);
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
      latest = await deregisterNodes(items, nodeDeps(config, 'plan', io, clients, logger, lookProgress));
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
    const applyDeps = nodeDeps(config, 'apply', io, clients, logger, applyProgress);
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
    else if (applied.result) io.stdout.write('\n' + formatResult(applied.result) + `re-checks scheduled: ${applied.rechecksScheduled}, lifecycle actions completed: ${applied.lifecycleCompleted}\n`);
    return code;
  } finally {
    if (!io.clients) clients.destroy();
  }
}

/** The parts of functions/sweeper the CLI uses (loaded at run time: the CLI works without it). */
interface SweeperModules {
  loadSweeperConfig(env: Env): QuiesceConfig & { readonly region: string };
  buildSweepDeps(wiring: { config: QuiesceConfig; clients: AwsClients; logger: Logger; now?: () => Date; sleep?: (ms: number) => Promise<void> }): Record<string, unknown> & { destroy(): void };
  runSweep(deps: Record<string, unknown>, options: { dryRun: boolean }): Promise<{
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

async function sweep(io: CliIo, flags: Flags, env: Env, loader: () => Promise<SweeperModules | undefined>): Promise<ExitCode> {
  const mods = await loader();
  if (!mods) {
    io.stderr.write('quiesce sweep: not available in this build (functions/sweeper has no runSweep workflow)\n');
    return ExitCode.unavailable;
  }
  const config = mods.loadSweeperConfig(env);
  const logger = cliLogger(io, flags.verbose);
  const clients = clientsFor(io, flags);
  const run = async (dryRun: boolean, confirmed?: Plan) => {
    const base = mods.buildSweepDeps({ config: dryRun ? { ...config, auditEventBus: undefined } : config, clients, logger, ...(io.now ? { now: io.now } : {}), ...(io.sleep ? { sleep: io.sleep } : {}) });
    const progress = new Progress({ write: (t) => void io.stderr.write(t), isTTY: io.interactive });
    const deps = { ...base };
    for (const port of ['ec2', 'elbv2', 'cloudMap'] as const) if (typeof base[port] === 'object' && base[port] !== null) deps[port] = progress.wrap(port, base[port] as object);
    // The real run applies only what the dry run showed and the operator confirmed.
    const executorFor = base['executorFor'] as ((dryRun: boolean) => Executor) | undefined;
    if (confirmed && executorFor) deps['executorFor'] = (d: boolean) => applyOnlyConfirmed(executorFor(d), confirmed);
    const out = await mods.runSweep(deps, { dryRun });
    progress.done();
    return out;
  };
  try {
    const dry = await run(true);
    const summary = (o: typeof dry) =>
      `Sweep ${o.status}: ${o.stale} stale, ${o.reported} reported (healthy, not removed), Cloud Map ${o.cloudMap}, ${o.apiCalls ?? '?'} API calls, ${Math.round(o.durationMs)} ms\n` +
      (o.clusterError ? `! no usable pod list: cluster API unreadable or its answer not believed (${o.clusterError.name}: ${o.clusterError.message}): only the VPC truth was used\n` : '');
    const failedExit = (o: typeof dry): ExitCode => (o.status === 'degraded' ? ExitCode.failed : resultExit(o.result, 0));
    if (flags.dryRun || config.dryRun || dry.plan.actions.length === 0) {
      const code = failedExit(dry);
      if (flags.json) io.stdout.write(JSON.stringify({ command: 'sweep', cluster: config.clusterName, applied: false, ...dry, exitCode: code }, null, 2) + '\n');
      else io.stdout.write(formatPlan(dry.plan) + '\n' + summary(dry));
      if (!flags.dryRun && config.dryRun) io.stderr.write('DRY_RUN=true in the environment: nothing applied\n');
      return code;
    }
    if (!flags.json) io.stdout.write(formatPlan(dry.plan) + '\n' + summary(dry));
    const refused = await askOrRefuse(io, flags, `Apply ${dry.plan.actions.length} sweep action(s) in cluster ${config.clusterName}? [y/N] `);
    if (refused !== undefined) return refused;
    const applied = await run(false, dry.plan);
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

/**
 * Runs the CLI and returns its exit code (never calls process.exit: tests run it in-process).
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo());
 */
export async function main(argv: readonly string[], io: CliIo = processIo(), options: { loadSweeper?: () => Promise<SweeperModules | undefined> } = {}): Promise<ExitCode> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  const [command, file, ...extra] = positionals;
  if (values.help || command === 'help') {
    io.stdout.write(USAGE + '\n');
    return ExitCode.ok;
  }
  if (values.profile !== undefined) process.env['AWS_PROFILE'] = values.profile;
  const flags: Flags = { json: values.json, yes: values.yes, dryRun: values['dry-run'], verbose: values.verbose, region: values.region };
  const env = envWithFlags(io, values);
  try {
    switch (command) {
      case 'plan':
      case 'apply':
        if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
        return await planOrApply(command, file, io, flags, env, options.loadSweeper ?? loadSweeper);
      case 'sweep':
        if (file !== undefined) throw new UsageError(`unexpected argument: ${file}`);
        return await sweep(io, flags, env, options.loadSweeper ?? loadSweeper);
      default:
        throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return ExitCode.usage;
    }
    if (err instanceof InvalidEventError) {
      io.stderr.write(`invalid event${err.field ? ` (field ${err.field})` : ''}: ${err.message}\n`);
      if (flags.json) io.stdout.write(JSON.stringify({ command, error: err.name, field: err.field, message: err.message, exitCode: ExitCode.usage }) + '\n');
      return ExitCode.usage;
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`configuration: ${err.message}\n`);
      return ExitCode.usage;
    }
    if (err instanceof OutOfScopeError) {
      // A pod event of another cluster (a node of another cluster is reported by the node workflow itself).
      if (flags.json) io.stdout.write(JSON.stringify({ command, error: err.name, message: err.message, exitCode: ExitCode.refused }) + '\n');
      else io.stdout.write(`REJECTED: ${err.message} (not this cluster's: nothing is planned for it)\n`);
      return ExitCode.refused;
    }
    io.stderr.write(`quiesce ${command}: ${(err as Error).name}: ${(err as Error).message}\n`);
    return ExitCode.failed;
  }
}
