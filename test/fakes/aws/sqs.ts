/**
 * Fake Amazon SQS (signing name `sqs`, awsJson1_0, target `AmazonSQS.*`: the current SDK v3 speaks JSON to
 * SQS). Standard queues only: delays, visibility timeouts and receipt handles follow the FakeClock.
 *
 * Who sends is judged as AWS does: a queue's `Policy` attribute (SetQueueAttributes) is evaluated on every
 * SendMessage / SendMessageBatch (policy.ts: an explicit Deny refuses the call with AccessDenied, a service
 * principal needs an Allow), and each message keeps the SenderId of whoever sent it (iam.ts: a role
 * session's `<role id>:<session>`, a user's id, a service's own id), reported by ReceiveMessage and in the
 * Lambda event `lambdaEvent` builds. Services' deliveries (EventBridge for a rule, SNS for a topic) are
 * made with `deliver`.
 *
 * Simplifications: no FIFO semantics, no long polling (WaitTimeSeconds is validated, then the call returns at
 * once), no retention expiry, no redrive, MD5OfMessageAttributes is not returned.
 */
import { createHash } from 'node:crypto';
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService, RequestCaller } from './core.ts';
import { FakeIam, serviceSenderId, type FakePrincipal, type FakeServiceSender } from './iam.ts';
import { resourcePolicyAdmits, type PolicyDocument, type PolicyRequest } from './policy.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** A message as the JS helpers show it (times in epoch milliseconds of the FakeClock). */
export interface SqsMessageView {
  MessageId: string;
  Body: string;
  MessageAttributes?: Record<string, unknown>;
  sentAt: number;
  /** When the message's DelaySeconds elapse. */
  dueAt: number;
  /** When it next becomes visible (dueAt, or the end of a visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  /** Who sent it, as ReceiveMessage reports it (attribute SenderId). */
  senderId: string;
}

/** One record of the SQS event Lambda's event source mapping hands a function (Lambda DG, with-sqs). */
export interface LambdaSqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string; SenderId: string; ApproximateFirstReceiveTimestamp: string };
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

interface Message extends SqsMessageView {
  firstReceivedAt?: number;
  /** The receipt handle of the most recent receive. */
  latestHandle?: string;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  messages: Message[];
  createdAt: number;
}

// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html (DelaySeconds 0-900)
export const MAX_DELAY_SECONDS = 900;
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html (256 KiB message)
export const MAX_MESSAGE_BYTES = 262_144;

function invalidParam(message: string): FakeAwsError {
  return new FakeAwsError('InvalidParameterValue', message, 400);
}

function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

function intParam(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidParam(`Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`);
  }
  return n;
}

export class FakeSqs implements FakeService {
  readonly signingName = 'sqs';
  /** Queue URLs are `${urlBase}/${name}`; any URL whose last path segment names a queue is accepted. */
  urlBase = `https://sqs.${FAKE_REGION}.amazonaws.com/${FAKE_ACCOUNT_ID}`;

  readonly #clock: FakeClock;
  readonly #iam: FakeIam;
  #queues = new Map<string, Queue>();
  #seq = 0;

  constructor(clock: FakeClock, iam: FakeIam = new FakeIam()) {
    this.#clock = clock;
    this.#iam = iam;
  }

  reset(): void {
    this.#queues = new Map();
    this.#seq = 0;
  }

  handle(operation: string, input: Record<string, unknown>, caller?: RequestCaller): unknown {
    switch (operation) {
      case 'CreateQueue':
        return this.#createQueue(input);
      case 'GetQueueUrl':
        return this.#getQueueUrl(input);
      case 'GetQueueAttributes':
        return this.#getQueueAttributes(input);
      case 'SetQueueAttributes':
        return this.#setQueueAttributes(input);
      case 'SendMessage':
        return this.#sendMessage(input, this.#iam.principalOf(caller?.accessKeyId));
      case 'SendMessageBatch':
        return this.#sendMessageBatch(input, this.#iam.principalOf(caller?.accessKeyId));
      case 'ReceiveMessage':
        return this.#receiveMessage(input);
      case 'ChangeMessageVisibility':
        return this.#changeVisibility(this.#queue(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
      case 'ChangeMessageVisibilityBatch':
        return this.#changeVisibilityBatch(input);
      case 'DeleteMessage':
        return this.#deleteMessage(input);
      default:
        throw new UnknownOperationError('UnsupportedOperation', `${operation} is not supported by the fake SQS`, 400);
    }
  }

  // ---- JS helpers ----------------------------------------------------------------------------------------

  /** Creates a standard queue (attributes as SQS strings, e.g. `{DelaySeconds: '5'}`); returns its URL. */
  seedQueue(name: string, attributes: Record<string, string> = {}): string {
    return this.#createQueue({ QueueName: name, Attributes: attributes }).QueueUrl;
  }

  /**
   * An AWS service's delivery for one of its resources (EventBridge for a rule, SNS for a topic): judged by
   * the queue's policy with `aws:SourceArn` (a service principal needs an Allow), sent with the service's
   * SenderId. Throws AccessDenied when the policy refuses it. Returns the message id.
   */
  deliver(sender: FakeServiceSender, queueUrl: string, body: string, delaySeconds?: number): string {
    const q = this.#queue(queueUrl);
    const account = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(sender.sourceArn)?.[1];
    this.#authorize(q, { kind: 'service', service: sender.service }, { 'aws:SourceArn': sender.sourceArn, ...(account ? { 'aws:SourceAccount': account } : {}) });
    return this.#enqueue(q, { MessageBody: body, ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}) }, serviceSenderId(sender)).MessageId;
  }

  /**
   * Sends as the principal behind `accessKeyId` (iam.ts), judged by the queue's policy like an SDK call:
   * what an operator's script, another account's role or Auto Scaling's notification role would send.
   */
  sendAs(accessKeyId: string, queueUrl: string, body: string, delaySeconds?: number): string {
    return (this.#sendMessage({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}) }, this.#iam.principalOf(accessKeyId)) as { MessageId: string }).MessageId;
  }

  /**
   * What Lambda's event source mapping would hand the function now: every visible message (taken off the
   * queue, as a successful batch deletes it), as the SQS event's records with their system attributes
   * (SenderId included).
   */
  lambdaEvent(queueUrl: string): { Records: LambdaSqsRecord[] } {
    const q = this.#queue(queueUrl);
    return { Records: this.dueMessages(queueUrl).map((m) => this.#record(q, m)) };
  }

  /** The Lambda SQS event of messages already taken (`dueMessages`, `pending`) from `queueUrl`. */
  lambdaEventOf(queueUrl: string, messages: readonly SqsMessageView[]): { Records: LambdaSqsRecord[] } {
    const q = this.#queue(queueUrl);
    return { Records: messages.map((m) => this.#record(q, m)) };
  }

  #record(q: Queue, m: SqsMessageView): LambdaSqsRecord {
    const now = this.#clock.now();
    return {
      messageId: m.MessageId,
      receiptHandle: Buffer.from(`${q.name}|${m.MessageId}|lambda`).toString('base64'),
      body: m.Body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount + 1), SentTimestamp: String(m.sentAt), SenderId: m.senderId, ApproximateFirstReceiveTimestamp: String(now) },
      messageAttributes: {},
      md5OfBody: md5(m.Body),
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: FAKE_REGION,
    };
  }

  /** Takes and deletes every message visible now (delay elapsed, not in flight), oldest first. */
  dueMessages(queueUrl: string): SqsMessageView[] {
    const q = this.#queue(queueUrl);
    const now = this.#clock.now();
    const due = q.messages.filter((m) => m.visibleAt <= now);
    q.messages = q.messages.filter((m) => m.visibleAt > now);
    return due.map((m) => this.#view(m));
  }

  /** Every message still in the queue, including delayed and in-flight ones, oldest first. */
  pending(queueUrl: string): SqsMessageView[] {
    return this.#queue(queueUrl).messages.map((m) => this.#view(m));
  }

  #view(m: Message): SqsMessageView {
    return {
      MessageId: m.MessageId,
      Body: m.Body,
      ...(m.MessageAttributes !== undefined ? { MessageAttributes: m.MessageAttributes } : {}),
      sentAt: m.sentAt,
      dueAt: m.dueAt,
      visibleAt: m.visibleAt,
      receiveCount: m.receiveCount,
      senderId: m.senderId,
    };
  }

  /** Judges a send by the queue's policy (absent: the account's principals only). */
  #authorize(q: Queue, principal: PolicyRequest['principal'], context: Record<string, string>): void {
    const policy = q.attributes.Policy === undefined ? undefined : (JSON.parse(q.attributes.Policy) as PolicyDocument);
    const request: PolicyRequest = { action: 'sqs:SendMessage', resource: q.arn, principal, context };
    if (!resourcePolicyAdmits(policy, request, FAKE_ACCOUNT_ID)) {
      const who = principal.kind === 'aws' ? principal.arn : principal.kind === 'service' ? principal.service : 'anonymous';
      throw new FakeAwsError('AccessDenied', `Access to the resource ${q.url} is denied (${who}).`, 403);
    }
  }

  #authorizeCaller(q: Queue, caller: FakePrincipal): void {
    this.#authorize(q, { kind: 'aws', arn: caller.arn, account: caller.account }, { 'aws:PrincipalArn': caller.arn, 'aws:PrincipalAccount': caller.account });
  }

  // ---- queues --------------------------------------------------------------------------------------------

  #queue(queueUrl: unknown): Queue {
    if (typeof queueUrl !== 'string' || queueUrl === '') {
      throw new FakeAwsError('MissingParameter', 'The request must contain the parameter QueueUrl.', 400);
    }
    const name = queueUrl.replace(/\/+$/, '').split('/').pop() ?? '';
    const q = this.#queues.get(name);
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html (QueueDoesNotExist)
    if (!q) throw new FakeAwsError('QueueDoesNotExist', 'The specified queue does not exist.', 400);
    return q;
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
  #createQueue(input: Record<string, unknown>): { QueueUrl: string } {
    const name = input.QueueName;
    // Up to 80 characters: alphanumerics, hyphens and underscores (".fifo" suffix for FIFO queues).
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw invalidParam(`Value ${String(name)} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length`);
    }
    const raw = (input.Attributes ?? {}) as Record<string, unknown>;
    const attributes: Record<string, string> = { DelaySeconds: '0', VisibilityTimeout: '30' };
    for (const [k, v] of Object.entries(raw)) attributes[k] = String(v);
    intParam(attributes.DelaySeconds, 'DelaySeconds', 0, MAX_DELAY_SECONDS);
    intParam(attributes.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200);
    const existing = this.#queues.get(name);
    if (existing) {
      // Idempotent when the attributes match; otherwise QueueNameExists (query code QueueAlreadyExists).
      const same = Object.entries(attributes).every(([k, v]) => existing.attributes[k] === v);
      if (!same) {
        throw new FakeAwsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute(s)`, 400);
      }
      return { QueueUrl: existing.url };
    }
    const q: Queue = { name, url: `${this.urlBase}/${name}`, arn: `arn:aws:sqs:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:${name}`, attributes, messages: [], createdAt: this.#clock.now() };
    this.#queues.set(name, q);
    return { QueueUrl: q.url };
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html
  #getQueueUrl(input: Record<string, unknown>): unknown {
    const q = this.#queues.get(String(input.QueueName ?? ''));
    if (!q) throw new FakeAwsError('QueueDoesNotExist', 'The specified queue does not exist.', 400);
    return { QueueUrl: q.url };
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html
  #getQueueAttributes(input: Record<string, unknown>): unknown {
    const q = this.#queue(input.QueueUrl);
    const names = Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : [];
    const all: Record<string, string> = { ...q.attributes, QueueArn: q.arn, ApproximateNumberOfMessages: String(q.messages.length) };
    const picked = Object.fromEntries(Object.entries(all).filter(([k]) => names.includes('All') || names.includes(k)));
    return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html: Policy is
  // a JSON policy document (it replaces the queue's policy; "" removes it).
  #setQueueAttributes(input: Record<string, unknown>): unknown {
    const q = this.#queue(input.QueueUrl);
    const attributes = (input.Attributes ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(attributes)) {
      const value = String(v);
      if (k === 'Policy' && value !== '') {
        try {
          const doc = JSON.parse(value) as { Statement?: unknown };
          if (doc.Statement === undefined) throw new Error('no Statement');
        } catch {
          throw new FakeAwsError('InvalidAttributeValue', 'Invalid value for the parameter Policy.', 400);
        }
      }
      if (k === 'DelaySeconds') intParam(value, 'DelaySeconds', 0, MAX_DELAY_SECONDS);
      if (k === 'VisibilityTimeout') intParam(value, 'VisibilityTimeout', 0, 43_200);
      if (value === '' && k === 'Policy') delete q.attributes[k];
      else q.attributes[k] = value;
    }
    return {};
  }

  // ---- messages ------------------------------------------------------------------------------------------

  /** Validates and enqueues one message; throws InvalidParameterValue / MissingParameter. */
  #enqueue(q: Queue, entry: Record<string, unknown>, senderId: string): Message {
    const body = entry.MessageBody;
    if (typeof body !== 'string' || body === '') {
      throw new FakeAwsError('MissingParameter', 'The request must contain the parameter MessageBody.', 400);
    }
    if (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES) {
      throw invalidParam(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
    }
    const delay =
      intParam(entry.DelaySeconds, 'DelaySeconds', 0, MAX_DELAY_SECONDS) ?? Number(q.attributes.DelaySeconds ?? '0');
    const now = this.#clock.now();
    this.#seq += 1;
    const m: Message = {
      MessageId: `00000000-0000-4000-9000-${this.#seq.toString(16).padStart(12, '0')}`,
      Body: body,
      ...(entry.MessageAttributes !== undefined ? { MessageAttributes: entry.MessageAttributes as Record<string, unknown> } : {}),
      sentAt: now,
      dueAt: now + delay * 1000,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      senderId,
    };
    q.messages.push(m);
    return m;
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
  #sendMessage(input: Record<string, unknown>, caller: FakePrincipal): unknown {
    const q = this.#queue(input.QueueUrl);
    this.#authorizeCaller(q, caller);
    const m = this.#enqueue(q, input, caller.senderId);
    // The SDK checks MD5OfMessageBody against the body it sent.
    return { MessageId: m.MessageId, MD5OfMessageBody: md5(m.Body) };
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
  #sendMessageBatch(input: Record<string, unknown>, caller: FakePrincipal): unknown {
    const q = this.#queue(input.QueueUrl);
    this.#authorizeCaller(q, caller);
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new FakeAwsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.', 400);
    }
    if (entries.length > 10) {
      throw new FakeAwsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 400);
    }
    const list = entries.map((e: unknown) => (e ?? {}) as Record<string, unknown>);
    const ids = list.map((e) => e.Id);
    for (const id of ids) {
      // Id: up to 80 characters, alphanumerics, hyphens and underscores.
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
        throw new FakeAwsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.', 400);
      }
    }
    if (new Set(ids).size !== ids.length) {
      throw new FakeAwsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.', 400);
    }
    const total = list.reduce((s, e) => s + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0), 0);
    if (total > MAX_MESSAGE_BYTES) {
      throw new FakeAwsError('BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`, 400);
    }
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const e of list) {
      try {
        const m = this.#enqueue(q, e, caller.senderId);
        Successful.push({ Id: e.Id, MessageId: m.MessageId, MD5OfMessageBody: md5(m.Body) });
      } catch (err) {
        if (!(err instanceof FakeAwsError)) throw err;
        Failed.push({ Id: e.Id, SenderFault: true, Code: err.code, Message: err.message });
      }
    }
    return { Successful, Failed };
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
  #receiveMessage(input: Record<string, unknown>): unknown {
    const q = this.#queue(input.QueueUrl);
    const max = intParam(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility =
      intParam(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200) ?? Number(q.attributes.VisibilityTimeout ?? '30');
    intParam(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20);
    const now = this.#clock.now();
    const wanted = new Set<string>([
      ...(Array.isArray(input.AttributeNames) ? input.AttributeNames : []),
      ...(Array.isArray(input.MessageSystemAttributeNames) ? input.MessageSystemAttributeNames : []),
    ].map(String));
    const attrNames = Array.isArray(input.MessageAttributeNames) ? input.MessageAttributeNames.map(String) : [];
    const picked = q.messages.filter((m) => m.visibleAt <= now).slice(0, max);
    if (picked.length === 0) return {};
    const Messages = picked.map((m) => {
      m.receiveCount += 1;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + visibility * 1000;
      this.#seq += 1;
      const handle = Buffer.from(`${q.name}|${m.MessageId}|${this.#seq}`).toString('base64');
      m.latestHandle = handle;
      const system: Record<string, string> = {
        SentTimestamp: String(m.sentAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
        SenderId: m.senderId,
      };
      const all = wanted.has('All');
      const Attributes = Object.fromEntries(Object.entries(system).filter(([k]) => all || wanted.has(k)));
      const userAttrs = Object.entries(m.MessageAttributes ?? {}).filter(
        ([k]) => attrNames.includes('All') || attrNames.includes('.*') || attrNames.includes(k),
      );
      return {
        MessageId: m.MessageId,
        ReceiptHandle: handle,
        MD5OfBody: md5(m.Body),
        Body: m.Body,
        ...(Object.keys(Attributes).length ? { Attributes } : {}),
        ...(userAttrs.length ? { MessageAttributes: Object.fromEntries(userAttrs) } : {}),
      };
    });
    return { Messages };
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
  #deleteMessage(input: Record<string, unknown>): unknown {
    const q = this.#queue(input.QueueUrl);
    const handle = input.ReceiptHandle;
    if (typeof handle !== 'string' || handle === '') {
      throw new FakeAwsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.', 400);
    }
    const decoded = Buffer.from(handle, 'base64').toString('utf8').split('|');
    if (decoded.length !== 3 || decoded[0] !== q.name) {
      throw new FakeAwsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404);
    }
    // Only the most recent receipt handle deletes; an older one, or one of an already deleted message,
    // "succeeds, but the message will not be deleted" (API_DeleteMessage).
    q.messages = q.messages.filter((m) => m.latestHandle !== handle);
    return {};
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html:
  // "The new value for the message's visibility timeout (in seconds)" counts from the call; 0 makes the
  // message visible at once; 0-43,200; a handle that is not the latest receive of an in-flight message is
  // MessageNotInflight, a malformed one ReceiptHandleIsInvalid. The change does not carry over to the next
  // receive (it is a property of this receive).
  #changeVisibility(q: Queue, handle: unknown, timeout: unknown): unknown {
    if (typeof handle !== 'string' || handle === '') throw new FakeAwsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.', 400);
    const seconds = intParam(timeout, 'VisibilityTimeout', 0, 43_200);
    if (seconds === undefined) throw new FakeAwsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.', 400);
    const decoded = Buffer.from(handle, 'base64').toString('utf8').split('|');
    if (decoded.length !== 3 || decoded[0] !== q.name) {
      throw new FakeAwsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404);
    }
    const now = this.#clock.now();
    const m = q.messages.find((x) => x.latestHandle === handle);
    if (!m || m.visibleAt <= now) throw new FakeAwsError('MessageNotInflight', 'The message referred to is not in flight.', 400);
    m.visibleAt = now + seconds * 1000;
    return {};
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibilityBatch.html:
  // up to 10 entries, unique ids, per-entry success or failure.
  #changeVisibilityBatch(input: Record<string, unknown>): unknown {
    const q = this.#queue(input.QueueUrl);
    const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
    if (entries.length === 0) throw new FakeAwsError('EmptyBatchRequest', 'There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request.', 400);
    if (entries.length > 10) throw new FakeAwsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 400);
    const Successful: { Id: unknown }[] = [];
    const Failed: { Id: unknown; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const e of entries) {
      try {
        this.#changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout);
        Successful.push({ Id: e.Id });
      } catch (err) {
        if (!(err instanceof FakeAwsError)) throw err;
        Failed.push({ Id: e.Id, SenderFault: true, Code: err.code, Message: err.message });
      }
    }
    return { Successful, Failed };
  }

}
