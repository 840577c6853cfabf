/**
 * Wiring for the sweeper: config, SDK clients, the shared API budget, the cluster source (EKS client built
 * with the same SDK configuration as every other client), executor and audit sink. Used by the Lambda handler
 * and by anything else that wants a real sweep (the CLI, the bench) against the SDK's standard configuration.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { AwsEventBus, createAwsClients, sdkClientConfig, type AwsClients, type AwsClientsOptions, type RetryPolicy } from '#core/adapters/aws/index.ts';
import type { EksTokenCredentials } from '#core/adapters/kube/index.ts';
import { createAuditSink } from '#core/audit.ts';
import { createClusterSource } from '#core/observe/cluster.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildAwsDeps, buildExecutor } from '#core/wiring.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { ELB_ACCOUNT_BUCKETS } from '#core/adapters/aws/budget.ts';
import { loadSweeperConfig, type SweeperConfig } from './config.ts';
import { SweepCompletion } from './completion.ts';
import { SweepPacing } from './pacing.ts';
import type { SweepDeps } from './run-sweep.ts';

/** Options of {@link buildSweepDeps}; everything defaults to production behaviour. */
export interface SweepWiring {
  readonly config?: SweeperConfig;
  readonly clients?: AwsClients;
  /** SDK client options for the EKS client (tests and the bench pass an explicit endpoint). */
  readonly clientOptions?: AwsClientsOptions;
  /** Credentials for the EKS token; default the SDK default chain (the Lambda role). */
  readonly tokenCredentials?: EksTokenCredentials;
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly retry?: Partial<RetryPolicy>;
  /** Executor waits (DuplicateRequest, leases, Cloud Map operations); tests tie them to the fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The weighted-rule failover/restore pass (see `buildWeightedFailover` in functions/_core/failover/wiring.ts). */
  readonly weightedFailover?: SweepDeps['weightedFailover'];
}

/** Builds everything a sweep needs, wired to real AWS (or whatever the SDK's standard configuration names). */
export function buildSweepDeps(wiring: SweepWiring = {}): SweepDeps & { readonly destroy: () => void } {
  const config = wiring.config ?? loadSweeperConfig();
  const logger = wiring.logger ?? createLogger('sweeper');
  const clients = wiring.clients ?? createAwsClients({ ...wiring.clientOptions, maxSockets: Math.max(64, config.concurrency * 2) });
  const aws = buildAwsDeps(config, clients, wiring.retry);
  const eks = new EKSClient(sdkClientConfig(wiring.clientOptions));
  const bus = config.auditEventBus ? new AwsEventBus(clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  return {
    config,
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    ec2: aws.ec2,
    cluster: createClusterSource({
      eks,
      budget: aws.budget,
      clusterName: config.clusterName,
      region: config.region,
      pageSize: config.kubePageSize,
      timeoutMs: config.kubeTimeoutMs,
      ...(wiring.tokenCredentials ? { credentials: wiring.tokenCredentials } : {}),
    }),
    executorFor: (dryRun) =>
      buildExecutor(config, aws, { writer: 'sweeper', maxFraction: config.maxFraction, dryRun, logger, ...(wiring.now ? { now: wiring.now } : {}), ...(wiring.sleep ? { sleep: wiring.sleep } : {}) }),
    audit: createAuditSink(bus, logger),
    logger,
    now: wiring.now ?? (() => new Date()),
    budget: aws.budget,
    ...(config.stateTable ? { completion: new SweepCompletion(new AwsDynamoStateStore(clients.dynamodb, aws.budget, config.stateTable), config.clusterName, config.sweepOverdueFactor) } : {}),
    ...(config.stateTable
      ? {
          pacing: new SweepPacing(new AwsDynamoStateStore(clients.dynamodb, aws.budget, config.stateTable), config.clusterName, {
            describeShare: config.describeShare,
            describeRefillPerSecond: config.elbAccountBuckets.describe?.refillPerSecond ?? ELB_ACCOUNT_BUCKETS.describe.refillPerSecond,
            tickSeconds: config.tickSeconds,
          }),
        }
      : {}),
    ...(wiring.weightedFailover ? { weightedFailover: wiring.weightedFailover } : {}),
    destroy: () => {
      if (!wiring.clients) clients.destroy();
      eks.destroy();
    },
  };
}
