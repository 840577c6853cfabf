/**
 * One slice of a sweep that spans invocations (the cursor: sweep-cursor.ts). A full sweep of 3,000 owned
 * groups is ~3,000 DescribeTargetHealth calls: 750 s at the sweeper's 4/s, seven times its 110 s timeout. So
 * each invocation reads the next owned groups after the cursor, in ARN order, until its read budget in time
 * (`readUntil`) or in groups (`maxGroups`) is spent, judges them with truths it reads right after (as a whole
 * sweep does), writes, and leaves the cursor at the last group it read.
 *
 * Freshness of a slice's verdicts: the registrations are read in the invocation, the ENIs and pods right
 * after them, so a verdict rests on observations at most one invocation old (110 s); the group's
 * registrations are read once more under its lease before the write (executor/cross-writer.ts). Ownership
 * comes from the sweep's scope (state/scope-cache.ts, refreshed at each sweep's start and when older than
 * half of SCOPE_MAX_AGE_SECONDS), so the tags of every group about to be written are read again first
 * ({@link recheckOwnership}): a group that is no longer this cluster's is never written.
 */
import { mapWithConcurrency } from '#core/concurrency.ts';
import { targetGroupOwnership, type OwnershipRules } from '#core/domain/ownership.ts';
import type { Plan } from '#core/domain/plan.ts';
import type { TargetGroup, TargetRegistration } from '#core/domain/registration.ts';
import { awsErrorName } from '#core/errors.ts';
import { FreshTags } from '#core/observe/fresh-tags.ts';
import type { Elbv2Port } from '#core/ports/index.ts';
import type { GroupRead } from '#core/state/registration-index.ts';

/** What one invocation of a spanning sweep reads (see the module comment). */
export interface SweepSlice {
  /** Every ip/instance group with its (kept) tags: the sweep's scope, ordered or not. */
  readonly groups: readonly TargetGroup[];
  /** Read owned groups whose ARN sorts after this one (undefined: from the first). */
  readonly after: string | undefined;
  /** At most this many owned groups (SWEEP_GROUPS_PER_RUN). */
  readonly maxGroups: number;
  /** No DescribeTargetHealth is started after this epoch ms (the sweep clock): the rest is the next slice's. */
  readonly readUntil: number;
  /** Whether this slice sweeps Cloud Map too (the first slice of a sweep). */
  readonly cloudMap: boolean;
  /** The tags came from the cached scope: read again for the groups about to be written. */
  readonly tagsCached: boolean;
}

/** What a slice read. */
export interface SliceRead {
  /** The owned groups read (a prefix of the slice, in ARN order), deleted ones left out. */
  readonly groups: TargetGroup[];
  readonly targets: TargetRegistration[];
  /** Each group read, for the registration index. */
  readonly reads: GroupRead[];
  /** The last group looked at (read or found deleted): where the cursor stops. */
  readonly lastArn: string | undefined;
  /** No owned group is left after `lastArn`: the sweep is complete with this slice. */
  readonly done: boolean;
  /** Groups of the scope that no longer exist. */
  readonly gone: string[];
}

const byArn = (a: TargetGroup, b: TargetGroup): number => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0);

/** Pure: the owned groups a slice may read, in ARN order, after `after`, at most `maxGroups`; and whether more follow. */
export function sliceOf(owned: readonly TargetGroup[], after: string | undefined, maxGroups: number): { groups: TargetGroup[]; more: boolean } {
  const rest = [...owned].sort(byArn).filter((g) => after === undefined || g.arn > after);
  return { groups: rest.slice(0, maxGroups), more: rest.length > maxGroups };
}

/**
 * Reads the slice's groups with bounded concurrency, starting none after `readUntil`. Groups are started in
 * order, so what was read is a prefix: the cursor can stop at its end. A group deleted since the scope was
 * read is skipped (and reported); any other failure fails the slice, and the cursor stays where it was.
 */
export async function readSlice(
  elbv2: Pick<Elbv2Port, 'targetHealth'>,
  groups: readonly TargetGroup[],
  more: boolean,
  options: { readonly concurrency: number; readonly readUntil: number; readonly now: () => number },
): Promise<SliceRead> {
  const looked: boolean[] = new Array<boolean>(groups.length).fill(false);
  const gone: string[] = [];
  const answers = await mapWithConcurrency(groups, options.concurrency, async (g, i) => {
    if (options.now() > options.readUntil) return undefined;
    looked[i] = true;
    try {
      const targets = await elbv2.targetHealth(g.arn, g.name);
      return { g, targets, readAt: options.now() };
    } catch (err) {
      if (!/TargetGroupNotFound/.test(awsErrorName(err))) throw err;
      gone.push(g.name);
      return undefined;
    }
  });
  const prefix = looked.indexOf(false) === -1 ? groups.length : looked.indexOf(false);
  const read = answers.slice(0, prefix).filter((a): a is NonNullable<typeof a> => a !== undefined);
  return {
    groups: read.map((a) => a.g),
    targets: read.flatMap((a) => a.targets),
    reads: read.map((a) => ({ arn: a.g.arn, readAt: a.readAt, ids: a.targets.map((t) => t.id) })),
    lastArn: prefix > 0 ? groups[prefix - 1]?.arn : undefined,
    done: prefix === groups.length && !more,
    gone,
  };
}

/**
 * The plan with every write to a group that is no longer this cluster's held back (guard `ownership`): the
 * tags of the groups written are read now (DescribeTags, 20 to a call) and the ownership rules applied
 * again with the bindings this invocation read. Returns the plan and the groups that changed.
 */
export async function recheckOwnership(elbv2: Pick<Elbv2Port, 'tagsOf'>, plan: Plan, owned: readonly TargetGroup[], rules: OwnershipRules): Promise<{ plan: Plan; changed: string[] }> {
  const written = [...new Set(plan.actions.flatMap((a) => (a.kind === 'deregister-target' ? [a.target.targetGroupArn] : [])))];
  if (written.length === 0) return { plan, changed: [] };
  const fresh = new FreshTags(elbv2);
  fresh.prefetch(written);
  const byArnMap = new Map(owned.map((g) => [g.arn, g]));
  const stillOurs = new Map<string, boolean>();
  await Promise.all(
    written.map(async (arn) => {
      const tags = await fresh.of(arn);
      const g = byArnMap.get(arn);
      stillOurs.set(arn, tags !== undefined && g !== undefined && targetGroupOwnership({ ...g, tags }, rules) !== undefined);
    }),
  );
  const changed = written.filter((a) => !stillOurs.get(a));
  if (changed.length === 0) return { plan, changed: [] };
  const out = new Set(changed);
  const isOut = (a: Plan['actions'][number]): boolean => a.kind === 'deregister-target' && out.has(a.target.targetGroupArn);
  return {
    plan: {
      ...plan,
      actions: plan.actions.filter((a) => !isOut(a)),
      heldBack: [...plan.heldBack, ...plan.actions.filter(isOut).map((action) => ({ action, guard: 'ownership' as const, reason: 'no longer this cluster\'s: its tags, read just before the write, do not make it ours' }))],
    },
    changed: changed.map((a) => byArnMap.get(a)?.name ?? a),
  };
}
