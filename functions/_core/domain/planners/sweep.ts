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
import { missingOwnerAttributes, optedInFor } from '../ownership.ts';
import type { NetworkInterface } from '../endpoint.ts';
import type { NodeInstance } from '../endpoint.ts';
import { eniAddresses, nodeInstanceOf } from '../endpoint.ts';
import { isAliveInstanceState } from '../instance-state.ts';
import { clustersInTagKeys, clustersOfNode } from '../node-cluster.ts';
import type { Ipv4Cidr } from '../ipv4.ts';
import { ipv4ToInt, parseCidr } from '../ipv4.ts';
import { addressKey, ipFamily, ipv6NetworkKey, parseIpCidr, parseIpv6 } from '../ip.ts';
import type { HeldBackAction, Plan, PlanAction } from '../plan.ts';
import { planWarning, type PlanWarning } from '../warnings.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../registration.ts';
import { GONE_OR_GOING, instanceAddresses } from '../registration.ts';
import { census } from './node-deregistration.ts';

/** The tag the AWS Load Balancer Controller puts on every target group it creates for a cluster. */
export const LBC_CLUSTER_TAG = 'elbv2.k8s.aws/cluster';
/** The tag the VPC CNI puts on the ENIs it creates (aws-facts: cluster.k8s.amazonaws.com/name). */
export const CNI_CLUSTER_TAG = 'cluster.k8s.amazonaws.com/name';
/** Cloud Map attributes the App Mesh controller sets: the pod the record was made for. */
export const POD_NAME_ATTRIBUTE = 'k8s.io/pod';
export const POD_NAMESPACE_ATTRIBUTE = 'k8s.io/namespace';

/** Why a target group is this cluster's; undefined = not ours (never written). */
export type TargetGroupOwnership = 'lbc-tag' | 'tag-selector' | 'opt-in-tag' | 'target-group-binding';

/** What makes a target group ours. */
export interface OwnershipRules {
  readonly clusterName: string;
  /** Tags a group must all carry to be ours (empty = this rule is off). */
  readonly tagSelector: Readonly<Record<string, string>>;
  /** Target group ARNs named by this cluster's TargetGroupBindings; undefined when they could not be read. */
  readonly bindingArns: ReadonlySet<string> | undefined;
}

/**
 * Whether a target group belongs to this cluster: the LBC tag `elbv2.k8s.aws/cluster=<name>`, the configured
 * tag selector, the opt-in tag `quiesce.io/deregister-by` naming this cluster (domain/ownership.ts: the
 * spot and pod triggers and the IAM policy read the same tag), or a TargetGroupBinding of this cluster naming
 * it. Tags must have been read (`group.tags`). Owning a shared group never makes its other cluster's
 * targets ours: every address is still judged by whose it is.
 */
export function targetGroupOwnership(group: TargetGroup, rules: OwnershipRules): TargetGroupOwnership | undefined {
  const tags = group.tags ?? {};
  if (tags[LBC_CLUSTER_TAG] === rules.clusterName) return 'lbc-tag';
  const selector = Object.entries(rules.tagSelector);
  if (selector.length > 0 && selector.every(([k, v]) => tags[k] === v)) return 'tag-selector';
  if (optedInFor(tags, rules.clusterName)) return 'opt-in-tag';
  if (rules.bindingArns?.has(group.arn)) return 'target-group-binding';
  return undefined;
}

/**
 * Whether a Cloud Map instance carries every owner attribute. Stricter than the spot and pod triggers: with
 * none configured nothing is the sweeper's (it acts on absence of evidence, they on a dying node's IP).
 */
export function ownsCloudMapInstance(instance: CloudMapRegistration, ownerAttributes: Readonly<Record<string, string>>): boolean {
  return Object.keys(ownerAttributes).length > 0 && missingOwnerAttributes(instance, ownerAttributes).length === 0;
}

/** A pod as the planner needs it (adapters/kube's KubePod fits this shape). */
export interface ClusterPod {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly phase: string;
  readonly startTime: string | undefined;
}

/** A pod is alive while it exists and has not terminated (Succeeded/Failed pods keep their IP in status). */
export function isAlive(pod: ClusterPod): boolean {
  return pod.phase !== 'Succeeded' && pod.phase !== 'Failed';
}

/**
 * Live pods by IP in canonical form (host-network pods share their node's IP, so an IP may have several;
 * a dual-stack pod is under both its addresses). Look up with `addressKey(ip)`.
 */
export function indexPods(pods: readonly ClusterPod[]): Map<string, ClusterPod[]> {
  const out = new Map<string, ClusterPod[]>();
  for (const p of pods) {
    if (!isAlive(p)) continue;
    for (const raw of p.ips) {
      const ip = addressKey(raw);
      const list = out.get(ip);
      if (list) list.push(p);
      else out.set(ip, [p]);
    }
  }
  return out;
}

/** One ENI as the VPC truth needs it. */
export type VpcEni = NetworkInterface;

/**
 * "Which ENI holds this IP?" for whole VPCs, both families: listed addresses (private IPv4s, IPv6
 * addresses) by exact match of their canonical form, delegated prefixes (VPC CNI prefix delegation: pod
 * IPs come from /28s, and on an IPv6 cluster from the node's /80, listed nowhere as addresses) by network,
 * one hash lookup per prefix length. Built once per run: 50,000 lookups against thousands of prefixes stay
 * linear. Branch ENIs (security groups for pods) are ENIs of the VPC like any other.
 */
export class EniIndex {
  readonly vpcIds: ReadonlySet<string>;
  readonly #byIp = new Map<string, VpcEni>();
  readonly #byPrefix = new Map<number, Map<number, VpcEni>>();
  readonly #byIpv6Prefix = new Map<number, Map<string, VpcEni>>();

  constructor(vpcIds: Iterable<string>, enis: readonly VpcEni[]) {
    this.vpcIds = new Set(vpcIds);
    for (const e of enis) {
      for (const ip of eniAddresses(e)) this.#byIp.set(addressKey(ip), e);
      for (const text of e.ipv6Prefixes ?? []) {
        const cidr = parseIpCidr(text);
        if (cidr?.family !== 6) continue;
        let m = this.#byIpv6Prefix.get(cidr.length);
        if (!m) this.#byIpv6Prefix.set(cidr.length, (m = new Map()));
        m.set(cidr.groups.join(':'), e);
      }
      for (const text of e.ipv4Prefixes) {
        const cidr: Ipv4Cidr | undefined = parseCidr(text);
        if (!cidr) continue;
        const len = Number(text.split('/')[1]);
        let m = this.#byPrefix.get(len);
        if (!m) this.#byPrefix.set(len, (m = new Map()));
        m.set(cidr.network, e);
      }
    }
  }

  /** Whether the VPC truth covers this VPC (it was scanned). */
  covers(vpcId: string | undefined): boolean {
    return vpcId !== undefined && this.vpcIds.has(vpcId);
  }

  /** The ENI holding `ip` (either family, any spelling) as a listed address or inside a delegated prefix, if any. */
  eniOf(ip: string): VpcEni | undefined {
    const key = addressKey(ip);
    const direct = this.#byIp.get(key);
    if (direct) return direct;
    if (key.includes(':')) {
      const g = parseIpv6(key);
      if (!g) return undefined;
      for (const [len, m] of this.#byIpv6Prefix) {
        const hit = m.get(ipv6NetworkKey(g, len));
        if (hit) return hit;
      }
      return undefined;
    }
    const n = ipv4ToInt(key);
    if (n === undefined) return undefined;
    for (const [len, m] of this.#byPrefix) {
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      const hit = m.get((n & mask) >>> 0);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** Whose an ENI is, by positive evidence only (see {@link eniOwner}). */
export type EniOwner =
  | { readonly kind: 'ours' }
  | { readonly kind: 'other'; readonly clusters: string }
  | { readonly kind: 'unknown'; readonly why: string };

/**
 * Whose an ENI is. An address is this cluster's only with positive evidence, and an ENI says whose it is
 * through: the VPC CNI's cluster tag (`cluster.k8s.amazonaws.com/name`, set only with the CNI's
 * CLUSTER_NAME), the VPC resource controller's `kubernetes.io/cluster/<name>` on trunk and branch ENIs, and
 * the node it serves (the attached instance, or the one a branch ENI's `node.k8s.amazonaws.com/instance_id`
 * names), if that instance was looked up and carries a cluster's tags. `ours` only when every piece of
 * evidence names this cluster; `other` when any names another; `unknown` when none names any (an untagged
 * ENI of no known node: a NAT gateway's, a Lambda's, an instance never looked up): never ours.
 */
export function eniOwner(eni: VpcEni, instances: ReadonlyMap<string, NodeInstance>, clusterName: string): EniOwner {
  const clusters = new Set<string>();
  const cni = eni.tags[CNI_CLUSTER_TAG];
  if (cni !== undefined && cni !== '') clusters.add(cni);
  for (const c of clustersInTagKeys(eni.tags)) clusters.add(c);
  const nodeId = nodeInstanceOf(eni);
  const instance = nodeId === undefined ? undefined : instances.get(nodeId);
  if (instance) for (const c of clustersOfNode(instance)) clusters.add(c);
  if (clusters.size === 0) {
    const why = nodeId === undefined ? 'no instance and no cluster tag' : instance ? `${nodeId} carries no cluster tag` : `its instance ${nodeId} is not known`;
    return { kind: 'unknown', why };
  }
  const others = [...clusters].filter((c) => c !== clusterName);
  return others.length === 0 ? { kind: 'ours' } : { kind: 'other', clusters: others.join(',') };
}

/**
 * Why quiesce cannot judge an address against the VPC's ENIs at all, or undefined when it can: text that
 * is no IPv4 / IPv6 address, and IPv6 kinds EC2 never lists on an ENI (IPv4-mapped `::ffff:0:0/96`,
 * link-local `fe80::/10`, loopback, unspecified). Such a registration is unverified, never "gone".
 */
export function unverifiableAddress(ip: string): string | undefined {
  const family = ipFamily(ip);
  if (family === undefined) return `${ip} is no IPv4 or IPv6 address quiesce can read`;
  if (family === 4) return undefined;
  const g = parseIpv6(ip) as number[];
  const first = g[0] as number;
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return `${ip} is an IPv4-mapped, loopback or unspecified IPv6 address: no ENI lists one`;
  if ((first & 0xffc0) === 0xfe80) return `${ip} is a link-local IPv6 address: no ENI lists one`;
  return undefined;
}

/** Everything the planner needs, observed beforehand (registrations first, truths after: see the workflow). */
export interface SweepInput {
  readonly planId: string;
  readonly clusterName: string;
  readonly now: Date;
  /** Pods younger than this are never the reason for a removal (their controllers are still catching up). */
  readonly graceSeconds: number;
  /** Owned target groups (ownership already decided) and every target of each. */
  readonly targetGroups: readonly TargetGroup[];
  readonly targets: readonly TargetRegistration[];
  /** Every instance of the Cloud Map services in scope (owned or not: the census counts them all). */
  readonly cloudMap: readonly CloudMapRegistration[];
  /** Empty = Cloud Map is left alone. */
  readonly ownerAttributes: Readonly<Record<string, string>>;
  /** The cluster's VPC: the one Cloud Map IPs are judged against (undefined = no VPC truth for Cloud Map). */
  readonly clusterVpcId: string | undefined;
  /** Live pods by IP; undefined when the cluster API could not be read (pod evidence unused). */
  readonly pods: ReadonlyMap<string, readonly ClusterPod[]> | undefined;
  readonly enis: EniIndex;
  /** Instances by id: instance targets and the instances behind ENIs of candidates. Missing = does not exist. */
  readonly instances: ReadonlyMap<string, NodeInstance>;
  /** Instance ids that were looked up (so "missing from `instances`" means "does not exist"). */
  readonly instancesLookedUp: ReadonlySet<string>;
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
  const types = new Map(input.targetGroups.map((g) => [g.arn, g.targetType]));
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
  for (const t of input.targets) {
    if (t.state === 'initial' || GONE_OR_GOING.has(t.state)) continue;
    const type = types.get(t.targetGroupArn);
    if (type === 'instance') out.add(t.id);
    else if (type === 'ip') eniInstance(t.id);
  }
  for (const i of input.cloudMap) if (ownsCloudMapInstance(i, input.ownerAttributes)) for (const a of instanceAddresses(i)) eniInstance(a.address);
  return [...out].sort();
}

/** `clusterError.name` of a run whose pod list was not trusted (see {@link doubtPodList}). */
export const IMPLAUSIBLE_POD_LIST = 'ImplausiblePodList';

/**
 * Why the pod list was not believed: no live pod at all while nodes of the cluster run (`no-live-pod`), or
 * most healthy ip targets on running nodes without a pod (`most-healthy-unheld`), with the sentence for
 * operators.
 */
export interface PodListDoubt {
  readonly code: 'no-live-pod' | 'most-healthy-unheld';
  readonly text: string;
}

/**
 * Whether the pod list is evidence at all. An API server that answers 200 with no pods, or with a list that
 * lost most of them (a truncated page, a cache that was just reset, RBAC gone wrong), looks exactly like a
 * cluster whose pods all died, and every registration of a live pod would then be removed on the pod list's
 * word alone. It is not believed, and counts as missing evidence like an unreachable API, when:
 *
 * - it holds no live pod while registered addresses sit on running nodes of this cluster (a running node
 *   always runs pods: at least its aws-node and kube-proxy DaemonSet pods); or
 * - it would leave most healthy ip targets on running nodes of this cluster without a live pod: more of
 *   them have no pod than have one (a healthy target answers its health check: something lives there).
 *
 * "Running node of this cluster": the ENI holding the address is attached to an instance that was looked
 * up, runs, and is this cluster's by its tags or by the CNI's cluster tag on the ENI. Pure; returns why the
 * list is doubted, or undefined when it can be used.
 */
export function doubtPodList(input: Pick<SweepInput, 'clusterName' | 'targetGroups' | 'targets' | 'cloudMap' | 'ownerAttributes' | 'clusterVpcId' | 'pods' | 'enis' | 'instances'>): PodListDoubt | undefined {
  const pods = input.pods;
  if (!pods) return undefined;
  const nodes = new Set<string>();
  const onRunningNode = (ip: string, vpcId: string | undefined): boolean => {
    if (!input.enis.covers(vpcId)) return false;
    const eni = input.enis.eniOf(ip);
    const nodeId = eni ? nodeInstanceOf(eni) : undefined;
    const instance = nodeId === undefined ? undefined : input.instances.get(nodeId);
    if (!eni || !instance || instance.state !== 'running') return false;
    const ours = eniOwner(eni, input.instances, input.clusterName).kind === 'ours';
    if (ours) nodes.add(instance.instanceId);
    return ours;
  };
  const groups = new Map(input.targetGroups.map((g) => [g.arn, g]));
  let onNodes = 0;
  let healthyWithPod = 0;
  let healthyWithoutPod = 0;
  for (const t of input.targets) {
    const group = groups.get(t.targetGroupArn);
    if (group?.targetType !== 'ip' || t.state === 'initial' || GONE_OR_GOING.has(t.state) || t.availabilityZone === 'all') continue;
    const held = (pods.get(addressKey(t.id)) ?? []).length > 0;
    // A pod of the list holds it: a live pod of ours, wherever it runs. Otherwise only our running nodes count.
    if (held) {
      onNodes++;
      if (t.state === 'healthy') healthyWithPod++;
    } else if (onRunningNode(t.id, group.vpcId)) {
      onNodes++;
      if (t.state === 'healthy') healthyWithoutPod++;
    }
  }
  for (const i of input.cloudMap) {
    if (ownsCloudMapInstance(i, input.ownerAttributes) && instanceAddresses(i).some((a) => onRunningNode(a.address, input.clusterVpcId))) onNodes++;
  }
  if (pods.size === 0 && onNodes > 0) {
    return { code: 'no-live-pod', text: `the pod list holds no live pod while ${nodes.size} running node(s) of ${input.clusterName} hold the addresses of ${onNodes} registration(s)` };
  }
  if (healthyWithoutPod > healthyWithPod) {
    return { code: 'most-healthy-unheld', text: `the pod list has no live pod for ${healthyWithoutPod} of the ${healthyWithPod + healthyWithoutPod} healthy ip targets on running nodes of ${input.clusterName}: it looks incomplete` };
  }
  return undefined;
}

type Verdict =
  | { readonly kind: 'alive' }
  | { readonly kind: 'skip' }
  | { readonly kind: 'unverified' }
  | { readonly kind: 'stale'; readonly why: string }
  | { readonly kind: 'hold'; readonly guard: HeldBackAction['guard']; readonly reason: string; readonly report?: 'healthy' | 'unattributed' | 'other' };

/**
 * Plans the removal of this cluster's stale registrations (before `guardPlan`). A pod list that
 * {@link doubtPodList} does not believe is set aside first: the plan then rests on the VPC and EC2 truths only.
 */
export function planSweep(given: SweepInput): SweepPlan {
  const podListDoubt = doubtPodList(given);
  const input: SweepInput = podListDoubt === undefined ? given : { ...given, pods: undefined };
  const groups = new Map(input.targetGroups.map((g) => [g.arn, g]));
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
  const judgeIp = (ip: string, vpcId: string | undefined, healthy: boolean, what: string): Verdict | { kind: 'holders'; holders: readonly ClusterPod[]; eni: VpcEni } => {
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
    if (holders.length > 0) return { kind: 'holders', holders, eni };
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
      case 'skip':
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

  for (const target of input.targets) {
    const group = groups.get(target.targetGroupArn);
    if (!group) continue;
    // Give the controllers time: a target still `initial` was registered moments ago; a draining one is going.
    if (target.state === 'initial' || GONE_OR_GOING.has(target.state)) continue;
    const action: PlanAction = { kind: 'deregister-target', target, why: '' };
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
    const v = judgeIp(target.id, group.vpcId, target.state === 'healthy', `target ${group.name}`);
    record(action, v.kind === 'holders' ? { kind: 'alive' } : v);
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
      const rank = (v: (typeof verdicts)[number]['v']): number => (v.kind === 'holders' ? 0 : v.kind === 'alive' || v.kind === 'skip' ? 1 : v.kind === 'hold' ? 2 : v.kind === 'unverified' ? 3 : 4);
      const decisive = [...verdicts].sort((a, b) => rank(a.v) - rank(b.v))[0] as (typeof verdicts)[number];
      if (decisive.v.kind !== 'holders') {
        record(action, decisive.v);
        continue;
      }
      record(action, judgeIpReuse(instance, decisive.ip, decisive.v.holders, input.now, graceMs, what));
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
