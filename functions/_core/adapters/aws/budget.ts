/**
 * Client-side API budget: one token bucket per API family, AIMD on AWS throttling, and retries with
 * full-jitter backoff.
 *
 * Why it exists: quiesce fans out (hundreds of DescribeTargetHealth calls inside a two-minute spot warning)
 * on an account whose ELB and Cloud Map buckets it shares with the AWS Load Balancer Controller. The ELB
 * families' limits are a share of the account's documented buckets ({@link ELB_ACCOUNT_BUCKETS}), and a
 * throttling error from AWS lowers the family's rate (additive increase, multiplicative decrease), so quiesce
 * never keeps an account throttled. A throttled call is slowed down, not abandoned: it is retried for as
 * long as the invocation has time. Retries live here, not in the SDK (clients are built with
 * `maxAttempts: 1`), so that every attempt, retries included, spends a token: a retry costs the account's
 * shared budget exactly like a first attempt.
 */
import { awsErrorName, isThrottling, isTransientAwsError, QuiesceError } from '../../errors.ts';
import { invocationRemainingMs, invocationTimeMs } from '../../invocation.ts';

/**
 * The family's next token comes later than the invocation can wait (its remaining time less the reserve).
 * Why a named, retryable error instead of the wait: Lambda would end the invocation mid-wait at its timeout,
 * with nothing reported; this way the caller reports what it did and the work is retried (SQS, async retry),
 * as with any failure.
 */
export class BudgetDeadlineError extends QuiesceError {
  readonly family: ApiFamily;
  constructor(family: ApiFamily, operation: string, waitMs: number, remainingMs: number) {
    super(`${family} ${operation}: the next token is ${Math.round(waitMs)} ms away, the invocation has ${Math.round(remainingMs)} ms left (reserve included)`, { retryable: true });
    this.family = family;
  }
}

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
  | 'dynamodb'
  | 'iam'
  | 'sts'
  | 'logs';

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
  'iam',
  'sts',
  'logs',
];

/**
 * The ELB token buckets an account has by default, per account and Region, shared by every caller: the ELB
 * user guide, "Request throttling for the ELB API", table "Request token bucket sizes and refill rates"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html):
 * Non-mutating (Describe*, DescribeTargetHealth, DescribeTags...) capacity 40, refill 10 per second;
 * Registration (RegisterTargets, DeregisterTargets) capacity 20, refill 4 per second; Mutating (ModifyRule...)
 * capacity 20, refill 3 per second. The same page also names an account-level bucket across all ELB actions
 * of 40 tokens refilling 10 per second. An account whose limits AWS Support raised says so with
 * ELB_ACCOUNT_BUCKETS. The AWS Load Balancer Controller spends the same buckets (its own client-side limits
 * are RegisterTargets|DeregisterTargets 4:20 and everything else 10:40: all of them).
 */
export const ELB_ACCOUNT_BUCKETS: Readonly<Record<ElbBucket, AccountBucket>> = Object.freeze({
  describe: { capacity: 40, refillPerSecond: 10 },
  register: { capacity: 20, refillPerSecond: 4 },
  modify: { capacity: 20, refillPerSecond: 3 },
});

/** The ELB account buckets quiesce spends from, one per ELB API family. */
export type ElbBucket = 'describe' | 'register' | 'modify';

/** One account-level token bucket as AWS documents it. */
export interface AccountBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * quiesce's default share of each ELB account bucket (refill and capacity alike): 40%, so the Load Balancer
 * Controller (and whoever else calls ELB in the account) keeps 60% of every bucket even while quiesce runs at
 * its full client-side rate. ELB_BUDGET_SHARE changes it (per bucket if wanted).
 */
export const DEFAULT_ELB_SHARE = 0.4;

/**
 * The spot trigger's default shares: it is the one caller racing a deadline (two minutes from the warning to
 * the termination), and its measured floor at the 40% default was the write bucket (1.6 DeregisterTargets/s:
 * a 20-node wave left 72 of 205 groups routing to dying nodes at the invocation's end; with the whole
 * Registration bucket none). It may take the whole Registration bucket and 60% of Describe: the Load Balancer
 * Controller's steady Describe calls (3/s in the bench) plus 6/s stay under the bucket's 10/s refill, and the
 * first throttle AWS answers halves quiesce's rate (AIMD in ApiBudget), so the controller gets its share back
 * at once instead of being starved. ELB_BUDGET_SHARE overrides it per bucket; the other triggers keep 40%.
 */
export const EMERGENCY_ELB_SHARE: Readonly<Partial<Record<ElbBucket, number>>> = Object.freeze({ describe: 0.6, register: 1 });

/**
 * The client-side limit that takes `share` of an account bucket: `share` of its refill per second, and
 * `share` of its capacity as burst (at least 1 token). Why both: the burst is what quiesce can take at once
 * from a full bucket; taking more than its share of the capacity empties the bucket for the controller.
 */
export function shareOf(bucket: AccountBucket, share: number): RateLimit {
  if (!(share > 0 && share <= 1)) throw new RangeError(`an ELB budget share must be in (0, 1], got ${share}`);
  return { ratePerSecond: bucket.refillPerSecond * share, burst: Math.max(1, Math.floor(bucket.capacity * share)) };
}

/** The ELB families' limits for the given account buckets and shares (defaults: the documented buckets, 40%). */
export function elbLimits(
  buckets: Partial<Record<ElbBucket, AccountBucket>> = {},
  shares: Partial<Record<ElbBucket, number>> = {},
): Record<'elb-describe' | 'elb-register' | 'elb-modify', RateLimit> {
  const of = (b: ElbBucket): RateLimit => shareOf(buckets[b] ?? ELB_ACCOUNT_BUCKETS[b], shares[b] ?? DEFAULT_ELB_SHARE);
  return { 'elb-describe': of('describe'), 'elb-register': of('register'), 'elb-modify': of('modify') };
}

/**
 * Default limits. The ELB families are a share of the account's documented buckets (see
 * {@link ELB_ACCOUNT_BUCKETS}, {@link DEFAULT_ELB_SHARE}): describe 4/s burst 16, register 1.6/s burst 8,
 * modify 1.2/s burst 8. The others are below their services' account limits by a wide margin.
 */
export const DEFAULT_LIMITS: Readonly<Record<ApiFamily, RateLimit>> = Object.freeze({
  ...elbLimits(),
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
  // `quiesce doctor` (the policy simulator, AssumeRole into each function's role) and `quiesce audit`
  // (FilterLogEvents): a few calls a run, far below IAM's, STS's and CloudWatch Logs' account limits.
  iam: { ratePerSecond: 5, burst: 10 },
  sts: { ratePerSecond: 5, burst: 10 },
  logs: { ratePerSecond: 5, burst: 10 },
});

/**
 * Retry policy. Non-throttling retryable errors (5xx, network) are bounded by `maxAttempts`: a service that
 * keeps failing will not get better within the invocation. Throttling is different: it says "slower", not
 * "no", so a throttled call is retried (with backoff and jitter, at the lowered AIMD rate) until the
 * invocation's time runs out (its remaining time less `reserveMs`), or, outside a Lambda invocation, for
 * `throttleRetryMs`. Only then is the throttling error rethrown, and reported and retried as any failure.
 */
export interface RetryPolicy {
  /** Total attempts including the first, for non-throttling retryable errors (default 8). */
  readonly maxAttempts: number;
  /** Backoff base in ms (default 100): attempt n waits uniformly in [0, min(cap, base * 2^n)). */
  readonly baseDelayMs: number;
  /** Backoff cap in ms (default 5000). */
  readonly maxDelayMs: number;
  /** How long one call keeps retrying throttling when no invocation deadline is known (default 60 s). */
  readonly throttleRetryMs: number;
  /**
   * Time of the invocation kept back from throttling retries and token waits, for the caller to report and
   * hand on (default 10 s; at most a quarter of the invocation's whole time, so a 10 s function still retries).
   */
  readonly reserveMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000, throttleRetryMs: 60_000, reserveMs: 10_000 });

/**
 * AIMD per family: a throttling error from AWS halves the family's rate (at most once per `cooldownMs`, so a
 * burst of throttled calls counts once), down to `floor` of the configured rate; the rate then climbs back
 * by `increase` of the configured rate per second, up to the configured rate. Why: the client-side limit is
 * a guess about an account bucket shared with others; AWS throttling is the account saying the guess is too
 * high right now, and quiesce must not keep the account throttled for the Load Balancer Controller.
 */
export interface AimdPolicy {
  /** Multiplicative decrease factor (default 0.5). */
  readonly decrease: number;
  /** Additive increase per second, as a fraction of the configured rate (default 0.1: 10 s from 0 to full). */
  readonly increase: number;
  /** Lowest rate, as a fraction of the configured rate (default 1/20). */
  readonly floor: number;
  /** At most one decrease per this many ms (default 1000: the account buckets refill per second). */
  readonly cooldownMs: number;
}

/** The defaults of {@link AimdPolicy}. */
export const DEFAULT_AIMD: AimdPolicy = Object.freeze({ decrease: 0.5, increase: 0.1, floor: 0.05, cooldownMs: 1000 });

/**
 * The clock an {@link ApiBudget} refills and waits on. Production: the default (`performance.now()` and a
 * timer). Tests whose subject is not the rate (the doctor's checklist, a dry run's record) pass one that
 * skips its waits (test/integration/budget-clock.ts), so a bucket the fake account's setup empties costs
 * no wall time; the budget's own tests keep real or injected time.
 */
export interface BudgetClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Waits `ms` milliseconds of this clock. */
  sleep(ms: number): Promise<void>;
}

/** Constructor options; `sleep`, `now` and `random` are injectable so tests are deterministic. */
export interface ApiBudgetOptions {
  readonly limits?: Partial<Record<ApiFamily, RateLimit>>;
  readonly retry?: Partial<RetryPolicy>;
  readonly aimd?: Partial<AimdPolicy>;
  /** Waits `ms` milliseconds (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Both clock functions at once (see {@link BudgetClock}); `sleep` and `now` given on their own win. */
  readonly clock?: BudgetClock;
  /** Milliseconds, monotonic enough for refills (default: `performance.now()`). */
  readonly now?: () => number;
  /** Uniform [0, 1) for the jitter (default: `Math.random`). */
  readonly random?: () => number;
  /**
   * The running invocation's remaining time in ms, or undefined outside one (default: the Lambda context of
   * the invocation in progress, see `functions/_core/invocation.ts`).
   */
  readonly remainingTimeMs?: () => number | undefined;
  /** The running invocation's whole time in ms (default: its remaining time when it started); sizes the reserve. */
  readonly invocationTimeMs?: () => number | undefined;
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
  /** AIMD decreases (AWS throttled this family). */
  decreases: number;
  /** The family's current rate per second (the configured one unless AWS throttled recently). */
  rate: number;
}

interface Bucket {
  readonly limit: RateLimit;
  /**
   * The part of the family's limit this invocation may use while others of the stage spend the same account
   * bucket (state/account-share.ts); 1 = all of it. Scales the rate and the burst alike.
   */
  scale: number;
  /** May go negative: a negative balance is a queue of reservations, each waiting its turn. */
  tokens: number;
  updatedAt: number;
  /** AIMD: the rate right after the last decrease, and when that was. */
  rateAtDecrease: number;
  decreasedAt: number;
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
  readonly #stats = new Map<ApiFamily, Omit<FamilyStats, 'rate'>>();
  readonly #retry: RetryPolicy;
  readonly #aimd: AimdPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #remaining: () => number | undefined;
  readonly #total: () => number | undefined;
  readonly #waitListeners: ((family: ApiFamily) => void)[] = [];

  constructor(options: ApiBudgetOptions = {}) {
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#aimd = { ...DEFAULT_AIMD, ...options.aimd };
    if (!Number.isInteger(this.#retry.maxAttempts) || this.#retry.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${this.#retry.maxAttempts}`);
    }
    if (!(this.#aimd.decrease > 0 && this.#aimd.decrease < 1) || !(this.#aimd.floor > 0 && this.#aimd.floor <= 1) || !(this.#aimd.increase >= 0)) {
      throw new RangeError('aimd needs 0 < decrease < 1, 0 < floor <= 1 and increase >= 0');
    }
    const clock = options.clock;
    this.#sleep = options.sleep ?? (clock ? (ms) => clock.sleep(ms) : (ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? (clock ? () => clock.now() : () => performance.now());
    this.#random = options.random ?? Math.random;
    this.#remaining = options.remainingTimeMs ?? invocationRemainingMs;
    this.#total = options.invocationTimeMs ?? (options.remainingTimeMs ? () => undefined : invocationTimeMs);
    const start = this.#now();
    for (const family of API_FAMILIES) {
      const limit = options.limits?.[family] ?? DEFAULT_LIMITS[family];
      if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) {
        throw new RangeError(`limit for ${family} needs ratePerSecond > 0 and burst >= 1`);
      }
      this.#buckets.set(family, { limit, scale: 1, tokens: limit.burst, updatedAt: start, rateAtDecrease: limit.ratePerSecond, decreasedAt: -Infinity });
      this.#stats.set(family, { calls: 0, throttled: 0, retries: 0, failed: 0, waitedMs: 0, decreases: 0 });
    }
  }

  /**
   * Runs `fn` under the family's rate limit. Throttling is retried with exponential backoff and full jitter
   * for as long as the invocation has time (see {@link RetryPolicy}), and lowers the family's rate (AIMD);
   * other retryable AWS errors are retried up to `maxAttempts`. Every attempt takes a token.
   * Non-retryable errors, and the last error once retries end, are rethrown unchanged so callers can still
   * match on `name`. `operation` is the AWS operation name; it is part of the signature so every call site
   * names what it spends, and shows up in the warning logged when retries run out.
   */
  async call<T>(family: ApiFamily, operation: string, fn: () => Promise<T>): Promise<T> {
    const stats = this.#statsOf(family);
    stats.calls++;
    const started = this.#now();
    let transientAttempts = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) stats.retries++;
      await this.#take(family, operation, stats);
      try {
        return await fn();
      } catch (err) {
        const throttled = isThrottling(err);
        if (throttled) {
          stats.throttled++;
          this.#decrease(family, stats);
        } else if (isTransientAwsError(err)) {
          transientAttempts++;
        }
        const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** Math.min(attempt, 30));
        const delay = Math.floor(this.#random() * ceiling);
        const retry = throttled ? this.#throttleTimeLeft(started) > delay : isTransientAwsError(err) && transientAttempts < this.#retry.maxAttempts;
        if (!retry) {
          stats.failed++;
          if (attempt > 0) console.warn(`quiesce: ${family} ${operation} gave up after ${attempt + 1} attempts: ${awsErrorName(err)}`);
          throw err;
        }
        if (delay > 0) {
          stats.waitedMs += delay;
          await this.#sleep(delay);
        }
      }
    }
  }

  /**
   * AWS requests sent so far (every attempt: first tries and retries), for one family or for all. What a
   * pace or a bench counts: each attempt spends a token of the account's bucket, whether it succeeded or not.
   *
   * @example
   * const before = budget.attempts('elb-describe'); await sweep(); budget.attempts('elb-describe') - before
   */
  attempts(family?: ApiFamily): number {
    const families = family === undefined ? API_FAMILIES : [family];
    return families.reduce((n, f) => {
      const s = this.#statsOf(f);
      return n + s.calls + s.retries;
    }, 0);
  }

  /** A snapshot of the counters per family, with each family's current AIMD rate. */
  stats(): Record<ApiFamily, FamilyStats> {
    const out = {} as Record<ApiFamily, FamilyStats>;
    const now = this.#now();
    for (const family of API_FAMILIES) out[family] = { ...this.#statsOf(family), rate: this.#rateOf(this.#bucketOf(family), now) };
    return out;
  }

  /** Ms this call may still spend retrying throttling: the invocation's time less the reserve, or its own window. */
  #throttleTimeLeft(started: number): number {
    const remaining = this.#remaining();
    if (remaining !== undefined) return remaining - this.#reserveOf();
    return started + this.#retry.throttleRetryMs - this.#now();
  }

  /** The reserve: `reserveMs`, but never more than a quarter of the invocation's whole time. */
  #reserveOf(): number {
    const total = this.#total();
    return total === undefined ? this.#retry.reserveMs : Math.min(this.#retry.reserveMs, total / 4);
  }

  /** The family's AIMD rate at `now`: back up by `increase` of the configured rate per second since the last decrease. */
  #aimdRateOf(bucket: Bucket, now: number): number {
    const full = bucket.limit.ratePerSecond;
    if (bucket.decreasedAt === -Infinity) return full;
    return Math.min(full, bucket.rateAtDecrease + (full * this.#aimd.increase * Math.max(0, now - bucket.decreasedAt)) / 1000);
  }

  /** The rate this invocation spends at: AIMD's, times its part of the stage's share. */
  #rateOf(bucket: Bucket, now: number): number {
    return this.#aimdRateOf(bucket, now) * bucket.scale;
  }

  /** The burst this invocation may save up: the family's, times its part of the stage's share (at least 1). */
  #burstOf(bucket: Bucket): number {
    return Math.max(1, bucket.limit.burst * bucket.scale);
  }

  /**
   * Uses only `scale` (0 < scale <= 1) of the family's limit from now on, rate and burst: the part of the
   * stage's share that is this invocation's while others spend the same account bucket (the account share,
   * functions/_core/state/account-share.ts). Tokens saved above the new burst are given up at once.
   */
  setScale(family: ApiFamily, scale: number): void {
    if (!(scale > 0 && scale <= 1)) throw new RangeError(`a budget scale must be in (0, 1], got ${scale}`);
    const bucket = this.#bucketOf(family);
    this.#refill(bucket, this.#now());
    bucket.scale = scale;
    bucket.tokens = Math.min(bucket.tokens, this.#burstOf(bucket));
  }

  /** The family's current scale (1 unless {@link setScale} lowered it). */
  scaleOf(family: ApiFamily): number {
    return this.#bucketOf(family).scale;
  }

  /**
   * Calls `listener` whenever a family has to wait for a token: the invocation is spending faster than its
   * burst, which is when sharing the account bucket with concurrent invocations starts to matter.
   */
  onWait(listener: (family: ApiFamily) => void): void {
    this.#waitListeners.push(listener);
  }

  /**
   * AWS throttled the family: the account's bucket is empty. Stop our other callers of this family from
   * spending saved burst, and halve the rate (once per cooldown: concurrent callers throttled by the same
   * empty bucket are one signal, not many).
   */
  #decrease(family: ApiFamily, stats: Omit<FamilyStats, 'rate'>): void {
    const bucket = this.#bucketOf(family);
    const now = this.#now();
    this.#refill(bucket, now);
    bucket.tokens = Math.min(bucket.tokens, 0);
    if (now - bucket.decreasedAt < this.#aimd.cooldownMs) return;
    const floor = bucket.limit.ratePerSecond * this.#aimd.floor;
    bucket.rateAtDecrease = Math.max(floor, this.#aimdRateOf(bucket, now) * this.#aimd.decrease);
    bucket.decreasedAt = now;
    stats.decreases++;
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.#burstOf(bucket), bucket.tokens + (elapsed * this.#rateOf(bucket, now)) / 1000);
    bucket.updatedAt = now;
  }

  /**
   * Reserves one token, waiting for it when the bucket is empty (reservations queue in call order). A wait
   * past the invocation's time (less the reserve) is not started: {@link BudgetDeadlineError}.
   */
  async #take(family: ApiFamily, operation: string, stats: Omit<FamilyStats, 'rate'>): Promise<void> {
    const bucket = this.#bucketOf(family);
    const now = this.#now();
    this.#refill(bucket, now);
    bucket.tokens -= 1;
    if (bucket.tokens >= 0) return;
    for (const listener of this.#waitListeners) listener(family);
    const waitMs = Math.ceil((-bucket.tokens * 1000) / this.#rateOf(bucket, now));
    const remaining = this.#remaining();
    if (remaining !== undefined && waitMs > remaining - this.#reserveOf()) {
      bucket.tokens += 1;
      stats.failed++;
      throw new BudgetDeadlineError(family, operation, waitMs, remaining);
    }
    stats.waitedMs += waitMs;
    await this.#sleep(waitMs);
  }

  #bucketOf(family: ApiFamily): Bucket {
    const b = this.#buckets.get(family);
    if (!b) throw new RangeError(`unknown API family ${String(family)}`);
    return b;
  }

  #statsOf(family: ApiFamily): Omit<FamilyStats, 'rate'> {
    const s = this.#stats.get(family);
    if (!s) throw new RangeError(`unknown API family ${String(family)}`);
    return s;
  }
}
