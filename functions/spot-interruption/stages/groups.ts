/**
 * Stage 3b, which groups to describe and in what order, at any account size:
 *
 *   scope: the cached scope (0 ELB calls) or ELB's listing     + the miss path for groups the cluster names
 *   cluster answered  -> its candidates (+ unbound, instance and carried groups), as before
 *   cluster cannot    -> the registration index's named groups first, then what the index cannot vouch for,
 *   / completeness       least known first, minus what the node scan log says was already looked at
 *
 * The fresh tags of the groups likely to be written (candidates, named, carried) are asked for up front when
 * the scope came from the cache: before any write the group must still be in scope by its tags as they are.
 */
import { type NodeAddresses } from '#core/domain/endpoint.ts';
import type { TargetGroup } from '#core/domain/registration.ts';
import { planScan, type IndexEntry } from '#core/domain/scan-order.ts';
import type { TriggerScopeRules } from '#core/domain/trigger-scope.ts';
import { describeMissing, readScope, withAdded, type ScopeRead } from '#core/observe/scope.ts';
import { lookedForAll } from '#core/state/node-scan.ts';
import type { NodeWorkflowDeps } from '../types.ts';
import { carriedGroups, completenessRounds, fastPathOff, groupsToDescribe, type CandidateChoice } from './candidates.ts';
import type { ScopedBatch } from './scope.ts';

/** The groups this batch describes, in order, and how they were chosen. */
export interface GroupsToRead {
  readonly choice: CandidateChoice;
  /** The groups in scope (for the audit). */
  readonly inScope: number;
  /** What to describe, in order. */
  readonly describe: readonly TargetGroup[];
  /** ARNs whose writes are likely: their fresh tags are read at once (only when the scope came from the cache). */
  readonly likelyWritten: readonly string[];
  /** Where the scope came from; `cache` means tags are read again before a write. */
  readonly scope: ScopeRead;
  /** Groups the miss path read now (their tags are fresh): added to the cache after the batch. */
  readonly added: readonly TargetGroup[];
  /** ARNs the index vouched for (logged as looked at, never described). */
  readonly vouched: readonly string[];
  /** Groups skipped as already looked at for every node. */
  readonly alreadyLooked: number;
  /** Whether the registration index ordered this scan (the audit's source `index`). */
  readonly usedIndex: boolean;
}

/** Everything the stage needs besides the batch. */
export interface GroupsContext {
  readonly choice: Promise<CandidateChoice>;
  readonly addresses: readonly NodeAddresses[];
  readonly rules: TriggerScopeRules;
  /** Only the groups the batch's re-checks carry (a later round, no new signal). */
  readonly onlyCarried: boolean;
  readonly now: Date;
}

/** Loads what the index says, or nothing when it cannot be read (the scan then describes every unknown group). */
async function loadIndex(deps: NodeWorkflowDeps, now: Date): Promise<ReadonlyMap<string, IndexEntry> | undefined> {
  if (!deps.registrationIndex) return undefined;
  try {
    const view = await deps.registrationIndex.load(now);
    return view.entries.size > 0 ? view.entries : undefined;
  } catch (err) {
    deps.logger.warn('registration index unreadable: every group the cluster cannot name is scanned', { error: String(err) });
    return undefined;
  }
}

/** Decides the groups to describe (see the module comment). */
export async function groupsToRead(scope: ScopedBatch, deps: NodeWorkflowDeps, ctx: GroupsContext): Promise<GroupsToRead> {
  const { config, logger } = deps;
  const carried = carriedGroups(scope);
  const [scopeRead, choice] = await Promise.all([
    readScope(deps.elbv2, {
      rules: ctx.rules,
      ...(ctx.onlyCarried ? { onlyArns: [...carried] } : {}),
      ...(deps.scopeCache && config.scopeMaxAgeSeconds > 0 ? { cache: deps.scopeCache } : {}),
      maxAgeMs: config.scopeMaxAgeSeconds * 1000,
      now: ctx.now,
    }),
    ctx.choice,
  ]);
  if (scopeRead.source === 'fresh' && deps.scopeCache) logger.info('scope read from ELB', { reason: scopeRead.reason });
  let groups = [...scopeRead.groups];
  let added: TargetGroup[] = [];
  if (scopeRead.source === 'cache' && scopeRead.cached) {
    // The miss path: groups the cluster names or the re-checks carry that the cache does not list at all.
    const listed = new Set(scopeRead.cached.groups.map((g) => g.arn));
    const wanted = [...(choice.mode === 'cluster' ? choice.candidates.groups.keys() : []), ...carried];
    const missing = [...new Set(wanted)].filter((a) => !listed.has(a));
    if (missing.length > 0) {
      added = await describeMissing(deps.elbv2, missing, ctx.rules);
      logger.info('groups missing from the cached scope read now', { missing: missing.length, inScope: added.length });
      groups = [...groups, ...added];
    }
  }
  const base = { choice, inScope: groups.length, scope: scopeRead, added, vouched: [] as string[], alreadyLooked: 0, usedIndex: false };
  if (choice.mode === 'cluster' || choice.mode === 'targeted') {
    const describe = groupsToDescribe(groups, choice, carried);
    return { ...base, describe, likelyWritten: choice.mode === 'cluster' ? [...choice.candidates.groups.keys(), ...carried] : [...carried] };
  }

  // The cluster could not answer (or a completeness round): the index and the node scan log decide.
  const nodeIds = scope.planNodes.map((n) => n.instanceId);
  const [index, logs] = await Promise.all([
    loadIndex(deps, ctx.now),
    deps.nodeScans ? deps.nodeScans.load(nodeIds, ctx.now).catch(() => new Map<string, Set<string>>()) : Promise.resolve(new Map<string, Set<string>>()),
  ]);
  const looked = lookedForAll(groups.map((g) => g.arn), logs, nodeIds);
  // Without a log (no STATE_TABLE), what the fast path described is what its completeness round skips.
  for (const r of completenessRounds(scope)) for (const arn of r.message.completeness?.describedArns ?? []) looked.add(arn);
  const vouchMs = fastPathOff(scope, deps) === undefined ? config.indexVouchSeconds * 1000 : 0;
  const rounds = completenessRounds(scope);
  const plan = planScan({
    groups,
    nodes: ctx.addresses.map((a) => ({ addresses: a, launchedAt: launchOf(scope, a.instanceId) })),
    index,
    vouchMs,
    now: ctx.now.getTime(),
    looked,
    describedAnyway: carried,
    ...(scopeRead.firstSeen ? { firstSeen: scopeRead.firstSeen } : {}),
    // No log to continue from: a later round starts elsewhere than the last one did.
    ...(!deps.nodeScans && rounds.length > 0 ? { salt: `${nodeIds.join(',')}|${Math.max(...rounds.map((r) => r.message.round))}` } : {}),
  });
  const carriedInScope = groups.filter((g) => carried.has(g.arn));
  return {
    ...base,
    describe: [...carriedInScope, ...plan.named, ...plan.unknown],
    likelyWritten: [...carried, ...plan.named.map((g) => g.arn)],
    vouched: plan.vouched,
    alreadyLooked: plan.alreadyLooked,
    usedIndex: index !== undefined,
  };
}

/** Epoch ms a plan node was last launched, when EC2 said. */
function launchOf(scope: ScopedBatch, instanceId: string): number | undefined {
  const t = scope.nodes.get(instanceId)?.launchTime;
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Writes the groups the miss path found into the cached scope (best effort, after the batch's writes: a
 * failure only means the next warning reads them again).
 */
export async function writeBackAdded(deps: NodeWorkflowDeps, read: GroupsToRead, now: Date): Promise<void> {
  const cached = read.scope.cached;
  if (!deps.scopeCache || !cached || read.added.length === 0) return;
  try {
    await deps.scopeCache.write(withAdded(cached, read.added), cached.tagKeys, now, cached, cached.builtAt);
  } catch (err) {
    deps.logger.warn('cached scope not updated with the groups read now', { error: String(err) });
  }
}
