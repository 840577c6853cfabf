/**
 * Stage 4, progress (pure): per node, is everything that points at it out of traffic? A node is
 * `unfinished` when one of its deregistrations failed (retryable or not: the input is retried and the
 * failure counted and alarmed), and `inTraffic` while a registration of it stays registered for now: held
 * back by a guard, refused at apply time, or a Cloud Map operation still in flight. An Auto Scaling hook is
 * completed only for a node that is neither.
 */
import { keepsInTraffic } from '#core/domain/in-traffic.ts';
import type { PlanAction } from '#core/domain/plan.ts';
import { nodeOfAction } from '#core/domain/planners/node-deregistration.ts';
import type { AppliedBatch } from './observe-apply.ts';

/** What is left for each node. */
export interface NodeProgress {
  /** Nodes with a failed deregistration, with the failures. */
  readonly unfinished: ReadonlyMap<string, readonly string[]>;
  /** Nodes with a registration still in traffic, with why. */
  readonly inTraffic: ReadonlyMap<string, readonly string[]>;
}

/** Works out what is left per node from the plan and its outcomes. */
export function nodeProgress(applied: Pick<AppliedBatch, 'plan' | 'result' | 'addresses' | 'targetGroups'>, planNodes: readonly string[]): NodeProgress {
  const unfinished = new Map<string, string[]>();
  const inTraffic = new Map<string, string[]>();
  const note = (into: Map<string, string[]>, action: PlanAction, why: string): void => {
    const node = nodeOfAction(applied.addresses, applied.targetGroups, action);
    for (const n of node ? [node] : planNodes) into.set(n, [...(into.get(n) ?? []), why]);
  };
  for (const o of applied.result.outcomes) {
    if (o.status === 'failed') note(unfinished, o.action, `${o.key}: ${o.error?.name ?? 'failed'}`);
    else if (o.status === 'refused') note(inTraffic, o.action, `${o.key}: ${o.error?.message ?? 'refused'}`);
    else if (o.status === 'submitted') note(inTraffic, o.action, `${o.key}: Cloud Map operation ${o.operationId ?? ''} still in flight`);
  }
  for (const h of applied.plan.heldBack) if (keepsInTraffic(h)) note(inTraffic, h.action, `${h.guard}: ${h.reason}`);
  return { unfinished, inTraffic };
}
