/**
 * Wiring of the weighted-rule failover for the triggers that run it as an optional step (spot interruption
 * after a node's targets left, the sweeper on every run to restore weights). It lives in the core because
 * those triggers must not import the traffic-shift function's modules; the traffic-shift function builds
 * the same `FailoverDeps` from its own deps.
 *
 * Built from the container's AWS side (`AwsDeps`): the same clients, the same budget and the same write
 * port as the trigger that runs it, so the failover neither opens a second connection pool nor spends a
 * second budget, and in a dry run its writes are recorded like the trigger's. Only built when
 * FAILOVER_LISTENER_ARNS is set, and on first call: the Scheduler client it may need is created then.
 */
import { AwsEventBus, type ApiBudget, type RetryPolicy } from '../adapters/aws/index.ts';
import { createAuditSink } from '../audit.ts';
import { integer, list, parseAccountBuckets, parseBudgetShare, text, type Env } from '../config.ts';
import { budgetFor, type AwsDeps } from '../wiring.ts';
import type { RateLimitSetting } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createExecutor, NO_CLOUD_MAP } from '../executor/executor.ts';
import { createLogger, type Logger } from '../telemetry.ts';
import { failoverWeightedRules, type FailoverDeps } from './weighted-failover.ts';

/** What the failover reads from the environment (the traffic-shift function reads the same names). */
export interface FailoverConfig {
  readonly failoverListenerArns: readonly string[];
  /** A group with fewer healthy targets than this has its weight moved to healthy siblings. */
  readonly failoverMinHealthy: number;
  /** When to look again for the restore (a one-time schedule). */
  readonly failoverRecheckSeconds: number;
  readonly verifyAttempts: number;
  readonly verifyIntervalMs: number;
  readonly eventBus: string | undefined;
  readonly schedulerGroup: string;
  readonly schedulerDeadLetterArn: string | undefined;
}

/** Parses the failover's variables (shared with loadTrafficConfig). */
export function loadFailoverConfig(env: Env = process.env): FailoverConfig {
  return {
    failoverListenerArns: list(env, 'FAILOVER_LISTENER_ARNS'),
    failoverMinHealthy: integer(env, 'FAILOVER_MIN_HEALTHY_TARGETS', integer(env, 'MIN_HEALTHY_TARGETS', 1, 1, 1000), 1, 1000),
    failoverRecheckSeconds: integer(env, 'FAILOVER_RECHECK_SECONDS', 60, 1, 3600),
    verifyAttempts: integer(env, 'VERIFY_ATTEMPTS', 4, 1, 20),
    verifyIntervalMs: integer(env, 'VERIFY_INTERVAL_MS', 2000, 0, 60_000),
    eventBus: text(env, 'EVENT_BUS') ?? text(env, 'AUDIT_EVENT_BUS'),
    schedulerGroup: text(env, 'SCHEDULER_GROUP') ?? 'default',
    schedulerDeadLetterArn: text(env, 'SCHEDULER_DLQ_ARN'),
  };
}

/** A budget from ELB_ACCOUNT_BUCKETS, ELB_BUDGET_SHARE and RATE_LIMITS (see `budgetFor`), refusing unknown family names. */
export function budgetFromRateLimits(rateLimits: Readonly<Record<string, RateLimitSetting>>, retry?: Partial<RetryPolicy>, env: Env = process.env): ApiBudget {
  return budgetFor(
    { rateLimits, elbAccountBuckets: parseAccountBuckets('ELB_ACCOUNT_BUCKETS', text(env, 'ELB_ACCOUNT_BUCKETS')), elbBudgetShare: parseBudgetShare('ELB_BUDGET_SHARE', text(env, 'ELB_BUDGET_SHARE')) },
    retry,
  );
}

/** Options of {@link buildWeightedFailover}. */
export interface FailoverWiring {
  readonly env?: Env;
  /** Publish its audit records (default); false: only log them (`quiesce plan` publishes nothing). */
  readonly publishAudit?: boolean;
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Builds the failover's deps from the environment (STATE_TABLE required; the restore schedule optional) on
 * the container's AWS side: its clients, its budget, its write port.
 */
export function buildFailoverDeps(service: string, aws: AwsDeps, wiring: FailoverWiring = {}): FailoverDeps {
  const env = wiring.env ?? process.env;
  const config = loadFailoverConfig(env);
  const stateTable = text(env, 'STATE_TABLE');
  if (!stateTable) throw new ConfigError('STATE_TABLE', 'required with FAILOVER_LISTENER_ARNS: the original weights are remembered there');
  const logger = wiring.logger ?? createLogger(service);
  const { writes } = aws;
  // Audit records are telemetry: published on the live client, in a dry run too (see ports/writes.ts).
  const bus = config.eventBus && wiring.publishAudit !== false ? new AwsEventBus(aws.clients.eventBridge, aws.budget, config.eventBus) : undefined;
  const stepBus = text(env, 'STEP_EVENT_BUS_ARN');
  const role = text(env, 'SCHEDULER_ROLE_ARN');
  return {
    elbv2: aws.elbv2,
    writes,
    // Set-weights plans only: the Cloud Map side of the executor is never reached.
    executor: createExecutor({ elbv2: aws.elbv2, cloudMap: NO_CLOUD_MAP, writes: { mode: writes.mode, elbv2: writes.elbv2, cloudMap: NO_CLOUD_MAP } }, { concurrency: 4, minHealthy: 1 }),
    audit: createAuditSink(bus, logger),
    store: writes.stateStore(stateTable),
    scheduler:
      stepBus && role
        ? writes.scheduler({
            groupName: config.schedulerGroup,
            eventBusArn: stepBus,
            roleArn: role,
            ...(config.schedulerDeadLetterArn ? { deadLetterArn: config.schedulerDeadLetterArn } : {}),
          })
        : undefined,
    logger,
    now: wiring.now ?? (() => new Date()),
    sleep: wiring.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    listenerArns: config.failoverListenerArns,
    minHealthy: config.failoverMinHealthy,
    recheckSeconds: config.failoverRecheckSeconds,
    verifyAttempts: config.verifyAttempts,
    verifyIntervalMs: config.verifyIntervalMs,
  };
}

/**
 * The optional failover step of another trigger: undefined unless FAILOVER_LISTENER_ARNS is set; otherwise a
 * function of the target groups that trigger touched, building its deps (on `aws`) on first call.
 */
export function buildWeightedFailover(service: string, aws: AwsDeps, wiring: FailoverWiring = {}): ((targetGroupArns: readonly string[]) => Promise<unknown>) | undefined {
  const env = wiring.env ?? process.env;
  if ((env['FAILOVER_LISTENER_ARNS'] ?? '').trim() === '') return undefined;
  let deps: FailoverDeps | undefined;
  return (tgs) => failoverWeightedRules((deps ??= buildFailoverDeps(service, aws, { ...wiring, env })), tgs);
}
