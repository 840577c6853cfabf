/**
 * The executor's guard across writers, the I/O half of domain/cross-writer-guard.ts: for one group, take
 * its lease, read the group afresh, decide (pure), release the lease with the ledger of this writer's
 * commitments, and only then hand the allowed removals back to be written.
 *
 *   acquire lease (wait a bounded time while another writer holds it)
 *     -> DescribeTargetHealth / ListInstances of the group (unless the caller's own read is under
 *        `freshForMs` old: the spot trigger applies each group the moment its health arrives)
 *     -> decideAcrossWriters (fresh census minus every writer's pending commitments, shared fraction)
 *     -> release with the ledger (fenced: a lease that ran out writes nothing)
 *     -> write
 *
 * Why a read made just before the lease is as good as one made under it: every change another quiesce
 * writer makes is in the ledger before it is written, so it is counted whatever the read shows (a
 * commitment still visible as live is subtracted; one already draining is not counted twice), as long as
 * the read is younger than the guard window. What a second read would add is only drift from outside
 * quiesce (a pod failing its health check in those milliseconds), the race every read-then-write has.
 *
 * Fail safe, not open: when the state table cannot be reached, nothing is written and the actions fail
 * retryably, so the event is retried while the lease store recovers.
 */
import { randomUUID } from 'node:crypto';
import { decideAcrossWriters, type GroupLedger } from '../domain/cross-writer-guard.ts';
import type { GroupAction } from '../domain/guards.ts';
import type { CloudMapRegistration, TargetRegistration } from '../domain/registration.ts';
import { CoordinationUnavailableError, LeaseBusyError, type QuiesceError } from '../errors.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';
import type { GroupLeasePort } from '../ports/state-store.ts';

/** How the executor coordinates with other writers; undefined = the per-invocation guard only. */
export interface CoordinationOptions {
  readonly leases: GroupLeasePort;
  /** How long one lease lasts (ms): long enough for one group read and a decision. */
  readonly leaseMs: number;
  /** How long a commitment counts (ms): the guard window of the ledger. */
  readonly windowMs: number;
  /** How long to wait for a lease another writer holds (ms) before failing retryably. */
  readonly waitMs: number;
  /** This writer's MAX_DEREGISTER_FRACTION, applied to the window's removals of every writer. */
  readonly maxFraction: number | undefined;
  /** Which trigger writes (recorded in the ledger). */
  readonly writer: string;
  /** A caller's read of the group younger than this (ms) is used instead of a second read (default 2000). */
  readonly freshForMs?: number;
}

/** A group as the caller read it just before applying (all its registrations), and when. */
export interface GroupObservation {
  /** Epoch ms when the read completed. */
  readonly at: number;
  readonly registrations: readonly (TargetRegistration | CloudMapRegistration)[];
}

/** The reads a fresh look at one group needs. */
export interface FreshReadPorts {
  readonly elbv2: Pick<Elbv2Port, 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listInstances'>;
}

/** What the lease step decided for one group. */
export interface LeasedDecision {
  readonly write: GroupAction[];
  readonly heldBack: { readonly action: GroupAction; readonly reason: string }[];
  readonly alreadyGoing: { readonly action: GroupAction; readonly reason: string }[];
  /** Set when nothing could be decided (lease busy, store unreachable, fresh read failed): all actions fail. */
  readonly failed?: QuiesceError | Error;
}

/** Everything {@link decideUnderLease} needs besides the group itself. */
export interface LeaseContext {
  readonly ports: FreshReadPorts;
  readonly coordination: CoordinationOptions;
  readonly minHealthy: number;
  readonly subject: string;
  readonly planId: string;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** The caller's own read of this group, if it has one. */
  readonly observed?: GroupObservation;
}

/**
 * Groups a caller's reads into per-group observations (keyed like `groupOf`: the target group ARN, or
 * `cm:<service id>`), all made at `at`.
 */
export function observationsOf(registrations: readonly (TargetRegistration | CloudMapRegistration)[], at: number): Map<string, GroupObservation> {
  const lists = new Map<string, (TargetRegistration | CloudMapRegistration)[]>();
  for (const r of registrations) {
    const key = r.kind === 'target' ? r.targetGroupArn : `cm:${r.serviceId}`;
    const list = lists.get(key);
    if (list) list.push(r);
    else lists.set(key, [r]);
  }
  return new Map([...lists].map(([k, v]) => [k, { at, registrations: v }]));
}

/** The default of {@link CoordinationOptions.freshForMs}. */
export const FRESH_FOR_MS = 2000;

function readGroup(ports: FreshReadPorts, first: GroupAction): Promise<(TargetRegistration | CloudMapRegistration)[]> {
  if (first.kind === 'deregister-target') return ports.elbv2.targetHealth(first.target.targetGroupArn, first.target.targetGroupName);
  const i = first.instance;
  return ports.cloudMap.listInstances({ id: i.serviceId, name: i.serviceName }, { id: i.namespaceId, name: i.namespaceName });
}

/** Decides one group's removals under its lease; never throws (a failure is `failed`, for every action). */
export async function decideUnderLease(group: string, actions: readonly GroupAction[], ctx: LeaseContext): Promise<LeasedDecision> {
  const { coordination: c, now } = ctx;
  const first = actions[0];
  if (!first) return { write: [], heldBack: [], alreadyGoing: [] };
  const owner = `${c.writer}:${ctx.planId}:${randomUUID().slice(0, 8)}`;
  const giveUpAt = now().getTime() + c.waitMs;
  let backoffMs = 20;
  const none = { write: [], heldBack: [], alreadyGoing: [] };
  for (;;) {
    let ledger: GroupLedger | undefined;
    try {
      ledger = await c.leases.acquire(group, owner, now(), c.leaseMs, c.windowMs);
    } catch (err) {
      return { ...none, failed: new CoordinationUnavailableError(`lease of ${group} not taken (${(err as Error).name}: ${(err as Error).message}): nothing written`, err) };
    }
    if (ledger) {
      let fresh: readonly (TargetRegistration | CloudMapRegistration)[];
      const observedAge = ctx.observed ? now().getTime() - ctx.observed.at : Infinity;
      try {
        fresh = ctx.observed && observedAge <= (c.freshForMs ?? FRESH_FOR_MS) && observedAge < c.windowMs ? ctx.observed.registrations : await readGroup(ctx.ports, first);
      } catch (err) {
        // Free the lease for the others (the ledger is unchanged); the actions fail as the read did.
        await c.leases.release(group, owner, ledger, now(), c.windowMs).catch(() => false);
        return { ...none, failed: err as Error };
      }
      const d = decideAcrossWriters({
        actions,
        fresh,
        ledger,
        now: now().getTime(),
        windowMs: c.windowMs,
        writer: `${c.writer}:${ctx.planId}`,
        options: { minHealthy: ctx.minHealthy, maxFraction: c.maxFraction, subject: ctx.subject },
      });
      let released: boolean;
      try {
        released = await c.leases.release(group, owner, d.ledger, now(), c.windowMs);
      } catch (err) {
        return { ...none, failed: new CoordinationUnavailableError(`ledger of ${group} not stored (${(err as Error).name}): nothing written`, err) };
      }
      if (released) {
        return { write: d.allowed, heldBack: d.heldBack.map((h) => ({ action: h.action as GroupAction, reason: `${h.guard} (across writers): ${h.reason}` })), alreadyGoing: d.alreadyGoing };
      }
      // The lease ran out before the release (a slow read): another writer may have decided meanwhile.
    }
    if (now().getTime() >= giveUpAt) {
      return { ...none, failed: new LeaseBusyError(`lease of ${group} held by another writer for more than ${c.waitMs} ms: retried later, nothing written`) };
    }
    await ctx.sleep(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 400);
  }
}
