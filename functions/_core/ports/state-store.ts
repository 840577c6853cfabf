/**
 * Durable, conditional state: leases (two shifts on one rule never run at once), idempotency keys (a
 * replayed webhook does not start a second shift) and remembered values (a rule's weights before a health
 * failover, to restore later). One narrow port over a conditional write, because each of those needs
 * exactly "write only if absent / expired / still mine", which DynamoDB gives atomically.
 */

/** One stored record. */
export interface StoredRecord {
  readonly key: string;
  /** Who holds it (a shift id, a webhook delivery): conditional deletes and updates check it. */
  readonly owner: string;
  /** When it stops counting (also the table's TTL attribute). */
  readonly expiresAt: Date;
  /** Free-form JSON-serialisable data. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** The conditional store. Every method treats a record past `expiresAt` as absent. */
export interface StateStorePort {
  /** Writes the record if no live record has this key; returns false (nothing written) otherwise. */
  putIfAbsent(record: StoredRecord, now: Date): Promise<boolean>;
  /** The live record, or undefined. */
  get(key: string, now: Date): Promise<StoredRecord | undefined>;
  /** Replaces data and expiry if `owner` still holds the record; false when it does not. */
  updateIfOwner(key: string, owner: string, change: { expiresAt: Date; data: Readonly<Record<string, unknown>> }): Promise<boolean>;
  /** Deletes the record if `owner` holds it (or it is gone); false when someone else holds it. */
  deleteIfOwner(key: string, owner: string): Promise<boolean>;
}
