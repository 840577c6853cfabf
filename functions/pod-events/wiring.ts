/**
 * Wiring of the pod-events trigger: config, the container's AWS side (one client per API, the EKS client
 * among them; the shared budget; the write port), the registration index (one per container: that is what
 * makes warm invocations cheap), the EKS cluster port for exporter events, the executor and the audit sink.
 * Built on first use so a configuration error names its variable.
 */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { AwsEventBus, type AwsClients, type BudgetClock, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { AwsForwarderHeartbeat } from '#core/adapters/aws/forwarder-heartbeat.ts';
import { createEksClusterPort, reuseConnection, type EksDescribeClient, type EksTokenCredentials } from '#core/adapters/kube/index.ts';
import { createAuditSink } from '#core/audit.ts';
import { ConfigError } from '#core/errors.ts';
import { RegistrationIndex } from '#core/observe/target-index.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { buildAwsDeps, buildExecutor } from '#core/wiring.ts';
import { loadPodEventsConfig, type PodEventsConfig } from './config.ts';
import type { PodWorkflowDeps } from './deregister-pod.ts';
import { PodSignalClaims } from './duplicates.ts';

/** Options for {@link buildPodWorkflowDeps}; production passes none. */
export interface PodWorkflowWiring {
  readonly config?: PodEventsConfig;
  readonly clients?: AwsClients;
  /** The EKS client (DescribeCluster); default the container's (`clients.eks`). */
  readonly eks?: EKSClient;
  /** Credentials that sign the EKS token; default the SDK chain (the function role). */
  readonly kubeCredentials?: EksTokenCredentials;
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly retry?: Partial<RetryPolicy>;
  /** The API budget's clock (default real time); see `BudgetClock` in functions/_core/adapters/aws/budget.ts. */
  readonly budgetClock?: BudgetClock;
  /** Executor waits (DuplicateRequest, leases, Cloud Map operations); tests tie them to the fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The write port's mode when the caller chooses it (the CLI's plan records); by default DRY_RUN decides. */
  readonly writes?: WriteMode;
  /** Publish audit records on AUDIT_EVENT_BUS (default); false: only log them (`quiesce plan` publishes nothing). */
  readonly publishAudit?: boolean;
}

/** Everything the pod workflow needs, wired to real AWS (or whatever the SDK's standard config names). */
export function buildPodWorkflowDeps(wiring: PodWorkflowWiring = {}): PodWorkflowDeps {
  const config = wiring.config ?? loadPodEventsConfig();
  const logger = wiring.logger ?? createLogger('pod-events');
  const now = wiring.now ?? (() => new Date());
  const aws = buildAwsDeps(config, { ...(wiring.clients ? { clients: wiring.clients } : {}), ...(wiring.retry ? { retry: wiring.retry } : {}), ...(wiring.budgetClock ? { budgetClock: wiring.budgetClock } : {}), ...(wiring.writes ? { writes: wiring.writes } : {}), now, logger });
  const eks = wiring.eks ?? aws.clients.eks;
  // DescribeCluster through the shared budget: throttling is retried like every other call.
  const describe: EksDescribeClient = { send: ((command: DescribeClusterCommand) => aws.budget.call('eks', 'DescribeCluster', () => eks.send(command))) as EksDescribeClient['send'] };

  let vpc: Promise<readonly string[]> | undefined;
  const vpcIds = (): Promise<readonly string[]> => {
    if (config.vpcId) return Promise.resolve([config.vpcId]);
    vpc ??= (async () => {
      const out = await describe.send(new DescribeClusterCommand({ name: config.clusterName }));
      const id = out.cluster?.resourcesVpcConfig?.vpcId;
      if (!id) throw new ConfigError('VPC_ID', `EKS DescribeCluster ${config.clusterName} returned no VPC; set VPC_ID`);
      return [id];
    })().catch((err: unknown) => {
      vpc = undefined;
      throw err;
    });
    return vpc;
  };

  const index = new RegistrationIndex({
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    vpcIds,
    tagSelector: config.targetGroupTagSelector,
    clusterName: config.clusterName,
    cloudMapNamespaces: config.cloudMapNamespaces,
    concurrency: config.concurrency,
    ttlMs: config.indexTtlSeconds * 1000,
    missRefreshMs: config.indexMissRefreshSeconds * 1000,
    now: () => now().getTime(),
  });

  // The cluster API proves identity (every event) and resolves exporter events.
  const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (!region) throw new ConfigError('AWS_REGION', 'required to sign the EKS token for the cluster API');
  const cluster = reuseConnection(createEksClusterPort({
    eks: describe,
    clusterName: config.clusterName,
    region,
    timeoutMs: config.clusterTimeoutMs,
    ...(wiring.kubeCredentials ? { credentials: wiring.kubeCredentials } : {}),
  }));
  const bus = config.auditEventBus && wiring.publishAudit !== false ? new AwsEventBus(aws.clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus && wiring.publishAudit !== false) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  return {
    config,
    index,
    cluster,
    // Claims by pod uid go through the write port's coordination section: a dry run keeps them in the dry-run
    // ledger's own keys, so it neither holds back a live copy nor is held back by a live claim.
    ...(config.stateTable && config.duplicateWindowSeconds > 0 ? { claims: new PodSignalClaims(aws.writes.coordination(config.stateTable), config.duplicateWindowSeconds * 1000) } : {}),
    executor: buildExecutor(config, aws, { writer: 'pod-events', maxFraction: config.maxDeregisterFraction, logger, now, ...(wiring.sleep ? { sleep: wiring.sleep } : {}) }),
    audit: createAuditSink(bus, logger),
    logger,
    now,
    aws,
    ...(config.stateTable
      ? {
          heartbeat: new AwsForwarderHeartbeat(aws.clients.dynamodb, aws.budget, config.stateTable, {
            clusterName: config.clusterName,
            // Kept a day past the silence doctor accepts: an older heartbeat still says when it was.
            keepSeconds: (config.podEventSilenceHours + 24) * 3600,
            onError: (err) => logger.warn('forwarder heartbeat not recorded (quiesce doctor will not see this event)', { error: String(err) }),
          }),
        }
      : {}),
  };
}
