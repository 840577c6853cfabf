/**
 * Stage 3a, candidates: which target groups in scope this batch describes. A new warning asks the cluster
 * which groups the dying nodes' endpoints are in (observe/candidates.ts) and describes only those, plus
 * every group in scope that no TargetGroupBinding names (not the controller's: scanned as before). The
 * plan, the guards, the leases and the executor are exactly today's; only fewer groups are read.
 *
 * The fast path is used only when its misses will be caught: the first re-check round then scans every
 * group in scope once (the message carries `completeness`), and what it finds outside the groups the fast
 * path described is audited as a miss. So the fast path is off where no such round comes (the
 * re-registration guard off, a node no longer running) and for an Auto Scaling hook (completed on this
 * scan's word that the node is clear), and when the cluster API does not answer within
 * CLUSTER_TIMEOUT_MS the batch falls back to the full scan at once and says so. A dry run chooses exactly as
 * a live run (its re-check is recorded, not sent): it shows the plan the live run would make.
 */
import { keepsInTraffic } from '#core/domain/in-traffic.ts';
import { actionKey, type CandidateAudit, type Plan, type PlanAction } from '#core/domain/plan.ts';
import type { NodeAddresses } from '#core/domain/endpoint.ts';
import { nodeOfAction } from '#core/domain/planners/node-deregistration.ts';
import type { TargetGroup } from '#core/domain/registration.ts';
import { candidatesOfNodes, nodeNamesOf, readClusterView, type Candidates } from '#core/observe/candidates.ts';
import type { NodeWorkflowDeps } from '../types.ts';
import type { LiveRecheck } from './classify.ts';
import type { ScopedBatch } from './scope.ts';

/** How the batch finds its groups: the cluster's candidates, or a scan (full, completeness, or a re-check's own groups). */
export type CandidateChoice =
  | { readonly mode: 'cluster'; readonly candidates: Candidates }
  | { readonly mode: 'full-scan' | 'index' | 'completeness-scan' | 'targeted'; readonly reason?: string; readonly fallback?: true };

/** The re-check rounds of the batch that must scan everything (the first round after a fast path). */
export const completenessRounds = (scope: Pick<ScopedBatch, 'liveRechecks'>): LiveRecheck[] => scope.liveRechecks.filter((r) => r.message.completeness !== undefined);

/**
 * Why the fast path cannot be used for this batch, or undefined when it can. The same conditions decide
 * whether the registration index may vouch for a group (leave it undescribed): only where a completeness
 * round follows and nothing is completed on this scan's word.
 */
export function fastPathOff(scope: ScopedBatch, deps: NodeWorkflowDeps): string | undefined {
  const { config } = deps;
  if (!config.clusterCandidates) return 'CLUSTER_CANDIDATES=false';
  if (!deps.cluster) return 'no cluster access configured';
  if (!deps.delayQueue || config.guardDeadlineSeconds <= config.guardIntervalSeconds) return 'the re-registration guard is off: no re-check round would complete the fast path';
  // A hook is completed on this scan's word that its node is clear; completing it on the fast path alone
  // could terminate the instance (ending the re-checks) with a missed registration still in traffic.
  const hook = scope.active.find((a) => a.signal.kind === 'lifecycle');
  if (hook) return `Auto Scaling lifecycle hook of ${hook.signal.instanceId}: it is completed only when every group in scope was looked at`;
  // The same for a hook a re-check of this batch carries: its completion waits on this scan's word too.
  const carried = scope.liveRechecks.find((r) => (r.message.lifecycle ?? []).length > 0);
  if (carried) return `a re-check of ${carried.message.instanceIds.join(', ')} carries an Auto Scaling lifecycle hook: it is completed only when every group in scope was looked at`;
  const notRunning = scope.active.find((a) => scope.nodes.get(a.signal.instanceId)?.state !== 'running');
  if (notRunning) return `node ${notRunning.signal.instanceId} is ${scope.nodes.get(notRunning.signal.instanceId)?.state ?? 'unknown'}: no re-check round follows`;
  return undefined;
}

/** Decides how the batch finds its groups; for a new warning, reads the cluster (bounded by CLUSTER_TIMEOUT_MS). */
export async function chooseCandidates(scope: ScopedBatch, deps: NodeWorkflowDeps): Promise<CandidateChoice> {
  const completing = completenessRounds(scope).length > 0;
  if (scope.active.length === 0) return { mode: completing ? 'completeness-scan' : 'targeted' };
  if (completing) return { mode: 'completeness-scan', reason: 'a completeness round is in the batch: every group is scanned anyway' };
  const off = fastPathOff(scope, deps);
  if (off || !deps.cluster) return { mode: 'full-scan', reason: off ?? 'no cluster access configured' };
  const nodeNames = scope.planNodes.flatMap(nodeNamesOf);
  const view = await readClusterView(deps.cluster, { nodeNames }, deps.config.clusterTimeoutMs);
  if (!view.ok) {
    const reason = `cluster API unavailable (${view.error.name}: ${view.error.message}): full scan`;
    deps.logger.warn('fast path not used: falling back to the full scan', { reason, nodes: scope.planNodes.map((n) => n.instanceId) });
    return { mode: 'full-scan', reason, fallback: true };
  }
  return { mode: 'cluster', candidates: candidatesOfNodes(view.value, new Set(nodeNames)) };
}

/**
 * Pure: the groups in scope the batch describes: the cluster's candidates, the unbound groups, every
 * `instance` group (the controller registers every node there, whatever its binding says of the target
 * type) and the groups the batch's re-checks carry; or all of them.
 */
export function groupsToDescribe(groups: readonly TargetGroup[], choice: CandidateChoice, carried: ReadonlySet<string> = new Set()): TargetGroup[] {
  if (choice.mode !== 'cluster') return [...groups];
  const { candidates } = choice;
  return groups.filter((g) => candidates.groups.has(g.arn) || !candidates.bound.has(g.arn) || g.targetType === 'instance' || carried.has(g.arn));
}

/**
 * The groups the batch's re-checks carry (where their nodes were found or held back before): described
 * whatever the cluster says, so a re-check riding along with a new warning on the fast path still sees the
 * registration a guard kept (one made outside the controller is named by no binding).
 */
export const carriedGroups = (scope: Pick<ScopedBatch, 'liveRechecks'>): Set<string> => new Set(scope.liveRechecks.flatMap((r) => r.message.targetGroupArns));

/**
 * At most this many described groups travel in a re-check message (~100 bytes each, under SQS's 256 KB).
 * Past it, the message carries only the groups the fast path found the nodes in: a registration then found
 * in another described group (one made after the fast path looked) is reported as a miss too.
 */
export const MAX_DESCRIBED_IN_MESSAGE = 1500;

/**
 * Pure: the registrations of the completeness rounds' nodes this scan found in groups their fast path had
 * not described (planned now, or kept in traffic by a guard: a miss even when it was kept), as
 * `target <group> <id:port> of <node>`.
 */
export function fastPathMisses(plan: Plan, addresses: readonly NodeAddresses[], targetGroups: readonly TargetGroup[], rounds: readonly LiveRecheck[]): string[] {
  if (rounds.length === 0) return [];
  const actions: PlanAction[] = [...plan.actions, ...plan.heldBack.filter(keepsInTraffic).map((h) => h.action)];
  const out: string[] = [];
  for (const action of actions) {
    if (action.kind !== 'deregister-target') continue;
    const node = nodeOfAction(addresses, targetGroups, action);
    const round = rounds.find((r) => node !== undefined && r.message.instanceIds.includes(node));
    if (node !== undefined && round && !round.message.completeness?.describedArns.includes(action.target.targetGroupArn)) out.push(`${actionKey(action)} of ${node}`);
  }
  return out;
}

/** The audit's account of how the groups were found (and, at scale, what the cached scope, the index and the log saved). */
export function candidateAudit(
  choice: CandidateChoice,
  groupsInScope: number,
  groupsDescribed: number,
  missed: readonly string[],
  read?: { readonly scope: { readonly source: 'cache' | 'fresh' }; readonly vouched: readonly string[]; readonly alreadyLooked: number },
): CandidateAudit {
  const reason = choice.mode === 'cluster' ? undefined : choice.reason;
  const fallback = choice.mode !== 'cluster' && choice.fallback === true;
  return {
    source: choice.mode,
    ...(reason ? { reason } : {}),
    ...(fallback ? { fallback } : {}),
    groupsInScope,
    groupsDescribed,
    ...(missed.length > 0 ? { missed } : {}),
    ...(read?.scope.source === 'cache' ? { scope: 'cache' as const } : {}),
    ...(read && read.vouched.length > 0 ? { vouched: read.vouched.length } : {}),
    ...(read && read.alreadyLooked > 0 ? { alreadyLooked: read.alreadyLooked } : {}),
  };
}

