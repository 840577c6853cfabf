/**
 * Wiring of the spot-interruption workflow: config + the core AWS adapters + the executor (with the guard
 * across writers when STATE_TABLE is set) + audit + the re-check queue, built once per Lambda container (on
 * first invocation, so a configuration error is reported with its variable name instead of a failed init).
 * The demo, the CLI and the tests build the same dependencies, pointed at whatever endpoint the SDK's
 * standard configuration names.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { AwsDelayQueue, AwsEventBus, EMERGENCY_ELB_SHARE, AwsQueueVisibility, sdkClientConfig, type AwsClients, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { AwsOneTimeScheduler } from '#core/adapters/aws/one-time-scheduler.ts';
import { createAuditSink } from '#core/audit.ts';
import { loadConfig, type QuiesceConfig } from '#core/config.ts';
import { createClusterSource } from '#core/observe/cluster.ts';
import type { QueueVisibilityPort } from '#core/ports/index.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildAwsDeps, buildExecutor } from '#core/wiring.ts';
import type { NodeWorkflowDeps } from './workflow.ts';

/** The workflow's deps plus what only the handler uses (the retry delays of failed SQS records). */
export interface SpotDeps extends NodeWorkflowDeps {
  readonly queueVisibility: QueueVisibilityPort | undefined;
}

/** Options for {@link buildNodeWorkflowDeps}. */
export interface NodeWorkflowWiring {
  readonly config?: QuiesceConfig;
  readonly clients?: AwsClients;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Backoff policy override (tests shorten it; production keeps the defaults). */
  readonly retry?: Partial<RetryPolicy>;
  /** Executor waits (DuplicateRequest, leases, Cloud Map operations); tests tie them to the fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The optional weighted-rule failover step (see `buildWeightedFailover` in functions/_core/failover/wiring.ts). */
  readonly weightedFailover?: NodeWorkflowDeps['weightedFailover'];
}

/** Everything the node workflow (spot interruption and its re-checks) needs, wired to real AWS. */
export function buildNodeWorkflowDeps(service: string, wiring: NodeWorkflowWiring = {}): SpotDeps {
  const loaded: QuiesceConfig = wiring.config ?? loadConfig();
  // The trigger that races the two-minute warning takes the larger ELB shares unless ELB_BUDGET_SHARE says otherwise.
  const config: QuiesceConfig = { ...loaded, elbBudgetShare: { ...EMERGENCY_ELB_SHARE, ...loaded.elbBudgetShare } };
  const logger = wiring.logger ?? createLogger(service);
  const now = wiring.now ?? (() => new Date());
  const aws = buildAwsDeps(config, wiring.clients, wiring.retry);
  const bus = config.auditEventBus ? new AwsEventBus(aws.clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  if (config.recheckQueueUrl && config.internalSenderIds.length === 0) {
    logger.warn('INTERNAL_SENDER_IDS is not set: the function cannot tell its own re-checks and due messages from forged ones, so it refuses them all (the re-registration guard and scheduled changes due through the queue do not run)');
  }
  // The cluster's candidates (CLUSTER_CANDIDATES): DescribeCluster + a token, kept per container like the
  // sweeper's; the region signs the token. No region (a CLI on a laptop without one): the full scan.
  const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  const cluster =
    config.clusterCandidates && region
      ? createClusterSource({ eks: new EKSClient(sdkClientConfig()), budget: aws.budget, clusterName: config.clusterName, region, timeoutMs: config.clusterTimeoutMs })
      : undefined;
  return {
    config,
    ec2: aws.ec2,
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    autoscaling: aws.autoscaling,
    delayQueue: config.recheckQueueUrl ? new AwsDelayQueue(aws.clients.sqs, aws.budget, config.recheckQueueUrl) : undefined,
    // AWS Health scheduled changes: what is scheduled lives in the state table; changes due later than an
    // SQS delay can wait are one-time schedules that send the due message to the node-signal queue.
    ...(config.stateTable ? { store: new AwsDynamoStateStore(aws.clients.dynamodb, aws.budget, config.stateTable) } : {}),
    ...(config.scheduledChangeSchedule
      ? {
          scheduler: new AwsOneTimeScheduler(new SchedulerClient(sdkClientConfig()), aws.budget, {
            groupName: config.scheduledChangeSchedule.group,
            queueArn: config.scheduledChangeSchedule.queueArn,
            roleArn: config.scheduledChangeSchedule.roleArn,
          }),
        }
      : {}),
    queueVisibility: new AwsQueueVisibility(aws.clients.sqs, aws.budget, config.recheckQueueUrl ? [config.recheckQueueUrl] : []),
    executor: buildExecutor(config, aws, { writer: service, maxFraction: config.maxDeregisterFraction, logger, now, ...(wiring.sleep ? { sleep: wiring.sleep } : {}) }),
    ...(cluster ? { cluster } : {}),
    audit: createAuditSink(bus, logger),
    logger,
    now,
    ...(wiring.weightedFailover ? { weightedFailover: wiring.weightedFailover } : {}),
  };
}
