/**
 * The sweep planner: "which registrations of THIS cluster point at nothing alive?". Pure: registrations,
 * the cluster's pods, the VPC's ENIs, instance states and `now` come in; a `Plan` comes out, with every
 * registration it chose not to remove held back or reported with a reason.
 *
 * Why so careful: the sweeper removes what its own cluster does not run. During a blue/green migration two
 * clusters share a Cloud Map namespace and sometimes a target group; a sweeper that treats "not in my pod
 * list" as "dead" takes the other cluster down (the App Mesh controller matching only mesh + virtual node is
 * exactly that bug). So: ownership first (MCS-controller style scoping), then two independent truths (the
 * pod list and the VPC's ENIs), and the weaker truth alone never removes a healthy registration.
 */
import type { ClusterPod } from '../cluster-pods.ts';
import { unverifiableAddress } from '../eni-index.ts';
import { isAliveInstanceState } from '../instance-state.ts';
import { addressKey } from '../ip.ts';
import { clustersOfNode } from '../node-cluster.ts';
import { eniOwner, ownsCloudMapInstance } from '../ownership.ts';
import { nodeInstanceOf } from '../endpoint.ts';
import type { HeldBackAction, Plan, PlanAction } from '../plan.ts';
import type { CloudMapRegistration } from '../registration.ts';
import { instanceAddresses } from '../registration.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';
import { census } from './node-deregistration.ts';
import { doubtPodList, type PodListDoubt } from './pod-list-doubt.ts';
import { judgedTargets, type SweepObservation } from './sweep-observation.ts';

/** Cloud Map attributes the App Mesh controller sets: the pod the record was made for. */
export const POD_NAME_ATTRIBUTE = 'k8s.io/pod';
export const POD_NAMESPACE_ATTRIBUTE = 'k8s.io/namespace';

/** Everything the planner needs: what the sweep observed (registrations first, truths after), and the run's settings. */
export interface SweepInput extends SweepObservation {
  readonly planId: string;
  readonly now: Date;
  /** Pods younger than this are never the reason for a removal (their controllers are still catching up). */
  readonly graceSeconds: number;
}

/** What the sweep planned, plus what it counted but did not plan (for logs, metrics and the run result). */
export interface SweepPlan {
  readonly plan: Plan;
  /** Registrations found stale (planned or then held back by a guard). */
  readonly stale: number;
  /**
   * Registrations whose address the VPC still has but no pod of ours holds, reported, not removed: healthy
   * ones on our ENIs, and any on an ENI no evidence makes ours ({@link eniOwner} `unknown`).
   */
  readonly reported: number;
  /** Registrations not judged because the evidence they needed was missing (pod list, VPC scan). */
  readonly unverified: number;
  /** Cloud Map instances skipped as another owner's. */
  readonly notOwnedInstances: number;
  /** Registrations of owned groups / records whose address is on another cluster's ENI or node: held, reported. */
  readonly otherClusters: number;
  /** Why the pod list was not used as evidence ({@link doubtPodList}); undefined when it was. */
  readonly podListDoubt: PodListDoubt | undefined;
}

/** Registrations the ENI index could be asked about, for the workflow's instance lookup. */
export function instanceIdsToLookUp(input: Pick<SweepInput, 'targetGroups' | 'targets' | 'cloudMap' | 'ownerAttributes' | 'pods' | 'enis'>): string[] {
  const out = new Set<string>();
  const eniInstance = (ip: string | undefined): void => {
    // Without a pod list no on-ENI address is judged, so there is nothing to attribute.
    if (ip === undefined || !input.pods || input.pods.has(addressKey(ip))) return;
    const eni = input.enis.eniOf(ip);
    // Also behind ENIs the CNI tagged: the tag says whose, but only the instance says whether it runs,
    // which `doubtPodList` needs to tell "no pod holds it" from "the pod list is missing pods". A branch
    // ENI is attached to nothing: its node is the instance its tag names.
    const node = eni ? nodeInstanceOf(eni) : undefined;
    if (node) out.add(node);
  };
  for (const { target, group } of judgedTargets(input)) {
    if (group.targetType === 'instance') out.add(target.id);
    else if (group.targetType === 'ip') eniInstance(target.id);
  }
  for (const i of input.cloudMap) if (ownsCloudMapInstance(i, input.ownerAttributes)) for (const a of instanceAddresses(i)) eniInstance(a.address);
  return [...out].sort();
}

/** The planner's verdict on one registration (or, for a Cloud Map record, on one of its addresses). */
type Verdict =
  | { readonly kind: 'alive' }
  /**
   * Live pods of ours hold the address: alive for a target; a Cloud Map record is alive only when one of them
   * is the pod it names, else the IP was reused ({@link judgeIpReuse}).
   */
  | { readonly kind: 'held-by-pods'; readonly holders: readonly ClusterPod[] }
  | { readonly kind: 'unverified' }
  | { readonly kind: 'stale'; readonly why: string }
  | { readonly kind: 'hold'; readonly guard: HeldBackAction['guard']; readonly reason: string; readonly report?: 'healthy' | 'unattributed' | 'other' };

/** How cautious a verdict is: of a dual-stack record's addresses, the most cautious verdict decides. */
const CAUTION: Readonly<Record<Verdict['kind'], number>> = { 'held-by-pods': 0, alive: 1, hold: 2, unverified: 3, stale: 4 };

/**
 * Plans the removal of this cluster's stale registrations (before `guardPlan`). A pod list that
 * {@link doubtPodList} does not believe is set aside first: the plan then rests on the VPC and EC2 truths only.
 */
export function planSweep(given: SweepInput): SweepPlan {
  const podListDoubt = doubtPodList(given);
  const input: SweepInput = podListDoubt === undefined ? given : { ...given, pods: undefined };
  const actions: PlanAction[] = [];
  const heldBack: HeldBackAction[] = [];
  const warnings: PlanWarning[] = [];
  let stale = 0;
  let unverified = 0;
  let notOwnedInstances = 0;
  const graceMs = input.graceSeconds * 1000;

  let ownedHealthy = 0;
  let unattributed = 0;
  let otherClusters = 0;

  /**
   * The shared part of the verdict for an IP: VPC truth first, then the pod list, then whose the ENI is.
   * Only an address with positive evidence of being this cluster's (a live pod of ours, an ENI of our node,
   * a branch ENI tagged for us) is ever judged stale on pod-list evidence.
   */
  const judgeIp = (ip: string, vpcId: string | undefined, healthy: boolean, what: string): Verdict => {
    if (!input.enis.covers(vpcId)) {
      // Without the VPC's ENIs the pod list would be the only evidence: not enough to remove anything.
      return { kind: 'unverified' };
    }
    // An address kind no ENI lists cannot be "gone" from the ENIs: unverified.
    if (unverifiableAddress(ip) !== undefined) return { kind: 'unverified' };
    const eni = input.enis.eniOf(ip);
    if (!eni) return { kind: 'stale', why: `${what} ${ip} is on no ENI of ${vpcId}: the address is gone` };
    if (!input.pods) return { kind: 'unverified' };
    const holders = input.pods.get(addressKey(ip)) ?? [];
    if (holders.length > 0) return { kind: 'held-by-pods', holders };
    const owner = eniOwner(eni, input.instances, input.clusterName);
    if (owner.kind === 'other') {
      return { kind: 'hold', guard: 'ownership', report: 'other', reason: `${what} ${ip} is on ${eni.networkInterfaceId} of cluster ${owner.clusters}: not ours to remove` };
    }
    if (owner.kind === 'unknown') {
      return {
        kind: 'hold',
        guard: 'evidence',
        report: 'unattributed',
        reason: `${what} ${ip} is on ${eni.networkInterfaceId}, which no evidence makes ${input.clusterName}'s (${owner.why}), and no pod of ${input.clusterName} holds it: reported, not removed`,
      };
    }
    if (healthy) {
      return {
        kind: 'hold',
        guard: 'evidence',
        report: 'healthy',
        reason: `${what} ${ip} is healthy and still on ${eni.networkInterfaceId}, but no pod of ${input.clusterName} holds it: reported, not removed`,
      };
    }
    return { kind: 'stale', why: `${what} ${ip} is no live pod of ${input.clusterName} (free address on ${eni.networkInterfaceId})` };
  };

  const record = (action: PlanAction, verdict: Verdict): void => {
    switch (verdict.kind) {
      case 'alive':
      case 'held-by-pods':
        return;
      case 'unverified':
        unverified++;
        return;
      case 'stale':
        stale++;
        actions.push({ ...action, why: verdict.why } as PlanAction);
        return;
      case 'hold':
        if (verdict.report === 'healthy') ownedHealthy++;
        else if (verdict.report === 'unattributed') unattributed++;
        else if (verdict.report === 'other') otherClusters++;
        heldBack.push({ action, guard: verdict.guard, reason: verdict.reason });
    }
  };

  for (const { target, group } of judgedTargets(input)) {
    // A target judged while not healthy is removed only while it still does not answer (the executor's
    // fresh read under the group's lease checks: cross-writer-guard.ts).
    const action: PlanAction = { kind: 'deregister-target', target, why: '', ...(target.state !== 'healthy' ? { unlessAnswering: true as const } : {}) };
    if (group.targetType === 'instance') {
      record(action, judgeInstanceTarget(target.id, input));
      continue;
    }
    if (group.targetType !== 'ip') continue;
    // ELBv2 RegisterTargets: an IP outside the target group's VPC is registered with AvailabilityZone `all`;
    // this VPC's ENIs cannot vouch for it either way.
    if (target.availabilityZone === 'all') {
      record(action, { kind: 'unverified' });
      continue;
    }
    record(action, judgeIp(target.id, group.vpcId, target.state === 'healthy', `target ${group.name}`));
  }

  const owned = Object.keys(input.ownerAttributes).length > 0;
  if (owned) {
    for (const instance of input.cloudMap) {
      if (!ownsCloudMapInstance(instance, input.ownerAttributes)) {
        notOwnedInstances++;
        continue;
      }
      const addresses = instanceAddresses(instance);
      const action: PlanAction = { kind: 'deregister-instance', instance, why: '' };
      if (addresses.length === 0) {
        record(action, { kind: 'unverified' });
        continue;
      }
      const healthy = instance.attributes['AWS_INIT_HEALTH_STATUS'] !== 'UNHEALTHY';
      const what = `Cloud Map ${instance.serviceName}/${instance.instanceId}`;
      // A dual-stack record is stale only if every address of it is; a live one, or one held or unverified,
      // keeps it (the most cautious verdict of its addresses wins).
      const verdicts = addresses.map((a) => ({ ip: a.address, v: judgeIp(a.address, input.clusterVpcId, healthy, `${what} at`) }));
      const decisive = [...verdicts].sort((a, b) => CAUTION[a.v.kind] - CAUTION[b.v.kind])[0] as (typeof verdicts)[number];
      record(action, decisive.v.kind === 'held-by-pods' ? judgeIpReuse(instance, decisive.ip, decisive.v.holders, input.now, graceMs, what) : decisive.v);
    }
  }

  if (podListDoubt !== undefined) warnings.push(planWarning('pod-list-doubted', `pod list not trusted (${podListDoubt.text}): nothing removed on pod-list evidence; the VPC truth still applies`));
  if (unverified > 0) warnings.push(planWarning('unverified', `${unverified} registration(s) not judged: the evidence they need (pod list or VPC scan) is missing`, { count: unverified }));
  if (ownedHealthy > 0) warnings.push(planWarning('reported-healthy', `${ownedHealthy} healthy registration(s) point at addresses the VPC still has but no pod of ${input.clusterName} holds: reported, not removed`, { count: ownedHealthy }));
  if (unattributed > 0) warnings.push(planWarning('unattributed', `${unattributed} registration(s) point at addresses on ENIs no evidence makes ${input.clusterName}'s (no node, no cluster tag): reported, not removed`, { count: unattributed }));
  if (otherClusters > 0) warnings.push(planWarning('other-cluster', `${otherClusters} registration(s) of groups or services ${input.clusterName} owns point at another cluster's addresses: reported, not removed`, { count: otherClusters }));
  return {
    plan: {
      id: input.planId,
      trigger: 'sweeper',
      subject: `cluster ${input.clusterName}`,
      createdAt: input.now.toISOString(),
      actions,
      heldBack,
      warnings,
      census: census(input.targets, input.cloudMap),
    },
    stale,
    reported: ownedHealthy + unattributed,
    unverified,
    notOwnedInstances,
    otherClusters,
    podListDoubt,
  };
}

/** Instance targets: stale when the instance no longer runs (or no longer exists), unless another cluster's. */
function judgeInstanceTarget(instanceId: string, input: SweepInput): Verdict {
  if (!input.instancesLookedUp.has(instanceId)) return { kind: 'unverified' };
  const instance = input.instances.get(instanceId);
  if (!instance) return { kind: 'stale', why: `instance target ${instanceId} no longer exists` };
  if (isAliveInstanceState(instance.state)) return { kind: 'alive' };
  const clusters = clustersOfNode(instance);
  if (clusters.size > 0 && !clusters.has(input.clusterName)) {
    return { kind: 'hold', guard: 'ownership', report: 'other', reason: `instance target ${instanceId} is a node of cluster ${[...clusters].join(',')}: not ours to remove` };
  }
  return { kind: 'stale', why: `instance target ${instanceId} is ${instance.state}` };
}

/**
 * Cloud Map IP reuse: the record names pod A, the IP now belongs to live pod B. The record is stale (it would
 * hand out B for A's service), unless B started within the grace period: the App Mesh controller re-registers
 * the same instance id (the IP) for B, and our deregistration must not race that upsert.
 */
function judgeIpReuse(instance: CloudMapRegistration, ip: string, holders: readonly ClusterPod[], now: Date, graceMs: number, what: string): Verdict {
  const podName = instance.attributes[POD_NAME_ATTRIBUTE];
  if (podName === undefined) return { kind: 'alive' };
  const podNamespace = instance.attributes[POD_NAMESPACE_ATTRIBUTE];
  const same = holders.some((p) => p.name === podName && (podNamespace === undefined || p.namespace === podNamespace));
  if (same) return { kind: 'alive' };
  const holder = holders[0] as ClusterPod;
  const started = holder.startTime === undefined ? NaN : Date.parse(holder.startTime);
  if (Number.isNaN(started) || now.getTime() - started < graceMs) {
    return {
      kind: 'hold',
      guard: 'grace-period',
      reason: `${what}: IP ${ip} now belongs to ${holder.namespace}/${holder.name}, which started within the grace period: its controller may be re-registering it`,
    };
  }
  return { kind: 'stale', why: `${what}: IP ${ip} was reused by ${holder.namespace}/${holder.name}; the record names ${podNamespace ? `${podNamespace}/` : ''}${podName}` };
}
