/**
 * Health failover of weighted listener rules, as a workflow the spot-interruption (and pod) triggers call
 * after they applied their own plan, and the traffic-shift function calls on its own re-check schedule:
 *
 *   listeners (FAILOVER_LISTENER_ARNS) -> weighted rules holding an affected group -> health of every group
 *   of those rules + remembered originals -> pure plan (failover / restore) -> remember originals durably
 *   -> executor.apply -> verify -> forget restored originals -> audit -> re-check later while failed over
 *
 * The originals live in the state store (not in a rule tag) because they must survive exactly as long as the
 * failover and be written conditionally: the first failover remembers, later ones never overwrite.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AuditSink } from '#core/audit.ts';
import { healthyCount } from '#core/domain/health-gate.ts';
import type { WeightedTargetGroup } from '#core/domain/plan.ts';
import { targetGroupNameOf } from '#core/domain/target-group-arn.ts';
import { planWeightFailover, type ObservedWeightedRule } from '#core/domain/planners/traffic-failover.ts';
import { forwardWeights, isWeightedRule, listenerArnOfRule } from '#core/domain/planners/traffic-weights.ts';
import { isWritten, type ApplyResult, type Executor } from '#core/executor/executor.ts';
import { mapWithConcurrency } from '#core/concurrency.ts';
import type { Elbv2Reads } from '#core/ports/index.ts';
import type { OneTimeSchedulerPort } from '#core/ports/scheduler.ts';
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { WritePort } from '#core/ports/writes.ts';
import type { Logger } from '#core/telemetry.ts';
import type { Plan } from '#core/domain/plan.ts';
import { lockKey, TrafficDetailType } from '#core/contracts/traffic.ts';
import { verifyRuleWeights } from './verify-weights.ts';

/**
 * What the failover needs: built by the traffic-shift function from its deps, and by core/failover/wiring.ts
 * for the others. Its writes (the weights through the executor, the remembered originals, the re-check
 * schedule) are all sections of the caller's write port.
 */
export interface FailoverDeps {
  readonly elbv2: Elbv2Reads;
  /** The write port's ELB side: a written rule is read back through it (verification). */
  readonly writes: Pick<WritePort, 'elbv2'>;
  readonly executor: Executor;
  readonly audit: AuditSink;
  /** Remembered originals (the write port's state table). */
  readonly store: StateStorePort;
  /** For the restore re-check (the write port's); undefined = restores happen only when a trigger calls again. */
  readonly scheduler: OneTimeSchedulerPort | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly listenerArns: readonly string[];
  readonly minHealthy: number;
  readonly recheckSeconds: number;
  readonly verifyAttempts: number;
  readonly verifyIntervalMs: number;
}

/** What one failover pass did. */
export interface FailoverResult {
  readonly plan: Plan | undefined;
  readonly result: ApplyResult | undefined;
  readonly failedOver: readonly string[];
  readonly restored: readonly string[];
  readonly unverified: readonly string[];
  readonly recheckScheduled: boolean;
}

/** Where a rule's pre-failover weights are remembered. */
export const originalsKey = (ruleArn: string): string => `failover#${ruleArn}`;
const ORIGINALS_OWNER = 'weight-failover';
/** Originals are kept at most this long (a failover nobody restores in 30 days is a decision, not an outage). */
const ORIGINALS_SECONDS = 30 * 24 * 3600;

/**
 * Fails over (or restores) every weighted rule on the configured listeners that forwards to one of
 * `affectedTargetGroupArns`. Safe to call often: with nothing degraded and nothing remembered it writes
 * nothing. AWS read errors propagate (the caller decides); write failures are in the result.
 */
export async function failoverWeightedRules(deps: FailoverDeps, affectedTargetGroupArns: readonly string[]): Promise<FailoverResult> {
  const empty: FailoverResult = { plan: undefined, result: undefined, failedOver: [], restored: [], unverified: [], recheckScheduled: false };
  const affected = new Set(affectedTargetGroupArns);
  if (deps.listenerArns.length === 0 || affected.size === 0) return empty;
  const now = deps.now();
  const perListener = await mapWithConcurrency([...deps.listenerArns], 4, (l) => deps.elbv2.describeRules({ listenerArn: l }));
  const rules: ObservedWeightedRule[] = perListener
    .flat()
    .filter((r) => isWeightedRule(r.ruleArn, r.actions) && forwardWeights(r.ruleArn, r.actions).some((w) => affected.has(w.targetGroupArn)))
    .map((r) => ({ ruleArn: r.ruleArn, listenerArn: listenerArnOfRule(r.ruleArn), actions: r.actions }));
  if (rules.length === 0) return empty;

  const groups = [...new Set(rules.flatMap((r) => forwardWeights(r.ruleArn, r.actions).map((w) => w.targetGroupArn)))];
  const [health, records, locks] = await Promise.all([
    mapWithConcurrency(groups, 8, async (arn) => [arn, healthyCount(await deps.elbv2.targetHealth(arn, targetGroupNameOf(arn)))] as const),
    mapWithConcurrency(rules, 8, (r) => deps.store.get(originalsKey(r.ruleArn), now)),
    mapWithConcurrency(rules, 8, (r) => deps.store.get(lockKey(r.ruleArn), now)),
  ]);
  const originals = new Map<string, readonly WeightedTargetGroup[]>();
  records.forEach((rec, i) => {
    const w = rec?.data['weights'];
    if (Array.isArray(w)) originals.set(rules[i]!.ruleArn, w as WeightedTargetGroup[]);
  });
  const lockedRules = new Set(rules.filter((_, i) => locks[i] !== undefined).map((r) => r.ruleArn));
  const decided = planWeightFailover({ planId: randomUUID(), now, rules, healthy: new Map(health), minHealthy: deps.minHealthy, originals, lockedRules });
  const { plan } = decided;

  // Remember before writing: a crash between the two must never lose the weights to restore.
  for (const [ruleArn, weights] of decided.remember) {
    const record = { key: originalsKey(ruleArn), owner: ORIGINALS_OWNER, expiresAt: new Date(now.getTime() + ORIGINALS_SECONDS * 1000), data: { weights } };
    if (!(await deps.store.putIfAbsent(record, now))) await deps.store.updateIfOwner(record.key, ORIGINALS_OWNER, { expiresAt: record.expiresAt, data: record.data });
  }
  const result = plan.actions.length > 0 || plan.heldBack.length > 0 ? await deps.executor.apply(plan) : undefined;
  const unverified: string[] = [];
  const applied = new Set<string>();
  for (const o of result?.outcomes ?? []) {
    if (o.action.kind !== 'set-weights' || !isWritten(o)) continue;
    const v = await verifyRuleWeights(deps.writes.elbv2, o.action.ruleArn, o.action.weights, { attempts: deps.verifyAttempts, intervalMs: deps.verifyIntervalMs, sleep: deps.sleep });
    if (v.verified) applied.add(o.action.ruleArn);
    else unverified.push(o.action.ruleArn);
  }
  if (result) await deps.audit.record(plan, result);
  if (unverified.length > 0) deps.logger.error('weight failover written but not visible in DescribeRules', { rules: unverified });

  // Forget originals that are back in place (restored now, or already equal).
  const restored: string[] = [];
  const writtenRules = new Set(plan.actions.flatMap((a) => (a.kind === 'set-weights' ? [a.ruleArn] : [])));
  for (const ruleArn of decided.forget) {
    if (writtenRules.has(ruleArn) && !applied.has(ruleArn)) continue;
    await deps.store.deleteIfOwner(originalsKey(ruleArn), ORIGINALS_OWNER);
    if (writtenRules.has(ruleArn)) restored.push(ruleArn);
  }
  const failedOver = decided.stillFailedOver.filter((r) => !writtenRules.has(r) || applied.has(r));

  // Come back for the restore without holding a Lambda: a one-time schedule of a failover check.
  let recheckScheduled = false;
  const pending = [...new Set([...decided.stillFailedOver, ...unverified])];
  if (pending.length > 0 && deps.scheduler) {
    const tgs = [...new Set(rules.filter((r) => pending.includes(r.ruleArn)).flatMap((r) => forwardWeights(r.ruleArn, r.actions).map((w) => w.targetGroupArn)))];
    const at = new Date(now.getTime() + deps.recheckSeconds * 1000);
    const name = `quiesce-failover-${createHash('sha256').update(tgs.sort().join(',')).digest('hex').slice(0, 16)}-${Math.ceil(at.getTime() / 1000)}`;
    try {
      await deps.scheduler.scheduleOnce({ name, at, detailType: TrafficDetailType.failoverCheck, detail: { targetGroupArns: tgs }, description: 'quiesce: restore weights once healthy' });
      recheckScheduled = true;
    } catch (err) {
      deps.logger.error('failover re-check not scheduled: restore waits for the next trigger', { error: err as Error });
    }
  }
  return { plan, result, failedOver, restored, unverified, recheckScheduled };
}
