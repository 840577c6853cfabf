/**
 * The pod forwarder's last publish, as pod-events received it: one item of the state table, written when a
 * "Pod Terminating" / "Pod Not Ready" from the forwarder arrives, read by `quiesce doctor`. Why the receiving
 * side writes it: the forwarder runs in the cluster with a role that may put its events and nothing else, and
 * what matters is the whole path (forwarder -> PutEvents -> bus -> rule -> pod-events), which only the
 * receiver sees end to end. Why not a CloudWatch metric: the doctor then needs no CloudWatch access and no
 * metric delay; the alarm on pod events (`pod-events-silent`) reads the metric instead.
 *
 * Cost on the hot path: at most one unconditional UpdateItem a minute per container, after the pod's plan was
 * applied; a failed write is logged, never thrown (a missed heartbeat must not fail a deregistration).
 * The item has the state store's shape (`owner`, `expiresAt`, JSON `data`), so `StateStorePort.get` reads it.
 */
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StateStorePort } from '../../ports/state-store.ts';
import type { ApiBudget } from './budget.ts';
import { DynamoTable } from './dynamo-table.ts';

/** The state-table key of a cluster's forwarder heartbeat. */
export const forwarderHeartbeatKey = (clusterName: string): string => `forwarder#${clusterName}`;

/** Who writes the heartbeat item (its `owner`). */
export const FORWARDER_HEARTBEAT_OWNER = 'pod-events';

/** What pod-events records: when a forwarder event arrived, and when the forwarder saw the pod. */
export interface ForwarderHeartbeat {
  /** When pod-events received the event. */
  readonly receivedAt: string;
  /** The forwarder's own `observedAt` of the pod (its clock). */
  readonly observedAt?: string;
}

/** Records forwarder events as they arrive (rate-limited per container). */
export interface ForwarderHeartbeatPort {
  /** Notes a forwarder event received at `at`; writes at most once per interval; never throws. */
  heard(at: Date, observedAt: string | undefined): Promise<void>;
}

/** Options of {@link AwsForwarderHeartbeat}. */
export interface ForwarderHeartbeatOptions {
  readonly clusterName: string;
  /** How long the item lives after the last event (the table's TTL): longest silence `quiesce doctor` accepts, with room. */
  readonly keepSeconds: number;
  /** At most one write per this many ms per container (default 60 s). */
  readonly minIntervalMs?: number;
  /** Called with the error of a failed write (logged by the caller). */
  readonly onError?: (err: unknown) => void;
}

/** {@link ForwarderHeartbeatPort} on the state table. */
export class AwsForwarderHeartbeat extends DynamoTable implements ForwarderHeartbeatPort {
  #lastWrite = Number.NEGATIVE_INFINITY;
  readonly #options: ForwarderHeartbeatOptions;

  constructor(client: DynamoDBClient, budget: ApiBudget, tableName: string, options: ForwarderHeartbeatOptions) {
    super(client, budget, tableName);
    this.#options = options;
  }

  async heard(at: Date, observedAt: string | undefined): Promise<void> {
    const o = this.#options;
    if (at.getTime() - this.#lastWrite < (o.minIntervalMs ?? 60_000)) return;
    this.#lastWrite = at.getTime();
    const data: ForwarderHeartbeat = { receivedAt: at.toISOString(), ...(observedAt ? { observedAt } : {}) };
    try {
      await this.budget.call('dynamodb', 'UpdateItem', () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: forwarderHeartbeatKey(o.clusterName) } },
            UpdateExpression: 'SET #owner = :owner, expiresAt = :exp, #data = :data',
            ExpressionAttributeNames: { '#owner': 'owner', '#data': 'data' },
            ExpressionAttributeValues: {
              ':owner': { S: FORWARDER_HEARTBEAT_OWNER },
              ':exp': { N: String(Math.ceil(at.getTime() / 1000) + o.keepSeconds) },
              ':data': { S: JSON.stringify(data) },
            },
          }),
        ),
      );
    } catch (err) {
      // Try again with the next event rather than a minute later.
      this.#lastWrite = Number.NEGATIVE_INFINITY;
      o.onError?.(err);
    }
  }
}

/** The last forwarder heartbeat, read through the state store (`quiesce doctor`); undefined = none live. */
export async function lastForwarderHeartbeat(store: Pick<StateStorePort, 'get'>, clusterName: string, now: Date): Promise<ForwarderHeartbeat | undefined> {
  const record = await store.get(forwarderHeartbeatKey(clusterName), now);
  const receivedAt = record?.data['receivedAt'];
  if (typeof receivedAt !== 'string') return undefined;
  const observedAt = record?.data['observedAt'];
  return { receivedAt, ...(typeof observedAt === 'string' ? { observedAt } : {}) };
}
