/**
 * Durable, conditional state: leases (two shifts on one rule never run at once), idempotency keys (a
 * replayed webhook does not start a second shift) and remembered values (a rule's weights before a health
 * failover, to restore later). One narrow port over a conditional write, because each of those needs
 * exactly "write only if absent / expired / still mine", which DynamoDB gives atomically.
 */
import type { GroupLedger } from '../domain/cross-writer-guard.ts';

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
  /**
   * Replaces the whole record (owner included) if `owner` still holds it and it is live: a compare-and-set
   * with the owner as the version, so two writers that read the same record cannot both move it on.
   * False (nothing written) when the record is gone, expired or held by another owner.
   */
  replaceIfOwner(key: string, owner: string, next: StoredRecord, now: Date): Promise<boolean>;
  /** Deletes the record if `owner` holds it (or it is gone); false when someone else holds it. */
  deleteIfOwner(key: string, owner: string): Promise<boolean>;
}

/**
 * Per-group leases with their ledgers: the I/O half of the guard across writers
 * (domain/cross-writer-guard.ts). A writer takes a group's lease, reads the group afresh, decides, and
 * releases the lease together with the ledger of its commitments BEFORE it writes, so the next writer sees
 * those commitments even if DescribeTargetHealth / ListInstances does not show them yet. The lease is held
 * only for one read and a pure decision; it is fenced: a release after the lease expired (someone else may
 * have taken it) fails, and then nothing may be written.
 */
export interface GroupLeasePort {
  /**
   * Takes the group's lease for `leaseMs` if it is free (absent, expired, or released) and returns the
   * group's ledger; undefined when another writer holds it. Throws when the store cannot be reached.
   */
  acquire(group: string, owner: string, now: Date, leaseMs: number, keepMs: number): Promise<GroupLedger | undefined>;
  /**
   * Stores the ledger and frees the lease, only if `owner` still holds it unexpired; false = the lease was
   * lost (nothing may be written). The record lives at least `keepMs` (the guard window) for the next writer.
   */
  release(group: string, owner: string, ledger: GroupLedger, now: Date, keepMs: number): Promise<boolean>;
  /**
   * Opens the connection to the store ahead of the first lease (TLS, the SDK's endpoint and credential
   * resolution), so that cost is paid while the caller still observes, not in front of its first write.
   * A read: it writes nothing and makes no write call (the caller may end up writing nothing); never throws.
   */
  prepare(): Promise<void>;
}
