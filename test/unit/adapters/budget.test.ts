import { describe, expect, it } from 'vitest';
import { ApiBudget, BudgetDeadlineError, DEFAULT_LIMITS, ELB_ACCOUNT_BUCKETS, elbLimits, shareOf } from '../../../functions/_core/adapters/aws/budget.ts';

/** A manual clock: `sleep` advances it, so waits are measured exactly and nothing really waits. */
function clock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    sleeps,
  };
}

function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('ApiBudget', () => {
  it('has the documented defaults: ELB families at 40% of the ELB guide\'s account buckets', () => {
    // Describe 40 tokens + 10/s, Registration 20 + 4/s, Mutating 20 + 3/s (ELB user guide, request throttling).
    expect(DEFAULT_LIMITS['elb-describe']).toEqual({ ratePerSecond: 4, burst: 16 });
    expect(DEFAULT_LIMITS['elb-register']).toEqual({ ratePerSecond: 1.6, burst: 8 });
    expect(DEFAULT_LIMITS['elb-modify']).toEqual({ ratePerSecond: 1.2000000000000002, burst: 8 });
    expect(DEFAULT_LIMITS['cloudmap-read']).toEqual({ ratePerSecond: 20, burst: 40 });
    expect(DEFAULT_LIMITS['cloudmap-write']).toEqual({ ratePerSecond: 10, burst: 20 });
    expect(DEFAULT_LIMITS['ec2-describe']).toEqual({ ratePerSecond: 20, burst: 40 });
    expect(DEFAULT_LIMITS.events).toEqual({ ratePerSecond: 20, burst: 20 });
    for (const f of ['autoscaling', 'sqs', 'eks'] as const) expect(DEFAULT_LIMITS[f]).toEqual({ ratePerSecond: 10, burst: 10 });
    expect(elbLimits({ describe: { capacity: 400, refillPerSecond: 100 } }, { register: 1 })).toMatchObject({
      'elb-describe': { ratePerSecond: 40, burst: 160 },
      'elb-register': { ratePerSecond: 4, burst: 20 },
    });
    expect(() => shareOf(ELB_ACCOUNT_BUCKETS.describe, 0)).toThrow(RangeError);
  });

  it('spends the burst without waiting, then paces at the rate', async () => {
    const c = clock();
    const budget = new ApiBudget({ limits: { 'elb-register': { ratePerSecond: 4, burst: 10 } }, now: c.now, sleep: c.sleep });
    for (let i = 0; i < 10; i++) await budget.call('elb-register', 'DeregisterTargets', async () => i);
    expect(c.sleeps).toEqual([]);
    for (let i = 0; i < 4; i++) await budget.call('elb-register', 'DeregisterTargets', async () => i);
    expect(c.sleeps).toEqual([250, 250, 250, 250]);
    expect(budget.stats()['elb-register']).toMatchObject({ calls: 14, retries: 0, throttled: 0, waitedMs: 1000 });
  });

  it('spends at a scale of its limit while concurrent invocations share the account bucket, and tells who waits', async () => {
    const c = clock();
    const budget = new ApiBudget({ limits: { 'elb-register': { ratePerSecond: 4, burst: 10 } }, now: c.now, sleep: c.sleep });
    const waited: string[] = [];
    budget.onWait((family) => waited.push(family));
    budget.setScale('elb-register', 0.5); // half of the rate, half of the burst: 2/s, 5 tokens
    for (let i = 0; i < 7; i++) await budget.call('elb-register', 'DeregisterTargets', async () => i);
    expect(c.sleeps).toEqual([500, 500]);
    expect(waited).toEqual(['elb-register', 'elb-register']);
    expect(budget.stats()['elb-register'].rate).toBe(2);
    budget.setScale('elb-register', 1);
    c.advance(10_000);
    for (let i = 0; i < 10; i++) await budget.call('elb-register', 'DeregisterTargets', async () => i);
    expect(c.sleeps).toHaveLength(2); // the whole burst again once alone
    expect(() => budget.setScale('elb-register', 0)).toThrow(RangeError);
  });

  it('queues concurrent callers in order instead of letting them all through', async () => {
    const c = clock();
    const waits: number[] = [];
    const budget = new ApiBudget({
      limits: { 'elb-modify': { ratePerSecond: 2, burst: 1 } },
      now: c.now,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([1, 2, 3].map((i) => budget.call('elb-modify', 'ModifyRule', async () => i)));
    // First takes the burst token; the next two reserve the 1st and 2nd refill (500 ms, 1000 ms).
    expect(waits).toEqual([500, 1000]);
  });

  it('refills over time up to the burst only', async () => {
    const c = clock();
    const budget = new ApiBudget({ limits: { sqs: { ratePerSecond: 10, burst: 2 } }, now: c.now, sleep: c.sleep });
    await budget.call('sqs', 'SendMessage', async () => 1);
    await budget.call('sqs', 'SendMessage', async () => 1);
    c.advance(60_000);
    await budget.call('sqs', 'SendMessage', async () => 1);
    await budget.call('sqs', 'SendMessage', async () => 1);
    expect(c.sleeps).toEqual([]);
    await budget.call('sqs', 'SendMessage', async () => 1);
    expect(c.sleeps).toEqual([100]);
  });

  it('keeps families independent', async () => {
    const c = clock();
    const budget = new ApiBudget({ limits: { 'elb-modify': { ratePerSecond: 1, burst: 1 } }, now: c.now, sleep: c.sleep });
    await budget.call('elb-modify', 'ModifyRule', async () => 1);
    await budget.call('elb-describe', 'DescribeRules', async () => 1);
    expect(c.sleeps).toEqual([]);
  });

  it('retries throttling with full-jitter exponential backoff, each attempt taking a token', async () => {
    const c = clock();
    const budget = new ApiBudget({
      limits: { 'elb-describe': { ratePerSecond: 1000, burst: 1000 } },
      now: c.now,
      sleep: c.sleep,
      random: () => 0.5,
    });
    let attempts = 0;
    const out = await budget.call('elb-describe', 'DescribeTargetHealth', async () => {
      attempts++;
      if (attempts <= 3) throw awsError('ThrottlingException');
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(attempts).toBe(4);
    // random 0.5 of min(5000, 100 * 2^n) for n = 0, 1, 2, plus the token waits after a throttle emptied the bucket.
    const backoffs = c.sleeps.filter((ms) => ms >= 50);
    expect(backoffs).toEqual([50, 100, 200]);
    expect(budget.stats()['elb-describe']).toMatchObject({ calls: 1, throttled: 3, retries: 3, failed: 0 });
  });

  it('counts attempts (first tries and retries) per family and in all: what the sweeper paces itself by', async () => {
    const c = clock();
    const budget = new ApiBudget({ now: c.now, sleep: c.sleep, random: () => 0.5 });
    expect(budget.attempts()).toBe(0);
    let n = 0;
    await budget.call('elb-describe', 'DescribeTargetHealth', async () => {
      if (++n <= 2) throw awsError('ThrottlingException');
      return 'ok';
    });
    await budget.call('elb-describe', 'DescribeTargetGroups', async () => 'ok');
    await budget.call('ec2-describe', 'DescribeInstances', async () => 'ok');
    expect(budget.attempts('elb-describe')).toBe(4);
    expect(budget.attempts('ec2-describe')).toBe(1);
    expect(budget.attempts('elb-register')).toBe(0);
    expect(budget.attempts()).toBe(5);
  });

  it('caps the backoff and bounds the attempts of 5xx errors, rethrowing the last error unchanged', async () => {
    const c = clock();
    const budget = new ApiBudget({
      limits: { 'ec2-describe': { ratePerSecond: 1e6, burst: 1e6 } },
      retry: { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 },
      now: c.now,
      sleep: c.sleep,
      random: () => 0.999999,
    });
    let attempts = 0;
    const err = awsError('InternalError', 500);
    await expect(
      budget.call('ec2-describe', 'DescribeInstances', async () => {
        attempts++;
        throw err;
      }),
    ).rejects.toBe(err);
    expect(attempts).toBe(8);
    const backoffs = c.sleeps.filter((ms) => ms >= 99);
    expect(backoffs).toEqual([99, 199, 399, 799, 1599, 3199, 4999]);
    expect(budget.stats()['ec2-describe']).toMatchObject({ calls: 1, retries: 7, throttled: 0, failed: 1 });
  });

  it('keeps retrying throttling past maxAttempts, with capped backoff, until the invocation has only its reserve left', async () => {
    const c = clock();
    let remaining = 120_000;
    const budget = new ApiBudget({
      limits: { 'ec2-describe': { ratePerSecond: 1e6, burst: 1e6 } },
      retry: { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000, reserveMs: 10_000 },
      now: c.now,
      sleep: async (ms) => {
        await c.sleep(ms);
        remaining -= ms;
      },
      random: () => 0.999999,
      remainingTimeMs: () => remaining,
    });
    let attempts = 0;
    const err = awsError('RequestLimitExceeded', 503);
    await expect(
      budget.call('ec2-describe', 'DescribeInstances', async () => {
        attempts++;
        if (attempts === 20) return 'served';
        throw err;
      }),
    ).resolves.toBe('served');
    expect(attempts).toBe(20);
    // Throttled 19 times (more than maxAttempts 8) and still within the invocation: the backoff stays capped.
    expect(c.sleeps.filter((ms) => ms >= 99).slice(0, 8)).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);

    remaining = 30_000;
    attempts = 0;
    await expect(
      budget.call('ec2-describe', 'DescribeInstances', async () => {
        attempts++;
        throw err;
      }),
    ).rejects.toBe(err);
    // It gave up only when the next backoff would have eaten into the 10 s reserve.
    expect(remaining).toBeGreaterThan(10_000);
    expect(remaining).toBeLessThan(10_000 + 5000);
    expect(attempts).toBeGreaterThan(8);
  });

  it('outside an invocation, retries throttling for throttleRetryMs of the budget clock, then rethrows', async () => {
    const c = clock();
    const budget = new ApiBudget({ retry: { throttleRetryMs: 20_000 }, now: c.now, sleep: c.sleep, random: () => 0.5, remainingTimeMs: () => undefined });
    const started = c.now();
    await expect(budget.call('sqs', 'SendMessage', async () => Promise.reject(awsError('ThrottlingException')))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(c.now() - started).toBeGreaterThan(17_500);
    expect(c.now() - started).toBeLessThan(22_600);
  });

  it('retries 5xx but not client errors, nor DuplicateRequest (the executor waits that one out)', async () => {
    const c = clock();
    const budget = new ApiBudget({ now: c.now, sleep: c.sleep, random: () => 0 });
    let n = 0;
    await expect(
      budget.call('cloudmap-write', 'DeregisterInstance', async () => {
        n++;
        if (n === 1) throw awsError('InternalFailure', 500);
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(n).toBe(2);

    let d = 0;
    await expect(
      budget.call('cloudmap-write', 'DeregisterInstance', async () => {
        d++;
        throw awsError('DuplicateRequest');
      }),
    ).rejects.toMatchObject({ name: 'DuplicateRequest' });
    expect(d).toBe(1);

    let m = 0;
    const notFound = awsError('InstanceNotFound');
    await expect(
      budget.call('cloudmap-write', 'DeregisterInstance', async () => {
        m++;
        throw notFound;
      }),
    ).rejects.toBe(notFound);
    expect(m).toBe(1);
    expect(budget.stats()['cloudmap-write']).toMatchObject({ calls: 3, retries: 1, failed: 2, throttled: 0 });
  });

  it('a throttle empties the bucket so concurrent callers stop spending saved burst, and halves the rate', async () => {
    const c = clock();
    const budget = new ApiBudget({
      limits: { events: { ratePerSecond: 10, burst: 20 } },
      retry: { throttleRetryMs: 0 },
      now: c.now,
      sleep: c.sleep,
      remainingTimeMs: () => undefined,
    });
    await expect(budget.call('events', 'PutEvents', async () => Promise.reject(awsError('ThrottlingException')))).rejects.toThrow();
    await budget.call('events', 'PutEvents', async () => 1);
    // The bucket was emptied and the rate halved (AIMD): the next token comes after 1 / 5 s.
    expect(c.sleeps).toEqual([200]);
  });

  it('does not start a token wait the invocation cannot afford: a named, retryable error instead, the token given back', async () => {
    const c = clock();
    let remaining = 12_000;
    const budget = new ApiBudget({ limits: { 'elb-register': { ratePerSecond: 1, burst: 1 } }, now: c.now, sleep: c.sleep, remainingTimeMs: () => remaining });
    await budget.call('elb-register', 'DeregisterTargets', async () => 1);
    await budget.call('elb-register', 'DeregisterTargets', async () => 1); // waits 1 s: 12 s left, 10 s reserve
    remaining = 10_500; // the next token is 1 s away, the invocation can spend 0.5 s
    const err = await budget.call('elb-register', 'DeregisterTargets', async () => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BudgetDeadlineError);
    expect(err).toMatchObject({ name: 'BudgetDeadlineError', retryable: true, family: 'elb-register' });
    // Given back: with time again, the next call waits one token's worth, not two.
    remaining = 60_000;
    c.sleeps.length = 0;
    await budget.call('elb-register', 'DeregisterTargets', async () => 1);
    expect(c.sleeps).toEqual([1000]);
    expect(budget.stats()['elb-register']).toMatchObject({ calls: 4, failed: 1 });
  });

  it('keeps a quarter of a short invocation as its reserve, not 10 s of it', async () => {
    const c = clock();
    let remaining = 10_000; // a 10 s function (the webhook): reserve 2.5 s
    const budget = new ApiBudget({ now: c.now, sleep: async (ms) => { await c.sleep(ms); remaining -= ms; }, random: () => 0.5, remainingTimeMs: () => remaining, invocationTimeMs: () => 10_000 });
    let attempts = 0;
    await expect(budget.call('dynamodb', 'PutItem', async () => (++attempts < 3 ? Promise.reject(awsError('ThrottlingException')) : 'ok'))).resolves.toBe('ok');
    expect(attempts).toBe(3);
  });

  describe('AIMD', () => {
    const throttledOnce = (budget: ApiBudget, family: 'elb-describe' | 'elb-register') =>
      budget.call(family, 'DescribeTargetHealth', async () => Promise.reject(awsError('Throttling'))).catch(() => undefined);

    it('halves the rate on AWS throttling, once per cooldown however many calls the empty bucket threw back', async () => {
      const c = clock();
      const budget = new ApiBudget({ limits: { 'elb-describe': { ratePerSecond: 8, burst: 8 } }, retry: { throttleRetryMs: 0 }, now: c.now, sleep: c.sleep, remainingTimeMs: () => undefined });
      await Promise.all([1, 2, 3, 4].map(() => throttledOnce(budget, 'elb-describe')));
      expect(budget.stats()['elb-describe']).toMatchObject({ throttled: 4, decreases: 1, rate: 4 });
      c.advance(1000);
      await throttledOnce(budget, 'elb-describe');
      // One second later: +10% of 8/s climbed back (4.8), then halved again.
      expect(budget.stats()['elb-describe'].decreases).toBe(2);
      expect(budget.stats()['elb-describe'].rate).toBeCloseTo(2.4, 5);
    });

    it('climbs back additively, 10% of the configured rate per second, and never above it', async () => {
      const c = clock();
      const budget = new ApiBudget({ limits: { 'elb-register': { ratePerSecond: 4, burst: 4 } }, retry: { throttleRetryMs: 0 }, now: c.now, sleep: c.sleep, remainingTimeMs: () => undefined });
      await throttledOnce(budget, 'elb-register');
      expect(budget.stats()['elb-register'].rate).toBe(2);
      c.advance(2500);
      expect(budget.stats()['elb-register'].rate).toBeCloseTo(3, 5);
      c.advance(2500);
      expect(budget.stats()['elb-register'].rate).toBe(4);
      c.advance(60_000);
      expect(budget.stats()['elb-register'].rate).toBe(4);
    });

    it('paces at the lowered rate, and never below the floor', async () => {
      const c = clock();
      const budget = new ApiBudget({ limits: { 'elb-describe': { ratePerSecond: 10, burst: 1 } }, retry: { throttleRetryMs: 0 }, aimd: { increase: 0 }, now: c.now, sleep: c.sleep, remainingTimeMs: () => undefined });
      for (let i = 0; i < 10; i++) {
        await throttledOnce(budget, 'elb-describe');
        c.advance(1000);
      }
      // 10 halvings of 10/s would be 0.01/s; the floor is 1/20 of the configured rate.
      expect(budget.stats()['elb-describe'].rate).toBe(0.5);
      c.advance(10_000);
      c.sleeps.length = 0;
      await budget.call('elb-describe', 'DescribeTargetHealth', async () => 1);
      await budget.call('elb-describe', 'DescribeTargetHealth', async () => 1);
      expect(c.sleeps).toEqual([2000]);
    });

    it('under a fake account bucket shared with a steady neighbour, a throttled stream settles below the refill and completes', async () => {
      const c = clock();
      // The account: 40 tokens, 10 per second (the ELB guide's example); a neighbour takes 3 per second.
      let tokens = 40;
      let at = 0;
      const account = () => {
        tokens = Math.min(40, tokens + ((c.now() - at) * 10) / 1000);
        at = c.now();
        if (tokens < 1) throw awsError('Throttling');
        tokens -= 1;
      };
      let neighbourThrottled = 0;
      let nextNeighbour = 0;
      const neighbour = () => {
        while (nextNeighbour <= c.now()) {
          try {
            account();
          } catch {
            neighbourThrottled++;
          }
          nextNeighbour += 333;
        }
      };
      const budget = new ApiBudget({
        limits: { 'elb-describe': { ratePerSecond: 40, burst: 80 } }, // today's old default: far above the account's refill
        now: c.now,
        sleep: async (ms) => {
          c.advance(ms);
          neighbour();
        },
        random: () => 0.5,
        remainingTimeMs: () => undefined,
        retry: { throttleRetryMs: 600_000 },
      });
      for (let i = 0; i < 300; i++) {
        neighbour();
        await budget.call('elb-describe', 'DescribeTargetHealth', async () => account());
      }
      const s = budget.stats()['elb-describe'];
      expect(s.failed).toBe(0);
      expect(s.decreases).toBeGreaterThan(0);
      // 300 calls at most 7 per second (the refill less the neighbour's 3) take at least ~38 s of account time.
      expect(c.now()).toBeGreaterThan(35_000);
      // Throttled attempts stay a small fraction of the calls: the rate came down instead of hammering.
      expect(s.throttled).toBeLessThan(60);
      expect(neighbourThrottled).toBeLessThan(40);
    });
  });

  it('rejects nonsense limits and retry settings', () => {
    expect(() => new ApiBudget({ limits: { sqs: { ratePerSecond: 0, burst: 1 } } })).toThrow(RangeError);
    expect(() => new ApiBudget({ retry: { maxAttempts: 0 } })).toThrow(RangeError);
  });
});
