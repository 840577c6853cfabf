/**
 * Wiring of the spot-interruption workflow: config + the container's AWS side (one client per API, one
 * budget, the write port) + the executor (with the guard across writers when STATE_TABLE is set) + audit +
 * the re-check queue, built once per Lambda container (on first invocation, so a configuration error is
 * reported with its variable name instead of a failed init). The weighted-rule failover, when
 * FAILOVER_LISTENER_ARNS is set, is built from the same AWS side. The demo, the CLI and the tests build the
 * same dependencies, pointed at whatever endpoint the SDK's standard configuration names.
 */
import { AwsEventBus, EMERGENCY_ELB_SHARE, AwsQueueVisibility, type AwsClients, type BudgetClock, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { NodeScanLog } from '#core/state/node-scan.ts';
import { RegistrationIndexStore } from '#core/state/registration-index.ts';
import { ScopeCache } from '#core/state/scope-cache.ts';
import { createAuditSink } from '#core/audit.ts';
import { loadConfig, type Env, type QuiesceConfig } from '#core/config.ts';
import { buildWeightedFailover } from '#core/failover/wiring.ts';
import { createClusterSource } from '#core/observe/cluster.ts';
import type { QueueVisibilityPort } from '#core/ports/index.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildAwsDeps, buildExecutor, type AwsDeps } from '#core/wiring.ts';
import type { NodeWorkflowDeps } from './workflow.ts';

/** The workflow's deps plus what only the handler uses (the retry delays of failed SQS records). */
export interface SpotDeps extends NodeWorkflowDeps {
  /** SQS ChangeMessageVisibility of failed records: the live client, in a dry run too (see ports/writes.ts). */
  readonly queueVisibility: QueueVisibilityPort | undefined;
  /** The container's AWS side (clients, budget, write port) everything here was built from. */
  readonly aws: AwsDeps;
}

/** Options for {@link buildNodeWorkflowDeps}. */
export interface NodeWorkflowWiring {
  readonly config?: QuiesceConfig;
  readonly clients?: AwsClients;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Backoff policy override (tests shorten it; production keeps the defaults). */
  readonly retry?: Partial<RetryPolicy>;
  /** The API budget's clock (default real time); see `BudgetClock` in functions/_core/adapters/aws/budget.ts. */
  readonly budgetClock?: BudgetClock;
  /** Executor waits (DuplicateRequest, leases, Cloud Map operations); tests tie them to the fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The write port's mode when the caller chooses it (the CLI); by default DRY_RUN decides. */
  readonly writes?: WriteMode;
  /** Publish audit records on AUDIT_EVENT_BUS (default); false: only log them (`quiesce plan` publishes nothing). */
  readonly publishAudit?: boolean;
  /**
   * Where the weighted-rule failover reads its variables (FAILOVER_LISTENER_ARNS, ...; default
   * `process.env`); the failover is built from this container's AWS side when they name listeners.
   */
  readonly env?: Env;
  /** A failover step to use instead (tests); see `buildWeightedFailover` in functions/_core/failover/wiring.ts. */
  readonly weightedFailover?: NodeWorkflowDeps['weightedFailover'];
}

/** Everything the node workflow (spot interruption and its re-checks) needs, wired to real AWS. */
export function buildNodeWorkflowDeps(service: string, wiring: NodeWorkflowWiring = {}): SpotDeps {
  const loaded: QuiesceConfig = wiring.config ?? loadConfig();
  // The trigger that races the two-minute warning takes the larger ELB shares unless ELB_BUDGET_SHARE says otherwise.
  const config: QuiesceConfig = { ...loaded, elbBudgetShare: { ...EMERGENCY_ELB_SHARE, ...loaded.elbBudgetShare } };
  const logger = wiring.logger ?? createLogger(service);
  const now = wiring.now ?? (() => new Date());
  const aws = buildAwsDeps(config, { ...(wiring.clients ? { clients: wiring.clients } : {}), ...(wiring.retry ? { retry: wiring.retry } : {}), ...(wiring.budgetClock ? { budgetClock: wiring.budgetClock } : {}), ...(wiring.writes ? { writes: wiring.writes } : {}), now, logger });
  const { writes } = aws;
  const store = config.stateTable ? writes.stateStore(config.stateTable) : undefined;
  const bus = config.auditEventBus && wiring.publishAudit !== false ? new AwsEventBus(aws.clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus && wiring.publishAudit !== false) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  if (config.recheckQueueUrl && config.internalSenderIds.length === 0) {
    logger.warn('INTERNAL_SENDER_IDS is not set: the function cannot tell its own re-checks and due messages from forged ones, so it refuses them all (the re-registration guard and scheduled changes due through the queue do not run)');
  }
  // The cluster's candidates (CLUSTER_CANDIDATES): DescribeCluster + a token, kept per container like the
  // sweeper's; the region signs the token. No region (a CLI on a laptop without one): the full scan.
  const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  const cluster =
    config.clusterCandidates && region
      ? createClusterSource({ eks: aws.clients.eks, budget: aws.budget, clusterName: config.clusterName, region, timeoutMs: config.clusterTimeoutMs })
      : undefined;
  const weightedFailover = wiring.weightedFailover ?? buildWeightedFailover(service, aws, { env: wiring.env ?? process.env, logger, now, ...(wiring.sleep ? { sleep: wiring.sleep } : {}), ...(wiring.publishAudit === false ? { publishAudit: false } : {}) });
  return {
    config,
    aws,
    ec2: aws.ec2,
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    autoscaling: writes.autoscaling,
    delayQueue: config.recheckQueueUrl ? writes.queue(config.recheckQueueUrl) : undefined,
    // AWS Health scheduled changes: what is scheduled lives in the state table; changes due later than an
    // SQS delay can wait are one-time schedules that send the due message to the node-signal queue.
    ...(store ? { store } : {}),
    // The cost of a warning follows the node, not the account: the cached scope, the sweeper's registration
    // index and the per-node scan log live in the same table (functions/_core/state/), written through the
    // write port like the rest of it.
    ...(store ? { scopeCache: new ScopeCache(store, config.clusterName), registrationIndex: new RegistrationIndexStore(store, config.clusterName), nodeScans: new NodeScanLog(store) } : {}),
    ...(config.scheduledChangeSchedule
      ? {
          scheduler: writes.scheduler({
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
    ...(weightedFailover ? { weightedFailover } : {}),
  };
}
