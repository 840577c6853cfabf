/**
 * Traffic-shift planning, pure: which steps remain, the weights of one step, and the rollback. Each is a
 * `Plan` with one `set-weights` action carrying the rule's whole action list, so the one executor applies
 * it and the audit trail shows intended weights next to the weights before.
 *
 * Weight arithmetic. A step is "to gets p percent of what from and to carry together". Other groups of the
 * same forward action keep their weights, so their share of traffic does not move. When from and to are the
 * only groups with weight, their pair is rescaled to 100 (weights are relative: 100/0 = 999/0), which gives
 * whole percents; when other groups carry weight, the pair keeps its total so the others' share is exact.
 */
import type { Plan, SetWeightsAction, WeightedTargetGroup } from '../plan.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';
import { describeWeights, forwardWeights, MAX_WEIGHT, UnshiftableRuleError, validateWeights, withWeights } from './traffic-weights.ts';

/** The part of a traffic plan the arithmetic needs. */
export interface ShiftPair {
  readonly ruleArn: string;
  readonly from: string;
  readonly to: string;
}

function weightOf(weights: readonly WeightedTargetGroup[], arn: string): number {
  return weights.find((w) => w.targetGroupArn === arn)?.weight ?? 0;
}

/** Checks that from and to are distinct groups of the rule's forward action. */
export function checkPair(pair: ShiftPair, weights: readonly WeightedTargetGroup[]): void {
  if (pair.from === pair.to) throw new UnshiftableRuleError(pair.ruleArn, 'from and to are the same target group');
  for (const [role, arn] of [['from', pair.from], ['to', pair.to]] as const) {
    if (!weights.some((w) => w.targetGroupArn === arn)) throw new UnshiftableRuleError(pair.ruleArn, `the ${role} target group ${arn} is not in its forward action`);
  }
}

/** The percentage of the from+to pair that `to` carries now (0 when the pair carries nothing). */
export function currentPercent(pair: ShiftPair, weights: readonly WeightedTargetGroup[]): number {
  const f = weightOf(weights, pair.from);
  const t = weightOf(weights, pair.to);
  return f + t === 0 ? 0 : (100 * t) / (f + t);
}

/** The configured steps still ahead of where the rule is (a re-run from 50 % does not go back to 10 %). */
export function remainingSteps(steps: readonly number[], percentNow: number): number[] {
  return steps.filter((p) => p > percentNow + 1e-9);
}

/**
 * The weights for `percent`, computed from the weights at the start of the shift (`original`) and applied
 * to the rule's weights now (`current`: other groups keep what they have now).
 */
export function stepWeights(pair: ShiftPair, original: readonly WeightedTargetGroup[], current: readonly WeightedTargetGroup[], percent: number): WeightedTargetGroup[] {
  if (!(percent >= 0 && percent <= 100)) throw new UnshiftableRuleError(pair.ruleArn, `step ${percent}% is outside 0..100`);
  const others = original.filter((w) => w.targetGroupArn !== pair.from && w.targetGroupArn !== pair.to).reduce((s, w) => s + w.weight, 0);
  const pairTotal = weightOf(original, pair.from) + weightOf(original, pair.to);
  if (pairTotal === 0 && others > 0) throw new UnshiftableRuleError(pair.ruleArn, 'from and to carry no weight: there is nothing to shift');
  // With other groups, the pair keeps its total (capped at 999 so a 999/1 pair cannot produce 1000/0).
  const scale = others === 0 ? 100 : Math.min(pairTotal, MAX_WEIGHT);
  const to = Math.round((scale * percent) / 100);
  const next = current.map((w) =>
    w.targetGroupArn === pair.to ? { ...w, weight: to } : w.targetGroupArn === pair.from ? { ...w, weight: scale - to } : { ...w },
  );
  validateWeights(pair.ruleArn, next);
  return next;
}

/** Common inputs of the shift planners. */
export interface ShiftPlanInput {
  readonly planId: string;
  readonly now: Date;
  readonly pair: ShiftPair;
  readonly listenerArn: string;
  /** The rule's whole action list as DescribeRules returned it just now. */
  readonly actions: readonly unknown[];
  /** Weights when the shift started: the rollback target and the base of every step. */
  readonly original: readonly WeightedTargetGroup[];
  /** For humans: app and revision. */
  readonly subject: string;
}

function plan(input: ShiftPlanInput, action: SetWeightsAction, warnings: PlanWarning[] = []): Plan {
  return {
    id: input.planId,
    trigger: 'traffic-shift',
    subject: input.subject,
    createdAt: input.now.toISOString(),
    actions: [action],
    heldBack: [],
    warnings,
    census: {},
  };
}

/** The plan of one step: `percent` of the pair to `to`. */
export function planShiftStep(input: ShiftPlanInput & { readonly percent: number; readonly step: number; readonly of: number }): Plan {
  const current = forwardWeights(input.pair.ruleArn, input.actions);
  checkPair(input.pair, current);
  const weights = stepWeights(input.pair, input.original, current, input.percent);
  const warnings: PlanWarning[] = [];
  const others = input.original.some((w) => w.weight > 0 && w.targetGroupArn !== input.pair.from && w.targetGroupArn !== input.pair.to);
  const pairTotal = weightOf(input.original, input.pair.from) + weightOf(input.original, input.pair.to);
  if (others && pairTotal < 100) warnings.push(planWarning('weights-rounded', `from and to carry only ${pairTotal} weight between them next to other groups: steps are rounded to 1/${pairTotal}`));
  return plan(
    input,
    {
      kind: 'set-weights',
      ruleArn: input.pair.ruleArn,
      listenerArn: input.listenerArn,
      weights,
      previous: current,
      actions: withWeights(input.pair.ruleArn, input.actions, weights),
      why: `step ${input.step}/${input.of}: ${input.percent}% to the new target group (${describeWeights(weights)})`,
    },
    warnings,
  );
}

/**
 * The rollback: every group that was in the rule when the shift started goes back to its weight then; a
 * group added since keeps its current weight (it was not ours to move).
 */
export function planShiftRollback(input: ShiftPlanInput & { readonly reason: string }): Plan {
  const current = forwardWeights(input.pair.ruleArn, input.actions);
  const originalOf = new Map(input.original.map((w) => [w.targetGroupArn, w.weight]));
  const weights = current.map((w) => ({ targetGroupArn: w.targetGroupArn, weight: originalOf.get(w.targetGroupArn) ?? w.weight }));
  return plan(input, {
    kind: 'set-weights',
    ruleArn: input.pair.ruleArn,
    listenerArn: input.listenerArn,
    weights,
    previous: current,
    actions: withWeights(input.pair.ruleArn, input.actions, weights),
    why: `rollback (${input.reason}): back to ${describeWeights(weights)}`,
  });
}
