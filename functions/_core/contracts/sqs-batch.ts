/**
 * The SQS event Lambda hands a queue-fed function, checked record by record. Why a contract for Lambda's own
 * shape: a handler must be able to name a malformed record and move on (a typed rejection of that record,
 * nothing written, the rest of the batch still handled) instead of failing the whole batch with a TypeError
 * on `record.body`. Real batches never hold such records; direct invocations and replays from a DLQ can.
 * Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html ("Example Amazon SQS message event").
 */
import { InvalidEventError } from '../errors.ts';

/** The parts of one SQS record a handler reads. */
export interface SqsRecordInput {
  /** The id batch item failures name; `Records[i]` when the record carries none (it is rejected then). */
  readonly messageId: string;
  readonly body: string;
  /**
   * `attributes.SenderId`: who sent the message, as SQS wrote it from the sender's credentials (a role
   * session's `<role id>:<session>`); what tells the spot function's own messages from forgeries
   * (contracts/internal-messages.ts). Undefined when the record carries none.
   */
  readonly senderId?: string;
}

/** Whether a Lambda event is an SQS batch (an object with a `Records` array). */
export function isSqsBatch(event: unknown): event is { readonly Records: readonly unknown[] } {
  return typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}

/**
 * The id to log a record by before it is known to be valid: its messageId if it has a string one, else its
 * position. Never throws, so a rejection can always be reported.
 */
export function recordLabel(record: unknown, index: number): string {
  const id = typeof record === 'object' && record !== null ? (record as { messageId?: unknown }).messageId : undefined;
  return typeof id === 'string' && id !== '' && id.length <= 256 ? id : `Records[${index}]`;
}

/** Checks record `index` of a batch: an object with a non-empty string `messageId` and a string `body`. */
export function parseSqsRecord(record: unknown, index: number): SqsRecordInput {
  const at = `Records[${index}]`;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new InvalidEventError(`${at} must be an object`, at);
  const { messageId, body } = record as { messageId?: unknown; body?: unknown };
  if (typeof messageId !== 'string' || messageId === '' || messageId.length > 256) {
    throw new InvalidEventError(`${at}.messageId must be a non-empty string of at most 256 characters`, `${at}.messageId`);
  }
  if (typeof body !== 'string') throw new InvalidEventError(`${at}.body must be a string`, `${at}.body`);
  const senderId = (record as { attributes?: { SenderId?: unknown } }).attributes?.SenderId;
  // IAM ids and a session name: printable, bounded. Anything else is no SenderId SQS wrote.
  if (senderId !== undefined && (typeof senderId !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(senderId))) {
    throw new InvalidEventError(`${at}.attributes.SenderId must be a SenderId as SQS writes it`, `${at}.attributes.SenderId`);
  }
  return { messageId, body, ...(senderId !== undefined ? { senderId } : {}) };
}
