/**
 * Core wiring: the SDK clients, the shared rate-limit budget, one adapter per port and the one executor,
 * which every trigger's own wiring builds on (each trigger adds its audit sink and workflow dependencies).
 * Built once per Lambda container, on first invocation, so a configuration error is reported with its
 * variable name instead of a failed init.
 */
import { ApiBudget, AwsAutoScaling, AwsCloudMap, AwsEc2, AwsElbv2, createAwsClients, type ApiFamily, type AwsClients, type RetryPolicy } from './adapters/aws/index.ts';
import { AwsDynamoGroupLeases } from './adapters/aws/dynamo-group-leases.ts';
import type { QuiesceConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { API_FAMILIES, DEFAULT_ELB_SHARE, elbLimits } from './adapters/aws/budget.ts';
import { AwsDynamoStateStore } from './adapters/aws/dynamo-state-store.ts';
import { AccountShare } from './state/account-share.ts';
import { createExecutor, type Executor, type ExecutorOptions } from './executor/executor.ts';
import type { GroupLeasePort } from './ports/state-store.ts';
import type { Logger } from './telemetry.ts';

/** The shared AWS side of every trigger: clients, the rate-limit budget, one adapter per port. */
export interface AwsDeps {
  readonly clients: AwsClients;
  readonly budget: ApiBudget;
  readonly ec2: AwsEc2;
  readonly elbv2: AwsElbv2;
  readonly cloudMap: AwsCloudMap;
  readonly autoscaling: AwsAutoScaling;
  /** Group leases of the guard across writers; undefined without STATE_TABLE. */
  readonly leases: GroupLeasePort | undefined;
  /**
   * The stage's shared ELB budget (STATE_TABLE and SHARED_ELB_BUDGET): concurrent invocations divide their
   * ELB shares (functions/_core/state/account-share.ts). Undefined: each takes its own.
   */
  readonly share: AccountShare | undefined;
}

/**
 * The budget of a trigger: the ELB families at ELB_BUDGET_SHARE of the account's ELB buckets
 * (ELB_ACCOUNT_BUCKETS, default the documented ones), then RATE_LIMITS on top (an explicit family limit wins).
 * RATE_LIMITS names are checked against the known API families (a typo must not silently do nothing).
 */
export function budgetFor(config: Pick<QuiesceConfig, 'rateLimits'> & Partial<Pick<QuiesceConfig, 'elbAccountBuckets' | 'elbBudgetShare'>>, retry?: Partial<RetryPolicy>): ApiBudget {
  const limits: Partial<Record<ApiFamily, { ratePerSecond: number; burst: number }>> = { ...elbLimits(config.elbAccountBuckets, config.elbBudgetShare) };
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
  options: { readonly now?: () => Date; readonly logger?: Logger } = {},
): AwsDeps {
  const budget = budgetFor(config, retry);
  // Not in dry run: nothing is written then, not even a lease of the budget.
  const share =
    config.stateTable && config.sharedElbBudget && !config.dryRun
      ? new AccountShare(new AwsDynamoStateStore(clients.dynamodb, budget, config.stateTable), budget, {
          shares: { describe: DEFAULT_ELB_SHARE, register: DEFAULT_ELB_SHARE, modify: DEFAULT_ELB_SHARE, ...config.elbBudgetShare },
          holder: 'quiesce',
          ...(options.now ? { now: () => (options.now as () => Date)().getTime() } : {}),
          ...(options.logger ? { warn: (message: string, error: unknown) => options.logger?.warn(message, { error: String(error) }) } : {}),
        })
      : undefined;
  return {
    share,
    clients,
    budget,
    ec2: new AwsEc2(clients.ec2, budget),
    elbv2: new AwsElbv2(clients.elbv2, budget),
    cloudMap: new AwsCloudMap(clients.serviceDiscovery, budget),
    autoscaling: new AwsAutoScaling(clients.autoScaling, budget),
    leases: config.stateTable ? new AwsDynamoGroupLeases(clients.dynamodb, budget, config.stateTable) : undefined,
  };
}

/** What differs between the triggers' executors. */
export interface ExecutorWiring {
  /** The trigger (recorded in the group ledgers). */
  readonly writer: string;
  /** This trigger's MAX_DEREGISTER_FRACTION (the sweeper has its own SWEEP_MAX_FRACTION). */
  readonly maxFraction: number | undefined;
  readonly dryRun?: boolean;
  readonly logger?: Logger;
  readonly sleep?: ExecutorOptions['sleep'];
  readonly now?: () => Date;
}

/**
 * The one executor of a trigger, with the guard across writers when STATE_TABLE is set. Without it each
 * invocation can only guard against its own census: that is said once, loudly, at start.
 */
export function buildExecutor(config: QuiesceConfig, aws: AwsDeps, wiring: ExecutorWiring): Executor {
  if (!aws.leases) wiring.logger?.warn('STATE_TABLE is not set: MIN_HEALTHY_TARGETS and MAX_DEREGISTER_FRACTION hold per invocation only, not across concurrent writers');
  return createExecutor(
    { elbv2: aws.elbv2, cloudMap: aws.cloudMap },
    {
      dryRun: wiring.dryRun ?? config.dryRun,
      concurrency: config.concurrency,
      minHealthy: config.minHealthyTargets,
      operationWaitMs: config.cloudMapOperationWaitSeconds * 1000,
      ...(aws.leases
        ? {
            coordination: {
              leases: aws.leases,
              leaseMs: config.coordinationLeaseSeconds * 1000,
              windowMs: config.coordinationWindowSeconds * 1000,
              waitMs: config.coordinationWaitSeconds * 1000,
              maxFraction: wiring.maxFraction,
              writer: wiring.writer,
            },
          }
        : {}),
      ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
      ...(wiring.now ? { now: wiring.now } : {}),
    },
  );
}
