/**
 * Observers: the "observe" step shared by the triggers. They read AWS through the ports, fan out with
 * bounded concurrency, and return domain values for the pure planners. They never write.
 */
import { mapWithConcurrency } from '../concurrency.ts';
import type { NodeAddresses, NodeInstance } from '../domain/endpoint.ts';
import { NODE_INSTANCE_TAG, nodeAddresses, TRUNK_ENI_TAG } from '../domain/endpoint.ts';
import { isNodeOfCluster } from '../domain/node-cluster.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../domain/registration.ts';
import type { CloudMapPort, Ec2Port, Elbv2Port } from '../ports/index.ts';
import { tagsInScope, typeAndVpcInScope } from '../domain/trigger-scope.ts';

/** Why an instance named by an event is not acted on. */
export interface RejectedInstance {
  readonly instanceId: string;
  readonly reason: 'not-found' | 'not-a-node-of-this-cluster';
}

/** The instances that are nodes of `clusterName`, and why the others were set aside. */
export async function resolveClusterNodes(
  ec2: Pick<Ec2Port, 'describeInstances'>,
  instanceIds: readonly string[],
  clusterName: string,
): Promise<{ nodes: NodeInstance[]; rejected: RejectedInstance[] }> {
  const found = await ec2.describeInstances([...new Set(instanceIds)]);
  const byId = new Map(found.map((i) => [i.instanceId, i]));
  const nodes: NodeInstance[] = [];
  const rejected: RejectedInstance[] = [];
  for (const id of new Set(instanceIds)) {
    const instance = byId.get(id);
    if (!instance) rejected.push({ instanceId: id, reason: 'not-found' });
    else if (!isNodeOfCluster(instance, clusterName)) rejected.push({ instanceId: id, reason: 'not-a-node-of-this-cluster' });
    else nodes.push(instance);
  }
  return { nodes, rejected };
}

/**
 * Every address and delegated prefix (IPv4 and IPv6) on the ENIs of these nodes, one call for all of
 * them; and, only for nodes with a trunk ENI (security groups for pods), one more for the branch ENIs of
 * their pods, which hang off the trunk and are not attached to the instance. A branch counts for the node
 * whose trunk its `vpcresources.k8s.aws/trunk-eni-id` tag names, and only if its
 * `node.k8s.amazonaws.com/instance_id` tag, when present, names that node too.
 */
export async function observeNodeAddresses(ec2: Pick<Ec2Port, 'networkInterfacesOfInstances' | 'branchInterfacesOfTrunks'>, nodes: readonly NodeInstance[]): Promise<NodeAddresses[]> {
  if (nodes.length === 0) return [];
  const enis = await ec2.networkInterfacesOfInstances(nodes.map((n) => n.instanceId));
  const trunks = new Map(enis.filter((e) => e.interfaceType === 'trunk' && e.instanceId !== undefined).map((e) => [e.networkInterfaceId, e.instanceId as string]));
  const branches = trunks.size > 0 ? await ec2.branchInterfacesOfTrunks([...trunks.keys()]) : [];
  const branchNode = (e: (typeof branches)[number]): string | undefined => {
    const node = trunks.get(e.tags[TRUNK_ENI_TAG] ?? '');
    const named = e.tags[NODE_INSTANCE_TAG];
    return node !== undefined && (named === undefined || named === node) ? node : undefined;
  };
  return nodes.map((n) => {
    const own = [...enis.filter((e) => e.instanceId === n.instanceId), ...branches.filter((b) => b.instanceId === undefined && branchNode(b) === n.instanceId)];
    const addrs = nodeAddresses(n.instanceId, own);
    // The primary IP of the instance belongs to it even if its ENI listing raced a detach.
    return n.privateIp && !addrs.ips.has(n.privateIp) ? { ...addrs, ips: new Set([...addrs.ips, n.privateIp]) } : addrs;
  });
}

/** Options for a target-group scan. */
export interface TargetScanOptions {
  /** Only groups in these VPCs (an instance's pod IPs cannot be targets of another VPC's groups). */
  readonly vpcIds: readonly string[];
  /** Only groups carrying all of these tags (empty = all), or opted in for `clusterName` by tag. */
  readonly tagSelector: Readonly<Record<string, string>>;
  /**
   * The cluster a group may opt in for with `quiesce.io/deregister-by` (domain/ownership.ts): such a group is
   * in scope even when it lacks the tag selector's tags (a blue/green group another cluster's LBC made).
   */
  readonly clusterName?: string;
  readonly concurrency: number;
  /** Only these target groups (re-checks look at the groups they touched, not at everything). */
  readonly onlyArns?: readonly string[];
  /** Only `ip` groups (a pod IP can be a target of nothing else; skips describing instance groups). */
  readonly ipOnly?: boolean;
}

/** The target groups in scope (VPC, type, tag selector or opt-in tag, an explicit list), without their targets. */
export async function targetGroupsInScope(elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf'>, options: Omit<TargetScanOptions, 'concurrency'>): Promise<TargetGroup[]> {
  let groups = (await elbv2.listTargetGroups()).filter((g) => typeAndVpcInScope(g, options));
  if (options.onlyArns) {
    const only = new Set(options.onlyArns);
    groups = groups.filter((g) => only.has(g.arn));
  }
  if (Object.keys(options.tagSelector).length > 0 && groups.length > 0) {
    const tags = await elbv2.tagsOf(groups.map((g) => g.arn));
    groups = groups.map((g) => ({ ...g, tags: tags.get(g.arn) ?? {} })).filter((g) => tagsInScope(g.tags, options));
  }
  return groups;
}

/** The target groups in scope and every target of each, with health. */
export async function observeTargets(
  elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf' | 'targetHealth'>,
  options: TargetScanOptions,
): Promise<{ targetGroups: TargetGroup[]; targets: TargetRegistration[] }> {
  const groups = await targetGroupsInScope(elbv2, options);
  const perGroup = await mapWithConcurrency(groups, options.concurrency, (g) => elbv2.targetHealth(g.arn, g.name));
  return { targetGroups: groups, targets: perGroup.flat() };
}

/** Every instance of every service of the namespaces in scope (names or ids; `*` = all). */
export async function observeCloudMap(
  cloudMap: Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>,
  namespaces: readonly string[],
  concurrency: number,
): Promise<{ registrations: CloudMapRegistration[]; missingNamespaces: string[] }> {
  if (namespaces.length === 0) return { registrations: [], missingNamespaces: [] };
  const all = await cloudMap.listNamespaces();
  const wanted = namespaces.includes('*') ? all : all.filter((n) => namespaces.includes(n.name) || namespaces.includes(n.id));
  const missingNamespaces = namespaces.filter((w) => w !== '*' && !all.some((n) => n.name === w || n.id === w));
  const services = (
    await mapWithConcurrency(wanted, concurrency, async (ns) => (await cloudMap.listServices(ns.id)).map((s) => ({ ns, s })))
  ).flat();
  const instances = await mapWithConcurrency(services, concurrency, ({ ns, s }) => cloudMap.listInstances(s, ns));
  return { registrations: instances.flat(), missingNamespaces };
}
