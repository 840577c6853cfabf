/**
 * The Lambda invocation in progress, as far as its remaining time goes. Why a module and not a parameter:
 * the one place that must know the time left (the API budget deciding whether a throttled call may still be
 * retried) sits under every adapter, many calls below the handler; threading a deadline through every port
 * would change every signature for one number. A Lambda container runs one invocation at a time, so the
 * invocation entered by the handler's first middleware (`logLambdaContext`) is the one every call belongs
 * to. Tests that run handlers side by side in one process get the most generous of them.
 */

/** What is read of a Lambda context: the SDK's own `getRemainingTimeInMillis`. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

const active = new Set<RemainingTime>();

/** Marks `context` as running (a context without `getRemainingTimeInMillis` is ignored). Returns the leave function. */
export function enterInvocation(context: unknown): () => void {
  const c = context as Partial<RemainingTime> | undefined;
  if (typeof c?.getRemainingTimeInMillis !== 'function') return () => {};
  const entry = c as RemainingTime;
  active.add(entry);
  return () => {
    active.delete(entry);
  };
}

/** The running invocation's remaining time in ms; undefined outside an invocation (CLI, tests, bench). */
export function invocationRemainingMs(): number | undefined {
  let best: number | undefined;
  for (const c of active) {
    const ms = c.getRemainingTimeInMillis();
    if (best === undefined || ms > best) best = ms;
  }
  return best;
}
