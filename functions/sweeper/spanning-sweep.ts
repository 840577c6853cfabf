/**
 * A full sweep that spans invocations (STATE_TABLE set): one slice per invocation, the cursor in the state
 * table (sweep-cursor.ts), so a sweep of any number of groups finishes, each invocation within its share of
 * the Describe bucket and its timeout.
 *
 *   cursor -> scope (fresh at a sweep's start, or older than half SCOPE_MAX_AGE_SECONDS; else the cached one)
 *          -> runSweep over the next slice (slice.ts: read, truths, plan, fresh ownership, apply, audit)
 *          -> registration index (every group read, for the spot trigger's fallback)
 *          -> cursor moved (or the sweep completed: its duration recorded)
 *
 * The index and the cursor are written after the slice's own writes; a failure to write them is logged and
 * the slice counts as not done (the next invocation reads the same groups again): nothing is skipped.
 */
import { randomUUID } from 'node:crypto';
import { ELB_ACCOUNT_BUCKETS } from '#core/adapters/aws/budget.ts';
import type { TargetGroup } from '#core/domain/registration.ts';
import { keepTags, scopeTagKeys } from '#core/domain/trigger-scope.ts';
import type { Elbv2Port } from '#core/ports/index.ts';
import type { CachedScope } from '#core/state/scope-cache.ts';
import { runSweep, type SweepDeps, type SweepRunResult } from './run-sweep.ts';
import { expectedSweepSeconds, sweepOverdue, type CompletedSweep, type CursorRecord, type SweepInProgress, type SweepState } from './sweep-cursor.ts';


/** Where the sweep stands after this slice. */
export interface SweepProgress {
  readonly sweepId: string;
  /** This invocation's slice, 1 for the first. */
  readonly slice: number;
  readonly groupsRead: number;
  readonly ownedGroups: number;
  readonly done: boolean;
  /** Seconds since the sweep's first slice started. */
  readonly elapsedSeconds: number;
  readonly expectedSeconds: number;
  readonly overdue: boolean;
  /** The completed sweep, when this slice completed it. */
  readonly completed?: CompletedSweep;
  /** Where the scope came from: read whole now, or the cached one. */
  readonly scope: 'fresh' | 'cache';
  /** No sweep had completed before this one (by the cursor): see {@link SweepUnderway}. */
  readonly first: boolean;
}

/** A slice's result: the sweep's, plus where the whole sweep stands. */
export interface SpanningSweepResult extends SweepRunResult {
  readonly progress: SweepProgress;
}

/** Every ip/instance group of the account with the tags any scope rule reads (DescribeTargetGroups pages + DescribeTags). */
export async function readAllGroups(elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf'>, tagKeys: readonly string[]): Promise<TargetGroup[]> {
  const groups = (await elbv2.listTargetGroups()).filter((g) => g.targetType === 'ip' || g.targetType === 'instance');
  const tags = groups.length > 0 ? await elbv2.tagsOf(groups.map((g) => g.arn)) : new Map<string, Record<string, string>>();
  return groups.map((g) => ({ ...g, tags: keepTags(tags.get(g.arn) ?? {}, tagKeys) }));
}

/** The sweep's scope: read whole at a sweep's start or when the cached one is too old or lacks a key; else cached. */
async function sweepScope(deps: SweepDeps, state: SweepState, starting: boolean, now: Date): Promise<{ groups: readonly TargetGroup[]; source: 'fresh' | 'cache' }> {
  const { config, logger } = deps;
  const tagKeys = scopeTagKeys(config.targetGroupTagSelector, config.ownerTagSelector);
  let cached: CachedScope | undefined;
  try {
    cached = await state.scope.read(now);
  } catch (err) {
    logger.warn('cached scope unreadable: reading it from ELB', { error: String(err) });
  }
  const age = cached ? now.getTime() - cached.builtAt.getTime() : Infinity;
  const usable = cached && !starting && age <= (config.scopeMaxAgeSeconds * 1000) / 2 && tagKeys.every((k) => cached?.tagKeys.includes(k));
  if (cached && usable) return { groups: cached.groups, source: 'cache' };
  const groups = await readAllGroups(deps.elbv2, tagKeys);
  try {
    await state.scope.write(groups, tagKeys, now, cached);
  } catch (err) {
    logger.warn('cached scope not written: the spot trigger reads the scope from ELB meanwhile', { error: String(err) });
  }
  return { groups, source: 'fresh' };
}

/** The sweep in progress as the overdue check sees it (completion.ts `overdueOf`). */
export interface SweepUnderway {
  /** It has run more than SWEEP_OVERDUE_FACTOR times what a full sweep of the account should take. */
  readonly overdue: boolean;
  /** Seconds since its first slice started (0: none in progress). */
  readonly elapsedSeconds: number;
  /** No sweep has completed yet by the cursor: this is the first (the deadline of a completed one cannot exist). */
  readonly first: boolean;
}

/** Where the sweep stands for a tick that sweeps nothing (not due yet, or failed): from the cursor alone. */
export async function sweepUnderway(state: SweepState, factor: number, now: Date): Promise<SweepUnderway | undefined> {
  const c = await state.cursor.load(now).catch(() => undefined);
  if (!c) return undefined;
  if (!c.current) return { overdue: false, elapsedSeconds: 0, first: c.last === undefined };
  return { overdue: sweepOverdue(c.current, now.getTime(), factor), elapsedSeconds: Math.round((now.getTime() - c.current.startedAt) / 1000), first: c.last === undefined };
}

/** Runs this invocation's slice of the sweep (see the module comment). */
export async function runSpanningSweep(deps: SweepDeps, state: SweepState): Promise<SpanningSweepResult> {
  const { config, logger } = deps;
  const now = deps.now();
  const describedBefore = deps.budget?.attempts('elb-describe') ?? 0;
  const cursor: CursorRecord = await state.cursor.load(now);
  const starting = cursor.current === undefined;
  const scope = await sweepScope(deps, state, starting, now);
  const sweepId = cursor.current?.sweepId ?? randomUUID().slice(0, 8);
  const out = await runSweep(deps, {
    slice: {
      groups: scope.groups,
      after: cursor.current?.after,
      maxGroups: config.groupsPerRun,
      readUntil: now.getTime() + config.readSeconds * 1000,
      cloudMap: !(cursor.current?.cloudMapDone ?? false),
      tagsCached: scope.source === 'cache',
    },
  });
  const slice = out.slice ?? { lastArn: undefined, done: true, groupsRead: 0, ownedGroups: 0 };
  const describeCalls = (deps.budget?.attempts('elb-describe') ?? 0) - describedBefore;
  const startedAt = cursor.current?.startedAt ?? now.getTime();
  const expectedSeconds = expectedSweepSeconds({
    ownedGroups: slice.ownedGroups,
    allGroups: scope.groups.length,
    share: config.describeShare,
    refillPerSecond: config.elbAccountBuckets.describe?.refillPerSecond ?? ELB_ACCOUNT_BUCKETS.describe.refillPerSecond,
    tickSeconds: config.tickSeconds,
    groupsPerRun: config.groupsPerRun,
  });
  const current: SweepInProgress = {
    sweepId,
    startedAt,
    ...(slice.lastArn !== undefined ? { after: slice.lastArn } : cursor.current?.after !== undefined ? { after: cursor.current.after } : {}),
    slices: (cursor.current?.slices ?? 0) + 1,
    groupsRead: (cursor.current?.groupsRead ?? 0) + slice.groupsRead,
    describeCalls: (cursor.current?.describeCalls ?? 0) + describeCalls,
    cloudMapDone: true,
    expectedSeconds,
  };
  const end = deps.now().getTime();
  const completed: CompletedSweep | undefined = slice.done
    ? { sweepId, startedAt, completedAt: end, durationSeconds: Math.round((end - startedAt) / 1000), groups: current.groupsRead, describeCalls: current.describeCalls, slices: current.slices }
    : undefined;

  // The index first (a hint), then the cursor: a cursor moved past groups whose reading is not indexed would
  // leave them unknown until the next sweep; the other way round only indexes a slice twice.
  const inScope = new Set(scope.groups.map((g) => g.arn));
  let saved = true;
  try {
    await state.index.record(out.groupReads, now, { keep: (arn) => inScope.has(arn), ...(slice.done ? { everyBucket: true } : {}) });
  } catch (err) {
    logger.warn('registration index not updated: the spot fallback scans these groups until the next sweep', { error: String(err) });
  }
  try {
    saved = await state.cursor.save(cursor, completed ? { last: completed } : { current, ...(cursor.last ? { last: cursor.last } : {}) }, now);
    if (!saved) logger.warn('sweep cursor moved by another run meanwhile: this slice is not recorded, the next one reads from that cursor');
  } catch (err) {
    saved = false;
    logger.warn('sweep cursor not written: the next invocation reads these groups again', { error: String(err) });
  }
  if (completed) logger.info('full sweep completed', { ...completed });
  return {
    ...out,
    // The scope's reads count too: the pace is about every Describe call of the invocation.
    describeCalls: deps.budget ? describeCalls : out.describeCalls,
    progress: {
      sweepId,
      slice: current.slices,
      groupsRead: current.groupsRead,
      ownedGroups: slice.ownedGroups,
      done: completed !== undefined && saved,
      elapsedSeconds: Math.round((end - startedAt) / 1000),
      expectedSeconds,
      overdue: !completed && sweepOverdue(current, end, config.sweepOverdueFactor),
      ...(completed && saved ? { completed } : {}),
      scope: scope.source,
      first: cursor.last === undefined,
    },
  };
}
