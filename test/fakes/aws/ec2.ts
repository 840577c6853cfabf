/**
 * Fake EC2 (signing name `ec2`, ec2Query): VPCs, subnets, instances and their ENIs with secondary IPs,
 * /28 IPv4 prefixes (prefix delegation), IPv6 addresses and /80 IPv6 prefixes (EKS IPv6 nodes), and trunk /
 * branch ENIs as the VPC resource controller makes them (security groups for pods). Answers use the SDK's PascalCase shapes (`@aws-sdk/client-ec2` types);
 * the server maps them to EC2's lowerCamel wire names (`networkInterfaceSet/item/privateIpAddressesSet/item`,
 * `ipv4PrefixSet/item/ipv4Prefix`, `reservationSet/item/instancesSet/item`, `tagSet/item`) through the SDK's
 * own output schemas, so the mapping cannot drift from the SDK.
 *
 * Semantics: EC2 API reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/) and
 * docs/aws-facts.md#ec2-and-eks-networking.
 */
import type {
  Filter,
  Instance,
  InstanceStateName,
  NetworkInterface,
  Reservation,
  Subnet,
  Tag,
  Vpc,
} from '@aws-sdk/client-ec2';
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

interface VpcRec {
  id: string;
  cidr: string;
  tags: Map<string, string>;
}

interface SubnetRec {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  nextIp: number;
  nextPrefix: number;
  /** The subnet's IPv6 /64 (`2600:1f18:4e1f:4d04::/64`), when it has one. */
  ipv6Cidr?: string;
  nextIpv6: number;
  tags: Map<string, string>;
}

/**
 * `InterfaceType` values the fake makes (botocore ec2 NetworkInterfaceType): `interface` (default), `trunk`
 * (one per node with security groups for pods), `branch` (one per such pod, never attached to an instance:
 * it is joined to the trunk with AssociateTrunkInterface and a VLAN id; docs/aws-facts.md#branch-enis).
 */
type InterfaceType = 'interface' | 'trunk' | 'branch';

interface EniRec {
  id: string;
  subnetId: string;
  vpcId: string;
  az: string;
  description: string;
  interfaceType: InterfaceType;
  privateIps: { ip: string; primary: boolean }[];
  prefixes: string[];
  /** `Ipv6Addresses[]`; the first is the primary IPv6 when `primaryIpv6` is set. */
  ipv6: string[];
  /** `Ipv6Prefixes[]` (ipamd gives an EKS IPv6 node one /80 on its primary ENI). */
  ipv6Prefixes: string[];
  primaryIpv6: boolean;
  /** A branch ENI's trunk association (AssociateTrunkInterface). */
  trunk?: { trunkId: string; vlanId: number; associationId: string };
  tags: Map<string, string>;
  attachment?: { instanceId: string; deviceIndex: number; attachmentId: string; attachTime: Date; deleteOnTermination: boolean };
}

interface InstanceRec {
  id: string;
  vpcId: string;
  subnetId: string;
  az: string;
  state: InstanceStateName;
  tags: Map<string, string>;
  privateIp: string;
  lifecycle?: 'spot' | 'scheduled' | 'capacity-block';
  instanceType: string;
  imageId: string;
  launchTime: Date;
}

export interface SeedEni {
  networkInterfaceId?: string;
  /** The first one is the ENI's primary IP. */
  privateIps?: string[];
  /** /28 prefixes, e.g. `10.0.96.16/28`. */
  ipv4Prefixes?: string[];
  /** IPv6 addresses (`Ipv6Addresses`); the first is marked `IsPrimaryIpv6`. */
  ipv6Addresses?: string[];
  /** IPv6 prefixes, e.g. the node's `2600:1f18:4e1f:4d04:c3a5::/80`. */
  ipv6Prefixes?: string[];
  /** `trunk` for the VPC resource controller's trunk ENI (gets its description and tags). */
  interfaceType?: 'interface' | 'trunk';
  tags?: Record<string, string>;
}

/** A pod's branch ENI as the VPC resource controller creates it (see {@link FakeEc2.seedBranchEni}). */
export interface SeedBranchEni {
  /** The node's trunk ENI the branch is associated with. */
  trunkEniId: string;
  /** The branch's primary private IPv4: the pod's IP (docs/aws-facts.md#branch-enis). */
  privateIp: string;
  ipv6Address?: string;
  vlanId?: number;
  /** `kubernetes.io/cluster/<clusterName>=owned`; the controller writes no other cluster tag. */
  clusterName: string;
  networkInterfaceId?: string;
  /** Extra tags, or `null` values to leave one of the controller's tags out (an ENI quiesce cannot attribute). */
  tags?: Record<string, string | null>;
}

export interface SeedInstanceOptions {
  instanceId?: string;
  /** When it was (last) launched; default now. Nodes of a test topology have usually run for a while. */
  launchTime?: Date;
  vpcId?: string;
  subnetId?: string;
  availabilityZone?: string;
  state?: InstanceStateName;
  tags?: Record<string, string>;
  /** Primary private IP of the instance (= primary IP of ENI 0). */
  privateIp?: string;
  lifecycle?: 'spot' | 'normal';
  instanceType?: string;
  /** ENIs by device index; ENI 0 gets `privateIp` as primary. Default: one ENI with `privateIp`. */
  enis?: SeedEni[];
}

const ipToInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (Math.floor(n / 2 ** s) % 256).toString()).join('.');
const cidrBase = (cidr: string): number => ipToInt(cidr.split('/')[0]!);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const arr = <T = Record<string, unknown>>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const tagList = (m: Map<string, string>): Tag[] => [...m].map(([Key, Value]) => ({ Key, Value }));
const invalidParam = (message: string): FakeAwsError => new FakeAwsError('InvalidParameterValue', message, 400);

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

function tagsFromSpecs(specs: unknown, resourceType: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of arr<{ ResourceType?: string; Tags?: Tag[] }>(specs)) {
    if (s.ResourceType !== resourceType) continue;
    for (const t of s.Tags ?? []) if (t.Key) m.set(t.Key, t.Value ?? '');
  }
  return m;
}

/** EC2 filter semantics: values of one filter are ORed, filters are ANDed; `*` and `?` are wildcards. */
function matchValue(pattern: string, v: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === v;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(v);
}

function matchFilters(filters: Filter[], field: (name: string) => string[] | undefined): boolean {
  for (const f of filters) {
    const name = f.Name ?? '';
    const values = f.Values ?? [];
    const actual = field(name);
    if (actual === undefined) throw invalidParam(`The filter '${name}' is invalid`);
    if (!values.some((p) => actual.some((a) => matchValue(p, a)))) return false;
  }
  return true;
}

function tagField(name: string, tags: Map<string, string>): string[] | undefined {
  if (name.startsWith('tag:')) {
    const v = tags.get(name.slice(4));
    return v === undefined ? [] : [v];
  }
  if (name === 'tag-key') return [...tags.keys()];
  if (name === 'tag-value') return [...tags.values()];
  return undefined;
}

/** NextToken = base64 of the next index. MaxResults 5-1000 (both DescribeInstances and DescribeNetworkInterfaces). */
function paginate<T>(items: T[], input: Record<string, unknown>, param: string): { items: T[]; next?: string } {
  const max = num(input.MaxResults);
  const token = str(input.NextToken);
  if (max === undefined && token === undefined) return { items };
  if (max !== undefined && (max < 5 || max > 1000)) {
    throw invalidParam(`Value ( ${max} ) for parameter ${param} is invalid. Expecting a value between 5 and 1000.`);
  }
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalidParam('The specified token is not valid');
  }
  const n = max ?? 1000;
  const slice = items.slice(start, start + n);
  return start + n < items.length ? { items: slice, next: Buffer.from(String(start + n)).toString('base64') } : { items: slice };
}

export class FakeEc2 implements FakeService {
  readonly signingName = 'ec2';
  readonly #clock: FakeClock;
  #seq = 0;
  #vpcs = new Map<string, VpcRec>();
  #subnets = new Map<string, SubnetRec>();
  #instances = new Map<string, InstanceRec>();
  #enis = new Map<string, EniRec>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#seq = 0;
    this.#vpcs.clear();
    this.#subnets.clear();
    this.#instances.clear();
    this.#enis.clear();
  }

  // ------------------------------------------------------------------------------------------------------
  // JS hooks
  // ------------------------------------------------------------------------------------------------------

  /** Seeds an instance with its ENIs (VPC and subnet created on demand). Returns the instance id. */
  seedInstance(opts: SeedInstanceOptions): string {
    const subnet = this.#subnetFor(opts.vpcId ?? 'vpc-00000000000000001', opts.subnetId, opts.availabilityZone);
    const id = opts.instanceId ?? this.#id('i-');
    if (!INSTANCE_ID.test(id)) throw new Error(`malformed instance id ${id}`);
    const enis = opts.enis?.length ? opts.enis : [{}];
    const primaryIp = opts.privateIp ?? enis[0]!.privateIps?.[0] ?? this.#allocIp(subnet);
    const inst: InstanceRec = {
      id,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      az: subnet.az,
      state: opts.state ?? 'running',
      tags: new Map(Object.entries(opts.tags ?? {})),
      privateIp: primaryIp,
      lifecycle: opts.lifecycle === 'spot' ? 'spot' : undefined,
      instanceType: opts.instanceType ?? 'm5.large',
      imageId: 'ami-0123456789abcdef0',
      launchTime: opts.launchTime ?? new Date(this.#clock.now()),
    };
    this.#instances.set(id, inst);
    enis.forEach((e, i) => {
      let ips = e.privateIps ?? [];
      if (i === 0 && ips[0] !== primaryIp) ips = [primaryIp, ...ips.filter((x) => x !== primaryIp)];
      if (ips.length === 0) ips = [this.#allocIp(subnet)];
      const trunk = e.interfaceType === 'trunk';
      // The VPC resource controller's trunk: description `aws-k8s-trunk-eni`, tags eks:eni:owner,
      // node.k8s.amazonaws.com/instance_id and kubernetes.io/cluster/<name> (docs/aws-facts.md#branch-enis).
      const trunkTags: Record<string, string> = trunk
        ? { 'eks:eni:owner': 'eks-vpc-resource-controller', 'node.k8s.amazonaws.com/instance_id': id, ...Object.fromEntries([...inst.tags].filter(([k]) => k.startsWith('kubernetes.io/cluster/')).map(([k]) => [k, 'owned'])) }
        : {};
      const eni: EniRec = {
        id: e.networkInterfaceId ?? this.#id('eni-'),
        subnetId: subnet.id,
        vpcId: subnet.vpcId,
        az: subnet.az,
        description: trunk ? 'aws-k8s-trunk-eni' : i === 0 ? '' : 'aws-K8S-' + id,
        interfaceType: trunk ? 'trunk' : 'interface',
        privateIps: ips.map((ip, j) => ({ ip, primary: j === 0 })),
        prefixes: [...(e.ipv4Prefixes ?? [])],
        ipv6: [...(e.ipv6Addresses ?? [])],
        ipv6Prefixes: [...(e.ipv6Prefixes ?? [])],
        primaryIpv6: (e.ipv6Addresses ?? []).length > 0,
        tags: new Map(Object.entries({ ...trunkTags, ...(e.tags ?? {}) })),
        attachment: { instanceId: id, deviceIndex: i, attachmentId: this.#id('eni-attach-'), attachTime: new Date(this.#clock.now()), deleteOnTermination: true },
      };
      this.#enis.set(eni.id, eni);
    });
    return id;
  }

  setInstanceState(id: string, state: InstanceStateName): void {
    const inst = this.#instances.get(id);
    if (!inst) throw new Error(`no instance ${id}`);
    if (state === 'terminated') return this.terminate(id);
    // DescribeInstances `LaunchTime`: "The time that the instance was last launched" (EC2 API reference,
    // Instance): starting a stopped (or hibernated) instance again moves it; a running one keeps it.
    if ((state === 'pending' || state === 'running') && inst.state !== 'pending' && inst.state !== 'running') inst.launchTime = new Date(this.#clock.now());
    inst.state = state;
  }

  /** Terminates an instance: it stays visible as `terminated`; its ENIs detach and (delete-on-termination) vanish. */
  terminate(id: string): void {
    const inst = this.#instances.get(id);
    if (!inst) throw new Error(`no instance ${id}`);
    inst.state = 'terminated';
    for (const [eniId, eni] of this.#enis) {
      if (eni.attachment?.instanceId !== id) continue;
      if (eni.attachment.deleteOnTermination) this.#enis.delete(eniId);
      else eni.attachment = undefined;
    }
  }

  /**
   * A pod's branch ENI (security groups for pods), as the VPC resource controller makes it: created
   * unattached in the trunk's subnet, description `aws-k8s-branch-eni`, tagged
   * `vpcresources.k8s.aws/trunk-eni-id`, `vpcresources.k8s.aws/vlan-id`, `node.k8s.amazonaws.com/instance_id`,
   * `eks:eni:owner=eks-vpc-resource-controller` and `kubernetes.io/cluster/<cluster>=owned`, then joined to the
   * trunk (AssociateTrunkInterface). It has no Attachment, so `attachment.instance-id` never returns it
   * (docs/aws-facts.md#branch-enis; amazon-vpc-resource-controller-k8s pkg/provider/branch/trunk/trunk.go,
   * pkg/config/type.go @ b8d4251). Returns the ENI id.
   */
  seedBranchEni(opts: SeedBranchEni): string {
    const trunk = this.#eni(opts.trunkEniId);
    if (trunk.interfaceType !== 'trunk') throw new Error(`${opts.trunkEniId} is not a trunk ENI`);
    const instanceId = trunk.attachment?.instanceId ?? '';
    const vlanId = opts.vlanId ?? 1 + [...this.#enis.values()].filter((e) => e.trunk?.trunkId === trunk.id).length;
    const tags: Record<string, string | null> = {
      'vpcresources.k8s.aws/trunk-eni-id': trunk.id,
      'vpcresources.k8s.aws/vlan-id': String(vlanId),
      'node.k8s.amazonaws.com/instance_id': instanceId,
      'eks:eni:owner': 'eks-vpc-resource-controller',
      [`kubernetes.io/cluster/${opts.clusterName}`]: 'owned',
      ...opts.tags,
    };
    this.#checkIpsFree([opts.privateIp]);
    const eni: EniRec = {
      id: opts.networkInterfaceId ?? this.#id('eni-'),
      subnetId: trunk.subnetId,
      vpcId: trunk.vpcId,
      az: trunk.az,
      description: 'aws-k8s-branch-eni',
      interfaceType: 'branch',
      privateIps: [{ ip: opts.privateIp, primary: true }],
      prefixes: [],
      ipv6: opts.ipv6Address ? [opts.ipv6Address] : [],
      ipv6Prefixes: [],
      primaryIpv6: false,
      trunk: { trunkId: trunk.id, vlanId, associationId: this.#id('trunk-assoc-') },
      tags: new Map(Object.entries(tags).filter((kv): kv is [string, string] => kv[1] !== null)),
    };
    this.#enis.set(eni.id, eni);
    return eni.id;
  }

  /** Deletes an ENI (the controller deletes a branch ENI after its cooldown; docs/aws-facts.md#branch-enis). */
  deleteEni(id: string): void {
    if (!this.#enis.delete(id)) throw new Error(`no ENI ${id}`);
  }

  /** The ENIs of an instance (SDK shape), for assertions. */
  networkInterfacesOf(instanceId: string): NetworkInterface[] {
    return [...this.#enis.values()].filter((e) => e.attachment?.instanceId === instanceId).map((e) => this.#eniOut(e));
  }

  // ------------------------------------------------------------------------------------------------------
  // API
  // ------------------------------------------------------------------------------------------------------

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeInstances':
        return this.#describeInstances(input);
      case 'DescribeNetworkInterfaces':
        return this.#describeNetworkInterfaces(input);
      case 'RunInstances':
        return this.#runInstances(input);
      case 'TerminateInstances':
        return this.#terminateInstances(input);
      case 'CreateNetworkInterface':
        return this.#createNetworkInterface(input);
      case 'AttachNetworkInterface':
        return this.#attachNetworkInterface(input);
      case 'AssignPrivateIpAddresses':
        return this.#assignPrivateIpAddresses(input);
      case 'AssignIpv6Addresses':
        return this.#assignIpv6Addresses(input);
      case 'AssociateTrunkInterface':
        return this.#associateTrunkInterface(input);
      case 'CreateTags':
        return this.#createTags(input);
      case 'CreateVpc':
        return this.#createVpc(input);
      case 'CreateSubnet':
        return this.#createSubnet(input);
      case 'DescribeVpcs':
        return { Vpcs: [...this.#vpcs.values()].map((v) => this.#vpcOut(v)) };
      case 'DescribeSubnets':
        return { Subnets: [...this.#subnets.values()].map((s) => this.#subnetOut(s)) };
      default:
        throw new UnknownOperationError('InvalidAction', `The action ${operation} is not valid for this web service (fake).`, 400);
    }
  }

  // ---- instances ---------------------------------------------------------------------------------------

  #instanceOut(i: InstanceRec): Instance {
    const enis = [...this.#enis.values()]
      .filter((e) => e.attachment?.instanceId === i.id)
      .sort((a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex);
    const live = i.state !== 'terminated';
    return {
      InstanceId: i.id,
      ImageId: i.imageId,
      InstanceType: i.instanceType as Instance['InstanceType'],
      LaunchTime: i.launchTime,
      State: { Code: STATE_CODES[i.state], Name: i.state },
      PrivateIpAddress: live ? i.privateIp : undefined,
      PrivateDnsName: live ? `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal` : '',
      SubnetId: live ? i.subnetId : undefined,
      VpcId: live ? i.vpcId : undefined,
      Placement: { AvailabilityZone: i.az, Tenancy: 'default' },
      InstanceLifecycle: i.lifecycle,
      Tags: i.tags.size ? tagList(i.tags) : undefined,
      NetworkInterfaces: enis.map((e) => ({
        NetworkInterfaceId: e.id,
        SubnetId: e.subnetId,
        VpcId: e.vpcId,
        Description: e.description,
        OwnerId: ACCOUNT,
        Status: 'in-use',
        PrivateIpAddress: e.privateIps.find((p) => p.primary)?.ip,
        PrivateIpAddresses: e.privateIps.map((p) => ({ Primary: p.primary, PrivateIpAddress: p.ip })),
        Ipv4Prefixes: e.prefixes.map((p) => ({ Ipv4Prefix: p })),
        // InstanceNetworkInterface carries the same IPv6 fields (botocore ec2 service-2.json).
        Ipv6Addresses: e.ipv6.map((a, j) => ({ Ipv6Address: a, IsPrimaryIpv6: e.primaryIpv6 && j === 0 })),
        Ipv6Prefixes: e.ipv6Prefixes.map((p) => ({ Ipv6Prefix: p })),
        Attachment: {
          AttachmentId: e.attachment!.attachmentId,
          DeviceIndex: e.attachment!.deviceIndex,
          Status: 'attached',
          AttachTime: e.attachment!.attachTime,
          DeleteOnTermination: e.attachment!.deleteOnTermination,
        },
        InterfaceType: e.interfaceType,
      })),
    };
  }

  #instanceField(i: InstanceRec, name: string): string[] | undefined {
    switch (name) {
      case 'instance-id':
        return [i.id];
      case 'instance-state-name':
        return [i.state];
      case 'instance-state-code':
        return [String(STATE_CODES[i.state])];
      case 'vpc-id':
        return [i.vpcId];
      case 'subnet-id':
        return [i.subnetId];
      case 'availability-zone':
        return [i.az];
      case 'private-ip-address':
        return [i.privateIp];
      case 'instance-lifecycle':
        return i.lifecycle ? [i.lifecycle] : [];
      case 'instance-type':
        return [i.instanceType];
      case 'network-interface.network-interface-id':
        return [...this.#enis.values()].filter((e) => e.attachment?.instanceId === i.id).map((e) => e.id);
      case 'network-interface.addresses.private-ip-address':
        return [...this.#enis.values()].filter((e) => e.attachment?.instanceId === i.id).flatMap((e) => e.privateIps.map((p) => p.ip));
      default:
        return tagField(name, i.tags);
    }
  }

  #describeInstances(input: Record<string, unknown>): unknown {
    const ids = arr<string>(input.InstanceIds);
    const filters = arr<Filter>(input.Filters);
    // DescribeInstances: "You cannot specify this parameter [MaxResults] and the instance IDs parameter in the same call."
    if (ids.length && input.MaxResults !== undefined) {
      throw new FakeAwsError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    let instances: InstanceRec[];
    if (ids.length) {
      const malformed = ids.find((id) => !INSTANCE_ID.test(id));
      if (malformed) throw new FakeAwsError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
      const missing = ids.filter((id) => !this.#instances.has(id));
      if (missing.length === 1) throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]!}' does not exist`);
      if (missing.length > 1) throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
      instances = [...new Set(ids)].map((id) => this.#instances.get(id)!);
    } else {
      instances = [...this.#instances.values()];
    }
    instances = instances.filter((i) => matchFilters(filters, (n) => this.#instanceField(i, n)));
    const p = paginate(instances, input, 'maxResults');
    const Reservations: Reservation[] = p.items.map((i) => ({
      ReservationId: `r-${i.id.slice(2)}`,
      OwnerId: ACCOUNT,
      Instances: [this.#instanceOut(i)],
    }));
    return { Reservations, NextToken: p.next };
  }

  #runInstances(input: Record<string, unknown>): unknown {
    const count = num(input.MinCount) ?? 1;
    const subnetId = str(input.SubnetId);
    const subnet = subnetId ? this.#subnets.get(subnetId) : this.#subnetFor('vpc-00000000000000001', undefined, undefined);
    if (!subnet) throw new FakeAwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId ?? ''}' does not exist`);
    const tags = tagsFromSpecs(input.TagSpecifications, 'instance');
    const out: Instance[] = [];
    for (let n = 0; n < count; n++) {
      const id = this.seedInstance({
        subnetId: subnet.id,
        vpcId: subnet.vpcId,
        tags: Object.fromEntries(tags),
        instanceType: str(input.InstanceType),
        privateIp: n === 0 ? str(input.PrivateIpAddress) : undefined,
      });
      const inst = this.#instances.get(id)!;
      inst.imageId = str(input.ImageId) ?? inst.imageId;
      out.push({ ...this.#instanceOut(inst), State: { Code: 0, Name: 'pending' } });
    }
    return { ReservationId: `r-${this.#hex(17)}`, OwnerId: ACCOUNT, Instances: out };
  }

  #terminateInstances(input: Record<string, unknown>): unknown {
    const ids = arr<string>(input.InstanceIds);
    const missing = ids.filter((id) => !this.#instances.has(id));
    if (missing.length) throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return {
      TerminatingInstances: ids.map((id) => {
        const prev = this.#instances.get(id)!.state;
        this.terminate(id);
        return { InstanceId: id, PreviousState: { Code: STATE_CODES[prev], Name: prev }, CurrentState: { Code: 32, Name: 'shutting-down' } };
      }),
    };
  }

  // ---- network interfaces ------------------------------------------------------------------------------

  #eniOut(e: EniRec): NetworkInterface {
    const primary = e.privateIps.find((p) => p.primary)?.ip;
    const dns = (ip: string): string => `ip-${ip.replace(/\./g, '-')}.ec2.internal`;
    return {
      NetworkInterfaceId: e.id,
      SubnetId: e.subnetId,
      VpcId: e.vpcId,
      AvailabilityZone: e.az,
      Description: e.description,
      InterfaceType: e.interfaceType,
      MacAddress: '02:00:00:' + e.id.slice(-6).replace(/(..)(?!$)/g, '$1:'),
      OwnerId: ACCOUNT,
      PrivateIpAddress: primary,
      PrivateDnsName: primary ? dns(primary) : undefined,
      PrivateIpAddresses: e.privateIps.map((p) => ({ Primary: p.primary, PrivateIpAddress: p.ip, PrivateDnsName: dns(p.ip) })),
      Ipv4Prefixes: e.prefixes.map((p) => ({ Ipv4Prefix: p })),
      // `Ipv6Addresses[] = {Ipv6Address, IsPrimaryIpv6}`, `Ipv6Prefixes[] = {Ipv6Prefix}`, top-level `Ipv6Address`
      // (the primary one) and `Ipv6Native` (docs/aws-facts.md#eni-address-fields).
      Ipv6Addresses: e.ipv6.map((a, j) => ({ Ipv6Address: a, IsPrimaryIpv6: e.primaryIpv6 && j === 0 })),
      Ipv6Prefixes: e.ipv6Prefixes.map((p) => ({ Ipv6Prefix: p })),
      Ipv6Address: e.primaryIpv6 ? e.ipv6[0] : undefined,
      Ipv6Native: false,
      Attachment: e.attachment && {
        AttachmentId: e.attachment.attachmentId,
        AttachTime: e.attachment.attachTime,
        DeleteOnTermination: e.attachment.deleteOnTermination,
        DeviceIndex: e.attachment.deviceIndex,
        NetworkCardIndex: 0,
        InstanceId: e.attachment.instanceId,
        InstanceOwnerId: ACCOUNT,
        Status: 'attached',
      },
      RequesterManaged: false,
      SourceDestCheck: true,
      Status: e.attachment ? 'in-use' : 'available',
      TagSet: tagList(e.tags),
    };
  }

  #eniField(e: EniRec, name: string): string[] | undefined {
    switch (name) {
      case 'network-interface-id':
        return [e.id];
      case 'attachment.instance-id':
        return e.attachment ? [e.attachment.instanceId] : [];
      case 'attachment.device-index':
        return e.attachment ? [String(e.attachment.deviceIndex)] : [];
      case 'attachment.status':
        return e.attachment ? ['attached'] : [];
      case 'vpc-id':
        return [e.vpcId];
      case 'subnet-id':
        return [e.subnetId];
      case 'availability-zone':
        return [e.az];
      case 'status':
        return [e.attachment ? 'in-use' : 'available'];
      case 'description':
        return [e.description];
      // "addresses.private-ip-address - The private IPv4 addresses associated with the network interface":
      // every private IP (primary and secondary), never an address inside a delegated prefix.
      case 'addresses.private-ip-address':
        return e.privateIps.map((p) => p.ip);
      case 'private-ip-address':
        return e.privateIps.filter((p) => p.primary).map((p) => p.ip);
      case 'addresses.primary':
        return [...new Set(e.privateIps.map((p) => String(p.primary)))];
      // "ipv6-addresses.ipv6-address - An IPv6 address associated with the network interface": listed
      // addresses only; like the IPv4 filters, none matches an address inside a prefix
      // (docs/aws-facts.md#eni-filters-and-paging).
      case 'ipv6-addresses.ipv6-address':
        return e.ipv6;
      case 'interface-type':
        return [e.interfaceType];
      case 'owner-id':
        return [ACCOUNT];
      default:
        return tagField(name, e.tags);
    }
  }

  #describeNetworkInterfaces(input: Record<string, unknown>): unknown {
    const ids = arr<string>(input.NetworkInterfaceIds);
    const filters = arr<Filter>(input.Filters);
    if (ids.length && input.MaxResults !== undefined) {
      throw new FakeAwsError('InvalidParameterCombination', 'The parameter NetworkInterfaceIds cannot be used with the parameter maxResults');
    }
    let enis: EniRec[];
    if (ids.length) {
      const malformed = ids.find((id) => !/^eni-[0-9a-f]{8,17}$/.test(id));
      if (malformed) throw new FakeAwsError('InvalidNetworkInterfaceID.Malformed', `Invalid id: "${malformed}" (expecting "eni-...")`);
      const missing = ids.find((id) => !this.#enis.has(id));
      if (missing) throw new FakeAwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${missing}' does not exist`);
      enis = [...new Set(ids)].map((id) => this.#enis.get(id)!);
    } else {
      enis = [...this.#enis.values()];
    }
    enis = enis.filter((e) => matchFilters(filters, (n) => this.#eniField(e, n)));
    const p = paginate(enis, input, 'MaxResults');
    return { NetworkInterfaces: p.items.map((e) => this.#eniOut(e)), NextToken: p.next };
  }

  #createNetworkInterface(input: Record<string, unknown>): unknown {
    const subnetId = str(input.SubnetId) ?? '';
    const subnet = this.#subnets.get(subnetId);
    if (!subnet) throw new FakeAwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    const ips: { ip: string; primary: boolean }[] = [];
    const primary = str(input.PrivateIpAddress);
    if (primary) ips.push({ ip: primary, primary: true });
    for (const p of arr<{ PrivateIpAddress?: string; Primary?: boolean }>(input.PrivateIpAddresses)) {
      if (p.PrivateIpAddress && !ips.some((x) => x.ip === p.PrivateIpAddress)) ips.push({ ip: p.PrivateIpAddress, primary: !!p.Primary && !ips.some((x) => x.primary) });
    }
    if (!ips.some((x) => x.primary)) {
      if (ips[0]) ips[0].primary = true;
      else ips.push({ ip: this.#allocIp(subnet), primary: true });
    }
    for (let n = num(input.SecondaryPrivateIpAddressCount) ?? 0; n > 0; n--) ips.push({ ip: this.#allocIp(subnet), primary: false });
    const prefixes = arr<{ Ipv4Prefix?: string }>(input.Ipv4Prefixes).map((p) => p.Ipv4Prefix ?? '').filter(Boolean);
    for (let n = num(input.Ipv4PrefixCount) ?? 0; n > 0; n--) prefixes.push(this.#allocPrefix(subnet));
    this.#checkIpsFree(ips.map((x) => x.ip));
    // CreateNetworkInterface `InterfaceType`: efa | efa-only | branch | trunk (botocore NetworkInterfaceCreationType).
    const type = str(input.InterfaceType);
    if (type !== undefined && type !== 'trunk' && type !== 'branch') throw invalidParam(`Value (${type}) for parameter interfaceType is invalid (fake: trunk or branch only)`);
    const ipv6 = arr<{ Ipv6Address?: string }>(input.Ipv6Addresses).map((a) => a.Ipv6Address ?? '').filter(Boolean);
    const ipv6Prefixes = arr<{ Ipv6Prefix?: string }>(input.Ipv6Prefixes).map((p) => p.Ipv6Prefix ?? '').filter(Boolean);
    const eni: EniRec = {
      id: this.#id('eni-'),
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      description: str(input.Description) ?? '',
      interfaceType: type ?? 'interface',
      privateIps: ips,
      prefixes,
      ipv6,
      ipv6Prefixes,
      primaryIpv6: input.EnablePrimaryIpv6 === true && ipv6.length > 0,
      tags: tagsFromSpecs(input.TagSpecifications, 'network-interface'),
    };
    this.#enis.set(eni.id, eni);
    return { NetworkInterface: this.#eniOut(eni) };
  }

  #attachNetworkInterface(input: Record<string, unknown>): unknown {
    const eni = this.#eni(str(input.NetworkInterfaceId));
    const instanceId = str(input.InstanceId) ?? '';
    const inst = this.#instances.get(instanceId);
    if (!inst || inst.state === 'terminated') throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    if (eni.attachment || eni.trunk) throw new FakeAwsError('InvalidParameterValue', `Interface: [${eni.id}] in use.`);
    const deviceIndex = num(input.DeviceIndex) ?? 1;
    const taken = [...this.#enis.values()].some((e) => e.attachment?.instanceId === instanceId && e.attachment.deviceIndex === deviceIndex);
    if (taken) throw new FakeAwsError('InvalidParameterValue', `Instance '${instanceId}' already has an interface attached at device index '${deviceIndex}'.`);
    eni.attachment = { instanceId, deviceIndex, attachmentId: this.#id('eni-attach-'), attachTime: new Date(this.#clock.now()), deleteOnTermination: false };
    return { AttachmentId: eni.attachment.attachmentId, NetworkCardIndex: 0 };
  }

  #assignPrivateIpAddresses(input: Record<string, unknown>): unknown {
    const eni = this.#eni(str(input.NetworkInterfaceId));
    const subnet = this.#subnets.get(eni.subnetId)!;
    const ips = arr<string>(input.PrivateIpAddresses);
    for (let n = num(input.SecondaryPrivateIpAddressCount) ?? 0; n > 0; n--) ips.push(this.#allocIp(subnet));
    this.#checkIpsFree(ips);
    const prefixes = arr<string>(input.Ipv4Prefixes);
    for (let n = num(input.Ipv4PrefixCount) ?? 0; n > 0; n--) prefixes.push(this.#allocPrefix(subnet));
    for (const ip of ips) eni.privateIps.push({ ip, primary: false });
    eni.prefixes.push(...prefixes);
    return {
      NetworkInterfaceId: eni.id,
      AssignedPrivateIpAddresses: ips.map((PrivateIpAddress) => ({ PrivateIpAddress })),
      AssignedIpv4Prefixes: prefixes.map((Ipv4Prefix) => ({ Ipv4Prefix })),
    };
  }

  /**
   * AssignIpv6Addresses: `Ipv6Addresses` / `Ipv6AddressCount` and `Ipv6Prefixes` / `Ipv6PrefixCount` (ipamd
   * asks for one prefix: `Ipv6PrefixCount: 1`, docs/aws-facts.md#eks-ipv6-one-80-per-node). Allocated prefixes are
   * /80s of the subnet's /64.
   */
  #assignIpv6Addresses(input: Record<string, unknown>): unknown {
    const eni = this.#eni(str(input.NetworkInterfaceId));
    const subnet = this.#subnets.get(eni.subnetId)!;
    const ips = arr<string>(input.Ipv6Addresses);
    const prefixes = arr<string>(input.Ipv6Prefixes);
    const count = (num(input.Ipv6AddressCount) ?? 0) + (num(input.Ipv6PrefixCount) ?? 0);
    if (count > 0 && !subnet.ipv6Cidr) throw invalidParam(`Subnet ${subnet.id} has no IPv6 CIDR block`);
    for (let n = num(input.Ipv6AddressCount) ?? 0; n > 0; n--) ips.push(this.#allocIpv6(subnet, 128));
    for (let n = num(input.Ipv6PrefixCount) ?? 0; n > 0; n--) prefixes.push(this.#allocIpv6(subnet, 80));
    eni.ipv6.push(...ips);
    eni.ipv6Prefixes.push(...prefixes);
    return { NetworkInterfaceId: eni.id, AssignedIpv6Addresses: ips, AssignedIpv6Prefixes: prefixes };
  }

  /**
   * AssociateTrunkInterface (BranchInterfaceId, TrunkInterfaceId, VlanId): joins a branch ENI to a trunk. The
   * branch stays unattached to any instance (docs/aws-facts.md#branch-enis).
   */
  #associateTrunkInterface(input: Record<string, unknown>): unknown {
    const branch = this.#eni(str(input.BranchInterfaceId));
    const trunk = this.#eni(str(input.TrunkInterfaceId));
    if (trunk.interfaceType !== 'trunk') throw invalidParam(`Interface ${trunk.id} is not a trunk interface`);
    if (branch.interfaceType !== 'branch' || branch.attachment || branch.trunk) throw invalidParam(`Interface ${branch.id} cannot be associated`);
    branch.trunk = { trunkId: trunk.id, vlanId: num(input.VlanId) ?? 1, associationId: this.#id('trunk-assoc-') };
    return {
      InterfaceAssociation: { AssociationId: branch.trunk.associationId, BranchInterfaceId: branch.id, TrunkInterfaceId: trunk.id, InterfaceProtocol: 'VLAN', VlanId: branch.trunk.vlanId },
    };
  }

  // ---- tags, VPCs, subnets -----------------------------------------------------------------------------

  #createTags(input: Record<string, unknown>): unknown {
    const resources = arr<string>(input.Resources);
    const tags = arr<Tag>(input.Tags);
    const targets = resources.map((r) => {
      const m = r.startsWith('i-')
        ? this.#instances.get(r)?.tags
        : r.startsWith('eni-')
          ? this.#enis.get(r)?.tags
          : r.startsWith('vpc-')
            ? this.#vpcs.get(r)?.tags
            : r.startsWith('subnet-')
              ? this.#subnets.get(r)?.tags
              : undefined;
      if (!m) {
        const code = r.startsWith('i-') ? 'InvalidInstanceID.NotFound' : r.startsWith('eni-') ? 'InvalidNetworkInterfaceID.NotFound' : 'InvalidID';
        throw new FakeAwsError(code, `The ID '${r}' does not exist`);
      }
      return m;
    });
    for (const m of targets) for (const t of tags) if (t.Key) m.set(t.Key, t.Value ?? '');
    return {};
  }

  #vpcOut(v: VpcRec): Vpc {
    return { VpcId: v.id, CidrBlock: v.cidr, State: 'available', IsDefault: false, OwnerId: ACCOUNT, Tags: tagList(v.tags) };
  }

  #subnetOut(s: SubnetRec): Subnet {
    return {
      SubnetId: s.id,
      VpcId: s.vpcId,
      CidrBlock: s.cidr,
      AvailabilityZone: s.az,
      State: 'available',
      OwnerId: ACCOUNT,
      Tags: tagList(s.tags),
      ...(s.ipv6Cidr ? { Ipv6CidrBlockAssociationSet: [{ AssociationId: `subnet-cidr-assoc-${s.id.slice(7)}`, Ipv6CidrBlock: s.ipv6Cidr, Ipv6CidrBlockState: { State: 'associated' } }] } : {}),
    };
  }

  #createVpc(input: Record<string, unknown>): unknown {
    const cidr = str(input.CidrBlock) ?? '10.0.0.0/16';
    const v: VpcRec = { id: this.#id('vpc-'), cidr, tags: tagsFromSpecs(input.TagSpecifications, 'vpc') };
    this.#vpcs.set(v.id, v);
    return { Vpc: this.#vpcOut(v) };
  }

  #createSubnet(input: Record<string, unknown>): unknown {
    const vpcId = str(input.VpcId) ?? '';
    if (!this.#vpcs.has(vpcId)) throw new FakeAwsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    const cidr = str(input.CidrBlock);
    if (!cidr) throw new FakeAwsError('MissingParameter', 'The request must contain the parameter cidrBlock');
    const s: SubnetRec = {
      id: this.#id('subnet-'),
      vpcId,
      cidr,
      az: str(input.AvailabilityZone) ?? `${REGION}a`,
      nextIp: 10,
      nextPrefix: 0,
      nextIpv6: 1,
      tags: tagsFromSpecs(input.TagSpecifications, 'subnet'),
    };
    const v6 = str(input.Ipv6CidrBlock);
    if (v6 !== undefined) {
      // A subnet's IPv6 block is a /64 (VPC UG); the fake takes it written `a:b:c:d::/64`.
      if (!/^([0-9a-f]{1,4}:){4}:\/64$/i.test(v6)) throw invalidParam(`The IPv6 CIDR '${v6}' is invalid (fake: a:b:c:d::/64)`);
      s.ipv6Cidr = v6.toLowerCase();
    }
    this.#subnets.set(s.id, s);
    return { Subnet: this.#subnetOut(s) };
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  #eni(id: string | undefined): EniRec {
    const e = id ? this.#enis.get(id) : undefined;
    if (!e) throw new FakeAwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id ?? ''}' does not exist`);
    return e;
  }

  #checkIpsFree(ips: string[]): void {
    const used = new Set([...this.#enis.values()].flatMap((e) => e.privateIps.map((p) => p.ip)));
    const dup = ips.find((ip) => used.has(ip));
    if (dup) throw new FakeAwsError('PrivateIpAddressLimitExceeded', `The address ${dup} is already in use`);
  }

  /** A subnet of `vpcId` (the given one, or the VPC's first, creating the VPC and a /16 subnet on demand). */
  #subnetFor(vpcId: string, subnetId: string | undefined, az: string | undefined): SubnetRec {
    if (subnetId) {
      const s = this.#subnets.get(subnetId);
      if (s) return s;
    }
    if (!this.#vpcs.has(vpcId)) this.#vpcs.set(vpcId, { id: vpcId, cidr: '10.0.0.0/8', tags: new Map() });
    const zone = az ?? `${REGION}a`;
    const existing = [...this.#subnets.values()].find((s) => s.vpcId === vpcId && (!az || s.az === az) && (!subnetId || s.id === subnetId));
    if (existing) return existing;
    const n = this.#subnets.size;
    const s: SubnetRec = {
      id: subnetId ?? this.#id('subnet-'),
      vpcId,
      cidr: `10.${n % 256}.0.0/16`,
      az: zone,
      nextIp: 10,
      nextPrefix: 0,
      nextIpv6: 1,
      tags: new Map(),
    };
    this.#subnets.set(s.id, s);
    return s;
  }

  #allocIp(s: SubnetRec): string {
    return intToIp(cidrBase(s.cidr) + s.nextIp++);
  }

  /** /28 prefixes from the top half of the subnet's range. */
  #allocPrefix(s: SubnetRec): string {
    const bits = Number(s.cidr.split('/')[1] ?? 16);
    const size = 2 ** (32 - bits);
    return `${intToIp(cidrBase(s.cidr) + size / 2 + 16 * s.nextPrefix++)}/28`;
  }

  /** An IPv6 address (`length` 128) or /80 prefix of the subnet's /64: `<64 bits>::n` / `<64 bits>:n::/80`. */
  #allocIpv6(s: SubnetRec, length: 128 | 80): string {
    const base = (s.ipv6Cidr ?? '').replace(/::\/64$/, '');
    const n = (s.nextIpv6++).toString(16);
    return length === 80 ? `${base}:${n}::/80` : `${base}::${n}`;
  }

  #hex(len: number): string {
    this.#seq++;
    return (0xa0000 + this.#seq * 104729).toString(16).padStart(len, '0').slice(-len);
  }

  #id(prefix: string): string {
    return prefix + this.#hex(17);
  }
}
