/**
 * A realistic topology for the fake AWS, shared by the integration tests and `npm start`:
 *
 * - EKS cluster `prod` in vpc-0prod: four nodes. The spot node n1 holds pods on its primary ENI (secondary
 *   IPs) AND on a second ENI through a delegated /28 prefix (VPC CNI prefix delegation: those pod IPs are
 *   listed nowhere as secondary IPs). The fourth is dual-stack, as every node of an EKS IPv6 cluster is: an
 *   IPv4 primary address, an IPv6 address, and the one /80 its IPv6 pods' addresses come out of.
 * - Another cluster, `staging`, has a node in the same VPC (a shared account).
 * - One ALB with target groups: ip targets (one with the same pod IP on two ports: a port override), an
 *   instance-type group, a group whose only healthy target sits on the spot node, staging's own group, and an
 *   ipv6 group of the dual-stack node's pods (one Id registered uncompressed and in capitals: the same address).
 * - Cloud Map namespace `mesh.local`, shared by two clusters during a migration and told apart by the
 *   App Mesh virtual node attribute `ver` (prod = v1-30, the old cluster = v1-29).
 */
import type { FakeAws } from './aws/index.ts';
import { DEFAULT_ROLE } from './aws/iam.ts';

/** Instance ids of the scenario (also used by the samples in events/). */
export const NODES = {
  spot: 'i-0a1b2c3d4e5f60001',
  asg: 'i-0a1b2c3d4e5f60002',
  other: 'i-0a1b2c3d4e5f60003',
  dual: 'i-0a1b2c3d4e5f60004',
  staging: 'i-0a1b2c3d4e5f60009',
} as const;

export const VPC = 'vpc-0123456789abcdef0';

/** The dual-stack node's IPv6 address and /80, and its two IPv6 pods (pod b is registered as `b.registered`). */
export const DUAL_STACK = {
  ipv6: '2600:1f18:4e1f:4d04::10',
  prefix: '2600:1f18:4e1f:4d04:c3a5::/80',
  podA: '2600:1f18:4e1f:4d04:c3a5::1',
  podB: { address: '2600:1f18:4e1f:4d04:c3a5::2', registered: '2600:1F18:4E1F:4D04:C3A5:0:0:2' },
} as const;

/** Environment for a prod deployment against this topology. */
export const PROD_ENV = {
  CLUSTER_NAME: 'prod',
  CLOUDMAP_NAMESPACES: 'mesh.local',
  CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30',
  AUDIT_EVENT_BUS: 'quiesce-audit',
  MIN_HEALTHY_TARGETS: '1',
  GUARD_DEADLINE_SECONDS: '150',
  GUARD_INTERVAL_SECONDS: '15',
  // The guard across writers, as deployed: group leases and ledgers in the state table.
  STATE_TABLE: 'quiesce-state',
  // Outcomes, not pace: the ELB families keep the client limits they had before the account-share defaults
  // (issue 14), because token waits here are real time and would dominate the suite. The defaults' pace is
  // measured by `npm run bench -- account` and their behaviour unit-tested (test/unit/adapters/budget.test.ts).
  RATE_LIMITS: 'elb-describe=40:80,elb-register=4:10,elb-modify=2:5',
  // The spot function's own messages come from its role, as deployed (the stack sets its role's id): the
  // handlers sign with credentials nobody registered, a session of the fake's default role.
  INTERNAL_SENDER_IDS: DEFAULT_ROLE.id,
} as const;

/** Everything a test needs to find again. */
export interface Topology {
  readonly tg: { web: string; api: string; admin: string; nodes: string; staging: string; grpc: string };
  readonly namespaceId: string;
  readonly services: { payments: string; ledger: string; grpc: string };
  readonly recheckQueueUrl: string;
  readonly auditBus: string;
}

const clusterTags = (cluster: string, extra: Record<string, string> = {}): Record<string, string> => ({
  [`kubernetes.io/cluster/${cluster}`]: 'owned',
  'eks:cluster-name': cluster,
  ...extra,
});

/** Seeds the topology into a (reset) fake AWS. */
export function seedTopology(fake: FakeAws): Topology {
  const { elbv2, cloudMap, sqs, events, autoscaling } = fake;
  // The nodes have been running since the day before: every sample event in events/ comes after their launch.
  const launchTime = new Date(fake.clock.now() - 86_400_000);
  const ec2 = { seedInstance: (o: Parameters<FakeAws['ec2']['seedInstance']>[0]) => fake.ec2.seedInstance({ launchTime, ...o }) };
  ec2.seedInstance({
    instanceId: NODES.spot,
    vpcId: VPC,
    lifecycle: 'spot',
    tags: clusterTags('prod', { 'karpenter.sh/capacity-type': 'spot' }),
    enis: [
      { privateIps: ['10.0.1.10', '10.0.1.11', '10.0.1.12'], tags: { 'node.k8s.amazonaws.com/instance_id': NODES.spot } },
      { privateIps: ['10.0.1.20'], ipv4Prefixes: ['10.0.1.32/28'], tags: { 'node.k8s.amazonaws.com/instance_id': NODES.spot } },
    ],
  });
  ec2.seedInstance({
    instanceId: NODES.asg,
    vpcId: VPC,
    tags: clusterTags('prod', { 'aws:autoscaling:groupName': 'eks-prod-ng-general' }),
    enis: [{ privateIps: ['10.0.2.10', '10.0.2.11', '10.0.2.12'] }],
  });
  ec2.seedInstance({ instanceId: NODES.other, vpcId: VPC, tags: clusterTags('prod'), enis: [{ privateIps: ['10.0.3.10', '10.0.3.11', '10.0.3.12'] }] });
  ec2.seedInstance({
    instanceId: NODES.dual,
    vpcId: VPC,
    tags: clusterTags('prod'),
    enis: [{ privateIps: ['10.0.4.10'], ipv6Addresses: [DUAL_STACK.ipv6], ipv6Prefixes: [DUAL_STACK.prefix] }],
  });
  ec2.seedInstance({ instanceId: NODES.staging, vpcId: VPC, lifecycle: 'spot', tags: clusterTags('staging'), enis: [{ privateIps: ['10.0.9.10', '10.0.9.11'] }] });

  const alb = elbv2.seedLoadBalancer({ name: 'prod-alb', vpcId: VPC });
  void alb;
  const prodTags = { 'elbv2.k8s.aws/cluster': 'prod' };
  const web = elbv2.seedTargetGroup({
    name: 'k8s-shop-web',
    vpcId: VPC,
    targetType: 'ip',
    port: 8080,
    tags: prodTags,
    deregistrationDelaySeconds: 30,
    targets: [{ id: '10.0.1.11' }, { id: '10.0.1.33' }, { id: '10.0.2.11' }, { id: '10.0.3.11' }],
  });
  const api = elbv2.seedTargetGroup({
    name: 'k8s-shop-api',
    vpcId: VPC,
    targetType: 'ip',
    port: 9090,
    tags: prodTags,
    deregistrationDelaySeconds: 30,
    // 10.0.1.12 is registered twice: on the group port and with a port override.
    targets: [{ id: '10.0.1.12' }, { id: '10.0.1.12', port: 9091 }, { id: '10.0.2.12' }, { id: '10.0.3.12' }],
  });
  const admin = elbv2.seedTargetGroup({
    name: 'k8s-shop-admin',
    vpcId: VPC,
    targetType: 'ip',
    port: 8080,
    tags: prodTags,
    targets: [{ id: '10.0.1.34' }, { id: '10.0.3.12', port: 8081, state: 'unhealthy' }],
  });
  const nodes = elbv2.seedTargetGroup({
    name: 'k8s-shop-nodeport',
    vpcId: VPC,
    targetType: 'instance',
    port: 30080,
    tags: prodTags,
    targets: [{ id: NODES.spot }, { id: NODES.asg }, { id: NODES.other }],
  });
  const staging = elbv2.seedTargetGroup({
    name: 'k8s-staging-web',
    vpcId: VPC,
    targetType: 'ip',
    port: 8080,
    tags: { 'elbv2.k8s.aws/cluster': 'staging' },
    targets: [{ id: '10.0.9.11' }],
  });
  const grpc = elbv2.seedTargetGroup({
    name: 'k8s-shop-grpc',
    vpcId: VPC,
    targetType: 'ip',
    ipAddressType: 'ipv6',
    port: 50051,
    tags: prodTags,
    deregistrationDelaySeconds: 30,
    targets: [{ id: DUAL_STACK.podA }, { id: DUAL_STACK.podB.registered }],
  });

  const namespaceId = cloudMap.seedNamespace('mesh.local');
  const payments = cloudMap.seedService(namespaceId, 'payments');
  const ledger = cloudMap.seedService(namespaceId, 'ledger');
  const mesh = (ip: string, pod: string, ver: string): Record<string, string> => ({
    AWS_INSTANCE_IPV4: ip,
    AWS_INSTANCE_PORT: '8080',
    'k8s.io/pod': pod,
    'k8s.io/namespace': 'shop',
    'appmesh.k8s.aws/mesh': 'shop-mesh',
    'appmesh.k8s.aws/virtualNode': 'payments',
    ver,
  });
  cloudMap.seedInstance(payments, '10.0.1.12', mesh('10.0.1.12', 'payments-7d9f-abcde', 'v1-30'));
  cloudMap.seedInstance(payments, '10.0.2.12', mesh('10.0.2.12', 'payments-7d9f-fghij', 'v1-30'));
  cloudMap.seedInstance(payments, '10.0.9.11', mesh('10.0.9.11', 'payments-5c4b-klmno', 'v1-29'));
  cloudMap.seedInstance(ledger, '10.0.1.11', mesh('10.0.1.11', 'ledger-6b8c-pqrst', 'v1-30'));
  cloudMap.seedInstance(ledger, '10.0.3.11', mesh('10.0.3.11', 'ledger-6b8c-uvwxy', 'v1-30'));
  // The old cluster's record for an IP that, after the move, is on prod's spot node: not ours to touch.
  cloudMap.seedInstance(ledger, 'old-10.0.1.33', { ...mesh('10.0.1.33', 'ledger-5a5a-old', 'v1-29') });
  // The dual-stack node's IPv6 pods; Cloud Map keeps AWS_INSTANCE_IPV6 as written (its doc example is uncompressed).
  const grpcService = cloudMap.seedService(namespaceId, 'grpc');
  const ipv6Record = (ip: string, pod: string): Record<string, string> => ({ AWS_INSTANCE_IPV6: ip, AWS_INSTANCE_PORT: '50051', 'k8s.io/pod': pod, 'k8s.io/namespace': 'shop', ver: 'v1-30' });
  cloudMap.seedInstance(grpcService, 'grpc-a', ipv6Record(DUAL_STACK.podA, 'grpc-5f6d-aaaaa'));
  cloudMap.seedInstance(grpcService, 'grpc-b', ipv6Record('2600:1f18:4e1f:4d04:c3a5:0000:0000:0002', 'grpc-5f6d-bbbbb'));

  autoscaling.seedLifecycleAction({
    autoScalingGroupName: 'eks-prod-ng-general',
    lifecycleHookName: 'quiesce-drain',
    lifecycleActionToken: '87654321-4321-4321-4321-210987654321',
    instanceId: NODES.asg,
  });
  // The node-signal queue as deployed: visibility 6x the spot function's 90 s timeout.
  const recheckQueueUrl = sqs.seedQueue('quiesce-recheck', { VisibilityTimeout: '540' });
  fake.dynamodb.seedTable('quiesce-state');
  events.handle('CreateEventBus', { Name: 'quiesce-audit' });
  return { tg: { web, api, admin, nodes, staging, grpc }, namespaceId, services: { payments, ledger, grpc: grpcService }, recheckQueueUrl, auditBus: 'quiesce-audit' };
}
