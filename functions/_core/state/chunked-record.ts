/**
 * A record too large for one DynamoDB item, kept in the state table as parts plus a head.
 *
 * Why: a DynamoDB item holds at most 400 KB, attribute names included (docs/aws-facts.md#dynamodb-item-size),
 * and what quiesce keeps for an account at its quotas grows with the account: the in-scope set of 3,000
 * target groups is ~750 KB, a registration index of their targets more. So the value is a list of items,
 * split into parts of at most {@link MAX_PART_BYTES} of JSON (measured, not guessed), each part written once
 * under a key of its own (`<key>#<version>#<n>`, put-if-absent), and then a small head (`<key>`) naming the
 * version and its part count is put in place with one conditional write: if absent, or replacing exactly the
 * version the writer read (`replaceIfOwner`, the version as owner). A reader reads the head, then the parts
 * of the version it names: it sees a whole old version or a whole new one, never a mix. Parts of replaced
 * versions are left to the table's TTL (`expiresAt`), long enough for a reader that read the old head.
 *
 * Every write goes through the state store port (`StateStorePort`), like the rest of the state table.
 */
import { randomUUID } from 'node:crypto';
import type { StateStorePort, StoredRecord } from '../ports/state-store.ts';

/**
 * The most JSON one part carries, in bytes (UTF-8). 300,000 leaves room under DynamoDB's 409,600-byte item
 * for the key, the owner, the expiry, the attribute names and JSON's string escaping of the part.
 */
export const MAX_PART_BYTES = 300_000;

/** One version of the record, as read. */
export interface ChunkedValue<T> {
  readonly version: string;
  readonly writtenAt: Date;
  /** Small facts about the whole value (counts, settings it was made with); part of the head item. */
  readonly meta: Readonly<Record<string, unknown>>;
  readonly items: readonly T[];
}

/** An item larger than a part can be on its own: the value cannot be stored, say which. */
export class OversizedItemError extends Error {
  constructor(bytes: number, maxBytes: number) {
    super(`one item of the record is ${bytes} bytes of JSON, more than a part may hold (${maxBytes})`);
    this.name = 'OversizedItemError';
  }
}

/**
 * Pure: splits `items` into consecutive parts whose JSON arrays are at most `maxBytes` (UTF-8) each. Order is
 * kept; an empty list is one empty part (a record with nothing in it is still a version).
 *
 * @example splitBySize(['aa', 'bb', 'cc'], 12) // [['aa', 'bb'], ['cc']]: '["aa","bb"]' is 11 bytes
 */
export function splitBySize<T>(items: readonly T[], maxBytes: number = MAX_PART_BYTES): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let size = 2; // []
  for (const item of items) {
    const bytes = Buffer.byteLength(JSON.stringify(item) ?? 'null', 'utf8');
    if (bytes + 2 > maxBytes) throw new OversizedItemError(bytes, maxBytes);
    if (current.length > 0 && size + 1 + bytes > maxBytes) {
      parts.push(current);
      current = [];
      size = 2;
    }
    size += (current.length > 0 ? 1 : 0) + bytes;
    current.push(item);
  }
  parts.push(current);
  return parts;
}

/** How long versions live and who writes them. */
export interface ChunkedRecordOptions {
  /** How long a version (head and parts) stays in the table after it was written (the TTL attribute). */
  readonly retentionMs: number;
  /** Parts at most this many bytes of JSON (default {@link MAX_PART_BYTES}; tests use less). */
  readonly maxPartBytes?: number;
}

/** The state-table key of part `n` of `version` of the record at `key`. */
export const partKey = (key: string, version: string, n: number): string => `${key}#${version}#${n}`;

/** A large record in the state table: see the module comment. */
export class ChunkedRecord<T> {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;
  readonly #key: string;
  readonly #options: ChunkedRecordOptions;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, key: string, options: ChunkedRecordOptions) {
    this.#store = store;
    this.#key = key;
    this.#options = options;
  }

  /** The version the head names, whole; undefined when there is none, or a part of it is gone (expired). */
  async read(now: Date): Promise<ChunkedValue<T> | undefined> {
    const head = await this.#store.get(this.#key, now);
    if (!head) return undefined;
    const { version, parts, writtenAt, meta } = head.data as { version?: unknown; parts?: unknown; writtenAt?: unknown; meta?: unknown };
    if (typeof version !== 'string' || typeof parts !== 'number' || !Number.isInteger(parts) || parts < 1 || typeof writtenAt !== 'number') return undefined;
    const records = await Promise.all(Array.from({ length: parts }, (_, n) => this.#store.get(partKey(this.#key, version, n), now)));
    const items: T[] = [];
    for (const r of records) {
      const list = r?.data['items'];
      if (!r || r.owner !== version || !Array.isArray(list)) return undefined;
      items.push(...(list as T[]));
    }
    return { version, writtenAt: new Date(writtenAt), meta: (meta && typeof meta === 'object' ? meta : {}) as Record<string, unknown>, items };
  }

  /**
   * Writes a new version: the parts, then the head, in place of `previousVersion` (the version the caller
   * read; undefined = there was none). False when another writer put a head there first (nothing is lost:
   * theirs is as new; the parts written here expire).
   */
  async write(items: readonly T[], meta: Readonly<Record<string, unknown>>, now: Date, previousVersion: string | undefined): Promise<{ written: boolean; version: string; parts: number }> {
    const version = randomUUID().slice(0, 13);
    const expiresAt = new Date(now.getTime() + this.#options.retentionMs);
    const parts = splitBySize(items, this.#options.maxPartBytes ?? MAX_PART_BYTES);
    const stored = await Promise.all(parts.map((part, n) => this.#store.putIfAbsent({ key: partKey(this.#key, version, n), owner: version, expiresAt, data: { items: part } }, now)));
    if (stored.some((ok) => !ok)) throw new Error(`part of ${this.#key} version ${version} already exists`);
    const head: StoredRecord = { key: this.#key, owner: version, expiresAt, data: { version, parts: parts.length, writtenAt: now.getTime(), meta } };
    const written = previousVersion === undefined ? await this.#store.putIfAbsent(head, now) : await this.#store.replaceIfOwner(this.#key, previousVersion, head, now);
    return { written, version, parts: parts.length };
  }
}
