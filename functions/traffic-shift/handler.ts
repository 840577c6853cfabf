/**
 * Trigger: "Deployment Synced" (from the deploy webhook), "Traffic Shift Step Due" (its own steps, from
 * EventBridge Scheduler) and "Weighted Rule Failover Check" (the failover's restore re-check), all on the
 * event bus, and "Traffic Shift Watchdog" (a 2-minute schedule). Thin: parse, then hand over to the
 * workflow (shift.ts, watchdog.ts, the core's failover).
 */
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { InvalidEventError } from '#core/errors.ts';
import { parseEnvelope, QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import { quoted } from '#core/contracts/names.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { createLogger, logLambdaContext, type Logger } from '#core/telemetry.ts';
import type { TrafficDeps } from './deps.ts';
import { parseDeploymentSynced, parseFailoverCheck, parseShiftState, TrafficDetailType, type DeploymentSynced, type ShiftState } from '#core/contracts/traffic.ts';
import { failoverWeightedRules, type FailoverResult } from '#core/failover/weighted-failover.ts';
import { runShiftStep, startShift, type ShiftOutcome } from './shift.ts';
import { watchShifts, type WatchdogResult } from './watchdog.ts';
import { buildTrafficDeps, failoverDepsOf } from './wiring.ts';

/** What an invocation returns. */
export type TrafficInvocationResult = ShiftOutcome | WatchdogResult | { readonly status: 'failover'; readonly failedOver: readonly string[]; readonly restored: readonly string[] };

/** One parsed traffic event: which workflow it is for, with its validated detail. */
export type TrafficEvent =
  | { readonly kind: 'deployment-synced'; readonly synced: DeploymentSynced }
  | { readonly kind: 'step-due'; readonly state: ShiftState }
  | { readonly kind: 'failover-check'; readonly targetGroupArns: readonly string[] }
  | { readonly kind: 'watchdog' };

/**
 * Parses an incoming event before anything runs (an `InvalidEventError` naming the field otherwise).
 * Exported so the parse step can be judged on its own (the fuzz suite checks that what it rejects writes
 * nothing). `receivedAt` stamps a "Deployment Synced" that carries no receipt time.
 */
export function parseTrafficEvent(raw: unknown, receivedAt: string): TrafficEvent {
  const envelope = parseEnvelope(raw);
  // Every event of the shift is quiesce's own (the webhook, Scheduler on our behalf): the rule matches only
  // that source, and a direct invocation must not get further with another.
  if (envelope.source !== QUIESCE_SOURCE) throw new InvalidEventError(`source must be ${QUIESCE_SOURCE}, got ${quoted(envelope.source)}`, 'source');
  switch (envelope['detail-type']) {
    case TrafficDetailType.deploymentSynced:
      return { kind: 'deployment-synced', synced: parseDeploymentSynced(envelope.detail, receivedAt, 'detail.') };
    case TrafficDetailType.stepDue:
      return { kind: 'step-due', state: parseShiftState(envelope.detail) };
    case TrafficDetailType.failoverCheck:
      return { kind: 'failover-check', targetGroupArns: parseFailoverCheck(envelope.detail).targetGroupArns };
    case TrafficDetailType.watchdog:
      return { kind: 'watchdog' };
    default:
      throw new InvalidEventError(`unknown detail-type ${quoted(envelope['detail-type'])}`, 'detail-type');
  }
}

/** Runs one event through the right workflow (exported for the demo and tests that skip middy). */
export async function dispatch(deps: TrafficDeps, raw: unknown): Promise<TrafficInvocationResult> {
  const event = parseTrafficEvent(raw, deps.now().toISOString());
  switch (event.kind) {
    case 'deployment-synced':
      return startShift(deps, event.synced);
    case 'step-due':
      return runShiftStep(deps, event.state);
    case 'watchdog':
      return watchShifts(deps);
    case 'failover-check': {
      const r: FailoverResult = await failoverWeightedRules(failoverDepsOf(deps), event.targetGroupArns);
      return { status: 'failover', failedOver: r.failedOver, restored: r.restored };
    }
  }
}

/** Builds the handler around a dependency factory (called once per container, on first use). */
export function makeHandler(getDeps: () => TrafficDeps, logger: Logger = createLogger('traffic-shift')) {
  let deps: TrafficDeps | undefined;
  const run = async (event: EventBridgeEvent<string, unknown>): Promise<TrafficInvocationResult> => {
    const d = (deps ??= getDeps());
    const outcome = await dispatch(d, event);
    logger.info('traffic-shift outcome', { ...outcome });
    return outcome;
  };
  return middy(run)
    .use(logLambdaContext(logger))
    .use(rejectInvalidInput(logger, () => deps?.audit));
}

/** The Lambda entry point; one logger for the handler and the workflows, so every line carries the Lambda context. */
const logger = createLogger('traffic-shift');
export const handler = makeHandler(() => buildTrafficDeps('traffic-shift', { logger }), logger);
