/**
 * What a preflight checks, and against what: each function's needs (the lists it makes in the cluster, the
 * writes it makes, the policies it depends on) and the stage's resources (its roles, queue, bus, state
 * table), named as the stack names them. The needs are data, next to the code they describe, so a new list
 * or write in a function is one line here (test/unit/preflight keeps them in step with the ClusterRole and
 * the roles' statements).
 */
import type { AccessAttributes } from '../adapters/kube/index.ts';
import type { QuiesceConfig } from '../config.ts';
import type { PreflightFunction } from './checklist.ts';

/** A write the preflight proves with the policy simulator, by its IAM action. */
export type PreflightWrite = 'elasticloadbalancing:DeregisterTargets' | 'servicediscovery:DeregisterInstance' | 'autoscaling:CompleteLifecycleAction' | 'elasticloadbalancing:ModifyRule';

/** What one function needs. */
export interface FunctionNeeds {
  /** The lists and gets it makes in the cluster (observe/candidates.ts, observe/cluster.ts, pod-events). */
  readonly kube: readonly AccessAttributes[];
  /** Whether it reads target groups and Cloud Map (and so needs them found, tagged and readable). */
  readonly reads: boolean;
  readonly writes: readonly PreflightWrite[];
  /** The resource policies it depends on: the node-signal queue's (its input), the bus's (its input or its audit). */
  readonly policies: readonly ('node-signal-queue' | 'bus')[];
  /** Whether it depends on the pod forwarder publishing. */
  readonly forwarder: boolean;
}

const list = (resource: string, group = ''): AccessAttributes => ({ verb: 'list', group, resource });

/** Every function's needs. */
export const NEEDS: Readonly<Record<PreflightFunction, FunctionNeeds>> = {
  // The fast path: bindings, their Services, EndpointSlices, the node's pods (observe/candidates.ts).
  'spot-interruption': {
    kube: [list('targetgroupbindings', 'elbv2.k8s.aws'), list('services'), list('endpointslices', 'discovery.k8s.io'), list('pods')],
    reads: true,
    writes: ['elasticloadbalancing:DeregisterTargets', 'servicediscovery:DeregisterInstance', 'autoscaling:CompleteLifecycleAction'],
    policies: ['node-signal-queue', 'bus'],
    forwarder: false,
  },
  // What is alive, and which groups the cluster's bindings name (observe/cluster.ts).
  sweeper: {
    kube: [list('pods'), list('targetgroupbindings', 'elbv2.k8s.aws')],
    reads: true,
    writes: ['elasticloadbalancing:DeregisterTargets', 'servicediscovery:DeregisterInstance'],
    policies: ['bus'],
    forwarder: false,
  },
  // A pod's identity (get, and who holds an IP), and the candidates of an exporter event's pod.
  'pod-events': {
    kube: [{ verb: 'get', group: '', resource: 'pods' }, list('pods'), list('targetgroupbindings', 'elbv2.k8s.aws'), list('services'), list('endpointslices', 'discovery.k8s.io')],
    reads: true,
    writes: ['elasticloadbalancing:DeregisterTargets', 'servicediscovery:DeregisterInstance'],
    policies: ['bus'],
    forwarder: true,
  },
  'traffic-shift': { kube: [], reads: false, writes: ['elasticloadbalancing:ModifyRule'], policies: ['bus'], forwarder: false },
};

/** The role name each function's role has (infra/serverless/iam.yml: quiesce-<stage>-<function>-<region>). */
export function functionRoleName(stage: string, fn: PreflightFunction | 'pod-forwarder' | 'scheduled-change', region: string): string {
  return `quiesce-${stage}-${fn}-${region}`;
}

/** An IAM role's ARN in the account. */
export const roleArn = (accountId: string, roleName: string, partition = 'aws'): string => `arn:${partition}:iam::${accountId}:role/${roleName}`;

/** The partition an ARN is in (its second field). */
export const partitionOf = (arn: string): string => /^arn:([a-z-]+):/.exec(arn)?.[1] ?? 'aws';

/** The stage a preflight runs against. */
export interface PreflightTarget {
  readonly stage: string;
  /** The AWS partition of the account (`aws`, `aws-cn`, `aws-us-gov`): the first field of every ARN it builds. */
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  /** The functions' configuration, as the stack sets it (cluster, Cloud Map scope, state table, bus...). */
  readonly config: QuiesceConfig;
  /** Each checked function's role. */
  readonly roles: Readonly<Partial<Record<PreflightFunction, string>>>;
  /** The Kubernetes group the functions' access entries map to (infra/names.yml readerGroup). */
  readonly readerGroup: string;
  /** The node-signal queue (its URL), when known. */
  readonly nodeSignalQueueUrl?: string;
  /** Who may send to the node-signal queue (docs/security.md): rules, roles. */
  readonly queueSenders?: { readonly ruleArns: readonly string[]; readonly roleArns: readonly string[] };
  /** The pod forwarder's role: the only producer of "Pod Terminating" / "Pod Not Ready". */
  readonly forwarderRoleArn?: string;
  /** The listener rules the traffic shift may write (the traffic plans' rules). */
  readonly trafficRuleArns?: readonly string[];
}
