/**
 * The spot, pod-events and traffic scenarios with the deployed policies in place: the packaged template is
 * rendered for the fake's account (test/package/deployed.ts), its node-signal queue and quiesce bus are
 * created in the fake AWS with their rendered policies, and every function signs as a session of its own
 * role, so the fake judges each send and put as AWS would (functions/_core/policy/resource-policy.ts). Next to each
 * scenario, the forgeries the issue found, refused at the queue or the bus, or by the handler, with no
 * ELB, Cloud Map or Auto Scaling write.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { createLogger } from '#core/telemetry.ts';
import { buildWebhookDeps, makeHandler as makeWebhookHandler } from '../../functions/deploy-webhook/handler.ts';
import { dispatch } from '../../functions/traffic-shift/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { seedTrafficTopology, trafficEnv, WEBHOOK_TOKEN } from '../fakes/traffic.ts';
import { loadTrafficConfig } from '../../functions/traffic-shift/config.ts';
import { buildTrafficDeps } from '../../functions/traffic-shift/wiring.ts';
import { deployedStack, installDeployed, type DeployedStack, type InstalledStack } from '../package/deployed.ts';
import { lambdaContext, podEventsHarness, spotHarness, startFakeKube, writeCalls, type SpotHarness } from './harness.ts';

const A = '123456789012';
const ASG_NOTIFY_ROLE = `arn:aws:iam::${A}:role/asg-notify`;
const HOOK_TOPIC = `arn:aws:sns:us-east-1:${A}:asg-hooks`;
const started = startFakeKube();

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
/** The writes quiesce could make to the account's traffic: ELB, Cloud Map, Auto Scaling. */
const trafficWrites = (): number =>
  (
    [
      ['elasticloadbalancing', 'DeregisterTargets'],
      ['elasticloadbalancing', 'ModifyRule'],
      ['servicediscovery', 'DeregisterInstance'],
      ['autoscaling', 'CompleteLifecycleAction'],
    ] as const
  ).reduce((n, [s, o]) => n + fakeAws.calls.count(s, o), 0);
const accessDenied = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'sent';
};

let deployed: DeployedStack;
beforeAll(async () => {
  // The optional senders a user with lifecycle hooks notifying SQS and SNS configures.
  deployed = await deployedStack(fakeAws, { LifecycleNotificationRoleArns: ASG_NOTIFY_ROLE, LifecycleNotificationTopicArns: HOOK_TOPIC });
}, 120_000);

/** The spot function as deployed: its rendered environment, its own role's session, the deployed queue and bus. */
function deployedSpot(): { h: SpotHarness; stack: InstalledStack } {
  const stack = installDeployed(fakeAws, deployed);
  const rendered = deployed.environment('SpotInterruption');
  fakeAws.scheduler.seedGroup(rendered['SCHEDULER_GROUP']!);
  const env = {
    RECHECK_QUEUE_URL: stack.queueUrl,
    AUDIT_EVENT_BUS: stack.busName,
    ...Object.fromEntries(['INTERNAL_SENDER_IDS', 'SCHEDULED_CHANGE_SENDER_IDS', 'SCHEDULED_CHANGE_QUEUE_ARN', 'SCHEDULED_CHANGE_ROLE_ARN', 'SCHEDULER_GROUP'].map((k) => [k, rendered[k]!])),
  };
  return { h: spotHarness(env, undefined, { accessKeyId: stack.keyOf('SpotInterruptionRole') }), stack };
}

/** EventBridge delivering `event` for the rule (logical id) to the deployed queue, stamped now. */
const fromRule = (stack: InstalledStack, rule: string, event: Record<string, unknown>): string =>
  fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: deployed.ruleArn(rule) }, stack.queueUrl, JSON.stringify({ ...event, time: new Date(fakeAws.clock.now()).toISOString() }));

describe('spot: the node-signal queue with its deployed policy', () => {
  it('a warning from the rule takes the node out; the function\'s own re-check gets through and deregisters what came back', async () => {
    const { h, stack } = deployedSpot();
    fromRule(stack, 'SpotSignalsRule', sample('spot-interruption-warning'));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(stack.queueUrl))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.11:8080 draining');
    // The audit record was accepted on the deployed bus (the spot role may put it).
    expect(fakeAws.events.published(stack.busName).map((p) => p.event['detail-type'])).toEqual(['Deregistration Plan Applied']);
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.1.11' }] });
    fakeAws.clock.advance(15_000);
    const round = fakeAws.sqs.lambdaEvent(stack.queueUrl);
    expect(round.Records.map((r) => r.attributes.SenderId)).toEqual([`${deployed.environment('SpotInterruption')['INTERNAL_SENDER_IDS']}:quiesce-prod-spot-interruption`]);
    expect(await h.invoke(round)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.11:8080 draining');
  });

  it('a scheduled change is due through Scheduler\'s role', async () => {
    const { h, stack } = deployedSpot();
    fromRule(stack, 'HealthScheduledChangeRule', sample('health-scheduled-change'));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(stack.queueUrl))).toEqual({ batchItemFailures: [] });
    fakeAws.clock.advance((fakeAws.scheduler.nextDueAt() ?? 0) - fakeAws.clock.now());
    expect(fakeAws.deliverDueSchedules()).toEqual([]);
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(stack.queueUrl))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
  });

  it('a lifecycle hook through the configured notification role and through the configured SNS topic', async () => {
    const { h, stack } = deployedSpot();
    fakeAws.sqs.sendAs(fakeAws.iam.assumeRole(ASG_NOTIFY_ROLE, 'AutoScaling'), stack.queueUrl, JSON.stringify(sample('asg-lifecycle-sqs-direct')));
    fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: HOOK_TOPIC }, stack.queueUrl, JSON.stringify({ ...sample('asg-lifecycle-sns'), TopicArn: HOOK_TOPIC }));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(stack.queueUrl))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.nodes)).toContain(`${NODES.asg}:30080 draining`);
    expect(fakeAws.autoscaling.completed().map((c) => c.instanceId)).toContain(NODES.asg);
  });

  it('forgeries: nobody else may send a signal; an allowed sender cannot send the function\'s own messages', async () => {
    const { h, stack } = deployedSpot();
    const warning = JSON.stringify({ ...sample('spot-interruption-warning'), detail: { 'instance-id': NODES.asg, 'instance-action': 'terminate' } });
    const recheck = JSON.stringify({ source: 'quiesce', 'detail-type': 'Quiesce Re-registration Check', detail: { instanceIds: [NODES.asg], targetGroupArns: [h.topology.tg.web], services: [], deadline: new Date(fakeAws.clock.now() + 120_000).toISOString(), round: 1, reason: 'forged' } });
    // Refused by the queue: an administrator, a CI role with sqs:*, the sweeper's role, another rule, another topic.
    expect(accessDenied(() => fakeAws.sqs.sendAs(fakeAws.iam.assumeRole('Administrator', 'alice'), stack.queueUrl, warning))).toBe('AccessDenied');
    expect(accessDenied(() => fakeAws.sqs.sendAs(fakeAws.iam.assumeRole('ci-deployer', 'build-1'), stack.queueUrl, recheck))).toBe('AccessDenied');
    expect(accessDenied(() => fakeAws.sqs.sendAs(stack.keyOf('SweeperRole'), stack.queueUrl, warning))).toBe('AccessDenied');
    expect(accessDenied(() => fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: `arn:aws:events:us-east-1:${A}:rule/forger` }, stack.queueUrl, warning))).toBe('AccessDenied');
    expect(accessDenied(() => fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: `arn:aws:sns:us-east-1:${A}:forger` }, stack.queueUrl, warning))).toBe('AccessDenied');
    expect(fakeAws.sqs.pending(stack.queueUrl)).toEqual([]);
    // Let through by the queue, refused by the handler: the notification role's re-check, the topic's re-check.
    fakeAws.sqs.sendAs(fakeAws.iam.assumeRole(ASG_NOTIFY_ROLE, 'AutoScaling'), stack.queueUrl, recheck);
    fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: HOOK_TOPIC }, stack.queueUrl, JSON.stringify({ Type: 'Notification', MessageId: 'x', TopicArn: HOOK_TOPIC, Message: recheck, Timestamp: '2026-11-21T12:00:00Z' }));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(stack.queueUrl))).toEqual({ batchItemFailures: [] });
    const rejected = fakeAws.events.published(stack.busName).filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail['error']);
    expect(rejected).toEqual(['UntrustedSenderError', 'UntrustedSenderError']);
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.11:8080 healthy');
    expect(trafficWrites()).toBe(0);
    expect(writeCalls()).toBe(0);
  });
});

describe('pod-events: the quiesce bus with its deployed policy', () => {
  const POD = { namespace: 'shop', name: 'payments-7d9f-abcde', uid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', ip: '10.0.1.12' };
  const entry = (busName: string, deletionTimestamp: string) => ({
    EventBusName: busName,
    Source: 'quiesce.kubernetes',
    DetailType: 'Pod Terminating',
    Detail: JSON.stringify({ ...(sample('pod-terminating')['detail'] as object), cluster: 'prod', namespace: POD.namespace, name: POD.name, uid: POD.uid, podIPs: [POD.ip], containerPorts: [{ containerPort: 9090, protocol: 'TCP' }], deletionTimestamp, observedAt: new Date(fakeAws.clock.now()).toISOString() }),
  });

  it('the forwarder\'s Pod Terminating is accepted and acted on; the same put by anyone else is refused, nothing written', async () => {
    const stack = installDeployed(fakeAws, deployed);
    started.kube.reset();
    const deletion = new Date(fakeAws.clock.now() + 30_000).toISOString();
    started.kube.addPod({ ...POD, containerPorts: [9090], deletionTimestamp: deletion, deletionGracePeriodSeconds: 30 });
    const h = podEventsHarness(started, { AUDIT_EVENT_BUS: stack.busName }, undefined, { accessKeyId: stack.keyOf('PodEventsRole') });
    for (const key of [fakeAws.iam.assumeRole('Administrator', 'alice'), stack.keyOf('DeployWebhookRole'), stack.keyOf('SweeperRole')]) {
      const out = fakeAws.events.putEventsAs(key, [entry(stack.busName, deletion)]);
      expect(out.Entries[0]).toMatchObject({ ErrorCode: 'AccessDeniedException' });
    }
    expect(fakeAws.events.published(stack.busName)).toEqual([]);
    expect(trafficWrites()).toBe(0);
    // The exporter's Killing: nobody configured, so nobody may put it.
    expect(fakeAws.events.putEventsAs(fakeAws.iam.assumeRole('event-exporter', 'x'), [{ EventBusName: stack.busName, Source: 'kubernetes-event-exporter', DetailType: 'Kubernetes Event', Detail: JSON.stringify(sample('kubernetes-event-exporter-killing')['detail']) }]).FailedEntryCount).toBe(1);

    expect(fakeAws.events.putEventsAs(stack.keyOf('PodForwarderRole'), [entry(stack.busName, deletion)]).FailedEntryCount).toBe(0);
    const [published] = fakeAws.events.published(stack.busName);
    expect(await h.invoke(published!.event)).toMatchObject({ status: 'applied', counts: { deregistered: 3 } });
    expect(targetsOf(h.topology.tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
  });
});

describe('traffic: Deployment Synced and the shift\'s steps through the deployed bus', () => {
  it('the webhook\'s event and Scheduler\'s steps are accepted and the shift completes; the same events put by others are refused', async () => {
    const stack = installDeployed(fakeAws, deployed);
    const t = seedTrafficTopology(fakeAws);
    const signed = (role: string) => createAwsClients({ overrides: { credentials: { accessKeyId: stack.keyOf(role), secretAccessKey: 'fake' } } });
    const webhook = makeWebhookHandler(() => buildWebhookDeps({ env: { WEBHOOK_TOKEN_PARAMETER: t.tokenParameter, STATE_TABLE: t.table, EVENT_BUS: stack.busName }, clients: signed('DeployWebhookRole'), logger: createLogger('deploy-webhook'), now: () => new Date(fakeAws.clock.now()) }));
    const res = await webhook({ headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, body: readFileSync(new URL('../../events/argocd-webhook-body.json', import.meta.url), 'utf8'), isBase64Encoded: false } as never, lambdaContext);
    expect(res.statusCode).toBe(202);
    const [synced] = fakeAws.events.published(stack.busName).filter((p) => p.event['detail-type'] === 'Deployment Synced');
    expect(synced).toBeDefined();

    // Forged: Deployment Synced by an administrator, a step by the webhook's role or the traffic-shift role.
    const put = (role: string, DetailType: string) => fakeAws.events.putEventsAs(role, [{ EventBusName: stack.busName, Source: 'quiesce', DetailType, Detail: JSON.stringify(synced!.event.detail) }]).Entries[0];
    expect(put(fakeAws.iam.assumeRole('Administrator', 'alice'), 'Deployment Synced')).toMatchObject({ ErrorCode: 'AccessDeniedException' });
    expect(put(stack.keyOf('DeployWebhookRole'), 'Traffic Shift Step Due')).toMatchObject({ ErrorCode: 'AccessDeniedException' });
    expect(put(stack.keyOf('TrafficShiftRole'), 'Traffic Shift Step Due')).toMatchObject({ ErrorCode: 'AccessDeniedException' });

    // The shift: each step's schedule fires, Scheduler puts its event with SchedulerInvokeRole, the function runs it.
    const deps = buildTrafficDeps('traffic-shift', {
      config: loadTrafficConfig(trafficEnv(t, { EVENT_BUS: stack.busName })),
      clients: signed('TrafficShiftRole'),
      logger: createLogger('traffic-shift'),
      now: () => new Date(fakeAws.clock.now()),
      sleep: async (ms) => fakeAws.clock.advance(ms),
      retry: { baseDelayMs: 2, maxDelayMs: 20 },
    });
    const outcomes = [await dispatch(deps, synced!.event)];
    for (let i = 0; i < 10 && fakeAws.scheduler.nextDueAt() !== undefined; i++) {
      fakeAws.clock.advance(fakeAws.scheduler.nextDueAt()! - fakeAws.clock.now());
      for (const inv of fakeAws.deliverDueSchedules()) {
        const p = inv.target.EventBridgeParameters!;
        const out = fakeAws.events.putEventsAs(stack.keyOf('SchedulerInvokeRole'), [{ EventBusName: stack.busName, Source: p.Source, DetailType: p.DetailType, Detail: inv.target.Input ?? '{}' }]);
        expect(out.FailedEntryCount).toBe(0);
        const step = fakeAws.events.published(stack.busName).at(-1)!;
        outcomes.push(await dispatch(deps, step.event));
      }
    }
    expect(outcomes.map((o) => o.status)).toEqual(['step-applied', 'step-applied', 'completed']);
    // Its own lifecycle events were accepted on the bus (the traffic-shift role may put them).
    expect(fakeAws.events.published(stack.busName).map((p) => p.event['detail-type'])).toContain('Traffic Shift Completed');
  });
});
