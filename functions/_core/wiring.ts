/**
 * Core wiring: the SDK clients, the shared rate-limit budget and one adapter per port, which every
 * trigger's own wiring builds on (each trigger adds its executor, audit sink and workflow dependencies).
 * Built once per Lambda container, on first invocation, so a configuration error is reported with its
 * variable name instead of a failed init.
 */
import { ApiBudget, AwsAutoScaling, AwsCloudMap, AwsEc2, AwsElbv2, createAwsClients, type ApiFamily, type AwsClients, type RetryPolicy } from './adapters/aws/index.ts';
import type { QuiesceConfig } from './config.ts';
import { ConfigError } from './errors.ts';
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
