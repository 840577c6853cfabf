/**
 * Stage 2b, scheduled changes (after scope: only this cluster's nodes, and only while the instance as it is
 * now agrees with the notification). An AWS Health notification is planned by the pure
 * `planScheduledChange` against what the state table remembers for its event and instance, then applied:
 * the due message first (a one-time Scheduler schedule to the node-signal queue, or an SQS delayed message
 * when due within 15 minutes), then the state table names its token (a conditional write: put if absent,
 * else compare-and-set on the token read), then the schedule it replaces is cancelled. A due message is acted
 * on (the node joins the batch's deregistration) only while the state table still names its token.
 *
 * Costs per notification: GetItem, then CreateSchedule or SendMessage, then PutItem (+ DeleteSchedule when
 * it moves or cancels a schedule); per due message: GetItem, then the node's usual deregistration.
 */
import { DetailType, QUIESCE_SOURCE, type NodeSignal } from '#core/contracts/node-events.ts';
import { isAliveInstanceState } from '#core/domain/instance-state.ts';
import { planScheduledChange, scheduledChangeKey, type ScheduledChangeDecision, type ScheduledChangeRecord } from '#core/domain/planners/scheduled-change.ts';
import type { StoredRecord } from '#core/ports/state-store.ts';
import type { ActingSignal } from './classify.ts';
import type { ScopedBatch } from './scope.ts';
import type { Ignored, NodeWorkflowDeps, RetryItem } from '../types.ts';

type Change = Extract<NodeSignal, { kind: 'scheduled-change' }>;
type Due = Extract<NodeSignal, { kind: 'scheduled-change-due' }>;

/** What the stage did. */
export interface SettledChanges {
  /** Due deregistrations to act on now (they join the batch's active signals). */
  readonly due: readonly ActingSignal[];
  /** Notifications planned (scheduled, moved, cancelled), with what was done. */
  readonly planned: readonly Ignored[];
  readonly ignored: readonly Ignored[];
  readonly retry: readonly RetryItem[];
}

/** Remembered records live a week past the change (the table's TTL), so late duplicates still find them. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

function recordOf(stored: StoredRecord | undefined): ScheduledChangeRecord | undefined {
  const d = stored?.data;
  if (!d || (d['status'] !== 'scheduled' && d['status'] !== 'cancelled') || typeof d['token'] !== 'string') return undefined;
  return { status: d['status'], token: d['token'], via: d['via'] === 'scheduler' ? 'scheduler' : 'queue', dueAt: String(d['dueAt']), startTime: String(d['startTime']), updatedAt: String(d['updatedAt']) };
}

/** Plans and applies the batch's scheduled changes; returns the due ones to deregister now. */
export async function settleScheduledChanges(scope: ScopedBatch, deps: NodeWorkflowDeps, now: Date): Promise<SettledChanges> {
  const due: ActingSignal[] = [];
  const planned: Ignored[] = [];
  const ignored: Ignored[] = [];
  const retry: RetryItem[] = [];
  if (scope.scheduled.length === 0) return { due, planned, ignored, retry };
  const { store, logger, config } = deps;
  if (!store) {
    for (const s of scope.scheduled) {
      logger.error('STATE_TABLE is not set: AWS Health scheduled changes cannot be kept', { itemId: s.item.itemId, instanceId: s.signal.instanceId });
      ignored.push({ itemId: s.item.itemId, reason: 'scheduled change not planned: STATE_TABLE is not set' });
    }
    return { due, planned, ignored, retry };
  }
  for (const s of scope.scheduled) {
    const signal = s.signal as Change | Due;
    const key = scheduledChangeKey(signal.eventArn, signal.instanceId);
    try {
      const stored = await store.get(key, now);
      if (signal.kind === 'scheduled-change-due') {
        const record = recordOf(stored);
        if (record?.status === 'scheduled' && record.token === signal.token) {
          const guardUntil = Date.parse(signal.startTime) + config.guardDeadlineSeconds * 1000;
          due.push({ ...s, guardUntil });
        } else ignored.push({ itemId: s.item.itemId, reason: `scheduled change ${signal.token} is no longer current (moved or cancelled): ${record ? `${record.status} ${record.token}` : 'nothing remembered'}` });
        continue;
      }
      const decision = planScheduledChange({
        notice: signal,
        record: recordOf(stored),
        running: isAliveInstanceState(scope.nodes.get(signal.instanceId)?.state),
        now,
        leadSeconds: config.scheduledChangeLeadSeconds,
      });
      const done = await applyDecision(deps, signal, decision, stored, key, now);
      logger.info('AWS Health scheduled change', { itemId: s.item.itemId, eventArn: signal.eventArn, instanceId: signal.instanceId, decision: decision.kind, reason: done.reason });
      (done.acted ? planned : ignored).push({ itemId: s.item.itemId, reason: done.reason });
    } catch (err) {
      logger.error('scheduled change not settled: retried', { itemId: s.item.itemId, instanceId: signal.instanceId, error: err as Error });
      retry.push({ itemId: s.item.itemId, reason: `scheduled change: ${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  return { due, planned, ignored, retry };
}

/** Applies one decision: due message, then the remembered token, then the cancel of what it replaces. */
async function applyDecision(deps: NodeWorkflowDeps, signal: Change, decision: ScheduledChangeDecision, stored: StoredRecord | undefined, key: string, now: Date): Promise<{ acted: boolean; reason: string }> {
  const { logger } = deps;
  const store = deps.store!;
  if (decision.kind === 'nothing') return { acted: false, reason: decision.reason };
  const expiresAt = new Date(Math.max(Date.parse(signal.endTime ?? signal.startTime) + KEEP_MS, now.getTime() + KEEP_MS));
  let next: StoredRecord;
  if (decision.kind === 'remember') {
    if (!stored) return { acted: false, reason: decision.reason };
    next = { ...stored, data: { ...(stored.data as Record<string, unknown>), updatedAt: signal.updatedAt } };
  } else if (decision.kind === 'schedule') {
    const detail = { instanceId: signal.instanceId, eventArn: signal.eventArn, eventTypeCode: signal.eventTypeCode, startTime: signal.startTime, ...(signal.endTime ? { endTime: signal.endTime } : {}), token: decision.token, notifiedAt: signal.eventTime ?? signal.updatedAt };
    if (decision.via === 'scheduler') {
      if (!deps.scheduler) return { acted: false, reason: `not scheduled: due ${decision.dueAt.toISOString()}, later than an SQS delay can wait, and SCHEDULED_CHANGE_QUEUE_ARN / SCHEDULED_CHANGE_ROLE_ARN are not set` };
      await deps.scheduler.scheduleOnce({ name: decision.token, at: decision.dueAt, detailType: DetailType.scheduledChangeDue, detail, description: `quiesce: ${signal.eventTypeCode} of ${signal.instanceId} starts ${signal.startTime}` });
    } else {
      if (!deps.delayQueue) return { acted: false, reason: 'not scheduled: RECHECK_QUEUE_URL is not set' };
      await deps.delayQueue.sendDelayed({ source: QUIESCE_SOURCE, 'detail-type': DetailType.scheduledChangeDue, detail }, decision.delaySeconds);
    }
    next = { key, owner: decision.token, expiresAt, data: { status: 'scheduled', token: decision.token, via: decision.via, dueAt: decision.dueAt.toISOString(), startTime: signal.startTime, updatedAt: signal.updatedAt } };
  } else {
    const owner = `closed-${Date.parse(signal.updatedAt)}`;
    next = { key, owner, expiresAt, data: { status: 'cancelled', token: owner, via: 'queue', dueAt: '', startTime: signal.startTime, updatedAt: signal.updatedAt } };
  }
  const remembered = stored ? await store.replaceIfOwner(key, stored.owner, next, now) : await store.putIfAbsent(next, now);
  if (!remembered) {
    // Another delivery of this change was settled meanwhile: ours is planned again on the retry (in seconds).
    // What we sent is not cancelled: it may be the very token the other delivery remembered, and if it is
    // not, its due message finds its token gone and does nothing.
    throw Object.assign(new Error('the state table changed meanwhile (another notification of this change)'), { name: 'ConcurrentNotification' });
  }
  if (decision.replaces?.via === 'scheduler' && deps.scheduler) {
    // The due message checks the token, so a schedule left behind by a failed cancel does nothing.
    await deps.scheduler.cancel(decision.replaces.token).catch((err: unknown) => logger.warn('replaced schedule not cancelled (it will find its token gone)', { token: decision.replaces?.token, error: err as Error }));
  }
  return { acted: true, reason: decision.reason };
}
