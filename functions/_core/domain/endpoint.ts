/**
 * What quiesce knows about the addresses of one node. An `Endpoint` is anything a registration can point
 * at: a pod IP (ip targets, Cloud Map AWS_INSTANCE_IPV4) or the instance itself (instance targets).
 *
 * Why prefixes matter: with VPC CNI prefix delegation, pod IPs come from /28 prefixes assigned to the ENI
 * and are NOT listed as secondary private IPs (EC2 DescribeNetworkInterfaces `Ipv4Prefixes`). A node's
 * addresses are therefore "these IPs, plus everything inside these CIDRs".
 */
import { cidrContains, parseCidr, type Ipv4Cidr } from './ipv4.ts';

/** One EC2 instance that is (or was) a Kubernetes node, as observed. */
export interface NodeInstance {
  readonly instanceId: string;
  readonly vpcId: string | undefined;
  /** EC2 instance state name: pending | running | stopping | stopped | shutting-down | terminated. */
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly privateIp: string | undefined;
  /** ISO time the instance was last launched (a stopped instance started again gets a new one). */
  readonly launchTime?: string;
}

/**
 * One ENI as quiesce needs it: whose it is (instance, VPC, tags) and the addresses it holds (secondary IPs
 * and delegated /28 prefixes). Both the node observers and the sweeper's VPC truth read ENIs this way.
 */
export interface NetworkInterface {
  readonly networkInterfaceId: string;
  readonly instanceId: string | undefined;
  readonly vpcId: string | undefined;
  readonly privateIps: readonly string[];
  readonly ipv4Prefixes: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** The IPs and /28 prefixes on every ENI attached to a node. */
export interface NodeAddresses {
  readonly instanceId: string;
  readonly ips: ReadonlySet<string>;
  readonly prefixes: readonly Ipv4Cidr[];
}

/** Builds `NodeAddresses` from the raw ENI fields, ignoring anything that does not parse. */
export function nodeAddresses(
  instanceId: string,
  enis: readonly { privateIps: readonly string[]; ipv4Prefixes: readonly string[] }[],
): NodeAddresses {
  const ips = new Set<string>();
  const prefixes: Ipv4Cidr[] = [];
  for (const eni of enis) {
    for (const ip of eni.privateIps) ips.add(ip);
    for (const p of eni.ipv4Prefixes) {
      const cidr = parseCidr(p);
      if (cidr) prefixes.push(cidr);
    }
  }
  return { instanceId, ips, prefixes };
}

/** True when `ip` is one of the node's IPs or inside one of its delegated prefixes. */
export function nodeHasIp(node: NodeAddresses, ip: string): boolean {
  if (node.ips.has(ip)) return true;
  return node.prefixes.some((p) => cidrContains(p, ip));
}

/**
 * Whether an instance is a node of `clusterName`, by the tags EKS and its node provisioners put on nodes:
 * `kubernetes.io/cluster/<name>` (owned|shared), `eks:cluster-name` (managed node groups), and the tags of
 * eksctl and Karpenter. A shared account must not let one cluster's quiesce act on another cluster's nodes.
 */
export function isNodeOfCluster(instance: NodeInstance, clusterName: string): boolean {
  const t = instance.tags;
  return (
    t[`kubernetes.io/cluster/${clusterName}`] !== undefined ||
    t['eks:cluster-name'] === clusterName ||
    t['alpha.eksctl.io/cluster-name'] === clusterName ||
    t['karpenter.k8s.aws/cluster'] === clusterName ||
    t['aws:eks:cluster-name'] === clusterName
  );
}
