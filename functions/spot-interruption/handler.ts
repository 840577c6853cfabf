/**
 * Trigger: spot interruption warnings, rebalance recommendations, instance state changes and Auto Scaling
 * terminate lifecycle actions, delivered by EventBridge directly or through an SQS queue (durable, batched:
 * a reclaim wave is one batch, partial batch failures reported and retried in seconds), plus the
 * re-registration guard's own delayed re-checks on that queue. Thin: parse, then the workflow.
 */
import middy from '@middy/core';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ApplyError } from '#core/errors.ts';
import { internalSendersOf } from '#core/contracts/internal-messages.ts';
import { isSqsBatch } from '#core/contracts/sqs-batch.ts';
import { publishMetrics, recordApplyMetrics, recordCandidateMetrics } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { preflightOnColdStart } from '#core/preflight/cold-start.ts';
import { backoffSeconds, receiveCountOf, sqsRetryBackoff } from '#core/middleware/sqs-retry-backoff.ts';
import { createLogger, createMetrics, logLambdaContext, type Logger, type Metrics } from '#core/telemetry.ts';
import { recheckRecords, toWorkItem, workItemsOf } from './inputs.ts';
import { buildNodeWorkflowDeps, type SpotDeps } from './wiring.ts';
import { deregisterNodes, type NodeWorkflowResult } from './workflow.ts';

export { toWorkItem };

/** What a direct (EventBridge) invocation returns; SQS invocations return the batch response. */
export interface SpotInvocationResult {
  readonly status: 'applied' | 'ignored' | 'rejected' | 'dry-run' | 'scheduled';
  readonly planId?: string;
  readonly counts?: Record<string, number>;
  readonly heldBack?: number;
  readonly reason?: string;
}

/** Time left to apply in: the invocation's remaining time minus 10 s for lifecycle hooks, re-checks and audit. */
const deadlineOf = (context: Context | undefined, now: Date): number | undefined =>
  typeof context?.getRemainingTimeInMillis === 'function' ? now.getTime() + context.getRemainingTimeInMillis() - 10_000 : undefined;

/**
 * The error that fails a direct invocation with work left to retry, so Lambda's async retries (then the
 * on-failure destination) take it again: a scheduled change not settled, or deregistrations left undone.
 */
function notFinished(outcome: Pick<NodeWorkflowResult, 'result' | 'retry'>): ApplyError {
  const reasons = outcome.retry.map((r) => r.reason).join('; ');
  if (!outcome.result) return new ApplyError(`not settled: ${reasons}`, outcome.retry.length, true);
  const failed = outcome.result.retryableFailures + outcome.result.permanentFailures;
  return new ApplyError(`${failed} deregistration(s) left undone: ${reasons}`, failed, outcome.result.permanentFailures === 0);
}

/** Builds the handler around a dependency factory (called once per container, on first use; tests pass theirs). */
export function makeHandler(getDeps: () => SpotDeps, logger: Logger = createLogger('spot-interruption'), metrics: Metrics = createMetrics('spot-interruption')) {
  let deps: SpotDeps | undefined;
  // The SQS records of this container's batches that parsed as re-checks (held weakly: gone with the batch).
  const rechecks = new WeakSet<object>();
  const run = async (event: EventBridgeEvent<string, unknown> | SQSEvent | null, context?: Context): Promise<SpotInvocationResult | SQSBatchResponse> => {
    const d = (deps ??= getDeps());
    const options = { deadline: deadlineOf(context, d.now()) };
    // `?.`: a `null` invocation has no id; parsing then rejects it with a typed error.
    const senders = internalSendersOf(d.config);
    const items = isSqsBatch(event) ? await workItemsOf(event.Records, logger, d.audit, senders) : toWorkItem(String((event as { id?: unknown } | null)?.id ?? 'event'), event, { origin: { via: 'invoke' }, senders });
    if (isSqsBatch(event)) for (const r of recheckRecords(event.Records, items)) rechecks.add(r);
    const outcome = await deregisterNodes(items, d, options);
    recordApplyMetrics(metrics, outcome.plan, outcome.result);
    recordCandidateMetrics(metrics, outcome.candidates);
    for (const r of outcome.retry) logger.warn('will be retried', { ...r });
    if (isSqsBatch(event)) return { batchItemFailures: outcome.retry.map((r) => ({ itemIdentifier: r.itemId })) };
    // Work left to retry fails the invocation before anything else is reported (a rejection beside it was
    // already audited by the workflow): returning `rejected` would lose the retry.
    if (outcome.retry.length > 0) throw notFinished(outcome);
    if (outcome.rejected.length > 0) return { status: 'rejected', reason: outcome.rejected.map((r) => `${r.instanceId}: ${r.reason}`).join('; ') };
    if (!outcome.plan || !outcome.result) {
      if (outcome.scheduled.length > 0) return { status: 'scheduled', reason: outcome.scheduled.map((i) => i.reason).join('; ') };
      return { status: 'ignored', reason: outcome.ignored.map((i) => i.reason).join('; ') || 'nothing to do' };
    }
    const { counts, dryRun } = outcome.result;
    return { status: dryRun ? 'dry-run' : 'applied', planId: outcome.plan.id, counts: { ...counts }, heldBack: outcome.plan.heldBack.length + counts.refused };
  };

  return middy(run)
    .use(logLambdaContext(logger))
    // In dry run, the first invocation of a container then checks what this function needs (docs/operations.md).
    .use(preflightOnColdStart({ fn: 'spot-interruption', logger, config: () => deps?.config, aws: () => deps?.aws }))
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics))
    .use(
      sqsRetryBackoff({
        visibility: () => deps?.queueVisibility,
        // A re-check keeps its own pace; a failed signal comes back in 2, 4, 8... seconds, inside the warning.
        delayFor: (r) => (rechecks.has(r) ? (deps?.config.guardIntervalSeconds ?? 15) : backoffSeconds(receiveCountOf(r), deps?.config.retryDelaySeconds ?? 2, deps?.config.retryMaxDelaySeconds ?? 30)),
        logger,
      }),
    );
}

/**
 * The Lambda entry point: real AWS clients, honouring the SDK's standard configuration. With
 * FAILOVER_LISTENER_ARNS set, a target group that this node's loss takes below its minimum healthy targets
 * also has its weight in those listeners' weighted rules shifted to its healthy siblings. One logger for the
 * handler and everything it builds, so every line carries the Lambda context.
 */
const logger = createLogger('spot-interruption');
export const handler = makeHandler(() => buildNodeWorkflowDeps('spot-interruption', { logger }), logger);
