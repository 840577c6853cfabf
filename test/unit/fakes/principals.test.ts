/**
 * Who sent a message, and who may: the fake SQS reports each message's SenderId by the kind of its sender as
 * AWS documents it (a role session `<role id>:<session>`, an IAM user's id, a service's own id), through the
 * real SDK client, and both the fake SQS and the fake EventBridge enforce the resource policy a test sets.
 */
import { EventBridgeClient, PutEventsCommand, PutPermissionCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLE, EVENTBRIDGE_SENDER_ID, SNS_SENDER_ID } from '../../fakes/aws/index.ts';
import { clientConfig, fakeAws } from '../../fakes/aws/shared.ts';
import { awsError } from './helpers.ts';

const ACCOUNT = '123456789012';
const asKey = (accessKeyId: string) => ({ ...clientConfig(), credentials: { accessKeyId, secretAccessKey: 'x' } });

describe('SenderId, per sender kind', () => {
  it('a role session: "<role id>:<session name>"; an IAM user: its user id; unregistered keys: the default role', async () => {
    const url = fakeAws.sqs.seedQueue('q');
    const lambda = fakeAws.iam.assumeRole('quiesce-prod-spot-interruption-us-east-1', 'quiesce-prod-spot-interruption');
    const alice = fakeAws.iam.addUser('alice');
    for (const key of [lambda, alice, 'test']) await new SQSClient(asKey(key)).send(new SendMessageCommand({ QueueUrl: url, MessageBody: key }));
    const out = await new SQSClient(clientConfig()).send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['SenderId'] }));
    const senders = Object.fromEntries((out.Messages ?? []).map((m) => [m.Body, m.Attributes?.SenderId]));
    const roleId = fakeAws.iam.roleIdOf('quiesce-prod-spot-interruption-us-east-1');
    expect(roleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(senders[lambda]).toBe(`${roleId}:quiesce-prod-spot-interruption`);
    expect(senders[alice]).toMatch(/^AIDA[A-Z0-9]{17}$/);
    expect(senders['test']).toBe(`${DEFAULT_ROLE.id}:${DEFAULT_ROLE.session}`);
  });

  it('services deliver with their own id, the same whatever the resource; the Lambda event carries it', () => {
    const url = fakeAws.sqs.seedQueue('q');
    const allowAll = { Statement: [{ Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'sns.amazonaws.com'] }, Action: 'sqs:SendMessage', Resource: '*' }] };
    fakeAws.sqs.handle('SetQueueAttributes', { QueueUrl: url, Attributes: { Policy: JSON.stringify(allowAll) } });
    fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/a` }, url, 'rule a');
    fakeAws.sqs.deliver({ service: 'sns.amazonaws.com', sourceArn: `arn:aws:sns:us-east-1:${ACCOUNT}:t` }, url, 'topic t');
    const { Records } = fakeAws.sqs.lambdaEvent(url);
    expect(Records.map((r) => [r.body, r.attributes.SenderId])).toEqual([
      ['rule a', EVENTBRIDGE_SENDER_ID],
      ['topic t', SNS_SENDER_ID],
    ]);
    expect(Records[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:q`, attributes: { ApproximateReceiveCount: '1' } });
  });

  it('Scheduler sends a due schedule\'s Input to its SQS target with a session of the target\'s role', async () => {
    const url = fakeAws.sqs.seedQueue('node-signals');
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/quiesce-scheduled-change`;
    fakeAws.scheduler.handle('CreateSchedule', { Name: 's1', ScheduleExpression: 'at(2026-11-21T12:05:00)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:node-signals`, RoleArn: roleArn, Input: '{"due":1}' } });
    fakeAws.clock.advance(300_000);
    expect(fakeAws.deliverDueSchedules()).toEqual([]);
    expect(fakeAws.sqs.lambdaEvent(url).Records.map((r) => [r.body, r.attributes.SenderId])).toEqual([['{"due":1}', `${fakeAws.iam.roleIdOf(roleArn)}:scheduler`]]);
  });
});

describe('queue policies are enforced', () => {
  const spotRole = `arn:aws:iam::${ACCOUNT}:role/spot`;
  const rule = `arn:aws:events:us-east-1:${ACCOUNT}:rule/spot-signals`;
  const policy = (queueArn: string) => ({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': rule } } },
      { Effect: 'Deny', Principal: '*', Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnNotLike: { 'aws:PrincipalArn': spotRole }, ArnNotEquals: { 'aws:SourceArn': rule } } },
    ],
  });

  it('SendMessage by a principal the policy denies is AccessDenied and enqueues nothing; the allowed ones get through', async () => {
    const url = fakeAws.sqs.seedQueue('node-signals');
    await new SQSClient(clientConfig()).send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy(`arn:aws:sqs:us-east-1:${ACCOUNT}:node-signals`)) } }));
    const admin = fakeAws.iam.assumeRole('admin', 'alice');
    const err = await new SQSClient(asKey(admin)).send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'forged' })).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(awsError(() => fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: `${rule}-other` }, url, 'x')).code).toBe('AccessDenied');
    await new SQSClient(asKey(fakeAws.iam.assumeRole(spotRole, 'quiesce-prod-spot-interruption'))).send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'recheck' }));
    fakeAws.sqs.deliver({ service: 'events.amazonaws.com', sourceArn: rule }, url, 'warning');
    expect(fakeAws.sqs.pending(url).map((m) => m.Body)).toEqual(['recheck', 'warning']);
  });

  it('a policy that is not a policy document is refused', () => {
    const url = fakeAws.sqs.seedQueue('q');
    expect(awsError(() => fakeAws.sqs.handle('SetQueueAttributes', { QueueUrl: url, Attributes: { Policy: '{not json' } })).code).toBe('InvalidAttributeValue');
  });
});

describe('bus policies are enforced per PutEvents entry', () => {
  it('an entry the bus policy denies fails alone (AccessDeniedException); the others are accepted', async () => {
    fakeAws.events.handle('CreateEventBus', { Name: 'quiesce-prod' });
    const forwarder = `arn:aws:iam::${ACCOUNT}:role/forwarder`;
    const bus = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/quiesce-prod`;
    const deny = { Statement: [{ Sid: 'PodEventsOnlyFromTheForwarder', Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: bus, Condition: { StringEquals: { 'events:detail-type': ['Pod Terminating'] }, ArnNotEquals: { 'aws:PrincipalArn': forwarder } } }] };
    await new EventBridgeClient(clientConfig()).send(new PutPermissionCommand({ EventBusName: 'quiesce-prod', Policy: JSON.stringify(deny) }));
    const entry = (DetailType: string) => ({ EventBusName: 'quiesce-prod', Source: 'quiesce.kubernetes', DetailType, Detail: '{}' });
    const admin = fakeAws.iam.assumeRole('admin', 'alice');
    const out = await new EventBridgeClient(asKey(admin)).send(new PutEventsCommand({ Entries: [entry('Pod Terminating'), entry('Something Else')] }));
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[0]?.ErrorCode).toBe('AccessDeniedException');
    const ok = fakeAws.events.putEventsAs(fakeAws.iam.assumeRole(forwarder, 'pod-identity'), [entry('Pod Terminating')]);
    expect(ok.FailedEntryCount).toBe(0);
    expect(fakeAws.events.published('quiesce-prod').map((p) => p.event['detail-type'])).toEqual(['Something Else', 'Pod Terminating']);
  });
});
