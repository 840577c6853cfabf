/**
 * What applying a plan did, per action and in sum: the executor's answer, read by every trigger (retries,
 * lifecycle hooks, metrics), the audit record and the operation follower.
 */
import type { PlanAction } from '../domain/plan.ts';

/**
 * What happened to one action. `submitted`: a Cloud Map operation still in flight when the executor stopped
 * following it (handed on); `refused`: a guard held it back at apply time (see `error`).
 */
export type OutcomeStatus = 'deregistered' | 'submitted' | 'already-gone' | 'applied' | 'dry-run' | 'refused' | 'failed';

/** One action's outcome, as logged and published. */
export interface ActionOutcome {
  readonly key: string;
  readonly action: PlanAction;
  readonly status: OutcomeStatus;
  readonly attempts: number;
  /** Cloud Map operation id, for `submitted` (and the deregistrations it became). */
  readonly operationId?: string;
  readonly error?: { readonly name: string; readonly message: string; readonly retryable: boolean };
}

/** The result of applying one plan. */
export interface ApplyResult {
  readonly planId: string;
  readonly dryRun: boolean;
  readonly outcomes: readonly ActionOutcome[];
  readonly counts: Readonly<Record<OutcomeStatus, number>>;
  /** Failed actions another attempt could finish. */
  readonly retryableFailures: number;
  /** Failed actions another attempt would not fix (AccessDenied, ValidationError, a Cloud Map FAIL). */
  readonly permanentFailures: number;
}

/**
 * Whether an action's write went through: sent and done (`deregistered`, `applied`) or, through a
 * recording port, recorded (`dry-run`). What follows a write (verifying the weights, recording the step)
 * follows it in both, so a dry run runs the live path.
 */
export function isWritten(outcome: Pick<ActionOutcome, 'status'>): boolean {
  return outcome.status === 'deregistered' || outcome.status === 'applied' || outcome.status === 'dry-run';
}

/** Counts the outcomes by status and failures by kind. */
export function countOutcomes(outcomes: readonly ActionOutcome[]): Pick<ApplyResult, 'counts' | 'retryableFailures' | 'permanentFailures'> {
  const counts: Record<OutcomeStatus, number> = { deregistered: 0, submitted: 0, 'already-gone': 0, applied: 0, 'dry-run': 0, refused: 0, failed: 0 };
  let retryableFailures = 0;
  let permanentFailures = 0;
  for (const o of outcomes) {
    counts[o.status]++;
    if (o.status === 'failed') {
      if (o.error?.retryable) retryableFailures++;
      else permanentFailures++;
    }
  }
  return { counts, retryableFailures, permanentFailures };
}
