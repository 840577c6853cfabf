/**
 * The sweeper's configuration: the core variables (CLUSTER_NAME, CLOUDMAP_*, MIN_HEALTHY_TARGETS, DRY_RUN,
 * AUDIT_EVENT_BUS, CONCURRENCY, RATE_LIMITS) plus its own. Parsed once, before any AWS call: a value that
 * cannot be parsed is a `ConfigError` naming the variable, so a typo stops the run instead of widening what
 * the sweeper believes it owns.
 */
import { fraction, integer, loadConfig, parseKeyValues, text, type Env, type QuiesceConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/** The sweeper's typed configuration. */
export interface SweeperConfig extends QuiesceConfig {
  /** Tags that make a target group ours (all of them), besides the LBC tag and TargetGroupBindings. */
  readonly ownerTagSelector: Readonly<Record<string, string>>;
  /** Pods younger than this never cause a removal: their controllers are still registering them. */
  readonly graceSeconds: number;
  /** At most this fraction of a group's / service's registrations per run. */
  readonly maxFraction: number;
  /** Region the EKS token is signed for (the Lambda's AWS_REGION). */
  readonly region: string;
  /** Kubernetes list page size (`limit`). */
  readonly kubePageSize: number;
  /** Per-request timeout of the Kubernetes client, in ms. */
  readonly kubeTimeoutMs: number;
  /** SWEEP_DESCRIBE_SHARE: at most this share of the account's Describe refill, on average, goes to full sweeps. */
  readonly describeShare: number;
  /** SWEEP_TICK_SECONDS: the schedule's rate (serverless.yml: 2 minutes); a cheaper sweep runs every tick. */
  readonly tickSeconds: number;
  /**
   * SWEEP_GROUPS_PER_RUN: with STATE_TABLE a full sweep spans invocations (sweep-cursor.ts); one invocation
   * reads at most this many owned groups, then leaves the cursor for the next.
   */
  readonly groupsPerRun: number;
  /**
   * SWEEP_READ_SECONDS: one invocation starts no DescribeTargetHealth after this many seconds of it, so the
   * truths, the plan and the writes of what it read fit its timeout (110 s); the rest is the next one's.
   */
  readonly readSeconds: number;
}

/**
 * Reads and validates the sweeper's configuration. CLOUDMAP_NAMESPACES empty with owner attributes set means
 * every namespace (ownership is decided per instance by the attributes); with no owner attributes Cloud Map
 * is left alone whatever the namespaces say.
 */
export function loadSweeperConfig(env: Env = process.env): SweeperConfig {
  const base = loadConfig(env);
  const region = text(env, 'AWS_REGION') ?? text(env, 'AWS_DEFAULT_REGION');
  if (!region) throw new ConfigError('AWS_REGION', 'required: the region the EKS token is signed for');
  const ownerAttributes = base.cloudMapOwnerAttributes;
  for (const [k, v] of Object.entries(ownerAttributes)) {
    if (v === '') throw new ConfigError('CLOUDMAP_OWNER_ATTRIBUTES', `attribute "${k}" has an empty value: it would match records that lack it`);
  }
  const ownerTagSelector = parseKeyValues('SWEEP_OWNER_TAG_SELECTOR', text(env, 'SWEEP_OWNER_TAG_SELECTOR'));
  const namespaces = base.cloudMapNamespaces.length === 0 && Object.keys(ownerAttributes).length > 0 ? ['*'] : base.cloudMapNamespaces;
  return {
    ...base,
    cloudMapNamespaces: namespaces,
    ownerTagSelector,
    graceSeconds: integer(env, 'SWEEP_GRACE_SECONDS', 120, 0, 3600),
    maxFraction: fraction(env, 'SWEEP_MAX_FRACTION', 0.5),
    region,
    kubePageSize: integer(env, 'SWEEP_KUBE_PAGE_SIZE', 500, 1, 10_000),
    kubeTimeoutMs: integer(env, 'SWEEP_KUBE_TIMEOUT_MS', 10_000, 100, 60_000),
    describeShare: fraction(env, 'SWEEP_DESCRIBE_SHARE', 0.1),
    tickSeconds: integer(env, 'SWEEP_TICK_SECONDS', 120, 60, 3600),
    groupsPerRun: integer(env, 'SWEEP_GROUPS_PER_RUN', 400, 1, 10_000),
    readSeconds: integer(env, 'SWEEP_READ_SECONDS', 60, 5, 600),
  };
}
