/**
 * Stage 6, the re-registration guard's next round: a delayed SQS message to ourselves (no idle Lambda),
 * because the Load Balancer Controller treats a draining target as absent and registers a still-Ready pod
 * again. It names only the groups and services that pointed at the nodes, and carries the lifecycle actions
 * left pending, until the nodes stop running or GUARD_DEADLINE_SECONDS passes. After a fast path
 * (candidates from the cluster), the first round also carries the groups it described: that round scans
 * every group in scope once, and later rounds watch what it found too. In a dry run the message is recorded
 * by the write port, not sent, so no further round comes.
 *
 * The same delayed message carries a second look at a dying state change EC2 did not confirm yet
 * (`lookAgainLater`): DescribeInstances is eventually consistent, so a "shutting-down" can arrive while EC2
 * still answers "running". Dropping it at once would lose the node's way out of traffic; acting on it
 * would trust the event over EC2. It is looked at once more after a few seconds, then acted on or dropped.
 * That message is the write port's too (recorded in a dry run).
 */
import type { NodeAddresses } from '#core/domain/endpoint.ts';
import { nodeOfInstance, targetGroupsPointingAt } from '#core/domain/planners/node-deregistration.ts';
import type { CloudMapRegistration } from '#core/domain/registration.ts';
import { recheckEnvelope, type CloudMapServiceRef, type RecheckMessage } from '#core/contracts/node-events.ts';
import type { Ignored, NodeWorkflowDeps, RetryItem } from '../types.ts';
import type { LifecycleWork } from './lifecycle.ts';
import { MAX_DESCRIBED_IN_MESSAGE } from './candidates.ts';
import type { AppliedBatch } from './observe-apply.ts';
import type { ScopedBatch } from './scope.ts';

/** The Cloud Map services that hold instances on these nodes. */
function servicesOf(registrations: readonly CloudMapRegistration[], nodes: readonly NodeAddresses[]): CloudMapServiceRef[] {
  const out = new Map<string, CloudMapServiceRef>();
  for (const r of registrations) {
    if (nodeOfInstance(nodes, r)) out.set(r.serviceId, { namespaceId: r.namespaceId, namespaceName: r.namespaceName, serviceId: r.serviceId, serviceName: r.serviceName });
  }
  return [...out.values()];
}

/** Sends the next rounds; a round that cannot be sent retries the inputs that asked for it. */
export async function scheduleRechecks(
  scope: ScopedBatch,
  applied: AppliedBatch,
  pendingLifecycle: readonly LifecycleWork[],
  deps: NodeWorkflowDeps,
  now: Date,
): Promise<{ scheduled: number; retry: RetryItem[] }> {
  const { config, logger } = deps;
  const retry: RetryItem[] = [];
  if (config.guardDeadlineSeconds <= 0) return { scheduled: 0, retry };
  if (!deps.delayQueue) {
    if (scope.active.length > 0) logger.warn('RECHECK_QUEUE_URL is not set: the re-registration guard is off');
    return { scheduled: 0, retry };
  }
  const running = (id: string): boolean => scope.nodes.get(id)?.state === 'running';
  const lifecycleOf = (ids: readonly string[]) => pendingLifecycle.filter((w) => ids.includes(w.action.instanceId)).map((w) => w.action);
  const next: { message: Omit<RecheckMessage, 'kind'>; askedBy: string[] }[] = [];
  if (scope.active.length > 0) {
    const instanceIds = [...new Set(scope.active.map((a) => a.signal.instanceId))].filter(running);
    const lifecycle = lifecycleOf(instanceIds);
    const touched = targetGroupsPointingAt(applied.addresses, applied.targetGroups, applied.targets);
    const described = applied.describedArns.length <= MAX_DESCRIBED_IN_MESSAGE ? applied.describedArns : touched;
    next.push({
      message: {
        instanceIds,
        targetGroupArns: touched,
        services: servicesOf(applied.cloudMap, applied.addresses),
        // A scheduled change's node is watched until its change starts (plus the usual deadline), not 150 s.
        deadline: new Date(Math.max(now.getTime() + config.guardDeadlineSeconds * 1000, ...scope.active.map((a) => a.guardUntil ?? 0))).toISOString(),
        round: 1,
        reason: [...new Set(scope.active.map((a) => a.reason))].join('; '),
        ...(lifecycle.length > 0 ? { lifecycle } : {}),
        // After a fast path, or a scan the registration index shortened, the first round completes the look.
        ...(applied.candidates.source === 'cluster' || applied.candidates.source === 'index' ? { completeness: { describedArns: described } } : {}),
      },
      askedBy: scope.active.map((a) => a.item.itemId),
    });
  }
  for (const r of scope.liveRechecks) {
    const instanceIds = r.message.instanceIds.filter(running);
    const lifecycle = lifecycleOf(instanceIds);
    // A completeness round hands on what it found for its nodes, so the next rounds watch those groups too.
    const nodes = applied.addresses.filter((a) => r.message.instanceIds.includes(a.instanceId));
    const found = r.message.completeness
      ? { targetGroupArns: [...new Set([...r.message.targetGroupArns, ...targetGroupsPointingAt(nodes, applied.targetGroups, applied.targets)])], services: [...new Map([...r.message.services, ...servicesOf(applied.cloudMap, nodes)].map((x) => [x.serviceId, x])).values()] }
      : {};
    next.push({ message: { ...r.message, ...found, instanceIds, round: r.message.round + 1, lifecycle: lifecycle.length > 0 ? lifecycle : undefined, completeness: undefined }, askedBy: [r.item.itemId] });
  }
  let scheduled = 0;
  for (const { message, askedBy } of next) {
    if (message.instanceIds.length === 0) continue;
    if (Date.parse(message.deadline) <= now.getTime() + config.guardIntervalSeconds * 1000) {
      for (const l of message.lifecycle ?? []) {
        logger.warn('re-registration guard ends with the lifecycle action pending: Auto Scaling\'s heartbeat timeout decides', { instanceId: l.instanceId, hook: l.lifecycleHookName });
      }
      continue;
    }
    try {
      await deps.delayQueue.sendDelayed(recheckEnvelope(message), config.guardIntervalSeconds);
      scheduled++;
    } catch (err) {
      logger.error('re-check not scheduled', { error: err as Error, instanceIds: message.instanceIds });
      for (const itemId of askedBy) retry.push({ itemId, reason: 're-check not scheduled' });
    }
  }
  return { scheduled, retry };
}

/** Seconds before an unconfirmed dying state change is looked at again (EC2 catches up within seconds). */
export const STATE_CONFIRMATION_DELAY_SECONDS = 5;

/**
 * Sends one delayed message for the batch's unconfirmed state changes (a re-check carrying `lookAgain`,
 * watching no group); says for each what became of it, through the write port's queue (recorded in a dry
 * run, like every re-check). Without the queue there is no second look: the change is dropped as stale.
 */
export async function lookAgainLater(scope: Pick<ScopedBatch, 'unconfirmed'>, deps: NodeWorkflowDeps, now: Date): Promise<{ ignored: Ignored[]; retry: RetryItem[] }> {
  const ignored: Ignored[] = [];
  const retry: RetryItem[] = [];
  if (scope.unconfirmed.length === 0) return { ignored, retry };
  const { logger, delayQueue } = deps;
  if (!delayQueue) {
    for (const u of scope.unconfirmed) ignored.push({ itemId: u.item.itemId, reason: `${u.reason}: dropped as stale (RECHECK_QUEUE_URL is not set: no second look)` });
    return { ignored, retry };
  }
  const lookAgain = scope.unconfirmed.map((u) => {
    const s = u.signal as Extract<typeof u.signal, { kind: 'state-change' }>;
    return { instanceId: s.instanceId, state: s.state, ...(s.eventTime ? { eventTime: s.eventTime } : {}), ...(s.eventId ? { eventId: s.eventId } : {}) };
  });
  const instanceIds = [...new Set(lookAgain.map((l) => l.instanceId))];
  try {
    const message = { instanceIds, targetGroupArns: [], services: [], deadline: new Date(now.getTime() + 60_000).toISOString(), round: 1, reason: 'a second look at state changes EC2 had not confirmed', lookAgain };
    await delayQueue.sendDelayed(recheckEnvelope(message), STATE_CONFIRMATION_DELAY_SECONDS);
    for (const u of scope.unconfirmed) ignored.push({ itemId: u.item.itemId, reason: `${u.reason}: looked at again in ${STATE_CONFIRMATION_DELAY_SECONDS} s` });
  } catch (err) {
    logger.error('second look not scheduled: retried', { error: err as Error, instanceIds });
    for (const u of scope.unconfirmed) retry.push({ itemId: u.item.itemId, reason: 'second look at an unconfirmed state change not scheduled' });
  }
  return { ignored, retry };
}
