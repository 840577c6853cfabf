/**
 * EC2 port over the SDK: nodes and the addresses on their ENIs (IPv4 and IPv6 addresses and prefixes),
 * including the branch ENIs of pods with security groups (found by their trunk's tag, as the VPC resource
 * controller finds them).
 */
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
  type Filter,
  type Instance,
  type NetworkInterface as SdkNetworkInterface,
  type Tag,
} from '@aws-sdk/client-ec2';
import { TRUNK_ENI_TAG, type NodeInstance } from '../../domain/endpoint.ts';
import type { Ec2Port, NetworkInterface } from '../../ports/index.ts';
import { awsErrorName } from '../../errors.ts';
import { chunk, mapWithConcurrency } from '../../concurrency.ts';
import type { ApiBudget } from './budget.ts';

/** EC2 allows at most 200 values per filter. */
const FILTER_VALUES_MAX = 200;
/** DescribeNetworkInterfaces page size: the maximum, so a VPC of thousands of ENIs is a handful of calls. */
const ENI_PAGE = 1000;
/** DescribeInstances page size for the filtered form (InstanceIds cannot be combined with MaxResults). */
const INSTANCE_PAGE = 1000;

/** Errors DescribeInstances raises for the whole call when any one id is unknown or malformed. */
const UNKNOWN_ID_ERRORS = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function toNode(i: Instance): NodeInstance | undefined {
  if (!i.InstanceId) return undefined;
  return {
    instanceId: i.InstanceId,
    vpcId: i.VpcId,
    state: i.State?.Name ?? 'unknown',
    tags: tagMap(i.Tags),
    privateIp: i.PrivateIpAddress,
    ...(i.PrivateDnsName ? { privateDnsName: i.PrivateDnsName } : {}),
    ...(i.LaunchTime ? { launchTime: new Date(i.LaunchTime).toISOString() } : {}),
  };
}

function toEni(n: SdkNetworkInterface): NetworkInterface | undefined {
  if (!n.NetworkInterfaceId) return undefined;
  const privateIps = new Set<string>();
  if (n.PrivateIpAddress) privateIps.add(n.PrivateIpAddress);
  for (const a of n.PrivateIpAddresses ?? []) if (a.PrivateIpAddress) privateIps.add(a.PrivateIpAddress);
  // NetworkInterface: `Ipv6Addresses[].Ipv6Address`, `Ipv6Prefixes[].Ipv6Prefix`, and the top-level primary
  // `Ipv6Address` (botocore ec2 service-2.json, docs/aws-facts.md#eni-address-fields).
  const ipv6 = new Set<string>();
  if (n.Ipv6Address) ipv6.add(n.Ipv6Address);
  for (const a of n.Ipv6Addresses ?? []) if (a.Ipv6Address) ipv6.add(a.Ipv6Address);
  const ipv6Prefixes = (n.Ipv6Prefixes ?? []).flatMap((p) => (p.Ipv6Prefix ? [p.Ipv6Prefix] : []));
  return {
    networkInterfaceId: n.NetworkInterfaceId,
    instanceId: n.Attachment?.InstanceId,
    vpcId: n.VpcId,
    privateIps: [...privateIps],
    ipv4Prefixes: (n.Ipv4Prefixes ?? []).flatMap((p) => (p.Ipv4Prefix ? [p.Ipv4Prefix] : [])),
    ...(ipv6.size > 0 ? { ipv6Addresses: [...ipv6] } : {}),
    ...(ipv6Prefixes.length > 0 ? { ipv6Prefixes } : {}),
    ...(n.InterfaceType && n.InterfaceType !== 'interface' ? { interfaceType: n.InterfaceType } : {}),
    tags: tagMap(n.TagSet),
  };
}

/**
 * {@link Ec2Port} on the SDK. Why the odd DescribeInstances dance: the API fails the *whole* call with
 * InvalidInstanceID.NotFound when any one id is unknown (a spot node that is already gone), while the port
 * promises that unknown ids are simply absent. The fast path asks by id; on that error the batch is asked
 * again through the `instance-id` filter, which silently matches nothing for unknown ids.
 */
export class AwsEc2 implements Ec2Port {
  readonly #client: EC2Client;
  readonly #budget: ApiBudget;

  constructor(client: EC2Client, budget: ApiBudget) {
    this.#client = client;
    this.#budget = budget;
  }

  /** The instances with these ids; unknown ids are absent (see the class comment). */
  async describeInstances(instanceIds: readonly string[]): Promise<NodeInstance[]> {
    const unique = [...new Set(instanceIds)];
    const batches = await mapWithConcurrency(chunk(unique, FILTER_VALUES_MAX), 4, (ids) => this.#describeBatch(ids));
    return batches.flat();
  }

  /** Every ENI attached to any of these instances, all pages, 200 instance ids per filter. */
  async networkInterfacesOfInstances(instanceIds: readonly string[]): Promise<NetworkInterface[]> {
    const unique = [...new Set(instanceIds)];
    const batches = await mapWithConcurrency(chunk(unique, FILTER_VALUES_MAX), 4, (ids) =>
      this.#enis([{ Name: 'attachment.instance-id', Values: ids }]),
    );
    return batches.flat();
  }

  /**
   * The branch ENIs of these trunk ENIs (security groups for pods): filter `tag:vpcresources.k8s.aws/trunk-eni-id`,
   * as the VPC resource controller finds them; they are not attached to the instance, so `attachment.instance-id`
   * misses them, and DescribeTrunkInterfaceAssociations "is not supported with assumed role"
   * (docs/aws-facts.md#branch-enis).
   */
  async branchInterfacesOfTrunks(trunkEniIds: readonly string[]): Promise<NetworkInterface[]> {
    const unique = [...new Set(trunkEniIds)];
    const batches = await mapWithConcurrency(chunk(unique, FILTER_VALUES_MAX), 4, (ids) => this.#enis([{ Name: `tag:${TRUNK_ENI_TAG}`, Values: ids }]));
    return batches.flat();
  }

  /** Every ENI in the VPC, all pages. */
  networkInterfacesInVpc(vpcId: string): Promise<NetworkInterface[]> {
    return this.#enis([{ Name: 'vpc-id', Values: [vpcId] }]);
  }

  async #describeBatch(ids: string[]): Promise<NodeInstance[]> {
    try {
      return await this.#instancePages({ InstanceIds: ids });
    } catch (err) {
      if (!UNKNOWN_ID_ERRORS.has(awsErrorName(err))) throw err;
      return this.#instancePages({ Filters: [{ Name: 'instance-id', Values: ids }], MaxResults: INSTANCE_PAGE });
    }
  }

  async #instancePages(input: { InstanceIds?: string[]; Filters?: Filter[]; MaxResults?: number }): Promise<NodeInstance[]> {
    const out: NodeInstance[] = [];
    let token: string | undefined;
    do {
      const page: DescribeInstancesCommandOutput = await this.#budget.call('ec2-describe', 'DescribeInstances', () =>
        this.#client.send(new DescribeInstancesCommand({ ...input, NextToken: token })),
      );
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          const node = toNode(i);
          if (node) out.push(node);
        }
      }
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }

  async #enis(filters: Filter[]): Promise<NetworkInterface[]> {
    const out: NetworkInterface[] = [];
    let token: string | undefined;
    do {
      const page = await this.#budget.call('ec2-describe', 'DescribeNetworkInterfaces', () =>
        this.#client.send(new DescribeNetworkInterfacesCommand({ Filters: filters, MaxResults: ENI_PAGE, NextToken: token })),
      );
      for (const n of page.NetworkInterfaces ?? []) {
        const eni = toEni(n);
        if (eni) out.push(eni);
      }
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }
}
