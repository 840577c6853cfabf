/**
 * Every way a node signal reaches the node-signal queue, unwrapped to the EventBridge envelope the node
 * contracts parse (node-events.ts), or to a `Notice` that asks for nothing:
 *
 * - an EventBridge event (rule -> queue, or a direct invocation): as is;
 * - an Auto Scaling lifecycle hook whose notification target is the queue itself: the raw message
 *   (`Service: "AWS Auto Scaling"`, `LifecycleTransition` or `Event`, no `detail-type`), read as the
 *   `EC2 Instance-terminate Lifecycle Action` it would have been on EventBridge, its `Time` as the event time;
 * - either of those published to an SNS topic the queue subscribes to: with raw message delivery the body
 *   is the message as published (above); without it, the SNS envelope (`Type: "Notification"`, `TopicArn`,
 *   `Message` as a string) whose Message is parsed again: JSON, or the "key: value" lines Auto Scaling
 *   writes to SNS. SNS's own SubscriptionConfirmation / UnsubscribeConfirmation are notices.
 *
 * Sources: docs/aws-facts.md#lifecycle-hooks-notifying-sqs-or-sns (ASG UG
 * prepare-for-lifecycle-notifications; NTH sqs-monitor.go reads the same three shapes), docs/aws-facts.md#sns-envelope-in-sqs
 * (SNS DG SendMessageToSQS, sns-large-payload-raw-message-delivery). Validated as strictly as the rest: a
 * malformed wrapper is an `InvalidEventError` naming the field; one SNS level only.
 */
import { InvalidEventError } from '../errors.ts';
import { quoted } from './names.ts';
import { DetailType, parseEnvelope, type EventBridgeEnvelope, type Notice } from './node-events.ts';

/** SNS's largest message (256 KiB); a longer `Message` was not written by SNS. */
const MAX_SNS_MESSAGE = 262_144;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;
/** A "key: value" line of Auto Scaling's SNS text (keys are PascalCase names). */
const KEY_VALUE = /^([A-Za-z][A-Za-z0-9]{0,63}):[ \t]?(.*)$/;
const ACCOUNT_ID = /^\d{12}$/;

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidEventError(`${field} must be an object`, field);
  return value as Record<string, unknown>;
}

function json(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidEventError(`${field} is not JSON`, field);
  }
}

/**
 * Whether an object is Auto Scaling's own message (no EventBridge envelope around it): a lifecycle
 * transition or event and no envelope. `Service` is "AWS Auto Scaling" when present; NTH's tests (and the
 * messages NTH re-marshals) carry none, so its absence does not make the message unreadable.
 */
const isAutoScalingMessage = (o: Record<string, unknown>): boolean =>
  o['detail-type'] === undefined &&
  o['source'] === undefined &&
  (o['Service'] === undefined || o['Service'] === 'AWS Auto Scaling') &&
  [o['LifecycleTransition'], o['Event']].some((t) => typeof t === 'string' && t !== '');

/**
 * Auto Scaling's message as the EventBridge lifecycle action it stands for: the fields are the same (the
 * node contract validates them), `Time` is the event time. A LAUNCHING transition is refused by that
 * contract like its EventBridge form.
 */
function autoScalingEnvelope(o: Record<string, unknown>, at: string): EventBridgeEnvelope {
  if (o['AccountId'] !== undefined && (typeof o['AccountId'] !== 'string' || !ACCOUNT_ID.test(o['AccountId']))) {
    throw new InvalidEventError(`${at}.AccountId must be a 12-digit account id`, `${at}.AccountId`);
  }
  const time = o['Time'];
  if (time !== undefined && (typeof time !== 'string' || time.length > 64 || Number.isNaN(Date.parse(time)))) throw new InvalidEventError(`${at}.Time must be a time`, `${at}.Time`);
  const requestId = o['RequestId'];
  return parseEnvelope({
    source: 'aws.autoscaling',
    'detail-type': DetailType.lifecycle,
    ...(typeof requestId === 'string' ? { id: requestId } : {}),
    ...(typeof time === 'string' ? { time } : {}),
    detail: o,
  });
}

/** Auto Scaling's SNS text: one "Key: value" per line, as the ASG user guide shows it. */
function keyValueMessage(text: string): Record<string, unknown> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0 || lines.length > 64) throw new InvalidEventError('Message is neither JSON nor Auto Scaling "key: value" lines', 'Message');
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = KEY_VALUE.exec(line.trim());
    if (!m) throw new InvalidEventError(`Message is neither JSON nor Auto Scaling "key: value" lines: ${quoted(line)}`, 'Message');
    out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** The SNS envelope's message, unwrapped once (an SNS envelope inside another is not something SNS sends). */
function snsMessage(o: Record<string, unknown>): EventBridgeEnvelope | Notice {
  const type = o['Type'];
  if (type === 'SubscriptionConfirmation' || type === 'UnsubscribeConfirmation') {
    return { kind: 'notice', reason: `SNS ${type} for ${quoted(o['TopicArn'])}: nothing to do (an SQS subscription in the topic's account is confirmed when it is created)` };
  }
  if (type !== 'Notification') throw new InvalidEventError(`Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation, got ${quoted(type)}`, 'Type');
  if (typeof o['TopicArn'] !== 'string' || !TOPIC_ARN.test(o['TopicArn'])) throw new InvalidEventError('TopicArn is not an SNS topic ARN', 'TopicArn');
  const message = o['Message'];
  if (typeof message !== 'string' || message === '' || message.length > MAX_SNS_MESSAGE) throw new InvalidEventError(`Message must be a string of 1-${MAX_SNS_MESSAGE} characters`, 'Message');
  const inner = message.trimStart().startsWith('{') ? object(json(message, 'Message'), 'Message') : keyValueMessage(message);
  if (inner['Type'] !== undefined && inner['TopicArn'] !== undefined) throw new InvalidEventError('Message is another SNS envelope', 'Message');
  return isAutoScalingMessage(inner) ? autoScalingEnvelope(inner, 'Message') : parseEnvelope(inner);
}

/** Whether a delivery asked for nothing. */
export const isNotice = (d: EventBridgeEnvelope | Notice): d is Notice => (d as Notice).kind === 'notice';

/** What a delivery carried, and whether it came inside an SNS envelope (whoever may publish to the topic wrote it). */
export interface Unwrapped {
  readonly delivered: EventBridgeEnvelope | Notice;
  readonly viaSns: boolean;
}

/** One SQS body (or direct invocation) as the EventBridge envelope it carries (or a notice), and how it came. */
export function unwrapDeliveryOf(raw: unknown): Unwrapped {
  const value = typeof raw === 'string' ? json(raw, 'body') : raw;
  const o = object(value, 'event');
  if (o['TopicArn'] !== undefined && o['Type'] !== undefined && o['detail-type'] === undefined) return { delivered: snsMessage(o), viaSns: true };
  if (isAutoScalingMessage(o)) return { delivered: autoScalingEnvelope(o, 'event'), viaSns: false };
  return { delivered: parseEnvelope(o), viaSns: false };
}

/** One SQS body (or direct invocation) as the EventBridge envelope it carries, or a notice. */
export function unwrapDelivery(raw: unknown): EventBridgeEnvelope | Notice {
  return unwrapDeliveryOf(raw).delivered;
}
