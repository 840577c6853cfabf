import { describe, expect, it } from 'vitest';
import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AssociateTrunkInterfaceCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  RunInstancesCommand,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
} from '@aws-sdk/client-ec2';
import { clientConfig, fakeAws } from '../../fakes/aws/shared.ts';

const ec2 = (): EC2Client => new EC2Client({ ...clientConfig(), maxAttempts: 1 });

function seedNode(vpcId = 'vpc-0a1b2c3d4e5f60718') {
  return fakeAws.ec2.seedInstance({
    vpcId,
    lifecycle: 'spot',
    privateIp: '10.0.1.10',
    tags: { 'eks:cluster-name': 'prod' },
    enis: [
      { privateIps: ['10.0.1.10', '10.0.1.11', '10.0.1.12'] },
      { privateIps: ['10.0.1.20'], ipv4Prefixes: ['10.0.96.16/28', '10.0.96.32/28'], tags: { 'node.k8s.amazonaws.com/instance_id': 'x' } },
    ],
  });
}

describe('FakeEc2 through the real SDK client', () => {
  it('lists every ENI of an instance with secondary IPs and /28 prefixes', async () => {
    const id = seedNode();
    const out = await ec2().send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id, 'i-0000000000000000f'] }] }));
    const enis = out.NetworkInterfaces ?? [];
    expect(enis).toHaveLength(2);
    const [primary, secondary] = [...enis].sort((a, b) => a.Attachment!.DeviceIndex! - b.Attachment!.DeviceIndex!);
    expect(primary!.PrivateIpAddresses?.map((p) => [p.PrivateIpAddress, p.Primary])).toEqual([
      ['10.0.1.10', true],
      ['10.0.1.11', false],
      ['10.0.1.12', false],
    ]);
    expect(secondary!.Ipv4Prefixes?.map((p) => p.Ipv4Prefix)).toEqual(['10.0.96.16/28', '10.0.96.32/28']);
    expect(secondary!.TagSet).toEqual([{ Key: 'node.k8s.amazonaws.com/instance_id', Value: 'x' }]);
    expect(secondary).toMatchObject({ VpcId: 'vpc-0a1b2c3d4e5f60718', Attachment: { InstanceId: id, DeviceIndex: 1 }, Status: 'in-use' });
    expect(secondary!.AvailabilityZone).toBe('us-east-1a');
  });

  it('addresses.private-ip-address matches secondary IPs but never an address inside a prefix', async () => {
    seedNode();
    const find = async (ip: string) =>
      (await ec2().send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.private-ip-address', Values: [ip] }] }))).NetworkInterfaces ?? [];
    expect(await find('10.0.1.11')).toHaveLength(1);
    expect(await find('10.0.96.17')).toHaveLength(0);
    const vpc = await ec2().send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-other'] }] }));
    expect(vpc.NetworkInterfaces).toEqual([]);
  });

  it('DescribeInstances: ids, filters, NotFound / Malformed errors, spot lifecycle', async () => {
    const id = seedNode();
    const out = await ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const inst = out.Reservations![0]!.Instances![0]!;
    expect(inst).toMatchObject({ InstanceId: id, State: { Name: 'running', Code: 16 }, InstanceLifecycle: 'spot', PrivateIpAddress: '10.0.1.10' });
    expect(inst.Tags).toEqual([{ Key: 'eks:cluster-name', Value: 'prod' }]);
    expect(inst.NetworkInterfaces).toHaveLength(2);
    await expect(ec2().send(new DescribeInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0'] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    });
    await expect(ec2().send(new DescribeInstancesCommand({ InstanceIds: ['bogus'] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.Malformed' });
    await expect(ec2().send(new DescribeInstancesCommand({ InstanceIds: [id], MaxResults: 5 }))).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
    });
    const byTag = await ec2().send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:eks:cluster-name', Values: ['prod'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
    expect(byTag.Reservations).toHaveLength(1);
    fakeAws.ec2.terminate(id);
    const after = await ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(after.Reservations![0]!.Instances![0]!.State?.Name).toBe('terminated');
    const enis = await ec2().send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }));
    expect(enis.NetworkInterfaces).toEqual([]);
  });

  it('paginates with MaxResults 5-1000 and NextToken', async () => {
    for (let i = 0; i < 12; i++) fakeAws.ec2.seedInstance({ vpcId: 'vpc-1', enis: [{}, {}] });
    const sizes: number[] = [];
    for await (const p of paginateDescribeInstances({ client: ec2(), pageSize: 5 }, {})) sizes.push(p.Reservations?.length ?? 0);
    expect(sizes).toEqual([5, 5, 2]);
    const eniSizes: number[] = [];
    for await (const p of paginateDescribeNetworkInterfaces({ client: ec2(), pageSize: 10 }, {})) eniSizes.push(p.NetworkInterfaces?.length ?? 0);
    expect(eniSizes).toEqual([10, 10, 4]);
    await expect(ec2().send(new DescribeNetworkInterfacesCommand({ MaxResults: 4 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('creates VPC, subnet, instances and ENIs with prefixes through the API', async () => {
    const client = ec2();
    const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await client.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.0.0/16', AvailabilityZone: 'us-east-1b' }))).Subnet!.SubnetId!;
    const run = await client.send(new RunInstancesCommand({ ImageId: 'ami-1', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: subnet }));
    const instanceId = run.Instances![0]!.InstanceId!;
    expect(run.Instances![0]!.State?.Name).toBe('pending');
    const eni = (
      await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Ipv4PrefixCount: 1, TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'k', Value: 'v' }] }] }))
    ).NetworkInterface!;
    expect(eni.Ipv4Prefixes?.[0]?.Ipv4Prefix).toMatch(/^10\.20\.\d+\.\d+\/28$/);
    await client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instanceId, DeviceIndex: 1 }));
    const assigned = await client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: ['10.20.5.5'], Ipv4Prefixes: ['10.20.200.0/28'] }));
    expect(assigned.AssignedPrivateIpAddresses?.[0]?.PrivateIpAddress).toBe('10.20.5.5');
    await client.send(new CreateTagsCommand({ Resources: [eni.NetworkInterfaceId!], Tags: [{ Key: 'cluster.k8s.amazonaws.com/name', Value: 'prod' }] }));
    const out = await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.NetworkInterfaceId!] }));
    const got = out.NetworkInterfaces![0]!;
    expect(got.Attachment).toMatchObject({ InstanceId: instanceId, DeviceIndex: 1 });
    expect(got.Ipv4Prefixes).toHaveLength(2);
    expect(got.TagSet).toContainEqual({ Key: 'cluster.k8s.amazonaws.com/name', Value: 'prod' });
    expect(got.AvailabilityZone).toBe('us-east-1b');
  });

  it('IPv6: addresses and /80 prefixes on the wire, trunk and branch ENIs as the VPC resource controller makes them', async () => {
    const client = ec2();
    const node = fakeAws.ec2.seedInstance({
      vpcId: 'vpc-1',
      tags: { 'kubernetes.io/cluster/prod': 'owned' },
      enis: [
        { privateIps: ['10.0.4.10'], ipv6Addresses: ['2600:1f18:4e1f:4d04::10'], ipv6Prefixes: ['2600:1f18:4e1f:4d04:c3a5::/80'] },
        { privateIps: ['10.0.4.20'], interfaceType: 'trunk' },
      ],
    });
    const branch = fakeAws.ec2.seedBranchEni({ trunkEniId: fakeAws.ec2.networkInterfacesOf(node)[1]!.NetworkInterfaceId!, privateIp: '10.0.4.30', clusterName: 'prod' });
    const attached = (await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [node] }] }))).NetworkInterfaces ?? [];
    // A branch ENI is attached to no instance: attachment.instance-id never returns it.
    expect(attached.map((e) => e.InterfaceType).sort()).toEqual(['interface', 'trunk']);
    const primary = attached.find((e) => e.InterfaceType === 'interface')!;
    expect(primary).toMatchObject({ Ipv6Address: '2600:1f18:4e1f:4d04::10', Ipv6Addresses: [{ Ipv6Address: '2600:1f18:4e1f:4d04::10', IsPrimaryIpv6: true }], Ipv6Prefixes: [{ Ipv6Prefix: '2600:1f18:4e1f:4d04:c3a5::/80' }] });
    const trunk = attached.find((e) => e.InterfaceType === 'trunk')!;
    expect(trunk).toMatchObject({ Description: 'aws-k8s-trunk-eni' });
    expect(trunk.TagSet).toContainEqual({ Key: 'kubernetes.io/cluster/prod', Value: 'owned' });
    const byTrunk = (await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:vpcresources.k8s.aws/trunk-eni-id', Values: [trunk.NetworkInterfaceId!] }] }))).NetworkInterfaces ?? [];
    expect(byTrunk.map((e) => e.NetworkInterfaceId)).toEqual([branch]);
    expect(byTrunk[0]).toMatchObject({ InterfaceType: 'branch', Description: 'aws-k8s-branch-eni', PrivateIpAddress: '10.0.4.30', Status: 'available' });
    expect(byTrunk[0]!.Attachment).toBeUndefined();
    expect(Object.fromEntries((byTrunk[0]!.TagSet ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ 'node.k8s.amazonaws.com/instance_id': node, 'kubernetes.io/cluster/prod': 'owned', 'eks:eni:owner': 'eks-vpc-resource-controller', 'vpcresources.k8s.aws/vlan-id': '1' });
    const inst = (await client.send(new DescribeInstancesCommand({ InstanceIds: [node] }))).Reservations![0]!.Instances![0]!;
    expect(inst.NetworkInterfaces?.[0]?.Ipv6Prefixes).toEqual([{ Ipv6Prefix: '2600:1f18:4e1f:4d04:c3a5::/80' }]);
    expect((await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'ipv6-addresses.ipv6-address', Values: ['2600:1f18:4e1f:4d04::10'] }] }))).NetworkInterfaces).toHaveLength(1);

    // Through the API: a subnet with a /64, an /80 prefix assigned as ipamd asks for it, a branch joined to the trunk.
    const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await client.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.30.0.0/16', Ipv6CidrBlock: '2600:1f18:aa:1::/64' }))).Subnet!.SubnetId!;
    const eni = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet }))).NetworkInterface!.NetworkInterfaceId!;
    const v6 = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6PrefixCount: 1 }));
    expect(v6.AssignedIpv6Prefixes).toEqual(['2600:1f18:aa:1:1::/80']);
    const t2 = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, InterfaceType: 'trunk' }))).NetworkInterface!.NetworkInterfaceId!;
    const b2 = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, InterfaceType: 'branch' }))).NetworkInterface!.NetworkInterfaceId!;
    const assoc = await client.send(new AssociateTrunkInterfaceCommand({ BranchInterfaceId: b2, TrunkInterfaceId: t2, VlanId: 7 }));
    expect(assoc.InterfaceAssociation).toMatchObject({ BranchInterfaceId: b2, TrunkInterfaceId: t2, VlanId: 7, InterfaceProtocol: 'VLAN' });
    await expect(client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: b2, InstanceId: node, DeviceIndex: 3 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});
