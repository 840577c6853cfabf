/**
 * Trigger: "Deployment Synced" (from the deploy webhook), "Traffic Shift Step Due" (its own steps, from
 * EventBridge Scheduler) and "Weighted Rule Failover Check" (the failover's restore re-check), all on the
 * event bus, and "Traffic Shift Watchdog" (a 2-minute schedule). Thin: parse, then hand over to the
 * workflow (shift.ts, watchdog.ts, the core's failover).
 */
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { publishMetrics } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { createLogger, createMetrics, logLambdaContext, MetricUnit, type Logger, type Metrics } from '#core/telemetry.ts';
import type { TrafficDeps } from './deps.ts';
import { parseTrafficEvent } from '#core/contracts/traffic.ts';
import { failoverWeightedRules, type FailoverResult } from '#core/failover/weighted-failover.ts';
import { runShiftStep, startShift, type ShiftOutcome } from './shift.ts';
import { watchShifts, type WatchdogResult } from './watchdog.ts';
import { buildTrafficDeps, failoverDepsOf } from './wiring.ts';

// The parser lives with the contract (the CLI reads traffic events too); re-exported for the tests that judge it here.
export { parseTrafficEvent, type TrafficEvent } from '#core/contracts/traffic.ts';

/** What an invocation returns. */
export type TrafficInvocationResult = ShiftOutcome | WatchdogResult | { readonly status: 'failover'; readonly failedOver: readonly string[]; readonly restored: readonly string[] };

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

/**
 * The shift outcomes an invocation produced: its own, or every shift the watchdog took over. An aborted shift
 * returns normally (the rollback is the designed answer to a failed gate), so these metrics are what
 * alarms on it: `shiftAborted` per aborted shift, `rollbackNotConfirmed` per abort whose rollback could not be
 * verified (the rule's weights are unknown: someone must look), both paging (infra/serverless/alarms.yml).
 */
export function recordShiftMetrics(metrics: Metrics, result: TrafficInvocationResult): void {
  const outcomes: readonly ShiftOutcome[] = result.status === 'watchdog' ? result.resumed : result.status === 'failover' ? [] : [result];
  const aborted = outcomes.filter((o) => o.status === 'aborted');
  if (outcomes.length === 0) return;
  metrics.addMetric('shiftAborted', MetricUnit.Count, aborted.length);
  metrics.addMetric('rollbackNotConfirmed', MetricUnit.Count, aborted.filter((o) => o.status === 'aborted' && !o.rolledBack).length);
}

/** Builds the handler around a dependency factory (called once per container, on first use). */
export function makeHandler(getDeps: () => TrafficDeps, logger: Logger = createLogger('traffic-shift'), metrics: Metrics = createMetrics('traffic-shift')) {
  let deps: TrafficDeps | undefined;
  const run = async (event: EventBridgeEvent<string, unknown>): Promise<TrafficInvocationResult> => {
    const d = (deps ??= getDeps());
    const outcome = await dispatch(d, event);
    logger.info('traffic-shift outcome', { ...outcome });
    recordShiftMetrics(metrics, outcome);
    return outcome;
  };
  return middy(run)
    .use(logLambdaContext(logger))
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics));
}

/** The Lambda entry point; one logger for the handler and the workflows, so every line carries the Lambda context. */
const logger = createLogger('traffic-shift');
export const handler = makeHandler(() => buildTrafficDeps('traffic-shift', { logger }), logger);
