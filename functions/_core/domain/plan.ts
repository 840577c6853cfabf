/**
 * Plans: the explicit, serialisable answer to "what would quiesce do?". Every trigger produces one from an
 * event plus observed state by pure code; one executor applies any plan. A plan is logged and published as
 * an audit event before and after it is applied, so an operator can always see what was intended, what was
 * held back by a guard and why, and what actually happened.
 */
import type { CloudMapRegistration, TargetRegistration } from './registration.ts';
import { addressKey, withPort } from './ip.ts';
import { uniqueWarnings, type PlanWarning } from './warnings.ts';

/** Take one target out of one target group. */
export interface DeregisterTargetAction {
  readonly kind: 'deregister-target';
  readonly target: TargetRegistration;
  readonly why: string;
  /**
   * The removal rests on the target NOT answering (the sweeper's verdict on a target it read unhealthy,
   * initial or unused: a free address, a stopped instance). If the group, read again under its lease right
   * before the write, shows the target healthy (or newly registered), something answers on it now (the
   * address went to a new pod, the instance started again): the verdict no longer holds and nothing is
   * written. Unset for a dying node's or pod's targets, which go whatever their health.
   */
  readonly unlessAnswering?: true;
}

/** Take one Cloud Map instance out of its service. */
export interface DeregisterInstanceAction {
  readonly kind: 'deregister-instance';
  readonly instance: CloudMapRegistration;
  readonly why: string;
}

/** One target group inside a weighted forward action, with the weight to set. */
export interface WeightedTargetGroup {
  readonly targetGroupArn: string;
  readonly weight: number;
}

/**
 * Replace the weights of the forward action of a listener rule. `actions` is the rule's *whole* action
 * list as it must be written (ModifyRule replaces all actions), with the new weights already in place.
 */
export interface SetWeightsAction {
  readonly kind: 'set-weights';
  readonly ruleArn: string;
  readonly listenerArn?: string;
  readonly weights: readonly WeightedTargetGroup[];
  /** The weights before the change: what a rollback or a restore writes back. */
  readonly previous: readonly WeightedTargetGroup[];
  /** The complete Actions list to send to ModifyRule, in the SDK's shape. */
  readonly actions: readonly unknown[];
  readonly why: string;
}

export type PlanAction = DeregisterTargetAction | DeregisterInstanceAction | SetWeightsAction;

/** An action a guard refused to plan, and the guard's reason. */
export interface HeldBackAction {
  readonly action: PlanAction;
  readonly guard: 'min-healthy' | 'max-fraction' | 'ownership' | 'grace-period' | 'evidence' | 'never-empty';
  readonly reason: string;
}

/** Per target group counts observed when the plan was made; guards and the executor check against them. */
export interface TargetGroupCensus {
  readonly registered: number;
  readonly healthy: number;
}

/** The plan one trigger invocation produced. */
export interface Plan {
  readonly id: string;
  readonly trigger: string;
  /** What the plan is about, for humans: an instance id, a pod, a rule. */
  readonly subject: string;
  readonly createdAt: string;
  readonly actions: readonly PlanAction[];
  readonly heldBack: readonly HeldBackAction[];
  /** Things an operator must read: single points of failure, skipped scopes, ignored inputs. */
  readonly warnings: readonly PlanWarning[];
  readonly census: Readonly<Record<string, TargetGroupCensus>>;
  /** How the registrations were found (spot: cluster-derived candidates or the full scan, and what was missed). */
  readonly candidates?: CandidateAudit;
}

/**
 * How a node plan found its target groups, in the audit record: operators read whether the cluster-derived
 * fast path was used, why it was not, and whether a completeness scan found something it missed.
 */
export interface CandidateAudit {
  /**
   * `cluster`: only the groups the cluster names (plus unbound ones); `full-scan`: every group in scope;
   * `index`: the cluster could not answer, the registration index's named groups first, then what it could
   * not vouch for.
   */
  readonly source: 'cluster' | 'full-scan' | 'index' | 'completeness-scan' | 'targeted';
  /** Why the full scan was used (cluster API unreachable, fast path off, ...). */
  readonly reason?: string;
  /**
   * The fast path was wanted but the cluster did not answer (in time, or at all): a fallback to the full
   * scan, as opposed to a full scan by choice (the fast path off, a lifecycle hook, a node past running).
   */
  readonly fallback?: boolean;
  readonly groupsInScope: number;
  readonly groupsDescribed: number;
  /** Registrations of the nodes a completeness scan found in groups the fast path did not describe. */
  readonly missed?: readonly string[];
  /** `cache` when the groups in scope came from the cached scope (their tags read again before writes). */
  readonly scope?: 'cache';
  /** Groups the registration index vouched for: looked at without a call. */
  readonly vouched?: number;
  /** Groups skipped because an earlier invocation already looked at them for these nodes. */
  readonly alreadyLooked?: number;
}

/**
 * A short stable identifier for an action, used in logs, audit events and outcome lists. An IPv6 target is
 * written canonical and bracketed (RFC 5952 section 6: `[2001:db8::1]:8080`), so one target has one key.
 */
export function actionKey(action: PlanAction): string {
  switch (action.kind) {
    case 'deregister-target':
      return `target ${action.target.targetGroupName} ${withPort(addressKey(action.target.id), action.target.port ?? '-')}`;
    case 'deregister-instance':
      return `cloudmap ${action.instance.serviceName} ${action.instance.instanceId}`;
    case 'set-weights':
      return `weights ${action.ruleArn}`;
  }
}

/** Counts of planned actions by kind: for logs, metrics and the demo's summary line. */
export function planSummary(plan: Plan): { targets: number; instances: number; weights: number; heldBack: number } {
  let targets = 0;
  let instances = 0;
  let weights = 0;
  for (const a of plan.actions) {
    if (a.kind === 'deregister-target') targets++;
    else if (a.kind === 'deregister-instance') instances++;
    else weights++;
  }
  return { targets, instances, weights, heldBack: plan.heldBack.length };
}

/**
 * Joins plans made for disjoint parts of one decision (e.g. one per target group, planned and applied as
 * each group's health arrives) into the one plan that is logged and audited. Parts share `id`, trigger and
 * time; census keys are disjoint; identical warnings are kept once.
 */
export function mergePlans(base: Pick<Plan, 'id' | 'trigger' | 'subject' | 'createdAt'>, parts: readonly Plan[], warnings: readonly PlanWarning[] = []): Plan {
  return {
    ...base,
    actions: parts.flatMap((p) => p.actions),
    heldBack: parts.flatMap((p) => p.heldBack),
    warnings: uniqueWarnings([...warnings, ...parts.flatMap((p) => p.warnings)]),
    census: Object.assign({}, ...parts.map((p) => p.census)) as Plan['census'],
  };
}
