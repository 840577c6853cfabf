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

/** Each running invocation, with its remaining time when it started (its whole time, as near as can be known). */
const active = new Map<RemainingTime, number>();

/** Marks `context` as running (a context without `getRemainingTimeInMillis` is ignored). Returns the leave function. */
export function enterInvocation(context: unknown): () => void {
  const c = context as Partial<RemainingTime> | undefined;
  if (typeof c?.getRemainingTimeInMillis !== 'function') return () => {};
  const entry = c as RemainingTime;
  active.set(entry, entry.getRemainingTimeInMillis());
  return () => {
    active.delete(entry);
  };
}

/** The running invocation's remaining time in ms; undefined outside an invocation (CLI, tests, bench). */
export function invocationRemainingMs(): number | undefined {
  let best: number | undefined;
  for (const c of active.keys()) {
    const ms = c.getRemainingTimeInMillis();
    if (best === undefined || ms > best) best = ms;
  }
  return best;
}

/** The running invocation's whole time in ms (its remaining time when it started); undefined outside one. */
export function invocationTimeMs(): number | undefined {
  let best: number | undefined;
  for (const ms of active.values()) if (best === undefined || ms > best) best = ms;
  return best;
}
