/**
 * Trigger: the scheduled sweeper. An EventBridge schedule (default every 2 minutes; reserved concurrency 1 so
 * one run at a time) invokes it with a "Scheduled Event"; it parses the event, runs one sweep and reports.
 * Anything that is not a scheduled event is a typed, logged rejection that touches nothing.
 *
 * A run whose cluster API was unreachable, or whose pod list was not believed (empty, or missing most pods,
 * while nodes of the cluster run: `doubtPodList`), acts only on the VPC truth and then fails the invocation with
 * `ClusterUnavailableError`, so the error shows in the function's Errors metric and alarms; a run with
 * deregistrations left undone fails with a retryable `ApplyError`.
 */
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { ApplyError, InvalidEventError, QuiesceError } from '#core/errors.ts';
import { parseEnvelope } from '#core/contracts/node-events.ts';
import { publishMetrics, singlePointsOfFailure } from '#core/middleware/publish-metrics.ts';
import { rejectInvalidInput } from '#core/middleware/reject-invalid-input.ts';
import { preflightOnColdStart } from '#core/preflight/cold-start.ts';
import { createLogger, createMetrics, logLambdaContext, MetricUnit, type Logger, type Metrics } from '#core/telemetry.ts';
import { buildSweepDeps } from './deps.ts';
import { overdueNow, overdueOf, recordCompleted } from './completion.ts';
import { recordNext, skipUntil } from './pacing.ts';
import { runSweep, type SweepDeps, type SweepRunResult } from './run-sweep.ts';
import { runSpanningSweep, sweepUnderway, type SpanningSweepResult, type SweepProgress } from './spanning-sweep.ts';

/** The detail-type EventBridge schedules (rules and EventBridge Scheduler) send. */
export const SCHEDULED_EVENT = 'Scheduled Event';

/** The cluster API could not be read: the run removed only what the VPC truth proved dead. Retrying soon helps. */
export class ClusterUnavailableError extends QuiesceError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/** What an invocation returns. */
export interface SweepInvocationResult {
  readonly status: 'applied' | 'dry-run';
  readonly planId: string;
  readonly counts: Record<string, number>;
  readonly stale: number;
  readonly reported: number;
  readonly heldBack: number;
  readonly cloudMap: 'swept' | 'left-alone';
  /** When the next full sweep is due, when later than the next tick (its Describe share, see pacing.ts). */
  readonly nextSweepAt?: string;
  /** With STATE_TABLE: where the sweep that spans invocations stands after this slice. */
  readonly progress?: SweepProgress;
}

/** A tick before the next full sweep is due: nothing read, nothing written. */
export interface SweepSkippedResult {
  readonly status: 'skipped';
  readonly nextSweepAt: string;
}

/** Validates the schedule's event: source aws.events (or aws.scheduler), detail-type "Scheduled Event". */
export function parseScheduledEvent(raw: unknown): { id: string | undefined; time: string | undefined } {
  const envelope = parseEnvelope(raw);
  if (envelope.source !== 'aws.events' && envelope.source !== 'aws.scheduler') {
    throw new InvalidEventError(`source must be aws.events or aws.scheduler, got "${envelope.source}"`, 'source');
  }
  if (envelope['detail-type'] !== SCHEDULED_EVENT) {
    throw new InvalidEventError(`detail-type must be "${SCHEDULED_EVENT}", got "${envelope['detail-type']}"`, 'detail-type');
  }
  return { id: envelope.id, time: envelope.time };
}

/** Publishes the run's metrics (EMF): stale found, planned, deregistered, held back, reported, API calls, duration. */
export function recordSweepMetrics(metrics: Metrics, out: SweepRunResult): void {
  metrics.addMetric('staleFound', MetricUnit.Count, out.stale);
  metrics.addMetric('planned', MetricUnit.Count, out.plan.actions.length);
  metrics.addMetric('singlePointOfFailure', MetricUnit.Count, singlePointsOfFailure(out.plan));
  metrics.addMetric('deregistered', MetricUnit.Count, out.result.counts.deregistered + out.result.counts.submitted);
  metrics.addMetric('heldBack', MetricUnit.Count, out.plan.heldBack.length - out.reported + out.result.counts.refused);
  metrics.addMetric('reported', MetricUnit.Count, out.reported);
  metrics.addMetric('failed', MetricUnit.Count, out.result.counts.failed);
  if (out.apiCalls !== undefined) metrics.addMetric('apiCalls', MetricUnit.Count, out.apiCalls);
  metrics.addMetric('durationMs', MetricUnit.Milliseconds, Math.round(out.durationMs));
  metrics.addMetric('clusterUnavailable', MetricUnit.Count, out.clusterError ? 1 : 0);
}

/**
 * Publishes where a sweep that spans invocations stands after this slice: `sweepGroupsRead`, and
 * `sweepDurationSeconds` when this slice completed the sweep (`sweepOverdue` and `sweepElapsedSeconds` come
 * with the overdue check, once per invocation).
 */
export function recordProgress(metrics: Metrics, progress: SweepProgress, logger: Logger): void {
  metrics.addMetric('sweepGroupsRead', MetricUnit.Count, progress.groupsRead);
  if (progress.completed) metrics.addMetric('sweepDurationSeconds', MetricUnit.Seconds, progress.completed.durationSeconds);
  if (progress.overdue) logger.error('sweep overdue: it has not completed within SWEEP_OVERDUE_FACTOR times its expected duration', { ...progress });
}

/**
 * Builds the handler around a dependency factory (called once per container, on first use, so a
 * configuration error is reported with its variable name before any AWS call; tests pass their own).
 */
export function makeHandler(getDeps: () => SweepDeps, logger: Logger = createLogger('sweeper'), metrics: Metrics = createMetrics('sweeper')) {
  let deps: SweepDeps | undefined;
  const resolve = (): SweepDeps => (deps ??= getDeps());

  const run = async (event: EventBridgeEvent<string, unknown>): Promise<SweepInvocationResult | SweepSkippedResult> => {
    const d = resolve();
    const scheduled = parseScheduledEvent(event);
    const startedAt = d.now();
    const due = await skipUntil(d.pacing, startedAt, logger);
    if (due) {
      logger.info('sweep skipped: the next full sweep is not due yet', { eventId: scheduled.id, nextSweepAt: due.toISOString() });
      await recordOverdue(d, startedAt);
      return { status: 'skipped', nextSweepAt: due.toISOString() };
    }
    logger.info('sweep started', { eventId: scheduled.id, scheduledAt: scheduled.time, cluster: d.config.clusterName });
    const describedBefore = d.budget?.attempts('elb-describe') ?? 0;
    // A sweep that fails part-way (its time ran out) is paced by what it spent too, so it cannot repeat every tick.
    const out = await (d.state ? runSpanningSweep(d, d.state) : runSweep(d)).catch(async (err: unknown) => {
      await recordNext(d.pacing, startedAt, (d.budget?.attempts('elb-describe') ?? 0) - describedBefore, logger);
      await recordOverdue(d, d.now());
      throw err;
    });
    recordSweepMetrics(metrics, out);
    const { progress } = out as Partial<SpanningSweepResult>;
    if (progress) recordProgress(metrics, progress, logger);
    const next = await recordNext(d.pacing, startedAt, out.describeCalls, logger);
    // A full sweep completed: a run that could trust the cluster, and with STATE_TABLE the slice that read the
    // last group of the sweep (a slice before it completes nothing).
    if (out.clusterError || (progress && !progress.completed)) await recordOverdue(d, d.now(), progress);
    else {
      // The next one is expected within the tick, or the paced interval when longer, and never sooner than a
      // full sweep of the account takes at the share.
      const paced = next ? Math.ceil((next.getTime() - startedAt.getTime()) / 1000) : 0;
      const expectedSeconds = Math.max(d.config.tickSeconds, paced, progress?.expectedSeconds ?? 0);
      const recorded = await recordCompleted(d.completion, d.now(), expectedSeconds, logger);
      metrics.addMetric('sweepCompleted', MetricUnit.Count, 1);
      if (progress) metrics.addMetric('sweepElapsedSeconds', MetricUnit.Seconds, progress.elapsedSeconds);
      if (d.completion) metrics.addMetric('sweepOverdue', MetricUnit.Count, recorded ? 0 : 1);
    }
    logger.info('sweep finished', { planId: out.plan.id, status: out.status, counts: out.result.counts, stale: out.stale, reported: out.reported, scan: out.scan, apiCalls: out.apiCalls, describeCalls: out.describeCalls, nextSweepAt: next?.toISOString() ?? 'next tick', durationMs: Math.round(out.durationMs), ...(progress ? { progress } : {}) });
    if (out.clusterError) {
      const what = out.podListDoubt ? 'pod list not trusted' : 'API unreachable';
      const message = `cluster ${d.config.clusterName} ${what} (${out.clusterError.name}: ${out.clusterError.message}); only registrations on no ENI were removed`;
      logger.error(message);
      throw new ClusterUnavailableError(message);
    }
    const failed = out.result.retryableFailures + out.result.permanentFailures;
    if (failed > 0) {
      // A permanent failure (AccessDenied, a Cloud Map FAIL) is a failure too: the run fails and alarms.
      // A slice of a sweep that spans invocations moves on: its groups are read again when the sweep comes back
      // to them, a full sweep later, not at the next tick.
      const retry = progress
        ? `the sweep reads these groups again when it comes back to them, in the next full sweep (one takes about ${Math.ceil(progress.expectedSeconds / 60)} min at the share)`
        : `the next sweep retries them (due ${next?.toISOString() ?? 'at the next tick'}: failed runs are paced by what they spent too)`;
      throw new ApplyError(`${failed} deregistration(s) left undone; ${retry}`, failed, out.result.permanentFailures === 0);
    }
    return {
      status: out.status === 'dry-run' ? 'dry-run' : 'applied',
      planId: out.plan.id,
      counts: { ...out.result.counts },
      stale: out.stale,
      reported: out.reported,
      heldBack: out.plan.heldBack.length,
      cloudMap: out.cloudMap,
      ...(next ? { nextSweepAt: next.toISOString() } : {}),
      ...(progress ? { progress } : {}),
    };
  };

  /**
   * `sweepOverdue` (and, for a sweep that spans invocations, `sweepElapsedSeconds`) for an invocation that
   * completed no sweep (skipped, degraded, failed, or a slice before the last): the deadline and the sweep in
   * progress together (completion.ts `overdueOf`); `progress` is this slice's, else the cursor is read.
   */
  const recordOverdue = async (d: SweepDeps, now: Date, progress?: SweepProgress): Promise<void> => {
    const underway = progress ?? (d.state ? await sweepUnderway(d.state, d.config.sweepOverdueFactor, now) : undefined);
    if (underway) metrics.addMetric('sweepElapsedSeconds', MetricUnit.Seconds, underway.elapsedSeconds);
    const overdue = overdueOf(await overdueNow(d.completion, now, logger), underway);
    if (overdue === undefined) return;
    if (overdue === 1) logger.warn('no full sweep completed within SWEEP_OVERDUE_FACTOR expected intervals', { factor: d.config.sweepOverdueFactor });
    metrics.addMetric('sweepOverdue', MetricUnit.Count, overdue);
  };

  return middy(run)
    .use(logLambdaContext(logger))
    // In dry run, the first invocation of a container then checks what this function needs (docs/operations.md).
    .use(preflightOnColdStart({ fn: 'sweeper', logger, config: () => deps?.config, aws: () => deps?.aws }))
    .use(rejectInvalidInput(logger, () => deps?.audit))
    .use(publishMetrics(metrics));
}

/** The Lambda entry point: real AWS clients, honouring the SDK's standard configuration; one logger for all. */
const logger = createLogger('sweeper');
export const handler = makeHandler(() => buildSweepDeps({ logger }), logger);
