/**
 * The interruption sources NTH and Karpenter handle, through the real spot handler against the fake AWS,
 * fed the samples in events/: capacity-reservation warnings, lifecycle hooks that notify the queue directly
 * or through SNS (and EventBridge events wrapped in SNS), their test notifications, and AWS Health scheduled
 * changes (scheduled for the start minus the lead, moved, cancelled, due, never doubled).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { spotHarness, writeCalls, type SpotHarness } from './harness.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const sqs = (...bodies: unknown[]) => ({ Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: typeof b === 'string' ? b : JSON.stringify(b), eventSource: 'aws:sqs' })) });
const deregistrations = (): number => fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets');

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:quiesce-recheck';
const SCHEDULER_ROLE = 'arn:aws:iam::123456789012:role/quiesce-scheduled-change';
// Scheduler sends a due message with a session of this role: the stack lists the role's id, so does this.
const SCHEDULING = { SCHEDULED_CHANGE_QUEUE_ARN: QUEUE_ARN, SCHEDULED_CHANGE_ROLE_ARN: SCHEDULER_ROLE, SCHEDULED_CHANGE_SENDER_IDS: fakeAws.iam.roleIdOf(SCHEDULER_ROLE) };

describe('EC2 Capacity Reservation Instance Interruption Warning', () => {
  it('is handled like a spot warning: the node leaves traffic', async () => {
    const h = spotHarness();
    expect(await h.invoke(sample('capacity-reservation-interruption-warning'))).toMatchObject({ status: 'applied' });
    expect(targetsOf(h.topology.tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    const [audit] = fakeAws.events.published('quiesce-audit').map((p) => JSON.stringify(p.event.detail));
    expect(audit).toContain('capacity reservation interruption warning (terminate)');
  });

  it('delivered late (older than MAX_EVENT_AGE_SECONDS) goes through the same checks: ignored, nothing written', async () => {
    const h = spotHarness();
    const late = { ...sample('capacity-reservation-interruption-warning'), time: '2026-11-21T11:40:00Z' };
    expect(await h.invoke(late)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/1200 s old \(MAX_EVENT_AGE_SECONDS=600\)/) });
    expect(writeCalls()).toBe(0);
  });
});

describe('lifecycle hooks that notify SQS or SNS directly, and EventBridge events through SNS', () => {
  it.each([
    ['the raw Auto Scaling message on the queue', 'asg-lifecycle-sqs-direct'],
    ['the same through SNS (JSON message)', 'asg-lifecycle-sns'],
    ['the same through SNS (Auto Scaling\'s "key: value" text)', 'asg-lifecycle-sns-key-value'],
  ])('%s: the node leaves traffic and its hook is completed', async (_name, file) => {
    const h = spotHarness();
    expect(await h.invoke(sqs(sample(file)))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.nodes)).toEqual([`${NODES.spot}:30080 healthy`, `${NODES.asg}:30080 draining`, `${NODES.other}:30080 healthy`]);
    expect(fakeAws.autoscaling.completed()).toEqual([
      expect.objectContaining({ autoScalingGroupName: 'eks-prod-ng-general', lifecycleHookName: 'quiesce-drain', instanceId: NODES.asg, result: 'CONTINUE' }),
    ]);
  });

  it('an EventBridge spot warning wrapped in SNS (raw delivery off) is the warning', async () => {
    const h = spotHarness();
    expect(await h.invoke(sqs(sample('spot-interruption-warning-sns')))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.nodes)).toEqual([`${NODES.spot}:30080 draining`, `${NODES.asg}:30080 healthy`, `${NODES.other}:30080 healthy`]);
  });

  it('test notifications of every shape (and SNS subscription confirmations) are ignored: no AWS call', async () => {
    const h = spotHarness();
    const confirmation = { Type: 'SubscriptionConfirmation', MessageId: 'c1', Token: 'x', TopicArn: 'arn:aws:sns:us-east-1:123456789012:quiesce-node-signals', Message: 'You have chosen to subscribe', SubscribeURL: 'https://sns.example/confirm', Timestamp: '2026-11-21T12:00:00Z' };
    const calls = fakeAws.calls.count();
    const out = await h.invoke(sqs(sample('asg-test-notification-sqs-direct'), sample('asg-test-notification-sns'), sample('asg-test-notification'), confirmation));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(fakeAws.calls.count()).toBe(calls);
  });

  it('a malformed SNS envelope is rejected alone, naming the field; the rest of the batch runs', async () => {
    const h = spotHarness();
    const bad = { ...sample('asg-lifecycle-sns'), Message: '{"Service": "AWS Auto Scaling", "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING", "EC2InstanceId": "i-123"}' };
    expect(await h.invoke(sqs(bad, sample('asg-lifecycle-sqs-direct')))).toEqual({ batchItemFailures: [] });
    const rejected = fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail);
    expect(rejected).toEqual([expect.objectContaining({ field: 'detail.EC2InstanceId', messageId: 'm0' })]);
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(1);
  });
});

describe('AWS Health scheduled changes', () => {
  const START = Date.parse('2026-11-21T14:00:00Z');
  const DUE = START - 600_000;
  const health = (over: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): Record<string, unknown> => {
    const e = sample('health-scheduled-change');
    return { ...e, ...envelope, detail: { ...(e['detail'] as object), ...over } };
  };
  /** Delivers what Scheduler fires now (it sends to its SQS target as the schedule's role) through the handler. */
  const fireSchedules = async (h: SpotHarness): Promise<unknown> => {
    expect(fakeAws.deliverDueSchedules()).toEqual([]);
    const batch = fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl);
    return batch.Records.length === 0 ? undefined : h.invoke(batch);
  };

  it('is scheduled for the start minus SCHEDULED_CHANGE_LEAD_SECONDS, and the node leaves traffic then, not before', async () => {
    const h = spotHarness(SCHEDULING);
    const calls = fakeAws.calls.count();
    expect(await h.invoke(health())).toMatchObject({ status: 'scheduled', reason: expect.stringMatching(/due at 2026-11-21T13:50:00.000Z \(600 s before the start\)/) });
    // DescribeInstances, GetItem, CreateSchedule, PutItem: nothing deregistered yet.
    expect(fakeAws.calls.count() - calls).toBe(4);
    expect(deregistrations()).toBe(0);
    const [schedule] = fakeAws.scheduler.schedules();
    expect(schedule).toMatchObject({ at: DUE, target: { Arn: QUEUE_ARN } });
    expect(JSON.parse(schedule!.target.Input!)).toMatchObject({ source: 'quiesce', 'detail-type': 'Quiesce Scheduled Change Due', detail: { instanceId: NODES.other } });

    fakeAws.clock.advance(DUE - 1000 - fakeAws.clock.now());
    expect(await fireSchedules(h)).toBeUndefined();
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 healthy');
    fakeAws.clock.advance(1000);
    const atDue = fakeAws.calls.count();
    expect(await fireSchedules(h)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toEqual(['10.0.1.11:8080 healthy', '10.0.1.33:8080 healthy', '10.0.2.11:8080 healthy', '10.0.3.11:8080 draining']);
    expect(targetsOf(h.topology.tg.nodes)).toEqual([`${NODES.spot}:30080 healthy`, `${NODES.asg}:30080 healthy`, `${NODES.other}:30080 draining`]);
    // The re-registration guard watches the node until the change starts (plus GUARD_DEADLINE_SECONDS).
    const [recheck] = fakeAws.sqs.pending(h.topology.recheckQueueUrl);
    expect(JSON.parse(recheck!.Body).detail).toMatchObject({ instanceIds: [NODES.other], deadline: new Date(START + 150_000).toISOString() });
    expect(fakeAws.calls.count() - atDue).toBeGreaterThan(0);
  });

  it('a duplicate changes nothing; an update moves the schedule; an older update and a stale due message do nothing; closed cancels', async () => {
    const h = spotHarness(SCHEDULING);
    await h.invoke(health());
    const [first] = fakeAws.scheduler.schedules();
    expect(await h.invoke(health())).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/already scheduled for 2026-11-21T13:50:00.000Z/) });
    expect(fakeAws.scheduler.schedules()).toHaveLength(1);

    const moved = health({ startTime: 'Sat, 21 Nov 2026 15:00:00 GMT', endTime: 'Sat, 21 Nov 2026 17:00:00 GMT', lastUpdatedTime: 'Sat, 21 Nov 2026 12:05:00 GMT' }, { time: '2026-11-21T12:05:00Z' });
    expect(await h.invoke(moved)).toMatchObject({ status: 'scheduled', reason: expect.stringMatching(/moved from 2026-11-21T13:50:00.000Z: .*due at 2026-11-21T14:50:00.000Z/) });
    expect(fakeAws.scheduler.schedules().map((s) => new Date(s.at).toISOString())).toEqual(['2026-11-21T14:50:00.000Z']);
    // The first schedule's message, had it been delivered anyway (a failed cancel): its token is no longer current.
    fakeAws.sqs.sendAs(fakeAws.iam.assumeRole(SCHEDULER_ROLE, 'scheduler'), h.topology.recheckQueueUrl, first!.target.Input!);
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    // An older notification than the one acted on (delivered out of order) changes nothing.
    expect(await h.invoke(health())).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/older notification/) });
    expect(deregistrations()).toBe(0);

    const closed = health({ statusCode: 'closed', lastUpdatedTime: 'Sat, 21 Nov 2026 12:10:00 GMT' }, { time: '2026-11-21T12:10:00Z' });
    expect(await h.invoke(closed)).toMatchObject({ status: 'scheduled', reason: expect.stringMatching(/closed: the deregistration .* is cancelled/) });
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    fakeAws.clock.advance(4 * 3600_000);
    expect(deregistrations()).toBe(0);
  });

  it('two deliveries of one notification at once leave one schedule, the one the state table names', async () => {
    const h = spotHarness(SCHEDULING);
    const both = await Promise.all([h.invoke(sqs(health())), h.invoke(sqs(health()))]);
    // The loser of the conditional write (if they raced) is retried, and then finds it already scheduled.
    for (const out of both) {
      for (const f of (out as { batchItemFailures: unknown[] }).batchItemFailures) expect(f).toEqual({ itemIdentifier: 'm0' });
    }
    expect(await h.invoke(health())).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/already scheduled/) });
    const [item] = fakeAws.dynamodb.items('quiesce-state').filter((i) => (i['pk'] as { S: string }).S.startsWith('health#'));
    expect(fakeAws.scheduler.schedules().map((x) => x.name)).toEqual([(item!['owner'] as { S: string }).S]);
  });

  it('near its start (within the lead) the node leaves traffic at once, through the queue (SQS delay 0)', async () => {
    const h = spotHarness(SCHEDULING);
    const soon = health({ startTime: 'Sat, 21 Nov 2026 12:05:00 GMT', endTime: 'Sat, 21 Nov 2026 13:00:00 GMT' });
    expect(await h.invoke(soon)).toMatchObject({ status: 'scheduled', reason: expect.stringMatching(/due now/) });
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    const due = fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl);
    expect(due.Records).toHaveLength(1);
    expect(await h.invoke(due)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
  });

  it('goes through the scope checks: another cluster\'s instance is rejected, an instance launched after the notice is not affected', async () => {
    const h = spotHarness(SCHEDULING);
    const staging = health({ affectedEntities: [{ entityValue: NODES.staging }] });
    expect(await h.invoke(staging)).toMatchObject({ status: 'rejected' });
    const before = health({ lastUpdatedTime: 'Fri, 20 Nov 2026 11:00:00 GMT' }, { time: '2026-11-20T11:00:00Z' });
    expect(await h.invoke(before)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/launched again/) });
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    expect(fakeAws.calls.count('dynamodb', 'PutItem')).toBe(0);
    expect(writeCalls()).toBe(0);
  });

  it('a Health event of another service or category, or naming no instance, is ignored without an AWS call', async () => {
    const h = spotHarness(SCHEDULING);
    const calls = fakeAws.calls.count();
    expect(await h.invoke(health({ service: 'RDS' }))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/only EC2 scheduled changes/) });
    expect(await h.invoke(health({ eventTypeCategory: 'issue' }))).toMatchObject({ status: 'ignored' });
    expect(await h.invoke(health({ affectedEntities: [{ entityValue: 'h-0123456789abcdef0' }] }))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/names no EC2 instance/) });
    expect(fakeAws.calls.count()).toBe(calls);
  });
});
