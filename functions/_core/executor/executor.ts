/**
 * The one executor: applies any `Plan` the same way for every trigger.
 *
 *   blast radius vs the plan's census
 *     -> per group, under its lease: fresh state + every writer's commitments -> guards again  (cross-writer.ts)
 *     -> DeregisterTargets (<= 200 per call, as the Load Balancer Controller) | DeregisterInstance
 *        (DuplicateRequest waited out) | ModifyRule, with bounded concurrency
 *     -> Cloud Map operations followed to SUCCESS / FAIL                                       (operations.ts)
 *
 * Every write goes through the write port it is given (ports/writes.ts) and it does not know whether that
 * port sends or records: a dry run applies exactly as a live run does, and only its outcomes say `dry-run`
 * (from the port's mode). It reports every action's outcome: nothing fails silently, and the caller learns
 * what is left undone and whether another attempt could finish it. Rate limits and throttling retries live
 * one level down, in the adapters' `ApiBudget`, so that observation calls and writes share one budget.
 */
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import { awsErrorName, GuardRefusedError, isRetryableAwsError } from '../errors.ts';
import type { DeregisterInstanceAction, DeregisterTargetAction, Plan, PlanAction, SetWeightsAction } from '../domain/plan.ts';
import { actionKey } from '../domain/plan.ts';
import { groupOf, type GroupAction } from '../domain/guards.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';
import type { CloudMapWrites, WriteMode, WritePort } from '../ports/writes.ts';
import { decideUnderLease, type CoordinationOptions, type GroupObservation } from './cross-writer.ts';
import { followOperations } from './operations.ts';
import { countOutcomes, type ActionOutcome, type ApplyResult, type OutcomeStatus } from './outcomes.ts';

export type { ActionOutcome, ApplyResult, OutcomeStatus } from './outcomes.ts';
export { isWritten } from './outcomes.ts';

/** Executor settings; every trigger passes its own. */
export interface ExecutorOptions {
  /** Groups / Cloud Map calls in flight at once. */
  readonly concurrency: number;
  /** The blast-radius check: never below this many healthy per group (>= 1). */
  readonly minHealthy: number;
  /**
   * The guard across writers (leases + ledgers in the state table). Undefined = each invocation guards only
   * against its own census (a single writer, tests, a deployment without STATE_TABLE: warned by the wiring).
   */
  readonly coordination?: CoordinationOptions;
  /** How long to follow Cloud Map operations (ms, default 20 s; bounded per call by `apply`'s deadline). */
  readonly operationWaitMs?: number;
  /** How often to retry a Cloud Map DuplicateRequest (an operation on the same instance is in flight). */
  readonly duplicateRequestAttempts?: number;
  /** Wait before retrying a DuplicateRequest, doubled each time. */
  readonly duplicateRequestBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

/** Per-apply options. */
export interface ApplyOptions {
  /** Epoch ms by which `apply` must return (the invocation's remaining time, minus what follows apply). */
  readonly deadline?: number;
  /** The caller's own reads of the groups, by group key (`groupOf`), so a fresh one is not read twice. */
  readonly observed?: ReadonlyMap<string, GroupObservation>;
  /** Who the plan is about, for guard reasons ("node(s) i-0abc", "pod shop/web-1"). */
  readonly subject?: string;
}

/** What the executor reads (the fresh look at a group under its lease) and the write port it writes through. */
export interface ExecutorPorts {
  readonly elbv2: Pick<Elbv2Port, 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listInstances'>;
  readonly writes: Pick<WritePort, 'mode' | 'elbv2' | 'cloudMap'>;
}

/** The Cloud Map side (reads and writes) of an executor that only ever applies set-weights plans (traffic shift, failover). */
export const NO_CLOUD_MAP: Pick<CloudMapPort, 'listInstances'> & CloudMapWrites = Object.freeze({
  deregisterInstance: () => Promise.reject(new Error('no Cloud Map in weight plans')),
  getOperation: () => Promise.reject(new Error('no Cloud Map in weight plans')),
  recentOperationStatuses: () => Promise.reject(new Error('no Cloud Map in weight plans')),
  listInstances: () => Promise.resolve([]),
});

/** DeregisterTargets batch size: no documented maximum exists; the Load Balancer Controller sends 200. */
export const DEREGISTER_BATCH = 200;

/** The default of {@link ExecutorOptions.operationWaitMs}. */
export const OPERATION_WAIT_MS = 20_000;

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function failure(err: unknown): ActionOutcome['error'] {
  return { name: awsErrorName(err), message: err instanceof Error ? err.message : String(err), retryable: isRetryableAwsError(err) };
}

function outcome(action: PlanAction, status: OutcomeStatus, extra: Partial<ActionOutcome> = {}): ActionOutcome {
  return { key: actionKey(action), action, status, attempts: 0, ...extra };
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
      refused.push(outcome(action, 'refused', { error: failure(new GuardRefusedError(`would leave ${group} below ${minHealthy} healthy`)) }));
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
  const now = options.now ?? (() => new Date());
  const dupAttempts = options.duplicateRequestAttempts ?? 6;
  const dupBackoff = options.duplicateRequestBackoffMs ?? 500;

  async function deregisterTargets(arn: string, actions: readonly DeregisterTargetAction[]): Promise<ActionOutcome[]> {
    const results = await mapWithConcurrency(chunk(actions, DEREGISTER_BATCH), 1, async (batch) => {
      try {
        await ports.writes.elbv2.deregisterTargets(arn, batch.map((a) => ({ id: a.target.id, port: a.target.port })));
        return batch.map((a) => outcome(a, 'deregistered', { attempts: 1 }));
      } catch (err) {
        // The group is gone: so are its targets. Anything else is reported per target.
        const gone = ['TargetGroupNotFoundException', 'TargetGroupNotFound'].includes(awsErrorName(err));
        return batch.map((a) => outcome(a, gone ? 'already-gone' : 'failed', { attempts: 1, ...(gone ? {} : { error: failure(err) }) }));
      }
    });
    return results.flat();
  }

  async function deregisterInstance(action: DeregisterInstanceAction): Promise<ActionOutcome> {
    let attempts = 0;
    let wait = dupBackoff;
    for (;;) {
      attempts++;
      try {
        const r = await ports.writes.cloudMap.deregisterInstance(action.instance.serviceId, action.instance.instanceId);
        return r.status === 'submitted' ? outcome(action, 'submitted', { attempts, operationId: r.operationId }) : outcome(action, 'already-gone', { attempts });
      } catch (err) {
        // DuplicateRequest: another operation on this instance is in flight (ours, from a duplicate
        // delivery, or a controller's). Wait for it, then ask again: the answer is then authoritative.
        if (awsErrorName(err) === 'DuplicateRequest' && attempts < dupAttempts) {
          await sleep(wait);
          wait *= 2;
          continue;
        }
        return outcome(action, 'failed', { attempts, error: failure(err) });
      }
    }
  }

  async function setWeights(action: SetWeightsAction): Promise<ActionOutcome> {
    try {
      await ports.writes.elbv2.modifyRuleActions(action.ruleArn, action.actions);
      return outcome(action, 'applied', { attempts: 1 });
    } catch (err) {
      return outcome(action, 'failed', { attempts: 1, error: failure(err) });
    }
  }

  /** One group: the guard across writers (when configured), then its writes. */
  async function applyGroup(plan: Plan, group: string, actions: GroupAction[], apply: ApplyOptions): Promise<ActionOutcome[]> {
    let write: GroupAction[] = actions;
    const decided: ActionOutcome[] = [];
    if (options.coordination) {
      const observed = apply.observed?.get(group);
      const d = await decideUnderLease(group, actions, {
        ports,
        coordination: options.coordination,
        minHealthy: options.minHealthy,
        subject: apply.subject ?? plan.subject,
        planId: plan.id,
        now,
        sleep,
        ...(observed ? { observed } : {}),
      });
      if (d.failed) return actions.map((a) => outcome(a, 'failed', { error: failure(d.failed) }));
      write = d.write;
      decided.push(...d.heldBack.map((h) => outcome(h.action, 'refused', { error: failure(new GuardRefusedError(h.reason)) })));
      decided.push(...d.alreadyGoing.map((g) => outcome(g.action, 'already-gone')));
    }
    const targets = write.filter((a): a is DeregisterTargetAction => a.kind === 'deregister-target');
    const instances = write.filter((a): a is DeregisterInstanceAction => a.kind === 'deregister-instance');
    const written = [
      ...(targets.length > 0 ? await deregisterTargets(targets[0]!.target.targetGroupArn, targets) : []),
      ...(await mapWithConcurrency(instances, options.concurrency, deregisterInstance)),
    ];
    return [...written, ...decided];
  }

  const recording = ports.writes.mode === 'recording';
  return {
    /** The mode of the write port this executor writes through (results say `dryRun` from it). */
    mode: ports.writes.mode,
    /**
     * Gets the guard across writers ready while the caller still observes (opens the state table's
     * connection); a no-op without coordination. Never throws.
     */
    async prepare(): Promise<void> {
      if (options.coordination) await options.coordination.leases.prepare();
    },
    /** Applies `plan` through the write port. Never throws for an AWS failure: see the result. */
    async apply(plan: Plan, apply: ApplyOptions = {}): Promise<ApplyResult> {
      const started = now();
      const { allowed, refused } = blastRadius(plan, options.minHealthy);
      const groups = new Map<string, GroupAction[]>();
      for (const a of allowed) if (a.kind !== 'set-weights') groups.set(groupOf(a), [...(groups.get(groupOf(a)) ?? []), a]);
      const weights = allowed.filter((a): a is SetWeightsAction => a.kind === 'set-weights');
      const [perGroup, w] = await Promise.all([
        mapWithConcurrency([...groups.entries()], options.concurrency, ([group, actions]) => applyGroup(plan, group, actions, apply)),
        mapWithConcurrency(weights, 1, setWeights),
      ]);
      const until = Math.min(now().getTime() + (options.operationWaitMs ?? OPERATION_WAIT_MS), apply.deadline ?? Infinity);
      const followed = [...(await followOperations(perGroup.flat(), ports.writes.cloudMap, { until, since: started, now: () => now().getTime(), sleep })), ...w];
      // A recorded write is reported as what it is: done in a dry run, not in AWS.
      const outcomes = recording ? followed.map((o) => (WRITTEN.has(o.status) ? { ...o, status: 'dry-run' as const } : o)) : followed;
      outcomes.push(...refused);
      return { planId: plan.id, dryRun: recording, outcomes, ...countOutcomes(outcomes) };
    },
  };
}

/** Outcomes of a write that went through (sent, or recorded by a recording port). */
const WRITTEN: ReadonlySet<OutcomeStatus> = new Set(['deregistered', 'submitted', 'applied']);

/** The executor's type, for dependency injection. */
export type Executor = ReturnType<typeof createExecutor>;

/** The result of applying nothing through a port of `mode` (a part of a decision whose plan had no action). */
export function emptyResult(planId: string, mode: WriteMode): ApplyResult {
  return mergeResults(planId, mode, []);
}

/** Joins the results of applying the parts of one decision through a port of `mode` (see `mergePlans`). */
export function mergeResults(planId: string, mode: WriteMode, parts: readonly ApplyResult[]): ApplyResult {
  const outcomes = parts.flatMap((p) => p.outcomes);
  return { planId, dryRun: mode === 'recording', outcomes, ...countOutcomes(outcomes) };
}
