/**
 * {@link ParameterTreePort} over SSM Parameter Store GetParametersByPath (Recursive false, pages of 10, the
 * most the API returns at once), cached per container with a TTL.
 *
 * Why a path of parameters rather than one: a Standard parameter holds at most 4 KB and an Advanced one
 * 8 KB (the Lambda environment holds 4 KB in all), while a path holds as many parameters as the account's
 * 10,000 Standard ones; each item is written by its own owner (one terraform module per app) without
 * touching the others. Why the TTL: the traffic-shift function reads the tree on every event and every
 * 2-minute watchdog round; a minute of staleness is nothing for a plan that is reviewed before it is
 * written, and it keeps the read off Parameter Store's shared throughput. A failed read is not cached.
 * The facts: docs/aws-facts.md#parameter-store-sizes-paths-and-pages.
 */
import { GetParametersByPathCommand, type Parameter, type SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterTreePort } from '../../ports/parameters.ts';
import type { ApiBudget } from './budget.ts';

/** GetParametersByPath returns at most 10 parameters a call. */
export const MAX_PARAMETERS_PER_PAGE = 10;

/** Options of {@link AwsSsmParameterTree}. */
export interface AwsSsmParameterTreeOptions {
  /** How long a path's parameters are served from the cache (default 60 000 ms; 0 = always read). */
  readonly ttlMs?: number;
  /** Milliseconds now (default Date.now); tests pass the fake clock. */
  readonly now?: () => number;
}

/** The parameters directly under a path, read with GetParametersByPath and cached. */
export class AwsSsmParameterTree implements ParameterTreePort {
  readonly #client: SSMClient;
  readonly #budget: ApiBudget;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: Promise<ReadonlyMap<string, string>>; until: number }>();

  constructor(client: SSMClient, budget: ApiBudget, options: AwsSsmParameterTreeOptions = {}) {
    this.#client = client;
    this.#budget = budget;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Every parameter directly under `path`, from the cache while fresh; concurrent reads share one. */
  async children(path: string): Promise<ReadonlyMap<string, string>> {
    const now = this.#now();
    const hit = this.#cache.get(path);
    if (hit && hit.until > now) return hit.value;
    const value = this.#read(path);
    this.#cache.set(path, { value, until: now + this.#ttlMs });
    value.catch(() => this.#cache.delete(path));
    return value;
  }

  async #read(path: string): Promise<ReadonlyMap<string, string>> {
    const out = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await this.#budget.call('ssm', 'GetParametersByPath', () =>
        this.#client.send(new GetParametersByPathCommand({ Path: path, Recursive: false, WithDecryption: false, MaxResults: MAX_PARAMETERS_PER_PAGE, NextToken: token })),
      );
      for (const p of page.Parameters ?? ([] as Parameter[])) if (p.Name !== undefined && p.Value !== undefined) out.set(p.Name, p.Value);
      token = page.NextToken;
    } while (token);
    return out;
  }
}
