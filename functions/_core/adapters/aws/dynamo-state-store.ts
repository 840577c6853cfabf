/**
 * The conditional state store over DynamoDB: one table, string hash key `pk`, attributes `owner`,
 * `expiresAt` (epoch seconds, also the table's TTL attribute) and `data` (JSON string).
 *
 * Why "expired counts as absent" is in every condition: DynamoDB TTL deletes expired items lazily
 * (typically within days, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html),
 * so a lease left by a crashed shift would otherwise block the rule for days.
 * Conditional writes are atomic per item, which is all a lease needs:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { awsErrorName } from '../../errors.ts';
import type { StateStorePort, StoredRecord } from '../../ports/state-store.ts';
import { DynamoTable } from './dynamo-table.ts';

const seconds = (d: Date): string => String(Math.ceil(d.getTime() / 1000));

/** {@link StateStorePort} on a DynamoDB table. */
export class AwsDynamoStateStore extends DynamoTable implements StateStorePort {
  readonly #namespace: string;

  /**
   * `namespace`: prefixed to every key in the table (the dry-run ledger's `dry-run#` for a dry run's own
   * coordination records, ports/writes.ts `coordination`; default none).
   */
  constructor(client: ConstructorParameters<typeof DynamoTable>[0], budget: ConstructorParameters<typeof DynamoTable>[1], tableName: string, namespace = '') {
    super(client, budget, tableName);
    this.#namespace = namespace;
  }

  async putIfAbsent(record: StoredRecord, now: Date): Promise<boolean> {
    return this.#putIf(record, 'attribute_not_exists(pk) OR expiresAt <= :now', {}, { ':now': { N: String(Math.floor(now.getTime() / 1000)) } });
  }

  async replaceIfOwner(key: string, owner: string, next: StoredRecord, now: Date): Promise<boolean> {
    if (next.key !== key) throw new Error(`replaceIfOwner: the record's key ${next.key} is not ${key}`);
    return this.#putIf(next, '#owner = :owner AND expiresAt > :now', { '#owner': 'owner' }, { ':owner': { S: owner }, ':now': { N: String(Math.floor(now.getTime() / 1000)) } });
  }

  /** A conditional PutItem of the whole record; false when the condition does not hold. */
  async #putIf(record: StoredRecord, condition: string, names: Record<string, string>, values: Record<string, { S: string } | { N: string }>): Promise<boolean> {
    try {
      await this.budget.call('dynamodb', 'PutItem', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              pk: { S: this.#namespace + record.key },
              owner: { S: record.owner },
              expiresAt: { N: seconds(record.expiresAt) },
              data: { S: JSON.stringify(record.data) },
            },
            ConditionExpression: condition,
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async get(key: string, now: Date): Promise<StoredRecord | undefined> {
    const res = await this.budget.call('dynamodb', 'GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: this.#namespace + key } }, ConsistentRead: true })),
    );
    const item = res.Item;
    if (!item) return undefined;
    const expiresAt = new Date(Number(item['expiresAt']?.N ?? '0') * 1000);
    if (expiresAt.getTime() <= now.getTime()) return undefined;
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(item['data']?.S ?? '{}') as Record<string, unknown>;
    } catch {
      data = {};
    }
    return { key, owner: item['owner']?.S ?? '', expiresAt, data };
  }

  async updateIfOwner(key: string, owner: string, change: { expiresAt: Date; data: Readonly<Record<string, unknown>> }): Promise<boolean> {
    try {
      await this.budget.call('dynamodb', 'UpdateItem', () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: this.#namespace + key } },
            UpdateExpression: 'SET expiresAt = :exp, #data = :data',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner', '#data': 'data' },
            ExpressionAttributeValues: { ':owner': { S: owner }, ':exp': { N: seconds(change.expiresAt) }, ':data': { S: JSON.stringify(change.data) } },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async deleteIfOwner(key: string, owner: string): Promise<boolean> {
    try {
      await this.budget.call('dynamodb', 'DeleteItem', () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { pk: { S: this.#namespace + key } },
            ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': { S: owner } },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
