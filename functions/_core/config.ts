/**
 * Configuration: the environment, parsed and validated once into a typed object. A value that cannot be
 * parsed is a `ConfigError` naming the variable, raised before any AWS call, so a typo in a deployment stops
 * the function loudly instead of running with a guess. Every variable is documented in the README table.
 */
import { ConfigError } from './errors.ts';

/** What to do on an "EC2 Instance Rebalance Recommendation": it is only a hint that a warning may follow. */
export type RebalanceAction = 'ignore' | 'deregister';

/** Client-side rate limit for one API family (token bucket). */
export interface RateLimitSetting {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** The ELB account buckets by name (budget.ts maps them to the API families). */
export type ElbBucketName = 'describe' | 'register' | 'modify';
const ELB_BUCKET_NAMES: readonly ElbBucketName[] = ['describe', 'register', 'modify'];

/** One account bucket: its capacity in tokens and its refill per second. */
export interface AccountBucketSetting {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * Parses ELB_ACCOUNT_BUCKETS: `describe=40:10,register=20:4,modify=20:3` (capacity:refill per second), for an
 * account whose ELB limits AWS Support raised. Unnamed buckets keep the documented defaults.
 */
export function parseAccountBuckets(name: string, value: string | undefined): Partial<Record<ElbBucketName, AccountBucketSetting>> {
  const out: Partial<Record<ElbBucketName, AccountBucketSetting>> = {};
  for (const [bucket, spec] of Object.entries(parseKeyValues(name, value))) {
    if (!ELB_BUCKET_NAMES.includes(bucket as ElbBucketName)) throw new ConfigError(name, `unknown ELB bucket "${bucket}"; known: ${ELB_BUCKET_NAMES.join(', ')}`);
    const m = /^(\d+):(\d+(?:\.\d+)?)$/.exec(spec);
    if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new ConfigError(name, `expected bucket=capacity:refill with capacity >= 1 and refill > 0, got "${bucket}=${spec}"`);
    out[bucket as ElbBucketName] = { capacity: Number(m[1]), refillPerSecond: Number(m[2]) };
  }
  return out;
}

/** Parses ELB_BUDGET_SHARE: one fraction in (0, 1] for every ELB bucket (`0.4`), or per bucket (`describe=0.3,register=0.6`). */
export function parseBudgetShare(name: string, value: string | undefined): Partial<Record<ElbBucketName, number>> {
  const share = (v: string): number => parseFraction(name, v);
  if (value === undefined) return {};
  if (!value.includes('=')) {
    const f = share(value.trim());
    return { describe: f, register: f, modify: f };
  }
  const out: Partial<Record<ElbBucketName, number>> = {};
  for (const [bucket, v] of Object.entries(parseKeyValues(name, value))) {
    if (!ELB_BUCKET_NAMES.includes(bucket as ElbBucketName)) throw new ConfigError(name, `unknown ELB bucket "${bucket}"; known: ${ELB_BUCKET_NAMES.join(', ')}`);
    out[bucket as ElbBucketName] = share(v);
  }
  return out;
}

/** SCHEDULED_CHANGE_QUEUE_ARN + SCHEDULED_CHANGE_ROLE_ARN (+ SCHEDULER_GROUP): both or neither. */
function scheduledChangeSchedule(env: Env): QuiesceConfig['scheduledChangeSchedule'] {
  const queueArn = text(env, 'SCHEDULED_CHANGE_QUEUE_ARN');
  const roleArn = text(env, 'SCHEDULED_CHANGE_ROLE_ARN');
  if (queueArn === undefined && roleArn === undefined) return undefined;
  if (queueArn === undefined || !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/.test(queueArn)) throw new ConfigError('SCHEDULED_CHANGE_QUEUE_ARN', 'expected the ARN of the node-signal SQS queue (set with SCHEDULED_CHANGE_ROLE_ARN)');
  if (roleArn === undefined || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(roleArn)) throw new ConfigError('SCHEDULED_CHANGE_ROLE_ARN', 'expected the ARN of the role Scheduler assumes to send to the queue (set with SCHEDULED_CHANGE_QUEUE_ARN)');
  return { queueArn, roleArn, group: text(env, 'SCHEDULER_GROUP') ?? 'default' };
}

/**
 * A list of SQS SenderIds (or the ids before their `:`): IAM unique ids are 16-128 of A-Z 0-9 (a role id
 * `AROA...` stands for every session of the role; a user id, or an emulator's constant, for itself).
 */
function senderIds(env: Env, name: string): string[] {
  const ids = list(env, name);
  for (const id of ids) if (!/^[A-Z0-9]{16,128}$/.test(id)) throw new ConfigError(name, `expected IAM unique ids (role ids AROA..., user ids AIDA...), comma-separated; got "${id.slice(0, 40)}"`);
  return ids;
}

/** The typed configuration every trigger reads. */
export interface QuiesceConfig {
  /** EKS cluster whose nodes and registrations this deployment owns. */
  readonly clusterName: string;
  /** Cloud Map namespaces (names or ids) whose services are in scope; empty = Cloud Map untouched. `*` = all. */
  readonly cloudMapNamespaces: readonly string[];
  /** Attributes a Cloud Map instance must carry (all of them) to be this cluster's. */
  readonly cloudMapOwnerAttributes: Readonly<Record<string, string>>;
  /** Tags a target group must carry (all of them) to be in scope; empty = every ip/instance group in the VPC. */
  readonly targetGroupTagSelector: Readonly<Record<string, string>>;
  readonly rebalanceAction: RebalanceAction;
  /** Never take a target group (or Cloud Map service) below this many healthy registrations early. */
  readonly minHealthyTargets: number;
  /** At most this fraction of a group's registrations in one plan (blast radius). 0 < f <= 1. */
  readonly maxDeregisterFraction: number | undefined;
  /** How long the re-registration guard keeps watching a dying node. */
  readonly guardDeadlineSeconds: number;
  /** How often it looks. */
  readonly guardIntervalSeconds: number;
  /** SQS queue the re-registration guard sends its delayed re-checks to; unset = guard off (warned). */
  readonly recheckQueueUrl: string | undefined;
  /**
   * INTERNAL_SENDER_IDS: who may write the spot function's own queue messages (re-checks, scheduled-change
   * due messages), by SQS SenderId: IAM role ids (every session of the role) or exact ids. The stack sets its
   * own role's id. Empty = every such message is refused (docs/security.md).
   */
  readonly internalSenderIds: readonly string[];
  /** SCHEDULED_CHANGE_SENDER_IDS: who else may write a scheduled-change due message (the Scheduler role's id). */
  readonly scheduledChangeSenderIds: readonly string[];
  readonly dryRun: boolean;
  /** EventBridge bus for audit events; unset = audit events are only logged (warned). */
  readonly auditEventBus: string | undefined;
  /** Calls in flight at once when fanning out (DescribeTargetHealth, ListInstances, DeregisterInstance). */
  readonly concurrency: number;
  readonly rateLimits: Readonly<Record<string, RateLimitSetting>>;
  /** ELB_ACCOUNT_BUCKETS: the account's ELB buckets where they differ from the documented defaults. */
  readonly elbAccountBuckets: Readonly<Partial<Record<ElbBucketName, AccountBucketSetting>>>;
  /** ELB_BUDGET_SHARE: quiesce's share of each ELB bucket where it differs from the default (0.4). */
  readonly elbBudgetShare: Readonly<Partial<Record<ElbBucketName, number>>>;
  /**
   * DynamoDB table of the guard across writers (group leases and ledgers; shared with the traffic shift).
   * Unset = each invocation guards only against its own census (warned at start).
   */
  readonly stateTable: string | undefined;
  /** How long one group lease lasts: one read and a decision. */
  readonly coordinationLeaseSeconds: number;
  /** How long a removal counts in a group's ledger: removals within it share MAX_DEREGISTER_FRACTION. */
  readonly coordinationWindowSeconds: number;
  /** How long a writer waits for a lease another writer holds before failing (retried). */
  readonly coordinationWaitSeconds: number;
  /** Node signals older than this (by their EventBridge `time`) are replays: ignored, with the reason. */
  readonly maxEventAgeSeconds: number;
  /** spot: a Health scheduled change's node leaves traffic this long before the change starts. */
  readonly scheduledChangeLeadSeconds: number;
  /**
   * spot: where a scheduled change's deregistration is scheduled when it is due later than an SQS delay can
   * wait (900 s): a one-time Scheduler schedule in `group` that sends to the node-signal queue with `roleArn`.
   * Unset = only changes due within 15 minutes are planned; later ones are logged as not scheduled.
   */
  readonly scheduledChangeSchedule: { readonly queueArn: string; readonly roleArn: string; readonly group: string } | undefined;
  /** How long the executor follows Cloud Map operations to SUCCESS / FAIL inside one invocation. */
  readonly cloudMapOperationWaitSeconds: number;
  /** First delay before a failed SQS record is visible again (doubled per receive up to the maximum). */
  readonly retryDelaySeconds: number;
  readonly retryMaxDelaySeconds: number;
  /**
   * spot (and pod-events' exporter path): take the candidate target groups of a dying node (or pod) from the
   * cluster (TargetGroupBindings, EndpointSlices, the node's pods) and describe only those, instead of every
   * group in scope. On by default; it needs the function's EKS access entry. Off = today's full scan.
   */
  readonly clusterCandidates: boolean;
  /**
   * How long one read of the cluster API may take (ms), the whole read for the spot trigger's candidates:
   * past it the spot trigger falls back to the full scan at once, and pod-events to the event's age.
   */
  readonly clusterTimeoutMs: number;
  /**
   * POD_EVENT_SILENCE_HOURS: a cluster that has sent no pod event for this long is suspect (the forwarder
   * cannot publish, or the exporter is gone): the stack's `pod-events-silent` alarm and `quiesce doctor`'s
   * forwarder line both use it. Set it to the longest a cluster may go without a pod being deleted.
   */
  readonly podEventSilenceHours: number;
  /**
   * SWEEP_OVERDUE_FACTOR: a full sweep not completed within this many expected intervals (the schedule's
   * tick, or the paced interval when longer) raises `sweepOverdue`, alarmed as `sweeper-overdue`.
   */
  readonly sweepOverdueFactor: number;
  /**
   * SCOPE_MAX_AGE_SECONDS: how old the cached scope (every ip/instance target group with the tags the scope
   * rules read, in STATE_TABLE: state/scope-cache.ts) may be and still answer which groups are in scope, so a
   * warning does not read 3,000 groups' tags. Older, absent, or without a tag key the rules need: read from
   * ELB as before. Fresh tags are read before any write either way. 0 = never use it.
   */
  readonly scopeMaxAgeSeconds: number;
  /**
   * INDEX_VOUCH_SECONDS: how old the registration index's reading of a group (state/registration-index.ts,
   * kept by the sweeper) may be and still vouch that the group holds none of a dying node's addresses, when
   * the cluster API cannot name the node's groups (and in the completeness round): such a group is not
   * described. Set it at least the full-sweep duration of the account (docs/sweeper.md). 0 = the index only
   * orders the scan (its named groups first), every other group is described.
   */
  readonly indexVouchSeconds: number;
  /**
   * SHARED_ELB_BUDGET: concurrent invocations of this stage (STATE_TABLE) divide the ELB shares between them
   * instead of each taking its own (state/account-share.ts). Off = each invocation takes its shares, as before.
   */
  readonly sharedElbBudget: boolean;
}

/** The environment as configuration reads it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A trimmed variable, or undefined when unset or blank. */
export function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** An integer variable within [min, max], or `fallback` when unset. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `expected an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `expected ${min}..${max}, got ${n}`);
  return n;
}

/**
 * Parses a fraction in (0, 1], written as a plain decimal (`0.5`, `.25`, `1`): shares and blast-radius limits
 * (MAX_DEREGISTER_FRACTION, SWEEP_MAX_FRACTION, SWEEP_DESCRIBE_SHARE, ELB_BUDGET_SHARE). Zero would stop a
 * trigger for good and more than all is a typo, so both are a `ConfigError` naming the variable, as is any
 * other spelling (`5e-1`, `50%`, `0,5`): a limit that widens what quiesce may remove must be read exactly.
 */
export function parseFraction(name: string, value: string): number {
  const f = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || !(f > 0 && f <= 1)) throw new ConfigError(name, `expected a number in (0, 1], got "${value}"`);
  return f;
}

/** A fraction variable in (0, 1] ({@link parseFraction}), or `fallback` when unset. */
export function fraction<T extends number | undefined>(env: Env, name: string, fallback: T): number | T {
  const v = text(env, name);
  return v === undefined ? fallback : parseFraction(name, v);
}

/** A boolean variable (true/false/1/0/yes/no), or `fallback` when unset. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = text(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got "${v}"`);
}

/** A comma-separated list variable (empty when unset). */
export function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Parses `k=v,k2=v2`. Keys may contain `/` and `.` (e.g. `elbv2.k8s.aws/cluster=prod`). */
export function parseKeyValues(name: string, value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(name, `expected key=value pairs separated by commas, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    if (key in out) throw new ConfigError(name, `key "${key}" appears twice`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Parses `family=rate:burst,...`, e.g. `elb-describe=40:80,elb-register=4:10`. */
export function parseRateLimits(name: string, value: string | undefined): Record<string, RateLimitSetting> {
  const out: Record<string, RateLimitSetting> = {};
  for (const [family, spec] of Object.entries(parseKeyValues(name, value))) {
    const m = /^(\d+(?:\.\d+)?):(\d+)$/.exec(spec);
    if (!m || Number(m[1]) <= 0 || Number(m[2]) < 1) {
      throw new ConfigError(name, `expected family=rate:burst with rate > 0 and burst >= 1, got "${family}=${spec}"`);
    }
    out[family] = { ratePerSecond: Number(m[1]), burst: Number(m[2]) };
  }
  return out;
}

/** Reads and validates the configuration. Throws `ConfigError` on the first bad variable. */
export function loadConfig(env: Env = process.env): QuiesceConfig {
  const clusterName = text(env, 'CLUSTER_NAME');
  if (!clusterName) throw new ConfigError('CLUSTER_NAME', 'required: the EKS cluster this deployment serves');
  const rebalance = (text(env, 'REBALANCE_ACTION') ?? 'ignore').toLowerCase();
  if (rebalance !== 'ignore' && rebalance !== 'deregister') {
    throw new ConfigError('REBALANCE_ACTION', `expected ignore or deregister, got "${rebalance}"`);
  }
  return {
    clusterName,
    cloudMapNamespaces: list(env, 'CLOUDMAP_NAMESPACES'),
    cloudMapOwnerAttributes: parseKeyValues('CLOUDMAP_OWNER_ATTRIBUTES', text(env, 'CLOUDMAP_OWNER_ATTRIBUTES')),
    targetGroupTagSelector: parseKeyValues('TARGET_GROUP_TAG_SELECTOR', text(env, 'TARGET_GROUP_TAG_SELECTOR')),
    rebalanceAction: rebalance,
    minHealthyTargets: integer(env, 'MIN_HEALTHY_TARGETS', 1, 1, 1000),
    maxDeregisterFraction: fraction(env, 'MAX_DEREGISTER_FRACTION', undefined),
    guardDeadlineSeconds: integer(env, 'GUARD_DEADLINE_SECONDS', 150, 0, 3600),
    guardIntervalSeconds: integer(env, 'GUARD_INTERVAL_SECONDS', 15, 1, 900),
    recheckQueueUrl: text(env, 'RECHECK_QUEUE_URL'),
    internalSenderIds: senderIds(env, 'INTERNAL_SENDER_IDS'),
    scheduledChangeSenderIds: senderIds(env, 'SCHEDULED_CHANGE_SENDER_IDS'),
    dryRun: bool(env, 'DRY_RUN', false),
    auditEventBus: text(env, 'AUDIT_EVENT_BUS'),
    concurrency: integer(env, 'CONCURRENCY', 16, 1, 128),
    rateLimits: parseRateLimits('RATE_LIMITS', text(env, 'RATE_LIMITS')),
    elbAccountBuckets: parseAccountBuckets('ELB_ACCOUNT_BUCKETS', text(env, 'ELB_ACCOUNT_BUCKETS')),
    elbBudgetShare: parseBudgetShare('ELB_BUDGET_SHARE', text(env, 'ELB_BUDGET_SHARE')),
    stateTable: text(env, 'STATE_TABLE'),
    coordinationLeaseSeconds: integer(env, 'COORDINATION_LEASE_SECONDS', 10, 1, 120),
    coordinationWindowSeconds: integer(env, 'COORDINATION_WINDOW_SECONDS', 60, 1, 3600),
    coordinationWaitSeconds: integer(env, 'COORDINATION_WAIT_SECONDS', 5, 0, 60),
    maxEventAgeSeconds: integer(env, 'MAX_EVENT_AGE_SECONDS', 600, 1, 86_400),
    scheduledChangeLeadSeconds: integer(env, 'SCHEDULED_CHANGE_LEAD_SECONDS', 600, 0, 86_400),
    scheduledChangeSchedule: scheduledChangeSchedule(env),
    cloudMapOperationWaitSeconds: integer(env, 'CLOUDMAP_OPERATION_WAIT_SECONDS', 20, 0, 300),
    retryDelaySeconds: integer(env, 'RETRY_DELAY_SECONDS', 2, 0, 900),
    retryMaxDelaySeconds: integer(env, 'RETRY_MAX_DELAY_SECONDS', 30, 0, 900),
    clusterCandidates: bool(env, 'CLUSTER_CANDIDATES', true),
    clusterTimeoutMs: integer(env, 'CLUSTER_TIMEOUT_MS', 2000, 100, 60_000),
    scopeMaxAgeSeconds: integer(env, 'SCOPE_MAX_AGE_SECONDS', 1800, 0, 86_400),
    indexVouchSeconds: integer(env, 'INDEX_VOUCH_SECONDS', 3600, 0, 86_400),
    sharedElbBudget: bool(env, 'SHARED_ELB_BUDGET', true),
    podEventSilenceHours: integer(env, 'POD_EVENT_SILENCE_HOURS', 24, 1, 168),
    sweepOverdueFactor: integer(env, 'SWEEP_OVERDUE_FACTOR', 3, 2, 100),
  };
}
