/**
 * Drains the queue into EventBridge PutEvents: batches of at most 10 entries and under 256 KB (the API's
 * limits), resending only the entries that failed (PutEvents succeeds partially: FailedEntryCount plus a
 * per-entry ErrorCode), with exponential backoff and a bounded number of attempts, after which an entry is
 * counted as failed. kubernetes-event-exporter never resends failed entries; this is the part that makes the
 * forwarder worth having.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { BoundedQueue } from './queue.ts';
import type { ForwarderMetrics } from './metrics.ts';
import { errorMessage, type Logger } from './log.ts';

/** PutEvents limits: 10 entries per call, total size under 256 KB. */
export const MAX_BATCH_ENTRIES = 10;
/** The size limit is "less than 256 KB", so the largest allowed total is one byte under it. */
export const MAX_BATCH_BYTES = 256 * 1024 - 1;

/** One event waiting in the queue, with its PutEvents size computed once at enqueue time. */
export interface QueuedEntry {
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
  readonly enqueuedAt: number;
}

/** The one call the publisher needs; a function so unit tests need no SDK and the bench can time it. */
export type PutEventsFn = (entries: PutEventsRequestEntry[]) => Promise<PutEventsResultEntry[]>;

/** Adapts an SDK client to PutEventsFn. Credentials and endpoint (AWS_ENDPOINT_URL) come from the SDK's defaults. */
export function putEventsVia(client: EventBridgeClient): PutEventsFn {
  return async (entries) => (await client.send(new PutEventsCommand({ Entries: entries }))).Entries ?? [];
}

const utf8 = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/**
 * The size EventBridge charges an entry against the 256 KB limit, per "Calculating PutEvents event entry
 * size": 14 bytes for Time if set, plus the UTF-8 bytes of Source, DetailType, Detail and each Resource.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  size += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  for (const r of entry.Resources ?? []) size += utf8(r);
  return size;
}

/** A batch taken off the queue, plus entries that can never fit in any PutEvents call. */
export interface TakenBatch {
  readonly batch: QueuedEntry[];
  readonly oversize: QueuedEntry[];
}

/**
 * Takes the next batch from the head of the queue: up to `maxEntries` entries whose sizes sum to at most
 * `maxBytes`, preserving order. An entry that alone exceeds `maxBytes` is returned as `oversize` (it would
 * fail every call and block the queue forever).
 */
export function takeBatch(
  queue: Pick<BoundedQueue<QueuedEntry>, 'peek' | 'shift'>,
  maxEntries = MAX_BATCH_ENTRIES,
  maxBytes = MAX_BATCH_BYTES,
): TakenBatch {
  const batch: QueuedEntry[] = [];
  const oversize: QueuedEntry[] = [];
  let bytes = 0;
  for (let next = queue.peek(); next !== undefined && batch.length < maxEntries; next = queue.peek()) {
    if (next.size > maxBytes) {
      queue.shift();
      oversize.push(next);
      continue;
    }
    if (bytes + next.size > maxBytes) break;
    queue.shift();
    batch.push(next);
    bytes += next.size;
  }
  return { batch, oversize };
}

/** Per-entry error codes that no resend can fix: counted as failed at once. Everything else is retried. */
const PERMANENT_ENTRY_ERRORS = new Set(['MalformedDetail', 'InvalidArgument', 'ValidationException', 'NotAuthorizedForSourceException']);

/** Tuning of the publisher; defaults suit a cluster, tests shrink the delays. */
export interface PublisherOptions {
  readonly queue: BoundedQueue<QueuedEntry>;
  readonly putEvents: PutEventsFn;
  readonly metrics: ForwarderMetrics;
  readonly log: Logger;
  /** How long a partial batch may wait for more entries before it is sent (BATCH_MAX_WAIT_MS). */
  readonly batchMaxWaitMs: number;
  /** Attempts per entry, first one included (default 6). */
  readonly maxAttempts?: number;
  /** First resend delay; doubles per attempt with full jitter (default 200 ms, capped at maxBackoffMs). */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** PutEvents calls in flight at once (default 4): a burst of 1,000 deletions should not queue behind RTTs. */
  readonly concurrency?: number;
  /** Called with how long each entry waited from enqueue to acceptance (bench: watch -> PutEvents latency). */
  readonly onSent?: (latenciesMs: readonly number[]) => void;
  /** The clock of the publish health (epoch ms); default Date.now. Latencies are always real time. */
  readonly now?: () => number;
}

/**
 * The queue consumer. `start()` runs until `stop()`; `stop(deadline)` stops waiting for full batches,
 * drains what is queued and in flight until the deadline, then counts whatever is left as failed.
 */
export class Publisher {
  readonly #o: Required<Omit<PublisherOptions, 'onSent'>> & Pick<PublisherOptions, 'onSent'>;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  readonly #giveUp = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;
  /** When PutEvents last accepted an entry (epoch ms); undefined before the first. */
  #lastSuccessAt: number | undefined;
  /** When the current run of failures began (no entry accepted since); undefined while publishing works. */
  #failingSince: number | undefined;

  constructor(options: PublisherOptions) {
    this.#o = { maxAttempts: 6, baseBackoffMs: 200, maxBackoffMs: 10_000, concurrency: 4, now: Date.now, ...options };
    this.#now = this.#o.now;
  }

  /** When PutEvents last accepted an entry (epoch ms), if ever. */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt;
  }

  /**
   * How long publishing has been failing at `now` (ms): since the first failed attempt (a call that threw, or
   * an entry PutEvents refused) after the last accepted entry; 0 while it works. It stays failing until an
   * entry is accepted again, even when the failed entries were given up on: only a publish proves it works.
   */
  failingForMs(now: number): number {
    return this.#failingSince === undefined ? 0 : Math.max(0, now - this.#failingSince);
  }

  /** Starts the consumer loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Flushes and stops: resolves true when everything queued was sent or given up on before the deadline,
   * false when the deadline cut the flush short (remaining entries are counted in quiesce_forwarder_events_failed_total).
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.start();
    this.#stopping.abort();
    this.#o.queue.nudge();
    let timer: NodeJS.Timeout | undefined;
    const drained = this.#loop!.then(() => Promise.all(this.#inFlight)).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const ok = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!ok) {
      this.#giveUp.abort();
      await Promise.all(this.#inFlight);
      let left = 0;
      while (this.#o.queue.shift() !== undefined) left += 1;
      this.#o.metrics.eventsFailed += left;
      if (left > 0) this.#o.log.error('shutdown deadline reached; unsent events counted as failed', { count: left });
    }
    return ok;
  }

  async #run(): Promise<void> {
    const { queue } = this.#o;
    const stopping = this.#stopping.signal;
    for (;;) {
      if (queue.size === 0) {
        if (stopping.aborted || this.#giveUp.signal.aborted) return;
        await queue.waitFor(1, undefined, stopping);
        continue;
      }
      if (!stopping.aborted && queue.size < MAX_BATCH_ENTRIES) await queue.waitFor(MAX_BATCH_ENTRIES, this.#o.batchMaxWaitMs, stopping);
      while (this.#inFlight.size >= this.#o.concurrency) await Promise.race(this.#inFlight);
      if (this.#giveUp.signal.aborted) return;
      const { batch, oversize } = takeBatch(queue);
      if (oversize.length > 0) {
        this.#o.metrics.eventsFailed += oversize.length;
        this.#o.log.error('event larger than the PutEvents limit dropped', { count: oversize.length, sizes: oversize.map((e) => e.size) });
      }
      if (batch.length === 0) continue;
      const p = this.#send(batch).finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    }
  }

  /** Sends one batch, resending only failed entries, until all are in, permanently failed, or out of attempts. */
  async #send(batch: QueuedEntry[]): Promise<void> {
    const { metrics, log } = this.#o;
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      let retry: QueuedEntry[] = [];
      let lastError = '';
      try {
        const results = await this.#o.putEvents(pending.map((e) => e.entry));
        const sentAt = Date.now();
        const latencies: number[] = [];
        let refused = false;
        pending.forEach((e, i) => {
          const r = results[i];
          if (r !== undefined && r.ErrorCode === undefined && r.EventId !== undefined) {
            metrics.eventsSent += 1;
            latencies.push(sentAt - e.enqueuedAt);
          } else if (r?.ErrorCode !== undefined && PERMANENT_ENTRY_ERRORS.has(r.ErrorCode)) {
            metrics.eventsFailed += 1;
            refused = true;
            log.error('PutEvents rejected an entry permanently', { errorCode: r.ErrorCode, errorMessage: r.ErrorMessage });
          } else {
            retry.push(e);
            refused = true;
            lastError = r?.ErrorCode ?? 'MissingResultEntry';
          }
        });
        if (latencies.length > 0) {
          this.#lastSuccessAt = this.#now();
          this.#failingSince = undefined;
          metrics.lastPublishSeconds = Math.floor(this.#lastSuccessAt / 1000);
          this.#o.onSent?.(latencies);
        } else if (refused) this.#failingSince ??= this.#now();
      } catch (err) {
        // The SDK already retried throttling and transient network errors; count this as one attempt for all.
        retry = pending;
        lastError = errorMessage(err);
        this.#failingSince ??= this.#now();
      }
      pending = retry;
      if (pending.length === 0) return;
      if (attempt >= this.#o.maxAttempts || this.#giveUp.signal.aborted) {
        metrics.eventsFailed += pending.length;
        log.error('PutEvents entries failed after bounded attempts', { count: pending.length, attempts: attempt, lastError });
        return;
      }
      const ceiling = Math.min(this.#o.maxBackoffMs, this.#o.baseBackoffMs * 2 ** (attempt - 1));
      log.warn('resending failed PutEvents entries', { count: pending.length, attempt, lastError });
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2), this.#giveUp.signal);
    }
  }
}

/** A sleep that ends early when `signal` aborts (shutdown must not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
