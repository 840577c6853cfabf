/**
 * The spot function's inputs, parsed: an EventBridge envelope (direct invocation) or an SQS batch whose
 * bodies hold one each (node signals, the guard's own re-checks and scheduled-change due messages), in
 * every delivery shape NTH accepts (an Auto Scaling hook notifying the queue directly, either through SNS:
 * contracts/delivery.ts). One AWS Health event naming several instances is one work item per instance. A malformed record is a typed rejection
 * of that record alone (logged and audited, never retried: retrying cannot fix it); the rest of the batch
 * is still handled. The function's own messages are taken only from the senders allowed to write them
 * (contracts/internal-messages.ts): anything else claiming to be one is an audited `UntrustedSenderError`.
 */
import type { AuditSink } from '#core/audit.ts';
import { isNotice, unwrapDeliveryOf } from '#core/contracts/delivery.ts';
import { checkInternalSender, type DeliveryOrigin, type InternalSenders } from '#core/contracts/internal-messages.ts';
import { DetailType, parseNodeSignals, parseRecheck } from '#core/contracts/node-events.ts';
import { parseSqsRecord, recordLabel } from '#core/contracts/sqs-batch.ts';
import { InvalidEventError, UntrustedSenderError } from '#core/errors.ts';
import type { Logger } from '#core/telemetry.ts';
import type { WorkItem } from './workflow.ts';

/** How an input came, and who may write the function's own messages (none, unless said). */
export interface Provenance {
  readonly origin: DeliveryOrigin;
  readonly senders?: InternalSenders;
}

const NO_SENDERS: InternalSenders = { recheck: [], scheduledChangeDue: [] };

/**
 * Parses one raw input (an EventBridge envelope, or an SQS body holding one in any shape) into its work
 * items. `provenance` says how it came (default: a direct invocation, which never carries the function's own
 * messages); a re-check or due message from anyone not allowed to write it is an `UntrustedSenderError`.
 */
export function toWorkItem(itemId: string, raw: unknown, provenance: Provenance = { origin: { via: 'invoke' } }): WorkItem[] {
  const { delivered, viaSns } = unwrapDeliveryOf(raw);
  if (isNotice(delivered)) return [{ itemId, input: delivered }];
  checkInternalSender(delivered['detail-type'], { viaSns, origin: provenance.origin, senders: provenance.senders ?? NO_SENDERS });
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

/**
 * The batch's valid records as work items; each invalid one is rejected (logged, audited) on its own.
 * `senders`: who may write the function's own messages (by each record's SenderId).
 */
export async function workItemsOf(records: readonly unknown[], logger: Logger, audit: AuditSink, senders: InternalSenders = NO_SENDERS): Promise<WorkItem[]> {
  const items: WorkItem[] = [];
  for (const [index, record] of records.entries()) {
    try {
      const { messageId, body, senderId } = parseSqsRecord(record, index);
      items.push(...toWorkItem(messageId, body, { origin: { via: 'sqs', senderId }, senders }));
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      const messageId = recordLabel(record, index);
      const senderId = err instanceof UntrustedSenderError && err.senderId !== undefined ? { senderId: err.senderId } : {};
      logger.warn('event rejected', { messageId, error: err.name, reason: err.message, field: err.field, ...senderId });
      await audit.rejected({ status: 'rejected', error: err.name, message: err.message, field: err.field, messageId, ...senderId });
    }
  }
  return items;
}
