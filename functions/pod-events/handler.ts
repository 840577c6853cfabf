/**
 * Trigger: a pod started terminating. Inputs: quiesce's forwarder "Pod Terminating" events and
 * kubernetes-event-exporter's `Killing` events, from EventBridge directly or through an SQS queue (each
 * message handled on its own; failures reported per message).
 *
 * The handler stays thin: parse (typed rejection on bad input, no AWS call), then the workflow.
 */
import middy from '@middy/core';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ApplyError, InvalidEventError, OutOfScopeError } from '#core/errors.ts';
import { isSqsBatch, parseSqsRecord, recordLabel } from '#core/contracts/sqs-batch.ts';
import { publishMetrics, recordApplyMetrics } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { preflightOnColdStart } from '#core/preflight/cold-start.ts';
import { createLogger, createMetrics, logLambdaContext, MetricUnit, type Logger, type Metrics } from '#core/telemetry.ts';
import { deregisterPod, type PodWorkflowDeps, type PodWorkflowResult } from './deregister-pod.ts';
import { parsePodSignal, type PodSignal } from './events.ts';
import { buildPodWorkflowDeps } from './wiring.ts';

/** What a direct (EventBridge) invocation returns; SQS invocations return the batch response. */
export interface PodInvocationResult {
  readonly status: 'applied' | 'ignored' | 'dry-run';
  readonly planId?: string;
  readonly counts?: Record<string, number>;
  readonly heldBack?: number;
  readonly lookup?: string;
  readonly reason?: string;
}

type PodEvent = EventBridgeEvent<string, unknown> | SQSEvent;

/**
 * A pod event arrived (whatever became of it): `podEventsReceived` for every one, `forwarderEventsReceived`
 * for the forwarder's. A cluster that deploys keeps deleting pods, so none for POD_EVENT_SILENCE_HOURS means
 * the forwarder (or the exporter) stopped publishing: the `pod-events-silent` alarm reads the first. The
 * forwarder's are also recorded in the state table for `quiesce doctor` (a heartbeat, at most once a minute).
 */
function received(metrics: Metrics, signal: PodSignal): void {
  metrics.addMetric('podEventsReceived', MetricUnit.Count, 1);
  if (signal.kind === 'forwarder') metrics.addMetric('forwarderEventsReceived', MetricUnit.Count, 1);
}

/**
 * After the pod's plan was applied (off its critical path): the forwarder's heartbeat, for an event the
 * forwarder observed within STALE_AFTER_SECONDS only. A late delivery (an EventBridge retry) says nothing of
 * whether the forwarder publishes now, and a stale event stays what it always was: a no-op with no AWS call.
 */
async function heartbeat(deps: PodWorkflowDeps, signal: PodSignal): Promise<void> {
  if (signal.kind !== 'forwarder' || !deps.heartbeat) return;
  const now = deps.now();
  if (now.getTime() - Date.parse(signal.detail.observedAt) > deps.config.staleAfterSeconds * 1000) return;
  await deps.heartbeat.heard(now, signal.detail.observedAt);
}

function recordMetrics(metrics: Metrics, outcome: PodWorkflowResult): void {
  if (outcome.lookup) metrics.addMetric(`lookup_${outcome.lookup}`, MetricUnit.Count, 1);
  recordApplyMetrics(metrics, outcome.plan, outcome.result);
}

function toResult(outcome: PodWorkflowResult): PodInvocationResult {
  if (!outcome.plan || !outcome.result) return { status: 'ignored', reason: outcome.reason ?? 'nothing to do', ...(outcome.lookup ? { lookup: outcome.lookup } : {}) };
  return {
    status: outcome.status,
    planId: outcome.plan.id,
    counts: { ...outcome.result.counts },
    heldBack: outcome.plan.heldBack.length,
    ...(outcome.lookup ? { lookup: outcome.lookup } : {}),
  };
}

/**
 * Builds the handler around a dependency factory, called once per container on first use: the registration
 * index inside the deps is what warm invocations reuse.
 */
export function makeHandler(getDeps: () => PodWorkflowDeps, logger: Logger = createLogger('pod-events'), metrics: Metrics = createMetrics('pod-events')) {
  let deps: PodWorkflowDeps | undefined;
  const resolve = (): PodWorkflowDeps => (deps ??= getDeps());

  const run = async (event: PodEvent): Promise<PodInvocationResult | SQSBatchResponse> => {
    const d = resolve();
    if (isSqsBatch(event)) {
      const failures: { itemIdentifier: string }[] = [];
      for (const [index, record] of event.Records.entries()) {
        const messageId = recordLabel(record, index);
        try {
          const signal = parsePodSignal(parseSqsRecord(record, index).body, d.config);
          received(metrics, signal);
          const outcome = await deregisterPod(signal, d);
          recordMetrics(metrics, outcome);
          await heartbeat(d, signal);
          if (outcome.retry) failures.push({ itemIdentifier: messageId });
        } catch (err) {
          if (err instanceof InvalidEventError || err instanceof OutOfScopeError) {
            // Retrying cannot fix a malformed or foreign event: report it, do not fail the message.
            logger.warn('event rejected', { messageId, error: err.name, reason: err.message, ...(err instanceof InvalidEventError ? { field: err.field } : {}) });
            await d.audit.rejected({ status: 'rejected', error: err.name, message: err.message, messageId });
            continue;
          }
          logger.error('pod event failed: will be retried', { messageId, error: err as Error });
          failures.push({ itemIdentifier: messageId });
        }
      }
      return { batchItemFailures: failures };
    }
    const signal = parsePodSignal(event, d.config);
    received(metrics, signal);
    const outcome = await deregisterPod(signal, d);
    recordMetrics(metrics, outcome);
    await heartbeat(d, signal);
    if (outcome.retry && outcome.result) {
      // Fail the invocation so Lambda's async retries (then the on-failure destination) take it again.
      const { retryableFailures, permanentFailures } = outcome.result;
      throw new ApplyError(`${retryableFailures + permanentFailures} deregistration(s) left undone for ${outcome.plan?.subject ?? 'the pod'}`, retryableFailures + permanentFailures, permanentFailures === 0);
    }
    return toResult(outcome);
  };

  return middy(run)
    .use(logLambdaContext(logger))
    // In dry run, the first invocation of a container then checks what this function needs (docs/operations.md).
    .use(preflightOnColdStart({ fn: 'pod-events', logger, config: () => deps?.config, aws: () => deps?.aws }))
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics));
}

/** The Lambda entry point: real AWS clients, honouring the SDK's standard configuration; one logger for all. */
const logger = createLogger('pod-events');
export const handler = makeHandler(() => buildPodWorkflowDeps({ logger }), logger);
