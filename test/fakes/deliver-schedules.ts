/**
 * Demo and test glue: runs a whole shift on an embedded fake AWS by firing EventBridge Scheduler's due
 * schedules as the fake clock advances, delivering each as the bus would (the schedule's EventBridge target
 * becomes an event with its DetailType, Source and Input). Lives with the fakes: no handler needs it, so it
 * stays out of functions/ and out of every bundle.
 */
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';
import { dispatch, type TrafficInvocationResult } from '../../functions/traffic-shift/handler.ts';

/** The part of the fake AWS this needs (structural: the demo and the tests pass the shared fake). */
export interface SchedulingFake {
  readonly clock: { now(): number; advance(ms: number): void };
  readonly scheduler: {
    nextDueAt(): number | undefined;
    fireDue(): { target: { Input?: string; EventBridgeParameters?: { DetailType: string; Source: string } } }[];
  };
}

/**
 * Delivers `event` to the traffic-shift workflow, then keeps advancing the fake clock to the next due
 * schedule and delivering what fires, until nothing is scheduled (or `maxDeliveries`). Returns every
 * invocation's outcome in order: a full shift reads step-applied, ..., completed (or aborted).
 */
export async function runShiftToCompletion(deps: TrafficDeps, event: unknown, fake: SchedulingFake, maxDeliveries = 50): Promise<TrafficInvocationResult[]> {
  const outcomes: TrafficInvocationResult[] = [await dispatch(deps, event)];
  for (let i = 0; i < maxDeliveries; i++) {
    const due = fake.scheduler.nextDueAt();
    if (due === undefined) break;
    if (due > fake.clock.now()) fake.clock.advance(due - fake.clock.now());
    for (const inv of fake.scheduler.fireDue()) {
      const p = inv.target.EventBridgeParameters;
      outcomes.push(await dispatch(deps, { source: p?.Source ?? 'quiesce', 'detail-type': p?.DetailType ?? '', detail: JSON.parse(inv.target.Input ?? '{}') }));
    }
  }
  return outcomes;
}
