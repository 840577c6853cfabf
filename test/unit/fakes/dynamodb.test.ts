import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/aws/core.ts';
import { attributeValueSize, FakeDynamoDb, itemSize, MAX_ITEM_BYTES } from '../../fakes/aws/dynamodb.ts';
import { awsError } from './helpers.ts';

describe('FakeDynamoDb item size (400 KB, names included)', () => {
  let db: FakeDynamoDb;
  beforeEach(() => {
    db = new FakeDynamoDb(new FakeClock());
    db.seedTable('state');
  });
  // An item of exactly `bytes` bytes: pk (2 + 1) + data (4 + the string).
  const itemOf = (bytes: number) => ({ pk: { S: 'k' }, data: { S: 'x'.repeat(bytes - 7) } });

  it('counts names and values as the developer guide does', () => {
    expect(itemSize(itemOf(1000))).toBe(1000);
    expect(attributeValueSize({ S: 'é' })).toBe(2);
    expect(attributeValueSize({ N: '1234567890' })).toBe(6);
    expect(attributeValueSize({ N: '1700000000' })).toBe(2); // trailing zeros trimmed
    expect(attributeValueSize({ N: '-0.0500' })).toBe(2);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ L: [{ S: 'ab' }, { NULL: true }] })).toBe(3 + 3 + 2);
    expect(attributeValueSize({ M: { a: { S: 'bc' } } })).toBe(3 + 1 + 2 + 1);
  });

  it('takes an item of exactly 400 KB and refuses one byte more, writing nothing', () => {
    db.handle('PutItem', { TableName: 'state', Item: itemOf(MAX_ITEM_BYTES) });
    const err = awsError(() => db.handle('PutItem', { TableName: 'state', Item: { ...itemOf(MAX_ITEM_BYTES + 1), pk: { S: 'k' } } }));
    expect(err.code).toBe('ValidationException');
    expect(err.message).toMatch(/Item size has exceeded the maximum allowed size/);
    expect((db.items('state')[0]?.['data'] as { S: string }).S.length).toBe(MAX_ITEM_BYTES - 7);
  });

  it('refuses an UpdateItem whose result is too large, and keeps the old item', () => {
    db.handle('PutItem', { TableName: 'state', Item: itemOf(MAX_ITEM_BYTES - 100) });
    const err = awsError(() =>
      db.handle('UpdateItem', { TableName: 'state', Key: { pk: { S: 'k' } }, UpdateExpression: 'SET extra = :v', ExpressionAttributeValues: { ':v': { S: 'y'.repeat(200) } } }),
    );
    expect(err.code).toBe('ValidationException');
    expect(db.items('state')[0]?.['extra']).toBeUndefined();
  });

  it('refuses a partition key over 2,048 bytes', () => {
    const err = awsError(() => db.handle('GetItem', { TableName: 'state', Key: { pk: { S: 'k'.repeat(2049) } } }));
    expect(err.code).toBe('ValidationException');
    expect(err.message).toMatch(/hashkey has exceeded the maximum size limit of 2048 bytes/);
  });
});
