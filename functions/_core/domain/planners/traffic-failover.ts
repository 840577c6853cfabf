/**
 * Health failover of weighted listener rules, pure. When a target group in a weighted forward action falls
 * below its minimum of healthy targets (a spot reclaim took its pods, a cluster is degraded), its weight
 * goes to the healthy siblings; when it has recovered, the weights from before the failover come back.
 *
 * One computation covers both directions: the desired weights are always derived from the rule's ORIGINAL
 * weights (remembered durably at the first failover) and today's health. With every group healthy that is
 * the original (a restore); with some degraded, their original weight is spread over the healthy siblings
 * in proportion to the siblings' original weights (equally when those are all 0, e.g. the old cluster kept
 * at weight 0 after a migration). A second failover while one is in effect therefore never compounds.
 */
import type { HeldBackAction, Plan, PlanAction, WeightedTargetGroup } from '../plan.ts';
import { targetGroupNameOf } from '../target-group-arn.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';
import { describeWeights, forwardWeights, MAX_WEIGHT, sameWeights, withWeights } from './traffic-weights.ts';

/** One weighted rule as observed. */
export interface ObservedWeightedRule {
  readonly ruleArn: string;
  readonly listenerArn: string;
  readonly actions: readonly unknown[];
}

/** Input of {@link planWeightFailover}. */
export interface WeightFailoverInput {
  readonly planId: string;
  readonly now: Date;
  readonly rules: readonly ObservedWeightedRule[];
  /** Healthy target count per target group ARN. */
  readonly healthy: ReadonlyMap<string, number>;
  readonly minHealthy: number;
  /** Weights remembered at a rule's first failover (absent = the rule is not failed over). */
  readonly originals: ReadonlyMap<string, readonly WeightedTargetGroup[]>;
  /** Rules a traffic shift holds (their shift's gate decides; failover keeps out). */
  readonly lockedRules?: ReadonlySet<string>;
}

/** What the workflow must remember or forget besides applying the plan. */
export interface WeightFailoverPlan {
  readonly plan: Plan;
  /** Originals to store before applying (first failover of the rule). */
  readonly remember: ReadonlyMap<string, readonly WeightedTargetGroup[]>;
  /** Rules whose originals are restored by this plan (or already in place): forget them once applied. */
  readonly forget: readonly string[];
  /** Rules still failed over after this plan: look again later. */
  readonly stillFailedOver: readonly string[];
}

/** Spreads `amount` over `to` in proportion to their base weights (equally if all 0), in whole numbers. */
function spread(amount: number, to: readonly WeightedTargetGroup[]): Map<string, number> {
  const total = to.reduce((s, w) => s + w.weight, 0);
  const shares = to.map((w) => ({ arn: w.targetGroupArn, exact: total === 0 ? amount / to.length : (amount * w.weight) / total }));
  const out = new Map(shares.map((s) => [s.arn, Math.floor(s.exact)]));
  let rest = amount - [...out.values()].reduce((s, v) => s + v, 0);
  for (const s of [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
    if (rest <= 0) break;
    out.set(s.arn, (out.get(s.arn) ?? 0) + 1);
    rest--;
  }
  return out;
}

/** Scales weights down so that none exceeds 999, keeping every non-zero weight at least 1. */
function capWeights(weights: WeightedTargetGroup[]): WeightedTargetGroup[] {
  const max = Math.max(...weights.map((w) => w.weight));
  if (max <= MAX_WEIGHT) return weights;
  return weights.map((w) => ({ ...w, weight: w.weight === 0 ? 0 : Math.max(1, Math.floor((w.weight * MAX_WEIGHT) / max)) }));
}

/** The desired weights of one rule, or a reason to leave it alone. */
export function desiredWeights(
  base: readonly WeightedTargetGroup[],
  healthy: ReadonlyMap<string, number>,
  minHealthy: number,
): { weights: WeightedTargetGroup[]; degraded: string[] } | { hold: string; degraded: string[] } {
  const ok = (arn: string): boolean => (healthy.get(arn) ?? 0) >= minHealthy;
  const degraded = base.filter((w) => w.weight > 0 && !ok(w.targetGroupArn)).map((w) => w.targetGroupArn);
  if (degraded.length === 0) return { weights: base.map((w) => ({ ...w })), degraded };
  const siblings = base.filter((w) => !degraded.includes(w.targetGroupArn) && ok(w.targetGroupArn));
  if (siblings.length === 0) return { hold: 'no healthy sibling target group can take the weight', degraded };
  const moved = base.filter((w) => degraded.includes(w.targetGroupArn)).reduce((s, w) => s + w.weight, 0);
  const extra = spread(moved, siblings);
  const weights = base.map((w) => ({
    targetGroupArn: w.targetGroupArn,
    weight: degraded.includes(w.targetGroupArn) ? 0 : w.weight + (extra.get(w.targetGroupArn) ?? 0),
  }));
  return { weights: capWeights(weights), degraded };
}

/** Plans failovers and restores for the observed weighted rules. */
export function planWeightFailover(input: WeightFailoverInput): WeightFailoverPlan {
  const actions: PlanAction[] = [];
  const heldBack: HeldBackAction[] = [];
  const warnings: PlanWarning[] = [];
  const remember = new Map<string, readonly WeightedTargetGroup[]>();
  const forget: string[] = [];
  const stillFailedOver: string[] = [];
  for (const rule of input.rules) {
    const current = forwardWeights(rule.ruleArn, rule.actions);
    if (current.length < 2) continue;
    let original = input.originals.get(rule.ruleArn);
    // Someone changed the rule's groups since the failover (terraform): the remembered weights no longer apply.
    if (original && !(original.length === current.length && original.every((o) => current.some((c) => c.targetGroupArn === o.targetGroupArn)))) {
      warnings.push(planWarning('failover-groups-changed', `${rule.ruleArn}: its target groups changed since the failover; the remembered weights are dropped`));
      forget.push(rule.ruleArn);
      original = undefined;
    }
    const base = original ?? current;
    const d = desiredWeights(base, input.healthy, input.minHealthy);
    const restoring = original !== undefined && d.degraded.length === 0;
    const make = (weights: WeightedTargetGroup[], why: string): PlanAction => ({
      kind: 'set-weights',
      ruleArn: rule.ruleArn,
      listenerArn: rule.listenerArn,
      weights,
      previous: current,
      actions: withWeights(rule.ruleArn, rule.actions, weights),
      why,
    });
    if ('hold' in d) {
      if (original) stillFailedOver.push(rule.ruleArn);
      heldBack.push({ action: make(current, 'failover'), guard: 'never-empty', reason: `${rule.ruleArn}: ${d.hold} (degraded: ${d.degraded.join(', ')})` });
      warnings.push(planWarning('failover-all-degraded', `${rule.ruleArn}: every target group with weight is below ${input.minHealthy} healthy; weights left as they are`));
      continue;
    }
    if (input.lockedRules?.has(rule.ruleArn)) {
      if (!sameWeights(d.weights, current)) {
        heldBack.push({ action: make(d.weights, 'failover'), guard: 'ownership', reason: `${rule.ruleArn}: a traffic shift holds this rule; its health gate decides` });
      }
      if (original) stillFailedOver.push(rule.ruleArn);
      continue;
    }
    if (restoring) forget.push(rule.ruleArn);
    else if (d.degraded.length > 0) stillFailedOver.push(rule.ruleArn);
    if (sameWeights(d.weights, current)) continue;
    if (!original && d.degraded.length > 0) remember.set(rule.ruleArn, current);
    const why = restoring
      ? `restore after recovery: ${describeWeights(d.weights)}`
      : `failover: ${d.degraded.map((a) => `${targetGroupNameOf(a)} below ${input.minHealthy} healthy`).join(', ')} -> ${describeWeights(d.weights)}`;
    actions.push(make(d.weights, why));
  }
  const plan: Plan = {
    id: input.planId,
    trigger: 'weight-failover',
    subject: `weighted rules: ${input.rules.map((r) => r.ruleArn.split('/').pop()).join(', ')}`,
    createdAt: input.now.toISOString(),
    actions,
    heldBack,
    warnings,
    census: {},
  };
  return { plan, remember, forget: [...new Set(forget)], stillFailedOver };
}
