/**
 * Trigger: spot interruption warnings, rebalance recommendations, instance state changes and Auto Scaling
 * terminate lifecycle actions, delivered by EventBridge directly or through an SQS queue (durable, batched:
 * a reclaim wave is one batch, partial batch failures reported and retried in seconds), plus the
 * re-registration guard's own delayed re-checks on that queue. Thin: parse, then the workflow.
 */
import middy from '@middy/core';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ApplyError, InvalidEventError } from '#core/errors.ts';
import { DetailType, parseEnvelope, parseNodeSignal, parseRecheck } from '#core/contracts/node-events.ts';
import { buildWeightedFailover } from '#core/failover/wiring.ts';
import { publishMetrics, recordApplyMetrics } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { backoffSeconds, receiveCountOf, sqsRetryBackoff } from '#core/middleware/sqs-retry-backoff.ts';
import { createLogger, createMetrics, type Logger, type Metrics } from '#core/telemetry.ts';
import { buildNodeWorkflowDeps, type SpotDeps } from './wiring.ts';
import { deregisterNodes, type NodeWorkflowResult, type WorkItem } from './workflow.ts';

/** What a direct (EventBridge) invocation returns; SQS invocations return the batch response. */
export interface SpotInvocationResult {
  readonly status: 'applied' | 'ignored' | 'rejected' | 'dry-run';
  readonly planId?: string;
  readonly counts?: Record<string, number>;
  readonly heldBack?: number;
  readonly reason?: string;
}

/** Parses one raw input (an EventBridge envelope, or an SQS body holding one) into a work item. */
export function toWorkItem(itemId: string, raw: unknown): WorkItem {
  const envelope = parseEnvelope(raw);
  if (envelope['detail-type'] === DetailType.recheck) return { itemId, input: parseRecheck(envelope) };
  return { itemId, input: parseNodeSignal(envelope) };
}

const isRecheck = (record: SQSRecord): boolean => typeof record.body === 'string' && record.body.includes(`"detail-type":"${DetailType.recheck}"`);
/** Time left to apply in: the invocation's remaining time minus 10 s for lifecycle hooks, re-checks and audit. */
const deadlineOf = (context: Context | undefined, now: Date): number | undefined =>
  typeof context?.getRemainingTimeInMillis === 'function' ? now.getTime() + context.getRemainingTimeInMillis() - 10_000 : undefined;

/** Builds the handler around a dependency factory (called once per container, on first use; tests pass theirs). */
export function makeHandler(getDeps: () => SpotDeps, logger: Logger = createLogger('spot-interruption'), metrics: Metrics = createMetrics('spot-interruption')) {
  let deps: SpotDeps | undefined;
  const run = async (event: EventBridgeEvent<string, unknown> | SQSEvent, context?: Context): Promise<SpotInvocationResult | SQSBatchResponse> => {
    const d = (deps ??= getDeps());
    const options = { deadline: deadlineOf(context, d.now()) };
    const record = (outcome: NodeWorkflowResult): NodeWorkflowResult => (recordApplyMetrics(metrics, outcome.plan, outcome.result), outcome);
    if (Array.isArray((event as SQSEvent | null)?.Records)) {
      const items: WorkItem[] = [];
      for (const [i, r] of (event as SQSEvent).Records.entries()) {
        try {
          items.push(toWorkItem(typeof r?.messageId === 'string' ? r.messageId : `record-${i}`, r?.body));
        } catch (err) {
          if (!(err instanceof InvalidEventError)) throw err;
          // A malformed message is reported, not retried: retrying cannot fix it (it goes nowhere else).
          logger.warn('event rejected', { messageId: r?.messageId, error: err.name, reason: err.message, field: err.field });
          await d.audit.rejected({ status: 'rejected', error: err.name, message: err.message, field: err.field, messageId: r?.messageId });
        }
      }
      const outcome = record(await deregisterNodes(items, d, options));
      for (const r of outcome.retry) logger.warn('will be retried', { ...r });
      return { batchItemFailures: outcome.retry.map((r) => ({ itemIdentifier: r.itemId })) };
    }
    const outcome = record(await deregisterNodes([toWorkItem((event as { id?: unknown })?.id === undefined ? 'event' : String((event as { id: unknown }).id), event)], d, options));
    if (outcome.rejected.length > 0) return { status: 'rejected', reason: outcome.rejected.map((r) => `${r.instanceId}: ${r.reason}`).join('; ') };
    if (!outcome.plan || !outcome.result) return { status: 'ignored', reason: outcome.ignored.map((i) => i.reason).join('; ') || 'nothing to do' };
    if (outcome.retry.length > 0) {
      // Fail the invocation so Lambda's async retries (then the on-failure destination) take it again.
      const { retryableFailures, permanentFailures } = outcome.result;
      throw new ApplyError(`${retryableFailures + permanentFailures} deregistration(s) left undone: ${outcome.retry.map((r) => r.reason).join("; ")}`, retryableFailures + permanentFailures, permanentFailures === 0);
    }
    return { status: outcome.result.dryRun ? 'dry-run' : 'applied', planId: outcome.plan.id, counts: { ...outcome.result.counts }, heldBack: outcome.plan.heldBack.length + outcome.result.counts.refused };
  };

  return middy(run)
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics))
    .use(
      sqsRetryBackoff({
        visibility: () => deps?.queueVisibility,
        // A re-check keeps its own pace; a failed signal comes back in 2, 4, 8... seconds, inside the warning.
        delayFor: (r) => (isRecheck(r) ? (deps?.config.guardIntervalSeconds ?? 15) : backoffSeconds(receiveCountOf(r), deps?.config.retryDelaySeconds ?? 2, deps?.config.retryMaxDelaySeconds ?? 30)),
        logger,
      }),
    );
}

/**
 * The Lambda entry point: real AWS clients, honouring the SDK's standard configuration. With
 * FAILOVER_LISTENER_ARNS set, a target group that this node's loss takes below its minimum healthy targets
 * also has its weight in those listeners' weighted rules shifted to its healthy siblings.
 */
export const handler = makeHandler(() => buildNodeWorkflowDeps('spot-interruption', { weightedFailover: buildWeightedFailover('spot-interruption') }));
