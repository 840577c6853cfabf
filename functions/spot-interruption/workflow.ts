/**
 * The spot-interruption workflow for one invocation: a batch of node signals (one event, or an SQS batch of
 * a reclaim wave) and re-registration checks, as a pipeline of named stages. A wave of 20 warnings in 10 s
 * is one observation, one plan, one apply.
 *
 *   classify -> scope -> scheduled changes (plan + schedule; due ones join the batch)
 *            -> candidates (the cluster's, or a scan) -> observe + apply (per group, under its lease)
 *            -> progress -> audit
 *            -> complete lifecycle hooks -> schedule re-checks
 */
import { randomUUID } from 'node:crypto';
import { planSummary, type CandidateAudit, type Plan } from '#core/domain/plan.ts';
import { planWarning, warningsOf } from '#core/domain/warnings.ts';
import type { ApplyResult } from '#core/executor/executor.ts';
import { classifySignals } from './stages/classify.ts';
import { completeLifecycleHooks, reportUnusableHooks, type LifecycleWork } from './stages/lifecycle.ts';
import { observeAndApply } from './stages/observe-apply.ts';
import { nodeProgress } from './stages/progress.ts';
import { lookAgainLater, scheduleRechecks } from './stages/rechecks.ts';
import { settleScheduledChanges } from './stages/scheduled-changes.ts';
import { scopeToCluster, withDueSignals } from './stages/scope.ts';
import type { Ignored, NodeWorkflowDeps, Rejected, RetryItem, WorkItem } from './types.ts';

export type { Ignored, NodeWorkflowDeps, Rejected, RetryItem, WorkItem } from './types.ts';

/** What happened to the batch, per input. */
export interface NodeWorkflowResult {
  readonly plan: Plan | undefined;
  readonly result: ApplyResult | undefined;
  readonly ignored: readonly Ignored[];
  /** AWS Health notifications that scheduled, moved or cancelled a deregistration, with what was done. */
  readonly scheduled: readonly Ignored[];
  readonly rejected: readonly Rejected[];
  /** Items whose work is not finished (a deregistration failed, retryably or not): retried. */
  readonly retry: readonly RetryItem[];
  readonly rechecksScheduled: number;
  readonly lifecycleCompleted: number;
  /** Lifecycle actions left pending because their node was still in traffic. */
  readonly lifecyclePending: number;
  /** How the target groups were found (fast path, fallback full scan, completeness scan) and what was missed. */
  readonly candidates?: CandidateAudit;
}

/** Per-invocation options. */
export interface RunOptions {
  /** Epoch ms by which applying must be done (the Lambda's remaining time, minus what follows apply). */
  readonly deadline?: number;
}

/** Runs the workflow for a batch. Never throws for an AWS write failure: see `retry`. */
export async function deregisterNodes(items: readonly WorkItem[], deps: NodeWorkflowDeps, options: RunOptions = {}): Promise<NodeWorkflowResult> {
  const { config, logger } = deps;
  const now = deps.now();
  const batch = classifySignals(items, config, now);
  const scoped = await scopeToCluster(batch, deps);
  const settled = await settleScheduledChanges(scoped, deps, now);
  const looks = await lookAgainLater(scoped, deps, now);
  const scope = withDueSignals(scoped, settled.due, [...settled.ignored, ...looks.ignored]);
  for (const i of scope.ignored) logger.info('event ignored', { ...i });
  await reportUnusableHooks(scope.active, deps);
  const earlyRetry = [...settled.retry, ...looks.retry];
  const nothing = { plan: undefined, result: undefined, ignored: scope.ignored, scheduled: settled.planned, rejected: scope.rejected, retry: earlyRetry, rechecksScheduled: 0, lifecycleCompleted: 0, lifecyclePending: 0 };
  if (scope.planNodes.length === 0) return nothing;

  const applied = await observeAndApply(scope, deps, { planId: randomUUID(), now, ...(options.deadline ? { deadline: options.deadline } : {}) });
  const progress = nodeProgress(applied, scope.planNodes.map((n) => n.instanceId));
  const lifecycleWork: LifecycleWork[] = [
    ...scope.active.flatMap((a) => (a.signal.kind === 'lifecycle' && !a.signal.unusable ? [{ itemId: a.item.itemId, action: a.signal }] : [])),
    ...scope.liveRechecks.flatMap((r) => (r.message.lifecycle ?? []).map((action) => ({ itemId: r.item.itemId, action }))),
  ];
  const lifecycleWarnings = lifecycleWork
    .filter((w) => progress.unfinished.has(w.action.instanceId) || progress.inTraffic.has(w.action.instanceId))
    .map((w) => planWarning('lifecycle-pending', `lifecycle action ${w.action.lifecycleHookName} of ${w.action.instanceId} not completed: its node is still in traffic; re-checked every ${config.guardIntervalSeconds} s, then left to Auto Scaling's heartbeat timeout`));
  const plan: Plan = { ...applied.plan, warnings: [...applied.plan.warnings, ...lifecycleWarnings] };
  const { result } = applied;

  logger.info('plan', { planId: plan.id, subject: plan.subject, summary: planSummary(plan), writes: deps.executor.mode, candidates: plan.candidates, warnings: plan.warnings });
  for (const w of warningsOf(plan.warnings, 'single-point-of-failure')) logger.warn(w.text, { code: w.code });
  // Audit every plan for a new signal; a re-check round that found nothing to do is only logged (a dying node
  // is looked at up to GUARD_DEADLINE / GUARD_INTERVAL times, and "nothing came back" is not news).
  if (scope.active.length > 0 || plan.actions.length > 0 || applied.failedObservation) await deps.audit.record(plan, result);
  if (applied.failedObservation) throw applied.failedObservation;
  if (deps.weightedFailover) {
    const touched = [...new Set(plan.actions.flatMap((a) => (a.kind === 'deregister-target' ? [a.target.targetGroupArn] : [])))];
    if (touched.length > 0) await deps.weightedFailover(touched).catch((err: unknown) => logger.error('weighted-rule failover failed', { error: err as Error }));
  }

  // Inputs whose nodes have a failed deregistration are retried (a permanent failure too: it is counted,
  // alarmed, and lands in the dead-letter queue rather than passing as done).
  const retry: RetryItem[] = [];
  const failedFor = (ids: readonly string[]): string | undefined => ids.map((id) => progress.unfinished.get(id)?.[0]).find((f) => f !== undefined);
  for (const a of scope.active) {
    const f = failedFor([a.signal.instanceId]);
    if (f) retry.push({ itemId: a.item.itemId, reason: `deregistration failed: ${f}` });
  }
  for (const r of scope.liveRechecks) {
    const f = failedFor(r.message.instanceIds);
    if (f) retry.push({ itemId: r.item.itemId, reason: `deregistration failed: ${f}` });
  }
  const lifecycle = await completeLifecycleHooks(lifecycleWork, progress, deps);
  for (const p of lifecycle.pending) logger.warn('lifecycle action left pending: node still in traffic', { instanceId: p.work.action.instanceId, hook: p.work.action.lifecycleHookName, reason: p.reason });
  const rechecks = await scheduleRechecks(scope, applied, lifecycle.pending.map((p) => p.work), deps, now);
  const all = [...earlyRetry, ...retry, ...lifecycle.retry, ...rechecks.retry];
  return {
    plan,
    result,
    ignored: scope.ignored,
    scheduled: settled.planned,
    rejected: scope.rejected,
    retry: [...new Map(all.map((r) => [r.itemId, r])).values()],
    rechecksScheduled: rechecks.scheduled,
    lifecycleCompleted: lifecycle.completed,
    lifecyclePending: lifecycle.pending.length,
    candidates: applied.candidates,
  };
}
