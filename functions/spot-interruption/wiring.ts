/**
 * Wiring of the spot-interruption workflow: config + the core AWS adapters + executor + audit + the
 * re-check queue, built once per Lambda container (on first invocation, so a configuration error is
 * reported with its variable name instead of a failed init). The demo, the CLI and the tests build the same
 * dependencies, pointed at whatever endpoint the SDK's standard configuration names.
 */
import { AwsDelayQueue, AwsEventBus, type AwsClients, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { createAuditSink } from '#core/audit.ts';
import { loadConfig, type QuiesceConfig } from '#core/config.ts';
import { createExecutor } from '#core/executor/executor.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { buildAwsDeps } from '#core/wiring.ts';
import type { NodeWorkflowDeps } from './deregister-nodes.ts';

/** Options for {@link buildNodeWorkflowDeps}. */
export interface NodeWorkflowWiring {
  readonly config?: QuiesceConfig;
  readonly clients?: AwsClients;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Backoff policy override (tests shorten it; production keeps the defaults). */
  readonly retry?: Partial<RetryPolicy>;
  /** The optional weighted-rule failover step (see `buildWeightedFailover` in functions/traffic-shift/wiring.ts). */
  readonly weightedFailover?: NodeWorkflowDeps['weightedFailover'];
}

/** Everything the node workflow (spot interruption and its re-checks) needs, wired to real AWS. */
export function buildNodeWorkflowDeps(service: string, wiring: NodeWorkflowWiring = {}): NodeWorkflowDeps {
  const config: QuiesceConfig = wiring.config ?? loadConfig();
  const logger = wiring.logger ?? createLogger(service);
  const aws = buildAwsDeps(config, wiring.clients, wiring.retry);
  const bus = config.auditEventBus ? new AwsEventBus(aws.clients.eventBridge, aws.budget, config.auditEventBus) : undefined;
  if (!bus) logger.warn('AUDIT_EVENT_BUS is not set: plans are only logged');
  return {
    config,
    ec2: aws.ec2,
    elbv2: aws.elbv2,
    cloudMap: aws.cloudMap,
    autoscaling: aws.autoscaling,
    delayQueue: config.recheckQueueUrl ? new AwsDelayQueue(aws.clients.sqs, aws.budget, config.recheckQueueUrl) : undefined,
    executor: createExecutor({ elbv2: aws.elbv2, cloudMap: aws.cloudMap }, { dryRun: config.dryRun, concurrency: config.concurrency, minHealthy: config.minHealthyTargets }),
    audit: createAuditSink(bus, logger),
    logger,
    now: wiring.now ?? (() => new Date()),
    ...(wiring.weightedFailover ? { weightedFailover: wiring.weightedFailover } : {}),
  };
}
