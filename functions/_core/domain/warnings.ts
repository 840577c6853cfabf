/**
 * Plan warnings as data: what an operator must read about a plan (a single point of failure, a scope left
 * out, evidence missing), each with a stable `code` from a closed union and the human `text`. Logs and
 * metrics select warnings by code, never by the wording, so a reworded message cannot silently drop a
 * loud log line or a count; the audit event keeps carrying the text (with the codes beside it), so its
 * consumers read what they always read.
 */

/** Every kind of plan warning quiesce produces. */
export type WarningCode =
  /** The min-healthy guard kept a group's last healthy registrations on a dying subject (guards.ts). */
  | 'single-point-of-failure'
  /** Registrations already draining or unused: not planned again (`count`). */
  | 'already-going'
  /** A dying node with no ENI left: its pod IPs are unknown (spot). */
  | 'node-without-eni'
  /** Cloud Map is not looked at: no namespaces (spot) or no owner attributes (sweeper). */
  | 'cloud-map-off'
  /** Part of the observation failed: the invocation fails and is retried (spot). */
  | 'observation-incomplete'
  /** A completeness scan found registrations the fast path had missed (`count`; spot). */
  | 'fast-path-missed'
  /** An Auto Scaling lifecycle action left pending: its node is still in traffic (spot). */
  | 'lifecycle-pending'
  /** A pod IP whose identity could not be proven: not deregistered (pod-events). */
  | 'identity-unproven'
  /** The sweeper did not believe the cluster's pod list: nothing removed on pod-list evidence. */
  | 'pod-list-doubted'
  /** The cluster API could not be read: nothing removed on pod-list evidence (sweeper). */
  | 'cluster-unreadable'
  /** TargetGroupBindings could not be read: groups owned only through one are not swept (sweeper). */
  | 'bindings-unreadable'
  /** Configured Cloud Map namespaces that do not exist (sweeper). */
  | 'cloud-map-namespaces-missing'
  /** The cluster's VPC is unknown: Cloud Map records are not judged (sweeper). */
  | 'cluster-vpc-unknown'
  /** Registrations not judged: the evidence they need is missing (`count`; sweeper). */
  | 'unverified'
  /** Healthy registrations on addresses no pod of ours holds: reported, not removed (`count`; sweeper). */
  | 'reported-healthy'
  /** Registrations on ENIs no evidence makes ours: reported, not removed (`count`; sweeper). */
  | 'unattributed'
  /** Registrations of our groups on another cluster's addresses: reported, not removed (`count`; sweeper). */
  | 'other-cluster'
  /** A shift's pair carries less than 100 weight next to other groups: steps are rounded (traffic). */
  | 'weights-rounded'
  /** Groups of a cached scope whose fresh tags put them out of scope before a write: not written (`count`; spot, sweeper). */
  | 'scope-changed'
  /** Groups of a cached scope that no longer exist: skipped (`count`; spot, sweeper). */
  | 'group-gone'
  /** A failed-over rule's groups changed: its remembered weights are dropped (failover). */
  | 'failover-groups-changed'
  /** Every weighted group of a rule is below the healthy minimum: weights left as they are (failover). */
  | 'failover-all-degraded';

/** One plan warning: its kind, the sentence an operator reads, and the number it counts where it counts one. */
export interface PlanWarning {
  readonly code: WarningCode;
  readonly text: string;
  readonly count?: number;
}

/**
 * Builds a warning.
 *
 * @example
 * planWarning('already-going', `${n} target(s) ... not planned again`, { count: n })
 */
export function planWarning(code: WarningCode, text: string, extra: { readonly count?: number } = {}): PlanWarning {
  return { code, text, ...(extra.count !== undefined ? { count: extra.count } : {}) };
}

/** The warnings with duplicates (same code and text) kept once, in first-seen order. */
export function uniqueWarnings(warnings: readonly PlanWarning[]): PlanWarning[] {
  const seen = new Map<string, PlanWarning>();
  for (const w of warnings) {
    const key = `${w.code}\n${w.text}`;
    if (!seen.has(key)) seen.set(key, w);
  }
  return [...seen.values()];
}

/** The warnings of one kind. */
export function warningsOf(warnings: readonly PlanWarning[], code: WarningCode): PlanWarning[] {
  return warnings.filter((w) => w.code === code);
}
