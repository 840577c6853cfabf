/**
 * The traffic-shift workflow: a "Deployment Synced" starts a shift, each "Traffic Shift Step Due" applies
 * one step, and between steps nothing runs (an EventBridge Scheduler one-time schedule carries the state).
 *
 *   start: plan lookup -> rule + LBC refusal -> idempotency claim -> lock the rule -> step 0
 *   step:  lock says it is this step's turn -> gate (to has >= N healthy) -> pure plan -> executor.apply
 *          -> verify (DescribeRules shows exactly the written weights; re-read, then give up)
 *          -> audit -> schedule the next step (or release the lock and publish Completed)
 *   abort: pure rollback plan to the weights before the shift -> apply -> verify -> audit -> release ->
 *          publish Aborted
 *
 * Every step is idempotent: the lock record holds the index of the next step, so a duplicate delivery of a
 * step (Scheduler and EventBridge deliver at least once) or of the sync finds it is not its turn and stops.
 *
 * No shift strands. The lock also records how far the shift got: the whole state of the next step, when it
 * is due, and whether its schedule was made (`due` -> `scheduled`). A step that was written and verified is
 * recorded BEFORE its next schedule is made, so when CreateSchedule fails the invocation fails, Lambda
 * sends the same event again, and that retry (a step or the sync itself) resumes from the lock: it makes
 * the schedule instead of being ignored as "already started". A shift whose next step is overdue by more
 * than its pause plus WATCHDOG_MARGIN_SECONDS (its schedule lost) is run by the watchdog (watchdog.ts), and
 * that step gates and verifies like any other: it completes the shift or rolls it back (Aborted).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Plan, WeightedTargetGroup } from '#core/domain/plan.ts';
import { currentPercent, planShiftRollback, planShiftStep, remainingSteps, checkPair, type ShiftPair } from '#core/domain/planners/traffic-shift.ts';
import { describeWeights, forwardWeights, lbcOwnership, listenerArnOfRule, sameWeights, UnshiftableRuleError } from '#core/domain/planners/traffic-weights.ts';
import { QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import { healthGate, type HealthGate } from '#core/domain/health-gate.ts';
import { targetGroupNameOf } from '#core/domain/target-group-arn.ts';
import type { ListenerRule } from '#core/ports/index.ts';
import type { TrafficPlanConfig } from './config.ts';
import type { TrafficDeps } from './deps.ts';
import { lockKey, parseShiftState, TrafficDetailType, type DeploymentSynced, type ShiftState } from '#core/contracts/traffic.ts';
import type { StoredRecord } from '#core/ports/state-store.ts';
import { verifyRuleWeights } from '#core/failover/verify-weights.ts';
import { isWritten } from '#core/executor/executor.ts';

/** What one invocation did to a shift. */
export type ShiftOutcome =
  | { readonly status: 'ignored'; readonly reason: string; readonly shiftId?: string }
  | { readonly status: 'refused'; readonly reason: string; readonly shiftId?: string }
  | { readonly status: 'step-applied'; readonly shiftId: string; readonly step: number; readonly percent: number; readonly nextStepAt: string }
  /** A retry (or the watchdog) found a step written and verified whose next step had no schedule: made it. */
  | { readonly status: 'step-scheduled'; readonly shiftId: string; readonly step: number; readonly nextStepAt: string }
  | { readonly status: 'completed'; readonly shiftId: string; readonly reason?: string }
  /** `scheduleNotCancelled`: the aborted step's own schedule could not be cancelled (it stops itself when it fires). */
  | { readonly status: 'aborted'; readonly shiftId: string; readonly reason: string; readonly rolledBack: boolean; readonly scheduleNotCancelled?: ScheduleNotCancelled };

/** The claim that a shift (app + revision + rule) was started once. */
export const claimKey = (shiftId: string): string => `shift#${shiftId}`;
/** How long a started shift stays claimed against redelivery. */
const CLAIM_SECONDS = 7 * 24 * 3600;

/** Deterministic id of the shift of one revision of one app on one rule: duplicates get the same id. */
export function shiftIdOf(app: string, revision: string, ruleArn: string): string {
  return createHash('sha256').update(`${app}\n${revision}\n${ruleArn}`).digest('hex').slice(0, 24);
}

/** Schedule names: unique per shift and step, within Scheduler's 64 characters. */
export const stepScheduleName = (shiftId: string, stepIndex: number): string => `quiesce-shift-${shiftId}-${stepIndex}`;

/**
 * The lock lasts through a pause plus a generous step, and is renewed at every step; it outlives the moment
 * the watchdog takes an overdue step over (due + pause + margin) by 900 s, so a stranded shift is found.
 */
const lockExpiry = (now: Date, pauseSeconds: number, marginSeconds: number): Date => new Date(now.getTime() + (2 * pauseSeconds + marginSeconds + 900) * 1000);

/**
 * How long after the lock's last update a step that is due may be taken up by a retry: longer than the
 * function's 60 s timeout (serverless.yml), so an invocation still applying it is never run twice at once.
 */
const IN_FLIGHT_SECONDS = 90;

/** How far a shift got, as its lock records it. */
export interface ShiftProgress {
  /** The state of the next step (stepIndex = the step to apply next). */
  readonly state: ShiftState;
  /** `due`: recorded, its schedule not (yet) made; `scheduled`: a one-time schedule will deliver it. */
  readonly progress: 'due' | 'scheduled';
  readonly dueAt: Date;
  readonly updatedAt: Date;
}

/** The lock's data for `next` (what a retry or the watchdog resumes from). */
function lockData(next: ShiftState, progress: ShiftProgress['progress'], dueAt: Date, now: Date): Record<string, unknown> {
  return { nextStep: next.stepIndex, app: next.app, revision: next.revision, progress, dueAt: dueAt.toISOString(), updatedAt: now.toISOString(), state: { ...next } };
}

/** What the lock says about its shift, or undefined for a lock that records no progress (or not validly). */
export function progressOf(lock: StoredRecord): ShiftProgress | undefined {
  const { state, progress, dueAt, updatedAt } = lock.data;
  if ((progress !== 'due' && progress !== 'scheduled') || typeof dueAt !== 'string' || typeof updatedAt !== 'string' || typeof state !== 'object' || state === null) return undefined;
  try {
    const parsed = parseShiftState(state as Record<string, unknown>);
    if (parsed.shiftId !== lock.owner || Number.isNaN(Date.parse(dueAt)) || Number.isNaN(Date.parse(updatedAt))) return undefined;
    return { state: parsed, progress, dueAt: new Date(dueAt), updatedAt: new Date(updatedAt) };
  } catch {
    return undefined;
  }
}

/** Makes the next step's schedule, then records that it exists. Throws when Scheduler fails (retried). */
async function scheduleStep(deps: TrafficDeps, next: ShiftState, at: Date, now: Date): Promise<void> {
  await deps.scheduler.scheduleOnce({
    name: stepScheduleName(next.shiftId, next.stepIndex),
    at,
    detailType: TrafficDetailType.stepDue,
    detail: stateDetail(next),
    description: `quiesce: ${next.app}@${next.revision} step ${next.stepIndex + 1}/${next.steps.length} (${next.steps[next.stepIndex]}%)`,
  });
  const marked = await deps.store.updateIfOwner(lockKey(next.ruleArn), next.shiftId, {
    expiresAt: lockExpiry(now, next.pauseSeconds, deps.config.watchdogMarginSeconds),
    data: lockData(next, 'scheduled', at, now),
  });
  if (!marked) deps.logger.warn('lock lost while scheduling the next step: that step will stop itself', { shiftId: next.shiftId });
}

/**
 * Resumes a shift from its lock when an event finds it is not that event's turn: a next step recorded but
 * never scheduled gets its schedule (or runs now when it is already due and nobody is applying it); a next
 * step that is scheduled leaves this event a duplicate. `overdue` (the watchdog) runs a scheduled step too.
 */
export async function resumeFromLock(deps: TrafficDeps, lock: StoredRecord, now: Date, overdue = false): Promise<ShiftOutcome> {
  const p = progressOf(lock);
  const shiftId = lock.owner;
  if (!p) return { status: 'ignored', reason: `duplicate delivery: the lock of shift ${shiftId} records no progress to resume (next step ${String(lock.data['nextStep'])})`, shiftId };
  const step = p.state.stepIndex + 1;
  if (p.progress === 'scheduled' && !overdue) {
    return { status: 'ignored', reason: `duplicate delivery: step ${step} is next and scheduled for ${p.dueAt.toISOString()}`, shiftId };
  }
  if (p.dueAt.getTime() > now.getTime()) {
    deps.logger.warn('resuming a shift: its next step was recorded but not scheduled', { shiftId, step, dueAt: p.dueAt.toISOString() });
    await scheduleStep(deps, p.state, p.dueAt, now);
    return { status: 'step-scheduled', shiftId, step, nextStepAt: p.dueAt.toISOString() };
  }
  if (!overdue && now.getTime() - p.updatedAt.getTime() < IN_FLIGHT_SECONDS * 1000) {
    return { status: 'ignored', reason: `step ${step} is due and was updated ${Math.round((now.getTime() - p.updatedAt.getTime()) / 1000)} s ago: another invocation may be applying it`, shiftId };
  }
  deps.logger.warn('resuming a shift: applying its due step now', { shiftId, step, dueAt: p.dueAt.toISOString(), overdue });
  return applyStep(deps, p.state, now);
}

async function publish(deps: TrafficDeps, detailType: string, detail: Record<string, unknown>, ruleArn: string): Promise<void> {
  deps.logger.info(detailType, detail);
  if (!deps.bus) return;
  try {
    const { failed } = await deps.bus.publish([{ source: QUIESCE_SOURCE, detailType, detail, resources: [ruleArn] }]);
    for (const f of failed) deps.logger.error('lifecycle event not published', { detailType, errorCode: f.errorCode, errorMessage: f.errorMessage });
  } catch (err) {
    deps.logger.error('lifecycle event not published', { detailType, error: err as Error });
  }
}

async function describeRule(elbv2: TrafficDeps['elbv2'], ruleArn: string): Promise<ListenerRule | undefined> {
  try {
    const [rule] = await elbv2.describeRules({ ruleArns: [ruleArn] });
    return rule;
  } catch (err) {
    if ((err as Error).name === 'RuleNotFound' || (err as Error).name === 'RuleNotFoundException') return undefined;
    throw err;
  }
}

const stateDetail = (s: ShiftState): Record<string, unknown> => ({ ...s });

/** Why a sync starts no shift: not a finished healthy sync, no (valid) traffic plan for its app, or another destination. */
export interface SyncIgnored {
  readonly code: 'not-synced' | 'no-plan' | 'invalid-plan' | 'other-destination';
  readonly text: string;
}

/** The traffic plan a sync starts a shift with, or why it starts none (shared with `quiesce plan`). */
export function planOfSync(plans: ReadonlyMap<string, TrafficPlanConfig>, synced: DeploymentSynced, invalid: ReadonlyMap<string, string> = new Map()): { readonly cfg: TrafficPlanConfig } | { readonly ignored: SyncIgnored } {
  if (synced.phase !== 'Succeeded' || synced.syncStatus !== 'Synced' || synced.health !== 'Healthy') {
    return { ignored: { code: 'not-synced', text: `sync of ${synced.app} is ${synced.phase}/${synced.syncStatus}/${synced.health}, not Succeeded/Synced/Healthy` } };
  }
  const cfg = plans.get(synced.app);
  if (!cfg) {
    const why = invalid.get(synced.app);
    return { ignored: why !== undefined ? { code: 'invalid-plan', text: `the traffic plan of app ${synced.app} is not valid: ${why}` } : { code: 'no-plan', text: `no traffic plan for app ${synced.app}` } };
  }
  if (cfg.destination !== undefined && cfg.destination !== synced.destination.name && cfg.destination !== synced.destination.server) {
    return { ignored: { code: 'other-destination', text: `${synced.app} synced to ${synced.destination.name ?? synced.destination.server}, the plan shifts on ${cfg.destination}` } };
  }
  return { cfg };
}

/**
 * The rule a shift of `pair` would write, with its weights now, or why it must not be shifted: missing,
 * managed by the Load Balancer Controller (it would revert the write), or without from and to in one
 * weighted forward action. Reads only (shared with `quiesce plan`).
 */
export async function shiftableRule(elbv2: TrafficDeps['elbv2'], pair: ShiftPair): Promise<{ readonly rule: ListenerRule; readonly weights: WeightedTargetGroup[] } | { readonly refused: string }> {
  const rule = await describeRule(elbv2, pair.ruleArn);
  if (!rule) return { refused: `rule ${pair.ruleArn} not found` };
  const listenerArn = listenerArnOfRule(pair.ruleArn);
  const tags = await elbv2.tagsOf([pair.ruleArn, listenerArn]);
  const lbc = lbcOwnership(tags.get(pair.ruleArn) ?? {}, tags.get(listenerArn) ?? {});
  if (lbc) return { refused: `rule ${pair.ruleArn}: ${lbc}` };
  try {
    const weights = forwardWeights(pair.ruleArn, rule.actions);
    checkPair(pair, weights);
    return { rule, weights };
  } catch (err) {
    if (err instanceof UnshiftableRuleError) return { refused: err.message };
    throw err;
  }
}

/**
 * The health gate of the shift's new side as it stands now: its healthy targets against the plan's minimum
 * (DescribeTargetHealth). Checked before every step; shared with `quiesce plan`, which shows it per step.
 */
export async function readHealthGate(elbv2: TrafficDeps['elbv2'], shift: Pick<ShiftPair, 'to'> & { readonly minHealthyTargets: number }): Promise<HealthGate> {
  return healthGate(await elbv2.targetHealth(shift.to, targetGroupNameOf(shift.to)), shift.minHealthyTargets);
}

/** Starts the shift a sync asks for (or says why not). */
export async function startShift(deps: TrafficDeps, synced: DeploymentSynced): Promise<ShiftOutcome> {
  const now = deps.now();
  const { plans, invalid } = await deps.plans.load();
  const planned = planOfSync(plans, synced, invalid);
  if ('ignored' in planned) return { status: 'ignored', reason: planned.ignored.text };
  const { cfg } = planned;
  const shiftId = shiftIdOf(synced.app, synced.revision, cfg.ruleArn);
  const listenerArn = listenerArnOfRule(cfg.ruleArn);
  const refuse = async (reason: string): Promise<ShiftOutcome> => {
    deps.logger.warn('traffic shift refused', { shiftId, app: synced.app, reason });
    await publish(deps, TrafficDetailType.refused, { shiftId, app: synced.app, revision: synced.revision, ruleArn: cfg.ruleArn, reason }, cfg.ruleArn);
    return { status: 'refused', reason, shiftId };
  };

  const shiftable = await shiftableRule(deps.elbv2, cfg);
  if ('refused' in shiftable) return refuse(shiftable.refused);
  const original = shiftable.weights;
  const steps = remainingSteps(cfg.steps, currentPercent(cfg, original));
  if (steps.length === 0) return { status: 'completed', shiftId, reason: `already at ${cfg.steps.at(-1)}% or more` };

  // Idempotency: the same app + revision + rule starts once, however often the event arrives.
  const claimed = await deps.store.putIfAbsent(
    { key: claimKey(shiftId), owner: shiftId, expiresAt: new Date(now.getTime() + CLAIM_SECONDS * 1000), data: { app: synced.app, revision: synced.revision } },
    now,
  );
  if (!claimed) {
    // Started before: a retry of this very event resumes from what the lock records (a schedule that
    // failed after step 1, say); a finished or aborted shift has no lock any more.
    const lock = await deps.store.get(lockKey(cfg.ruleArn), now);
    if (lock?.owner === shiftId) return resumeFromLock(deps, lock, now);
    return { status: 'ignored', reason: `shift ${shiftId} (${synced.app}@${synced.revision}) was already started`, shiftId };
  }
  const state: ShiftState = {
    shiftId,
    app: synced.app,
    revision: synced.revision,
    ruleArn: cfg.ruleArn,
    listenerArn,
    from: cfg.from,
    to: cfg.to,
    steps,
    stepIndex: 0,
    original,
    pauseSeconds: cfg.pauseSeconds,
    minHealthyTargets: cfg.minHealthyTargets,
    startedAt: now.toISOString(),
  };
  // One shift per rule.
  const locked = await deps.store.putIfAbsent(
    { key: lockKey(cfg.ruleArn), owner: shiftId, expiresAt: lockExpiry(now, cfg.pauseSeconds, deps.config.watchdogMarginSeconds), data: lockData(state, 'due', now, now) },
    now,
  );
  if (!locked) {
    const holder = await deps.store.get(lockKey(cfg.ruleArn), now);
    // Let an operator send this revision again once the rule is free.
    await deps.store.deleteIfOwner(claimKey(shiftId), shiftId);
    return refuse(`rule ${cfg.ruleArn} is being shifted by ${holder?.owner ?? 'another shift'} (${String(holder?.data['app'] ?? '?')}@${String(holder?.data['revision'] ?? '?')}); two shifts never run on one rule at once`);
  }
  await publish(deps, TrafficDetailType.started, { ...stateDetail(state), weights: describeWeights(original) }, cfg.ruleArn);
  return applyStep(deps, state, now);
}

/** Applies the step `state.stepIndex` of a running shift, if the lock says it is its turn (else resumes). */
export async function runShiftStep(deps: TrafficDeps, state: ShiftState): Promise<ShiftOutcome> {
  const now = deps.now();
  const lock = await deps.store.get(lockKey(state.ruleArn), now);
  if (!lock || lock.owner !== state.shiftId) return { status: 'ignored', reason: 'stale step: this shift no longer holds the rule', shiftId: state.shiftId };
  if (lock.data['nextStep'] !== state.stepIndex) return resumeFromLock(deps, lock, now);
  return applyStep(deps, state, now);
}

/** Gate, write, verify, audit, then record and schedule the next step (or complete). */
async function applyStep(deps: TrafficDeps, state: ShiftState, now: Date): Promise<ShiftOutcome> {
  const percent = state.steps[state.stepIndex]!;
  const step = state.stepIndex + 1;
  const rule = await describeRule(deps.elbv2, state.ruleArn);
  if (!rule) return abort(deps, state, `rule ${state.ruleArn} disappeared`, undefined);

  // Gate: the new side must be able to take the traffic before it gets more.
  const gate = await readHealthGate(deps.elbv2, state);
  if (!gate.passes) {
    return abort(deps, state, `gate before step ${step} (${percent}%): ${gate.healthy} healthy target(s) in the new target group, ${gate.required} required`, rule);
  }

  const input = { planId: randomUUID(), now, pair: state, listenerArn: state.listenerArn, actions: rule.actions, original: state.original, subject: `${state.app}@${state.revision}` };
  let plan: Plan;
  try {
    plan = planShiftStep({ ...input, percent, step, of: state.steps.length });
  } catch (err) {
    if (err instanceof UnshiftableRuleError) return abort(deps, state, err.message, rule);
    throw err;
  }
  const result = await deps.executor.apply(plan);
  const outcome = result.outcomes[0];
  if (!outcome || !isWritten(outcome)) {
    await deps.audit.record(plan, result);
    return abort(deps, state, `write of step ${step} failed: ${outcome?.error ? `${outcome.error.name}: ${outcome.error.message}` : outcome?.status ?? 'no outcome'}`, undefined);
  }
  const weights = plan.actions[0]!.kind === 'set-weights' ? plan.actions[0]!.weights : [];
  const v = await verifyRuleWeights(deps.writes.elbv2, state.ruleArn, weights, { attempts: deps.config.verifyAttempts, intervalMs: deps.config.verifyIntervalMs, sleep: deps.sleep });
  await deps.audit.record(plan, result);
  if (!v.verified) {
    return abort(
      deps,
      state,
      `verify of step ${step}: DescribeRules still showed ${v.seen ? describeWeights(v.seen) : 'no rule'} after ${v.reads} read(s); wrote ${describeWeights(weights)}`,
      undefined,
    );
  }
  await publish(deps, TrafficDetailType.stepApplied, { shiftId: state.shiftId, app: state.app, revision: state.revision, ruleArn: state.ruleArn, step, of: state.steps.length, percent, weights, verifyReads: v.reads }, state.ruleArn);

  if (step === state.steps.length) {
    await deps.store.deleteIfOwner(lockKey(state.ruleArn), state.shiftId);
    await publish(deps, TrafficDetailType.completed, { shiftId: state.shiftId, app: state.app, revision: state.revision, ruleArn: state.ruleArn, weights, steps: state.steps }, state.ruleArn);
    return { status: 'completed', shiftId: state.shiftId };
  }
  // Record first that this step is written and verified and when the next is due, then make its schedule:
  // if CreateSchedule fails, the invocation fails and its retry (or the watchdog) resumes from the lock.
  const next: ShiftState = { ...state, stepIndex: state.stepIndex + 1 };
  const at = new Date(now.getTime() + state.pauseSeconds * 1000);
  const advanced = await deps.store.updateIfOwner(lockKey(state.ruleArn), state.shiftId, {
    expiresAt: lockExpiry(now, state.pauseSeconds, deps.config.watchdogMarginSeconds),
    data: lockData(next, 'due', at, now),
  });
  if (!advanced) {
    deps.logger.warn('lock lost after a step: the next step is not scheduled', { shiftId: state.shiftId });
    return { status: 'ignored', reason: 'lock lost after the step: this shift no longer holds the rule', shiftId: state.shiftId };
  }
  await scheduleStep(deps, next, at, now);
  return { status: 'step-applied', shiftId: state.shiftId, step, percent, nextStepAt: at.toISOString() };
}

/** How a rollback ended: the weights from before the shift are back and confirmed, nothing needed undoing, or not confirmed. */
type Rollback =
  | { readonly kind: 'restored' }
  | { readonly kind: 'unchanged'; readonly note: string }
  | { readonly kind: 'not-confirmed'; readonly error: string };

/** A step schedule an abort could not cancel, and why (reported in the outcome and the Aborted event). */
export interface ScheduleNotCancelled {
  readonly name: string;
  readonly error: string;
}

/**
 * Rolls the rule back to the weights before the shift and verifies it. Never throws: what went wrong is the
 * `not-confirmed` result, which the abort reports loudly (an operator checks the weights by hand).
 */
async function rollBack(deps: TrafficDeps, state: ShiftState, reason: string, observed: ListenerRule | undefined): Promise<Rollback> {
  try {
    const rule = observed ?? (await describeRule(deps.elbv2, state.ruleArn));
    if (!rule) return { kind: 'not-confirmed', error: 'rule not found' };
    const plan = planShiftRollback({
      planId: randomUUID(),
      now: deps.now(),
      pair: state,
      listenerArn: state.listenerArn,
      actions: rule.actions,
      original: state.original,
      subject: `${state.app}@${state.revision}`,
      reason,
    });
    const action = plan.actions[0]!;
    const written = action.kind === 'set-weights' ? action.weights : [];
    if (action.kind === 'set-weights' && sameWeights(action.weights, action.previous)) {
      // Nothing was changed (the first write failed, say): nothing to undo, and nothing left unconfirmed.
      deps.logger.info('traffic shift aborted before any weight changed', { shiftId: state.shiftId, weights: describeWeights(written) });
      return { kind: 'unchanged', note: `nothing to roll back: the rule still has the weights from before the shift (${describeWeights(written)})` };
    }
    const result = await deps.executor.apply(plan);
    await deps.audit.record(plan, result);
    const outcome = result.outcomes[0];
    if (!outcome || !isWritten(outcome)) return { kind: 'not-confirmed', error: outcome?.error?.message ?? outcome?.status ?? 'no outcome' };
    const v = await verifyRuleWeights(deps.writes.elbv2, state.ruleArn, written, { attempts: deps.config.verifyAttempts, intervalMs: deps.config.verifyIntervalMs, sleep: deps.sleep });
    return v.verified ? { kind: 'restored' } : { kind: 'not-confirmed', error: `rollback written but not yet visible after ${v.reads} read(s)` };
  } catch (err) {
    return { kind: 'not-confirmed', error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/**
 * Cancels the schedule that would deliver the aborted step itself (`stepIndex`): the one left behind when the
 * watchdog took the step over before Scheduler delivered it (a step delivered by its schedule, or step 0,
 * has none left: ResourceNotFound is fine). The next step's schedule is never made before a step succeeds,
 * so there is none to cancel. A failed cancel is reported, not swallowed: the schedule then fires later,
 * finds its shift no longer holds the rule, and stops.
 */
async function cancelStepSchedule(deps: TrafficDeps, state: ShiftState): Promise<ScheduleNotCancelled | undefined> {
  const name = stepScheduleName(state.shiftId, state.stepIndex);
  try {
    await deps.scheduler.cancel(name);
    return undefined;
  } catch (err) {
    deps.logger.error('step schedule not cancelled: it will find its shift gone', { shiftId: state.shiftId, name, error: err as Error });
    return { name, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** Rolls the rule back to the weights before the shift, cancels the step's schedule, releases the rule, publishes Aborted. */
async function abort(deps: TrafficDeps, state: ShiftState, reason: string, observed: ListenerRule | undefined): Promise<ShiftOutcome> {
  deps.logger.warn('traffic shift aborted: rolling back', { shiftId: state.shiftId, reason });
  const rollback = await rollBack(deps, state, reason, observed);
  const rolledBack = rollback.kind !== 'not-confirmed';
  if (rollback.kind === 'not-confirmed') deps.logger.error('ROLLBACK NOT CONFIRMED: check the rule weights by hand', { shiftId: state.shiftId, ruleArn: state.ruleArn, rollbackError: rollback.error });
  const scheduleNotCancelled = await cancelStepSchedule(deps, state);
  await deps.store.deleteIfOwner(lockKey(state.ruleArn), state.shiftId);
  await publish(
    deps,
    TrafficDetailType.aborted,
    {
      shiftId: state.shiftId,
      app: state.app,
      revision: state.revision,
      ruleArn: state.ruleArn,
      reason,
      step: state.stepIndex + 1,
      rolledBack,
      ...(rollback.kind === 'not-confirmed' ? { rollbackError: rollback.error } : {}),
      ...(rollback.kind === 'unchanged' ? { rollbackNote: rollback.note } : {}),
      ...(scheduleNotCancelled ? { scheduleNotCancelled } : {}),
      restoredWeights: state.original,
    },
    state.ruleArn,
  );
  return { status: 'aborted', shiftId: state.shiftId, reason, rolledBack, ...(scheduleNotCancelled ? { scheduleNotCancelled } : {}) };
}
