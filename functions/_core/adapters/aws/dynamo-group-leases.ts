/**
 * {@link GroupLeasePort} on the state table (the same table as the traffic shift's locks): one item per
 * group, `pk = guard#<group>`, with `owner`, `leaseUntil` (epoch ms), `data` (the ledger, JSON) and
 * `expiresAt` (epoch seconds, the table's TTL attribute).
 *
 * Why the lease has its own attribute instead of the TTL one: the ledger must outlive the lease by the whole
 * guard window, and DynamoDB may delete an item any time after its TTL has passed
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html), so `expiresAt`
 * is pushed out to "now + window" on every acquire and release while `leaseUntil` ends the lease.
 *
 * Each step is ONE conditional UpdateItem (atomic per item,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html):
 * acquire returns the ledger with `ReturnValues: ALL_NEW`; release is fenced on "still mine and unexpired",
 * so a writer whose lease ran out can never write behind the back of the writer that took it over.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { GroupLedger, LedgerEntry } from '../../domain/cross-writer-guard.ts';
import { EMPTY_LEDGER } from '../../domain/cross-writer-guard.ts';
import { awsErrorName } from '../../errors.ts';
import type { GroupLeasePort } from '../../ports/state-store.ts';
import { DynamoTable } from './dynamo-table.ts';

/** The state-table key of a group's lease and ledger (`namespace` first: the dry-run ledger's is `dry-run#`). */
export const groupLeaseKey = (group: string, namespace = ''): string => `${namespace}guard#${group}`;

/**
 * The key namespace of the dry-run ledger: a container in dry run (DRY_RUN) takes its group leases and keeps
 * its ledgers under keys of their own, `dry-run#guard#<group>`, with the same conditional writes as live. So
 * a dry run proves the state table's grants and runs the guard across writers among dry-run writers exactly
 * as live (the max fraction is shared between them), and a live writer never meets a dry-run lease or
 * commitment: the two ledgers cannot block or count against each other.
 */
export const DRY_RUN_LEDGER = 'dry-run#';

const ttlSeconds = (now: Date, keepMs: number): string => String(Math.ceil((now.getTime() + keepMs) / 1000));

function parseLedger(text: string | undefined): GroupLedger {
  if (!text) return EMPTY_LEDGER;
  try {
    const v = JSON.parse(text) as { entries?: unknown };
    const entries = Array.isArray(v.entries)
      ? v.entries.filter((e): e is LedgerEntry => !!e && typeof e === 'object' && typeof (e as LedgerEntry).key === 'string' && typeof (e as LedgerEntry).at === 'number')
      : [];
    return { entries: entries.map((e) => ({ key: e.key, at: e.at, by: typeof e.by === 'string' ? e.by : '?' })) };
  } catch {
    // A ledger nobody can read must not read as "nobody removed anything": fail the acquire instead.
    throw new Error(`unreadable ledger in the state table: ${text.slice(0, 80)}`);
  }
}

/** Group leases on a DynamoDB table with string hash key `pk`. */
export class AwsDynamoGroupLeases extends DynamoTable implements GroupLeasePort {
  readonly #namespace: string;

  /** `namespace`: the ledger's key namespace ({@link DRY_RUN_LEDGER} for a dry run's; default the live one). */
  constructor(client: ConstructorParameters<typeof DynamoTable>[0], budget: ConstructorParameters<typeof DynamoTable>[1], tableName: string, namespace = '') {
    super(client, budget, tableName);
    this.#namespace = namespace;
  }

  async acquire(group: string, owner: string, now: Date, leaseMs: number, keepMs: number): Promise<GroupLedger | undefined> {
    try {
      const out = await this.budget.call('dynamodb', 'UpdateItem', () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: groupLeaseKey(group, this.#namespace) } },
            UpdateExpression: 'SET #owner = :owner, leaseUntil = :until, expiresAt = :ttl',
            // `#owner = :owner` makes a retried acquire (the first answer was lost) succeed, not look taken.
            ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(leaseUntil) OR leaseUntil <= :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':owner': { S: owner },
              ':until': { N: String(now.getTime() + leaseMs) },
              ':now': { N: String(now.getTime()) },
              ':ttl': { N: ttlSeconds(now, Math.max(keepMs, leaseMs)) },
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      const data = out.Attributes?.['data'];
      return parseLedger(data && 'S' in data ? data.S : undefined);
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return undefined;
      throw err;
    }
  }

  async release(group: string, owner: string, ledger: GroupLedger, now: Date, keepMs: number): Promise<boolean> {
    try {
      await this.budget.call('dynamodb', 'UpdateItem', () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: groupLeaseKey(group, this.#namespace) } },
            UpdateExpression: 'SET #data = :data, leaseUntil = :now, expiresAt = :ttl',
            ConditionExpression: '#owner = :owner AND leaseUntil > :now',
            ExpressionAttributeNames: { '#owner': 'owner', '#data': 'data' },
            ExpressionAttributeValues: {
              ':owner': { S: owner },
              ':now': { N: String(now.getTime()) },
              ':data': { S: JSON.stringify(ledger) },
              ':ttl': { N: ttlSeconds(now, keepMs) },
            },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async prepare(): Promise<void> {
    // A read, not a write: an invocation that ends up writing nothing (a refused or a no-op event) must not
    // have made a write call, and a GetItem costs half a read unit where a refused conditional write costs a
    // write unit. Of a key no lease uses. Not through the budget's retries: best effort.
    try {
      await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: groupLeaseKey('prepare') } }, ProjectionExpression: 'pk' }));
    } catch {
      // Anything wrong with the table shows up on the first lease.
    }
  }
}
