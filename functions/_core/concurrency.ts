/**
 * Bounded concurrency. Fan-out is how quiesce beats the two-minute warning (500 target groups are 500
 * DescribeTargetHealth calls: sequentially at 20 ms that is 10 s, with 16 in flight it is under 1 s), and the
 * bound is how it stays a good neighbour of the Load Balancer Controller on the account's shared API budget.
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping input order in the result.
 * Rejects with the first error only after every started call has settled, so no call is left running
 * unobserved behind a rejection.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !firstError) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  if (firstError) throw firstError.error;
  return results;
}

/** Splits `items` into chunks of at most `size` (DeregisterTargets batches, PutEvents batches, DescribeTags). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
