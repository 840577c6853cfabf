import { describe, expect, it } from 'vitest';
import { ApiBudget, DEFAULT_LIMITS } from '../../../functions/_core/adapters/aws/budget.ts';

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
  it('has the documented defaults', () => {
    expect(DEFAULT_LIMITS['elb-describe']).toEqual({ ratePerSecond: 40, burst: 80 });
    expect(DEFAULT_LIMITS['elb-register']).toEqual({ ratePerSecond: 4, burst: 10 });
    expect(DEFAULT_LIMITS['elb-modify']).toEqual({ ratePerSecond: 2, burst: 5 });
    expect(DEFAULT_LIMITS['cloudmap-read']).toEqual({ ratePerSecond: 20, burst: 40 });
    expect(DEFAULT_LIMITS['cloudmap-write']).toEqual({ ratePerSecond: 10, burst: 20 });
    expect(DEFAULT_LIMITS['ec2-describe']).toEqual({ ratePerSecond: 20, burst: 40 });
    expect(DEFAULT_LIMITS.events).toEqual({ ratePerSecond: 20, burst: 20 });
    for (const f of ['autoscaling', 'sqs', 'eks'] as const) expect(DEFAULT_LIMITS[f]).toEqual({ ratePerSecond: 10, burst: 10 });
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

  it('caps the backoff and bounds the attempts, rethrowing the last error unchanged', async () => {
    const c = clock();
    const budget = new ApiBudget({
      limits: { 'ec2-describe': { ratePerSecond: 1e6, burst: 1e6 } },
      retry: { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 },
      now: c.now,
      sleep: c.sleep,
      random: () => 0.999999,
    });
    let attempts = 0;
    const err = awsError('RequestLimitExceeded', 503);
    await expect(
      budget.call('ec2-describe', 'DescribeInstances', async () => {
        attempts++;
        throw err;
      }),
    ).rejects.toBe(err);
    expect(attempts).toBe(8);
    const backoffs = c.sleeps.filter((ms) => ms >= 99);
    expect(backoffs).toEqual([99, 199, 399, 799, 1599, 3199, 4999]);
    expect(budget.stats()['ec2-describe']).toMatchObject({ calls: 1, retries: 7, throttled: 8, failed: 1 });
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

  it('a throttle empties the bucket so concurrent callers stop spending saved burst', async () => {
    const c = clock();
    const budget = new ApiBudget({
      limits: { events: { ratePerSecond: 10, burst: 20 } },
      retry: { maxAttempts: 1 },
      now: c.now,
      sleep: c.sleep,
    });
    await expect(budget.call('events', 'PutEvents', async () => Promise.reject(awsError('ThrottlingException')))).rejects.toThrow();
    await budget.call('events', 'PutEvents', async () => 1);
    expect(c.sleeps).toEqual([100]);
  });

  it('rejects nonsense limits and retry settings', () => {
    expect(() => new ApiBudget({ limits: { sqs: { ratePerSecond: 0, burst: 1 } } })).toThrow(RangeError);
    expect(() => new ApiBudget({ retry: { maxAttempts: 0 } })).toThrow(RangeError);
  });
});
