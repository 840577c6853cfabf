/**
 * Guards: pure functions that take a plan and hold back what would be unsafe, saying why. Deregistering
 * healthy live targets is an outage, so these are not options a trigger may skip: every planner's output
 * passes through `guardPlan` before the executor sees it, and the executor applies the same per-group rule
 * again under a lease against fresh state and the other writers' commitments (`decideAcrossWriters`).
 */
import type { DeregisterInstanceAction, DeregisterTargetAction, HeldBackAction, Plan, PlanAction, TargetGroupCensus } from './plan.ts';
import { actionKey } from './plan.ts';
import { planWarning, type PlanWarning } from './warnings.ts';

/** Options shared by every trigger's guards. */
export interface GuardOptions {
  /** Never leave a target group / Cloud Map service with fewer healthy registrations than this (>= 1). */
  readonly minHealthy: number;
  /** At most this fraction of a group's registrations in one plan; undefined = no fraction limit. */
  readonly maxFraction: number | undefined;
  /** Why the targets are going, for the loud warning when they must stay (e.g. "spot node i-0abc"). */
  readonly subject: string;
}

/** A deregistration: the only kind of action the per-group guards look at. */
export type GroupAction = DeregisterTargetAction | DeregisterInstanceAction;

/** The group a deregistration belongs to: a target group ARN or a Cloud Map service id (`cm:<id>`). */
export function groupOf(action: GroupAction): string {
  return action.kind === 'deregister-target' ? action.target.targetGroupArn : `cm:${action.instance.serviceId}`;
}

/** "target group web" / "Cloud Map service payments", for reasons and warnings. */
export function groupName(action: GroupAction): string {
  return action.kind === 'deregister-target' ? `target group ${action.target.targetGroupName}` : `Cloud Map service ${action.instance.serviceName}`;
}

/** Whether an action removes a healthy registration (Cloud Map has no target health: every instance counts). */
export function removesHealthy(action: GroupAction): boolean {
  return action.kind === 'deregister-instance' || action.target.state === 'healthy';
}

/** What one group's guard decided. */
export interface GroupGuardDecision {
  readonly kept: GroupAction[];
  readonly heldBack: HeldBackAction[];
  /** The SINGLE POINT OF FAILURE warning, when the min-healthy guard held something back. */
  readonly warning: PlanWarning | undefined;
}

/**
 * The per-group rule every guard applies: unhealthy registrations go first (they carry no traffic worth
 * keeping); a healthy one is held back when removing it would leave fewer than `minHealthy` healthy, and
 * anything beyond `maxFraction` of `census.registered` (minus what was `alreadyTaken` in the same window by
 * any writer) is held back too.
 */
export function guardGroup(actions: readonly GroupAction[], census: TargetGroupCensus, options: GuardOptions, alreadyTaken = 0): GroupGuardDecision {
  const minHealthy = Math.max(1, options.minHealthy);
  const ordered = [...actions].sort((a, b) => Number(removesHealthy(a)) - Number(removesHealthy(b)));
  // At least one per run: otherwise a group whose registrations are all dead would halve forever and keep
  // its last one (floor(1 * 0.5) = 0). The min-healthy guard still protects a last HEALTHY registration.
  const fractionCap = options.maxFraction === undefined ? Infinity : Math.max(1, Math.floor(census.registered * options.maxFraction));
  let healthyLeft = census.healthy;
  let taken = alreadyTaken;
  const kept: GroupAction[] = [];
  const heldBack: HeldBackAction[] = [];
  for (const action of ordered) {
    const healthy = removesHealthy(action);
    if (taken + 1 > fractionCap) {
      const others = alreadyTaken > 0 ? ` (${alreadyTaken} already taken by quiesce within the guard window)` : '';
      heldBack.push({
        action,
        guard: 'max-fraction',
        reason: `${groupName(action)}: at most ${Math.round((options.maxFraction ?? 1) * 100)}% of its ${census.registered} registrations per run${others}`,
      });
      continue;
    }
    if (healthy && healthyLeft - 1 < minHealthy) {
      heldBack.push({
        action,
        guard: 'min-healthy',
        reason: `${groupName(action)} would keep fewer than ${minHealthy} healthy; ${actionKey(action)} stays until ${options.subject} is gone`,
      });
      continue;
    }
    if (healthy) healthyLeft--;
    taken++;
    kept.push(action);
  }
  const held = heldBack.filter((h) => h.guard === 'min-healthy');
  const first = actions[0];
  const warning =
    held.length > 0 && first
      ? planWarning('single-point-of-failure', `SINGLE POINT OF FAILURE: ${groupName(first)} has ${census.healthy} healthy registration(s) and ${held.length} of them are on ${options.subject}; they stay in traffic until it dies.`)
      : undefined;
  return { kept, heldBack, warning };
}

/**
 * Applies the min-healthy and max-fraction guards to every group of a plan, against the census the plan
 * was made with. A group without a census is held back entirely: without one, safety cannot be proven.
 */
export function guardPlan(plan: Plan, options: GuardOptions): Plan {
  const byGroup = new Map<string, GroupAction[]>();
  const kept: PlanAction[] = [];
  for (const action of plan.actions) {
    if (action.kind === 'set-weights') {
      kept.push(action);
      continue;
    }
    const g = groupOf(action);
    byGroup.set(g, [...(byGroup.get(g) ?? []), action]);
  }
  const heldBack: HeldBackAction[] = [...plan.heldBack];
  const warnings: PlanWarning[] = [...plan.warnings];
  for (const [group, actions] of byGroup) {
    const census: TargetGroupCensus | undefined = plan.census[group];
    if (!census) {
      for (const action of actions) {
        heldBack.push({ action, guard: 'never-empty', reason: `no census for ${groupName(action)}: cannot prove it keeps a healthy registration` });
      }
      continue;
    }
    const decision = guardGroup(actions, census, options);
    kept.push(...decision.kept);
    heldBack.push(...decision.heldBack);
    if (decision.warning) warnings.push(decision.warning);
  }
  return { ...plan, actions: kept, heldBack, warnings };
}
