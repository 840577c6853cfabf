/**
 * The account's ip and instance target groups with the tags the scope rules read, kept in the state table so
 * a spot warning does not read them again. At 3,000 groups reading them is 8 DescribeTargetGroups pages and
 * 150 DescribeTags calls, on the Describe bucket the Load Balancer Controller shares: more than the warning's
 * own work. The sweeper refreshes the cache as it sweeps; a trigger that finds it missing, too old, or
 * without a group the cluster names (a group made since) reads afresh and writes it back.
 *
 * Safety: the cache only ever narrows what is READ. A group's tags are read again right before anything is
 * written to it (observe/fresh-tags.ts), so a group that left the scope since the cache was written is never
 * written; type, VPC and name are immutable for a target group's life, and the ARN names one group only.
 * What staleness can do is miss a group tagged into scope since: the miss path and the completeness round
 * (docs/spot.md) cover it.
 *
 * Stored as a chunked record (state/chunked-record.ts): ~250 bytes a group, so 3,000 groups are three parts.
 */
import type { TargetGroup } from '../domain/registration.ts';
import { keepTags } from '../domain/trigger-scope.ts';
import type { StateStorePort } from '../ports/state-store.ts';
import { ChunkedRecord } from './chunked-record.ts';

/** One group as stored (short names: 3,000 of them share the parts' 300 KB). */
interface StoredGroup {
  readonly a: string;
  readonly n: string;
  readonly t: 'ip' | 'instance';
  readonly v?: string;
  readonly p?: number;
  /** ipv6 ip group. */
  readonly six?: 1;
  /** The kept tags (see `tagKeys`). */
  readonly g: Record<string, string>;
  /** Epoch seconds the cache first listed the group (newest groups are the ones an index has not read yet). */
  readonly s: number;
}

/** A group of the cached scope: a `TargetGroup` with its kept tags, and when the cache first saw it. */
export interface ScopedGroup extends TargetGroup {
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms the cache first listed this group. */
  readonly firstSeen: number;
}

/** The cached scope, as read. */
export interface CachedScope {
  readonly version: string;
  readonly builtAt: Date;
  /** The tag keys kept per group: a rule reading another key cannot use this cache. */
  readonly tagKeys: readonly string[];
  readonly groups: readonly ScopedGroup[];
}

/** The state-table key of a cluster's cached scope. */
export const scopeKey = (clusterName: string): string => `scope#${clusterName}`;

/** How long a written scope stays in the table (readers judge its age themselves). */
const RETENTION_MS = 7 * 24 * 3600_000;

const toStored = (g: ScopedGroup): StoredGroup => ({
  a: g.arn,
  n: g.name,
  t: g.targetType === 'instance' ? 'instance' : 'ip',
  ...(g.vpcId !== undefined ? { v: g.vpcId } : {}),
  ...(g.port !== undefined ? { p: g.port } : {}),
  ...(g.ipAddressType === 'ipv6' ? { six: 1 as const } : {}),
  g: { ...g.tags },
  s: Math.floor(g.firstSeen / 1000),
});

const fromStored = (s: StoredGroup): ScopedGroup => ({
  arn: s.a,
  name: s.n,
  targetType: s.t,
  ...(s.six ? { ipAddressType: 'ipv6' as const } : {}),
  vpcId: s.v,
  port: s.p,
  loadBalancerArns: [],
  tags: s.g ?? {},
  firstSeen: s.s * 1000,
});

/** The cached scope of one cluster's quiesce in the state table. */
export class ScopeCache {
  readonly #record: ChunkedRecord<StoredGroup>;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, clusterName: string, options: { maxPartBytes?: number } = {}) {
    this.#record = new ChunkedRecord<StoredGroup>(store, scopeKey(clusterName), { retentionMs: RETENTION_MS, ...options });
  }

  /** The cached scope, or undefined (never written, or a part expired). */
  async read(now: Date): Promise<CachedScope | undefined> {
    const value = await this.#record.read(now);
    if (!value) return undefined;
    const keys = value.meta['tagKeys'];
    const built = value.meta['builtAt'];
    return { version: value.version, builtAt: typeof built === 'number' ? new Date(built) : value.writtenAt, tagKeys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [], groups: value.items.map(fromStored) };
  }

  /**
   * Writes a scope in place of `previous` (the version the caller read, if any); groups the previous version
   * listed keep their `firstSeen`. `builtAt` is when the listing was read whole (default `now`): a miss path
   * that adds a few groups to an older listing keeps that listing's age. False when another writer replaced
   * it first.
   */
  async write(groups: readonly TargetGroup[], tagKeys: readonly string[], now: Date, previous: CachedScope | undefined, builtAt: Date = now): Promise<boolean> {
    const seen = new Map((previous?.groups ?? []).map((g) => [g.arn, g.firstSeen]));
    const scoped = groups
      .filter((g) => g.targetType === 'ip' || g.targetType === 'instance')
      .map((g): ScopedGroup => ({ ...g, tags: keepTags(g.tags ?? {}, tagKeys), firstSeen: seen.get(g.arn) ?? now.getTime() }))
      .sort((x, y) => (x.arn < y.arn ? -1 : x.arn > y.arn ? 1 : 0));
    const out = await this.#record.write(scoped.map(toStored), { tagKeys: [...tagKeys], groups: scoped.length, builtAt: builtAt.getTime() }, now, previous?.version);
    return out.written;
  }
}
