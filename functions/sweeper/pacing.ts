/**
 * The sweeper's pace: how often a full sweep may run so that, on average, it spends at most its share of the
 * account's Describe refill. A full sweep of G owned groups costs about G DescribeTargetHealth calls (plus
 * DescribeTags and DescribeTargetGroups pages); every 2 minutes at 1,000 groups that is 8 Describe calls per
 * second for ever, most of the ELB guide's example bucket (10 per second) that the Load Balancer Controller
 * needs. So the schedule stays the tick (it is also what notices a stuck sweep), and each run records in the
 * state table when the next full sweep is due; runs before that skip, and say until when.
 *
 * Pure arithmetic in {@link sweepInterval}; the record is a state-store entry whose expiry is the due time.
 */
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { Logger } from '#core/telemetry.ts';

/** What decides the interval. */
export interface PaceSettings {
  /** SWEEP_DESCRIBE_SHARE: the sweeper's average share of the account's Describe refill (0 < s <= 1). */
  readonly describeShare: number;
  /** The account's Describe refill per second (ELB_ACCOUNT_BUCKETS, default the documented 10). */
  readonly describeRefillPerSecond: number;
  /** SWEEP_TICK_SECONDS: the schedule's rate; a sweep cheaper than one tick's share runs every tick. */
  readonly tickSeconds: number;
}

/**
 * Seconds from the start of a sweep that cost `describeCalls` Describe calls to the next full sweep, so that
 * the average is at most `describeShare` of the refill; undefined when every tick may sweep (the interval is
 * at most one tick).
 *
 * @example sweepInterval(1055, { describeShare: 0.1, describeRefillPerSecond: 10, tickSeconds: 120 }) // 1055
 */
export function sweepInterval(describeCalls: number, settings: PaceSettings): number | undefined {
  const seconds = Math.ceil(describeCalls / (settings.describeShare * settings.describeRefillPerSecond));
  return seconds > settings.tickSeconds ? seconds : undefined;
}

/** The state-store key of a cluster's next full sweep. */
export const paceKey = (clusterName: string): string => `sweep-due#${clusterName}`;

/** Reads and records when the next full sweep is due, in the state table. */
export class SweepPacing {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent'>;
  readonly #key: string;
  readonly #settings: PaceSettings;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent'>, clusterName: string, settings: PaceSettings) {
    this.#store = store;
    this.#key = paceKey(clusterName);
    this.#settings = settings;
  }

  /** When the next full sweep is due, if later than `now`; undefined = sweep now. */
  async dueAfter(now: Date): Promise<Date | undefined> {
    const record = await this.#store.get(this.#key, now);
    return record && record.expiresAt.getTime() > now.getTime() ? record.expiresAt : undefined;
  }

  /**
   * Records the next due time of a sweep that started at `startedAt` and cost `describeCalls`; returns it
   * (undefined: every tick may sweep, nothing recorded).
   */
  async record(startedAt: Date, describeCalls: number): Promise<{ dueAt: Date; intervalSeconds: number } | undefined> {
    const intervalSeconds = sweepInterval(describeCalls, this.#settings);
    if (intervalSeconds === undefined) return undefined;
    const dueAt = new Date(startedAt.getTime() + intervalSeconds * 1000);
    await this.#store.putIfAbsent({ key: this.#key, owner: 'sweeper', expiresAt: dueAt, data: { describeCalls, intervalSeconds, share: this.#settings.describeShare } }, startedAt);
    return { dueAt, intervalSeconds };
  }
}


/**
 * The due time that makes this run skip, or undefined to sweep. A state table that cannot be read never
 * stops a sweep: it is warned and the sweep runs (a sweep too many costs budget; one too few costs safety).
 */
export async function skipUntil(pacing: SweepPacing | undefined, now: Date, logger: Logger): Promise<Date | undefined> {
  if (!pacing) return undefined;
  try {
    return await pacing.dueAfter(now);
  } catch (err) {
    logger.warn('next full sweep unknown (state table unreadable): sweeping now', { error: String(err) });
    return undefined;
  }
}

/** Records the next due time after a run; a failure to write is warned (the next tick then sweeps again). */
export async function recordNext(pacing: SweepPacing | undefined, startedAt: Date, describeCalls: number | undefined, logger: Logger): Promise<Date | undefined> {
  if (!pacing || describeCalls === undefined) return undefined;
  try {
    return (await pacing.record(startedAt, describeCalls))?.dueAt;
  } catch (err) {
    logger.warn('next full sweep not recorded (state table unwritable): the next tick sweeps', { error: String(err) });
    return undefined;
  }
}
