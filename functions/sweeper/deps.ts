/**
 * Wiring for the sweeper: config, the container's AWS side (one client per API, the EKS client among them;
 * one budget; the write port), the cluster source, executor, audit sink, the pace and the optional
 * weighted-rule failover, all built on that one AWS side. Used by the Lambda handler and by anything else
 * that wants a real sweep (the CLI, the bench) against the SDK's standard configuration.
 */
import { AwsEventBus, createAwsClients, type AwsClients, type AwsClientsOptions, type BudgetClock, type RetryPolicy } from '#core/adapters/aws/index.ts';
import type { EksTokenCredentials } from '#core/adapters/kube/index.ts';
import { createAuditSink } from '#core/audit.ts';
import type { Env } from '#core/config.ts';
import { buildWeightedFailover } from '#core/failover/wiring.ts';
import { createClusterSource } from '#core/observe/cluster.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildAwsDeps, buildExecutor, type AwsDeps } from '#core/wiring.ts';
import { ELB_ACCOUNT_BUCKETS } from '#core/adapters/aws/budget.ts';
import { loadSweeperConfig, type SweeperConfig } from './config.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { SweepCompletion } from './completion.ts';
import { SweepPacing } from './pacing.ts';
import { SweepCursor } from './sweep-cursor.ts';
import { RegistrationIndexStore } from '#core/state/registration-index.ts';
import { ScopeCache } from '#core/state/scope-cache.ts';
import type { SweepDeps } from './run-sweep.ts';

/** Options of {@link buildSweepDeps}; everything defaults to production behaviour. */
export interface SweepWiring {
  readonly config?: SweeperConfig;
  readonly clients?: AwsClients;
  /** SDK client options of the clients built here when `clients` is not given (tests and the bench pass an explicit endpoint). */
  readonly clientOptions?: AwsClientsOptions;
  /** Credentials for the EKS token; default the SDK default chain (the Lambda role). */
  readonly tokenCredentials?: EksTokenCredentials;
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly retry?: Partial<RetryPolicy>;
  /** The API budget's clock (default real time); see `BudgetClock` in functions/_core/adapters/aws/budget.ts. */
  readonly budgetClock?: BudgetClock;
  /** Executor waits (DuplicateRequest, leases, Cloud Map operations); tests tie them to the fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The write port's mode when the caller chooses it (the CLI: its dry run records); by default DRY_RUN decides. */
  readonly writes?: WriteMode;
  /** Publish audit records on AUDIT_EVENT_BUS (default); false: only log them (the CLI's dry run publishes nothing). */
  readonly publishAudit?: boolean;
  /**
   * Where the weighted-rule failover reads its variables (FAILOVER_LISTENER_ARNS, ...; default
   * `process.env`); the failover is built from this container's AWS side when they name listeners.
   */
  readonly env?: Env;
  /** A failover/restore pass to use instead (tests); see `buildWeightedFailover` in functions/_core/failover/wiring.ts. */
  readonly weightedFailover?: SweepDeps['weightedFailover'];
}

/** Builds everything a sweep needs, wired to real AWS (or whatever the SDK's standard configuration names). */
export function buildSweepDeps(wiring: SweepWiring = {}): SweepDeps & { readonly aws: AwsDeps; readonly destroy: () => void } {
  const config = wiring.config ?? loadSweeperConfig();
  const logger = wiring.logger ?? createLogger('sweeper');
  const clients = wiring.clients ?? createAwsClients({ ...wiring.clientOptions, maxSockets: Math.max(64, config.concurrency * 2) });
  const aws = buildAwsDeps(config, { clients, ...(wiring.retry ? { retry: wiring.retry } : {}), ...(wiring.budgetClock ? { budgetClock: wiring.budgetClock } : {}), ...(wiring.writes ? { writes: wiring.writes } : {}), logger, ...(wiring.now ? { now: wiring.now } : {}) });
  const store = config.stateTable ? aws.writes.stateStore(config.stateTable) : undefined;
  const bus = config.auditEventBus && wiring.publishAudit !== false ? new AwsEventBus(clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus && wiring.publishAudit !== false) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  const now = wiring.now ?? (() => new Date());
  const weightedFailover = wiring.weightedFailover ?? buildWeightedFailover('sweeper', aws, { env: wiring.env ?? process.env, logger, now, ...(wiring.sleep ? { sleep: wiring.sleep } : {}), ...(wiring.publishAudit === false ? { publishAudit: false } : {}) });
  return {
    config,
    aws,
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    ec2: aws.ec2,
    cluster: createClusterSource({
      eks: clients.eks,
      budget: aws.budget,
      clusterName: config.clusterName,
      region: config.region,
      pageSize: config.kubePageSize,
      timeoutMs: config.kubeTimeoutMs,
      ...(wiring.tokenCredentials ? { credentials: wiring.tokenCredentials } : {}),
    }),
    executor: buildExecutor(config, aws, { writer: 'sweeper', maxFraction: config.maxFraction, logger, ...(wiring.now ? { now: wiring.now } : {}), ...(wiring.sleep ? { sleep: wiring.sleep } : {}) }),
    audit: createAuditSink(bus, logger),
    logger,
    now,
    budget: aws.budget,
    // Telemetry, not an effect of a plan (like the audit records): the deadline is recorded live in a dry run
    // too, so a dry-run stage's sweeper-overdue alarm is as true as a live one's (docs/write-port.md).
    ...(config.stateTable ? { completion: new SweepCompletion(new AwsDynamoStateStore(clients.dynamodb, aws.budget, config.stateTable), config.clusterName, config.sweepOverdueFactor) } : {}),
    ...(store
      ? {
          pacing: new SweepPacing(store, config.clusterName, {
            describeShare: config.describeShare,
            describeRefillPerSecond: config.elbAccountBuckets.describe?.refillPerSecond ?? ELB_ACCOUNT_BUCKETS.describe.refillPerSecond,
            tickSeconds: config.tickSeconds,
          }),
          // A full sweep spans invocations: its cursor, the scope it shares with the spot trigger, the index.
          state: { cursor: new SweepCursor(store, config.clusterName), scope: new ScopeCache(store, config.clusterName), index: new RegistrationIndexStore(store, config.clusterName) },
        }
      : {}),
    ...(weightedFailover ? { weightedFailover } : {}),
    destroy: () => {
      if (!wiring.clients) clients.destroy();
    },
  };
}
