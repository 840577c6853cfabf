/**
 * Wiring of the traffic-shift function: config, SDK clients (one per API it uses: ELBv2, EventBridge,
 * DynamoDB, Scheduler, SSM; the last three built here with `sdkClientConfig` so functions that do not shift
 * traffic do not bundle them), one budget, the read adapters, the write side, executor, audit, the traffic
 * plans' source.
 *
 * The write side is the write port's sections this function uses (ports/writes.ts): ModifyRule, the state
 * table, one-time schedules and the lifecycle events, on the live clients or on their recording twins
 * (DRY_RUN, see `writeModeFor`). Built here from the adapters it needs rather than with the core's
 * `createWritePort`, so the bundle does not carry Cloud Map, Auto Scaling and SQS. The traffic plans are
 * SSM reads (GetParametersByPath): always live.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AwsElbv2, AwsEventBus, sdkClientConfig, type RetryPolicy } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { AwsOneTimeScheduler } from '#core/adapters/aws/one-time-scheduler.ts';
import { clientForWrites, WriteRecorder } from '#core/adapters/aws/recording.ts';
import { AwsSsmParameterTree } from '#core/adapters/aws/ssm-parameter-tree.ts';
import { createAuditSink } from '#core/audit.ts';
import type { Env } from '#core/config.ts';
import { createExecutor, NO_CLOUD_MAP } from '#core/executor/executor.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { createLogger, type Logger } from '#core/telemetry.ts';
import { writeModeFor } from '#core/write-mode.ts';
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
  /** The write port's mode when the caller chooses it; by default DRY_RUN decides. */
  readonly writes?: WriteMode;
}

/** Everything the traffic-shift function needs, wired to AWS through the SDK's standard configuration. */
export function buildTrafficDeps(service: string, wiring: TrafficWiring = {}): TrafficDeps {
  const config = wiring.config ?? loadTrafficConfig(wiring.env);
  const logger = wiring.logger ?? createLogger(service);
  const clients = wiring.clients ?? { elbv2: new ElasticLoadBalancingV2Client(sdkClientConfig()), eventBridge: new EventBridgeClient(sdkClientConfig()) };
  const budget = budgetFromRateLimits(config.rateLimits, wiring.retry);
  const elbv2 = new AwsElbv2(clients.elbv2, budget);
  const mode = writeModeFor(config, wiring.writes);
  const recorder = new WriteRecorder();
  const through = <C extends { send(command: never, ...rest: never[]): Promise<unknown> }>(client: C, name: string): C => clientForWrites(mode, recorder, client, name);
  const elbWrites = new AwsElbv2(through(clients.elbv2, 'elasticloadbalancing'), budget);
  // Audit records are telemetry (published in a dry run too); lifecycle events announce work: written.
  const auditBus = config.eventBus ? new AwsEventBus(clients.eventBridge, budget, config.eventBus) : undefined;
  const bus = config.eventBus ? new AwsEventBus(through(clients.eventBridge, 'events'), budget, config.eventBus) : undefined;
  if (!bus) logger.warn('EVENT_BUS / AUDIT_EVENT_BUS is not set: plans and lifecycle events are only logged');
  const writes = { mode, elbv2: elbWrites, cloudMap: NO_CLOUD_MAP, recorded: () => (mode === 'recording' ? recorder.records() : []) };
  const now = wiring.now ?? (() => new Date());
  return {
    config,
    plans: config.plansPath
      ? parameterPlans(new AwsSsmParameterTree(new SSMClient(sdkClientConfig()), budget, { now: () => now().getTime() }), config.plansPath, logger)
      : fixedPlans(config.plans),
    elbv2,
    writes,
    // cloudMap is never used by set-weights plans; the executor's port type wants one.
    executor: createExecutor({ elbv2, cloudMap: NO_CLOUD_MAP, writes }, { concurrency: 4, minHealthy: 1 }),
    audit: createAuditSink(auditBus, logger),
    bus,
    store: new AwsDynamoStateStore(through(new DynamoDBClient(sdkClientConfig()), 'dynamodb'), budget, config.stateTable),
    scheduler: new AwsOneTimeScheduler(through(new SchedulerClient(sdkClientConfig()), 'scheduler'), budget, {
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
    writes: deps.writes,
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
