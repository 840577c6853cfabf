/**
 * Core wiring: the SDK clients, the shared rate-limit budget, one adapter per port, the write port and the
 * one executor, which every trigger's own wiring builds on (each trigger adds its audit sink and workflow
 * dependencies). Built once per Lambda container, on first invocation, so a configuration error is reported
 * with its variable name instead of a failed init.
 *
 * The write port it builds is live or recording as {@link writeModeFor} decides (write-mode.ts): DRY_RUN,
 * `quiesce plan` and the CLI's --dry-run are that choice, nothing else.
 */
import { ApiBudget, AwsCloudMap, AwsEc2, AwsElbv2, createAwsClients, type ApiFamily, type AwsClients, type RetryPolicy } from './adapters/aws/index.ts';
import { createWritePort } from './adapters/aws/write-port.ts';
import type { QuiesceConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { API_FAMILIES, DEFAULT_ELB_SHARE, elbLimits, type BudgetClock } from './adapters/aws/budget.ts';
import { AccountShare } from './state/account-share.ts';
import { createExecutor, type Executor, type ExecutorOptions } from './executor/executor.ts';
import type { WriteMode, WritePort } from './ports/writes.ts';
import type { Logger } from './telemetry.ts';
import { writeModeFor } from './write-mode.ts';

export { writeModeFor } from './write-mode.ts';

/**
 * The shared AWS side of a container: its one client per API, its one budget, the read adapters and the
 * write port. Every part of the container (workflow, executor, failover, scheduler, cluster source, state
 * store) is built from this, so none of them can hold a second client or a second budget.
 */
export interface AwsDeps {
  readonly clients: AwsClients;
  readonly budget: ApiBudget;
  /** Reads (the adapters' write methods are reached only through `writes`). */
  readonly ec2: AwsEc2;
  readonly elbv2: AwsElbv2;
  readonly cloudMap: AwsCloudMap;
  /** Every write of the container, live or recorded. */
  readonly writes: WritePort;
  /**
   * The stage's shared ELB budget (STATE_TABLE and SHARED_ELB_BUDGET): concurrent invocations divide their
   * ELB shares (functions/_core/state/account-share.ts), their leases written through the write port's
   * `coordination` section. Undefined: each takes its own.
   */
  readonly share: AccountShare | undefined;
}

/**
 * The budget of a trigger: the ELB families at ELB_BUDGET_SHARE of the account's ELB buckets
 * (ELB_ACCOUNT_BUCKETS, default the documented ones), then RATE_LIMITS on top (an explicit family limit wins).
 * RATE_LIMITS names are checked against the known API families (a typo must not silently do nothing).
 */
export function budgetFor(config: Pick<QuiesceConfig, 'rateLimits'> & Partial<Pick<QuiesceConfig, 'elbAccountBuckets' | 'elbBudgetShare'>>, retry?: Partial<RetryPolicy>, clock?: BudgetClock): ApiBudget {
  const limits: Partial<Record<ApiFamily, { ratePerSecond: number; burst: number }>> = { ...elbLimits(config.elbAccountBuckets, config.elbBudgetShare) };
  for (const [family, limit] of Object.entries(config.rateLimits)) {
    if (!API_FAMILIES.includes(family as ApiFamily)) {
      throw new ConfigError('RATE_LIMITS', `unknown API family "${family}"; known: ${API_FAMILIES.join(', ')}`);
    }
    limits[family as ApiFamily] = limit;
  }
  return new ApiBudget({ limits, ...(retry ? { retry } : {}), ...(clock ? { clock } : {}) });
}

/** Options of {@link buildAwsDeps}. */
export interface AwsDepsWiring {
  /** The container's clients (tests, demo, CLI); by default built with the SDK's standard configuration. */
  readonly clients?: AwsClients;
  readonly retry?: Partial<RetryPolicy>;
  /** The budget's clock (default real time; see {@link BudgetClock}). */
  readonly budgetClock?: BudgetClock;
  /** The write port's mode, when the caller chooses it (see {@link writeModeFor}). */
  readonly writes?: WriteMode;
  /** The clock of the shared ELB budget's leases (tests: the fake clock). */
  readonly now?: () => Date;
  /** Told once when the shared ELB budget cannot use the state table. */
  readonly logger?: Logger;
}

/** Builds the AWS side of a container: clients, budget, read adapters, write port, the stage's shared ELB budget. */
export function buildAwsDeps(config: QuiesceConfig, wiring: AwsDepsWiring = {}): AwsDeps {
  const clients = wiring.clients ?? createAwsClients({ maxSockets: Math.max(64, config.concurrency * 2) });
  const budget = budgetFor(config, wiring.retry, wiring.budgetClock);
  // A deployed dry run (DRY_RUN, no caller's choice) takes its leases and claims in the dry-run ledger; the
  // CLI's recording runs (plan, --dry-run) write nothing at all.
  const writes = createWritePort({ mode: writeModeFor(config, wiring.writes), clients, budget, dryRunLedger: wiring.writes === undefined });
  const { now, logger } = wiring;
  // The leases go through the write port's coordination section: in a dry run they live under the dry-run
  // ledger's keys, so a dry run neither slows nor is slowed by live invocations (ports/writes.ts).
  const share =
    config.stateTable && config.sharedElbBudget
      ? new AccountShare(writes.coordination(config.stateTable), budget, {
          shares: { describe: DEFAULT_ELB_SHARE, register: DEFAULT_ELB_SHARE, modify: DEFAULT_ELB_SHARE, ...config.elbBudgetShare },
          holder: 'quiesce',
          ...(now ? { now: () => now().getTime() } : {}),
          ...(logger ? { warn: (message: string, error: unknown) => logger.warn(message, { error: String(error) }) } : {}),
        })
      : undefined;
  return {
    share,
    clients,
    budget,
    ec2: new AwsEc2(clients.ec2, budget),
    elbv2: new AwsElbv2(clients.elbv2, budget),
    cloudMap: new AwsCloudMap(clients.serviceDiscovery, budget),
    writes,
  };
}

/** What differs between the triggers' executors. */
export interface ExecutorWiring {
  /** The trigger (recorded in the group ledgers). */
  readonly writer: string;
  /** This trigger's MAX_DEREGISTER_FRACTION (the sweeper has its own SWEEP_MAX_FRACTION). */
  readonly maxFraction: number | undefined;
  readonly logger?: Logger;
  readonly sleep?: ExecutorOptions['sleep'];
  readonly now?: () => Date;
}

/**
 * The one executor of a trigger, with the guard across writers when STATE_TABLE is set. Without it each
 * invocation can only guard against its own census: that is said once, loudly, at start.
 */
export function buildExecutor(config: QuiesceConfig, aws: AwsDeps, wiring: ExecutorWiring): Executor {
  if (!config.stateTable) wiring.logger?.warn('STATE_TABLE is not set: MIN_HEALTHY_TARGETS and MAX_DEREGISTER_FRACTION hold per invocation only, not across concurrent writers');
  return createExecutor(
    { elbv2: aws.elbv2, cloudMap: aws.cloudMap, writes: aws.writes },
    {
      concurrency: config.concurrency,
      minHealthy: config.minHealthyTargets,
      operationWaitMs: config.cloudMapOperationWaitSeconds * 1000,
      ...(config.stateTable
        ? {
            coordination: {
              leases: aws.writes.leases(config.stateTable),
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
