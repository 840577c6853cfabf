/**
 * What quiesce knows about the addresses of one node. An `Endpoint` is anything a registration can point
 * at: a pod IP (ip targets, Cloud Map AWS_INSTANCE_IPV4 / AWS_INSTANCE_IPV6) or the instance itself
 * (instance targets).
 *
 * Why prefixes matter: with VPC CNI prefix delegation, pod IPs come from /28 prefixes assigned to the ENI
 * and are NOT listed as secondary private IPs (EC2 DescribeNetworkInterfaces `Ipv4Prefixes`); on an EKS
 * IPv6 cluster every pod address comes out of the one /80 on the node's primary ENI (`Ipv6Prefixes`). A
 * node's addresses are therefore "these IPs, plus everything inside these CIDRs", of both families.
 *
 * Why branch ENIs matter: with security groups for pods, a pod gets its own branch ENI, which hangs off the
 * node's trunk ENI and is not attached to the instance (docs/aws-facts.md#branch-enis: the controller finds a
 * trunk's branches by the `vpcresources.k8s.aws/trunk-eni-id` tag). Its addresses are the node's pods' too.
 */
import { cidrContains, parseCidr, type Ipv4Cidr } from './ipv4.ts';
import { addressKey, ipv6CidrContains, parseIpCidr, type Ipv6Cidr } from './ip.ts';

/** One EC2 instance that is (or was) a Kubernetes node, as observed. */
export interface NodeInstance {
  readonly instanceId: string;
  readonly vpcId: string | undefined;
  /** EC2 instance state name: pending | running | stopping | stopped | shutting-down | terminated. */
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly privateIp: string | undefined;
  /**
   * `PrivateDnsName` (e.g. ip-10-0-1-10.ec2.internal): the Kubernetes node name of EKS node groups that name
   * nodes by IP, so the spot trigger can ask the cluster for the node's pods (observe/candidates.ts).
   */
  readonly privateDnsName?: string;
  /** ISO time the instance was last launched (a stopped instance started again gets a new one). */
  readonly launchTime?: string;
}

/**
 * One ENI as quiesce needs it: whose it is (attachment, VPC, tags, kind) and the addresses it holds
 * (private IPv4s, delegated /28 prefixes, IPv6 addresses and prefixes). Both the node observers and the
 * sweeper's VPC truth read ENIs this way. The IPv6 fields and the kind are left out when empty / `interface`.
 */
export interface NetworkInterface {
  readonly networkInterfaceId: string;
  /** The instance the ENI is attached to (`Attachment.InstanceId`); a branch ENI has none. */
  readonly instanceId: string | undefined;
  readonly vpcId: string | undefined;
  readonly privateIps: readonly string[];
  readonly ipv4Prefixes: readonly string[];
  /** `Ipv6Addresses[].Ipv6Address` as EC2 spells them. */
  readonly ipv6Addresses?: readonly string[];
  /** `Ipv6Prefixes[].Ipv6Prefix`, e.g. the /80 of an EKS IPv6 node. */
  readonly ipv6Prefixes?: readonly string[];
  /** `InterfaceType` when it is not `interface`: `trunk`, `branch` (security groups for pods), `efa`, ... */
  readonly interfaceType?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The VPC resource controller's tags on a branch ENI (docs/aws-facts.md#branch-enis). */
export const TRUNK_ENI_TAG = 'vpcresources.k8s.aws/trunk-eni-id';
/** The instance a VPC CNI or VPC resource controller ENI was made for (also on unattached branch ENIs). */
export const NODE_INSTANCE_TAG = 'node.k8s.amazonaws.com/instance_id';

/** The node an ENI serves: the instance it is attached to, else (a branch ENI) the instance its tag names. */
export function nodeInstanceOf(eni: Pick<NetworkInterface, 'instanceId' | 'tags'>): string | undefined {
  return eni.instanceId ?? eni.tags[NODE_INSTANCE_TAG];
}

/** Every address of an ENI, both families, as EC2 spells them. */
export function eniAddresses(eni: Pick<NetworkInterface, 'privateIps' | 'ipv6Addresses'>): string[] {
  return [...eni.privateIps, ...(eni.ipv6Addresses ?? [])];
}

/** The IPs and prefixes (both families) on every ENI of a node: attached ones and its pods' branch ENIs. */
export interface NodeAddresses {
  readonly instanceId: string;
  /** Addresses in canonical form ({@link addressKey}): compare with `nodeHasIp`, not `ips.has`. */
  readonly ips: ReadonlySet<string>;
  /** Delegated /28s (VPC CNI prefix delegation). */
  readonly prefixes: readonly Ipv4Cidr[];
  /** IPv6 prefixes (the /80 pod addresses of an EKS IPv6 node come out of). */
  readonly ipv6Prefixes: readonly Ipv6Cidr[];
}

/** Builds `NodeAddresses` from the raw ENI fields, ignoring anything that does not parse. */
export function nodeAddresses(
  instanceId: string,
  enis: readonly Pick<NetworkInterface, 'privateIps' | 'ipv4Prefixes' | 'ipv6Addresses' | 'ipv6Prefixes'>[],
): NodeAddresses {
  const ips = new Set<string>();
  const prefixes: Ipv4Cidr[] = [];
  const ipv6Prefixes: Ipv6Cidr[] = [];
  for (const eni of enis) {
    for (const ip of eniAddresses(eni)) ips.add(addressKey(ip));
    for (const p of eni.ipv4Prefixes) {
      const cidr = parseCidr(p);
      if (cidr) prefixes.push(cidr);
    }
    for (const p of eni.ipv6Prefixes ?? []) {
      const cidr = parseIpCidr(p);
      if (cidr?.family === 6) ipv6Prefixes.push(cidr);
    }
  }
  return { instanceId, ips, prefixes, ipv6Prefixes };
}

/** True when `ip` (either family, any spelling) is one of the node's IPs or inside one of its prefixes. */
export function nodeHasIp(node: NodeAddresses, ip: string): boolean {
  const key = addressKey(ip);
  if (node.ips.has(key)) return true;
  if (key.includes(':')) return node.ipv6Prefixes.some((p) => ipv6CidrContains(p, key));
  return node.prefixes.some((p) => cidrContains(p, key));
}
