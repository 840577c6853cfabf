/**
 * The registration index: for every target group the sweeper read, which target ids (addresses in canonical
 * form, or instance ids) it held and when it was read. Kept in the state table by the sweeper's full reads
 * (each DescribeTargetHealth of a sweep is recorded), read by the spot trigger when the cluster API cannot
 * say where a dying node's pods are registered: the groups whose last reading held one of the node's
 * addresses are described first, instead of scanning 3,000 groups to find 30.
 *
 * An entry is a HINT, never a reason to write: the groups it names are described afresh (DescribeTargetHealth)
 * and the plan is made from that answer, under the executor's lease, with every guard. What an entry can do
 * is vouch that a group held none of the node's addresses when it was read; whether that is enough to leave
 * the group unread is the scan order's decision (domain/scan-order.ts), with its freshness bound.
 *
 * Layout: the groups are spread over `buckets` items (`regidx#<cluster>#<n>`, by a hash of the ARN), each a
 * map ARN -> [read at (epoch s), ids, truncated?], so one sweep slice rewrites each bucket once (a read, a
 * conditional replace on the bucket's version, retried on a conflict) and a reader reads them all at once.
 * A bucket's JSON is kept under {@link MAX_PART_BYTES} (DynamoDB's 400 KB item: docs/aws-facts.md#dynamodb-item-size):
 * when it would not fit, the longest id lists are dropped and marked truncated, and a truncated entry
 * vouches for nothing (its group is scanned).
 */
import { createHash, randomUUID } from 'node:crypto';
import { addressKey } from '../domain/ip.ts';
import type { IndexEntry } from '../domain/scan-order.ts';
import type { StateStorePort } from '../ports/state-store.ts';
import { MAX_PART_BYTES } from './chunked-record.ts';

export type { IndexEntry } from '../domain/scan-order.ts';

/** The index as read: one entry per group, and how many buckets could not be read (their groups are unknown). */
export interface IndexView {
  readonly entries: ReadonlyMap<string, IndexEntry>;
  readonly missingBuckets: number;
}

/** One group as the sweeper read it. */
export interface GroupRead {
  readonly arn: string;
  /** Epoch ms the DescribeTargetHealth answered. */
  readonly readAt: number;
  /** Target ids as AWS returned them (any spelling: stored canonical). */
  readonly ids: readonly string[];
}

/** Buckets by default: 3,000 groups of 50 targets are ~130 KB a bucket; 16 GetItem per lookup. */
export const INDEX_BUCKETS = 16;

/** How long an index bucket stays in the table after its last write. */
const RETENTION_MS = 7 * 24 * 3600_000;

type StoredEntry = [number, string[]] | [number, string[], 1];

/** The state-table key of bucket `n` of a cluster's index. */
export const indexBucketKey = (clusterName: string, n: number): string => `regidx#${clusterName}#${n}`;

/** The bucket a group's entry lives in. */
export function bucketOf(arn: string, buckets: number): number {
  return Number.parseInt(createHash('sha1').update(arn).digest('hex').slice(0, 8), 16) % buckets;
}

/** A target id as the index keeps it: an address in canonical form (any spelling finds it), else as is. */
export const indexId = (id: string): string => addressKey(id);

/**
 * Pure: fits a bucket's entries under `maxBytes` of JSON by emptying the longest id lists first (marked
 * truncated). Returns how many were truncated.
 */
export function fitBucket(entries: Record<string, StoredEntry>, maxBytes: number): number {
  let size = Buffer.byteLength(JSON.stringify(entries), 'utf8');
  if (size <= maxBytes) return 0;
  const longest = Object.entries(entries).sort((a, b) => b[1][1].length - a[1][1].length);
  let truncated = 0;
  for (const [arn, e] of longest) {
    if (size <= maxBytes) break;
    const before = Buffer.byteLength(JSON.stringify(e), 'utf8');
    entries[arn] = [e[0], [], 1];
    size -= before - Buffer.byteLength(JSON.stringify(entries[arn]), 'utf8');
    truncated++;
  }
  return truncated;
}

/** The registration index of one cluster's quiesce in the state table. */
export class RegistrationIndexStore {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;
  readonly #cluster: string;
  readonly #buckets: number;
  readonly #maxBytes: number;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, clusterName: string, options: { buckets?: number; maxBucketBytes?: number } = {}) {
    this.#store = store;
    this.#cluster = clusterName;
    this.#buckets = options.buckets ?? INDEX_BUCKETS;
    this.#maxBytes = options.maxBucketBytes ?? MAX_PART_BYTES;
  }

  /** Every entry (all buckets read at once); a bucket that cannot be read leaves its groups unknown. */
  async load(now: Date): Promise<IndexView> {
    const records = await Promise.allSettled(Array.from({ length: this.#buckets }, (_, n) => this.#store.get(indexBucketKey(this.#cluster, n), now)));
    const entries = new Map<string, IndexEntry>();
    let missingBuckets = 0;
    for (const r of records) {
      if (r.status === 'rejected') {
        missingBuckets++;
        continue;
      }
      const groups = r.value?.data['g'];
      if (!groups || typeof groups !== 'object') continue;
      for (const [arn, e] of Object.entries(groups as Record<string, StoredEntry>)) {
        if (!Array.isArray(e) || typeof e[0] !== 'number' || !Array.isArray(e[1])) continue;
        entries.set(arn, { readAt: e[0] * 1000, ids: e[1], ...(e[2] === 1 ? { truncated: true } : {}) });
      }
    }
    return { entries, missingBuckets };
  }

  /**
   * Records what a sweep read, and drops the entries of groups `keep` says are gone (out of scope or
   * deleted). With `everyBucket`, buckets no read touches are pruned too (the end of a full sweep).
   * Returns how many entries had to be truncated to fit.
   */
  async record(reads: readonly GroupRead[], now: Date, options: { keep?: (arn: string) => boolean; everyBucket?: boolean } = {}): Promise<{ truncated: number }> {
    const byBucket = new Map<number, GroupRead[]>();
    for (const r of reads) {
      const b = bucketOf(r.arn, this.#buckets);
      byBucket.set(b, [...(byBucket.get(b) ?? []), r]);
    }
    if (options.everyBucket) for (let n = 0; n < this.#buckets; n++) if (!byBucket.has(n)) byBucket.set(n, []);
    let truncated = 0;
    for (const [b, list] of byBucket) truncated += await this.#update(b, list, now, options.keep);
    return { truncated };
  }

  /** One bucket: read, merge, fit, conditional replace; a conflict (another writer) is read and merged again. */
  async #update(bucket: number, reads: readonly GroupRead[], now: Date, keep: ((arn: string) => boolean) | undefined): Promise<number> {
    const key = indexBucketKey(this.#cluster, bucket);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.#store.get(key, now);
      const entries: Record<string, StoredEntry> = { ...((current?.data['g'] as Record<string, StoredEntry> | undefined) ?? {}) };
      for (const arn of Object.keys(entries)) if (keep && !keep(arn)) delete entries[arn];
      for (const r of reads) {
        const previous = entries[r.arn];
        // A newer reading already stored (a slower writer) wins.
        if (previous && previous[0] * 1000 > r.readAt) continue;
        entries[r.arn] = [Math.floor(r.readAt / 1000), [...new Set(r.ids.map(indexId))]];
      }
      const truncated = fitBucket(entries, this.#maxBytes);
      const next = { key, owner: randomUUID().slice(0, 13), expiresAt: new Date(now.getTime() + RETENTION_MS), data: { g: entries } };
      const written = current ? await this.#store.replaceIfOwner(key, current.owner, next, now) : await this.#store.putIfAbsent(next, now);
      if (written) return truncated;
    }
    throw new Error(`registration index bucket ${key}: five conflicting writes in a row`);
  }
}
