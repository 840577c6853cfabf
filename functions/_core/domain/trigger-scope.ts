/**
 * Which target groups a node or pod trigger reads (spot, pod-events): the one rule, pure, so the fresh scan
 * (observe/index.ts), the cached scope (state/scope-cache.ts) and the check of fresh tags right before a write
 * (observe/fresh-tags.ts) cannot drift apart. See docs/safety.md#which-target-groups-are-in-scope.
 *
 * A group is in scope when it is an `ip` group (or an `instance` group, unless only ip groups are wanted), in
 * one of the VPCs (none given = any), and, with a tag selector, carries every selector tag or opts in for the
 * cluster with `quiesce.io/deregister-by`. Without a selector every such group is in scope.
 */
import { DEREGISTER_BY_TAG, LBC_CLUSTER_TAG, optedInFor } from './ownership.ts';
import type { TargetGroup } from './registration.ts';

/** What decides a trigger's scope. */
export interface TriggerScopeRules {
  /** Only groups in these VPCs (empty = any VPC). */
  readonly vpcIds: readonly string[];
  /** Every one of these tags (empty = no tag rule). */
  readonly tagSelector: Readonly<Record<string, string>>;
  /** The cluster a group may opt in for by tag. */
  readonly clusterName?: string;
  /** Only `ip` groups (a pod IP is a target of nothing else). */
  readonly ipOnly?: boolean;
}

/** Whether a group's type and VPC fit the rules (what needs no tags). */
export function typeAndVpcInScope(group: Pick<TargetGroup, 'targetType' | 'vpcId'>, rules: Pick<TriggerScopeRules, 'vpcIds' | 'ipOnly'>): boolean {
  const typeOk = group.targetType === 'ip' || (group.targetType === 'instance' && !rules.ipOnly);
  return typeOk && (rules.vpcIds.length === 0 || (group.vpcId !== undefined && rules.vpcIds.includes(group.vpcId)));
}

/** Whether tags put a group in scope: every selector tag, or the opt-in tag for the cluster (no selector: yes). */
export function tagsInScope(tags: Readonly<Record<string, string>> | undefined, rules: Pick<TriggerScopeRules, 'tagSelector' | 'clusterName'>): boolean {
  const selector = Object.entries(rules.tagSelector);
  if (selector.length === 0) return true;
  const t = tags ?? {};
  return selector.every(([k, v]) => t[k] === v) || (rules.clusterName !== undefined && optedInFor(t, rules.clusterName));
}

/** Whether a group (its tags read) is in the trigger's scope. */
export function inTriggerScope(group: TargetGroup, rules: TriggerScopeRules): boolean {
  return typeAndVpcInScope(group, rules) && tagsInScope(group.tags, rules);
}

/**
 * The tag keys any scope or ownership rule reads: the Load Balancer Controller's cluster tag, the opt-in tag
 * and every selector's keys. A cached scope keeps only these (a group may carry 50 tags; 3,000 groups' worth
 * would not fit the cache), and records which, so a reader whose rules need another key reads afresh.
 */
export function scopeTagKeys(...selectors: readonly Readonly<Record<string, string>>[]): string[] {
  return [...new Set([LBC_CLUSTER_TAG, DEREGISTER_BY_TAG, ...selectors.flatMap((s) => Object.keys(s))])].sort();
}

/** Only the tags whose key is in `keys`. */
export function keepTags(tags: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (tags[k] !== undefined) out[k] = tags[k];
  return out;
}
