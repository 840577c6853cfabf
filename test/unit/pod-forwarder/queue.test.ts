import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../../functions/pod-forwarder/queue.ts';

describe('BoundedQueue', () => {
  it('is FIFO', () => {
    const q = new BoundedQueue<number>(3);
    q.push(1);
    q.push(2);
    expect(q.shift()).toBe(1);
    q.push(3);
    q.push(4);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([2, 3, 4, undefined]);
  });

  it('drops the OLDEST item when full, counts it and reports it', () => {
    const dropped: number[] = [];
    const q = new BoundedQueue<number>(3, (x) => dropped.push(x));
    for (let i = 1; i <= 7; i += 1) q.push(i);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(4);
    expect(dropped).toEqual([1, 2, 3, 4]);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([5, 6, 7]);
  });

  it('never blocks the producer', () => {
    const q = new BoundedQueue<number>(2);
    const started = Date.now();
    for (let i = 0; i < 100_000; i += 1) q.push(i);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(q.dropped).toBe(99_998);
    expect(q.peek()).toBe(99_998);
  });

  it('waitFor resolves on enough items, on timeout, or on abort', async () => {
    const q = new BoundedQueue<number>(10);
    setTimeout(() => {
      q.push(1);
      q.push(2);
    }, 10);
    await q.waitFor(2, 2000);
    expect(q.size).toBe(2);
    const t0 = Date.now();
    await q.waitFor(5, 50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await q.waitFor(5, undefined, ac.signal);
    expect(q.size).toBe(2);
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
