/**
 * One ELB budget for the stage: concurrent invocations (two spot batches, pod-events bursts during a
 * rollout, the sweeper) divide their shares of the account's ELB buckets instead of each taking all of its
 * own. Each function instance has a client-side budget (adapters/aws/budget.ts) sized to its share of the
 * account bucket (spot: 60% of Describe and all of Registration; the others 40%); two instances at once
 * would take twice that until AWS throttles them.
 *
 * How: an instance that has to WAIT for a token (it spends faster than its burst: the only time sharing
 * matters) takes a short lease in the stage's holder list for that bucket (`share#<bucket>` in the state
 * table: who, with which share, until when) and renews it every `renewMs` while it keeps waiting. From the
 * live holders it computes its part: with C the largest share among them and S their sum, each takes
 * share x C / S when S > C, else all of its share. So one spot batch alone keeps its 60%; two take 30% each;
 * spot and pod-events together 36% and 24%: the stage never exceeds the largest share any of them was
 * configured with. A lease lapses `leaseMs` after its last renewal (a finished or frozen instance stops
 * renewing), and the others take their full part back on their next renewal.
 *
 * Cost: per instance that waits, one GetItem and one conditional PutItem to join, the same every `renewMs`
 * (default 2 s) while it keeps waiting; nothing at all for an invocation that never waits for a token.
 * If the table cannot be read or written, the instance keeps its own share (as before) and says so once.
 */
import { randomUUID } from 'node:crypto';
import type { ApiFamily } from '../adapters/aws/budget.ts';
import type { StateStorePort } from '../ports/state-store.ts';

/** The ELB families whose account buckets are shared, and their bucket names. */
const BUCKET_OF: Partial<Record<ApiFamily, 'describe' | 'register' | 'modify'>> = { 'elb-describe': 'describe', 'elb-register': 'register', 'elb-modify': 'modify' };

/** The state-table key of a bucket's holder list. */
export const shareKey = (bucket: string): string => `share#${bucket}`;

/** One holder of a bucket: who, its configured share, and until when (epoch ms). */
export interface ShareHolder {
  readonly id: string;
  readonly share: number;
  readonly until: number;
}

/**
 * Pure: the part of its share a holder may use next to the live others: `C / S` when the live shares' sum S
 * exceeds the largest of them C, else 1.
 *
 * @example partOf([{ id: 'a', share: 0.6, until: 9 }, { id: 'b', share: 0.6, until: 9 }], 0) // 0.5
 */
export function partOf(holders: readonly ShareHolder[], now: number): number {
  const live = holders.filter((h) => h.until > now && h.share > 0);
  if (live.length === 0) return 1;
  const sum = live.reduce((n, h) => n + h.share, 0);
  const largest = Math.max(...live.map((h) => h.share));
  return sum > largest ? largest / sum : 1;
}

/** What the share needs of the budget. */
export interface ShareableBudget {
  setScale(family: ApiFamily, scale: number): void;
  onWait(listener: (family: ApiFamily) => void): void;
}

/** Options of {@link AccountShare}. */
export interface AccountShareOptions {
  /** This instance's configured share of each ELB bucket (ELB_BUDGET_SHARE / the trigger's defaults). */
  readonly shares: Readonly<Partial<Record<'describe' | 'register' | 'modify', number>>>;
  /** Who holds (a trigger name; a random suffix tells instances apart). */
  readonly holder: string;
  /** How long a lease lives after its last renewal (ms, default 6 s). */
  readonly leaseMs?: number;
  /** How often a waiting instance renews its lease and recomputes its part (ms, default 2 s). */
  readonly renewMs?: number;
  /** Epoch ms (tests: the fake clock). */
  readonly now?: () => number;
  /** Told once when the table cannot be used (the instance then keeps its own share). */
  readonly warn?: (message: string, error: unknown) => void;
}

/** The stage's shared ELB budget, as one instance takes part in it (see the module comment). */
export class AccountShare {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;
  readonly #budget: ShareableBudget;
  readonly #o: Required<Omit<AccountShareOptions, 'warn'>> & Pick<AccountShareOptions, 'warn'>;
  readonly #id: string;
  readonly #renewedAt = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<unknown>>();
  #warned = false;
  /** Lease writes made (for the bench: what sharing costs). */
  writes = 0;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, budget: ShareableBudget, options: AccountShareOptions) {
    this.#store = store;
    this.#budget = budget;
    this.#o = { leaseMs: 6000, renewMs: 2000, now: () => Date.now(), ...options };
    this.#id = `${options.holder}:${randomUUID().slice(0, 8)}`;
    budget.onWait((family) => this.#onWait(family));
  }

  /** A family waited for a token: join or renew its bucket's lease, at most once per `renewMs`, one at a time. */
  #onWait(family: ApiFamily): void {
    const bucket = BUCKET_OF[family];
    const share = bucket ? this.#o.shares[bucket] : undefined;
    if (!bucket || share === undefined) return;
    const now = this.#o.now();
    if (this.#inflight.has(bucket) || now - (this.#renewedAt.get(bucket) ?? -Infinity) < this.#o.renewMs) return;
    this.#renewedAt.set(bucket, now);
    const p = this.renew(family, bucket, share)
      .catch((err: unknown) => {
        if (!this.#warned) this.#o.warn?.('shared ELB budget unavailable (state table): this invocation keeps its own share', err);
        this.#warned = true;
      })
      .finally(() => this.#inflight.delete(bucket));
    this.#inflight.set(bucket, p);
  }

  /** Resolves once the renewals in flight are done (tests, and a caller that wants its part settled). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Writes this instance's lease into the bucket's holder list and scales the family to its part. */
  async renew(family: ApiFamily, bucket: string, share: number): Promise<number> {
    const key = shareKey(bucket);
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.#o.now();
      const current = await this.#store.get(key, new Date(now));
      const others = ((current?.data['h'] as ShareHolder[] | undefined) ?? []).filter((h) => h && h.id !== this.#id && h.until > now);
      const holders = [...others, { id: this.#id, share, until: now + this.#o.leaseMs }];
      const next = { key, owner: randomUUID().slice(0, 13), expiresAt: new Date(now + 3_600_000), data: { h: holders } };
      this.writes++;
      const written = current ? await this.#store.replaceIfOwner(key, current.owner, next, new Date(now)) : await this.#store.putIfAbsent(next, new Date(now));
      if (written) {
        const part = partOf(holders, now);
        this.#budget.setScale(family, part);
        return part;
      }
    }
    throw new Error(`${key}: five conflicting writes in a row`);
  }
}
