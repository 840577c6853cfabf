/**
 * The spot-interruption workflow's vocabulary, shared by the workflow and its stages (so a stage depends on
 * these types, not on the workflow that runs it): its dependencies and what an input and its fate are.
 */
import type { AuditSink } from '#core/audit.ts';
import type { QuiesceConfig } from '#core/config.ts';
import type { NodeSignal, Notice, RecheckMessage } from '#core/contracts/node-events.ts';
import type { Executor } from '#core/executor/executor.ts';
import type { ClusterSource } from '#core/observe/cluster.ts';
import type { RejectedInstance } from '#core/observe/index.ts';
import type { CloudMapReads, Ec2Port, Elbv2Reads } from '#core/ports/index.ts';
import type { WritePort } from '#core/ports/writes.ts';
import type { Logger } from '#core/telemetry.ts';
import type { NodeScanLog } from '#core/state/node-scan.ts';
import type { RegistrationIndexStore } from '#core/state/registration-index.ts';
import type { ScopeCache } from '#core/state/scope-cache.ts';

/**
 * What the workflow needs; the handler builds it once per container, tests pass fakes. The observation
 * ports read; everything the workflow writes is a section of the container's write port (ports/writes.ts),
 * live or recording: the workflow never knows which.
 */
export interface NodeWorkflowDeps {
  readonly config: QuiesceConfig;
  readonly ec2: Ec2Port;
  readonly elbv2: Elbv2Reads;
  readonly cloudMap: CloudMapReads;
  /** CompleteLifecycleAction (the write port's). */
  readonly autoscaling: WritePort['autoscaling'];
  /** The re-check rounds and due messages: the write port's queue of RECHECK_QUEUE_URL; unset without it. */
  readonly delayQueue: ReturnType<WritePort['queue']> | undefined;
  /** AWS Health scheduled changes: what is scheduled per event and instance (the write port's state table; unset without STATE_TABLE). */
  readonly store?: ReturnType<WritePort['stateStore']>;
  /** One-time schedules of scheduled changes due later than an SQS delay can wait (the write port's; unset without SCHEDULED_CHANGE_*). */
  readonly scheduler?: ReturnType<WritePort['scheduler']>;
  /** Applies plans through the write port. */
  readonly executor: Executor;
  /**
   * The cluster API (EKS access entry, read-only RBAC): a new warning's candidate groups come from its
   * TargetGroupBindings, EndpointSlices and the node's pods. Unset (or unreachable) = the full scan.
   */
  readonly cluster?: ClusterSource;
  /**
   * What the state table keeps so a warning's cost follows the node, not the account (STATE_TABLE; unset:
   * the scope is read from ELB and every group the cluster cannot name is scanned, as before): the cached
   * scope, the sweeper's registration index, and the log of groups looked at per dying node.
   */
  readonly scopeCache?: ScopeCache;
  readonly registrationIndex?: Pick<RegistrationIndexStore, 'load'>;
  readonly nodeScans?: NodeScanLog;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly now: () => Date;
  /**
   * Optional health failover of weighted listener rules (set when FAILOVER_LISTENER_ARNS is configured):
   * called with the target groups this run deregistered from, after apply. Its errors never fail the run.
   */
  readonly weightedFailover?: (targetGroupArns: readonly string[]) => Promise<unknown>;
}

/** One input of the batch, with the id the caller uses to report it failed (SQS message id). */
export interface WorkItem {
  readonly itemId: string;
  readonly input: NodeSignal | RecheckMessage | Notice;
}

/** An input not acted on, and why. */
export interface Ignored {
  readonly itemId: string;
  readonly reason: string;
}

/** An input about an instance that is not a node of this cluster (or does not exist). */
export interface Rejected {
  readonly itemId: string;
  readonly instanceId: string;
  readonly reason: RejectedInstance['reason'];
}

/** An input whose work is not finished: the caller reports it failed, so it is retried. */
export interface RetryItem {
  readonly itemId: string;
  readonly reason: string;
}
