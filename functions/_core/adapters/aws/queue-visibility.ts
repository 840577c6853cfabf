/**
 * {@link QueueVisibilityPort} on SQS ChangeMessageVisibilityBatch (10 entries per call, per-entry results:
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibilityBatch.html).
 *
 * Why queue URLs come from configuration: a record carries only its queue's ARN, and SQS wants the URL.
 * The URL of a known queue (RECHECK_QUEUE_URL: the node-signal queue the function consumes) is used as
 * configured, so an emulator's URL (AWS_ENDPOINT_URL) keeps working; any other queue gets the standard
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` form.
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk } from '../../concurrency.ts';
import type { QueueVisibilityPort, RetryAfter } from '../../ports/index.ts';
import type { ApiBudget } from './budget.ts';

/** ChangeMessageVisibility accepts 0 to 43,200 seconds (12 h). */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** The queue URL for an SQS queue ARN, preferring a configured URL of the same queue. */
export function queueUrlOf(queueArn: string, knownUrls: readonly string[]): string | undefined {
  const parts = queueArn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  const [, , , region, account, name] = parts;
  const known = knownUrls.find((u) => u.replace(/\/+$/, '').split('/').pop() === name);
  return known ?? `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

/** SQS visibility changes through the shared budget. */
export class AwsQueueVisibility implements QueueVisibilityPort {
  readonly #client: SQSClient;
  readonly #budget: ApiBudget;
  readonly #knownUrls: readonly string[];

  constructor(client: SQSClient, budget: ApiBudget, knownUrls: readonly string[]) {
    this.#client = client;
    this.#budget = budget;
    this.#knownUrls = knownUrls;
  }

  async retryAfter(records: readonly RetryAfter[]): Promise<{ failed: { messageId: string; code: string; message: string }[] }> {
    const failed: { messageId: string; code: string; message: string }[] = [];
    const byQueue = new Map<string, RetryAfter[]>();
    for (const r of records) {
      const url = queueUrlOf(r.queueArn, this.#knownUrls);
      if (!url) failed.push({ messageId: r.messageId, code: 'InvalidQueueArn', message: `not an SQS queue ARN: ${r.queueArn}` });
      else byQueue.set(url, [...(byQueue.get(url) ?? []), r]);
    }
    for (const [url, list] of byQueue) {
      for (const batch of chunk(list, 10)) {
        const out = await this.#budget.call('sqs', 'ChangeMessageVisibilityBatch', () =>
          this.#client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: url,
              Entries: batch.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(r.delaySeconds))) })),
            }),
          ),
        );
        for (const f of out.Failed ?? []) {
          const r = batch[Number(f.Id)];
          failed.push({ messageId: r?.messageId ?? '?', code: f.Code ?? 'Unknown', message: f.Message ?? '' });
        }
      }
    }
    return { failed };
  }
}
