/**
 * The shift watchdog: every 2 minutes (the same cadence as the sweeper's schedule; serverless.yml), look at
 * the lock of every rule a traffic plan names, and take over a shift whose next step is overdue by more than
 * its pause plus WATCHDOG_MARGIN_SECONDS: its one-time schedule was lost (deleted by hand, dead-lettered
 * after an hour of retries) or never made (CreateSchedule failed through every retry). The overdue step then
 * runs as any step does (gate, write, verify): the shift goes on to 100 %, or is rolled back with
 * `Traffic Shift Aborted`. Cost when nothing is stranded: one GetItem per traffic plan's rule, no write.
 */
import { mapWithConcurrency } from '#core/concurrency.ts';
import { lockKey } from '#core/contracts/traffic.ts';
import type { TrafficDeps } from './deps.ts';
import { progressOf, resumeFromLock, type ShiftOutcome } from './shift.ts';

/** What one watchdog round found and did. */
export interface WatchdogResult {
  readonly status: 'watchdog';
  /** Rules looked at (one per traffic plan's rule). */
  readonly checked: number;
  /** One outcome per overdue shift taken over. */
  readonly resumed: readonly ShiftOutcome[];
}

/** Looks at every planned rule's lock once; resumes (or rolls back) the shifts whose next step is overdue. */
export async function watchShifts(deps: TrafficDeps): Promise<WatchdogResult> {
  const now = deps.now();
  const { plans } = await deps.plans.load();
  const rules = [...new Set([...plans.values()].map((p) => p.ruleArn))];
  const locks = await mapWithConcurrency(rules, 4, (ruleArn) => deps.store.get(lockKey(ruleArn), now));
  const resumed: ShiftOutcome[] = [];
  const failures: Error[] = [];
  for (const lock of locks) {
    const p = lock ? progressOf(lock) : undefined;
    if (!lock || !p) continue;
    const overdueMs = now.getTime() - p.dueAt.getTime() - (p.state.pauseSeconds + deps.config.watchdogMarginSeconds) * 1000;
    if (overdueMs <= 0) continue;
    deps.logger.warn('watchdog: a shift\'s next step is overdue: taking it over', {
      shiftId: p.state.shiftId,
      app: p.state.app,
      step: p.state.stepIndex + 1,
      dueAt: p.dueAt.toISOString(),
      progress: p.progress,
    });
    try {
      resumed.push(await resumeFromLock(deps, lock, now, true));
    } catch (err) {
      deps.logger.error('watchdog: resuming the shift failed; the next round tries again', { shiftId: p.state.shiftId, error: err as Error });
      failures.push(err as Error);
    }
  }
  // A failed round fails the invocation (its Errors alarm); the next round, 2 minutes later, tries again.
  if (failures.length > 0) throw failures[0];
  return { status: 'watchdog', checked: rules.length, resumed };
}
