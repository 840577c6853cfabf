/**
 * Strict where it protects, lenient where strictness only drops work: the genuine shapes NTH's and
 * Karpenter's tests send (test/fixtures/anchor-shapes), which quiesce once rejected over a field the
 * deregistration does not need, each take their node out of traffic through the real spot handler against
 * the fake AWS. A field only one step needs fails that step alone (the lifecycle token and
 * CompleteLifecycleAction), and a dying state change EC2 does not confirm yet gets a second look.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { spotHarness, type SpotHarness } from './harness.ts';

const ACCOUNT = '123456789012';
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:quiesce-lifecycle-hooks`;
const shape = (name: string): string => readFileSync(new URL(`../fixtures/anchor-shapes/${name}.json`, import.meta.url), 'utf8');
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const rejections = (): Record<string, unknown>[] => fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail);

/** The queue as deployed lets EventBridge and the hooks' topic in; the harness's function reads it. */
function harness(env: Record<string, string> = {}): SpotHarness {
  const h = spotHarness(env);
  const allow = { Statement: [{ Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'sns.amazonaws.com'] }, Action: 'sqs:SendMessage', Resource: '*' }] };
  fakeAws.sqs.handle('SetQueueAttributes', { QueueUrl: h.topology.recheckQueueUrl, Attributes: { Policy: JSON.stringify(allow) } });
  return h;
}
const fromRule = (h: SpotHarness, body: string): string => fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/quiesce-prod-spot-signals` }, h.topology.recheckQueueUrl, body);
const fromHookRole = (h: SpotHarness, body: string): string => fakeAws.sqs.sendAs(fakeAws.iam.assumeRole('asg-notify', 'AutoScaling'), h.topology.recheckQueueUrl, body);
/** Lambda's next batch from the queue, through the handler. */
const next = async (h: SpotHarness): Promise<unknown> => h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl));

describe('the anchors\' shapes take the node out of traffic', () => {
  it.each([
    ['NTH\'s Auto Scaling message without Service, straight to the queue', (h: SpotHarness) => fromHookRole(h, shape('nth-asg-lifecycle-sqs-direct'))],
    ['the same inside an SNS envelope', (h: SpotHarness) => fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: TOPIC }, h.topology.recheckQueueUrl, shape('nth-asg-lifecycle-sns'))],
  ])('%s: the node leaves traffic, its hook is completed', async (_name, send) => {
    const h = harness();
    send(h);
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.nodes)).toEqual([`${NODES.spot}:30080 healthy`, `${NODES.asg}:30080 draining`, `${NODES.other}:30080 healthy`]);
    expect(fakeAws.autoscaling.completed()).toEqual([expect.objectContaining({ instanceId: NODES.asg, lifecycleHookName: 'quiesce-drain', result: 'CONTINUE' })]);
    expect(rejections()).toEqual([]);
  });

  it('NTH\'s test notification without Service is recognised and ignored: no AWS call, no rejection', async () => {
    const h = harness();
    fromHookRole(h, shape('nth-asg-test-notification-sqs-direct'));
    const calls = fakeAws.calls.count();
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(fakeAws.calls.count()).toBe(calls);
    expect(rejections()).toEqual([]);
  });

  it('NTH\'s Health example without statusCode is an open change: scheduled, and due now (its start is within the lead)', async () => {
    const h = harness();
    fromRule(h, shape('nth-health-scheduled-change-no-status'));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    // Due within 15 minutes: its due message went through the queue (delay 0), written by the function's role.
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
    expect(rejections()).toEqual([]);
  });

  it('Karpenter\'s Health message with empty eventArn and startTime: its start unknown, it is acted on now', async () => {
    const h = harness();
    fromRule(h, shape('karpenter-health-scheduled-change-empty-fields'));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    const [plan] = fakeAws.events.published('quiesce-audit').map((p) => JSON.stringify(p.event.detail));
    expect(plan).toContain('no event ARN, no start: acted on now');
  });

  it('NTH\'s spot warning with time "": no event time, judged by the instance state alone', async () => {
    const h = harness();
    fromRule(h, shape('nth-spot-interruption-warning-empty-time'));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.11:8080 draining');
    expect(rejections()).toEqual([]);
  });
});

describe('a field only one step needs fails that step, not the node\'s way out', () => {
  it('a malformed LifecycleActionToken: the node leaves traffic; CompleteLifecycleAction is not called, loudly', async () => {
    const h = harness();
    fromHookRole(h, JSON.stringify({ ...JSON.parse(shape('nth-asg-lifecycle-sqs-direct')), LifecycleActionToken: 'not-a-token' }));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.nodes)).toContain(`${NODES.asg}:30080 draining`);
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(0);
    expect(rejections()).toEqual([expect.objectContaining({ error: 'LifecycleActionUnusable', field: 'detail.LifecycleActionToken', instanceId: NODES.asg })]);
  });

  it('an instance id that is not one is still refused: it is what the deregistration needs', async () => {
    const h = harness();
    fromHookRole(h, JSON.stringify({ ...JSON.parse(shape('nth-asg-lifecycle-sqs-direct')), EC2InstanceId: 'i-123' }));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(rejections()).toEqual([expect.objectContaining({ error: 'InvalidEventError', field: 'detail.EC2InstanceId' })]);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets')).toBe(0);
  });
});

describe('a dying state change EC2 does not confirm yet', () => {
  const change = (state: string) => JSON.stringify({ version: '0', id: `sc-${state}`, 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', account: ACCOUNT, time: new Date(fakeAws.clock.now()).toISOString(), region: 'us-east-1', resources: [], detail: { 'instance-id': NODES.other, state } });

  it('is looked at again after a few seconds, and acted on when EC2 has caught up', async () => {
    const h = harness();
    fromRule(h, change('shutting-down'));
    // EventBridge was faster than DescribeInstances: EC2 still answers running.
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 healthy');
    fakeAws.ec2.setInstanceState(NODES.other, 'shutting-down');
    fakeAws.clock.advance(5_000);
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
    const [plan] = fakeAws.events.published('quiesce-audit').map((p) => JSON.stringify(p.event.detail));
    expect(plan).toContain('instance state shutting-down (confirmed on a second look)');
  });

  it('is dropped as stale when EC2 still says running on the second look', async () => {
    const h = harness();
    fromRule(h, change('stopping'));
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    fakeAws.clock.advance(5_000);
    expect(await next(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 healthy');
    expect(fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets')).toBe(0);
    expect(fakeAws.sqs.pending(h.topology.recheckQueueUrl)).toEqual([]);
  });
});
