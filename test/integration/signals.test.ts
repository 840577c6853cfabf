/**
 * A signal for every quiet failure (issue 21): each failure mode that used to leave the function returning
 * normally, or not running at all, moves a metric of its own, which has an alarm in the packaged template
 * (this stage's dimensions) and a panel on the dashboard. Each metric is triggered here through the real
 * handler against the fake AWS (and the fake Kubernetes API); the spot fast path's miss is triggered by
 * test/integration/cluster-candidates.test.ts and the forwarder's publish failure (a Prometheus alert, not a
 * CloudWatch one) by test/integration/pod-forwarder/forwarder.test.ts.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { ApiBudget } from '#core/adapters/aws/budget.ts';
import { lastForwarderHeartbeat } from '#core/adapters/aws/forwarder-heartbeat.ts';
import { createExecutor, NO_CLOUD_MAP } from '#core/executor/executor.ts';
import { createLogger, createMetrics, type Metrics } from '#core/telemetry.ts';
import { makeHandler as makePodHandler } from '../../functions/pod-events/handler.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { makeHandler as makeTrafficHandler } from '../../functions/traffic-shift/handler.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV, VPC } from '../fakes/topology.ts';
import { seedTrafficTopology, trafficDeps } from '../fakes/traffic.ts';
import { packagedTemplate } from '../package/packaged.ts';
import type { CfnTemplate } from '../package/template.ts';
import { lambdaContext, podEventsHarness, spotHarness, startFakeKube } from './harness.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const started = startFakeKube();
const { kube } = started;
beforeEach(() => kube.reset());

/** A metrics object whose values per metric name the test can read. */
function recorded(service: string): { metrics: Metrics; values: (name: string) => number[] } {
  const metrics = createMetrics(service);
  const added = vi.spyOn(metrics, 'addMetric');
  return { metrics, values: (name) => added.mock.calls.filter((c) => c[0] === name).map((c) => c[2]) };
}

const synced = (): Record<string, unknown> => {
  const e = sample('deployment-synced');
  return { ...e, detail: { ...(e['detail'] as object), app: 'shop', revision: '9f1c2ab' } };
};

describe('a metric for every quiet failure, triggered through the real handlers', () => {
  it('traffic-shift: an aborted shift counts shiftAborted; an abort whose rollback cannot be verified counts rollbackNotConfirmed too', async () => {
    const t = seedTrafficTopology(fakeAws);
    const m = recorded('traffic-shift');
    // Step 1's write lands, but its weights never show (3 stale reads), and the rollback's write is refused.
    const base = trafficDeps(fakeAws, t);
    let writes = 0;
    const real = base.writes.elbv2;
    const elbv2: TrafficDeps['writes']['elbv2'] = {
      deregisterTargets: (a, x) => real.deregisterTargets(a, x),
      describeRules: (i) => real.describeRules(i),
      modifyRuleActions: async (arn, actions) => {
        await real.modifyRuleActions(arn, actions);
        if (++writes === 1) {
          fakeAws.elbv2.staleRuleReads(t.ruleArn, 3);
          fakeAws.faults.fail('ModifyRule', { service: 'elasticloadbalancing', code: 'AccessDenied', message: 'not authorized to perform elasticloadbalancing:ModifyRule', times: 10 });
        }
      },
    };
    const w = { ...base.writes, elbv2 };
    const deps: TrafficDeps = { ...base, writes: w, executor: createExecutor({ elbv2: base.elbv2, cloudMap: NO_CLOUD_MAP, writes: w }, { concurrency: 1, minHealthy: 1 }) };
    const handler = makeTrafficHandler(() => deps, createLogger('traffic-shift'), m.metrics);
    expect(await handler(synced() as never, lambdaContext)).toMatchObject({ status: 'aborted', rolledBack: false });
    expect(m.values('shiftAborted')).toEqual([1]);
    expect(m.values('rollbackNotConfirmed')).toEqual([1]);
  });

  it('traffic-shift: a shift that goes on counts no abort', async () => {
    const t = seedTrafficTopology(fakeAws);
    const m = recorded('traffic-shift');
    const handler = makeTrafficHandler(() => trafficDeps(fakeAws, t), createLogger('traffic-shift'), m.metrics);
    expect(await handler(synced() as never, lambdaContext)).toMatchObject({ status: 'step-applied' });
    expect(m.values('shiftAborted')).toEqual([0]);
    expect(m.values('rollbackNotConfirmed')).toEqual([0]);
  });

  it('sweeper: a completed sweep sets a deadline (sweepOverdue 0); runs that complete none turn sweepOverdue to 1 once SWEEP_OVERDUE_FACTOR expected intervals have passed', async () => {
    fakeAws.dynamodb.seedTable('quiesce-state');
    fakeAws.events.handle('CreateEventBus', { Name: 'quiesce-audit' });
    fakeAws.eks.seedCluster({ name: 'prod', ...started.address(), vpcId: VPC });
    const m = recorded('sweeper');
    const logger = createLogger('sweeper');
    const deps = buildSweepDeps({
      config: loadSweeperConfig({ ...PROD_ENV, AWS_REGION: 'us-east-1', SWEEP_OVERDUE_FACTOR: '3' }),
      clients: createAwsClients(),
      logger,
      now: () => new Date(fakeAws.clock.now()),
      retry: { baseDelayMs: 2, maxDelayMs: 20 },
      sleep: (ms) => fakeAws.clock.sleep(ms),
    });
    const handler = makeSweepHandler(() => deps, logger, m.metrics);
    const tick = (): Promise<unknown> => handler(sample('scheduled-sweep') as never, lambdaContext).catch((err: unknown) => err);

    expect(await tick()).toMatchObject({ status: 'applied' });
    expect(m.values('sweepCompleted')).toEqual([1]);
    expect(m.values('sweepOverdue')).toEqual([0]);

    // The cluster API goes away: each run removes only what the VPC proves dead and fails; no sweep completes.
    kube.setUnavailable(true);
    fakeAws.clock.advance(120_000);
    expect(await tick()).toMatchObject({ name: 'ClusterUnavailableError' });
    expect(m.values('sweepOverdue')).toEqual([0, 0]); // 2 minutes in: within 3 x 120 s
    fakeAws.clock.advance(241_000);
    expect(await tick()).toMatchObject({ name: 'ClusterUnavailableError' });
    expect(m.values('sweepOverdue')).toEqual([0, 0, 1]);
    expect(m.values('sweepCompleted')).toEqual([1]);

    // The cluster is back: the next run completes a sweep, and the deadline moves on.
    kube.setUnavailable(false);
    fakeAws.clock.advance(120_000);
    expect(await tick()).toMatchObject({ status: 'applied' });
    expect(m.values('sweepOverdue')).toEqual([0, 0, 1, 0]);
  });

  it('spot-interruption: fullScanFallback counts a fast path the cluster did not answer, not a full scan by choice (CLUSTER_CANDIDATES=false)', async () => {
    const live = spotHarness();
    fakeAws.eks.seedCluster({ name: 'prod', ...started.address(), vpcId: VPC });
    kube.setUnavailable(true);
    const m = recorded('spot-interruption');
    await makeSpotHandler(() => live.deps, createLogger('spot-interruption'), m.metrics)(sample('spot-interruption-warning') as never, lambdaContext);
    expect(m.values('fullScan')).toEqual([1]);
    expect(m.values('fullScanFallback')).toEqual([1]);

    fakeAws.reset();
    const dry = spotHarness({ CLUSTER_CANDIDATES: 'false' });
    fakeAws.eks.seedCluster({ name: 'prod', ...started.address(), vpcId: VPC });
    kube.setUnavailable(false);
    const d = recorded('spot-interruption');
    await makeSpotHandler(() => dry.deps, createLogger('spot-interruption'), d.metrics)(sample('spot-interruption-warning') as never, lambdaContext);
    expect(d.values('fullScan')).toEqual([1]);
    expect(d.values('fullScanFallback')).toEqual([0]);
  });

  it('pod-events: every pod event counts podEventsReceived, the forwarder\'s also forwarderEventsReceived and a heartbeat `quiesce doctor` reads', async () => {
    const h = podEventsHarness(started);
    const m = recorded('pod-events');
    const handler = makePodHandler(() => h.deps, createLogger('pod-events'), m.metrics);
    const event = sample('pod-terminating');
    const forwarder = { ...event, detail: { ...(event['detail'] as object), cluster: 'prod' } };
    await handler(forwarder as never, lambdaContext);
    const exporter = sample('kubernetes-event-exporter-killing');
    await handler({ ...exporter, detail: { ...(exporter['detail'] as object), clusterName: 'prod' } } as never, lambdaContext);
    expect(m.values('podEventsReceived')).toEqual([1, 1]);
    expect(m.values('forwarderEventsReceived')).toEqual([1]);
    const store = new AwsDynamoStateStore(createAwsClients().dynamodb, new ApiBudget(), 'quiesce-state');
    const first = new Date(fakeAws.clock.now()).toISOString();
    const heard = () => lastForwarderHeartbeat(store, 'prod', new Date(fakeAws.clock.now()));
    expect(await heard()).toEqual({ receivedAt: first, observedAt: '2026-11-21T12:00:00.412Z' });
    // At most one write a minute per container, whatever the rate of events.
    fakeAws.clock.advance(30_000);
    await handler(forwarder as never, lambdaContext);
    expect((await heard())?.receivedAt).toBe(first);
    // A minute on, an event the forwarder saw long ago (a late delivery) proves nothing about now; a fresh one does.
    fakeAws.clock.advance(31_000);
    await handler(forwarder as never, lambdaContext);
    expect((await heard())?.receivedAt).toBe(first);
    const now = new Date(fakeAws.clock.now()).toISOString();
    await handler({ ...forwarder, detail: { ...forwarder.detail, observedAt: now, deletionTimestamp: now } } as never, lambdaContext);
    expect(await heard()).toEqual({ receivedAt: now, observedAt: now });
    expect(m.values('podEventsReceived')).toEqual([1, 1, 1, 1, 1]);
  });
});

/** The alarms of the quiet failures: metric, function, alarm name suffix, and how it is judged. */
const SIGNALS = [
  { metric: 'shiftAborted', service: 'traffic-shift', alarm: 'traffic-shift-aborted', paging: true, missing: 'notBreaching' },
  { metric: 'rollbackNotConfirmed', service: 'traffic-shift', alarm: 'traffic-shift-rollback-not-confirmed', paging: true, missing: 'notBreaching' },
  { metric: 'sweepOverdue', service: 'sweeper', alarm: 'sweeper-overdue', paging: false, missing: 'breaching' },
  { metric: 'fullScanFallback', service: 'spot-interruption', alarm: 'spot-interruption-full-scan-fallback', paging: false, missing: 'notBreaching' },
  { metric: 'fastPathMiss', service: 'spot-interruption', alarm: 'spot-interruption-fast-path-miss', paging: false, missing: 'notBreaching' },
  { metric: 'podEventsReceived', service: 'pod-events', alarm: 'pod-events-silent', paging: false, missing: 'breaching' },
] as const;

type Json = Record<string, unknown>;

describe('each of those metrics has its alarm and its panel in the packaged stack', () => {
  let t: CfnTemplate;
  // Packaging is shared by the run (test/package/packaged.ts): the first file to need it waits for it.
  beforeAll(async () => {
    t = await packagedTemplate();
  }, 180_000);

  it('an alarm per metric on this stage\'s dimensions, the paging ones to the paging topic too, and a dashboard panel', () => {
    const alarms = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties as Json);
    const body = ((Object.values(t.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')?.Properties as Json)['DashboardBody'] as { 'Fn::Sub': string })['Fn::Sub'];
    const dash = JSON.parse(body) as { widgets: { properties: { metrics?: unknown[][] } }[] };
    const rows = dash.widgets.flatMap((w) => {
      let last: unknown[] = [];
      return (w.properties.metrics ?? []).map((row) => (last = row.map((v, i) => (v === '.' ? last[i] : v))));
    });
    for (const s of SIGNALS) {
      const alarm = alarms.find((a) => a['AlarmName'] === `quiesce-prod-${s.alarm}`);
      expect(alarm, s.alarm).toBeDefined();
      expect(alarm).toMatchObject({ Namespace: 'quiesce', MetricName: s.metric, TreatMissingData: s.missing });
      expect(alarm?.['Dimensions'], s.alarm).toEqual([{ Name: 'service', Value: s.service }, { Name: 'stage', Value: 'prod' }]);
      const actions = (alarm?.['AlarmActions'] as { Ref: string }[]).map((a) => a.Ref);
      expect(actions, s.alarm).toEqual(s.paging ? ['PagingTopic', 'AlarmTopic'] : ['AlarmTopic']);
      expect(String(alarm?.['AlarmDescription']), s.alarm).toContain(`docs/operations.md#${s.alarm}`);
      expect(rows.some((r) => r[0] === 'quiesce' && r[1] === s.metric && r[3] === s.service && r[5] === 'prod'), `${s.metric} on the dashboard`).toBe(true);
    }
    // The silence window is the stage's setting: an hour a period, every period empty.
    const silent = alarms.find((a) => a['AlarmName'] === 'quiesce-prod-pod-events-silent');
    expect(silent).toMatchObject({ Period: 3600, EvaluationPeriods: '24', DatapointsToAlarm: '24', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
  });
});
