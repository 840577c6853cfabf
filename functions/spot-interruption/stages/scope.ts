/**
 * Stage 2, scope: DescribeInstances once for every instance the batch names. Only nodes of CLUSTER_NAME are
 * acted on (another instance is an audited rejection, never a write), and only while the instance as it is
 * NOW agrees with the signal (current state before event state: `currentStateDecision`). A re-check ends
 * when none of its nodes is running any more.
 */
import type { NodeInstance } from '#core/domain/endpoint.ts';
import { currentStateDecision } from './signal-rules.ts';
import { resolveClusterNodes, type RejectedInstance } from '#core/observe/index.ts';
import type { Ignored, NodeWorkflowDeps, Rejected } from '../types.ts';
import type { ActingSignal, ClassifiedBatch, LiveRecheck } from './classify.ts';

/** The batch in scope: what to plan for, and why. */
export interface ScopedBatch {
  /** Signals acted on now (in scope, current state agrees). */
  readonly active: readonly ActingSignal[];
  /** Scheduled changes and due deregistrations in scope whose instance agrees (for the scheduled-changes stage). */
  readonly scheduled: readonly ActingSignal[];
  readonly liveRechecks: readonly LiveRecheck[];
  readonly rejected: readonly Rejected[];
  readonly ignored: readonly Ignored[];
  /** Every instance the batch named that exists and is a node of this cluster. */
  readonly nodes: ReadonlyMap<string, NodeInstance>;
  /** Why each node to plan for is going (the first signal's reason, or the re-check round's). */
  readonly reasons: ReadonlyMap<string, string>;
  /** The nodes to plan for. */
  readonly planNodes: readonly NodeInstance[];
  /** Dying state changes EC2 did not confirm yet: looked at once more after a few seconds (rechecks.ts). */
  readonly unconfirmed: readonly ActingSignal[];
}

/** Resolves the batch's instances, and sets aside what is out of scope or out of date. */
export async function scopeToCluster(batch: ClassifiedBatch, deps: NodeWorkflowDeps): Promise<ScopedBatch> {
  const { config, logger } = deps;
  const signals = [...batch.acting, ...batch.scheduled];
  const ids = [...new Set([...signals.map((a) => a.signal.instanceId), ...batch.rechecks.flatMap((r) => r.message.instanceIds)])];
  if (ids.length === 0) return { active: [], scheduled: [], liveRechecks: [], rejected: [], ignored: batch.ignored, nodes: new Map(), reasons: new Map(), planNodes: [], unconfirmed: [] };
  const { nodes, rejected: out } = await resolveClusterNodes(deps.ec2, ids, config.clusterName);
  const outIds = new Map(out.map((r) => [r.instanceId, r.reason]));
  const rejected: Rejected[] = signals
    .filter((a) => outIds.has(a.signal.instanceId))
    .map((a) => ({ itemId: a.item.itemId, instanceId: a.signal.instanceId, reason: outIds.get(a.signal.instanceId) as RejectedInstance['reason'] }));
  for (const r of rejected) {
    logger.warn('instance out of scope: ignored', { ...r, cluster: config.clusterName });
    await deps.audit.rejected({ status: 'rejected', error: 'OutOfScopeError', message: `${r.instanceId}: ${r.reason}`, instanceId: r.instanceId });
  }
  const byId = new Map(nodes.map((n) => [n.instanceId, n]));
  const ignored: Ignored[] = [...batch.ignored];
  const unconfirmed: ActingSignal[] = [];
  const agreeing = (list: readonly ActingSignal[]): ActingSignal[] =>
    list.filter((a) => {
      const node = byId.get(a.signal.instanceId);
      if (!node) return false;
      const now = currentStateDecision(a.signal, node);
      if (!now.act && 'lookAgain' in now && now.lookAgain) unconfirmed.push({ ...a, reason: now.reason });
      else if (!now.act) ignored.push({ itemId: a.item.itemId, reason: now.reason });
      return now.act;
    });
  const active = agreeing(batch.acting);
  const scheduled = agreeing(batch.scheduled);
  // A re-check ends when its node is no longer running: nothing can re-register a pod on a dead node.
  const liveRechecks = batch.rechecks.filter((r) => r.message.instanceIds.some((id) => byId.get(id)?.state === 'running'));
  for (const r of batch.rechecks) if (!liveRechecks.includes(r)) ignored.push({ itemId: r.item.itemId, reason: 'node no longer running: guard ends' });
  return withPlanNodes({ active, scheduled, liveRechecks, rejected, ignored, nodes: byId, unconfirmed });
}

/** The nodes to plan for and why, from the active signals (first reason wins) and the live re-checks. */
function withPlanNodes(scope: Omit<ScopedBatch, 'reasons' | 'planNodes'>): ScopedBatch {
  const reasons = new Map<string, string>();
  for (const a of scope.active) if (!reasons.has(a.signal.instanceId)) reasons.set(a.signal.instanceId, a.reason);
  for (const r of scope.liveRechecks) {
    for (const id of r.message.instanceIds) if (!reasons.has(id)) reasons.set(id, `re-registration guard round ${r.message.round}: ${r.message.reason}`);
  }
  const planNodes = [...reasons.keys()].map((id) => scope.nodes.get(id)).filter((n): n is NodeInstance => n !== undefined);
  return { ...scope, reasons, planNodes };
}

/** The scope with due scheduled deregistrations acted on now, like any other active signal. */
export function withDueSignals(scope: ScopedBatch, due: readonly ActingSignal[], ignored: readonly Ignored[]): ScopedBatch {
  return withPlanNodes({ ...scope, active: [...scope.active, ...due], ignored: [...scope.ignored, ...ignored] });
}
