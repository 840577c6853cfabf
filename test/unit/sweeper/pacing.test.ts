import { describe, expect, it } from 'vitest';
import { BudgetDeadlineError } from '../../../functions/_core/adapters/aws/budget.ts';
import type { StoredRecord } from '../../../functions/_core/ports/state-store.ts';
import { createLogger, createMetrics } from '../../../functions/_core/telemetry.ts';
import { makeHandler } from '../../../functions/sweeper/handler.ts';
import { SweepPacing, sweepInterval } from '../../../functions/sweeper/pacing.ts';
import type { SweepDeps } from '../../../functions/sweeper/run-sweep.ts';

const SETTINGS = { describeShare: 0.1, describeRefillPerSecond: 10, tickSeconds: 120 };

/** The state store as the pace uses it: put if absent (or expired), get the live record. */
function memoryStore() {
  const records = new Map<string, StoredRecord>();
  return {
    records,
    get: async (key: string, now: Date) => {
      const r = records.get(key);
      return r && r.expiresAt > now ? r : undefined;
    },
    putIfAbsent: async (record: StoredRecord, now: Date) => {
      const r = records.get(record.key);
      if (r && r.expiresAt > now) return false;
      records.set(record.key, record);
      return true;
    },
  };
}

describe('the sweeper pace', () => {
  it('spaces full sweeps so they average at most their share of the Describe refill', () => {
    // 1,000 groups: ~1,000 DescribeTargetHealth + 50 DescribeTags + 3 pages = 1,053 calls at 1 per second on average.
    expect(sweepInterval(1053, SETTINGS)).toBe(1053);
    expect(sweepInterval(1053, { ...SETTINGS, describeShare: 0.25 })).toBe(422);
    // A sweep cheaper than one tick's share runs every tick (nothing recorded, nothing skipped).
    expect(sweepInterval(120, SETTINGS)).toBeUndefined();
    expect(sweepInterval(121, SETTINGS)).toBe(121);
  });

  it('records when the next full sweep is due and says so until then', async () => {
    const store = memoryStore();
    const pace = new SweepPacing(store, 'prod', SETTINGS);
    const t0 = new Date('2026-11-21T12:00:00Z');
    expect(await pace.dueAfter(t0)).toBeUndefined();
    expect(await pace.record(t0, 1053)).toEqual({ dueAt: new Date('2026-11-21T12:17:33Z'), intervalSeconds: 1053 });
    expect(await pace.dueAfter(new Date('2026-11-21T12:02:00Z'))).toEqual(new Date('2026-11-21T12:17:33Z'));
    expect(await pace.dueAfter(new Date('2026-11-21T12:17:34Z'))).toBeUndefined();
    expect(await pace.record(t0, 50)).toBeUndefined();
  });

  it('a tick before the due time skips: no sweep, the result says when the next one is due', async () => {
    const store = memoryStore();
    const now = new Date('2026-11-21T12:05:00Z');
    await store.putIfAbsent({ key: 'sweep-due#prod', owner: 'sweeper', expiresAt: new Date('2026-11-21T12:17:33Z'), data: {} }, now);
    const logger = createLogger('sweeper', { logLevel: 'SILENT' });
    // Nothing else is reachable: a skipped tick must not touch the cluster, ELB or Cloud Map.
    const deps = { config: { clusterName: 'prod' }, now: () => now, logger, pacing: new SweepPacing(store, 'prod', SETTINGS) } as unknown as SweepDeps;
    const handler = makeHandler(() => deps, logger, createMetrics('sweeper'));
    const event = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: now.toISOString(), region: 'us-east-1', resources: [], detail: {} };
    expect(await handler(event as never, {} as never)).toEqual({ status: 'skipped', nextSweepAt: '2026-11-21T12:17:33.000Z' });
  });

  it('a sweep that runs out of time is paced by what it spent, so it does not repeat every tick', async () => {
    const store = memoryStore();
    const now = new Date('2026-11-21T12:00:00Z');
    const logger = createLogger('sweeper', { logLevel: 'SILENT' });
    let described = 0;
    const deps = {
      config: { clusterName: 'prod' },
      now: () => now,
      logger,
      pacing: new SweepPacing(store, 'prod', SETTINGS),
      budget: { attempts: (family?: string) => (family === 'elb-describe' ? described : 0) },
      cluster: { connect: async () => Promise.reject(new Error('unreachable')) },
      elbv2: {
        listTargetGroups: async () => {
          described = 400; // what a 1,000-group scan had spent when its time ran out
          throw new BudgetDeadlineError('elb-describe', 'DescribeTargetHealth', 4000, 10_500);
        },
      },
    } as unknown as SweepDeps;
    const handler = makeHandler(() => deps, logger, createMetrics('sweeper'));
    const event = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: now.toISOString(), region: 'us-east-1', resources: [], detail: {} };
    await expect(handler(event as never, {} as never)).rejects.toMatchObject({ name: 'BudgetDeadlineError' });
    expect(store.records.get('sweep-due#prod')?.expiresAt).toEqual(new Date('2026-11-21T12:06:40Z'));
  });
});
