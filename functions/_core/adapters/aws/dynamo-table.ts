import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ApiBudget } from './budget.ts';

/**
 * What every adapter on quiesce's state table holds: the client, the budget its calls are spent from, and
 * the table's name. One base, so the table's adapters (replay claims, locks and sweep pacing; group leases)
 * differ only in the items they read and write.
 */
export abstract class DynamoTable {
  protected readonly client: DynamoDBClient;
  protected readonly budget: ApiBudget;
  protected readonly table: string;

  constructor(client: DynamoDBClient, budget: ApiBudget, tableName: string) {
    this.client = client;
    this.budget = budget;
    this.table = tableName;
  }
}
