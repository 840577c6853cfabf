/**
 * The guard across writers: what makes MIN_HEALTHY_TARGETS and MAX_DEREGISTER_FRACTION hold for the whole
 * system, not just inside one invocation. Several writers act on the same groups at once (two spot batches
 * in flight, pod-events, the sweeper, the CLI); each one's census is its own snapshot, so two of them can
 * each read "2 healthy" and each remove one.
 *
 * The rule: a writer decides a group's removals only while it holds that group's lease, against the group's
 * registrations read afresh under the lease AND the group's ledger: the removals every writer committed to
 * within the guard window (written before the writes themselves, so a removal that has not shown up in
 * DescribeTargetHealth / ListInstances yet — Cloud Map deregistration is asynchronous — still counts).
 * This module is the pure half of that rule; the executor holds the lease and does the I/O.
 */
import { GONE_OR_GOING, type CloudMapRegistration, type TargetRegistration } from './registration.ts';
import type { DeregisterTargetAction, HeldBackAction, TargetGroupCensus } from './plan.ts';
import { guardGroup, type GroupAction, type GuardOptions } from './guards.ts';
import { addressKey } from './ip.ts';

/** One removal a writer committed to, kept in the group's ledger for the guard window. */
export interface LedgerEntry {
  /** The registration: `id:port` of a target, the instance id of a Cloud Map instance. */
  readonly key: string;
  /** Epoch ms of the commitment. */
  readonly at: number;
  /** Which writer (trigger and plan id), for operators reading the table. */
  readonly by: string;
}

/** A group's ledger as stored with its lease. */
export interface GroupLedger {
  readonly entries: readonly LedgerEntry[];
}

/** The ledger of a group no writer has touched within the window. */
export const EMPTY_LEDGER: GroupLedger = Object.freeze({ entries: [] });

/**
 * The identity of a registration inside its group (targets are (Id, Port): ELBv2 DeregisterTargets). An
 * IPv6 Id is keyed in its canonical form (RFC 5952): writers that read one target spelled two ways still
 * meet in one ledger entry. The port is after the last `:`, so `2001:db8::1:80` (Id, port 80) and
 * `2001:db8::1:80:` (Id `2001:db8::1:80`, group port) stay apart.
 */
export function registrationKey(r: TargetRegistration | CloudMapRegistration): string {
  return r.kind === 'target' ? `${addressKey(r.id)}:${r.port ?? ''}` : r.instanceId;
}

/** The registration an action removes, as a key. */
export function actionRegistrationKey(action: GroupAction): string {
  return registrationKey(action.kind === 'deregister-target' ? action.target : action.instance);
}

/** What the pure guard needs: one group's planned removals, its fresh registrations and its ledger. */
export interface CrossWriterInput {
  /** Planned removals of ONE group (target group or Cloud Map service). */
  readonly actions: readonly GroupAction[];
  /** Every registration of the group, read while holding its lease. */
  readonly fresh: readonly (TargetRegistration | CloudMapRegistration)[];
  readonly ledger: GroupLedger;
  readonly now: number;
  /** How long a commitment counts (ms): removals within it share one MAX_DEREGISTER_FRACTION. */
  readonly windowMs: number;
  /** This writer, recorded with its commitments. */
  readonly writer: string;
  readonly options: GuardOptions;
}

/** What the guard decided for the group. */
export interface CrossWriterDecision {
  /** Removals to write now, carrying the registration as freshly read. */
  readonly allowed: GroupAction[];
  /** Removals a guard refused now, with the reason (min-healthy, max-fraction, evidence). */
  readonly heldBack: HeldBackAction[];
  /** Removals with nothing left to do: the registration is gone or already draining. */
  readonly alreadyGoing: { readonly action: GroupAction; readonly reason: string }[];
  /** The ledger to store with the lease's release: the window's entries plus this writer's commitments. */
  readonly ledger: GroupLedger;
  /** The census the decision was made against (fresh, minus every writer's pending commitments). */
  readonly census: TargetGroupCensus;
}

const POD = 'k8s.io/pod';
const NAMESPACE = 'k8s.io/namespace';
const IDENTITY_ATTRIBUTES = ['AWS_INSTANCE_IPV4', 'AWS_INSTANCE_IPV6', POD, NAMESPACE] as const;

function isHealthy(r: TargetRegistration | CloudMapRegistration): boolean {
  return r.kind === 'target' ? r.state === 'healthy' : r.attributes['AWS_INIT_HEALTH_STATUS'] !== 'UNHEALTHY';
}

function isLive(r: TargetRegistration | CloudMapRegistration): boolean {
  return r.kind === 'cloudmap' || !GONE_OR_GOING.has(r.state);
}

/**
 * Why a removal judged on a target that did not answer no longer holds (see
 * `DeregisterTargetAction.unlessAnswering`): the fresh read shows it healthy, or initial when it was not
 * (registered again since). Undefined when the verdict still holds, or the removal does not rest on it.
 */
function answeringSincePlanned(action: DeregisterTargetAction, fresh: TargetRegistration): string | undefined {
  if (!action.unlessAnswering) return undefined;
  const was = action.target.state;
  if (fresh.state === 'healthy' || (fresh.state === 'initial' && was !== 'initial')) {
    return `target ${fresh.id} was ${was} when judged, ${fresh.state} now: something answers on it (the address reused, the instance started again): not removed`;
  }
  return undefined;
}

/**
 * Why a Cloud Map record no longer is the one that was planned (App Mesh uses the pod IP as the instance
 * id, so a reused IP re-registers the same id for another pod), or undefined when it still is.
 */
function changedSincePlanned(planned: CloudMapRegistration, fresh: CloudMapRegistration): string | undefined {
  for (const k of IDENTITY_ATTRIBUTES) {
    const was = planned.attributes[k];
    const is = fresh.attributes[k];
    // The same address re-written in another spelling is the same address.
    const same = was === is || (k.startsWith('AWS_INSTANCE_IP') && was !== undefined && is !== undefined && addressKey(was) === addressKey(is));
    if (!same) {
      return `instance ${fresh.instanceId} changed since it was planned (${k} was ${planned.attributes[k] ?? 'unset'}, now ${fresh.attributes[k] ?? 'unset'}): another pod's record now`;
    }
  }
  return undefined;
}

/**
 * Decides one group's removals against fresh state and every writer's commitments.
 *
 * - census: live registrations read now, minus those another writer committed to removing (their writes may
 *   not show yet), so the min-healthy guard counts what will really be left;
 * - fraction: the window's base is every registration live now or removed within the window, and the
 *   window's earlier removals (by any writer) count against MAX_DEREGISTER_FRACTION;
 * - a planned removal whose registration is gone or draining is not written again; one already committed
 *   (by anyone, e.g. an earlier attempt whose write failed) is written again without counting twice.
 *
 * @example
 * const d = decideAcrossWriters({ actions, fresh, ledger, now: Date.now(), windowMs: 60_000, writer: 'spot:p1', options });
 * // store d.ledger with the lease's release, THEN write d.allowed
 */
export function decideAcrossWriters(input: CrossWriterInput): CrossWriterDecision {
  const entries = input.ledger.entries.filter((e) => input.now - e.at < input.windowMs);
  const committed = new Set(entries.map((e) => e.key));
  const fresh = new Map(input.fresh.map((r) => [registrationKey(r), r]));
  const live = [...fresh.entries()].filter(([, r]) => isLive(r));
  const pending = live.filter(([k]) => committed.has(k));
  const base = new Set([...live.map(([k]) => k), ...committed]).size;
  const census: TargetGroupCensus = {
    registered: base,
    healthy: live.filter(([, r]) => isHealthy(r)).length - pending.filter(([, r]) => isHealthy(r)).length,
  };

  const candidates: GroupAction[] = [];
  const heldBack: HeldBackAction[] = [];
  const alreadyGoing: { action: GroupAction; reason: string }[] = [];
  const reaffirmed: GroupAction[] = [];
  for (const action of input.actions) {
    const key = actionRegistrationKey(action);
    const now = fresh.get(key);
    if (!now || !isLive(now)) {
      alreadyGoing.push({ action, reason: now ? `already ${now.kind === 'target' ? now.state : 'gone'}` : 'no longer registered' });
      continue;
    }
    if (committed.has(key)) {
      // Already counted against the guards by whoever committed it; writing it again is harmless
      // (DeregisterTargets of a draining target is a no-op) and finishes a commitment whose write failed.
      reaffirmed.push(action.kind === 'deregister-target' && now.kind === 'target' ? { ...action, target: { ...action.target, state: now.state } } : action);
      continue;
    }
    if (action.kind === 'deregister-instance' && now.kind === 'cloudmap') {
      const changed = changedSincePlanned(action.instance, now);
      if (changed) {
        heldBack.push({ action, guard: 'evidence', reason: changed });
        continue;
      }
      candidates.push({ ...action, instance: now });
    } else if (action.kind === 'deregister-target' && now.kind === 'target') {
      const answering = answeringSincePlanned(action, now);
      if (answering) {
        heldBack.push({ action, guard: 'evidence', reason: answering });
        continue;
      }
      candidates.push({ ...action, target: { ...action.target, state: now.state, ...(now.reason ? { reason: now.reason } : {}) } });
    }
  }
  const decision = guardGroup(candidates, census, input.options, committed.size);
  heldBack.push(...decision.heldBack);
  const ledger: GroupLedger = {
    entries: [...entries, ...decision.kept.map((a) => ({ key: actionRegistrationKey(a), at: input.now, by: input.writer }))],
  };
  return { allowed: [...reaffirmed, ...decision.kept], heldBack, alreadyGoing, ledger, census };
}
