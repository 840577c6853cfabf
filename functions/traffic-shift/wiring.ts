/**
 * Wiring of the traffic-shift function: config,
 * SDK clients (DynamoDB, Scheduler and SSM are built here with `sdkClientConfig`, so functions that do not
 * shift traffic do not bundle them), one budget, adapters, executor, audit, the traffic plans' source.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AwsElbv2, AwsEventBus, sdkClientConfig, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { AwsOneTimeScheduler } from '#core/adapters/aws/one-time-scheduler.ts';
import { AwsSsmParameterTree } from '#core/adapters/aws/ssm-parameter-tree.ts';
import { createAuditSink } from '#core/audit.ts';
import type { Env } from '#core/config.ts';
import { createExecutor, NO_CLOUD_MAP } from '#core/executor/executor.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { loadTrafficConfig, type TrafficConfig } from './config.ts';
import type { TrafficDeps } from './deps.ts';
import { fixedPlans, parameterPlans } from './plans.ts';
import type { FailoverDeps } from '#core/failover/weighted-failover.ts';
import { budgetFromRateLimits } from '#core/failover/wiring.ts';

/** Options of {@link buildTrafficDeps}. */
export interface TrafficWiring {
  readonly config?: TrafficConfig;
  readonly env?: Env;
  /** Only ELBv2 and EventBridge are used (tests pass theirs; the function builds just these: no EC2 in its bundle). */
  readonly clients?: { readonly elbv2: ElasticLoadBalancingV2Client; readonly eventBridge: EventBridgeClient };
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly retry?: Partial<RetryPolicy>;
}

/** Everything the traffic-shift function needs, wired to AWS through the SDK's standard configuration. */
export function buildTrafficDeps(service: string, wiring: TrafficWiring = {}): TrafficDeps {
  const config = wiring.config ?? loadTrafficConfig(wiring.env);
  const logger = wiring.logger ?? createLogger(service);
  const clients = wiring.clients ?? { elbv2: new ElasticLoadBalancingV2Client(sdkClientConfig()), eventBridge: new EventBridgeClient(sdkClientConfig()) };
  const budget = budgetFromRateLimits(config.rateLimits, wiring.retry);
  const elbv2 = new AwsElbv2(clients.elbv2, budget);
  const bus = config.eventBus ? new AwsEventBus(clients.eventBridge, budget, config.eventBus) : undefined;
  if (!bus) logger.warn('EVENT_BUS / AUDIT_EVENT_BUS is not set: plans and lifecycle events are only logged');
  const now = wiring.now ?? (() => new Date());
  return {
    config,
    plans: config.plansPath
      ? parameterPlans(new AwsSsmParameterTree(new SSMClient(sdkClientConfig()), budget, { now: () => now().getTime() }), config.plansPath, logger)
      : fixedPlans(config.plans),
    elbv2,
    // cloudMap is never used by set-weights plans; the executor's port type wants one.
    executor: createExecutor({ elbv2, cloudMap: NO_CLOUD_MAP }, { dryRun: config.dryRun, concurrency: 4, minHealthy: 1 }),
    audit: createAuditSink(bus, logger),
    bus,
    store: new AwsDynamoStateStore(new DynamoDBClient(sdkClientConfig()), budget, config.stateTable),
    scheduler: new AwsOneTimeScheduler(new SchedulerClient(sdkClientConfig()), budget, {
      groupName: config.schedulerGroup,
      eventBusArn: config.stepEventBusArn,
      roleArn: config.schedulerRoleArn,
      ...(config.schedulerDeadLetterArn ? { deadLetterArn: config.schedulerDeadLetterArn } : {}),
    }),
    logger,
    now,
    sleep: wiring.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
}

/** The failover's view of the traffic deps. */
export function failoverDepsOf(deps: TrafficDeps): FailoverDeps {
  return {
    elbv2: deps.elbv2,
    executor: deps.executor,
    audit: deps.audit,
    store: deps.store,
    scheduler: deps.scheduler,
    logger: deps.logger,
    now: deps.now,
    sleep: deps.sleep,
    listenerArns: deps.config.failoverListenerArns,
    minHealthy: deps.config.failoverMinHealthy,
    recheckSeconds: deps.config.failoverRecheckSeconds,
    verifyAttempts: deps.config.verifyAttempts,
    verifyIntervalMs: deps.config.verifyIntervalMs,
  };
}
