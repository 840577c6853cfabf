/**
 * Middy middleware: flushes Powertools metrics (EMF) after every invocation, success or failure, and only
 * when there is something to flush: an ignored event records no metric and should print nothing.
 */
import type { MiddlewareObj } from '@middy/core';
import type { CandidateAudit, Plan } from '../domain/plan.ts';
import type { ApplyResult } from '../executor/executor.ts';
import { MetricUnit, type Metrics } from '../telemetry.ts';

/** Creates the middleware for one function's metrics object. */
export function publishMetrics(metrics: Metrics): MiddlewareObj<unknown, unknown> {
  const flush = async (): Promise<void> => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}

/**
 * Registrations the min-healthy guard kept in traffic because they are their group's last healthy ones (the
 * plan's SINGLE POINT OF FAILURE warnings): nothing failed, but the group loses them with the node. The
 * alarm `*-single-point-of-failure` (serverless alarms.yml) fires on `singlePointOfFailure > 0`.
 */
export function singlePointsOfFailure(plan: Plan): number {
  return plan.heldBack.filter((h) => h.guard === 'min-healthy').length;
}

/**
 * The metrics every deregistering trigger records for one applied plan. `heldBack` counts what a guard kept
 * in traffic, whether at planning or at apply time (under the lease, against the other writers), and
 * `singlePointOfFailure` the part of it that was a group's last healthy registrations; `failed` counts every
 * failed write, retryable or not: the alarm on `failed > 0` (serverless alarms.yml) fires on it.
 */
export function recordApplyMetrics(metrics: Metrics, plan: Plan | undefined, result: ApplyResult | undefined): void {
  if (!plan || !result) return;
  metrics.addMetric('planned', MetricUnit.Count, plan.actions.length);
  metrics.addMetric('heldBack', MetricUnit.Count, plan.heldBack.length + result.counts.refused);
  metrics.addMetric('singlePointOfFailure', MetricUnit.Count, singlePointsOfFailure(plan));
  metrics.addMetric('deregistered', MetricUnit.Count, result.counts.deregistered + result.counts.submitted);
  metrics.addMetric('failed', MetricUnit.Count, result.counts.failed);
}

/**
 * Publishes how a node plan found its target groups: `fastPath` (candidates from the cluster), `fullScan` (a
 * new warning scanned everything, for any reason), `fullScanFallback` (of those, the ones where the fast path
 * was wanted but the cluster API did not answer: alarmed, since every warning then waits for the full scan)
 * and `fastPathMiss` (registrations a completeness round found that the fast path had not described: alarmed),
 * so operators see whether the fast path is used and whether it ever misses.
 */
export function recordCandidateMetrics(metrics: Metrics, candidates: CandidateAudit | undefined): void {
  if (!candidates || candidates.source === 'targeted') return;
  if (candidates.source === 'completeness-scan') {
    metrics.addMetric('fastPathMiss', MetricUnit.Count, candidates.missed?.length ?? 0);
    return;
  }
  metrics.addMetric('fastPath', MetricUnit.Count, candidates.source === 'cluster' ? 1 : 0);
  // An index-ordered scan (the registration index named the node's groups) is a scan all the same.
  const scan = candidates.source === 'full-scan' || candidates.source === 'index';
  metrics.addMetric('fullScan', MetricUnit.Count, scan ? 1 : 0);
  metrics.addMetric('fullScanFallback', MetricUnit.Count, scan && candidates.fallback === true ? 1 : 0);
  metrics.addMetric('indexFallback', MetricUnit.Count, candidates.source === 'index' ? 1 : 0);
  metrics.addMetric('targetGroupsDescribed', MetricUnit.Count, candidates.groupsDescribed);
}
