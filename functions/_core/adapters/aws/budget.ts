/**
 * Client-side API budget: one token bucket per API family plus bounded retries with full-jitter backoff.
 *
 * Why it exists: quiesce fans out (hundreds of DescribeTargetHealth calls inside a two-minute spot warning)
 * on an account whose ELB and Cloud Map rate limits it shares with the AWS Load Balancer Controller
 * (Register/DeregisterTargets 4/s burst 20, Describe* 50/s burst 200, Modify* 3/s burst 20). Without a
 * client-side limit a burst from quiesce would throttle the controller's own reconciles. Retries live here,
 * not in the SDK (clients are built with `maxAttempts: 1`), so that every attempt, retries included, spends
 * a token: a retry costs the account's shared budget exactly like a first attempt.
 */
import { awsErrorName, isThrottling, isTransientAwsError } from '../../errors.ts';

/** The API families that have separate client-side budgets (separate AWS throttling buckets, roughly). */
export type ApiFamily =
  | 'elb-describe'
  | 'elb-register'
  | 'elb-modify'
  | 'cloudmap-read'
  | 'cloudmap-write'
  | 'ec2-describe'
  | 'events'
  | 'autoscaling'
  | 'sqs'
  | 'eks'
  | 'ssm'
  | 'scheduler'
  | 'dynamodb';

/** A token bucket: `ratePerSecond` steady refill, at most `burst` tokens saved up. */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Every family, for iteration (stats, validation). */
export const API_FAMILIES: readonly ApiFamily[] = [
  'elb-describe',
  'elb-register',
  'elb-modify',
  'cloudmap-read',
  'cloudmap-write',
  'ec2-describe',
  'events',
  'autoscaling',
  'sqs',
  'eks',
  'ssm',
  'scheduler',
  'dynamodb',
];

/**
 * Default limits: deliberately below the Load Balancer Controller's own client-side limits for the shared
 * ELB families (describe 40 vs its 50, register 4 burst 10 vs its burst 20, modify 2 vs its 3), so that
 * quiesce at full speed still leaves the controller room on the account's per-Region bucket.
 */
export const DEFAULT_LIMITS: Readonly<Record<ApiFamily, RateLimit>> = Object.freeze({
  'elb-describe': { ratePerSecond: 40, burst: 80 },
  'elb-register': { ratePerSecond: 4, burst: 10 },
  'elb-modify': { ratePerSecond: 2, burst: 5 },
  'cloudmap-read': { ratePerSecond: 20, burst: 40 },
  'cloudmap-write': { ratePerSecond: 10, burst: 20 },
  'ec2-describe': { ratePerSecond: 20, burst: 40 },
  events: { ratePerSecond: 20, burst: 20 },
  autoscaling: { ratePerSecond: 10, burst: 10 },
  sqs: { ratePerSecond: 10, burst: 10 },
  eks: { ratePerSecond: 10, burst: 10 },
  // GetParameter shares the account's SSM throughput (40/s standard); the token is cached, so this is ample.
  ssm: { ratePerSecond: 10, burst: 10 },
  scheduler: { ratePerSecond: 10, burst: 10 },
  // The state table: two UpdateItem per group written (the guard across writers' lease and release), on the
  // write path of a spot warning. On-demand tables take thousands of requests per second on distinct keys;
  // this only keeps a bug from hammering the table.
  dynamodb: { ratePerSecond: 100, burst: 200 },
});

/** Retry policy: attempts are bounded so a Lambda never spends its whole timeout behind a throttled API. */
export interface RetryPolicy {
  /** Total attempts including the first (default 8). */
  readonly maxAttempts: number;
  /** Backoff base in ms (default 100): attempt n waits uniformly in [0, min(cap, base * 2^n)). */
  readonly baseDelayMs: number;
  /** Backoff cap in ms (default 5000). */
  readonly maxDelayMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 });

/** Constructor options; `sleep`, `now` and `random` are injectable so tests are deterministic. */
export interface ApiBudgetOptions {
  readonly limits?: Partial<Record<ApiFamily, RateLimit>>;
  readonly retry?: Partial<RetryPolicy>;
  /** Waits `ms` milliseconds (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds, monotonic enough for refills (default: `performance.now()`). */
  readonly now?: () => number;
  /** Uniform [0, 1) for the jitter (default: `Math.random`). */
  readonly random?: () => number;
}

/** Counters per family: what the budget cost, for logs, metrics and the bench. */
export interface FamilyStats {
  /** Logical calls (`call` invocations). */
  calls: number;
  /** Attempts that failed with a throttling error. */
  throttled: number;
  /** Attempts after the first. */
  retries: number;
  /** Calls that finally rejected. */
  failed: number;
  /** Time spent waiting for tokens and in backoff, in ms. */
  waitedMs: number;
}

interface Bucket {
  readonly limit: RateLimit;
  /** May go negative: a negative balance is a queue of reservations, each waiting its turn. */
  tokens: number;
  updatedAt: number;
}

/**
 * Rate limits and retries for every AWS call quiesce makes. Adapters wrap each SDK call in
 * {@link ApiBudget.call}; nothing else in the code retries.
 *
 * @example
 * const budget = new ApiBudget();
 * const out = await budget.call('elb-describe', 'DescribeTargetHealth', () => elbv2.send(cmd));
 */
export class ApiBudget {
  readonly #buckets = new Map<ApiFamily, Bucket>();
  readonly #stats = new Map<ApiFamily, FamilyStats>();
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(options: ApiBudgetOptions = {}) {
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!Number.isInteger(this.#retry.maxAttempts) || this.#retry.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${this.#retry.maxAttempts}`);
    }
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
    const start = this.#now();
    for (const family of API_FAMILIES) {
      const limit = options.limits?.[family] ?? DEFAULT_LIMITS[family];
      if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) {
        throw new RangeError(`limit for ${family} needs ratePerSecond > 0 and burst >= 1`);
      }
      this.#buckets.set(family, { limit, tokens: limit.burst, updatedAt: start });
      this.#stats.set(family, { calls: 0, throttled: 0, retries: 0, failed: 0, waitedMs: 0 });
    }
  }

  /**
   * Runs `fn` under the family's rate limit, retrying throttling and other retryable AWS errors with
   * exponential backoff and full jitter. Every attempt takes a token. Non-retryable errors, and the last
   * error once attempts are exhausted, are rethrown unchanged so callers can still match on `name`.
   * `operation` is the AWS operation name; it is part of the signature so
   * every call site names what it spends, and shows up in the warning logged when attempts run out.
   */
  async call<T>(family: ApiFamily, operation: string, fn: () => Promise<T>): Promise<T> {
    const stats = this.#statsOf(family);
    stats.calls++;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) stats.retries++;
      await this.#take(family, stats);
      try {
        return await fn();
      } catch (err) {
        const throttled = isThrottling(err);
        if (throttled) {
          stats.throttled++;
          // The account's bucket is empty: stop our other callers of this family from spending saved burst.
          const bucket = this.#bucketOf(family);
          bucket.tokens = Math.min(bucket.tokens, 0);
        }
        if (!(throttled || isTransientAwsError(err)) || attempt + 1 >= this.#retry.maxAttempts) {
          stats.failed++;
          if (attempt > 0) console.warn(`quiesce: ${family} ${operation} gave up after ${attempt + 1} attempts: ${awsErrorName(err)}`);
          throw err;
        }
        const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
        const delay = Math.floor(this.#random() * ceiling);
        if (delay > 0) {
          stats.waitedMs += delay;
          await this.#sleep(delay);
        }
      }
    }
  }

  /** A snapshot of the counters per family. */
  stats(): Record<ApiFamily, FamilyStats> {
    const out = {} as Record<ApiFamily, FamilyStats>;
    for (const family of API_FAMILIES) out[family] = { ...this.#statsOf(family) };
    return out;
  }

  /** Reserves one token, waiting for it when the bucket is empty (reservations queue in call order). */
  async #take(family: ApiFamily, stats: FamilyStats): Promise<void> {
    const bucket = this.#bucketOf(family);
    const now = this.#now();
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(bucket.limit.burst, bucket.tokens + (elapsed * bucket.limit.ratePerSecond) / 1000);
    bucket.updatedAt = now;
    bucket.tokens -= 1;
    if (bucket.tokens >= 0) return;
    const waitMs = Math.ceil((-bucket.tokens * 1000) / bucket.limit.ratePerSecond);
    stats.waitedMs += waitMs;
    await this.#sleep(waitMs);
  }

  #bucketOf(family: ApiFamily): Bucket {
    const b = this.#buckets.get(family);
    if (!b) throw new RangeError(`unknown API family ${String(family)}`);
    return b;
  }

  #statsOf(family: ApiFamily): FamilyStats {
    const s = this.#stats.get(family);
    if (!s) throw new RangeError(`unknown API family ${String(family)}`);
    return s;
  }
}
