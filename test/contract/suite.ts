/**
 * The adapter contract suite: one set of tests, run against moto and against the project's fake AWS.
 *
 * Why both: the adapters are only as right as the emulator they are tested against. moto is an independent
 * implementation, so agreement with it catches our misreadings of the wire protocols; the fake is what the
 * rest of the tests run on, so it must behave like AWS. Where moto is known to differ from AWS, the test
 * names the deviation and asserts moto's behaviour for moto and AWS's behaviour for everything else, so a
 * moto upgrade that fixes a deviation, or a fake that drifts towards moto, fails loudly.
 *
 * State is seeded only through the AWS APIs themselves (no back doors), with unique names per test, so the
 * suite needs no reset and could run against a real account.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
} from '@aws-sdk/client-servicediscovery';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { AwsSsmParameterTree } from '../../functions/_core/adapters/aws/ssm-parameter-tree.ts';
import { ApiBudget } from '../../functions/_core/adapters/aws/budget.ts';
import type { AwsClients } from '../../functions/_core/adapters/aws/clients.ts';
import { AwsEc2 } from '../../functions/_core/adapters/aws/ec2.ts';
import { AwsElbv2 } from '../../functions/_core/adapters/aws/elbv2.ts';
import { AwsCloudMap } from '../../functions/_core/adapters/aws/cloudmap.ts';
import { AwsEventBus } from '../../functions/_core/adapters/aws/event-bus.ts';
import { AwsDelayQueue } from '../../functions/_core/adapters/aws/delay-queue.ts';
import { QuiesceError } from '../../functions/_core/errors.ts';
import type { TargetRegistration } from '../../functions/_core/domain/registration.ts';

/** Ways an emulator is known to differ from AWS. Each is asserted both ways (see the module comment). */
export type Deviation =
  /** PutParameter takes a Standard value past 4 KB instead of failing with ValidationException (tiers). */
  | 'no-standard-tier-size-limit'
  /** ELBv2 keys targets by Id only: the same IP on two ports is one target, and Port is not reported faithfully. */
  | 'targets-keyed-by-id-only'
  /** Registered targets are `healthy` at once instead of `initial` while the first health checks run. */
  | 'targets-healthy-at-once'
  /** Deregistered targets vanish at once instead of `draining` for the deregistration delay. */
  | 'no-draining'
  /** Deregistering a target that is not registered is an InvalidTarget error instead of a success. */
  | 'deregister-unregistered-errors'
  /** RegisterInstance with an existing instance id appends a duplicate instead of updating in place. */
  | 'register-instance-appends-duplicate'
  /** GetOperation is SUCCESS at once instead of SUBMITTED/PENDING while the operation runs. */
  | 'get-operation-always-success'
  /** The `addresses.private-ip-address` filter matches only primary IPs, not secondary ones. */
  | 'private-ip-filter-primary-only'
  /** DescribeTargetGroups ignores PageSize and returns every group in one page (no NextMarker): shown with PageSize 2. */
  | 'target-groups-not-paged'
  /** ListServices ignores the NAMESPACE_ID filter and returns the services of every namespace. */
  | 'list-services-ignores-namespace-filter'
  /** AssignIpv6Addresses ignores Ipv6Prefixes / Ipv6PrefixCount: an ENI never has `Ipv6Prefixes` (EKS IPv6 nodes' /80). */
  | 'no-ipv6-prefixes'
  /** CreateNetworkInterface ignores InterfaceType: every ENI is `interface`, none `trunk` or `branch`. */
  | 'no-trunk-or-branch-interfaces'
  /** RegisterTargets takes an IPv6 Id in an ipv4 target group instead of failing with ValidationError. */
  | 'ip-targets-not-checked-against-group-family';

/** The deviations each environment is known to have. AWS itself, and the fake, have none. */
export const KNOWN_DEVIATIONS: Readonly<Record<string, ReadonlySet<Deviation>>> = {
  moto: new Set<Deviation>([
    'no-standard-tier-size-limit',
    'targets-keyed-by-id-only',
    'targets-healthy-at-once',
    'no-draining',
    'deregister-unregistered-errors',
    'register-instance-appends-duplicate',
    'get-operation-always-success',
    'private-ip-filter-primary-only',
    'target-groups-not-paged',
    'list-services-ignores-namespace-filter',
    'no-ipv6-prefixes',
    'no-trunk-or-branch-interfaces',
    'ip-targets-not-checked-against-group-family',
  ]),
  fake: new Set<Deviation>(),
};

/** What a suite run needs from its environment. */
export interface ContractEnv {
  readonly clients: AwsClients;
  /** Parameter Store (only traffic-shift and the webhook use it, so it is not one of the shared clients). */
  readonly ssm: SSMClient;
  /**
   * Lets time pass for asynchronous AWS work (Cloud Map operations, draining). The fake moves its explicit
   * clock; moto and AWS need nothing or a real wait.
   */
  advance(ms: number): Promise<void>;
}

const REGION_AZS = ['us-east-1a', 'us-east-1b'];

/** A fresh, short, unique suffix: ELB names are at most 32 characters. */
function uid(): string {
  return randomUUID().replaceAll('-', '').slice(0, 10);
}

/**
 * Seeds state one call at a time. moto's server is threaded and its backends are plain dicts: two writes
 * in flight at once (or a write while another request iterates the same dict) fail with
 * `OrderedDict mutated during iteration` and an HTML 500, which the SDK cannot parse. ELBv2 and Cloud Map
 * have no batch create for target groups or instances, so sequential is the way moto takes this data;
 * the suite's subject is the adapters, not how fast the seed goes in.
 */
async function sequentially<R>(count: number, make: (i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < count; i++) out.push(await make(i));
  return out;
}

function byIdPort(a: TargetRegistration, b: TargetRegistration): number {
  return a.id === b.id ? (a.port ?? 0) - (b.port ?? 0) : a.id.localeCompare(b.id);
}

/**
 * Defines the suite for one environment. `getEnv` is called inside tests, after the caller's beforeAll has
 * started the emulator.
 */
export function defineContractSuite(name: string, getEnv: () => ContractEnv): void {
  const deviations = KNOWN_DEVIATIONS[name] ?? new Set<Deviation>();
  const deviates = (d: Deviation): boolean => deviations.has(d);

  describe(`adapter contract: ${name}`, () => {
    let budget: ApiBudget;
    let vpcId: string;
    let subnetIds: string[];

    beforeAll(async () => {
      budget = new ApiBudget();
      const { ec2 } = getEnv().clients;
      const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
      vpcId = vpc.Vpc?.VpcId ?? '';
      expect(vpcId).toMatch(/^vpc-/);
      subnetIds = [];
      for (const [i, az] of REGION_AZS.entries()) {
        const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i + 1}.0/24`, AvailabilityZone: az }));
        subnetIds.push(s.Subnet?.SubnetId ?? '');
      }
    });

    describe('ELBv2', () => {
      async function createTargetGroup(prefix: string, port = 80): Promise<{ arn: string; name: string }> {
        const name = `${prefix}-${uid()}`;
        const res = await getEnv().clients.elbv2.send(
          new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: port, VpcId: vpcId, TargetType: 'ip' }),
        );
        const arn = res.TargetGroups?.[0]?.TargetGroupArn;
        if (!arn) throw new Error('CreateTargetGroup returned no ARN');
        return { arn, name };
      }

      async function createAlbWithListener(defaultTg: string): Promise<{ lbArn: string; listenerArn: string }> {
        const { elbv2 } = getEnv().clients;
        const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: `qc-${uid()}`, Subnets: subnetIds, Type: 'application' }));
        const lbArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? '';
        const listener = await elbv2.send(
          new CreateListenerCommand({
            LoadBalancerArn: lbArn,
            Protocol: 'HTTP',
            Port: 80,
            DefaultActions: [{ Type: 'forward', TargetGroupArn: defaultTg }],
          }),
        );
        return { lbArn, listenerArn: listener.Listeners?.[0]?.ListenerArn ?? '' };
      }

      it('lists target groups across pages of 400 and filters by VPC client-side', async () => {
        const { elbv2 } = getEnv().clients;
        const prefix = `qp${uid().slice(0, 4)}`;
        // Whether DescribeTargetGroups honours PageSize, asked directly with a page of 2 (three groups of
        // this test exist by then). Where it does not (moto), the adapter's paging at 400 cannot be
        // exercised at all, so creating 405 groups there would only show the same single page again (and
        // cost ~4 s of CPU in moto's server and the SDK): three groups show the deviation, and the adapter
        // reading that one page and filtering it.
        const unpaged = deviates('target-groups-not-paged');
        const count = unpaged ? 3 : 405;
        const created = await sequentially(count, async (i) => {
          const res = await elbv2.send(
            new CreateTargetGroupCommand({ Name: `${prefix}-${i}`, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip' }),
          );
          return res.TargetGroups?.[0]?.TargetGroupArn ?? '';
        });
        const firstPage = await elbv2.send(new DescribeTargetGroupsCommand({ PageSize: 2 }));
        if (unpaged) {
          expect(firstPage.NextMarker).toBeUndefined();
          expect(firstPage.TargetGroups?.length).toBeGreaterThanOrEqual(count);
        } else {
          expect(firstPage.TargetGroups).toHaveLength(2);
          expect(firstPage.NextMarker).toBeTruthy();
        }
        const adapter = new AwsElbv2(elbv2, budget);
        const before = budget.stats()['elb-describe'].calls;
        const all = await adapter.listTargetGroups();
        const pages = budget.stats()['elb-describe'].calls - before;
        if (unpaged) expect(pages).toBe(1);
        else expect(pages).toBeGreaterThanOrEqual(2);
        const mine = all.filter((tg) => tg.name.startsWith(`${prefix}-`));
        expect(new Set(mine.map((tg) => tg.arn))).toEqual(new Set(created));
        expect(mine[0]).toMatchObject({ targetType: 'ip', vpcId, port: 80 });

        const inVpc = await adapter.listTargetGroups({ vpcId });
        expect(inVpc.every((tg) => tg.vpcId === vpcId)).toBe(true);
        expect(inVpc.filter((tg) => tg.name.startsWith(`${prefix}-`))).toHaveLength(count);
        expect(await adapter.listTargetGroups({ vpcId: 'vpc-0000000000000000f' })).toEqual([]);
      }, 90_000);

      it('reads tags of more than 20 target groups in batches of 20', async () => {
        const { elbv2 } = getEnv().clients;
        const groups = await sequentially(23, async (i) => {
          const tg = await createTargetGroup('qt');
          await elbv2.send(
            new AddTagsCommand({
              ResourceArns: [tg.arn],
              Tags: [
                { Key: 'elbv2.k8s.aws/cluster', Value: 'prod' },
                { Key: 'index', Value: String(i) },
              ],
            }),
          );
          return tg;
        });
        const adapter = new AwsElbv2(elbv2, budget);
        const before = budget.stats()['elb-describe'].calls;
        const tags = await adapter.tagsOf(groups.map((g) => g.arn));
        expect(budget.stats()['elb-describe'].calls - before).toBe(2);
        groups.forEach((g, i) => expect(tags.get(g.arn)).toEqual({ 'elbv2.k8s.aws/cluster': 'prod', index: String(i) }));
      });

      it('maps target health with exact ports, and deregisters by (id, port)', async () => {
        const { elbv2 } = getEnv().clients;
        const tg = await createTargetGroup('qh', 80);
        await createAlbWithListener(tg.arn);
        await elbv2.send(
          new RegisterTargetsCommand({
            TargetGroupArn: tg.arn,
            Targets: [{ Id: '10.0.1.10', Port: 8080 }, { Id: '10.0.1.10', Port: 9090 }, { Id: '10.0.1.11' }],
          }),
        );
        const adapter = new AwsElbv2(elbv2, budget);
        const targets = (await adapter.targetHealth(tg.arn, tg.name)).sort(byIdPort);
        for (const t of targets) expect(t).toMatchObject({ kind: 'target', targetGroupArn: tg.arn, targetGroupName: tg.name });

        if (deviates('targets-keyed-by-id-only')) {
          // moto: the second registration of 10.0.1.10 replaced the first.
          expect(targets.map((t) => t.id)).toEqual(['10.0.1.10', '10.0.1.11']);
        } else {
          expect(targets.map((t) => [t.id, t.port])).toEqual([
            ['10.0.1.10', 8080],
            ['10.0.1.10', 9090],
            ['10.0.1.11', 80],
          ]);
        }
        const states = new Set(targets.map((t) => t.state));
        if (deviates('targets-healthy-at-once')) expect(states).toEqual(new Set(['healthy']));
        else expect(states).toEqual(new Set(['initial']));

        // Deregister 10.0.1.10 on the port it was last registered with.
        const port = deviates('targets-keyed-by-id-only') ? targets[0]?.port : 8080;
        await adapter.deregisterTargets(tg.arn, [{ id: '10.0.1.10', port }]);
        const after = (await adapter.targetHealth(tg.arn, tg.name)).sort(byIdPort);
        if (deviates('no-draining')) {
          expect(after.map((t) => t.id)).toEqual(['10.0.1.11']);
        } else {
          const gone = after.find((t) => t.id === '10.0.1.10' && t.port === 8080);
          expect(gone).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
          expect(after.find((t) => t.id === '10.0.1.10' && t.port === 9090)?.state).not.toBe('draining');
          expect(after.find((t) => t.id === '10.0.1.11')?.state).not.toBe('draining');
        }
      });

      it('ipv6 target groups: IpAddressType read, IPv6 Ids as registered; an ipv4 group refuses an IPv6 Id (AWS)', async () => {
        const { elbv2 } = getEnv().clients;
        const name = `q6-${uid()}`;
        const created = await elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip', IpAddressType: 'ipv6' }));
        const arn = created.TargetGroups?.[0]?.TargetGroupArn ?? '';
        await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '2600:1f18:aa:1:c3a5::1', Port: 8080 }] }));
        const adapter = new AwsElbv2(elbv2, budget);
        expect((await adapter.listTargetGroups({ vpcId })).find((g) => g.arn === arn)).toMatchObject({ ipAddressType: 'ipv6', targetType: 'ip' });
        expect((await adapter.targetHealth(arn, name)).map((t) => [t.id, t.port])).toEqual([['2600:1f18:aa:1:c3a5::1', 8080]]);
        const v4 = await createTargetGroup('q4');
        const attempt = elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: v4.arn, Targets: [{ Id: '2600:1f18:aa:1:c3a5::2' }] }));
        if (deviates('ip-targets-not-checked-against-group-family')) await expect(attempt).resolves.toBeDefined();
        else await expect(attempt).rejects.toMatchObject({ name: 'ValidationError', message: "The IP address '2600:1f18:aa:1:c3a5::2' is not a valid IPv4 address" });
      });

      it('deregistering a target that is not registered succeeds (AWS)', async () => {
        const tg = await createTargetGroup('qd');
        const adapter = new AwsElbv2(getEnv().clients.elbv2, budget);
        const attempt = adapter.deregisterTargets(tg.arn, [{ id: '10.0.2.99', port: 80 }]);
        if (deviates('deregister-unregistered-errors')) await expect(attempt).rejects.toMatchObject({ name: 'InvalidTargetException' });
        else await expect(attempt).resolves.toBeUndefined();
      });

      it('refuses more than 200 targets per DeregisterTargets before calling AWS', async () => {
        const tg = await createTargetGroup('qr');
        const adapter = new AwsElbv2(getEnv().clients.elbv2, budget);
        const before = budget.stats()['elb-register'].calls;
        const many = Array.from({ length: 201 }, (_, i) => ({ id: `10.0.3.${i % 250}`, port: 1000 + i }));
        await expect(adapter.deregisterTargets(tg.arn, many)).rejects.toBeInstanceOf(QuiesceError);
        expect(budget.stats()['elb-register'].calls).toBe(before);
      });

      it('reads listener rules and replaces a rule\'s actions', async () => {
        const { elbv2 } = getEnv().clients;
        const blue = await createTargetGroup('qb');
        const green = await createTargetGroup('qg');
        const { listenerArn } = await createAlbWithListener(blue.arn);
        const forward = (wBlue: number, wGreen: number) => [
          {
            Type: 'forward' as const,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blue.arn, Weight: wBlue },
                { TargetGroupArn: green.arn, Weight: wGreen },
              ],
            },
          },
        ];
        const created = await elbv2.send(
          new CreateRuleCommand({
            ListenerArn: listenerArn,
            Priority: 10,
            Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
            Actions: forward(100, 0),
          }),
        );
        const ruleArn = created.Rules?.[0]?.RuleArn ?? '';
        const adapter = new AwsElbv2(elbv2, budget);
        const rules = await adapter.describeRules({ listenerArn });
        expect(rules.map((r) => [r.priority, r.isDefault]).sort()).toEqual([
          ['10', false],
          ['default', true],
        ]);
        await adapter.modifyRuleActions(ruleArn, forward(20, 80));
        const [rule] = await adapter.describeRules({ ruleArns: [ruleArn] });
        const weights = (rule?.actions[0] as { ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[] } })
          .ForwardConfig?.TargetGroups?.map((t) => [t.TargetGroupArn, t.Weight]);
        expect(weights).toEqual([
          [blue.arn, 20],
          [green.arn, 80],
        ]);
      });
    });

    describe('Cloud Map', () => {
      async function waitForOperation(operationId: string): Promise<Record<string, string>> {
        const { serviceDiscovery } = getEnv().clients;
        for (let i = 0; i < 50; i++) {
          const op = await serviceDiscovery.send(new GetOperationCommand({ OperationId: operationId }));
          if (op.Operation?.Status === 'SUCCESS') return op.Operation.Targets ?? {};
          if (op.Operation?.Status === 'FAIL') throw new Error(`operation ${operationId} failed: ${op.Operation.ErrorMessage}`);
          await getEnv().advance(5_000);
        }
        throw new Error(`operation ${operationId} did not finish`);
      }

      async function namespaceWithService(serviceCount = 1): Promise<{
        namespace: { id: string; name: string };
        services: { id: string; name: string }[];
      }> {
        const { serviceDiscovery } = getEnv().clients;
        const name = `qc-${uid()}.local`;
        const res = await serviceDiscovery.send(new CreateHttpNamespaceCommand({ Name: name, CreatorRequestId: uid() }));
        const targets = await waitForOperation(res.OperationId ?? '');
        const id = targets.NAMESPACE ?? '';
        expect(id).not.toBe('');
        const services: { id: string; name: string }[] = [];
        for (let i = 0; i < serviceCount; i++) {
          const s = await serviceDiscovery.send(new CreateServiceCommand({ Name: `svc${i}-${uid()}`, NamespaceId: id }));
          services.push({ id: s.Service?.Id ?? '', name: s.Service?.Name ?? '' });
        }
        return { namespace: { id, name }, services };
      }

      async function register(serviceId: string, instanceId: string, ip: string): Promise<string> {
        const res = await getEnv().clients.serviceDiscovery.send(
          new RegisterInstanceCommand({
            ServiceId: serviceId,
            InstanceId: instanceId,
            Attributes: { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', 'k8s.io/pod': `pod-${instanceId}` },
          }),
        );
        return res.OperationId ?? '';
      }

      it('lists namespaces and the services of one namespace only', async () => {
        const a = await namespaceWithService(3);
        const b = await namespaceWithService(1);
        const adapter = new AwsCloudMap(getEnv().clients.serviceDiscovery, budget);
        const namespaces = await adapter.listNamespaces();
        expect(namespaces).toEqual(expect.arrayContaining([a.namespace, b.namespace]));
        const ofA = await adapter.listServices(a.namespace.id);
        const ofB = await adapter.listServices(b.namespace.id);
        if (deviates('list-services-ignores-namespace-filter')) {
          // moto: both answers hold every service of every namespace.
          expect(ofA).toEqual(expect.arrayContaining([...a.services, ...b.services]));
          expect(ofB).toEqual(expect.arrayContaining([...a.services, ...b.services]));
        } else {
          const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
          expect(ofA.sort(byName)).toEqual([...a.services].sort(byName));
          expect(ofB).toEqual(b.services);
        }
      });

      it('lists every instance across pages of 100 with attributes and names', async () => {
        const { namespace, services } = await namespaceWithService(1);
        const service = services[0] ?? { id: '', name: '' };
        const ops = await sequentially(105, (i) => register(service.id, `10.0.4.${i + 1}`, `10.0.4.${i + 1}`));
        for (const op of ops) await waitForOperation(op);
        const adapter = new AwsCloudMap(getEnv().clients.serviceDiscovery, budget);
        const before = budget.stats()['cloudmap-read'].calls;
        const instances = await adapter.listInstances(service, namespace);
        expect(budget.stats()['cloudmap-read'].calls - before).toBeGreaterThanOrEqual(2);
        expect(instances).toHaveLength(105);
        expect(instances.find((i) => i.instanceId === '10.0.4.7')).toEqual({
          kind: 'cloudmap',
          namespaceId: namespace.id,
          namespaceName: namespace.name,
          serviceId: service.id,
          serviceName: service.name,
          instanceId: '10.0.4.7',
          attributes: { AWS_INSTANCE_IPV4: '10.0.4.7', AWS_INSTANCE_PORT: '8080', 'k8s.io/pod': 'pod-10.0.4.7' },
        });
      });

      it('RegisterInstance is an upsert (AWS)', async () => {
        const { namespace, services } = await namespaceWithService(1);
        const service = services[0] ?? { id: '', name: '' };
        await waitForOperation(await register(service.id, '10.0.5.1', '10.0.5.1'));
        await waitForOperation(await register(service.id, '10.0.5.1', '10.0.5.2'));
        const instances = await new AwsCloudMap(getEnv().clients.serviceDiscovery, budget).listInstances(service, namespace);
        if (deviates('register-instance-appends-duplicate')) {
          expect(instances.map((i) => i.instanceId)).toEqual(['10.0.5.1', '10.0.5.1']);
        } else {
          expect(instances.map((i) => [i.instanceId, i.attributes.AWS_INSTANCE_IPV4])).toEqual([['10.0.5.1', '10.0.5.2']]);
        }
      });

      it('deregisters asynchronously, and maps a missing instance to not-found', async () => {
        const { namespace, services } = await namespaceWithService(1);
        const service = services[0] ?? { id: '', name: '' };
        await waitForOperation(await register(service.id, '10.0.6.1', '10.0.6.1'));
        await waitForOperation(await register(service.id, '10.0.6.2', '10.0.6.2'));
        const adapter = new AwsCloudMap(getEnv().clients.serviceDiscovery, budget);

        const result = await adapter.deregisterInstance(service.id, '10.0.6.1');
        expect(result.status).toBe('submitted');
        const operationId = result.status === 'submitted' ? result.operationId : '';
        expect(operationId).not.toBe('');
        const first = (await adapter.getOperation(operationId)).status;
        if (deviates('get-operation-always-success')) expect(first).toBe('SUCCESS');
        else expect(['SUBMITTED', 'PENDING']).toContain(first);

        await waitForOperation(operationId);
        expect((await adapter.getOperation(operationId)).status).toBe('SUCCESS');
        expect((await adapter.listInstances(service, namespace)).map((i) => i.instanceId)).toEqual(['10.0.6.2']);

        expect(await adapter.deregisterInstance(service.id, '10.0.6.99')).toEqual({ status: 'not-found' });
      });
    });

    describe('EC2', () => {
      it('reports every IP of every ENI of an instance, and skips unknown instance ids', async () => {
        const { ec2 } = getEnv().clients;
        const subnetId = subnetIds[0] ?? '';
        const run = await ec2.send(
          new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: subnetId }),
        );
        const instanceId = run.Instances?.[0]?.InstanceId ?? '';
        const eni = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'vpc-cni' }));
        const eniId = eni.NetworkInterface?.NetworkInterfaceId ?? '';
        await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: instanceId, DeviceIndex: 1 }));
        // The instance and the new ENI get a free address of the subnet chosen by the API (moto: at random), so
        // the secondaries are two that neither took (a collision made the ENI list 2 addresses, not 3: a flake).
        const taken = new Set([run.Instances?.[0]?.PrivateIpAddress, eni.NetworkInterface?.PrivateIpAddress]);
        const [ipA = '', ipB = ''] = ['10.0.1.201', '10.0.1.202', '10.0.1.203', '10.0.1.204'].filter((ip) => !taken.has(ip));
        await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: [ipA, ipB] }));

        const adapter = new AwsEc2(ec2, budget);
        const nodes = await adapter.describeInstances([instanceId, 'i-0123456789abcdef0']);
        expect(nodes.map((n) => n.instanceId)).toEqual([instanceId]);
        expect(nodes[0]).toMatchObject({ vpcId, state: expect.stringMatching(/^(pending|running)$/) });
        expect(await adapter.describeInstances(['i-0123456789abcdef0'])).toEqual([]);

        const enis = await adapter.networkInterfacesOfInstances([instanceId]);
        expect(enis.length).toBe(2);
        expect(enis.every((e) => e.instanceId === instanceId && e.vpcId === vpcId)).toBe(true);
        const secondary = enis.find((e) => e.networkInterfaceId === eniId);
        expect(secondary?.privateIps).toEqual(expect.arrayContaining([ipA, ipB]));
        expect(secondary?.privateIps).toHaveLength(3);

        const inVpc = await adapter.networkInterfacesInVpc(vpcId);
        expect(inVpc.map((e) => e.networkInterfaceId)).toEqual(expect.arrayContaining(enis.map((e) => e.networkInterfaceId)));
        expect(await adapter.networkInterfacesOfInstances(['i-0123456789abcdef0'])).toEqual([]);

        const bySecondaryIp = await ec2.send(
          new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.private-ip-address', Values: [ipA] }] }),
        );
        const found = (bySecondaryIp.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId);
        if (deviates('private-ip-filter-primary-only')) expect(found).toEqual([]);
        else expect(found).toEqual([eniId]);
      });

      it('reads IPv6 addresses and prefixes, ENI kinds, and finds branch ENIs by their trunk tag (not by the instance)', async () => {
        const { ec2 } = getEnv().clients;
        const subnetId = subnetIds[1] ?? '';
        const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: subnetId }));
        const instanceId = run.Instances?.[0]?.InstanceId ?? '';
        const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface?.NetworkInterfaceId ?? '';
        await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni, InstanceId: instanceId, DeviceIndex: 1 }));
        await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: ['2600:1f18:aa:2::10'] }));
        await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Prefixes: ['2600:1f18:aa:2:c3a5::/80'] }));
        const trunk = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, InterfaceType: 'trunk' }))).NetworkInterface?.NetworkInterfaceId ?? '';
        await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: trunk, InstanceId: instanceId, DeviceIndex: 2 }));
        const branchTags = [{ Key: 'vpcresources.k8s.aws/trunk-eni-id', Value: trunk }, { Key: 'kubernetes.io/cluster/prod', Value: 'owned' }];
        const branch = (
          await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, InterfaceType: 'branch', TagSpecifications: [{ ResourceType: 'network-interface', Tags: branchTags }] }))
        ).NetworkInterface?.NetworkInterfaceId ?? '';

        const adapter = new AwsEc2(ec2, budget);
        const enis = await adapter.networkInterfacesOfInstances([instanceId]);
        expect(enis.map((e) => e.networkInterfaceId)).not.toContain(branch);
        const v6 = enis.find((e) => e.networkInterfaceId === eni);
        expect(v6?.ipv6Addresses).toEqual(['2600:1f18:aa:2::10']);
        if (deviates('no-ipv6-prefixes')) expect(v6?.ipv6Prefixes).toBeUndefined();
        else expect(v6?.ipv6Prefixes).toEqual(['2600:1f18:aa:2:c3a5::/80']);
        const kind = enis.find((e) => e.networkInterfaceId === trunk)?.interfaceType;
        if (deviates('no-trunk-or-branch-interfaces')) expect(kind).toBeUndefined();
        else expect(kind).toBe('trunk');
        const branches = await adapter.branchInterfacesOfTrunks([trunk]);
        expect(branches.map((e) => [e.networkInterfaceId, e.instanceId, e.tags['kubernetes.io/cluster/prod']])).toEqual([[branch, undefined, 'owned']]);
        expect(branches[0]?.interfaceType).toBe(deviates('no-trunk-or-branch-interfaces') ? undefined : 'branch');
      });
    });

    describe('EventBridge and SQS', () => {
      it('publishes in calls of at most 10 entries and under 256 KB, refusing oversized entries locally', async () => {
        const { eventBridge } = getEnv().clients;
        const busName = `quiesce-${uid()}`;
        await eventBridge.send(new CreateEventBusCommand({ Name: busName }));
        const bus = new AwsEventBus(eventBridge, budget, busName);
        const calls = () => budget.stats().events.calls;

        let before = calls();
        const small = Array.from({ length: 25 }, (_, i) => ({ source: 'quiesce', detailType: 'quiesce.step', detail: { i } }));
        expect(await bus.publish(small)).toEqual({ failed: [] });
        expect(calls() - before).toBe(3);

        before = calls();
        const big = (i: number) => ({ source: 'quiesce', detailType: 'quiesce.audit', detail: { i, pad: 'x'.repeat(100_000) } });
        expect(await bus.publish([big(1), big(2), big(3), big(4)])).toEqual({ failed: [] });
        expect(calls() - before).toBe(2);

        before = calls();
        const huge = { source: 'quiesce', detailType: 'quiesce.audit', detail: { pad: 'x'.repeat(300_000) } };
        const result = await bus.publish([huge]);
        expect(result.failed).toEqual([expect.objectContaining({ event: huge, errorCode: 'EntryTooLarge' })]);
        expect(calls() - before).toBe(0);
      });

      it('sends delayed messages with the delay clamped to what SQS accepts', async () => {
        const { sqs } = getEnv().clients;
        const q = await sqs.send(new CreateQueueCommand({ QueueName: `quiesce-${uid()}` }));
        const queueUrl = q.QueueUrl ?? '';
        const queue = new AwsDelayQueue(sqs, budget, queueUrl);
        await queue.sendDelayed({ look: 'again', pod: 'a' }, 0);
        await queue.sendDelayed({ look: 'later' }, 5_000); // SQS rejects DelaySeconds > 900: the adapter clamps
        await queue.sendDelayed({ look: 'now' }, -3);
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        const bodies = (got.Messages ?? []).map((m) => JSON.parse(m.Body ?? 'null') as unknown);
        expect(bodies).toEqual(expect.arrayContaining([{ look: 'again', pod: 'a' }, { look: 'now' }]));
        expect(bodies).not.toContainEqual({ look: 'later' });
      });
    });

    describe('SSM Parameter Store', () => {
      it('reads every parameter directly under a path across pages of 10, not deeper; a Standard value holds 4 KB', async () => {
        const { ssm } = getEnv();
        const path = `/quiesce-${uid()}/traffic-plans`;
        const apps = Array.from({ length: 23 }, (_, i) => `app-${String(i).padStart(2, '0')}`);
        await sequentially(apps.length, (i) => ssm.send(new PutParameterCommand({ Name: `${path}/${apps[i]}`, Value: `{"n":${i}}`, Type: 'String' })));
        await ssm.send(new PutParameterCommand({ Name: `${path}/deeper/not-a-plan`, Value: 'x', Type: 'String' }));
        await ssm.send(new PutParameterCommand({ Name: `${path}-other`, Value: 'x', Type: 'String' }));
        const children = await new AwsSsmParameterTree(ssm, budget, { ttlMs: 0 }).children(path);
        expect([...children.keys()].sort()).toEqual(apps.map((a) => `${path}/${a}`));
        expect(children.get(`${path}/app-07`)).toBe('{"n":7}');
        // 4,096 characters fit a Standard parameter; one more does not (the advanced tier takes 8 KB).
        await ssm.send(new PutParameterCommand({ Name: `${path}/big`, Value: 'x'.repeat(4096), Type: 'String' }));
        const tooBig = await ssm.send(new PutParameterCommand({ Name: `${path}/bigger`, Value: 'x'.repeat(4097), Type: 'String' })).then(
          () => 'accepted',
          (err: Error) => err.name,
        );
        expect(tooBig).toBe(deviates('no-standard-tier-size-limit') ? 'accepted' : 'ValidationException');
        const advanced = await ssm.send(new PutParameterCommand({ Name: `${path}/advanced`, Value: 'x'.repeat(4097), Type: 'String', Tier: 'Advanced' }));
        expect(advanced.Tier).toBe('Advanced');
      });
    });
  });
}
