/**
 * The target groups in a trigger's scope, from the cached scope when it can answer (state/scope-cache.ts),
 * else from ELB (DescribeTargetGroups pages + DescribeTags of the VPC's groups, as before). Also the miss
 * path: groups the cluster names that the cache does not list (made since it was written) are described by
 * ARN, checked against the same rule, and added.
 *
 * The cache answers when it exists, is younger than `maxAgeMs`, and kept every tag key the rules read.
 * Whatever it answers only narrows what is read: the caller reads fresh tags before any write when
 * `source` is `cache` (observe/fresh-tags.ts).
 */
import { chunk } from '../concurrency.ts';
import type { TargetGroup } from '../domain/registration.ts';
import { inTriggerScope, keepTags, scopeTagKeys, typeAndVpcInScope, type TriggerScopeRules } from '../domain/trigger-scope.ts';
import type { Elbv2Port } from '../ports/index.ts';
import type { CachedScope, ScopeCache } from '../state/scope-cache.ts';
import { targetGroupsInScope } from './index.ts';

/** The groups in scope, and where they came from. */
export interface ScopeRead {
  readonly groups: readonly TargetGroup[];
  /** `cache`: the cached scope (tags to be read again before a write); `fresh`: read from ELB now. */
  readonly source: 'cache' | 'fresh';
  /** Why the cache did not answer (for the log), when it did not. */
  readonly reason?: string;
  /** The cache as read (for a write-back after a miss), when it answered. */
  readonly cached?: CachedScope;
  /** Epoch ms of each group's first listing by the cache (newest groups first in scans), when it answered. */
  readonly firstSeen?: ReadonlyMap<string, number>;
}

/** Why a cached scope cannot answer for these rules at `now`, or undefined when it can. */
export function cacheUnusable(cached: CachedScope | undefined, rules: Pick<TriggerScopeRules, 'tagSelector'>, maxAgeMs: number, now: Date): string | undefined {
  if (!cached) return 'no cached scope (the sweeper has not written one yet)';
  const age = now.getTime() - cached.builtAt.getTime();
  if (age > maxAgeMs) return `cached scope ${Math.round(age / 1000)} s old (SCOPE_MAX_AGE_SECONDS ${Math.round(maxAgeMs / 1000)})`;
  const missing = scopeTagKeys(rules.tagSelector).filter((k) => !cached.tagKeys.includes(k));
  if (missing.length > 0) return `cached scope lacks tag ${missing.join(', ')}`;
  return undefined;
}

/** Options of {@link readScope}. */
export interface ReadScopeOptions {
  readonly rules: TriggerScopeRules;
  /** Only these groups (a re-check's own), whatever the scope's source. */
  readonly onlyArns?: readonly string[];
  readonly cache?: Pick<ScopeCache, 'read'>;
  readonly maxAgeMs: number;
  readonly now: Date;
}

/** The groups in scope: the cache's when usable, else ELB's (today's scan). A cache that cannot be read is a miss. */
export async function readScope(elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf'>, options: ReadScopeOptions): Promise<ScopeRead> {
  let cached: CachedScope | undefined;
  let reason: string | undefined;
  if (options.cache) {
    try {
      cached = await options.cache.read(options.now);
      reason = cacheUnusable(cached, options.rules, options.maxAgeMs, options.now);
    } catch (err) {
      reason = `cached scope unreadable (${(err as Error).name})`;
    }
  } else {
    reason = 'no state table';
  }
  const only = options.onlyArns ? new Set(options.onlyArns) : undefined;
  if (cached && reason === undefined) {
    const groups = cached.groups.filter((g) => inTriggerScope(g, options.rules) && (!only || only.has(g.arn)));
    return { groups, source: 'cache', cached, firstSeen: new Map(cached.groups.map((g) => [g.arn, g.firstSeen])) };
  }
  const groups = await targetGroupsInScope(elbv2, { ...options.rules, ...(options.onlyArns ? { onlyArns: options.onlyArns } : {}) });
  return { groups, source: 'fresh', reason: reason ?? 'cache not asked' };
}

/**
 * The miss path: the groups among `arns` (named by the cluster, absent from the cached scope) that exist
 * and are in scope, read now (DescribeTargetGroups by ARN, DescribeTags; 20 to a call). Their tags are fresh.
 */
export async function describeMissing(elbv2: Pick<Elbv2Port, 'describeTargetGroups' | 'tagsOf'>, arns: readonly string[], rules: TriggerScopeRules): Promise<TargetGroup[]> {
  if (arns.length === 0) return [];
  const found = (await Promise.all(chunk([...new Set(arns)], 20).map((batch) => elbv2.describeTargetGroups(batch)))).flat().filter((g) => typeAndVpcInScope(g, rules));
  if (found.length === 0) return [];
  const tags = await elbv2.tagsOf(found.map((g) => g.arn));
  return found.map((g) => ({ ...g, tags: tags.get(g.arn) ?? {} })).filter((g) => inTriggerScope(g, rules));
}

/** The cache with `added` groups in it (their tags kept as the cache keeps them), for a write-back. */
export function withAdded(cached: CachedScope, added: readonly TargetGroup[]): TargetGroup[] {
  const known = new Set(cached.groups.map((g) => g.arn));
  return [...cached.groups, ...added.filter((g) => !known.has(g.arn)).map((g) => ({ ...g, tags: keepTags(g.tags ?? {}, cached.tagKeys) }))];
}
