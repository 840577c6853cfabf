/**
 * Wiring: config + SDK clients + adapters + executor + audit, built once per Lambda container (on first
 * invocation, so a configuration error is reported with its variable name instead of a failed init).
 * The same function builds the dependencies for the demo and the CLI, pointed at whatever endpoint the
 * SDK's standard configuration names.
 */
import type { NodeWorkflowDeps } from '../spot-interruption/deregister-nodes.ts';
import { ApiBudget, AwsAutoScaling, AwsCloudMap, AwsDelayQueue, AwsEc2, AwsElbv2, AwsEventBus, createAwsClients, type ApiFamily, type AwsClients, type RetryPolicy } from './adapters/aws/index.ts';
import { createAuditSink } from './audit.ts';
import { loadConfig, type QuiesceConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createExecutor } from './executor/executor.ts';
import { createLogger, type Logger } from './telemetry.ts';
import { API_FAMILIES } from './adapters/aws/budget.ts';

/** The shared AWS side of every trigger: clients, the rate-limit budget, one adapter per port. */
export interface AwsDeps {
  readonly clients: AwsClients;
  readonly budget: ApiBudget;
  readonly ec2: AwsEc2;
  readonly elbv2: AwsElbv2;
  readonly cloudMap: AwsCloudMap;
  readonly autoscaling: AwsAutoScaling;
}

/** Checks RATE_LIMITS names against the known API families (a typo must not silently do nothing). */
export function budgetFor(config: QuiesceConfig, retry?: Partial<RetryPolicy>): ApiBudget {
  const limits: Partial<Record<ApiFamily, { ratePerSecond: number; burst: number }>> = {};
  for (const [family, limit] of Object.entries(config.rateLimits)) {
    if (!API_FAMILIES.includes(family as ApiFamily)) {
      throw new ConfigError('RATE_LIMITS', `unknown API family "${family}"; known: ${API_FAMILIES.join(', ')}`);
    }
    limits[family as ApiFamily] = limit;
  }
  return new ApiBudget({ limits, ...(retry ? { retry } : {}) });
}

/** Builds the AWS adapters. `clients` may be passed (tests, demo); by default the SDK's standard config applies. */
export function buildAwsDeps(
  config: QuiesceConfig,
  clients: AwsClients = createAwsClients({ maxSockets: Math.max(64, config.concurrency * 2) }),
  retry?: Partial<RetryPolicy>,
): AwsDeps {
  const budget = budgetFor(config, retry);
  return {
    clients,
    budget,
    ec2: new AwsEc2(clients.ec2, budget),
    elbv2: new AwsElbv2(clients.elbv2, budget),
    cloudMap: new AwsCloudMap(clients.serviceDiscovery, budget),
    autoscaling: new AwsAutoScaling(clients.autoScaling, budget),
  };
}

/** Options for {@link buildNodeWorkflowDeps}. */
export interface NodeWorkflowWiring {
  readonly config?: QuiesceConfig;
  readonly clients?: AwsClients;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Trigger-specific default for the blast-radius fraction (spot: none, the node dies anyway). */
  readonly defaultMaxFraction?: number;
  /** Backoff policy override (tests shorten it; production keeps the defaults). */
  readonly retry?: Partial<RetryPolicy>;
  /** The optional weighted-rule failover step (see `buildWeightedFailover` in functions/traffic-shift/wiring.ts). */
  readonly weightedFailover?: NodeWorkflowDeps['weightedFailover'];
}

/** Everything the node workflow (spot interruption and its re-checks) needs, wired to real AWS. */
export function buildNodeWorkflowDeps(service: string, wiring: NodeWorkflowWiring = {}): NodeWorkflowDeps {
  const loaded = wiring.config ?? loadConfig();
  const config: QuiesceConfig = { ...loaded, maxDeregisterFraction: loaded.maxDeregisterFraction ?? wiring.defaultMaxFraction };
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
