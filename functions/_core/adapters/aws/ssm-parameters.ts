/**
 * Secret parameters over SSM Parameter Store GetParameter (WithDecryption), cached per container with a TTL.
 *
 * Why a cache with a TTL: the webhook is hit once per ArgoCD sync, possibly in bursts across many apps;
 * reading Parameter Store each time costs latency and shared throughput (GetParameter is throttled per
 * account), while never re-reading would keep a rotated token out until the next cold start. A TTL of a few
 * minutes bounds how long a rotated-away token keeps working. Concurrent first reads share one call.
 * (Powertools Parameters does the same; this is the same policy in 40 lines without another dependency.)
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { SecretParameterPort } from '../../ports/parameters.ts';
import type { ApiBudget } from './budget.ts';

/** Options of {@link AwsSsmParameters}. */
export interface AwsSsmParametersOptions {
  /** How long a value is served from the cache (default 300 000 ms). */
  readonly ttlMs?: number;
  /** Milliseconds now (default Date.now); tests pass the fake clock. */
  readonly now?: () => number;
}

/** {@link SecretParameterPort} on SSM with a per-name TTL cache. */
export class AwsSsmParameters implements SecretParameterPort {
  readonly #client: SSMClient;
  readonly #budget: ApiBudget;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: Promise<string>; until: number }>();

  constructor(client: SSMClient, budget: ApiBudget, options: AwsSsmParametersOptions = {}) {
    this.#client = client;
    this.#budget = budget;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** The decrypted value, from the cache while fresh. A failed read is not cached. */
  async get(name: string): Promise<string> {
    const now = this.#now();
    const hit = this.#cache.get(name);
    if (hit && hit.until > now) return hit.value;
    const value = this.#budget
      .call('ssm', 'GetParameter', () => this.#client.send(new GetParameterCommand({ Name: name, WithDecryption: true })))
      .then((r) => {
        const v = r.Parameter?.Value;
        if (v === undefined) throw new Error(`parameter ${name} has no value`);
        return v;
      });
    this.#cache.set(name, { value, until: now + this.#ttlMs });
    value.catch(() => this.#cache.delete(name));
    return value;
  }
}
