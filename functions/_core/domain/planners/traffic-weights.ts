/**
 * Weight arithmetic for weighted forward actions, pure. The only place that reads or writes the SDK shape of
 * a listener rule's Actions, so that every weight change (a shift step, a rollback, a health failover, a
 * restore) writes the WHOLE action list back exactly as it was except for the weights: ModifyRule replaces
 * all actions, so anything dropped here (an authenticate-oidc action before the forward, another target
 * group, TargetGroupStickinessConfig) would be silently deleted from the rule. Authenticate actions go back
 * as ModifyRule accepts them (an OIDC action keeps its secret through UseExistingClientSecret).
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html
 */
import { QuiesceError } from '../../errors.ts';
import type { WeightedTargetGroup } from '../plan.ts';
import { targetGroupNameOf } from '../target-group-arn.ts';

/** TargetGroupTuple.Weight: 0-999. */
export const MAX_WEIGHT = 999;
/** ForwardActionConfig: at most 5 target groups per forward action. */
export const MAX_FORWARD_GROUPS = 5;

/** A rule whose weights quiesce cannot (or must not) change; never retried, always explained. */
export class UnshiftableRuleError extends QuiesceError {
  readonly ruleArn: string;
  constructor(ruleArn: string, message: string) {
    super(`${ruleArn}: ${message}`, { retryable: false });
    this.ruleArn = ruleArn;
  }
}

type ActionShape = Record<string, unknown> & {
  Type?: string;
  TargetGroupArn?: string;
  ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[]; TargetGroupStickinessConfig?: unknown } & Record<string, unknown>;
};

function forwardIndex(ruleArn: string, actions: readonly unknown[]): number {
  const idx = actions.flatMap((a, i) => ((a as ActionShape)?.Type === 'forward' ? [i] : []));
  if (idx.length === 0) throw new UnshiftableRuleError(ruleArn, 'has no forward action');
  if (idx.length > 1) throw new UnshiftableRuleError(ruleArn, 'has more than one forward action');
  return idx[0]!;
}

/**
 * The target groups and weights of a rule's forward action, in order. A plain `TargetGroupArn` forward is
 * one group of weight 1; a missing Weight is AWS's default of 1.
 */
export function forwardWeights(ruleArn: string, actions: readonly unknown[]): WeightedTargetGroup[] {
  const a = actions[forwardIndex(ruleArn, actions)] as ActionShape;
  const groups = a.ForwardConfig?.TargetGroups;
  if (groups && groups.length > 0) {
    return groups.map((g) => ({ targetGroupArn: String(g.TargetGroupArn ?? ''), weight: g.Weight ?? 1 }));
  }
  if (typeof a.TargetGroupArn === 'string') return [{ targetGroupArn: a.TargetGroupArn, weight: 1 }];
  throw new UnshiftableRuleError(ruleArn, 'forward action names no target group');
}

/** True when a rule's forward action spreads traffic over two or more target groups. */
export function isWeightedRule(ruleArn: string, actions: readonly unknown[]): boolean {
  try {
    return forwardWeights(ruleArn, actions).length >= 2;
  } catch {
    return false;
  }
}

/** Checks what AWS would refuse, and what would black-hole the rule, before anything is written. */
export function validateWeights(ruleArn: string, weights: readonly WeightedTargetGroup[]): void {
  if (weights.length > MAX_FORWARD_GROUPS) throw new UnshiftableRuleError(ruleArn, `${weights.length} target groups; a forward action takes at most ${MAX_FORWARD_GROUPS}`);
  for (const w of weights) {
    if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > MAX_WEIGHT) {
      throw new UnshiftableRuleError(ruleArn, `weight ${w.weight} for ${w.targetGroupArn} is outside 0..${MAX_WEIGHT}`);
    }
  }
  if (weights.every((w) => w.weight === 0)) throw new UnshiftableRuleError(ruleArn, 'every weight would be 0: the rule would serve no traffic');
}

/**
 * The rule's whole action list with new weights in its forward action. Every other action, every other
 * field of the forward action (TargetGroupStickinessConfig included) and the group order are kept; the set
 * of groups must be exactly the rule's (weights are changed, groups never added or removed here).
 */
export function withWeights(ruleArn: string, actions: readonly unknown[], weights: readonly WeightedTargetGroup[]): unknown[] {
  const i = forwardIndex(ruleArn, actions);
  const current = forwardWeights(ruleArn, actions);
  const byArn = new Map(weights.map((w) => [w.targetGroupArn, w.weight]));
  if (byArn.size !== current.length || current.some((c) => !byArn.has(c.targetGroupArn))) {
    throw new UnshiftableRuleError(ruleArn, 'new weights must name exactly the target groups of the forward action');
  }
  const next = current.map((c) => ({ targetGroupArn: c.targetGroupArn, weight: byArn.get(c.targetGroupArn)! }));
  validateWeights(ruleArn, next);
  const copy = structuredClone(actions as unknown[]);
  const old = copy[i] as ActionShape;
  const forward: ActionShape = {
    ...old,
    ForwardConfig: {
      ...(old.ForwardConfig ?? {}),
      TargetGroups: next.map((g) => ({ TargetGroupArn: g.targetGroupArn, Weight: g.weight })),
    },
  };
  // With ForwardConfig present, TargetGroupArn may only repeat a single group; with several it must go.
  if (next.length > 1) delete forward.TargetGroupArn;
  copy[i] = forward;
  return copy.map(writableAuthentication);
}

/**
 * An action as ModifyRule accepts it back. DescribeRules never returns an authenticate-oidc action's
 * ClientSecret, and ModifyRule refuses that action without either the secret or UseExistingClientSecret:
 * true (and with both): so the secret is dropped and UseExistingClientSecret set, which keeps the secret the
 * rule has. authenticate-cognito has no secret and goes back as read.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AuthenticateOidcActionConfig.html
 */
function writableAuthentication(action: unknown): unknown {
  const a = action as ActionShape;
  if (a?.Type !== 'authenticate-oidc' || typeof a['AuthenticateOidcConfig'] !== 'object' || a['AuthenticateOidcConfig'] === null) return action;
  const { ClientSecret: _secret, ...config } = a['AuthenticateOidcConfig'] as Record<string, unknown>;
  void _secret;
  return { ...a, AuthenticateOidcConfig: { ...config, UseExistingClientSecret: true } };
}

/** True when both lists give every group the same weight (order-insensitive). */
export function sameWeights(a: readonly WeightedTargetGroup[], b: readonly WeightedTargetGroup[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a.map((w) => [w.targetGroupArn, w.weight]));
  return b.every((w) => m.get(w.targetGroupArn) === w.weight);
}

/** `name=weight` pairs (the target groups' names) for logs and audit reasons. */
export function describeWeights(weights: readonly WeightedTargetGroup[]): string {
  return weights.map((w) => `${targetGroupNameOf(w.targetGroupArn)}=${w.weight}`).join(' ');
}

/**
 * The listener ARN a rule belongs to, from the documented ARN format
 * `arn:…:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>` -> `arn:…:listener/app/<lb>/<lb-id>/<listener-id>`.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancingv2.html#elasticloadbalancingv2-resources-for-iam-policies
 */
export function listenerArnOfRule(ruleArn: string): string {
  const m = /^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)listener-rule\/(.+)\/[^/]+$/.exec(ruleArn);
  if (!m) throw new UnshiftableRuleError(ruleArn, 'is not a listener rule ARN');
  return `${m[1]}listener/${m[2]}`;
}

/** Tags by which the AWS Load Balancer Controller marks what it manages (it reverts outside changes). */
export const LBC_TAGS: readonly string[] = ['ingress.k8s.aws/stack', 'elbv2.k8s.aws/cluster'];

/**
 * Why a rule must not be touched because the Load Balancer Controller manages it (tags on the rule or on its
 * listener), or undefined. The controller would revert our write on its next reconcile (LBC #3311): a
 * shift that "succeeded" and then silently undid itself is worse than a clear refusal.
 */
export function lbcOwnership(ruleTags: Readonly<Record<string, string>>, listenerTags: Readonly<Record<string, string>>): string | undefined {
  for (const [where, tags] of [['rule', ruleTags], ['listener', listenerTags]] as const) {
    const tag = LBC_TAGS.find((t) => t in tags);
    if (tag) return `the ${where} carries ${tag}=${tags[tag]}: the AWS Load Balancer Controller manages it and would revert any weight change`;
  }
  return undefined;
}
