/** The pure traffic planners: weight arithmetic, shift steps, rollback, failover and restore. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planShiftRollback, planShiftStep, remainingSteps, stepWeights } from '#core/domain/planners/traffic-shift.ts';
import { desiredWeights, planWeightFailover } from '#core/domain/planners/traffic-failover.ts';
import { lbcOwnership, listenerArnOfRule, UnshiftableRuleError, withWeights } from '#core/domain/planners/traffic-weights.ts';

const P = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:';
const RULE = `${P}listener-rule/app/shop/0123456789abcdef/fedcba9876543210/1111111111111111`;
const OLD = `${P}targetgroup/blue/1`;
const NEW = `${P}targetgroup/green/2`;
const ERR = `${P}targetgroup/errors/3`;
const auth = { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { Issuer: 'https://idp' } };
const actions = (o: number, n: number, e = 0): unknown[] => [
  auth,
  { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: OLD, Weight: o }, { TargetGroupArn: NEW, Weight: n }, { TargetGroupArn: ERR, Weight: e }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 } } },
];
const w = (o: number, n: number, e = 0) => [{ targetGroupArn: OLD, weight: o }, { targetGroupArn: NEW, weight: n }, { targetGroupArn: ERR, weight: e }];
const pair = { ruleArn: RULE, from: OLD, to: NEW };
const base = { planId: 'p', now: new Date(0), pair, listenerArn: listenerArnOfRule(RULE), subject: 'shop@1' };

describe('traffic planners', () => {
  it('a step keeps every other action and field, changing only the weights (an OIDC action keeps its secret: UseExistingClientSecret)', () => {
    const plan = planShiftStep({ ...base, actions: actions(999, 0), original: w(999, 0), percent: 10, step: 1, of: 3 });
    const a = plan.actions[0]!;
    // DescribeRules never returns ClientSecret and ModifyRule needs it or UseExistingClientSecret: true.
    const writable = { ...auth, AuthenticateOidcConfig: { ...auth.AuthenticateOidcConfig, UseExistingClientSecret: true } };
    expect(a.kind === 'set-weights' && a.actions).toEqual([writable, { ...(actions(0, 0)[1] as object), ForwardConfig: { ...(actions(90, 10)[1] as { ForwardConfig: object }).ForwardConfig } }]);
    expect(a.kind === 'set-weights' && a.previous).toEqual(w(999, 0));
  });

  it('writes authenticate actions back as ModifyRule accepts them: OIDC without a secret, cognito as read', () => {
    const oidc = { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { Issuer: 'https://idp', ClientId: 'c', ClientSecret: 'never-read-back', OnUnauthenticatedRequest: 'authenticate' } };
    const cognito = { Type: 'authenticate-cognito', Order: 1, AuthenticateCognitoConfig: { UserPoolArn: 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/x', UserPoolClientId: 'c', UserPoolDomain: 'd' } };
    const forward = actions(100, 0)[1];
    const [o] = withWeights(RULE, [oidc, forward], w(90, 10)) as { AuthenticateOidcConfig: Record<string, unknown> }[];
    expect(o!.AuthenticateOidcConfig).toEqual({ Issuer: 'https://idp', ClientId: 'c', OnUnauthenticatedRequest: 'authenticate', UseExistingClientSecret: true });
    expect(withWeights(RULE, [cognito, forward], w(90, 10))[0]).toEqual(cognito);
  });

  it('other weighted groups keep their exact share', () => {
    expect(stepWeights(pair, w(300, 100, 50), w(300, 100, 50), 50)).toEqual(w(200, 200, 50));
  });

  it('the weights always stay within 0..999 and sum to the pair total (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 100 }), (o, n, e, p) => {
        const out = stepWeights(pair, w(o, n, e), w(o, n, e), p);
        const [fo, fn, fe] = out.map((x) => x.weight);
        expect(fe).toBe(e);
        expect(fo! + fn!).toBe(e === 0 ? 100 : Math.min(o + n, 999));
        for (const x of out) expect(x.weight >= 0 && x.weight <= 999).toBe(true);
      }),
    );
  });

  it('steps at or below where the rule is are skipped', () => {
    expect(remainingSteps([10, 50, 100], 50)).toEqual([100]);
    expect(remainingSteps([10, 50, 100], 100)).toEqual([]);
  });

  it('rollback writes the original weights back', () => {
    const plan = planShiftRollback({ ...base, actions: actions(50, 50), original: w(100, 0), reason: 'gate' });
    const a = plan.actions[0]!;
    expect(a.kind === 'set-weights' && a.weights).toEqual(w(100, 0));
  });

  it('refuses more than 5 groups, weights outside 0..999 and all-zero weights', () => {
    expect(() => withWeights(RULE, actions(1, 1), w(1000, 0))).toThrow(UnshiftableRuleError);
    expect(() => withWeights(RULE, actions(1, 1), w(0, 0))).toThrow(/every weight would be 0/);
  });

  it('sees LBC tags on the rule or the listener', () => {
    expect(lbcOwnership({ 'elbv2.k8s.aws/cluster': 'c' }, {})).toMatch(/rule carries elbv2\.k8s\.aws\/cluster/);
    expect(lbcOwnership({}, { 'ingress.k8s.aws/stack': 's' })).toMatch(/listener carries ingress\.k8s\.aws\/stack/);
    expect(lbcOwnership({ team: 'x' }, {})).toBeUndefined();
  });

  it('failover spreads the degraded weight in proportion, equally when siblings are at 0', () => {
    const healthy = new Map([[OLD, 0], [NEW, 3], [ERR, 3]]);
    expect(desiredWeights(w(60, 30, 10), healthy, 2)).toMatchObject({ weights: w(0, 75, 25) });
    expect(desiredWeights(w(100, 0, 0), healthy, 2)).toMatchObject({ weights: w(0, 50, 50) });
  });

  it('restores from the remembered originals once healthy, and forgets them', () => {
    const out = planWeightFailover({
      planId: 'p',
      now: new Date(0),
      rules: [{ ruleArn: RULE, listenerArn: listenerArnOfRule(RULE), actions: actions(0, 100) }],
      healthy: new Map([[OLD, 3], [NEW, 3], [ERR, 3]]),
      minHealthy: 2,
      originals: new Map([[RULE, w(60, 40)]]),
    });
    const a = out.plan.actions[0]!;
    expect(a.kind === 'set-weights' && a.weights).toEqual(w(60, 40));
    expect(out.forget).toEqual([RULE]);
  });
});
