/**
 * The pod planner: "this pod is terminating; which registrations point at it?". Pure: the pod, the freshly
 * observed registrations of the groups and services that may hold it, and `now` come in; a `Plan` comes out
 * (before guards: the caller passes it through `guardPlan`).
 *
 * Why it is stricter than the node planner: a pod IP is reused. Minutes after a pod dies its IP can belong
 * to another, healthy pod, and a StatefulSet pod comes back under the same name with a new IP. So an ELB
 * target is matched by IP only (its only identity), and a Cloud Map instance that names a pod
 * (`k8s.io/pod` + `k8s.io/namespace`, as the App Mesh controller writes) must name THIS pod and, when it also
 * carries `AWS_INSTANCE_IPV4`, this pod's IP; a record where the two disagree is held back as evidence of
 * another pod, never deregistered.
 */
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../registration.ts';
import { GONE_OR_GOING, instanceAddresses } from '../registration.ts';
import { addressKey } from '../ip.ts';
import { notOwnedReason } from '../ownership.ts';
import type { HeldBackAction, Plan, PlanAction } from '../plan.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';
import { census } from './node-deregistration.ts';

/** The Cloud Map attributes the App Mesh controller writes to name the pod behind an instance. */
export const POD_ATTRIBUTE = 'k8s.io/pod';
/** See {@link POD_ATTRIBUTE}. */
export const NAMESPACE_ATTRIBUTE = 'k8s.io/namespace';

/** The pod as the planner needs it. */
export interface TerminatingPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** Every pod IP (dual stack: IPv4 and IPv6); ip targets and AWS_INSTANCE_IPV4/IPV6 point at these (compared canonicalised). */
  readonly ips: readonly string[];
  /**
   * spec.hostNetwork. Then the pod IP is its node's, shared with every other host-network pod on the node:
   * only targets on the pod's own declared ports are its, and a Cloud Map record is its only by pod name.
   */
  readonly hostNetwork?: boolean;
  /** The pod's declared container ports (what a host-network pod listens on). */
  readonly ports?: readonly number[];
}

/** Everything the pod planner needs to know, observed beforehand. */
export interface PodDeregistrationInput {
  readonly planId: string;
  readonly trigger: string;
  readonly pod: TerminatingPod;
  /** Why the pod is going, e.g. "pod terminating (deletionTimestamp 2026-11-21T12:00:30Z)". */
  readonly reason: string;
  /** The target groups observed (only `ip` groups can hold a pod IP; others are ignored). */
  readonly targetGroups: readonly TargetGroup[];
  /** Every target of those groups, freshly described (the census of each group comes from them). */
  readonly targets: readonly TargetRegistration[];
  /** Every instance of the Cloud Map services observed, freshly listed. */
  readonly cloudMap: readonly CloudMapRegistration[];
  /** A Cloud Map instance must carry all of these to be ours. */
  readonly ownerAttributes: Readonly<Record<string, string>>;
  readonly now: Date;
}

/** How a Cloud Map instance relates to the pod. */
export type PodInstanceMatch =
  | { readonly match: 'none' }
  | { readonly match: 'pod'; readonly by: string }
  | { readonly match: 'conflict'; readonly reason: string };

/**
 * Whether a Cloud Map instance is this pod's. `pod` when its addresses (AWS_INSTANCE_IPV4 and/or IPV6, any
 * spelling) are pod IPs and/or its pod attributes name this pod, with nothing contradicting; `conflict`
 * when one says yes and something else names someone else (a reused IP, a StatefulSet pod recreated with a
 * new IP, or a dual-stack record one of whose addresses is not this pod's).
 */
export function matchPodInstance(pod: TerminatingPod, instance: CloudMapRegistration): PodInstanceMatch {
  const podIps = new Set(pod.ips.map(addressKey));
  const addresses = instanceAddresses(instance).map((a) => a.address);
  const matching = addresses.filter((a) => podIps.has(addressKey(a)));
  const foreign = addresses.filter((a) => !podIps.has(addressKey(a)));
  const ip = matching[0] ?? foreign[0];
  const podName = instance.attributes[POD_ATTRIBUTE];
  const podNs = instance.attributes[NAMESPACE_ATTRIBUTE];
  const ipMatches = matching.length > 0;
  const named = podName !== undefined && podNs !== undefined;
  const nameMatches = named && podName === pod.name && podNs === pod.namespace;
  if (!ipMatches && !nameMatches) return { match: 'none' };
  if (pod.hostNetwork && ipMatches && !named) {
    return { match: 'conflict', reason: `IP ${ip} is the node's (host-network pod) and the record names no pod: it may be another host-network pod's` };
  }
  if (ipMatches && named && !nameMatches) {
    return { match: 'conflict', reason: `IP ${ip} matches but the record names pod ${podNs}/${podName}: the IP was reused` };
  }
  if (nameMatches && ip !== undefined && !ipMatches) {
    return { match: 'conflict', reason: `the record names this pod but IP ${ip} is not one of its IPs (${pod.ips.join(', ') || 'none'}): a newer incarnation` };
  }
  if (ipMatches && foreign.length > 0) {
    return { match: 'conflict', reason: `IP ${matching[0]} matches but the record's other address ${foreign[0]} is not one of the pod's IPs (${pod.ips.join(', ')}): another pod's record` };
  }
  return { match: 'pod', by: ipMatches && nameMatches ? `IP ${ip} and ${POD_ATTRIBUTE}` : ipMatches ? `IP ${ip}` : `${POD_ATTRIBUTE}=${podNs}/${podName}` };
}

/** Plans the deregistration of every registration that points at the pod (before guards). */
export function planPodDeregistration(input: PodDeregistrationInput): Plan {
  const { pod } = input;
  const subject = `pod ${pod.namespace}/${pod.name}`;
  const ipGroups = new Set(input.targetGroups.filter((g) => g.targetType === 'ip').map((g) => g.arn));
  const ips = new Set(pod.ips.map(addressKey));
  const actions: PlanAction[] = [];
  const heldBack: HeldBackAction[] = [];
  const warnings: PlanWarning[] = [];
  let alreadyGoing = 0;
  for (const target of input.targets) {
    if (!ipGroups.has(target.targetGroupArn) || !ips.has(addressKey(target.id))) continue;
    if (GONE_OR_GOING.has(target.state)) {
      alreadyGoing++;
      continue;
    }
    const action: PlanAction = { kind: 'deregister-target', target, why: `pod IP ${target.id} of ${subject}: ${input.reason}` };
    if (pod.hostNetwork && (target.port === undefined || !(pod.ports ?? []).includes(target.port))) {
      heldBack.push({
        action,
        guard: 'evidence',
        reason: `host-network pod: ${target.id} is the node's IP and port ${target.port ?? '(group port)'} is not one of the pod's ports (${(pod.ports ?? []).join(', ') || 'none declared'})`,
      });
      continue;
    }
    actions.push(action);
  }
  for (const instance of input.cloudMap) {
    const m = matchPodInstance(pod, instance);
    if (m.match === 'none') continue;
    const action: PlanAction = { kind: 'deregister-instance', instance, why: `${m.match === 'pod' ? m.by : 'pod record'} of ${subject}: ${input.reason}` };
    if (m.match === 'conflict') {
      heldBack.push({ action, guard: 'evidence', reason: m.reason });
      continue;
    }
    const notOwned = notOwnedReason(instance, input.ownerAttributes);
    if (notOwned) {
      heldBack.push({ action, guard: 'ownership', reason: notOwned });
      continue;
    }
    actions.push(action);
  }
  if (alreadyGoing > 0) warnings.push(planWarning('already-going', `${alreadyGoing} target(s) of ${subject} were already draining or unused: not planned again`, { count: alreadyGoing }));
  return {
    id: input.planId,
    trigger: input.trigger,
    subject,
    createdAt: input.now.toISOString(),
    actions,
    heldBack,
    warnings,
    census: census(input.targets, input.cloudMap),
  };
}
