/**
 * quiesce's own messages on the node-signal queue (the re-registration guard's re-checks, a scheduled
 * change's due message) and who may have written them. Why: both make the spot function deregister, and
 * both are plain JSON anyone able to send to the queue could write; the body alone proves nothing. What
 * proves the writer is the SQS `SenderId` attribute, which SQS sets from the request's credentials and the
 * sender cannot choose: `<role id>:<session>` for a role session (docs/aws-facts.md#sqs-senderid).
 *
 * The rule, on every path:
 * - by SQS: the SenderId must be a session of a role listed for that message (INTERNAL_SENDER_IDS: the spot
 *   function's own role, for both kinds; SCHEDULED_CHANGE_SENDER_IDS: the Scheduler role, due messages
 *   only), or equal to a listed id;
 * - never from inside an SNS envelope (SNS forwards whatever anyone allowed to publish wrote; the function
 *   never publishes to SNS), and never by a direct invocation (nothing of quiesce invokes the function with
 *   its own messages);
 * - the CLI's operator is the sender of what they give it: the plan is shown before anything is applied,
 *   and the current-state checks run as for any input.
 * Anything else claiming one of these detail-types is an `UntrustedSenderError` (logged, audited, never
 * retried).
 *
 * AWS's own signals (warnings, state changes, hooks, Health) are not checked by sender here: which SenderId
 * EventBridge or SNS deliveries carry is not documented, so an allow-list would be a guess that drops a real
 * warning the day AWS changes it. The node-signal queue's policy is their guard (only EventBridge for the
 * stack's rules, the configured topics and roles may send: infra/serverless/messaging.yml), and the
 * current-state checks hold every signal to what EC2 says now.
 *
 * Why not a signature: it would need a key only the function holds (a KMS HMAC key or a secret), a call per
 * message on the spot path, and would still let a replay of a genuine message through; the SenderId costs
 * nothing and AWS writes it. Emulators that answer one constant SenderId (moto) must list that constant.
 */
import { UntrustedSenderError } from '../errors.ts';
import { quoted } from './names.ts';
import { DetailType } from './node-events.ts';

/** The detail-types of the spot function's own messages. */
export const INTERNAL_DETAIL_TYPES: ReadonlySet<string> = new Set([DetailType.recheck, DetailType.scheduledChangeDue]);

/** How an input reached the function: what can tell who wrote it. */
export type DeliveryOrigin =
  /** Lambda's SQS event source: the record's `attributes.SenderId` (undefined when the record has none). */
  | { readonly via: 'sqs'; readonly senderId: string | undefined }
  /** A direct Lambda invocation (EventBridge target, `aws lambda invoke`): no sender to check. */
  | { readonly via: 'invoke' }
  /** The CLI: the operator running it is the sender, with their own credentials. */
  | { readonly via: 'operator' };

/** Who may write each kind of internal message (SenderIds, or role ids standing for every session). */
export interface InternalSenders {
  readonly recheck: readonly string[];
  readonly scheduledChangeDue: readonly string[];
}

/** The senders a configuration allows: the function's own role for both kinds, the Scheduler role for due messages. */
export function internalSendersOf(config: { readonly internalSenderIds: readonly string[]; readonly scheduledChangeSenderIds: readonly string[] }): InternalSenders {
  return { recheck: config.internalSenderIds, scheduledChangeDue: [...config.internalSenderIds, ...config.scheduledChangeSenderIds] };
}

/** Whether a SenderId is one of `allowed`: equal to an entry, or a session (`<id>:<session>`) of a listed role id. */
export function senderAllowed(senderId: string, allowed: readonly string[]): boolean {
  return allowed.some((id) => senderId === id || senderId.startsWith(`${id}:`));
}

/**
 * Throws `UntrustedSenderError` unless an input of `detailType` (one of {@link INTERNAL_DETAIL_TYPES}) came
 * from a sender allowed to write it. Inputs of other detail-types pass untouched.
 */
export function checkInternalSender(detailType: string, delivery: { readonly viaSns: boolean; readonly origin: DeliveryOrigin; readonly senders: InternalSenders }): void {
  if (!INTERNAL_DETAIL_TYPES.has(detailType)) return;
  const what = `a ${quoted(detailType)} is the spot function's own message`;
  if (delivery.viaSns) throw new UntrustedSenderError(`${what}: it never comes inside an SNS envelope (whoever may publish to the topic wrote this one)`, 'Message');
  const { origin } = delivery;
  if (origin.via === 'operator') return;
  if (origin.via === 'invoke') throw new UntrustedSenderError(`${what}: it only comes through the node-signal queue, never by a direct invocation`, 'event');
  const allowed = detailType === DetailType.recheck ? delivery.senders.recheck : delivery.senders.scheduledChangeDue;
  const variable = detailType === DetailType.recheck ? 'INTERNAL_SENDER_IDS' : 'INTERNAL_SENDER_IDS or SCHEDULED_CHANGE_SENDER_IDS';
  if (origin.senderId === undefined) throw new UntrustedSenderError(`${what}: this record carries no SenderId to tell who wrote it`, 'attributes.SenderId');
  if (!senderAllowed(origin.senderId, allowed)) {
    const configured = allowed.length === 0 ? `${variable} is empty: none is accepted` : `not one of ${variable}`;
    throw new UntrustedSenderError(`${what}: this one was sent by ${quoted(origin.senderId, 140)} (${configured})`, 'attributes.SenderId', origin.senderId);
  }
}
