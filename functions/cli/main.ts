/**
 * The `quiesce` CLI: see what a trigger *would* do in a real account before it does it, and do it by hand
 * when needed. It runs the Lambdas' own core (wiring.ts, the workflows, the one executor): a plan printed here
 * is the plan the function would apply, not a re-implementation of it.
 *
 *   quiesce plan  <event.json|->   observe read-only and print the plan of the event's trigger: a node signal,
 *                                  a pod termination, a scheduled sweep, a Deployment Synced / an ArgoCD
 *                                  webhook body / a shift step (the shift's steps); the recording write
 *                                  port, no audit published: nothing is written
 *   quiesce apply <event.json|->   plan, ask, then apply (node signals, and a scheduled sweep = `sweep`)
 *   quiesce sweep [--dry-run]      one sweeper run (plan only with --dry-run)
 *   quiesce doctor --stage <s>     prove a stage before it writes: a checklist of what each function needs
 *   quiesce audit --stage <s>      summarise the audit trail: what the plans did or would have done
 *
 * AWS access follows the SDK's standard configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...), the
 * configuration the same variables as the Lambdas (functions/_core/config.ts), with flags on top. Output:
 * tables on stdout, `--json` for scripts; progress and logs on stderr. Exit codes: {@link ExitCode}.
 */
import { parseArgs } from 'node:util';
import type { Env } from '#core/config.ts';
import { ConfigError, InvalidEventError, OutOfScopeError } from '#core/errors.ts';
import { toWorkItem } from '../spot-interruption/inputs.ts';
import { ExitCode, processIo, readInputs, UsageError, type CliIo, type Flags } from './io.ts';
import { planOrApplyNodeSignals } from './node-signals.ts';
import { planPods, planShifts } from './plan-only.ts';
import { audit } from './audit.ts';
import { doctor } from './doctor.ts';
import { loadSweeper, sweep, type SweeperModules } from './sweep.ts';
import { triggerOf, type Trigger } from './triggers.ts';

export { ExitCode, processIo, type CliIo } from './io.ts';
export { MAX_CONFIRMATIONS } from './node-signals.ts';
export { loadSweeper } from './sweep.ts';

export const USAGE = `Usage:
  quiesce plan  <event.json|->  [options]   print the plan the event's trigger would apply (read-only)
  quiesce apply <event.json|->  [options]   plan, confirm, apply   (--yes: no question; node signals, sweeps)
  quiesce sweep [--dry-run]     [options]   one sweeper run        (--dry-run: plan only)
  quiesce doctor --stage <s>    [options]   check a stage before it writes (exit 1 on any failure)
  quiesce audit  --stage <s>    [options]   summarise the audit trail  (--since 24h)

Triggers, by the event: a node signal (spot warning, rebalance, state change, ASG hook, re-check), a pod
termination (forwarder or kubernetes-event-exporter), a scheduled sweep, a Deployment Synced / an ArgoCD
webhook body / a Traffic Shift Step Due (the shift's steps).

Options:
  --cluster <name>       CLUSTER_NAME            --namespaces <a,b>     CLOUDMAP_NAMESPACES
  --owner-attributes k=v CLOUDMAP_OWNER_ATTRIBUTES
  --traffic-plans <file> TRAFFIC_PLANS_FILE (the traffic plans JSON a shift is planned with)
  --stage <name>         doctor, audit: the stage (its settings: infra/stages/<name>.yml)
  --settings <file>      doctor, audit: the stage's settings file, when not in infra/stages
  --function <name>      doctor: only this function (repeatable)
  --since <age>          audit: how far back (30m, 24h, 7d; default 24h)
  --region <region>      AWS region (else the SDK's standard configuration)
  --profile <name>       AWS profile (sets AWS_PROFILE for this process)
  --json                 machine-readable output on stdout
  --yes, -y              do not ask before writing (required without a terminal)
  --dry-run              sweep: plan only; apply: plan and stop
  --verbose, -v          structured logs on stderr
  --help, -h             this text

Exit codes: 0 ok, 1 failures, 2 usage/bad input, 3 refused/nothing applied, 4 not available in this build.
doctor: 1 when any check failed (for CI).
The event file holds one EventBridge event, an array of them, an SQS event (Records[].body) or an
"aws sqs receive-message" answer (Messages[].Body); all of one trigger.`;

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
  stage: { type: 'string' },
  settings: { type: 'string' },
  function: { type: 'string', multiple: true },
  since: { type: 'string' },
} as const;

/** Parses argv (without `node` and the script). */
function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
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

/** Plans (or for node signals and sweeps, applies) the events of one file, by their trigger. */
async function planOrApply(command: 'plan' | 'apply', path: string | undefined, io: CliIo, flags: Flags, env: Env, loader: () => Promise<SweeperModules | undefined>): Promise<ExitCode> {
  const inputs = await readInputs(path, io);
  const exporterSources = (env['EXPORTER_SOURCES'] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  const triggers = [...new Set(inputs.map((i) => triggerOf(i, exporterSources.length > 0 ? exporterSources : ['kubernetes-event-exporter'])))];
  if (triggers.length > 1) throw new UsageError(`${path} mixes triggers (${triggers.join(', ')}): one trigger per file`);
  const trigger = triggers[0] as Trigger;
  if (trigger === 'sweep') return sweep(io, command === 'plan' ? { ...flags, planOnly: true } : flags, env, loader);
  if (trigger !== 'node' && command === 'apply') {
    throw new UsageError(`quiesce apply: a ${trigger === 'pod' ? 'pod termination' : 'traffic shift'} is applied by its function; \`quiesce plan\` shows what it would do`);
  }
  if (trigger === 'pod') return planPods(inputs, io, flags, env);
  if (trigger === 'traffic' || trigger === 'argocd') return planShifts(inputs, trigger, io, flags, env);
  // The operator is the sender of what they hand the CLI (their credentials, the plan shown first): the
  // function's own messages are taken from them, never from inside an SNS envelope.
  return planOrApplyNodeSignals(command, inputs.flatMap((input, i) => toWorkItem(`event-${i + 1}`, input, { origin: { via: 'operator' } })), io, flags, env);
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
  const flags: Flags = { json: values.json, yes: values.yes, planOnly: values['dry-run'], verbose: values.verbose, region: values.region };
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
      case 'doctor':
        if (file !== undefined) throw new UsageError(`unexpected argument: ${file}`);
        return await doctor(io, flags, { stage: values.stage, settings: values.settings, functions: values.function ?? [] }, env);
      case 'audit':
        if (file !== undefined) throw new UsageError(`unexpected argument: ${file}`);
        return await audit(io, flags, { stage: values.stage, settings: values.settings, since: values.since });
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
