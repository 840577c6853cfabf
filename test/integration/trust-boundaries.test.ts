/**
 * The spot function's own messages are taken only from who may write them (contracts/internal-messages.ts),
 * through the real handler against the fake AWS, whose SQS reports each message's SenderId as AWS does
 * (test/fakes/aws/iam.ts). The forgery the issue reproduced: a re-check naming a healthy running node took
 * its pod out of a target group. Here the same re-check, written by the function's own role, does exactly
 * that (the control); written by anyone else, or wrapped in SNS, or invoked directly, it is an audited
 * `UntrustedSenderError` and nothing is written (no ELB, Cloud Map, Auto Scaling or SQS write).
 *
 * And a pod event's claim is confirmed against the cluster (pod-events/identity.ts): the second
 * forgery, a `Pod Terminating` for a Running, Ready pod without deletionTimestamp, deregisters nothing.
 */
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { podEventsHarness, spotHarness, startFakeKube, writeCalls, type SpotHarness } from './harness.ts';

const ACCOUNT = '123456789012';
const started = startFakeKube();
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:quiesce-lifecycle-hooks`;
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/quiesce-scheduled-change`;

const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const rejections = (): Record<string, unknown>[] => fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail);

/** A re-check as the guard writes it, naming the healthy, running Auto Scaling node and the web group. */
function recheckOf(h: SpotHarness): Record<string, unknown> {
  return {
    source: 'quiesce',
    'detail-type': 'Quiesce Re-registration Check',
    detail: { instanceIds: [NODES.asg], targetGroupArns: [h.topology.tg.web], services: [], deadline: new Date(fakeAws.clock.now() + 120_000).toISOString(), round: 1, reason: 'spot interruption warning (terminate)' },
  };
}

/** A due message as a scheduled change writes it, for the healthy node (its token is checked only later). */
function dueOf(): Record<string, unknown> {
  return {
    source: 'quiesce',
    'detail-type': 'Quiesce Scheduled Change Due',
    detail: { instanceId: NODES.asg, eventArn: 'arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/x', eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED', startTime: '2026-11-21T12:05:00.000Z', token: 'quiesce-hc-0123456789abcdef-1795269900', notifiedAt: '2026-11-21T11:00:00.000Z' },
  };
}

/** An SNS envelope (raw delivery off) around `message`, as SNS writes it to a subscribed queue. */
const snsEnvelope = (message: unknown): string =>
  JSON.stringify({ Type: 'Notification', MessageId: 'b9b1b0c4-5b4d-4f3a-9a3e-6f1d2c3b4a59', TopicArn: TOPIC, Message: JSON.stringify(message), Timestamp: '2026-11-21T12:00:00.000Z', SignatureVersion: '1', Signature: 'x', SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem', UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe' });

describe("the spot function's own messages, by who wrote them", () => {
  it('the control: a re-check written by the function\'s own role deregisters what it names', async () => {
    const h = spotHarness();
    // The handlers' credentials: a session of the default role, whose id INTERNAL_SENDER_IDS lists (as the stack does).
    fakeAws.sqs.sendAs('test', h.topology.recheckQueueUrl, JSON.stringify(recheckOf(h)));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.11:8080 draining');
  });

  it.each([
    ['an administrator\'s role session', () => fakeAws.iam.assumeRole('Administrator', 'alice@example.com')],
    ['a CI role with sqs:*', () => fakeAws.iam.assumeRole('ci-deployer', 'build-4711')],
    ['an IAM user', () => fakeAws.iam.addUser('bob')],
    ['the Scheduler role (it may send due messages, not re-checks)', () => fakeAws.iam.assumeRole(SCHEDULER_ROLE, 'scheduler')],
  ])('a re-check sent by %s is refused, audited, and writes nothing', async (_who, key) => {
    const h = spotHarness({ SCHEDULED_CHANGE_SENDER_IDS: fakeAws.iam.roleIdOf(SCHEDULER_ROLE) });
    const before = targetsOf(h.topology.tg.web);
    fakeAws.sqs.sendAs(key(), h.topology.recheckQueueUrl, JSON.stringify(recheckOf(h)));
    const batch = fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl);
    expect(await h.invoke(batch)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toEqual(before);
    expect(writeCalls()).toBe(0);
    expect(rejections()).toEqual([
      expect.objectContaining({ error: 'UntrustedSenderError', field: 'attributes.SenderId', messageId: batch.Records[0]!.messageId, senderId: batch.Records[0]!.attributes.SenderId }),
    ]);
  });

  it('a re-check inside an SNS envelope is refused even when the topic may send to the queue', async () => {
    const h = spotHarness();
    const allowTopic = { Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': TOPIC } } }] };
    fakeAws.sqs.handle('SetQueueAttributes', { QueueUrl: h.topology.recheckQueueUrl, Attributes: { Policy: JSON.stringify(allowTopic) } });
    fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: TOPIC }, h.topology.recheckQueueUrl, snsEnvelope(recheckOf(h)));
    // Raw message delivery on: the body is the message itself, its SenderId SNS's own: refused too.
    fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: TOPIC }, h.topology.recheckQueueUrl, JSON.stringify(recheckOf(h)));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.11:8080 healthy');
    expect(writeCalls()).toBe(0);
    expect(rejections().map((r) => [r['error'], r['field']])).toEqual([
      ['UntrustedSenderError', 'Message'],
      ['UntrustedSenderError', 'attributes.SenderId'],
    ]);
  });

  it('a re-check invoked directly, or in a record without a SenderId, is refused', async () => {
    const h = spotHarness();
    expect(await h.invoke(recheckOf(h))).toMatchObject({ status: 'rejected', error: 'UntrustedSenderError', field: 'event' });
    const bare = { Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: JSON.stringify(recheckOf(h)) }] };
    expect(await h.invoke(bare)).toEqual({ batchItemFailures: [] });
    expect(writeCalls()).toBe(0);
    expect(rejections().map((r) => r['field'])).toEqual(['event', 'attributes.SenderId']);
  });

  it('a scheduled change\'s due message is taken from the function\'s role and the Scheduler role only', async () => {
    const h = spotHarness({ SCHEDULED_CHANGE_SENDER_IDS: fakeAws.iam.roleIdOf(SCHEDULER_ROLE) });
    fakeAws.sqs.sendAs(fakeAws.iam.assumeRole('Administrator', 'alice'), h.topology.recheckQueueUrl, JSON.stringify(dueOf()));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    expect(rejections()).toEqual([expect.objectContaining({ error: 'UntrustedSenderError', field: 'attributes.SenderId' })]);
    // From Scheduler's role it is read (and then judged by its token: nothing is remembered for it, so ignored).
    fakeAws.sqs.sendAs(fakeAws.iam.assumeRole(SCHEDULER_ROLE, 'scheduler'), h.topology.recheckQueueUrl, JSON.stringify(dueOf()));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    expect(rejections()).toHaveLength(1);
    expect(writeCalls()).toBe(0);
  });

  it('with INTERNAL_SENDER_IDS unset every such message is refused (and the function says so when it starts)', async () => {
    const h = spotHarness({ INTERNAL_SENDER_IDS: '' });
    fakeAws.sqs.sendAs('test', h.topology.recheckQueueUrl, JSON.stringify(recheckOf(h)));
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    expect(rejections()).toEqual([expect.objectContaining({ error: 'UntrustedSenderError', message: expect.stringMatching(/INTERNAL_SENDER_IDS is empty/) })]);
    expect(writeCalls()).toBe(0);
  });
});

describe('a pod event\'s claim, confirmed against the cluster', () => {
  const POD = { namespace: 'shop', name: 'payments-7d9f-abcde', uid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', ip: '10.0.1.12' };
  const podEvent = (reason: 'deletion' | 'not-ready'): Record<string, unknown> => ({
    version: '0',
    id: `forged-${reason}`,
    source: 'quiesce.kubernetes',
    'detail-type': reason === 'deletion' ? 'Pod Terminating' : 'Pod Not Ready',
    time: new Date(fakeAws.clock.now()).toISOString(),
    detail: {
      version: 1, cluster: 'prod', namespace: POD.namespace, name: POD.name, uid: POD.uid, podIPs: [POD.ip], nodeName: null,
      containerPorts: [{ containerPort: 9090, protocol: 'TCP' }], labels: {},
      deletionTimestamp: reason === 'deletion' ? new Date(fakeAws.clock.now() + 30_000).toISOString() : null,
      gracePeriodSeconds: 30, reason, observedAt: new Date(fakeAws.clock.now()).toISOString(),
    },
  });
  const api = (h: { topology: { tg: { api: string } } }): string[] => targetsOf(h.topology.tg.api);

  it('a Pod Terminating for a Running, Ready pod without deletionTimestamp is refused: audited, nothing written', async () => {
    started.kube.reset();
    started.kube.addPod({ ...POD, containerPorts: [9090] });
    const h = podEventsHarness(started);
    const before = api(h);
    expect(await h.invoke(podEvent('deletion'))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/not terminating \(no deletionTimestamp\)/) });
    expect(api(h)).toEqual(before);
    expect(writeCalls()).toBe(0);
    expect(rejections()).toEqual([expect.objectContaining({ error: 'ClaimNotConfirmed', pod: `${POD.namespace}/${POD.name}`, eventId: 'forged-deletion' })]);
  });

  it('the control: once the pod is terminating in the cluster, the same event takes it out', async () => {
    started.kube.reset();
    started.kube.addPod({ ...POD, containerPorts: [9090] });
    started.kube.markTerminating(POD.namespace, POD.name, 30);
    const h = podEventsHarness(started);
    expect(await h.invoke(podEvent('deletion'))).toMatchObject({ status: 'applied' });
    expect(api(h)).toContain('10.0.1.12:9090 draining');
  });

  it('a Pod Not Ready acts only while the pod\'s Ready condition is not True now', async () => {
    started.kube.reset();
    started.kube.addPod({ ...POD, containerPorts: [9090] });
    const h = podEventsHarness(started, { NOT_READY_ACTION: 'deregister' });
    expect(await h.invoke(podEvent('not-ready'))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/is Ready now/) });
    expect(writeCalls()).toBe(0);
    started.kube.updatePod(POD.namespace, POD.name, { ready: false });
    expect(await h.invoke(podEvent('not-ready'))).toMatchObject({ status: 'applied' });
    expect(api(h)).toContain('10.0.1.12:9090 draining');
  });

  it('a pod that is gone, its IP held by no live pod, still goes (its claim cannot be contradicted)', async () => {
    started.kube.reset();
    const h = podEventsHarness(started);
    expect(await h.invoke(podEvent('deletion'))).toMatchObject({ status: 'applied' });
  });
});
