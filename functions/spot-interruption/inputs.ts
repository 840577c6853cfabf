/**
 * The spot function's inputs, parsed: an EventBridge envelope (direct invocation) or an SQS batch whose
 * bodies hold one each (node signals, the guard's own re-checks and scheduled-change due messages), in
 * every delivery shape NTH accepts (an Auto Scaling hook notifying the queue directly, either through SNS:
 * contracts/delivery.ts). One AWS Health event naming several instances is one work item per instance. A malformed record is a typed rejection
 * of that record alone (logged and audited, never retried: retrying cannot fix it); the rest of the batch
 * is still handled.
 */
import type { AuditSink } from '#core/audit.ts';
import { isNotice, unwrapDelivery } from '#core/contracts/delivery.ts';
import { DetailType, parseNodeSignals, parseRecheck } from '#core/contracts/node-events.ts';
import { parseSqsRecord, recordLabel } from '#core/contracts/sqs-batch.ts';
import { InvalidEventError } from '#core/errors.ts';
import type { Logger } from '#core/telemetry.ts';
import type { WorkItem } from './workflow.ts';

/** Parses one raw input (an EventBridge envelope, or an SQS body holding one in any shape) into its work items. */
export function toWorkItem(itemId: string, raw: unknown): WorkItem[] {
  const delivered = unwrapDelivery(raw);
  if (isNotice(delivered)) return [{ itemId, input: delivered }];
  if (delivered['detail-type'] === DetailType.recheck) return [{ itemId, input: parseRecheck(delivered) }];
  return parseNodeSignals(delivered).map((input) => ({ itemId, input }));
}

/**
 * The records of a batch that hold one of the guard's re-checks (they keep their own pace when retried),
 * known by the kind their body was parsed into by {@link workItemsOf}: the body is read once, as data.
 */
export function recheckRecords(records: readonly unknown[], items: readonly WorkItem[]): object[] {
  const ids = new Set(items.filter((i) => i.input.kind === 'recheck').map((i) => i.itemId));
  return records.filter((r): r is object => typeof r === 'object' && r !== null && ids.has((r as { messageId?: unknown }).messageId as string));
}

/** The batch's valid records as work items; each invalid one is rejected (logged, audited) on its own. */
export async function workItemsOf(records: readonly unknown[], logger: Logger, audit: AuditSink): Promise<WorkItem[]> {
  const items: WorkItem[] = [];
  for (const [index, record] of records.entries()) {
    try {
      const { messageId, body } = parseSqsRecord(record, index);
      items.push(...toWorkItem(messageId, body));
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      const messageId = recordLabel(record, index);
      logger.warn('event rejected', { messageId, error: err.name, reason: err.message, field: err.field });
      await audit.rejected({ status: 'rejected', error: err.name, message: err.message, field: err.field, messageId });
    }
  }
  return items;
}
