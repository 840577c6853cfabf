/**
 * Stage 5, lifecycle hooks: CompleteLifecycleAction CONTINUE only for a node whose registrations are all out
 * of traffic. Completing it earlier lets Auto Scaling terminate an instance that still serves (a target the
 * min-healthy guard kept, a deregistration that failed); leaving it pending instead keeps the instance in
 * Terminating:Wait, and the re-registration guard's rounds complete it once the node is clear (or, past
 * their deadline, Auto Scaling's heartbeat timeout decides). Completing is a write of the write port (in a
 * dry run, recorded).
 */
import type { PendingLifecycleAction } from '#core/contracts/node-events.ts';
import type { NodeWorkflowDeps, RetryItem } from '../types.ts';
import type { ActingSignal } from './classify.ts';
import type { NodeProgress } from './progress.ts';

/** A lifecycle action to complete or keep, and which input asked for it (to retry that input). */
export interface LifecycleWork {
  readonly itemId: string;
  readonly action: PendingLifecycleAction;
}

/** What the stage did. */
export interface LifecycleOutcome {
  readonly completed: number;
  /** Left pending (node still in traffic), with why: carried by the next re-check round. */
  readonly pending: readonly { readonly work: LifecycleWork; readonly reason: string }[];
  readonly retry: readonly RetryItem[];
}

/** Why a node is not clear yet, or undefined when it is. */
export function notClearReason(progress: NodeProgress, instanceId: string): string | undefined {
  const failed = progress.unfinished.get(instanceId);
  if (failed) return `${failed.length} deregistration(s) failed (${failed[0]})`;
  const kept = progress.inTraffic.get(instanceId);
  if (kept) return `${kept.length} registration(s) still in traffic (${kept[0]})`;
  return undefined;
}

/** Completes the clear nodes' lifecycle actions; says which stay pending and why. */
export async function completeLifecycleHooks(work: readonly LifecycleWork[], progress: NodeProgress, deps: NodeWorkflowDeps): Promise<LifecycleOutcome> {
  const { logger } = deps;
  let completed = 0;
  const pending: { work: LifecycleWork; reason: string }[] = [];
  const retry: RetryItem[] = [];
  for (const w of work) {
    const s = w.action;
    const blocked = notClearReason(progress, s.instanceId);
    if (blocked) {
      pending.push({ work: w, reason: blocked });
      continue;
    }
    try {
      await deps.autoscaling.completeLifecycleAction({
        autoScalingGroupName: s.autoScalingGroupName,
        lifecycleHookName: s.lifecycleHookName,
        ...(s.lifecycleActionToken ? { lifecycleActionToken: s.lifecycleActionToken } : {}),
        instanceId: s.instanceId,
        result: 'CONTINUE',
      });
      completed++;
    } catch (err) {
      // A repeat delivery finds the action already completed (ValidationError): that is done, not failed.
      const name = (err as Error).name;
      if (name === 'ValidationError') logger.info('lifecycle action already completed or expired', { instanceId: s.instanceId, error: (err as Error).message });
      else {
        logger.error('CompleteLifecycleAction failed', { instanceId: s.instanceId, error: err as Error });
        retry.push({ itemId: w.itemId, reason: `CompleteLifecycleAction: ${name}` });
      }
    }
  }
  return { completed, pending, retry };
}

/**
 * Hooks whose group, hook name or token cannot be sent to CompleteLifecycleAction (contracts/node-events.ts
 * `unusable`): their node leaves traffic like any other, and this step alone fails, loudly (an ERROR line
 * and an audited refusal naming the field); the instance waits for the hook's heartbeat timeout.
 */
export async function reportUnusableHooks(active: readonly ActingSignal[], deps: Pick<NodeWorkflowDeps, 'logger' | 'audit'>): Promise<number> {
  let n = 0;
  for (const a of active) {
    if (a.signal.kind !== 'lifecycle' || !a.signal.unusable) continue;
    n++;
    const { field, reason } = a.signal.unusable;
    const message = `lifecycle action of ${a.signal.instanceId} cannot be completed: ${field} is ${reason}; the node leaves traffic, the hook is left to its heartbeat timeout`;
    deps.logger.error('lifecycle action not completed', { itemId: a.item.itemId, instanceId: a.signal.instanceId, field, reason: message });
    await deps.audit.rejected({ status: 'refused', error: 'LifecycleActionUnusable', message, field, instanceId: a.signal.instanceId, messageId: a.item.itemId });
  }
  return n;
}
