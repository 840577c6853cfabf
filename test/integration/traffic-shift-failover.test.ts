/**
 * Weighted-rule health failover end to end: a degraded target group's weight goes to its healthy sibling
 * (through the executor, audited, the originals remembered in DynamoDB), a Scheduler re-check comes back,
 * and the original weights return once the group has recovered. Also as the optional step of the
 * spot-interruption workflow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedTrafficTopology, trafficDeps, type TrafficTopology } from '../fakes/traffic.ts';
import { failoverWeightedRules, originalsKey } from '#core/failover/weighted-failover.ts';
import { failoverDepsOf } from '../../functions/traffic-shift/wiring.ts';
import { runShiftToCompletion } from '../fakes/deliver-schedules.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { lambdaContext, spotHarness } from './harness.ts';

function weightsOf(ruleArn: string, tgs: string[]): number[] {
  const out = fakeAws.elbv2.handle('DescribeRules', { RuleArns: [ruleArn] }) as { Rules: { Actions: { Type: string; ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[] }[] };
  const f = out.Rules[0]!.Actions.find((a) => a.Type === 'forward')!.ForwardConfig;
  return tgs.map((arn) => f.TargetGroups.find((g) => g.TargetGroupArn === arn)!.Weight);
}
const remembered = (t: TrafficTopology): string[] => fakeAws.dynamodb.items(t.table).map((i) => (i['pk'] as { S: string }).S).filter((k) => k.startsWith('failover#'));

describe('weighted-rule failover', () => {
  it('moves a degraded group\'s weight to its healthy sibling, then restores it on recovery', async () => {
    const t = seedTrafficTopology(fakeAws);
    // Mid-migration: 60/40 between the clusters, the error page at 0.
    fakeAws.elbv2.handle('ModifyRule', {
      RuleArn: t.ruleArn,
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: t.tg.old, Weight: 60 }, { TargetGroupArn: t.tg.new, Weight: 40 }, { TargetGroupArn: t.tg.errors, Weight: 0 }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 } } }],
    });
    const deps = trafficDeps(fakeAws, t, { FAILOVER_LISTENER_ARNS: t.listenerArn, FAILOVER_MIN_HEALTHY_TARGETS: '2', FAILOVER_RECHECK_SECONDS: '120' });
    const tgs = [t.tg.old, t.tg.new, t.tg.errors];
    for (const id of ['10.0.2.10', '10.0.2.11']) fakeAws.elbv2.setTargetHealth(t.tg.new, id, 8080, 'unhealthy');

    const first = await failoverWeightedRules(failoverDepsOf(deps), [t.tg.new]);
    expect(first.failedOver).toEqual([t.ruleArn]);
    expect(weightsOf(t.ruleArn, tgs)).toEqual([100, 0, 0]);
    expect(remembered(t)).toEqual([originalsKey(t.ruleArn)]);
    expect(first.recheckScheduled).toBe(true);
    // A second pass while still degraded changes nothing and never overwrites the remembered originals.
    const again = await failoverWeightedRules(failoverDepsOf(deps), [t.tg.new]);
    expect(again.plan?.actions).toEqual([]);
    const audit = fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Deregistration Plan Applied');
    expect(audit[0]!.event.detail).toMatchObject({ trigger: 'weight-failover', outcomes: [expect.objectContaining({ status: 'applied', why: expect.stringMatching(/^failover: shop-green below 2 healthy/) })] });

    // Recovery: the re-check (a one-time schedule) restores the weights from before the failover.
    for (const id of ['10.0.2.10', '10.0.2.11']) fakeAws.elbv2.setTargetHealth(t.tg.new, id, 8080, undefined);
    const due = fakeAws.scheduler.nextDueAt()!;
    fakeAws.clock.advance(due - fakeAws.clock.now());
    const [check] = fakeAws.scheduler.fireDue();
    const outcomes = await runShiftToCompletion(deps, { source: 'quiesce', 'detail-type': check!.target.EventBridgeParameters!.DetailType, detail: JSON.parse(check!.target.Input!) }, fakeAws);
    expect(outcomes[0]).toMatchObject({ status: 'failover', restored: [t.ruleArn], failedOver: [] });
    expect(weightsOf(t.ruleArn, tgs)).toEqual([60, 40, 0]);
    expect(remembered(t)).toEqual([]);
    expect(fakeAws.scheduler.schedules()).toEqual([]);
  });

  it('holds back when no sibling is healthy, and leaves rules a traffic shift holds to the shift', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t, { FAILOVER_LISTENER_ARNS: t.listenerArn, FAILOVER_MIN_HEALTHY_TARGETS: '2' });
    // Old (weight 100) degraded; new and errors have too few healthy to take it (errors has 1 target).
    for (const id of ['10.0.1.10', '10.0.1.11']) fakeAws.elbv2.setTargetHealth(t.tg.old, id, 8080, 'unhealthy');
    for (const id of ['10.0.2.10', '10.0.2.11']) fakeAws.elbv2.setTargetHealth(t.tg.new, id, 8080, 'unhealthy');
    const r = await failoverWeightedRules(failoverDepsOf(deps), [t.tg.old]);
    expect(r.plan?.heldBack[0]?.reason).toMatch(/no healthy sibling/);
    expect(fakeAws.calls.count('elasticloadbalancing', 'ModifyRule')).toBe(0);
  });

  it('runs as the optional step of the spot-interruption workflow', async () => {
    const h = spotHarness();
    const t = seedTrafficTopology(fakeAws);
    // A weighted rule between the spot topology's web group and a green twin with 3 healthy targets.
    const green = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-web-green', port: 8080, targets: [{ id: '10.0.7.10' }, { id: '10.0.7.11' }, { id: '10.0.7.12' }] });
    const lb = fakeAws.elbv2.seedLoadBalancer({ name: 'web-alb' });
    const listener = fakeAws.elbv2.seedListener({ loadBalancerArn: lb, port: 80 });
    const rule = fakeAws.elbv2.seedRule({ listenerArn: listener, priority: 5, targetGroups: [{ arn: h.topology.tg.web, weight: 50 }, { arn: green, weight: 50 }] });
    const failover = failoverDepsOf(trafficDeps(fakeAws, t, { FAILOVER_LISTENER_ARNS: listener, FAILOVER_MIN_HEALTHY_TARGETS: '3' }));
    const handler = makeSpotHandler(() => ({ ...h.deps, weightedFailover: (tgs) => failoverWeightedRules(failover, tgs) }), createLogger('spot-interruption'), createMetrics('spot-interruption'));
    const spot = JSON.parse(readFileSync(new URL('../../events/spot-interruption-warning.json', import.meta.url), 'utf8'));
    expect(await handler(spot, lambdaContext)).toMatchObject({ status: 'applied' });
    // web drained 2 of its 4 targets: 2 healthy < 3, so its weight went to the green twin.
    expect(weightsOf(rule, [h.topology.tg.web, green])).toEqual([0, 100]);
  });
});
