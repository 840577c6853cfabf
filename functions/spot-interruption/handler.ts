/**
 * Trigger: spot interruption warnings, rebalance recommendations, instance state changes and Auto Scaling
 * terminate lifecycle actions, delivered by EventBridge directly or through an SQS queue (durable, batched:
 * a reclaim wave of many warnings is handled as one batch, with partial batch failures reported), plus the
 * re-registration guard's own delayed re-check messages on that queue.
 *
 * The handler stays thin: parse, then hand the batch to the workflow (observe, plan, guard, apply).
 */
import middy from '@middy/core';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ApplyError, InvalidEventError } from '#core/errors.ts';
import { DetailType, parseEnvelope, parseNodeSignal, parseRecheck } from '#core/contracts/node-events.ts';
import { isSqsBatch, parseSqsRecord, recordLabel } from '#core/contracts/sqs-batch.ts';
import { publishMetrics } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { createLogger, createMetrics, MetricUnit, type Logger, type Metrics } from '#core/telemetry.ts';
import { buildNodeWorkflowDeps } from './wiring.ts';
import { buildWeightedFailover } from '../traffic-shift/wiring.ts';
import { deregisterNodes, type NodeWorkflowDeps, type NodeWorkflowResult, type WorkItem } from './deregister-nodes.ts';

/** What a direct (EventBridge) invocation returns; SQS invocations return the batch response. */
export interface SpotInvocationResult {
  readonly status: 'applied' | 'ignored' | 'rejected' | 'dry-run';
  readonly planId?: string;
  readonly counts?: Record<string, number>;
  readonly heldBack?: number;
  readonly reason?: string;
}

type SpotEvent = EventBridgeEvent<string, unknown> | SQSEvent;

/** Parses one raw input (an EventBridge envelope, or an SQS body holding one) into a work item. */
export function toWorkItem(itemId: string, raw: unknown): WorkItem {
  const envelope = parseEnvelope(raw);
  if (envelope['detail-type'] === DetailType.recheck) return { itemId, input: parseRecheck(envelope) };
  return { itemId, input: parseNodeSignal(envelope) };
}

function recordMetrics(metrics: Metrics, outcome: NodeWorkflowResult): void {
  if (!outcome.result || !outcome.plan) return;
  metrics.addMetric('planned', MetricUnit.Count, outcome.plan.actions.length);
  metrics.addMetric('heldBack', MetricUnit.Count, outcome.plan.heldBack.length);
  metrics.addMetric('deregistered', MetricUnit.Count, outcome.result.counts.deregistered + outcome.result.counts.submitted);
  metrics.addMetric('failed', MetricUnit.Count, outcome.result.counts.failed);
}

/**
 * Builds the handler around a dependency factory (called once per container, on first use, so a
 * configuration error is reported per invocation with its variable name, and tests pass their own).
 */
export function makeHandler(getDeps: () => NodeWorkflowDeps, logger: Logger = createLogger('spot-interruption'), metrics: Metrics = createMetrics('spot-interruption')) {
  let deps: NodeWorkflowDeps | undefined;
  const resolve = (): NodeWorkflowDeps => (deps ??= getDeps());

  const run = async (event: SpotEvent): Promise<SpotInvocationResult | SQSBatchResponse> => {
    const d = resolve();
    if (isSqsBatch(event)) {
      const items: WorkItem[] = [];
      for (const [index, record] of event.Records.entries()) {
        try {
          const { messageId, body } = parseSqsRecord(record, index);
          items.push(toWorkItem(messageId, body));
        } catch (err) {
          if (!(err instanceof InvalidEventError)) throw err;
          // A malformed message is reported, not retried: retrying cannot fix it (it goes nowhere else).
          const messageId = recordLabel(record, index);
          logger.warn('event rejected', { messageId, error: err.name, message: err.message, field: err.field });
          await d.audit.rejected({ status: 'rejected', error: err.name, message: err.message, field: err.field, messageId });
        }
      }
      const outcome = await deregisterNodes(items, d);
      recordMetrics(metrics, outcome);
      for (const r of outcome.retry) logger.warn('will be retried', r);
      return { batchItemFailures: outcome.retry.map((r) => ({ itemIdentifier: r.itemId })) };
    }
    // `?.`: a `null` invocation has no id; parsing then rejects it with a typed error.
    const item = toWorkItem((event as { id?: string } | null)?.id ?? 'event', event);
    const outcome = await deregisterNodes([item], d);
    recordMetrics(metrics, outcome);
    if (outcome.rejected.length > 0) {
      return { status: 'rejected', reason: outcome.rejected.map((r) => `${r.instanceId}: ${r.reason}`).join('; ') };
    }
    if (!outcome.plan || !outcome.result) {
      return { status: 'ignored', reason: outcome.ignored.map((i) => i.reason).join('; ') || 'nothing to do' };
    }
    if (outcome.retry.length > 0) {
      // Fail the invocation so Lambda's async retries (then the on-failure destination) take it again.
      throw new ApplyError(`${outcome.result.retryableFailures} deregistration(s) left undone: ${outcome.retry.map((r) => r.reason).join('; ')}`, outcome.result.retryableFailures, true);
    }
    return {
      status: outcome.result.dryRun ? 'dry-run' : 'applied',
      planId: outcome.plan.id,
      counts: { ...outcome.result.counts },
      heldBack: outcome.plan.heldBack.length,
    };
  };

  return middy(run)
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics));
}

/**
 * The Lambda entry point: real AWS clients, honouring the SDK's standard configuration. With
 * FAILOVER_LISTENER_ARNS set, a target group that this node's loss takes below its minimum healthy targets
 * also has its weight in those listeners' weighted rules shifted to its healthy siblings.
 */
export const handler = makeHandler(() =>
  buildNodeWorkflowDeps('spot-interruption', {
    weightedFailover: buildWeightedFailover('spot-interruption'),
  }),
);
