/**
 * Write verification: after ModifyRule, read the rule back until DescribeRules shows exactly the weights
 * written. Argo Rollouts learned the hard way that a rollout can "finish" before the ALB weight really
 * changed (argo-rollouts #3333, #3926): a write that returned 200 is not yet traffic that moved.
 */
import type { WeightedTargetGroup } from '#core/domain/plan.ts';
import { forwardWeights, sameWeights } from '#core/domain/planners/traffic-weights.ts';
import type { Elbv2Port } from '#core/ports/index.ts';

/** The outcome of a verification. */
export interface Verification {
  readonly verified: boolean;
  readonly reads: number;
  /** The weights the last read showed. */
  readonly seen: readonly WeightedTargetGroup[] | undefined;
}

/** Reads the rule up to `attempts` times, `intervalMs` apart, until it shows `expected`. */
export async function verifyRuleWeights(
  elbv2: Pick<Elbv2Port, 'describeRules'>,
  ruleArn: string,
  expected: readonly WeightedTargetGroup[],
  options: { attempts: number; intervalMs: number; sleep: (ms: number) => Promise<void> },
): Promise<Verification> {
  let seen: WeightedTargetGroup[] | undefined;
  for (let read = 1; read <= options.attempts; read++) {
    const [rule] = await elbv2.describeRules({ ruleArns: [ruleArn] });
    seen = rule ? forwardWeights(ruleArn, rule.actions) : undefined;
    if (seen && sameWeights(seen, expected)) return { verified: true, reads: read, seen };
    if (read < options.attempts) await options.sleep(options.intervalMs);
  }
  return { verified: false, reads: options.attempts, seen };
}
