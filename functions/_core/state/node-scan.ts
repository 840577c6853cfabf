/**
 * The node scan log: which target groups have been looked at for one dying node, by any invocation (the
 * warning, its redelivery after the invocation's deadline, the re-check rounds). One item per node
 * (`nodescan#<instance id>`) holding a 48-bit hash of each group's ARN, living as long as the node's
 * re-registration guard.
 *
 * Why: at 3,000 groups a scan does not fit one invocation (6 Describe/s, 80 s), so it is finished by the
 * next one; without a memory, each redelivery started again with the same groups. With the log, the next
 * invocation (or the completeness round) describes only what no earlier one looked at, so every group in
 * scope is looked at once per dying node, and a redelivery never repeats a prefix. A group is logged only
 * once looked at cleanly: described and its plan applied without a failure, or vouched for by the index
 * (domain/scan-order.ts); a group whose write failed is looked at again.
 *
 * Size: 13 bytes a group (12 hex characters and a separator), so 3,000 groups are ~39 KB; the item stays
 * under DynamoDB's 400 KB (docs/aws-facts.md#dynamodb-item-size) up to ~23,000 groups, past which further
 * groups are looked at but no longer remembered (a later round may look at them again).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { StateStorePort } from '../ports/state-store.ts';
import { MAX_PART_BYTES } from './chunked-record.ts';

/** The state-table key of a node's scan log. */
export const nodeScanKey = (instanceId: string): string => `nodescan#${instanceId}`;

/** A group's short name in the log: 48 bits of SHA-1 of its ARN (a collision among 3,000 groups: ~1e-8). */
export const groupHash = (arn: string): string => createHash('sha1').update(arn).digest('hex').slice(0, 12);

/** The most hashes one log item keeps (13 bytes each, under {@link MAX_PART_BYTES}). */
const MAX_HASHES = Math.floor(MAX_PART_BYTES / 13);

/** The groups looked at for each node so far. */
export class NodeScanLog {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>) {
    this.#store = store;
  }

  /** The hashes of the groups looked at for each node (a node with no log: an empty set). */
  async load(instanceIds: readonly string[], now: Date): Promise<Map<string, Set<string>>> {
    const records = await Promise.all(instanceIds.map(async (id) => [id, await this.#store.get(nodeScanKey(id), now)] as const));
    return new Map(records.map(([id, r]) => [id, new Set(typeof r?.data['h'] === 'string' && r.data['h'] !== '' ? r.data['h'].split(',') : [])]));
  }

  /** Adds groups to each node's log (merged with what others added meanwhile), kept until `until`. */
  async add(instanceIds: readonly string[], arns: readonly string[], now: Date, until: Date): Promise<void> {
    if (arns.length === 0) return;
    const hashes = arns.map(groupHash);
    await Promise.all(instanceIds.map((id) => this.#add(id, hashes, now, until)));
  }

  async #add(instanceId: string, hashes: readonly string[], now: Date, until: Date): Promise<void> {
    const key = nodeScanKey(instanceId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.#store.get(key, now);
      const had = typeof current?.data['h'] === 'string' && current.data['h'] !== '' ? current.data['h'].split(',') : [];
      const merged = [...new Set([...had, ...hashes])].slice(0, MAX_HASHES);
      if (current && merged.length === had.length) return;
      const expiresAt = new Date(Math.max(until.getTime(), current?.expiresAt.getTime() ?? 0));
      const next = { key, owner: randomUUID().slice(0, 13), expiresAt, data: { h: merged.join(','), n: merged.length } };
      const written = current ? await this.#store.replaceIfOwner(key, current.owner, next, now) : await this.#store.putIfAbsent(next, now);
      if (written) return;
    }
    throw new Error(`node scan log of ${instanceId}: five conflicting writes in a row`);
  }
}

/**
 * The ARNs of `arns` whose hash is in every node's log: looked at for the whole batch already.
 */
export function lookedForAll(arns: readonly string[], logs: ReadonlyMap<string, ReadonlySet<string>>, instanceIds: readonly string[]): Set<string> {
  const out = new Set<string>();
  if (instanceIds.length === 0) return out;
  for (const arn of arns) {
    const h = groupHash(arn);
    if (instanceIds.every((id) => logs.get(id)?.has(h))) out.add(arn);
  }
  return out;
}
