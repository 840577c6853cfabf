/**
 * The scheduled-change planner, pure: notifications of one AWS Health event, delivered at least once and in
 * any order, never leave more than one deregistration current, and what is remembered is what the newest
 * notification asks for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueToken, planScheduledChange, type ScheduledChangeNotice, type ScheduledChangeRecord } from '#core/domain/planners/scheduled-change.ts';

const ARN = 'arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/x';
const ID = 'i-0a1b2c3d4e5f60003';
const NOW = new Date('2026-11-21T12:00:00Z');
const LEAD = 600;
const at = (minutes: number): string => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const notice = (o: Partial<ScheduledChangeNotice>): ScheduledChangeNotice => ({ eventArn: ARN, instanceId: ID, statusCode: 'upcoming', startTime: at(120), endTime: at(240), updatedAt: at(0), ...o });

describe('planScheduledChange', () => {
  it('remembers a newer notification that changes nothing, so an older one delivered after it cannot move the schedule (seed 1623149641)', () => {
    const first = planScheduledChange({ notice: notice({ startTime: at(7), endTime: at(67), updatedAt: at(0) }), record: undefined, running: true, now: NOW, leadSeconds: LEAD });
    if (first.kind !== 'schedule') throw new Error(first.kind);
    let record: ScheduledChangeRecord = { status: 'scheduled', token: first.token, via: first.via, dueAt: first.dueAt.toISOString(), startTime: at(7), updatedAt: at(0) };
    const same = planScheduledChange({ notice: notice({ startTime: at(7), endTime: at(67), updatedAt: at(2) }), record, running: true, now: NOW, leadSeconds: LEAD });
    expect(same.kind).toBe('remember');
    record = { ...record, updatedAt: at(2) };
    const older = planScheduledChange({ notice: notice({ statusCode: 'open', startTime: at(349), endTime: at(409), updatedAt: at(1) }), record, running: true, now: NOW, leadSeconds: LEAD });
    expect(older).toMatchObject({ kind: 'nothing', reason: expect.stringMatching(/older notification/) });
  });

  it('schedules the start minus the lead; through Scheduler when later than an SQS delay, through the queue when near, at once when not running', () => {
    expect(planScheduledChange({ notice: notice({}), record: undefined, running: true, now: NOW, leadSeconds: LEAD })).toMatchObject({ kind: 'schedule', via: 'scheduler', dueAt: new Date(at(110)), delaySeconds: 6600 });
    expect(planScheduledChange({ notice: notice({ startTime: at(20) }), record: undefined, running: true, now: NOW, leadSeconds: LEAD })).toMatchObject({ kind: 'schedule', via: 'queue', delaySeconds: 600 });
    expect(planScheduledChange({ notice: notice({ startTime: at(5) }), record: undefined, running: true, now: NOW, leadSeconds: LEAD })).toMatchObject({ kind: 'schedule', via: 'queue', delaySeconds: 0 });
    expect(planScheduledChange({ notice: notice({}), record: undefined, running: false, now: NOW, leadSeconds: LEAD })).toMatchObject({ kind: 'schedule', via: 'queue', delaySeconds: 0 });
    expect(planScheduledChange({ notice: notice({ startTime: at(-120), endTime: at(-60) }), record: undefined, running: true, now: NOW, leadSeconds: LEAD })).toMatchObject({ kind: 'nothing', reason: expect.stringMatching(/is over/) });
  });

  it('whatever the order and the duplicates, one deregistration at most is current, and it is the newest notification\'s (property)', () => {
    // Up to 4 distinct notifications of one event (updatedAt increasing), each delivered 1-3 times, shuffled.
    const notices = fc
      .array(fc.record({ status: fc.constantFrom('upcoming', 'open', 'closed' as const), start: fc.integer({ min: -30, max: 600 }) }), { minLength: 1, maxLength: 4 })
      .map((list) => list.map((n, i) => notice({ statusCode: n.status, startTime: at(n.start), endTime: at(n.start + 60), updatedAt: at(i) })));
    const deliveries = notices.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list.flatMap((n) => [n, n, n]), { minLength: list.length * 3, maxLength: list.length * 3 })));
    fc.assert(
      fc.property(deliveries, ([list, order]) => {
        let record: ScheduledChangeRecord | undefined;
        const live = new Set<string>();
        for (const n of order) {
          const d = planScheduledChange({ notice: n, record, running: true, now: NOW, leadSeconds: LEAD });
          if (d.kind === 'nothing') continue;
          if (d.kind === 'remember') {
            record = { ...record!, updatedAt: n.updatedAt };
            continue;
          }
          if (d.replaces) live.delete(d.replaces.token);
          if (d.kind === 'schedule') {
            live.add(d.token);
            record = { status: 'scheduled', token: d.token, via: d.via, dueAt: d.dueAt.toISOString(), startTime: n.startTime, updatedAt: n.updatedAt };
          } else record = { status: 'cancelled', token: `closed-${n.updatedAt}`, via: 'queue', dueAt: '', startTime: n.startTime, updatedAt: n.updatedAt };
          expect(live.size).toBeLessThanOrEqual(1);
        }
        // Every notification was delivered, so the newest was seen: it decides, unless it came to nothing.
        const newest = list.at(-1)!;
        const over = Date.parse(newest.endTime!) < NOW.getTime();
        if (newest.statusCode === 'closed') expect(live.size).toBe(0);
        else if (!over) expect([...live]).toEqual([dueToken(ARN, ID, new Date(Date.parse(newest.startTime) - LEAD * 1000))]);
        if (record) expect(Date.parse(record.updatedAt)).toBeLessThanOrEqual(Date.parse(newest.updatedAt));
      }),
      { numRuns: 300, ...(process.env['SCHEDULED_CHANGE_SEED'] ? { seed: Number(process.env['SCHEDULED_CHANGE_SEED']) } : {}) },
    );
  });
});
