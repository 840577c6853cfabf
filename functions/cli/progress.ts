/**
 * Progress for long observations: a Proxy around a port counts its calls and reports them on stderr, so an
 * operator watching a large account sees the CLI is working (and on what) without the output on stdout, which
 * stays clean for `--json` pipes. On a TTY one line is rewritten; elsewhere a line at most every 2 seconds.
 */

/** Where progress goes. */
export interface ProgressSink {
  readonly write: (text: string) => void;
  readonly isTTY: boolean;
}

/** Counts calls per `port.method` and prints them. `done()` ends the line. */
export class Progress {
  readonly #sink: ProgressSink;
  readonly #counts = new Map<string, number>();
  readonly #intervalMs: number;
  #lastPrint = 0;
  #total = 0;
  #printed = false;

  constructor(sink: ProgressSink, intervalMs = 2000) {
    this.#sink = sink;
    this.#intervalMs = intervalMs;
  }

  /** Total calls seen so far. */
  get total(): number {
    return this.#total;
  }

  /** Records one call and maybe prints. */
  tick(name: string): void {
    this.#total++;
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
    const now = Date.now();
    if (this.#sink.isTTY) {
      if (now - this.#lastPrint < 100) return;
      this.#lastPrint = now;
      this.#sink.write(`\r\x1b[Kobserving: ${this.#total} calls (${name})`);
      this.#printed = true;
    } else if (now - this.#lastPrint >= this.#intervalMs) {
      this.#lastPrint = now;
      this.#sink.write(`observing: ${this.#total} calls (last: ${name})\n`);
      this.#printed = true;
    }
  }

  /** Ends the progress line with a summary of the calls. */
  done(): void {
    if (this.#total === 0) return;
    const summary = [...this.#counts.entries()].map(([k, n]) => `${k}=${n}`).join(' ');
    this.#sink.write(`${this.#sink.isTTY && this.#printed ? '\r\x1b[K' : ''}observed with ${this.#total} calls: ${summary}\n`);
  }

  /** Wraps every function property of `port` so each call ticks (`label.method`). */
  wrap<T extends object>(label: string, port: T): T {
    return new Proxy(port, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          this.tick(`${label}.${prop}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}
