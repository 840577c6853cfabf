/**
 * The traffic shift end to end: the real workflow (config, SDK v3 clients, adapters, budget, executor,
 * DynamoDB lock, Scheduler pauses) against the stateful fake AWS, driven by the sample events in events/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '#core/telemetry.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedTrafficTopology, trafficDeps, WEBHOOK_TOKEN, type TrafficTopology } from '../fakes/traffic.ts';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { buildWebhookDeps, makeHandler as makeWebhookHandler } from '../../functions/deploy-webhook/handler.ts';
import { runShiftToCompletion } from '../fakes/deliver-schedules.ts';
import { dispatch, makeHandler } from '../../functions/traffic-shift/handler.ts';
import { lambdaContext } from './harness.ts';
import { createExecutor, NO_CLOUD_MAP } from '#core/executor/executor.ts';
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

function synced(app = 'shop', revision = '9f1c2ab'): Record<string, unknown> {
  const e = sample('deployment-synced');
  return { ...e, detail: { ...(e['detail'] as object), app, revision } };
}

/** The rule's forward action as DescribeRules returns it. */
function forward(ruleArn: string): { TargetGroups: { TargetGroupArn: string; Weight: number }[]; TargetGroupStickinessConfig: unknown } {
  const out = fakeAws.elbv2.handle('DescribeRules', { RuleArns: [ruleArn] }) as { Rules: { Actions: { Type: string; ForwardConfig: never }[] }[] };
  return out.Rules[0]!.Actions.find((a) => a.Type === 'forward')!.ForwardConfig;
}
function weights(t: TrafficTopology): number[] {
  const f = forward(t.ruleArn);
  return [t.tg.old, t.tg.new, t.tg.errors].map((arn) => f.TargetGroups.find((g) => g.TargetGroupArn === arn)!.Weight);
}
const lifecycle = (): string[] => fakeAws.events.published('quiesce-audit').map((p) => p.event['detail-type']).filter((d) => d.startsWith('Traffic Shift'));
const detailOf = (type: string): Record<string, unknown> => fakeAws.events.published('quiesce-audit').find((p) => p.event['detail-type'] === type)!.event.detail as Record<string, unknown>;
const modifyRuleCalls = (): number => fakeAws.calls.count('elasticloadbalancing', 'ModifyRule');

/** Deps whose FIRST ModifyRule is followed by `n` stale DescribeRules answers (eventual consistency after a write). */
function staleAfterFirstWrite(deps: TrafficDeps, ruleArn: string, n: number): TrafficDeps {
  let armed = true;
  const real = deps.writes.elbv2;
  const elbv2: TrafficDeps['writes']['elbv2'] = {
    deregisterTargets: (a, t) => real.deregisterTargets(a, t),
    describeRules: (i) => real.describeRules(i),
    modifyRuleActions: async (arn, actions) => {
      await real.modifyRuleActions(arn, actions);
      if (armed && arn === ruleArn) fakeAws.elbv2.staleRuleReads(ruleArn, n);
      armed = false;
    },
  };
  const writes = { ...deps.writes, elbv2 };
  const executor = createExecutor({ elbv2: deps.elbv2, cloudMap: NO_CLOUD_MAP, writes }, { concurrency: 1, minHealthy: 1 });
  return { ...deps, writes, executor };
}

describe('traffic shift', () => {
  it('shifts 0 -> 100 in steps, pausing on Scheduler one-time schedules, preserving the whole action list', async () => {
    const t = seedTrafficTopology(fakeAws);
    const dlq = 'arn:aws:sqs:us-east-1:123456789012:quiesce-events-dlq';
    const deps = trafficDeps(fakeAws, t, { SCHEDULER_DLQ_ARN: dlq });
    const seen: number[][] = [];
    const first = await dispatch(deps, synced());
    expect(first).toMatchObject({ status: 'step-applied', step: 1, percent: 10 });
    seen.push(weights(t));
    // The pause is a one-time schedule carrying the shift state, deleted after it runs.
    const [pending] = fakeAws.scheduler.schedules();
    expect(pending).toMatchObject({ at: fakeAws.clock.now() + 300_000, state: 'ENABLED' });
    expect(JSON.parse(pending!.target.Input!)).toMatchObject({ stepIndex: 1, steps: [10, 50, 100] });
    // A step that cannot be delivered is retried for an hour, then dead-lettered (seen), never lost.
    expect(pending!.target).toMatchObject({ DeadLetterConfig: { Arn: dlq }, RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 } });
    const rest = await runShiftToCompletion(deps, { source: 'quiesce', 'detail-type': 'Traffic Shift Step Due', detail: JSON.parse(pending!.target.Input!) }, {
      clock: fakeAws.clock,
      scheduler: { nextDueAt: () => fakeAws.scheduler.nextDueAt(), fireDue: () => { seen.push(weights(t)); return fakeAws.scheduler.fireDue(); } },
    });
    // (the first delivery here is the pending schedule's state delivered early: a duplicate the lock ignores)
    expect(rest.map((o) => o.status)).toEqual(['step-applied', 'ignored', 'completed']);
    expect(weights(t)).toEqual([0, 100, 0]);
    expect(forward(t.ruleArn).TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    expect(seen[0]).toEqual([90, 10, 0]);
    expect(lifecycle()).toEqual(['Traffic Shift Started', 'Traffic Shift Step Applied', 'Traffic Shift Step Applied', 'Traffic Shift Step Applied', 'Traffic Shift Completed']);
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    expect(fakeAws.dynamodb.items(t.table).map((i) => (i['pk'] as { S: string }).S).filter((k) => k.startsWith('lock#'))).toEqual([]);
  });

  it('runs a whole shift through runShiftToCompletion (the npm start demo)', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    const outcomes = await runShiftToCompletion(deps, synced(), fakeAws);
    expect(outcomes.map((o) => o.status)).toEqual(['step-applied', 'step-applied', 'completed']);
    expect(weights(t)).toEqual([0, 100, 0]);
    expect(modifyRuleCalls()).toBe(3);
  });

  it('rolls back to the weights before the shift when the gate fails mid-way', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    await dispatch(deps, synced());
    expect(weights(t)).toEqual([90, 10, 0]);
    // The new cluster loses two of its three targets before step 2 (gate needs 2 healthy).
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'unhealthy');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.11', 8080, 'unhealthy');
    const outcomes = await runShiftToCompletion(deps, { source: 'quiesce', 'detail-type': 'Traffic Shift Step Due', detail: JSON.parse(fakeAws.scheduler.schedules()[0]!.target.Input!) }, fakeAws);
    expect(outcomes[0]).toMatchObject({ status: 'aborted', rolledBack: true });
    expect(weights(t)).toEqual([100, 0, 0]);
    expect(forward(t.ruleArn).TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    expect(lifecycle().at(-1)).toBe('Traffic Shift Aborted');
    expect(String(detailOf('Traffic Shift Aborted')['reason'])).toMatch(/gate before step 2 \(50%\): 1 healthy/);
    expect(fakeAws.scheduler.schedules()).toEqual([]);
  });

  it('re-reads a stale DescribeRules once, then carries on', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = staleAfterFirstWrite(trafficDeps(fakeAws, t), t.ruleArn, 1);
    const out = await dispatch(deps, synced());
    expect(out).toMatchObject({ status: 'step-applied', step: 1 });
    expect(detailOf('Traffic Shift Step Applied')).toMatchObject({ verifyReads: 2 });
    expect(weights(t)).toEqual([90, 10, 0]);
  });

  it('aborts and rolls back when the written weights never show up', async () => {
    const t = seedTrafficTopology(fakeAws);
    // VERIFY_ATTEMPTS=3: three stale reads in a row.
    const deps = staleAfterFirstWrite(trafficDeps(fakeAws, t), t.ruleArn, 3);
    const out = await dispatch(deps, synced());
    expect(out).toMatchObject({ status: 'aborted', rolledBack: true });
    expect(String(detailOf('Traffic Shift Aborted')['reason'])).toMatch(/verify of step 1: DescribeRules still showed .*after 3 read/);
    expect(weights(t)).toEqual([100, 0, 0]);
    expect(modifyRuleCalls()).toBe(2);
  });

  it('never runs two shifts on one rule at once', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    const [a, b] = await Promise.all([dispatch(deps, synced('shop', 'rev-a')), dispatch(deps, synced('shop', 'rev-b'))]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual(['refused', 'step-applied']);
    const refused = (a.status === 'refused' ? a : b) as { reason: string };
    expect(refused.reason).toMatch(/is being shifted by .*two shifts never run on one rule at once/);
    expect(modifyRuleCalls()).toBe(1);
    expect(fakeAws.scheduler.schedules()).toHaveLength(1);
  });

  it('ignores a redelivered Deployment Synced of a shift already started', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    await dispatch(deps, synced());
    const again = await dispatch(deps, synced());
    expect(again).toMatchObject({ status: 'ignored' });
    expect(modifyRuleCalls()).toBe(1);
  });

  it('refuses a rule the Load Balancer Controller manages, with a clear reason and no write', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    const out = await dispatch(deps, synced('shop-lbc'));
    expect(out).toMatchObject({ status: 'refused' });
    expect((out as { reason: string }).reason).toMatch(/ingress\.k8s\.aws\/stack.*Load Balancer Controller manages it/);
    expect(modifyRuleCalls()).toBe(0);
    expect(lifecycle()).toEqual(['Traffic Shift Refused']);
  });

  it('refuses an LBC tag on the listener too', async () => {
    const t = seedTrafficTopology(fakeAws);
    fakeAws.elbv2.handle('AddTags', { ResourceArns: [t.listenerArn], Tags: [{ Key: 'elbv2.k8s.aws/cluster', Value: 'green' }] });
    const out = await dispatch(trafficDeps(fakeAws, t), synced());
    expect((out as { reason: string }).reason).toMatch(/listener carries elbv2\.k8s\.aws\/cluster/);
    expect(modifyRuleCalls()).toBe(0);
  });

  it('rejects a malformed step event through the real handler, writing nothing', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    const handler = makeHandler(() => deps);
    const out = await handler({ source: 'quiesce', 'detail-type': 'Traffic Shift Step Due', detail: { shiftId: 'x' } } as never, lambdaContext);
    expect(out).toMatchObject({ status: 'rejected', field: 'detail.steps' });
    expect(modifyRuleCalls()).toBe(0);
  });

  it('ignores syncs of other destinations and apps without a plan', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    const e = synced();
    const blue = { ...e, detail: { ...(e['detail'] as object), destination: { name: 'blue', namespace: 'shop' } } };
    expect(await dispatch(deps, blue)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/synced to blue/) });
    expect(await dispatch(deps, synced('unknown-app'))).toMatchObject({ status: 'ignored', reason: 'no traffic plan for app unknown-app' });
    expect(modifyRuleCalls()).toBe(0);
  });
});

describe('traffic shift failure paths (issue 13)', () => {
  const watchdog = { source: 'quiesce', 'detail-type': 'Traffic Shift Watchdog', detail: {} };
  const lockOf = (t: TrafficTopology): Record<string, unknown> | undefined => {
    const item = fakeAws.dynamodb.items(t.table).find((i) => (i['pk'] as { S: string }).S === `lock#${t.ruleArn}`);
    return item ? (JSON.parse((item['data'] as { S: string }).S) as Record<string, unknown>) : undefined;
  };

  it('a transient CreateSchedule failure after step 1 fails the invocation; its retry resumes from the lock and the shift reaches 100%', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    // More failures than the budget's 8 attempts: the call fails for good in this invocation.
    fakeAws.faults.fail('CreateSchedule', { service: 'scheduler', times: 8 });
    await expect(dispatch(deps, synced())).rejects.toThrow();
    expect(weights(t)).toEqual([90, 10, 0]);
    expect(lockOf(t)).toMatchObject({ nextStep: 1, progress: 'due' });
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    // Lambda retries the async invocation a minute later with the same event: not "already started".
    fakeAws.clock.advance(60_000);
    const retried = await dispatch(deps, synced());
    expect(retried).toMatchObject({ status: 'step-scheduled', step: 2 });
    expect(lockOf(t)).toMatchObject({ nextStep: 1, progress: 'scheduled' });
    const rest = await runShiftToCompletion(deps, watchdog, fakeAws);
    expect(rest.map((o) => o.status)).toEqual(['watchdog', 'step-applied', 'completed']);
    expect(weights(t)).toEqual([0, 100, 0]);
    expect(lifecycle()).not.toContain('Traffic Shift Aborted');
    expect(modifyRuleCalls()).toBe(3);
  });

  it('a lost next-step schedule: the watchdog leaves the shift alone until it is overdue, then finishes it', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    await dispatch(deps, synced());
    const [pending] = fakeAws.scheduler.schedules();
    fakeAws.scheduler.handle('DeleteSchedule', { Name: pending!.name, GroupName: pending!.group });
    // Due in 300 s; overdue after pause (300) + WATCHDOG_MARGIN_SECONDS (300): nothing before that.
    fakeAws.clock.advance(880_000);
    expect(await dispatch(deps, watchdog)).toEqual({ status: 'watchdog', checked: 2, resumed: [] });
    expect(fakeAws.calls.count('elasticloadbalancing', 'ModifyRule')).toBe(1);
    fakeAws.clock.advance(30_000);
    const outcomes = await runShiftToCompletion(deps, watchdog, fakeAws);
    expect(outcomes[0]).toMatchObject({ status: 'watchdog', resumed: [{ status: 'step-applied', step: 2, percent: 50 }] });
    expect(outcomes.at(-1)).toMatchObject({ status: 'completed' });
    expect(weights(t)).toEqual([0, 100, 0]);
    expect(lockOf(t)).toBeUndefined();
  });

  it('a lost next-step schedule whose gate fails when the watchdog takes it over: rolled back, Aborted', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    await dispatch(deps, synced());
    fakeAws.scheduler.reset();
    fakeAws.scheduler.seedGroup('default');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'unhealthy');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.11', 8080, 'unhealthy');
    fakeAws.clock.advance(910_000);
    expect(await dispatch(deps, watchdog)).toMatchObject({ resumed: [{ status: 'aborted', rolledBack: true }] });
    expect(weights(t)).toEqual([100, 0, 0]);
    expect(lifecycle().at(-1)).toBe('Traffic Shift Aborted');
    expect(lockOf(t)).toBeUndefined();
  });

  it('an abort after a watchdog takeover cancels the schedule the taken-over step was still waiting on', async () => {
    const t = seedTrafficTopology(fakeAws);
    const deps = trafficDeps(fakeAws, t);
    expect(await dispatch(deps, synced())).toMatchObject({ status: 'step-applied', step: 1 });
    // Step 2's schedule exists but its delivery is late (Scheduler retries for up to an hour): the watchdog takes the step over.
    const [pending] = fakeAws.scheduler.schedules();
    expect(pending).toMatchObject({ name: expect.stringMatching(/-1$/), fired: false });
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'unhealthy');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.11', 8080, 'unhealthy');
    fakeAws.clock.advance(910_000);
    expect(await dispatch(deps, watchdog)).toMatchObject({ resumed: [{ status: 'aborted', rolledBack: true }] });
    expect(weights(t)).toEqual([100, 0, 0]);
    // Nothing is left to deliver the rolled-back step again.
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    expect(detailOf('Traffic Shift Aborted')).not.toHaveProperty('scheduleNotCancelled');
  });

  it('a schedule an abort could not cancel is reported (outcome, Aborted event, error log), not swallowed', async () => {
    const t = seedTrafficTopology(fakeAws);
    const logger = createLogger('traffic-shift');
    const errors = vi.spyOn(logger, 'error');
    const deps = { ...trafficDeps(fakeAws, t), logger };
    await dispatch(deps, synced());
    const [pending] = fakeAws.scheduler.schedules();
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'unhealthy');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.11', 8080, 'unhealthy');
    fakeAws.clock.advance(910_000);
    // More failures than the budget's 8 attempts: the cancel fails for good in this invocation.
    fakeAws.faults.fail('DeleteSchedule', { service: 'scheduler', times: 8, code: 'InternalServerException', message: 'scheduler is down', status: 500 });
    const scheduleNotCancelled = { name: pending!.name, error: 'InternalServerException: scheduler is down' };
    expect(await dispatch(deps, watchdog)).toMatchObject({ resumed: [{ status: 'aborted', rolledBack: true, scheduleNotCancelled }] });
    expect(detailOf('Traffic Shift Aborted')).toMatchObject({ rolledBack: true, scheduleNotCancelled });
    expect(errors.mock.calls.map((c) => String(c[0]))).toContain('step schedule not cancelled: it will find its shift gone');
    // The schedule is still there (what the report is about); when it fires, the step finds no lock and stops.
    expect(fakeAws.scheduler.schedules().map((s) => s.name)).toEqual([pending!.name]);
  });

  it('an OIDC-protected rule shifts and rolls back, its client secret kept (UseExistingClientSecret), never read back', async () => {
    const t = seedTrafficTopology(fakeAws);
    const oidc = {
      Type: 'authenticate-oidc',
      AuthenticateOidcConfig: { Issuer: 'https://idp.example.com', AuthorizationEndpoint: 'https://idp.example.com/auth', TokenEndpoint: 'https://idp.example.com/token', UserInfoEndpoint: 'https://idp.example.com/userinfo', ClientId: 'shop', ClientSecret: 'kept-by-aws' },
    };
    const ruleArn = fakeAws.elbv2.seedRule({ listenerArn: t.listenerArn, priority: 30, targetGroups: [{ arn: t.tg.old, weight: 100 }, { arn: t.tg.new, weight: 0 }], authenticate: oidc });
    // The fake follows AWS: the action as DescribeRules shows it (no secret) is refused by ModifyRule.
    const [read] = (fakeAws.elbv2.handle('DescribeRules', { RuleArns: [ruleArn] }) as { Rules: { Actions: { AuthenticateOidcConfig?: Record<string, unknown> }[] }[] }).Rules[0]!.Actions;
    expect(read!.AuthenticateOidcConfig).not.toHaveProperty('ClientSecret');
    expect(() => fakeAws.elbv2.handle('ModifyRule', { RuleArn: ruleArn, Actions: (fakeAws.elbv2.handle('DescribeRules', { RuleArns: [ruleArn] }) as { Rules: { Actions: unknown[] }[] }).Rules[0]!.Actions })).toThrow(/client secret/);
    const plans = JSON.stringify({ apps: { shop: { ruleArn, from: t.tg.old, to: t.tg.new, steps: [10, 50, 100], pauseSeconds: 300, gate: { minHealthyTargets: 2 } } } });
    const deps = trafficDeps(fakeAws, t, { TRAFFIC_PLANS: plans });
    const forwardOf = () => (fakeAws.elbv2.handle('DescribeRules', { RuleArns: [ruleArn] }) as { Rules: { Actions: { Type: string; ForwardConfig?: { TargetGroups: { Weight: number }[] } }[] }[] }).Rules[0]!.Actions;
    const share = () => forwardOf().find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups.map((g) => g.Weight);
    expect(await dispatch(deps, synced())).toMatchObject({ status: 'step-applied', step: 1 });
    expect(share()).toEqual([90, 10]);
    // The gate fails before step 2: the rollback writes the OIDC action back too.
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'unhealthy');
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.11', 8080, 'unhealthy');
    const rolled = await runShiftToCompletion(deps, watchdog, fakeAws);
    expect(rolled.at(-1)).toMatchObject({ status: 'aborted', rolledBack: true });
    expect(share()).toEqual([100, 0]);
    expect(forwardOf().map((a) => a.Type)).toEqual(['authenticate-oidc', 'forward']);
    expect(fakeAws.elbv2.clientSecretOf(ruleArn)).toBe('kept-by-aws');
    // And a new revision shifts it all the way.
    fakeAws.elbv2.setTargetHealth(t.tg.new, '10.0.2.10', 8080, 'healthy');
    const done = await runShiftToCompletion(deps, synced('shop', 'c0ffee1'), fakeAws);
    expect(done.map((o) => o.status)).toEqual(['step-applied', 'step-applied', 'completed']);
    expect(share()).toEqual([0, 100]);
    expect(fakeAws.elbv2.clientSecretOf(ruleArn)).toBe('kept-by-aws');
  });

  it('a rollback that has nothing to undo (the first write failed) says so, writes nothing more, and is not "not confirmed"', async () => {
    const t = seedTrafficTopology(fakeAws);
    const logger = createLogger('traffic-shift');
    const errors = vi.spyOn(logger, 'error');
    const deps = { ...trafficDeps(fakeAws, t), logger };
    fakeAws.faults.fail('ModifyRule', { service: 'elasticloadbalancing', code: 'InvalidLoadBalancerAction', message: 'injected' });
    expect(await dispatch(deps, synced())).toMatchObject({ status: 'aborted', rolledBack: true });
    expect(modifyRuleCalls()).toBe(1);
    expect(weights(t)).toEqual([100, 0, 0]);
    expect(String(detailOf('Traffic Shift Aborted')['rollbackNote'])).toMatch(/nothing to roll back: the rule still has the weights from before the shift/);
    expect(errors.mock.calls.map((c) => String(c[0]))).not.toContain('ROLLBACK NOT CONFIRMED: check the rule weights by hand');
  });
});

describe('a multi-source Argo CD sync end to end', () => {
  it('the rendered notification (revision "", revisions) -> webhook -> Deployment Synced -> the shift reaches 100%', async () => {
    const t = seedTrafficTopology(fakeAws);
    const webhook = makeWebhookHandler(() =>
      buildWebhookDeps({ env: { WEBHOOK_TOKEN_PARAMETER: t.tokenParameter, STATE_TABLE: t.table, EVENT_BUS: t.bus }, clients: createAwsClients(), logger: createLogger('deploy-webhook'), now: () => new Date(fakeAws.clock.now()) }),
    );
    const body = sample('argocd-webhook-body-multi-source');
    expect(body).toMatchObject({ revision: '', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] });
    const res = await webhook({ headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, body: JSON.stringify(body), isBase64Encoded: false } as never, lambdaContext);
    expect(res.statusCode).toBe(202);
    const [published] = fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Deployment Synced');
    const outcomes = await runShiftToCompletion(trafficDeps(fakeAws, t), published!.event, fakeAws);
    expect(outcomes.map((o) => o.status)).toEqual(['step-applied', 'step-applied', 'completed']);
    expect(weights(t)).toEqual([0, 100, 0]);
    expect(detailOf('Traffic Shift Completed')).toMatchObject({ revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62,1.4.2' });
  });
});
