import { describe, expect, it } from 'vitest';
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { BoundedQueue } from '../../../functions/pod-forwarder/queue.ts';
import { ForwarderMetrics } from '../../../functions/pod-forwarder/metrics.ts';
import { memoryLogger } from '../../../functions/pod-forwarder/log.ts';
import {
  entrySize,
  MAX_BATCH_BYTES,
  Publisher,
  takeBatch,
  type PutEventsFn,
  type QueuedEntry,
} from '../../../functions/pod-forwarder/publisher.ts';

function queued(id: number, detailBytes = 20): QueuedEntry {
  const entry: PutEventsRequestEntry = {
    Source: 'quiesce.kubernetes',
    DetailType: 'Pod Terminating',
    Detail: JSON.stringify({ id, pad: 'x'.repeat(Math.max(0, detailBytes - 20)) }),
    EventBusName: 'quiesce',
  };
  return { entry, size: entrySize(entry), enqueuedAt: Date.now() };
}

function queueOf(entries: QueuedEntry[], capacity = 1000): BoundedQueue<QueuedEntry> {
  const q = new BoundedQueue<QueuedEntry>(capacity);
  for (const e of entries) q.push(e);
  return q;
}

const idOf = (e: PutEventsRequestEntry): number => (JSON.parse(e.Detail ?? '{}') as { id: number }).id;

describe('entrySize', () => {
  it('counts Source, DetailType, Detail and Resources in UTF-8 bytes, plus 14 for Time', () => {
    expect(entrySize({ Source: 'ab', DetailType: 'c', Detail: '{"é":1}' })).toBe(2 + 1 + 8);
    expect(entrySize({ Source: 'a', DetailType: 'b', Detail: '{}', Resources: ['rr'], Time: new Date() })).toBe(14 + 1 + 1 + 2 + 2);
  });
});

describe('takeBatch', () => {
  it('takes at most 10 entries, in order', () => {
    const q = queueOf(Array.from({ length: 23 }, (_, i) => queued(i)));
    const sizes = [takeBatch(q).batch.length, takeBatch(q).batch.length, takeBatch(q).batch.length, takeBatch(q).batch.length];
    expect(sizes).toEqual([10, 10, 3, 0]);
  });

  it('keeps a batch under 256 KB and leaves the entry that would overflow for the next batch', () => {
    const q = queueOf([queued(1, 100_000), queued(2, 100_000), queued(3, 100_000)]);
    const first = takeBatch(q);
    expect(first.batch.map((e) => idOf(e.entry))).toEqual([1, 2]);
    expect(first.batch.reduce((n, e) => n + e.size, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(takeBatch(q).batch.map((e) => idOf(e.entry))).toEqual([3]);
  });

  it('sets aside an entry that can never fit instead of blocking the queue', () => {
    const q = queueOf([queued(1), queued(2, 300_000), queued(3)]);
    const { batch, oversize } = takeBatch(q);
    expect(batch.map((e) => idOf(e.entry))).toEqual([1, 3]);
    expect(oversize.map((e) => idOf(e.entry))).toEqual([2]);
  });
});

/** A scripted PutEvents: `fail(call, entry)` returns an error code to fail that entry, or undefined. */
function scripted(fail: (call: number, id: number) => string | undefined) {
  const calls: number[][] = [];
  const fn: PutEventsFn = async (entries) => {
    const call = calls.length;
    calls.push(entries.map(idOf));
    return entries.map((e, i): PutEventsResultEntry => {
      const code = fail(call, idOf(e));
      return code ? { ErrorCode: code, ErrorMessage: 'nope' } : { EventId: `ev-${call}-${i}` };
    });
  };
  return { fn, calls };
}

function publisher(q: BoundedQueue<QueuedEntry>, putEvents: PutEventsFn, extra: Partial<ConstructorParameters<typeof Publisher>[0]> = {}) {
  const metrics = new ForwarderMetrics();
  const p = new Publisher({ queue: q, putEvents, metrics, log: memoryLogger(), batchMaxWaitMs: 5, baseBackoffMs: 1, maxBackoffMs: 5, ...extra });
  return { p, metrics };
}

describe('Publisher', () => {
  it('resends only the failed entries, with backoff, until they are in', async () => {
    const q = queueOf(Array.from({ length: 10 }, (_, i) => queued(i)));
    const { fn, calls } = scripted((call, id) => (call === 0 && id % 3 === 0 ? 'InternalFailure' : call === 1 && id === 3 ? 'ThrottlingException' : undefined));
    const { p, metrics } = publisher(q, fn);
    p.start();
    expect(await p.stop(5000)).toBe(true);
    expect(calls).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 3, 6, 9], [3]]);
    expect(metrics.eventsSent).toBe(10);
    expect(metrics.eventsFailed).toBe(0);
  });

  it('gives up after bounded attempts and counts the entries as failed', async () => {
    const q = queueOf([queued(1), queued(2)]);
    const { fn, calls } = scripted((_call, id) => (id === 2 ? 'InternalFailure' : undefined));
    const { p, metrics } = publisher(q, fn, { maxAttempts: 3 });
    p.start();
    await p.stop(5000);
    expect(calls).toEqual([[1, 2], [2], [2]]);
    expect(metrics.eventsSent).toBe(1);
    expect(metrics.eventsFailed).toBe(1);
  });

  it('does not resend entries rejected with a permanent error', async () => {
    const q = queueOf([queued(1), queued(2)]);
    const { fn, calls } = scripted((_call, id) => (id === 1 ? 'MalformedDetail' : undefined));
    const { p, metrics } = publisher(q, fn);
    p.start();
    await p.stop(5000);
    expect(calls).toEqual([[1, 2]]);
    expect(metrics.eventsFailed).toBe(1);
    expect(metrics.eventsSent).toBe(1);
  });

  it('treats a failed call (after the SDK retries) as one failed attempt for every entry', async () => {
    const q = queueOf([queued(1), queued(2)]);
    let n = 0;
    const fn: PutEventsFn = async (entries) => {
      n += 1;
      if (n === 1) throw new Error('socket hang up');
      return entries.map(() => ({ EventId: 'x' }));
    };
    const { p, metrics } = publisher(q, fn);
    p.start();
    await p.stop(5000);
    expect(n).toBe(2);
    expect(metrics.eventsSent).toBe(2);
  });

  it('sends a partial batch after BATCH_MAX_WAIT_MS, and full batches at once', async () => {
    const q = new BoundedQueue<QueuedEntry>(100);
    const { fn, calls } = scripted(() => undefined);
    const { p } = publisher(q, fn, { batchMaxWaitMs: 50 });
    p.start();
    q.push(queued(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toEqual([[1]]);
    for (let i = 10; i < 20; i += 1) q.push(queued(i));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls[1]).toHaveLength(10);
    await p.stop(1000);
  });

  it('on stop, flushes what is queued without waiting for full batches', async () => {
    const q = queueOf(Array.from({ length: 25 }, (_, i) => queued(i)));
    const { fn, calls } = scripted(() => undefined);
    const { p, metrics } = publisher(q, fn, { batchMaxWaitMs: 60_000 });
    expect(await p.stop(5000)).toBe(true);
    expect(calls.flat()).toHaveLength(25);
    expect(metrics.eventsSent).toBe(25);
  });

  it('on a stop deadline, counts what is left as failed', async () => {
    const q = queueOf(Array.from({ length: 30 }, (_, i) => queued(i)));
    const fn: PutEventsFn = (entries) => new Promise((r) => setTimeout(() => r(entries.map(() => ({ EventId: 'x' }))), 200));
    const { p, metrics } = publisher(q, fn, { concurrency: 1 });
    expect(await p.stop(50)).toBe(false);
    expect(metrics.eventsSent + metrics.eventsFailed).toBe(30);
    expect(metrics.eventsFailed).toBeGreaterThanOrEqual(20);
  });
});
