/**
 * Every operation the fake AWS serves, by API (SigV4 signing name), classified: a `write` changes what the
 * fake holds (or what AWS would hold), a `read` does not. Tests that say "nothing was written" count the
 * writes of this table, so a lease, a schedule or a published event is as visible to them as a
 * DeregisterTargets (test/integration/harness.ts). test/unit/fakes/operations.test.ts fails when a fake
 * serves an operation this table does not classify, so a new one cannot slip past those tests.
 *
 * ReceiveMessage is a write: it hides the messages it returns and counts their receives.
 */

/** Read or write. */
export type OperationKind = 'read' | 'write';

/** The fake's operations, by signing name. */
export const OPERATIONS: Readonly<Record<string, Readonly<Record<string, OperationKind>>>> = {
  elasticloadbalancing: {
    CreateLoadBalancer: 'write',
    DescribeLoadBalancers: 'read',
    CreateTargetGroup: 'write',
    DeleteTargetGroup: 'write',
    DescribeTargetGroups: 'read',
    ModifyTargetGroupAttributes: 'write',
    DescribeTargetGroupAttributes: 'read',
    AddTags: 'write',
    RemoveTags: 'write',
    DescribeTags: 'read',
    RegisterTargets: 'write',
    DeregisterTargets: 'write',
    DescribeTargetHealth: 'read',
    CreateListener: 'write',
    DescribeListeners: 'read',
    ModifyListener: 'write',
    CreateRule: 'write',
    DescribeRules: 'read',
    ModifyRule: 'write',
    DeleteRule: 'write',
  },
  ec2: {
    DescribeInstances: 'read',
    DescribeNetworkInterfaces: 'read',
    RunInstances: 'write',
    TerminateInstances: 'write',
    CreateNetworkInterface: 'write',
    AttachNetworkInterface: 'write',
    AssignPrivateIpAddresses: 'write',
    AssignIpv6Addresses: 'write',
    AssociateTrunkInterface: 'write',
    CreateTags: 'write',
    CreateVpc: 'write',
    CreateSubnet: 'write',
    DescribeVpcs: 'read',
    DescribeSubnets: 'read',
  },
  servicediscovery: {
    CreateHttpNamespace: 'write',
    CreatePrivateDnsNamespace: 'write',
    ListNamespaces: 'read',
    GetNamespace: 'read',
    CreateService: 'write',
    ListServices: 'read',
    GetService: 'read',
    RegisterInstance: 'write',
    DeregisterInstance: 'write',
    ListInstances: 'read',
    GetInstance: 'read',
    GetOperation: 'read',
    ListOperations: 'read',
  },
  events: {
    CreateEventBus: 'write',
    DescribeEventBus: 'read',
    PutPermission: 'write',
    PutEvents: 'write',
    PutRule: 'write',
    PutTargets: 'write',
    DescribeRule: 'read',
    ListTargetsByRule: 'read',
    CreateArchive: 'write',
    DescribeArchive: 'read',
  },
  sqs: {
    CreateQueue: 'write',
    GetQueueUrl: 'read',
    GetQueueAttributes: 'read',
    SetQueueAttributes: 'write',
    SendMessage: 'write',
    SendMessageBatch: 'write',
    ReceiveMessage: 'write',
    ChangeMessageVisibility: 'write',
    ChangeMessageVisibilityBatch: 'write',
    DeleteMessage: 'write',
  },
  autoscaling: {
    CompleteLifecycleAction: 'write',
    RecordLifecycleActionHeartbeat: 'write',
  },
  eks: {
    DescribeCluster: 'read',
    CreateAccessEntry: 'write',
    DescribeAccessEntry: 'read',
    ListAccessEntries: 'read',
    DeleteAccessEntry: 'write',
  },
  // AssumeRole hands out credentials and changes nothing AWS holds: a read.
  sts: {
    GetCallerIdentity: 'read',
    AssumeRole: 'read',
  },
  iam: {
    GetRole: 'read',
    SimulatePrincipalPolicy: 'read',
  },
  logs: {
    CreateLogGroup: 'write',
    FilterLogEvents: 'read',
  },
  ssm: {
    GetParameter: 'read',
    GetParametersByPath: 'read',
    PutParameter: 'write',
    DeleteParameter: 'write',
  },
  scheduler: {
    CreateSchedule: 'write',
    GetSchedule: 'read',
    DeleteSchedule: 'write',
    ListSchedules: 'read',
  },
  dynamodb: {
    CreateTable: 'write',
    DescribeTable: 'read',
    PutItem: 'write',
    GetItem: 'read',
    DeleteItem: 'write',
    UpdateItem: 'write',
  },
};

/**
 * Whether a call of `operation` on `service` writes. An operation the table does not know counts as a write:
 * a call the fake answered that nobody classified must not pass as harmless.
 */
export function isWriteOperation(service: string, operation: string): boolean {
  return OPERATIONS[service]?.[operation] !== 'read';
}
