/**
 * AWS Health scheduled changes, pure: what one notification of a change (new, moved, closed; delivered at
 * least once and in any order) does to the deregistration quiesce keeps for that event and instance.
 *
 * The deregistration is due LEAD seconds before the change starts, or at once when that moment has passed
 * (or the instance is not running any more). It travels as one message (a one-time Scheduler schedule, or
 * an SQS delayed message when due within the 15 minutes SQS can delay) named by a token derived from the
 * event, the instance and the due time, and the state table remembers the current token: a notification
 * that moves the start makes a new token and cancels the old schedule; a closed one cancels it; a
 * duplicate, or an older notification than the one remembered (by `lastUpdatedTime`), changes nothing.
 * The due message is acted on only while the state table still names its token, so a message that could
 * not be cancelled (a delayed SQS message, a failed DeleteSchedule) is harmless: an update never doubles.
 * NTH and Karpenter drain at once on every notification instead
 * (docs/aws-facts.md#how-nth-and-karpenter-handle-the-same-events).
 */
import { createHash } from 'node:crypto';

/** The longest delay SQS gives a message (DelaySeconds 0-900): later deliveries need Scheduler. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** One notification of a scheduled change, for one instance (times ISO 8601). */
export interface ScheduledChangeNotice {
  readonly eventArn: string;
  readonly instanceId: string;
  readonly statusCode: 'open' | 'upcoming' | 'closed';
  readonly startTime: string;
  readonly endTime?: string;
  readonly updatedAt: string;
}

/** How a due message travels. */
export type DueVia = 'scheduler' | 'queue';

/** What the state table remembers of one event + instance. */
export interface ScheduledChangeRecord {
  /** `scheduled`: `token` is the deregistration to act on; `cancelled`: the change was closed. */
  readonly status: 'scheduled' | 'cancelled';
  readonly token: string;
  readonly via: DueVia;
  readonly dueAt: string;
  readonly startTime: string;
  readonly updatedAt: string;
}

/** What to do with one notification. */
export type ScheduledChangeDecision =
  | { readonly kind: 'nothing'; readonly reason: string }
  /** Send a due message (token, due time, how) and remember it; cancel `replaces` (a moved change). */
  | { readonly kind: 'schedule'; readonly token: string; readonly dueAt: Date; readonly delaySeconds: number; readonly via: DueVia; readonly replaces?: Pick<ScheduledChangeRecord, 'token' | 'via'>; readonly reason: string }
  /**
   * Already scheduled as this newer notification says: remember its `updatedAt` only (no message). Without
   * it an older notification delivered next would pass the ordering check and move the schedule.
   */
  | { readonly kind: 'remember'; readonly replaces?: undefined; readonly reason: string }
  /** Remember the change as closed; cancel `replaces` if a deregistration was scheduled. */
  | { readonly kind: 'cancel'; readonly replaces?: Pick<ScheduledChangeRecord, 'token' | 'via'>; readonly reason: string };

/** The state-table key of one event + instance. */
export const scheduledChangeKey = (eventArn: string, instanceId: string): string => `health#${eventArn}#${instanceId}`;

/** The token (and schedule name, within Scheduler's 64 characters) of a deregistration due at `dueAt`. */
export function dueToken(eventArn: string, instanceId: string, dueAt: Date): string {
  return `quiesce-hc-${createHash('sha256').update(scheduledChangeKey(eventArn, instanceId)).digest('hex').slice(0, 16)}-${Math.floor(dueAt.getTime() / 1000)}`;
}

/** Decides what a notification does, given what is remembered, whether the instance still runs, and now. */
export function planScheduledChange(input: {
  readonly notice: ScheduledChangeNotice;
  readonly record: ScheduledChangeRecord | undefined;
  /** False when the instance is already stopping or gone: what is left of it leaves traffic now. */
  readonly running: boolean;
  readonly now: Date;
  readonly leadSeconds: number;
}): ScheduledChangeDecision {
  const { notice: n, record, now } = input;
  const label = `${n.instanceId} (${n.statusCode}, starts ${n.startTime})`;
  if (record && Date.parse(n.updatedAt) < Date.parse(record.updatedAt)) {
    return { kind: 'nothing', reason: `an older notification (${n.updatedAt}) than the one acted on (${record.updatedAt}): ${label}` };
  }
  const scheduled = record?.status === 'scheduled' ? { token: record.token, via: record.via } : undefined;
  if (n.statusCode === 'closed') {
    // A newer closing notification is still remembered (its updatedAt): otherwise an older "upcoming" one
    // delivered after it would pass the ordering check above and schedule a deregistration of a closed change.
    if (record?.status === 'cancelled' && Date.parse(n.updatedAt) === Date.parse(record.updatedAt)) return { kind: 'nothing', reason: `already closed: ${label}` };
    return { kind: 'cancel', ...(scheduled ? { replaces: scheduled } : {}), reason: scheduled ? `closed: the deregistration ${scheduled.token} is cancelled` : `closed before anything was scheduled: ${label}` };
  }
  const end = Date.parse(n.endTime ?? n.startTime);
  if (end < now.getTime()) return { kind: 'nothing', reason: `the scheduled change is over (${n.endTime ? 'ended' : 'started'} ${new Date(end).toISOString()}): ${label}` };
  const dueAt = new Date(Date.parse(n.startTime) - input.leadSeconds * 1000);
  const token = dueToken(n.eventArn, n.instanceId, dueAt);
  if (scheduled && scheduled.token === token) {
    const newer = record !== undefined && Date.parse(n.updatedAt) > Date.parse(record.updatedAt);
    return { kind: newer ? 'remember' : 'nothing', reason: `already scheduled for ${dueAt.toISOString()} (${token})${newer ? `; this notification (${n.updatedAt}) is remembered as the newest` : ''}: ${label}` };
  }
  const delaySeconds = input.running ? Math.max(0, Math.ceil((dueAt.getTime() - now.getTime()) / 1000)) : 0;
  const via: DueVia = delaySeconds <= MAX_QUEUE_DELAY_SECONDS ? 'queue' : 'scheduler';
  const when = delaySeconds === 0 ? 'now' : `at ${dueAt.toISOString()} (${input.leadSeconds} s before the start)`;
  return {
    kind: 'schedule',
    token,
    dueAt,
    delaySeconds,
    via,
    ...(scheduled ? { replaces: scheduled } : {}),
    reason: `${scheduled ? `moved from ${record?.dueAt}: ` : ''}deregistration of ${n.instanceId} due ${when}${input.running ? '' : ' (the instance is not running)'}`,
  };
}
