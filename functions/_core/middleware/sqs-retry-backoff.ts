/**
 * Middy middleware: a failed SQS record is retried in seconds, not after the queue's visibility timeout.
 * Lambda returns a record named in `batchItemFailures` to the queue, where it stays invisible for the rest
 * of the queue's VisibilityTimeout (540 s for the node-signal queue, as AWS asks: 6x the function timeout),
 * which for a two-minute spot warning means "never". So after the handler answered, each failed record's
 * visibility is set to a short, growing delay (ChangeMessageVisibility "counts from the call"; the queue
 * default stays what AWS asks for). When that call fails, the queue's own timeout still brings the record
 * back: nothing is lost, it is only late.
 */
import type { MiddlewareObj } from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueVisibilityPort } from '../ports/index.ts';
import type { Logger } from '../telemetry.ts';

/** How the middleware finds its port and picks each record's delay. */
export interface SqsRetryBackoffOptions {
  /** Resolved after the handler ran (dependencies are built on first use); undefined = leave it to SQS. */
  readonly visibility: () => QueueVisibilityPort | undefined;
  /** Seconds until the record is visible again. */
  readonly delayFor: (record: SQSRecord) => number;
  readonly logger: Logger;
}

/** attempt n (ApproximateReceiveCount) waits min(max, base * 2^(n-1)) seconds: 2, 4, 8, 16, 30, 30... */
export function backoffSeconds(receiveCount: number, baseSeconds: number, maxSeconds: number): number {
  const n = Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(n - 1, 20));
}

/** The receive count Lambda reports for a record (1 when absent or malformed). */
export function receiveCountOf(record: SQSRecord): number {
  const n = Number(record?.attributes?.ApproximateReceiveCount);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function isSqsEvent(event: unknown): event is SQSEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as SQSEvent).Records);
}

/** Creates the middleware. */
export function sqsRetryBackoff(options: SqsRetryBackoffOptions): MiddlewareObj<unknown, unknown> {
  return {
    after: async (request) => {
      const event = request.event;
      const response = request.response as SQSBatchResponse | undefined;
      const failed = response?.batchItemFailures ?? [];
      const port = options.visibility();
      if (!isSqsEvent(event) || failed.length === 0 || !port) return;
      const ids = new Set(failed.map((f) => f.itemIdentifier));
      const records = event.Records.filter((r): r is SQSRecord => !!r && typeof r === 'object' && ids.has(r.messageId) && typeof r.receiptHandle === 'string' && typeof r.eventSourceARN === 'string');
      if (records.length === 0) return;
      try {
        const { failed: notChanged } = await port.retryAfter(records.map((r) => ({ queueArn: r.eventSourceARN, receiptHandle: r.receiptHandle, delaySeconds: options.delayFor(r), messageId: r.messageId })));
        for (const f of notChanged) options.logger.warn('retry delay not set: the queue visibility timeout applies', { messageId: f.messageId, code: f.code, reason: f.message });
      } catch (err) {
        options.logger.warn('retry delays not set: the queue visibility timeout applies', { error: err as Error, records: records.length });
      }
    },
  };
}
