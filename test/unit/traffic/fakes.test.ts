/** The new fakes behind the real SDK clients: Scheduler, DynamoDB conditions, SSM decryption. */
import { describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig, fakeAws } from '../../fakes/aws/shared.ts';

describe('fake Scheduler', () => {
  const create = (name: string, expr = 'at(2026-11-21T12:05:00)') =>
    new SchedulerClient(clientConfig()).send(
      new CreateScheduleCommand({ Name: name, ScheduleExpression: expr, FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE', Target: { Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/b', RoleArn: 'arn:aws:iam::123456789012:role/r', Input: '{}' } }),
    );
  it('ConflictException on a duplicate name; fires at the at() time and deletes after completion', async () => {
    await create('s1');
    await expect(create('s1')).rejects.toMatchObject({ name: 'ConflictException' });
    expect((await new SchedulerClient(clientConfig()).send(new GetScheduleCommand({ Name: 's1' }))).ScheduleExpression).toBe('at(2026-11-21T12:05:00)');
    fakeAws.clock.advance(299_000);
    expect(fakeAws.scheduler.fireDue()).toEqual([]);
    fakeAws.clock.advance(1_000);
    expect(fakeAws.scheduler.fireDue()).toHaveLength(1);
    await expect(new SchedulerClient(clientConfig()).send(new GetScheduleCommand({ Name: 's1' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
  it('refuses a malformed at() expression', async () => {
    await expect(create('s2', 'at(2026-13-01T00:00:00)')).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('fake DynamoDB', () => {
  it('enforces ConditionExpression and refuses unused expression values', async () => {
    fakeAws.dynamodb.seedTable('tbl');
    const db = new DynamoDBClient(clientConfig());
    const put = () => db.send(new PutItemCommand({ TableName: 'tbl', Item: { pk: { S: 'a' }, n: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(db.send(new UpdateItemCommand({ TableName: 'tbl', Key: { pk: { S: 'a' } }, UpdateExpression: 'SET n = :v', ConditionExpression: 'n < :max', ExpressionAttributeValues: { ':v': { N: '2' }, ':max': { N: '1' } } }))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await db.send(new UpdateItemCommand({ TableName: 'tbl', Key: { pk: { S: 'a' } }, UpdateExpression: 'SET n = :v', ConditionExpression: 'n < :v', ExpressionAttributeValues: { ':v': { N: '2' } } }));
    expect(fakeAws.dynamodb.items('tbl')).toEqual([{ pk: { S: 'a' }, n: { N: '2' } }]);
    await expect(db.send(new PutItemCommand({ TableName: 'tbl', Item: { pk: { S: 'b' } }, ExpressionAttributeValues: { ':x': { S: 'y' } } }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('fake SSM', () => {
  it('decrypts a SecureString only WithDecryption; ParameterNotFound otherwise', async () => {
    fakeAws.ssm.putParameter('/t', 'plain');
    const ssm = new SSMClient(clientConfig());
    expect((await ssm.send(new GetParameterCommand({ Name: '/t', WithDecryption: true }))).Parameter?.Value).toBe('plain');
    expect((await ssm.send(new GetParameterCommand({ Name: '/t' }))).Parameter?.Value).not.toBe('plain');
    await expect(ssm.send(new GetParameterCommand({ Name: '/nope' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });
});
