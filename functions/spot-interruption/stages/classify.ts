/**
 * Stage 1, classify (pure): which inputs of the batch ask for work. A node signal is acted on when its kind
 * and the configuration say so and it is not older than MAX_EVENT_AGE_SECONDS; a re-check is live until its
 * deadline. AWS Health scheduled changes and their due messages go to the scheduled-changes stage instead:
 * they are judged by the change's own times and the state table, not by the notification's age (a
 * retirement is announced days ahead; a late delivery still has to be scheduled). Notices and everything
 * else are `ignored` with the reason.
 */
import type { QuiesceConfig } from '#core/config.ts';
import type { NodeSignal, RecheckMessage } from '#core/contracts/node-events.ts';
import { eventAgeDecision, signalDecision } from './signal-rules.ts';
import type { Ignored, WorkItem } from '../types.ts';

/** A node signal the batch acts on, with the reason given in every plan action. */
export interface ActingSignal {
  readonly item: WorkItem;
  readonly signal: NodeSignal;
  readonly reason: string;
  /** Epoch ms until which the re-registration guard watches this node (default: GUARD_DEADLINE_SECONDS from now). */
  readonly guardUntil?: number;
}

/** A re-registration guard round that is still within its deadline. */
export interface LiveRecheck {
  readonly item: WorkItem;
  readonly message: RecheckMessage;
}

/** The batch, sorted. */
export interface ClassifiedBatch {
  readonly acting: readonly ActingSignal[];
  /** Scheduled changes and due deregistrations (settled by the scheduled-changes stage after scope). */
  readonly scheduled: readonly ActingSignal[];
  readonly rechecks: readonly LiveRecheck[];
  readonly ignored: readonly Ignored[];
}

/** Sorts a batch into signals to act on, live re-checks, and ignored inputs. */
export function classifySignals(items: readonly WorkItem[], config: Pick<QuiesceConfig, 'rebalanceAction' | 'maxEventAgeSeconds'>, now: Date): ClassifiedBatch {
  const acting: ActingSignal[] = [];
  const scheduled: ActingSignal[] = [];
  const rechecks: LiveRecheck[] = [];
  const ignored: Ignored[] = [];
  for (const item of items) {
    const input = item.input;
    if (input.kind === 'notice') {
      ignored.push({ itemId: item.itemId, reason: input.reason });
      continue;
    }
    if (input.kind === 'scheduled-change' || input.kind === 'scheduled-change-due') {
      scheduled.push({ item, signal: input, reason: signalDecision(input, config).reason });
      continue;
    }
    if (input.kind === 'recheck') {
      // A second look at state changes EC2 had not confirmed: each is judged again as a signal (once).
      for (const u of input.lookAgain ?? []) {
        const signal = { kind: 'state-change' as const, instanceId: u.instanceId, state: u.state, secondLook: true, ...(u.eventTime ? { eventTime: u.eventTime } : {}), ...(u.eventId ? { eventId: u.eventId } : {}) };
        const fresh = eventAgeDecision(signal, now, config.maxEventAgeSeconds);
        if (fresh.act) acting.push({ item, signal, reason: `instance state ${u.state} (confirmed on a second look)` });
        else ignored.push({ itemId: item.itemId, reason: fresh.reason });
      }
      const watches = input.targetGroupArns.length > 0 || input.services.length > 0 || (input.lifecycle ?? []).length > 0 || input.completeness !== undefined;
      if (input.lookAgain !== undefined && !watches) continue;
      if (Date.parse(input.deadline) <= now.getTime()) ignored.push({ itemId: item.itemId, reason: 're-check deadline passed: guard ends' });
      else rechecks.push({ item, message: input });
      continue;
    }
    const wanted = signalDecision(input, config);
    // An AWS Health change is judged by its own times, not by the notification's age; one with no start is acted on at once.
    const fresh = wanted.act && input.kind !== 'scheduled-change-now' ? eventAgeDecision(input, now, config.maxEventAgeSeconds) : wanted;
    if (fresh.act) acting.push({ item, signal: input, reason: wanted.reason });
    else ignored.push({ itemId: item.itemId, reason: fresh.reason });
  }
  return { acting, scheduled, rechecks, ignored };
}
