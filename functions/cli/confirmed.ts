/**
 * "Apply exactly what was confirmed": the CLI shows a plan, the operator says yes, and the account may have
 * moved in between (a pod registered, a target started draining). What is applied must be what was shown:
 *
 * - {@link planDifference} compares the shown plan with a fresh one by action key, so the CLI can show what
 *   changed and ask again instead of applying a plan nobody saw;
 * - {@link applyOnlyConfirmed} wraps the executor of the real run (which observes once more, for its own
 *   current-state checks, audit, lifecycle completion and re-checks) so that an action outside the confirmed
 *   plan is never applied: it is refused with `NotConfirmed` and reported, whatever the second look found.
 */
import type { Plan, PlanAction } from '#core/domain/plan.ts';
import { actionKey } from '#core/domain/plan.ts';
import type { ActionOutcome, ApplyOptions, ApplyResult, Executor } from '#core/executor/executor.ts';

/** Error name of the outcome of an action the operator did not confirm (it appeared after the plan was shown). */
export const NOT_CONFIRMED = 'NotConfirmed';

/** What a fresh plan has that the shown one did not (`added`), and what it no longer has (`gone`). */
export interface PlanDifference {
  readonly added: readonly PlanAction[];
  readonly gone: readonly PlanAction[];
}

/** Compares two plans by action key (what is written where, not why or the state it was seen in). */
export function planDifference(shown: Plan | undefined, fresh: Plan | undefined): PlanDifference {
  const before = new Map((shown?.actions ?? []).map((a) => [actionKey(a), a]));
  const after = new Map((fresh?.actions ?? []).map((a) => [actionKey(a), a]));
  return {
    added: [...after].filter(([k]) => !before.has(k)).map(([, a]) => a),
    gone: [...before].filter(([k]) => !after.has(k)).map(([, a]) => a),
  };
}

/** True when the two plans would write the same things. */
export function samePlan(difference: PlanDifference): boolean {
  return difference.added.length === 0 && difference.gone.length === 0;
}

/** Whether an outcome is the refusal of an action nobody confirmed (not a failure of a confirmed one). */
export function isNotConfirmed(outcome: ActionOutcome): boolean {
  return outcome.status === 'refused' && outcome.error?.name === NOT_CONFIRMED;
}

/**
 * The executor for the run that applies a confirmed plan: every plan it is handed is cut down to the
 * actions of `confirmed` (by key); the others are not applied and come back as `refused` outcomes with
 * error `NotConfirmed`, so the audit record and the output say what was held and why.
 *
 * @example
 * const deps = { ...applyDeps, executor: applyOnlyConfirmed(applyDeps.executor, shownPlan) };
 */
export function applyOnlyConfirmed(executor: Executor, confirmed: Plan): Executor {
  const keys = new Set(confirmed.actions.map(actionKey));
  return {
    ...executor,
    async apply(plan: Plan, options?: ApplyOptions): Promise<ApplyResult> {
      const allowed = plan.actions.filter((a) => keys.has(actionKey(a)));
      const refused: ActionOutcome[] = plan.actions
        .filter((a) => !keys.has(actionKey(a)))
        .map((a) => ({
          key: actionKey(a),
          action: a,
          status: 'refused',
          attempts: 0,
          error: { name: NOT_CONFIRMED, message: 'not in the plan that was shown and confirmed: not applied', retryable: false },
        }));
      const result = await executor.apply({ ...plan, actions: allowed }, options);
      if (refused.length === 0) return result;
      return { ...result, outcomes: [...result.outcomes, ...refused], counts: { ...result.counts, refused: result.counts.refused + refused.length } };
    },
  };
}
