/**
 * Fresh tags of the groups about to be written, read in batches of 20 (DescribeTags' maximum).
 *
 * Why: when a trigger's scope came from the cache (state/scope-cache.ts), the cached tags may be minutes old,
 * and a group untagged out of this cluster's scope since must not be written. So the tags of every group a
 * plan writes are read again right before its write, and checked with the same rule the scan used
 * (domain/trigger-scope.ts). Reading only the groups written keeps the cost with the node, not the account:
 * one call per 20 groups written. Groups the caller expects to write (the cluster's candidates, the index's
 * named groups) are asked for up front in one go (`prefetch`), in parallel with their health; any other group
 * is asked for when its plan has a write, and such asks are gathered for `windowMs` into shared calls.
 */
import { chunk } from '../concurrency.ts';
import { awsErrorName } from '../errors.ts';
import type { Elbv2Port } from '../ports/index.ts';

/** DescribeTags takes at most 20 ARNs per call. */
const TAGS_PER_CALL = 20;

/** Tags of groups, read now; undefined for a group that no longer exists. */
export class FreshTags {
  readonly #elbv2: Pick<Elbv2Port, 'tagsOf'>;
  readonly #windowMs: number;
  readonly #asked = new Map<string, Promise<Record<string, string> | undefined>>();
  #pending: { arn: string; resolve: (t: Record<string, string> | undefined) => void; reject: (e: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** DescribeTags calls made (first tries; the budget counts retries). */
  calls = 0;

  constructor(elbv2: Pick<Elbv2Port, 'tagsOf'>, options: { windowMs?: number } = {}) {
    this.#elbv2 = elbv2;
    this.#windowMs = options.windowMs ?? 25;
  }

  /** Starts reading these groups' tags now, 20 to a call (the groups the caller expects to write). */
  prefetch(arns: readonly string[]): void {
    const wanted = [...new Set(arns)].filter((a) => !this.#asked.has(a));
    for (const batch of chunk(wanted, TAGS_PER_CALL)) {
      const read = this.#read(batch);
      for (const arn of batch) this.#asked.set(arn, read.then((m) => m.get(arn)));
    }
  }

  /** The group's tags as they are now (read once per instance), or undefined when it is gone. */
  of(arn: string): Promise<Record<string, string> | undefined> {
    const known = this.#asked.get(arn);
    if (known) return known;
    const p = new Promise<Record<string, string> | undefined>((resolve, reject) => {
      this.#pending.push({ arn, resolve, reject });
      if (this.#pending.length >= TAGS_PER_CALL) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#windowMs);
    });
    this.#asked.set(arn, p);
    return p;
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    this.#read(batch.map((b) => b.arn)).then(
      (m) => {
        for (const b of batch) b.resolve(m.get(b.arn));
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
  }

  /**
   * One DescribeTags; a batch naming a deleted group fails whole (docs/aws-facts.md#describing-target-groups-by-arn)
   * and is read again one group at a time.
   */
  async #read(arns: readonly string[]): Promise<Map<string, Record<string, string>>> {
    this.calls++;
    try {
      return await this.#elbv2.tagsOf(arns);
    } catch (err) {
      if (!/NotFound/.test(awsErrorName(err)) || arns.length === 1) {
        if (/NotFound/.test(awsErrorName(err))) return new Map();
        throw err;
      }
    }
    const one = await Promise.all(arns.map((a) => this.#read([a])));
    return new Map(one.flatMap((m) => [...m]));
  }
}
