/**
 * Guards: pure functions that take a plan and hold back what would be unsafe, saying why. Deregistering
 * healthy live targets is an outage, so these are not options a trigger may skip: every planner's output
 * passes through `guardPlan` before the executor sees it, and the executor re-checks the census itself.
 */
import type { DeregisterInstanceAction, DeregisterTargetAction, HeldBackAction, Plan, PlanAction, TargetGroupCensus } from './plan.ts';
import { actionKey } from './plan.ts';

/** Options shared by every trigger's guards. */
export interface GuardOptions {
  /** Never leave a target group / Cloud Map service with fewer healthy registrations than this (>= 1). */
  readonly minHealthy: number;
  /** At most this fraction of a group's registrations in one plan; undefined = no fraction limit. */
  readonly maxFraction: number | undefined;
  /** Why the targets are going, for the loud warning when they must stay (e.g. "spot node i-0abc"). */
  readonly subject: string;
}

/** The group a deregistration belongs to: a target group ARN or a Cloud Map service id. */
export function groupOf(action: DeregisterTargetAction | DeregisterInstanceAction): string {
  return action.kind === 'deregister-target' ? action.target.targetGroupArn : `cm:${action.instance.serviceId}`;
}

function groupName(action: DeregisterTargetAction | DeregisterInstanceAction): string {
  return action.kind === 'deregister-target' ? `target group ${action.target.targetGroupName}` : `Cloud Map service ${action.instance.serviceName}`;
}

/** Whether an action removes a healthy registration (Cloud Map has no target health: every instance counts). */
function removesHealthy(action: DeregisterTargetAction | DeregisterInstanceAction): boolean {
  return action.kind === 'deregister-instance' || action.target.state === 'healthy';
}

/**
 * Applies the min-healthy and max-fraction guards per group. Within a group, unhealthy registrations are
 * removed first (they carry no traffic worth keeping); healthy ones are held back when removing them would
 * leave fewer than `minHealthy` healthy, or exceed `maxFraction` of the group's registrations.
 */
export function guardPlan(plan: Plan, options: GuardOptions): Plan {
  const minHealthy = Math.max(1, options.minHealthy);
  const byGroup = new Map<string, (DeregisterTargetAction | DeregisterInstanceAction)[]>();
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
  const warnings: string[] = [...plan.warnings];
  for (const [group, actions] of byGroup) {
    const census: TargetGroupCensus | undefined = plan.census[group];
    // Without a census we cannot prove safety: hold everything back rather than guess.
    if (!census) {
      for (const action of actions) {
        heldBack.push({ action, guard: 'never-empty', reason: `no census for ${groupName(action)}: cannot prove it keeps a healthy registration` });
      }
      continue;
    }
    const ordered = [...actions].sort((a, b) => Number(removesHealthy(a)) - Number(removesHealthy(b)));
    // At least one per run: otherwise a group whose registrations are all dead would halve forever and keep
    // its last one (floor(1 * 0.5) = 0). The min-healthy guard still protects a last HEALTHY registration.
    const fractionCap = options.maxFraction === undefined ? Infinity : Math.max(1, Math.floor(census.registered * options.maxFraction));
    let healthyLeft = census.healthy;
    let taken = 0;
    for (const action of ordered) {
      const healthy = removesHealthy(action);
      if (taken + 1 > fractionCap) {
        heldBack.push({
          action,
          guard: 'max-fraction',
          reason: `${groupName(action)}: at most ${Math.round((options.maxFraction ?? 1) * 100)}% of its ${census.registered} registrations per run`,
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
    const held = heldBack.filter((h) => h.guard === 'min-healthy' && h.action.kind !== 'set-weights' && groupOf(h.action) === group);
    if (held.length > 0) {
      warnings.push(
        `SINGLE POINT OF FAILURE: ${groupName(actions[0] as DeregisterTargetAction | DeregisterInstanceAction)} has ${census.healthy} healthy ` +
          `registration(s) and ${held.length} of them are on ${options.subject}; they stay in traffic until it dies.`,
      );
    }
  }
  return { ...plan, actions: kept, heldBack, warnings };
}
