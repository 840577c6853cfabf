/**
 * The traffic health gate: a target group may take more traffic only while it has at least the required
 * number of healthy targets (DescribeTargetHealth `healthy`; `initial`, `unhealthy`, `draining`, `unused`
 * and `unavailable` carry no traffic worth counting). The traffic shift checks it before every step and
 * rolls back when it fails; `quiesce plan` shows it as it stands now, so an operator sees the step that would
 * abort. One rule, so the plan and the shift cannot disagree about a step.
 */
import type { TargetRegistration } from './registration.ts';

/** The gate as it stands: healthy targets now, how many are required, and whether that is enough. */
export interface HealthGate {
  readonly healthy: number;
  readonly required: number;
  readonly passes: boolean;
}

/** How many of the targets are healthy. */
export function healthyCount(targets: readonly Pick<TargetRegistration, 'state'>[]): number {
  return targets.filter((t) => t.state === 'healthy').length;
}

/**
 * The gate for a group's targets against `required` healthy ones.
 *
 * @example
 * healthGate(await elbv2.targetHealth(to, name), 2) // { healthy: 1, required: 2, passes: false }
 */
export function healthGate(targets: readonly Pick<TargetRegistration, 'state'>[], required: number): HealthGate {
  const healthy = healthyCount(targets);
  return { healthy, required, passes: healthy >= required };
}
