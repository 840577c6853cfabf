/**
 * The bounded queue between the watch and PutEvents. The watch must never wait on AWS (a blocked watch falls
 * behind, gets 410 Gone and re-lists thousands of pods), so when the queue is full the OLDEST entry is
 * dropped and counted: under sustained overload the freshest terminations, whose pods are still alive, are
 * the ones worth deregistering early.
 */

/**
 * A fixed-capacity FIFO ring buffer with drop-oldest on overflow and promise-based waiting for the consumer.
 * O(1) push and shift, no reallocation, so a burst of thousands of deletions costs no GC churn.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  #dropped = 0;
  #waiters: (() => void)[] = [];
  readonly #onDrop: ((item: T) => void) | undefined;

  constructor(capacity: number, onDrop?: (item: T) => void) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
    this.#onDrop = onDrop;
  }

  /** Items waiting. */
  get size(): number {
    return this.#size;
  }

  /** Items dropped for lack of room since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends; when full, first drops (and counts) the oldest item. Never blocks. Returns the dropped item. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#size === this.capacity) {
      dropped = this.shift();
      this.#dropped += 1;
      if (dropped !== undefined) this.#onDrop?.(dropped);
    }
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size += 1;
    this.#wake();
    return dropped;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size -= 1;
    return item;
  }

  /**
   * Resolves once the queue holds at least `min` items, or after `timeoutMs`, or when `signal` aborts,
   * whichever comes first: the publisher's "wait for a batch, but not for long".
   */
  async waitFor(min: number, timeoutMs?: number, signal?: AbortSignal): Promise<void> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    while (this.#size < min && !signal?.aborted) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) return;
      const woke = await new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (v: boolean) => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        };
        const onAbort = () => done(false);
        this.#waiters.push(() => done(true));
        signal?.addEventListener('abort', onAbort, { once: true });
        if (left !== undefined) timer = setTimeout(() => done(false), left);
      });
      if (!woke) return;
    }
  }

  /** Wakes waiters without adding anything (used when flushing must not wait for a full batch). */
  nudge(): void {
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
