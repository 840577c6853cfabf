/**
 * The sweep cursor: where a full sweep that spans invocations stands, and how long the last complete one
 * took. One item in the state table (`sweep-cursor#<cluster>`), replaced by a conditional write on its
 * version, so two runs that read the same cursor (the CLI next to the scheduled sweeper) cannot both move it.
 *
 * A sweep starts with a fresh read of the account's groups (the scope, state/scope-cache.ts), then each
 * invocation reads the owned groups after `after` (ARN order) until its budget is spent (slice.ts), and moves
 * `after` to the last group it read. The slice that reaches the end completes the sweep: its duration (first
 * slice's start to the end of the last) is recorded with its Describe calls, and the next sweep starts over.
 * Groups created during a sweep with an ARN before the cursor are swept by the next one.
 */
import { randomUUID } from 'node:crypto';
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { RegistrationIndexStore } from '#core/state/registration-index.ts';
import type { ScopeCache } from '#core/state/scope-cache.ts';

/** A sweep in progress. */
export interface SweepInProgress {
  readonly sweepId: string;
  /** Epoch ms the first slice started. */
  readonly startedAt: number;
  /** The ARN of the last group read: the next slice reads after it (undefined: from the first). */
  readonly after?: string;
  readonly slices: number;
  readonly groupsRead: number;
  /** ELB Describe calls of the sweep so far (scope reads included). */
  readonly describeCalls: number;
  /** Cloud Map was swept (the first slice does it). */
  readonly cloudMapDone: boolean;
  /** How long a full sweep of this account should take at the share (s): the overdue metric's yardstick. */
  readonly expectedSeconds: number;
}

/** The last sweep that read every owned group. */
export interface CompletedSweep {
  readonly sweepId: string;
  readonly startedAt: number;
  readonly completedAt: number;
  readonly durationSeconds: number;
  readonly groups: number;
  readonly describeCalls: number;
  readonly slices: number;
}

/** The cursor as read (its version for the conditional replace). */
export interface CursorRecord {
  readonly version?: string;
  readonly current?: SweepInProgress;
  readonly last?: CompletedSweep;
}

/** The state-table key of a cluster's sweep cursor. */
export const cursorKey = (clusterName: string): string => `sweep-cursor#${clusterName}`;

/** How long the cursor item lives after its last write. */
const RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Pure: how long a full sweep of the account takes at the share, in seconds: its Describe calls (each owned
 * group once, plus the scope's DescribeTags and DescribeTargetGroups pages) over the share of the refill,
 * and never less than one tick per slice.
 *
 * @example expectedSweepSeconds({ ownedGroups: 3000, allGroups: 3000, share: 0.1, refillPerSecond: 10, tickSeconds: 120, groupsPerRun: 400 }) // 3158
 */
export function expectedSweepSeconds(o: { ownedGroups: number; allGroups: number; share: number; refillPerSecond: number; tickSeconds: number; groupsPerRun: number }): number {
  const calls = o.ownedGroups + Math.ceil(o.allGroups / 20) + Math.ceil(o.allGroups / 400);
  return Math.max(Math.ceil(calls / (o.share * o.refillPerSecond)), Math.ceil(o.ownedGroups / o.groupsPerRun) * o.tickSeconds);
}

/** Pure: the sweep in progress has run more than `factor` times what a full sweep should take. */
export function sweepOverdue(current: SweepInProgress | undefined, now: number, factor: number): boolean {
  return current !== undefined && now - current.startedAt > factor * current.expectedSeconds * 1000;
}

/** The cursor of one cluster's sweeps in the state table. */
export class SweepCursor {
  readonly #store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>;
  readonly #key: string;

  constructor(store: Pick<StateStorePort, 'get' | 'putIfAbsent' | 'replaceIfOwner'>, clusterName: string) {
    this.#store = store;
    this.#key = cursorKey(clusterName);
  }

  async load(now: Date): Promise<CursorRecord> {
    const r = await this.#store.get(this.#key, now);
    if (!r) return {};
    const current = r.data['current'] as SweepInProgress | undefined;
    const last = r.data['last'] as CompletedSweep | undefined;
    return { version: r.owner, ...(current && typeof current.sweepId === 'string' ? { current } : {}), ...(last && typeof last.sweepId === 'string' ? { last } : {}) };
  }

  /** Replaces the cursor read as `previous`; false when another run moved it first (this slice's move is dropped). */
  async save(previous: CursorRecord, next: Omit<CursorRecord, 'version'>, now: Date): Promise<boolean> {
    const record = {
      key: this.#key,
      owner: randomUUID().slice(0, 13),
      expiresAt: new Date(now.getTime() + RETENTION_MS),
      data: { ...(next.current ? { current: next.current } : {}), ...(next.last ? { last: next.last } : {}) },
    };
    return previous.version === undefined ? this.#store.putIfAbsent(record, now) : this.#store.replaceIfOwner(this.#key, previous.version, record, now);
  }
}

/**
 * What a spanning sweep keeps in the state table: its cursor, the stored scope and the registration index.
 * Here, beside the cursor, so that the sweep (spanning-sweep.ts) and the slice it runs (run-sweep.ts) both
 * name it without importing each other.
 */
export interface SweepState {
  readonly cursor: SweepCursor;
  readonly scope: ScopeCache;
  readonly index: Pick<RegistrationIndexStore, 'record'>;
}
