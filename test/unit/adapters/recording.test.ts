/**
 * The recording side of the write port (functions/_core/adapters/aws/recording.ts): a write is recognised by
 * its operation and recorded with the request it would have sent, never sent; a read goes to the live client;
 * the reads that confirm a recorded write (the operation's status, the rule, the item) see the record.
 */
import { CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeregisterTargetsCommand, DescribeRulesCommand, DescribeTargetHealthCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { DeregisterInstanceCommand, GetOperationCommand, ListInstancesCommand, ListOperationsCommand } from '@aws-sdk/client-servicediscovery';
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { applySet, isReadOperation, operationOf, WriteRecorder } from '#core/adapters/aws/recording.ts';

/** A stand-in for a live SDK client: answers reads from `answers` by operation, and remembers what it was sent. */
function liveClient(answers: Record<string, unknown> = {}) {
  const sent: string[] = [];
  return {
    sent,
    client: {
      async send(command: unknown): Promise<unknown> {
        const op = operationOf(command);
        sent.push(op);
        return answers[op] ?? {};
      },
    },
  };
}

describe('which operations are writes', () => {
  it('names each operation from the SDK command', () => {
    const commands = [
      new DeregisterTargetsCommand({ TargetGroupArn: 'a', Targets: [] }),
      new ModifyRuleCommand({ RuleArn: 'r' }),
      new DeregisterInstanceCommand({ ServiceId: 's', InstanceId: 'i' }),
      new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'h', LifecycleActionResult: 'CONTINUE' }),
      new SendMessageCommand({ QueueUrl: 'q', MessageBody: '{}' }),
      new CreateScheduleCommand({ Name: 'n', ScheduleExpression: 'at(2026-11-21T12:00:00)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'a', RoleArn: 'r' } }),
      new DeleteScheduleCommand({ Name: 'n' }),
      new PutItemCommand({ TableName: 't', Item: {} }),
      new UpdateItemCommand({ TableName: 't', Key: {} }),
      new DeleteItemCommand({ TableName: 't', Key: {} }),
      new PutEventsCommand({ Entries: [] }),
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: 'q', Entries: [] }),
    ];
    expect(commands.map(operationOf)).toEqual(['DeregisterTargets', 'ModifyRule', 'DeregisterInstance', 'CompleteLifecycleAction', 'SendMessage', 'CreateSchedule', 'DeleteSchedule', 'PutItem', 'UpdateItem', 'DeleteItem', 'PutEvents', 'ChangeMessageVisibilityBatch']);
    for (const c of commands) expect(isReadOperation(operationOf(c)), operationOf(c)).toBe(false);
  });

  it('reads are Describe, List and Get; anything else is recorded, including an operation nobody routed', () => {
    for (const op of ['DescribeTargetHealth', 'DescribeRules', 'ListInstances', 'ListOperations', 'GetOperation', 'GetItem', 'GetQueueUrl']) expect(isReadOperation(op), op).toBe(true);
    for (const op of ['RegisterTargets', 'ReceiveMessage', 'TerminateInstances', 'Getaway', 'Listen']) expect(isReadOperation(op), op).toBe(false);
  });
});

describe('the recording client', () => {
  it('records a write with its request and answers as a successful write, sending nothing', async () => {
    const live = liveClient();
    const recorder = new WriteRecorder();
    const client = recorder.wrap(live.client, 'elasticloadbalancing');
    expect(await client.send(new DeregisterTargetsCommand({ TargetGroupArn: 'arn:tg', Targets: [{ Id: '10.0.1.11', Port: 8080 }] }) as never)).toEqual({});
    expect(live.sent).toEqual([]);
    expect(recorder.records()).toEqual([{ service: 'elasticloadbalancing', operation: 'DeregisterTargets', request: { TargetGroupArn: 'arn:tg', Targets: [{ Id: '10.0.1.11', Port: 8080 }] }, at: expect.any(Date) }]);
  });

  it('sends reads to the live client', async () => {
    const live = liveClient({ DescribeTargetHealth: { TargetHealthDescriptions: [{ Target: { Id: 'x' } }] } });
    const client = new WriteRecorder().wrap(live.client, 'elasticloadbalancing');
    expect(await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:tg' }) as never)).toEqual({ TargetHealthDescriptions: [{ Target: { Id: 'x' } }] });
    expect(live.sent).toEqual(['DescribeTargetHealth']);
  });

  it('a Cloud Map operation it "submitted" has succeeded, in GetOperation and in ListOperations', async () => {
    const live = liveClient({ ListOperations: { Operations: [{ Id: 'theirs', Status: 'PENDING' }] }, ListInstances: { Instances: [] } });
    const client = new WriteRecorder().wrap(live.client, 'servicediscovery');
    const { OperationId } = (await client.send(new DeregisterInstanceCommand({ ServiceId: 's', InstanceId: 'i' }) as never)) as { OperationId: string };
    expect(OperationId).toMatch(/^recorded-/);
    expect(await client.send(new GetOperationCommand({ OperationId }) as never)).toMatchObject({ Operation: { Id: OperationId, Status: 'SUCCESS' } });
    expect(await client.send(new ListOperationsCommand({}) as never)).toEqual({ Operations: [{ Id: 'theirs', Status: 'PENDING' }, { Id: OperationId, Status: 'SUCCESS' }] });
    await client.send(new ListInstancesCommand({ ServiceId: 's' }) as never);
    // GetOperation of its own operation never reached AWS; the lists did.
    expect(live.sent).toEqual(['ListOperations', 'ListInstances']);
  });

  it('a rule it "modified" reads back with the recorded actions; other rules as AWS has them', async () => {
    const actions = [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: 'a', Weight: 0 }, { TargetGroupArn: 'b', Weight: 100 }] } }];
    const live = liveClient({ DescribeRules: { Rules: [{ RuleArn: 'r1', Actions: [{ Type: 'forward' }] }, { RuleArn: 'r2', Actions: [{ Type: 'fixed-response' }] }] } });
    const client = new WriteRecorder().wrap(live.client, 'elasticloadbalancing');
    await client.send(new ModifyRuleCommand({ RuleArn: 'r1', Actions: actions as never }) as never);
    expect(await client.send(new DescribeRulesCommand({ RuleArns: ['r1', 'r2'] }) as never)).toEqual({ Rules: [{ RuleArn: 'r1', Actions: actions }, { RuleArn: 'r2', Actions: [{ Type: 'fixed-response' }] }] });
  });

  it('an item it "wrote" reads back as written (put, SET update with ALL_NEW, delete); others come from AWS', async () => {
    const live = liveClient({ GetItem: { Item: { pk: { S: 'other' } } } });
    const client = new WriteRecorder().wrap(live.client, 'dynamodb');
    const key = { pk: { S: 'guard#tg' } };
    const acquired = (await client.send(
      new UpdateItemCommand({
        TableName: 't',
        Key: key,
        UpdateExpression: 'SET #owner = :owner, leaseUntil = :until',
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { S: 'w1' }, ':until': { N: '5' } },
        ReturnValues: 'ALL_NEW',
      }) as never,
    )) as { Attributes: unknown };
    expect(acquired.Attributes).toEqual({ pk: { S: 'guard#tg' }, owner: { S: 'w1' }, leaseUntil: { N: '5' } });
    await client.send(new UpdateItemCommand({ TableName: 't', Key: key, UpdateExpression: 'SET #data = :d', ExpressionAttributeNames: { '#data': 'data' }, ExpressionAttributeValues: { ':d': { S: '{}' } } }) as never);
    expect(await client.send(new GetItemCommand({ TableName: 't', Key: key }) as never)).toEqual({ Item: { pk: { S: 'guard#tg' }, owner: { S: 'w1' }, leaseUntil: { N: '5' }, data: { S: '{}' } } });
    await client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'lock' }, owner: { S: 'shift' } } }) as never);
    expect(await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'lock' } } }) as never)).toEqual({ Item: { pk: { S: 'lock' }, owner: { S: 'shift' } } });
    await client.send(new DeleteItemCommand({ TableName: 't', Key: { pk: { S: 'lock' } } }) as never);
    expect(await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'lock' } } }) as never)).toEqual({});
    expect(await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'other' } } }) as never)).toEqual({ Item: { pk: { S: 'other' } } });
    // An update of a few attributes of an item it never wrote does not invent the item: it reads live.
    await client.send(new UpdateItemCommand({ TableName: 't', Key: { pk: { S: 'other' } }, UpdateExpression: 'SET #data = :d', ExpressionAttributeNames: { '#data': 'data' }, ExpressionAttributeValues: { ':d': { S: '{}' } } }) as never);
    expect(await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'other' } } }) as never)).toEqual({ Item: { pk: { S: 'other' } } });
    expect(live.sent).toEqual(['GetItem', 'GetItem']);
  });

  it('answers PutEvents, SendMessage and CreateSchedule as accepted', async () => {
    const live = liveClient();
    const recorder = new WriteRecorder();
    expect(await recorder.wrap(live.client, 'events').send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }, { Source: 's', DetailType: 'd', Detail: '{}' }] }) as never)).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }, { EventId: expect.any(String) }] });
    expect(await recorder.wrap(live.client, 'sqs').send(new SendMessageCommand({ QueueUrl: 'q', MessageBody: '{}' }) as never)).toEqual({ MessageId: expect.any(String) });
    expect(await recorder.wrap(live.client, 'scheduler').send(new CreateScheduleCommand({ Name: 'n', GroupName: 'g', ScheduleExpression: 'at(2026-11-21T12:00:00)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'a', RoleArn: 'r' } }) as never)).toEqual({ ScheduleArn: 'arn:aws:scheduler:::schedule/g/n' });
    expect(live.sent).toEqual([]);
    expect(recorder.records().map((r) => `${r.service} ${r.operation}`)).toEqual(['events PutEvents', 'sqs SendMessage', 'scheduler CreateSchedule']);
  });

  it('keeps only the most recent writes', async () => {
    const recorder = new WriteRecorder({ keep: 2 });
    const client = recorder.wrap(liveClient().client, 'sqs');
    for (const body of ['1', '2', '3']) await client.send(new SendMessageCommand({ QueueUrl: 'q', MessageBody: body }) as never);
    expect(recorder.records().map((r) => (r.request as { MessageBody: string }).MessageBody)).toEqual(['2', '3']);
  });

  it('keeps at most keepBytes of requests and of items, forgetting what was written longest ago (its reads go live again)', async () => {
    const live = liveClient({ GetItem: { Item: { pk: { S: 'from AWS' } } } });
    const recorder = new WriteRecorder({ keepBytes: 2_500 });
    const client = recorder.wrap(live.client, 'dynamodb');
    // Parts of a large record, 1 KB each (state/chunked-record.ts writes them up to 300 KB): the third one
    // pushes the first out of both the records and the items.
    const part = (n: number) => new PutItemCommand({ TableName: 't', Item: { pk: { S: `scope#prod#v${n}#0` }, data: { S: 'x'.repeat(1000) } } });
    for (const n of [1, 2, 3]) await client.send(part(n) as never);
    expect(recorder.records().map((r) => (r.request as { Item: { pk: { S: string } } }).Item.pk.S)).toEqual(['scope#prod#v2#0', 'scope#prod#v3#0']);
    const get = (n: number) => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: `scope#prod#v${n}#0` } } }) as never) as Promise<{ Item: { pk: { S: string } } }>;
    expect((await get(3)).Item.pk.S).toBe('scope#prod#v3#0');
    expect((await get(2)).Item.pk.S).toBe('scope#prod#v2#0');
    expect((await get(1)).Item.pk.S).toBe('from AWS');
    expect(live.sent).toEqual(['GetItem']);
    // Rewriting a key replaces its bytes, it does not add to them: the two kept parts stay.
    for (let i = 0; i < 5; i++) await client.send(part(3) as never);
    expect((await get(2)).Item.pk.S).toBe('scope#prod#v2#0');
    // One write larger than the whole bound is still kept (the most recent always is).
    await client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'big' }, data: { S: 'y'.repeat(5_000) } } }) as never);
    expect(recorder.records()).toHaveLength(1);
    expect(((await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'big' } } }) as never)) as { Item: { pk: { S: string } } }).Item.pk.S).toBe('big');
  });
});

describe('applySet', () => {
  it('applies the plain SET assignments quiesce writes, and refuses anything else', () => {
    expect(applySet({ pk: { S: 'k' } }, 'SET a = :a, #b = :b', { '#b': 'b' }, { ':a': { N: '1' }, ':b': { S: 'x' } })).toEqual({ pk: { S: 'k' }, a: { N: '1' }, b: { S: 'x' } });
    expect(applySet({}, 'SET a = a + :one', {}, { ':one': { N: '1' } })).toBeUndefined();
    expect(applySet({}, 'REMOVE a')).toBeUndefined();
  });
});
