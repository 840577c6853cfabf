/**
 * The one executor: applies any `Plan` the same way for every trigger. It batches (DeregisterTargets at most
 * 200 per call, as the Load Balancer Controller does), fans out with bounded concurrency, waits out Cloud
 * Map's DuplicateRequest, re-checks the blast radius against the plan's census as a last line of defence,
 * honours dry run, and reports every action's outcome: nothing fails silently, and the caller learns whether
 * what is left undone is worth a retry (so Lambda / EventBridge / SQS retry the invocation).
 *
 * Rate limits and throttling retries live one level down, in the adapters' `ApiBudget`, so that observation
 * calls and writes share one budget.
 */
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import { awsErrorName, GuardRefusedError, isRetryableAwsError } from '../errors.ts';
import type { DeregisterInstanceAction, DeregisterTargetAction, Plan, PlanAction, SetWeightsAction } from '../domain/plan.ts';
import { actionKey } from '../domain/plan.ts';
import { groupOf } from '../domain/guards.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';

/** What happened to one action. */
export type OutcomeStatus = 'deregistered' | 'submitted' | 'already-gone' | 'applied' | 'dry-run' | 'refused' | 'failed';

/** One action's outcome, as logged and published. */
export interface ActionOutcome {
  readonly key: string;
  readonly action: PlanAction;
  readonly status: OutcomeStatus;
  readonly attempts: number;
  /** Cloud Map operation id, for `submitted`. */
  readonly operationId?: string;
  readonly error?: { readonly name: string; readonly message: string; readonly retryable: boolean };
}

/** The result of applying one plan. */
export interface ApplyResult {
  readonly planId: string;
  readonly dryRun: boolean;
  readonly outcomes: readonly ActionOutcome[];
  readonly counts: Readonly<Record<OutcomeStatus, number>>;
  /** Failed actions another attempt could finish: the invocation must fail so it is retried. */
  readonly retryableFailures: number;
  /** Failed actions another attempt would not fix: reported, not retried. */
  readonly permanentFailures: number;
}

/** Executor settings; every trigger passes its own. */
export interface ExecutorOptions {
  readonly dryRun: boolean;
  /** Batches / Cloud Map calls in flight at once. */
  readonly concurrency: number;
  /** The last-line blast-radius check: never below this many healthy per group (>= 1). */
  readonly minHealthy: number;
  /** How often to retry a Cloud Map DuplicateRequest (an operation on the same instance is in flight). */
  readonly duplicateRequestAttempts?: number;
  /** Wait before retrying a DuplicateRequest, doubled each time. */
  readonly duplicateRequestBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The ports the executor writes through. */
export interface ExecutorPorts {
  readonly elbv2: Pick<Elbv2Port, 'deregisterTargets' | 'modifyRuleActions'>;
  readonly cloudMap: Pick<CloudMapPort, 'deregisterInstance'>;
}

/** DeregisterTargets batch size: no documented maximum exists; the Load Balancer Controller sends 200. */
export const DEREGISTER_BATCH = 200;

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function failure(err: unknown): ActionOutcome['error'] {
  return {
    name: awsErrorName(err),
    message: err instanceof Error ? err.message : String(err),
    retryable: isRetryableAwsError(err),
  };
}

/**
 * Refuses, per group, the healthy removals that would take it below `minHealthy` by the plan's own census.
 * `guardPlan` should already have held them back; this catches a plan that skipped it.
 */
function blastRadius(plan: Plan, minHealthy: number): { allowed: PlanAction[]; refused: ActionOutcome[] } {
  const removed = new Map<string, number>();
  const allowed: PlanAction[] = [];
  const refused: ActionOutcome[] = [];
  for (const action of plan.actions) {
    if (action.kind === 'set-weights') {
      allowed.push(action);
      continue;
    }
    const group = groupOf(action);
    const healthy = action.kind === 'deregister-instance' || action.target.state === 'healthy';
    const census = plan.census[group];
    const after = (removed.get(group) ?? 0) + (healthy ? 1 : 0);
    if (!census || (healthy && census.healthy - after < Math.max(1, minHealthy))) {
      refused.push({
        key: actionKey(action),
        action,
        status: 'refused',
        attempts: 0,
        error: failure(new GuardRefusedError(`would leave ${group} below ${minHealthy} healthy`)),
      });
      continue;
    }
    removed.set(group, after);
    allowed.push(action);
  }
  return { allowed, refused };
}

/** Creates the executor. */
export function createExecutor(ports: ExecutorPorts, options: ExecutorOptions) {
  const sleep = options.sleep ?? sleepReal;
  const dupAttempts = options.duplicateRequestAttempts ?? 6;
  const dupBackoff = options.duplicateRequestBackoffMs ?? 500;

  async function deregisterTargets(actions: DeregisterTargetAction[]): Promise<ActionOutcome[]> {
    const byGroup = new Map<string, DeregisterTargetAction[]>();
    for (const a of actions) byGroup.set(a.target.targetGroupArn, [...(byGroup.get(a.target.targetGroupArn) ?? []), a]);
    const batches = [...byGroup.entries()].flatMap(([arn, list]) => chunk(list, DEREGISTER_BATCH).map((b) => ({ arn, batch: b })));
    const results = await mapWithConcurrency(batches, options.concurrency, async ({ arn, batch }) => {
      try {
        await ports.elbv2.deregisterTargets(arn, batch.map((a) => ({ id: a.target.id, port: a.target.port })));
        return batch.map((a): ActionOutcome => ({ key: actionKey(a), action: a, status: 'deregistered', attempts: 1 }));
      } catch (err) {
        // The group is gone: so are its targets. Anything else is reported per target.
        const status: OutcomeStatus = awsErrorName(err) === 'TargetGroupNotFoundException' || awsErrorName(err) === 'TargetGroupNotFound' ? 'already-gone' : 'failed';
        return batch.map((a): ActionOutcome => ({
          key: actionKey(a),
          action: a,
          status,
          attempts: 1,
          ...(status === 'failed' ? { error: failure(err) } : {}),
        }));
      }
    });
    return results.flat();
  }

  async function deregisterInstance(action: DeregisterInstanceAction): Promise<ActionOutcome> {
    const key = actionKey(action);
    let attempts = 0;
    let wait = dupBackoff;
    for (;;) {
      attempts++;
      try {
        const r = await ports.cloudMap.deregisterInstance(action.instance.serviceId, action.instance.instanceId);
        return r.status === 'submitted'
          ? { key, action, status: 'submitted', attempts, operationId: r.operationId }
          : { key, action, status: 'already-gone', attempts };
      } catch (err) {
        // DuplicateRequest: another operation on this instance is in flight (ours, from a duplicate
        // delivery, or a controller's). Wait for it, then ask again: the answer is then authoritative.
        if (awsErrorName(err) === 'DuplicateRequest' && attempts < dupAttempts) {
          await sleep(wait);
          wait *= 2;
          continue;
        }
        return { key, action, status: 'failed', attempts, error: failure(err) };
      }
    }
  }

  async function setWeights(action: SetWeightsAction): Promise<ActionOutcome> {
    try {
      await ports.elbv2.modifyRuleActions(action.ruleArn, action.actions);
      return { key: actionKey(action), action, status: 'applied', attempts: 1 };
    } catch (err) {
      return { key: actionKey(action), action, status: 'failed', attempts: 1, error: failure(err) };
    }
  }

  return {
    /** Applies `plan` (or, in dry run, reports what it would do). Never throws for an AWS failure: see the result. */
    async apply(plan: Plan): Promise<ApplyResult> {
      const { allowed, refused } = blastRadius(plan, options.minHealthy);
      let outcomes: ActionOutcome[];
      if (options.dryRun) {
        outcomes = allowed.map((a) => ({ key: actionKey(a), action: a, status: 'dry-run', attempts: 0 }));
      } else {
        const targets = allowed.filter((a): a is DeregisterTargetAction => a.kind === 'deregister-target');
        const instances = allowed.filter((a): a is DeregisterInstanceAction => a.kind === 'deregister-instance');
        const weights = allowed.filter((a): a is SetWeightsAction => a.kind === 'set-weights');
        const [t, i, w] = await Promise.all([
          deregisterTargets(targets),
          mapWithConcurrency(instances, options.concurrency, deregisterInstance),
          mapWithConcurrency(weights, 1, setWeights),
        ]);
        outcomes = [...t, ...i, ...w];
      }
      outcomes.push(...refused);
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
      return { planId: plan.id, dryRun: options.dryRun, outcomes, counts, retryableFailures, permanentFailures };
    },
  };
}

/** The executor's type, for dependency injection. */
export type Executor = ReturnType<typeof createExecutor>;

/** The result of applying nothing (a part of a decision whose plan had no action). */
export function emptyResult(planId: string, dryRun: boolean): ApplyResult {
  return mergeResults(planId, dryRun, []);
}

/** Joins the results of applying the parts of one decision (see `mergePlans`). */
export function mergeResults(planId: string, dryRun: boolean, parts: readonly ApplyResult[]): ApplyResult {
  const counts: Record<OutcomeStatus, number> = { deregistered: 0, submitted: 0, 'already-gone': 0, applied: 0, 'dry-run': 0, refused: 0, failed: 0 };
  for (const part of parts) for (const [k, n] of Object.entries(part.counts)) counts[k as OutcomeStatus] += n;
  return {
    planId,
    dryRun,
    outcomes: parts.flatMap((p) => p.outcomes),
    counts,
    retryableFailures: parts.reduce((n, p) => n + p.retryableFailures, 0),
    permanentFailures: parts.reduce((n, p) => n + p.permanentFailures, 0),
  };
}
