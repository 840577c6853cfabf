/**
 * Ports: the narrow interfaces the core needs from the outside world. Each is implemented once against the
 * real SDK v3 clients (adapters/aws) and exercised in tests against the stateful fake AWS behind those same
 * clients. Planners never see a port; observers and the executor do.
 *
 * Ports speak domain types, not SDK shapes, so that a planner test can build state in three lines and an
 * adapter is the only place that knows how AWS spells a field.
 */
import type { NetworkInterface, NodeInstance } from '../domain/endpoint.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../domain/registration.ts';

/** One ENI as the core needs it (a domain type, re-exported for the adapters). */
export type { NetworkInterface };

/** EC2: nodes and their addresses. */
export interface Ec2Port {
  /** The instances with these ids; ids that do not exist are simply absent from the result. */
  describeInstances(instanceIds: readonly string[]): Promise<NodeInstance[]>;
  /** Every ENI attached to any of these instances (filter attachment.instance-id), all pages. */
  networkInterfacesOfInstances(instanceIds: readonly string[]): Promise<NetworkInterface[]>;
  /**
   * The branch ENIs hanging off these trunk ENIs (security groups for pods: tagged
   * `vpcresources.k8s.aws/trunk-eni-id`, not attached to any instance), all pages.
   */
  branchInterfacesOfTrunks(trunkEniIds: readonly string[]): Promise<NetworkInterface[]>;
  /** Every ENI in a VPC (filter vpc-id), all pages: the sweeper's "is this IP on any ENI at all" truth. */
  networkInterfacesInVpc(vpcId: string): Promise<NetworkInterface[]>;
}

/** A listener rule with its actions as the SDK returns them (kept opaque outside the traffic planner). */
export interface ListenerRule {
  readonly ruleArn: string;
  readonly priority: string;
  readonly isDefault: boolean;
  readonly actions: readonly unknown[];
}

/** ELBv2: target groups, their targets, and listener rules. */
export interface Elbv2Port {
  /** All target groups (pages of 400), optionally only those in a VPC (filtered client-side: the API cannot). */
  listTargetGroups(options?: { vpcId?: string }): Promise<TargetGroup[]>;
  /**
   * The target groups with these ARNs (DescribeTargetGroups by ARN, 20 per call), without tags; an ARN of a
   * group that no longer exists is simply absent from the result.
   */
  describeTargetGroups(arns: readonly string[]): Promise<TargetGroup[]>;
  /** Tags of many resources (DescribeTags, 20 ARNs per call). */
  tagsOf(resourceArns: readonly string[]): Promise<Map<string, Record<string, string>>>;
  /** Every target of one target group with its health (DescribeTargetHealth; one group per call). */
  targetHealth(targetGroupArn: string, targetGroupName: string): Promise<TargetRegistration[]>;
  /** DeregisterTargets for up to 200 targets of one group; deregistering an absent target succeeds. */
  deregisterTargets(targetGroupArn: string, targets: readonly { id: string; port: number | undefined }[]): Promise<void>;
  describeRules(input: { listenerArn?: string; ruleArns?: readonly string[] }): Promise<ListenerRule[]>;
  modifyRuleActions(ruleArn: string, actions: readonly unknown[]): Promise<void>;
}

/** What a workflow may read of ELBv2: its writes are the write port's (ports/writes.ts). */
export type Elbv2Reads = Omit<Elbv2Port, 'deregisterTargets' | 'modifyRuleActions'>;

/** The result of a Cloud Map deregistration request. */
export type CloudMapDeregistration =
  | { readonly status: 'submitted'; readonly operationId: string }
  | { readonly status: 'not-found' };

/** An asynchronous Cloud Map operation as GetOperation reports it. */
export interface CloudMapOperation {
  readonly status: 'SUBMITTED' | 'PENDING' | 'SUCCESS' | 'FAIL';
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** Cloud Map: namespaces, services, instances. */
export interface CloudMapPort {
  listNamespaces(): Promise<{ id: string; name: string }[]>;
  listServices(namespaceId: string): Promise<{ id: string; name: string }[]>;
  /** All instances of a service (pages of 100), already tagged with namespace and service names. */
  listInstances(service: { id: string; name: string }, namespace: { id: string; name: string }): Promise<CloudMapRegistration[]>;
  /** DeregisterInstance. InstanceNotFound maps to `not-found`; DuplicateRequest is thrown for the caller to retry. */
  deregisterInstance(serviceId: string, instanceId: string): Promise<CloudMapDeregistration>;
  /** GetOperation: where an asynchronous deregistration stands (FAIL carries AWS's ErrorCode and message). */
  getOperation(operationId: string): Promise<CloudMapOperation>;
  /**
   * ListOperations of one type updated since `since` (all pages): the status of many operations in a few
   * calls, where one GetOperation each would spend the read budget a reclaim wave needs.
   */
  recentOperationStatuses(type: 'DEREGISTER_INSTANCE', since: Date): Promise<Map<string, CloudMapOperation['status']>>;
}

/** What a workflow may read of Cloud Map: its writes (and their operations) are the write port's. */
export type CloudMapReads = Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>;

/** Auto Scaling: lifecycle hooks. */
export interface AutoScalingPort {
  completeLifecycleAction(input: {
    autoScalingGroupName: string;
    lifecycleHookName: string;
    lifecycleActionToken?: string;
    instanceId: string;
    result: 'CONTINUE' | 'ABANDON';
  }): Promise<void>;
}

/** One event to publish. */
export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly resources?: readonly string[];
}

/** EventBridge: audit and step events. */
export interface EventBusPort {
  /** PutEvents in calls of at most 10 entries and 256 KB, resending only failed entries; returns what never got in. */
  publish(events: readonly BusEvent[]): Promise<{ failed: { event: BusEvent; errorCode: string; errorMessage: string }[] }>;
}

/** A delayed message to ourselves: the re-registration guard's next look, without an idle Lambda. */
export interface DelayQueuePort {
  sendDelayed(body: unknown, delaySeconds: number): Promise<void>;
}

/** One SQS record to make visible again after a delay (a retry in seconds). */
export interface RetryAfter {
  readonly queueArn: string;
  readonly receiptHandle: string;
  readonly delaySeconds: number;
  readonly messageId: string;
}

/** SQS ChangeMessageVisibility: when a failed record comes back. */
export interface QueueVisibilityPort {
  /** Sets each record's visibility timeout; returns the records whose change SQS refused (with why). */
  retryAfter(records: readonly RetryAfter[]): Promise<{ failed: { messageId: string; code: string; message: string }[] }>;
}
