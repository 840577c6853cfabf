/**
 * Whether full sweeps keep completing. A sweeper that stopped completing is quiet: a run that fails shows in
 * Errors, but one that is never invoked (schedule disabled, reserved concurrency 0), that skips for ever (a
 * pace record far in the future) or that dies on its timeout before its metrics shows nothing. So every
 * completed sweep records a deadline in the state table, SWEEP_OVERDUE_FACTOR expected intervals ahead (the
 * expected interval: the schedule's tick, or the paced interval when longer, pacing.ts), and every
 * invocation, skipped or not, publishes `sweepOverdue` = 1 when no live deadline is left. The alarm
 * (`sweeper-overdue`, infra/serverless/alarms.yml) fires on it, and on its absence (no invocation at all).
 *
 * The record is a state-store entry whose expiry is the deadline: expired counts as absent, which is what
 * overdue means.
 *
 * With STATE_TABLE a full sweep spans invocations (spanning-sweep.ts): only the slice that completes it
 * completes a sweep, and the expected interval is then at least the full sweep's expected duration at the
 * share (sweep-cursor.ts `expectedSweepSeconds`). The cursor adds what the deadline cannot know: the first
 * sweep of a stage, which has no deadline yet, is not overdue while it is within SWEEP_OVERDUE_FACTOR times
 * its expected duration, and a sweep in progress past that is overdue whatever the deadline says
 * ({@link overdueOf}).
 */
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { Logger } from '#core/telemetry.ts';

/** The state-store key of a cluster's sweep deadline. */
export const completionKey = (clusterName: string): string => `sweep-done#${clusterName}`;

const OWNER = 'sweeper';

/** A completed sweep as recorded. */
export interface SweepCompletionRecord {
  readonly completedAt: string;
  /** The interval the next full sweep is expected within (seconds). */
  readonly expectedSeconds: number;
  /** When it becomes overdue: completedAt + factor x expectedSeconds. */
  readonly overdueAt: string;
}

/** Reads and records completed sweeps. */
export class SweepCompletion {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;
  readonly #key: string;
  readonly #factor: number;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, clusterName: string, factor: number) {
    this.#store = store;
    this.#key = completionKey(clusterName);
    this.#factor = factor;
  }

  /** The last completed sweep while its deadline has not passed; undefined = overdue (or never completed). */
  async current(now: Date): Promise<SweepCompletionRecord | undefined> {
    const record = await this.#store.get(this.#key, now);
    if (!record) return undefined;
    const { completedAt, expectedSeconds } = record.data;
    if (typeof completedAt !== 'string' || typeof expectedSeconds !== 'number') return undefined;
    return { completedAt, expectedSeconds, overdueAt: record.expiresAt.toISOString() };
  }

  /**
   * Records a sweep that completed at `at`, the next one expected within `expectedSeconds`. Replaces the live
   * record, or puts a new one when it has expired; two sweeps never run at once (reserved concurrency 1), so
   * a lost race only means the other one's deadline stands.
   */
  async completed(at: Date, expectedSeconds: number): Promise<SweepCompletionRecord> {
    const overdueAt = new Date(at.getTime() + this.#factor * expectedSeconds * 1000);
    const data: SweepCompletionRecord = { completedAt: at.toISOString(), expectedSeconds, overdueAt: overdueAt.toISOString() };
    const next = { key: this.#key, owner: OWNER, expiresAt: overdueAt, data: { ...data } };
    if (!(await this.#store.replaceIfOwner(this.#key, OWNER, next, at))) await this.#store.putIfAbsent(next, at);
    return data;
  }
}

/**
 * Whether the sweeper is overdue at `now` (1) or not (0), for the `sweepOverdue` metric; an unreadable state
 * table counts as not known (undefined: no metric, so the alarm sees missing data, which it treats as
 * breaching only when every invocation of its period says nothing).
 */
export async function overdueNow(completion: SweepCompletion | undefined, now: Date, logger: Logger): Promise<0 | 1 | undefined> {
  if (!completion) return undefined;
  try {
    return (await completion.current(now)) ? 0 : 1;
  } catch (err) {
    logger.warn('sweep deadline unknown (state table unreadable)', { error: String(err) });
    return undefined;
  }
}

/**
 * Pure: `sweepOverdue` from the deadline ({@link overdueNow}: 0, 1, or undefined when unknown) and the sweep in
 * progress by the cursor (spanning-sweep.ts, when a sweep spans invocations): overdue when the sweep in
 * progress has run past SWEEP_OVERDUE_FACTOR times its expected duration, or when no deadline is live,
 * except for the first sweep of a stage while it is within that time (no sweep has completed yet to set one).
 *
 * @example overdueOf(1, { overdue: false, first: true }) // 0: the first sweep is on its way
 */
export function overdueOf(deadline: 0 | 1 | undefined, underway: { readonly overdue: boolean; readonly first: boolean } | undefined): 0 | 1 | undefined {
  if (underway?.overdue) return 1;
  if (deadline === undefined) return underway ? 0 : undefined;
  if (deadline === 1 && underway?.first) return 0;
  return deadline;
}

/** Records a completed sweep; a failure to write is warned (the next completed sweep writes again). */
export async function recordCompleted(completion: SweepCompletion | undefined, at: Date, expectedSeconds: number, logger: Logger): Promise<SweepCompletionRecord | undefined> {
  if (!completion) return undefined;
  try {
    return await completion.completed(at, expectedSeconds);
  } catch (err) {
    logger.warn('completed sweep not recorded (state table unwritable): sweepOverdue may rise', { error: String(err) });
    return undefined;
  }
}
