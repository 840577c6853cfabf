/**
 * An API budget clock that skips its waits (see `BudgetClock` in functions/_core/adapters/aws/budget.ts):
 * real time plus every wait it was asked for, so the budget still reserves, queues and refills as it does
 * in a function, but a bucket the test's account emptied costs no wall time. For tests whose subject is not
 * the rate: the doctor's IAM simulations (5/s) and a dry run's deregistrations (1.6/s at the default ELB
 * share) waited 10 s and 5 s of real time in them. The rate itself is tested where it is the subject
 * (test/unit/adapters/budget.test.ts, the account bench), on real or injected time.
 */
import type { BudgetClock } from '#core/adapters/aws/index.ts';

/** A fresh clock: `now()` is `performance.now()` plus the sum of the waits asked of `sleep` so far. */
export function skippingBudgetClock(): BudgetClock {
  let skipped = 0;
  return {
    now: () => performance.now() + skipped,
    sleep: async (ms) => {
      skipped += ms;
    },
  };
}
