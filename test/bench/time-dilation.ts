/**
 * Dilated time for benchmarks whose subject is pacing: the account's token buckets refill per second, a
 * simulated Load Balancer Controller calls three times a second, quiesce's budget waits for tokens, and a
 * 1,000-group scan at the documented refill takes minutes. Running those minutes in real time would make
 * `npm run bench` take half an hour; running them on a fake clock would lose the concurrency between the
 * controller, quiesce and the fake's latency, which is what the bench measures.
 *
 * So time runs `factor` times faster for everything in the process: `performance.now()` (the budget's and
 * the fake's buckets, the call log) and `setTimeout` / `setInterval` (the budget's waits, backoff, injected
 * latency, the controller's ticks). `Date` is left alone (SigV4 signing); code under test gets its dates from
 * the `now` the bench passes. What dilation distorts: CPU time per call is magnified `factor` times in bench
 * time; both quiesce and its peers pay it, and at `factor` 10 it is a few ms of bench time per call, small
 * next to the 20 ms injected latency and the seconds the buckets impose.
 */

/** Makes time run `factor` times faster until the returned function is called. */
export function dilateTime(factor: number): () => void {
  const perf = globalThis.performance;
  const realNow = perf.now.bind(perf);
  const realSetTimeout = globalThis.setTimeout;
  const realSetInterval = globalThis.setInterval;
  const origin = realNow();
  perf.now = () => origin + (realNow() - origin) * factor;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => realSetTimeout(fn, (ms ?? 0) / factor, ...args)) as typeof setTimeout;
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => realSetInterval(fn, (ms ?? 0) / factor, ...args)) as typeof setInterval;
  return () => {
    // Back to real time (the prototype's now): readings taken before dilation stay comparable.
    delete (perf as { now?: unknown }).now;
    globalThis.setTimeout = realSetTimeout;
    globalThis.setInterval = realSetInterval;
  };
}
