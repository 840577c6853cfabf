/**
 * Which node signals are acted on: pure rules over the signal, the configuration, `now`, and the instance
 * as DescribeInstances shows it NOW. Current state before event state: EventBridge delivers at least once,
 * SQS redelivers, a rule retries for 24 h and an operator may replay a dead-letter queue, so a "stopped"
 * event can arrive while the instance is running again. Acting on the event alone would take a healthy
 * node out of traffic (and the re-registration guard would keep it out).
 */
import { DYING_STATES, type NodeSignal } from '#core/contracts/node-events.ts';
import type { NodeInstance } from '#core/domain/endpoint.ts';
import { isAliveInstanceState } from '#core/domain/instance-state.ts';

/**
 * Act, with why; or do not, with why not (logged and returned as `ignored`). `lookAgain`: not yet, EC2 may
 * not show the change yet (eventually consistent): look once more in a few seconds before dropping it.
 */
export type SignalDecision = { readonly act: true; readonly reason: string } | { readonly act: false; readonly reason: string; readonly lookAgain?: true };

/** What the signal asks for, by kind and configuration (before looking at the instance). */
export function signalDecision(signal: NodeSignal, config: { readonly rebalanceAction: 'ignore' | 'deregister' }): SignalDecision {
  switch (signal.kind) {
    case 'spot-interruption':
      return { act: true, reason: `spot interruption warning (${signal.action})` };
    case 'capacity-reservation-interruption':
      return { act: true, reason: `capacity reservation interruption warning (${signal.action})` };
    case 'scheduled-change':
      return { act: true, reason: `AWS Health ${signal.eventTypeCode} (${signal.statusCode}) starting ${signal.startTime}` };
    case 'scheduled-change-due':
      return { act: true, reason: `AWS Health ${signal.eventTypeCode} starts ${signal.startTime}: scheduled deregistration ${signal.token}` };
    case 'scheduled-change-now':
      return { act: true, reason: `AWS Health ${signal.eventTypeCode} (${signal.why}: acted on now)` };
    case 'rebalance':
      return config.rebalanceAction === 'deregister'
        ? { act: true, reason: 'rebalance recommendation (REBALANCE_ACTION=deregister)' }
        : { act: false, reason: 'rebalance recommendation ignored (REBALANCE_ACTION=ignore)' };
    case 'state-change':
      return DYING_STATES.has(signal.state) ? { act: true, reason: `instance state ${signal.state}` } : { act: false, reason: `instance state ${signal.state} is not a dying state` };
    case 'lifecycle':
      return signal.test ? { act: false, reason: 'autoscaling:TEST_NOTIFICATION' } : { act: true, reason: `Auto Scaling terminate lifecycle hook ${signal.lifecycleHookName}` };
  }
}

/** A replay bound: a signal older than `maxAgeSeconds` by its EventBridge `time` is not acted on. */
export function eventAgeDecision(signal: NodeSignal, now: Date, maxAgeSeconds: number): SignalDecision {
  if (signal.eventTime === undefined) return { act: true, reason: 'no event time: judged by the instance state alone' };
  const at = Date.parse(signal.eventTime);
  if (Number.isNaN(at)) return { act: false, reason: `event time "${signal.eventTime}" is not a time` };
  const ageSeconds = Math.round((now.getTime() - at) / 1000);
  return ageSeconds > maxAgeSeconds
    ? { act: false, reason: `event is ${ageSeconds} s old (MAX_EVENT_AGE_SECONDS=${maxAgeSeconds}): a late delivery or a replay` }
    : { act: true, reason: `event is ${ageSeconds} s old` };
}

/**
 * Whether the instance as it is now still agrees with the signal:
 * - a state change to a dying state is stale while the instance is pending or running;
 * - any other signal (spot warning, rebalance, lifecycle hook) is stale when the instance was launched again
 *   after the event (a stopped or hibernated spot instance that came back).
 */
export function currentStateDecision(signal: NodeSignal, instance: Pick<NodeInstance, 'state' | 'launchTime'>): SignalDecision {
  if (!isAliveInstanceState(instance.state)) return { act: true, reason: `instance is ${instance.state}` };
  if (signal.kind === 'state-change') {
    if (signal.secondLook) return { act: false, reason: `instance is ${instance.state} now, on a second look too: the "${signal.state}" event is out of date` };
    // DescribeInstances is eventually consistent: a state change can arrive before EC2 shows it.
    return { act: false, lookAgain: true, reason: `instance is ${instance.state} now: the "${signal.state}" event is not confirmed yet` };
  }
  const launched = instance.launchTime === undefined ? NaN : Date.parse(instance.launchTime);
  // A due deregistration carries when AWS Health told us: a stop/start since then moved the instance off the
  // hardware the change was for.
  const eventTime = signal.kind === 'scheduled-change-due' ? signal.notifiedAt : signal.eventTime;
  const at = eventTime === undefined ? NaN : Date.parse(eventTime);
  if (!Number.isNaN(launched) && !Number.isNaN(at) && launched > at) {
    return { act: false, reason: `instance was launched again at ${instance.launchTime}, after the event (${eventTime})` };
  }
  return { act: true, reason: `instance is ${instance.state}, launched before the event` };
}
