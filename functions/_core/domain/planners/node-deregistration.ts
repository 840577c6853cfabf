/**
 * The node planner: "these nodes are going away; which registrations point at them?". Pure: the observed
 * state and `now` come in, a `Plan` comes out. Used by the spot-interruption trigger (one node or a whole
 * reclaim wave at once) and by its re-registration guard.
 */
import type { NodeAddresses } from '../endpoint.ts';
import { nodeHasIp } from '../endpoint.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../registration.ts';
import { addressLabel, GONE_OR_GOING, instanceAddresses } from '../registration.ts';
import { notOwnedReason } from '../ownership.ts';
import type { HeldBackAction, Plan, PlanAction, TargetGroupCensus } from '../plan.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';

/** Everything the planner needs to know, observed beforehand. */
export interface NodeDeregistrationInput {
  readonly planId: string;
  readonly trigger: string;
  /** Why the nodes are going, per instance id (e.g. "spot interruption warning (terminate)"). */
  readonly reasons: ReadonlyMap<string, string>;
  readonly nodes: readonly NodeAddresses[];
  readonly targetGroups: readonly TargetGroup[];
  readonly targets: readonly TargetRegistration[];
  readonly cloudMap: readonly CloudMapRegistration[];
  /** A Cloud Map instance must carry all of these to be ours (empty = the IP being on our node is enough). */
  readonly ownerAttributes: Readonly<Record<string, string>>;
  readonly now: Date;
}

/** The warning for targets on the nodes that were already draining or unused (not planned again). */
export function alreadyGoingWarning(count: number): PlanWarning {
  return planWarning('already-going', `${count} target(s) on these nodes were already draining or unused: not planned again`, { count });
}

/** Sums the already-going warnings of plans made per target group into one (by code and count); other warnings pass through. */
export function sumAlreadyGoing(warnings: readonly PlanWarning[]): PlanWarning[] {
  let total = 0;
  const rest: PlanWarning[] = [];
  for (const w of warnings) {
    if (w.code === 'already-going') total += w.count ?? 0;
    else rest.push(w);
  }
  return total > 0 ? [...rest, alreadyGoingWarning(total)] : rest;
}

/** Counts registered and healthy registrations per target group and per Cloud Map service (`cm:<id>`). */
export function census(targets: readonly TargetRegistration[], cloudMap: readonly CloudMapRegistration[]): Record<string, TargetGroupCensus> {
  const out: Record<string, { registered: number; healthy: number }> = {};
  for (const t of targets) {
    if (GONE_OR_GOING.has(t.state)) continue;
    const c = (out[t.targetGroupArn] ??= { registered: 0, healthy: 0 });
    c.registered++;
    if (t.state === 'healthy') c.healthy++;
  }
  for (const i of cloudMap) {
    const c = (out[`cm:${i.serviceId}`] ??= { registered: 0, healthy: 0 });
    c.registered++;
    // Cloud Map reports no target health to the control plane; AWS_INIT_HEALTH_STATUS=UNHEALTHY is the only hint.
    if (i.attributes['AWS_INIT_HEALTH_STATUS'] !== 'UNHEALTHY') c.healthy++;
  }
  return out;
}

/** Which node an endpoint id points at, if any. */
function nodeFor(nodes: readonly NodeAddresses[], targetType: TargetGroup['targetType'], id: string): NodeAddresses | undefined {
  if (targetType === 'instance') return nodes.find((n) => n.instanceId === id);
  if (targetType === 'ip') return nodes.find((n) => nodeHasIp(n, id));
  return undefined;
}

/**
 * Which node a Cloud Map instance points at: one of its addresses (IPv4 or IPv6, any spelling) is on the
 * node, or its AWS_EC2_INSTANCE_ID is the node. Returns how, for the plan's reason.
 */
export function nodeOfInstance(nodes: readonly NodeAddresses[], instance: CloudMapRegistration): { node: NodeAddresses; by: string } | undefined {
  const addresses = instanceAddresses(instance);
  const ec2Id = instance.attributes['AWS_EC2_INSTANCE_ID'];
  for (const node of nodes) {
    const a = addresses.find((x) => nodeHasIp(node, x.address));
    if (a) return { node, by: addressLabel(a) };
    if (ec2Id !== undefined && node.instanceId === ec2Id) return { node, by: `instance ${ec2Id}` };
  }
  return undefined;
}

/** Plans the deregistration of every registration that points at the given nodes (before guards). */
export function planNodeDeregistration(input: NodeDeregistrationInput): Plan {
  const types = new Map(input.targetGroups.map((g) => [g.arn, g.targetType]));
  const actions: PlanAction[] = [];
  const heldBack: HeldBackAction[] = [];
  const warnings: PlanWarning[] = [];
  let alreadyGoing = 0;
  for (const target of input.targets) {
    const type = types.get(target.targetGroupArn);
    if (!type) continue;
    const node = nodeFor(input.nodes, type, target.id);
    if (!node) continue;
    if (GONE_OR_GOING.has(target.state)) {
      alreadyGoing++;
      continue;
    }
    const where = type === 'ip' ? `pod IP ${target.id} is on ${node.instanceId}` : `instance target ${target.id}`;
    actions.push({ kind: 'deregister-target', target, why: `${where}: ${input.reasons.get(node.instanceId) ?? 'node going away'}` });
  }
  for (const instance of input.cloudMap) {
    const on = nodeOfInstance(input.nodes, instance);
    if (!on) continue;
    const { node } = on;
    const action: PlanAction = {
      kind: 'deregister-instance',
      instance,
      why: `${on.by} is on ${node.instanceId}: ${input.reasons.get(node.instanceId) ?? 'node going away'}`,
    };
    const notOwned = notOwnedReason(instance, input.ownerAttributes);
    if (notOwned) {
      heldBack.push({ action, guard: 'ownership', reason: notOwned });
      continue;
    }
    actions.push(action);
  }
  if (alreadyGoing > 0) warnings.push(alreadyGoingWarning(alreadyGoing));
  return {
    id: input.planId,
    trigger: input.trigger,
    subject: input.nodes.map((n) => n.instanceId).join(', ') || 'no node',
    createdAt: input.now.toISOString(),
    actions,
    heldBack,
    warnings,
    census: census(input.targets, input.cloudMap),
  };
}

/**
 * The target groups that hold any target pointing at these nodes, whatever its state (planned, held back,
 * or already draining): the ones the re-registration guard must keep watching, because the Load Balancer
 * Controller treats a draining target as absent and registers a still-Ready pod again.
 */
export function targetGroupsPointingAt(
  nodes: readonly NodeAddresses[],
  targetGroups: readonly TargetGroup[],
  targets: readonly TargetRegistration[],
): string[] {
  const types = new Map(targetGroups.map((g) => [g.arn, g.targetType]));
  const out = new Set<string>();
  for (const t of targets) {
    const type = types.get(t.targetGroupArn);
    if (type && nodeFor(nodes, type, t.id)) out.add(t.targetGroupArn);
  }
  return [...out].sort();
}

/** The node an action's registration points at (for mapping failures back to the event that asked). */
export function nodeOfAction(
  nodes: readonly NodeAddresses[],
  targetGroups: readonly TargetGroup[],
  action: PlanAction,
): string | undefined {
  if (action.kind === 'deregister-target') {
    const type = targetGroups.find((g) => g.arn === action.target.targetGroupArn)?.targetType;
    return type ? nodeFor(nodes, type, action.target.id)?.instanceId : undefined;
  }
  if (action.kind === 'deregister-instance') return nodeOfInstance(nodes, action.instance)?.node.instanceId;
  return undefined;
}
