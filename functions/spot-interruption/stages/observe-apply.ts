/**
 * Stage 3, observe and apply: the nodes' ENIs, then every target group in scope and the Cloud Map services,
 * each planned, guarded and handed to the executor the moment its registrations arrive, so the rate-limited
 * writes (one DeregisterTargets per group on the tight elb-register budget) overlap the rest of the scan.
 * Guards are per group and per Cloud Map service, so planning a group alone decides exactly what planning
 * everything at once would; the executor then applies each group under its lease, against every other
 * writer's commitments, reusing the read this stage just made. New signals describe the groups in scope
 * that the candidates stage names (the cluster's candidates and the unbound groups, or all of them when the
 * cluster cannot say); the first re-check round after such a fast path scans every group once; other
 * re-checks only look at the groups and services they touched.
 */
import type { NodeAddresses } from '#core/domain/endpoint.ts';
import { guardPlan } from '#core/domain/guards.ts';
import { mergePlans, type Plan } from '#core/domain/plan.ts';
import { planWarning, uniqueWarnings, type PlanWarning } from '#core/domain/warnings.ts';
import { planNodeDeregistration, sumAlreadyGoing } from '#core/domain/planners/node-deregistration.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '#core/domain/registration.ts';
import type { CloudMapServiceRef } from '#core/contracts/node-events.ts';
import type { CandidateAudit } from '#core/domain/plan.ts';
import { emptyResult, mergeResults, type ApplyResult } from '#core/executor/executor.ts';
import { observationsOf, type GroupObservation } from '#core/executor/cross-writer.ts';
import { observeCloudMap, observeNodeAddresses } from '#core/observe/index.ts';
import { FreshTags } from '#core/observe/fresh-tags.ts';
import { keepsInTraffic } from '#core/domain/in-traffic.ts';
import { tagsInScope } from '#core/domain/trigger-scope.ts';
import { awsErrorName } from '#core/errors.ts';
import { mapWithConcurrency } from '#core/concurrency.ts';
import type { CloudMapReads } from '#core/ports/index.ts';
import type { NodeWorkflowDeps } from '../types.ts';
import { candidateAudit, chooseCandidates, completenessRounds, fastPathMisses, type CandidateChoice } from './candidates.ts';
import { groupsToRead, writeBackAdded, type GroupsToRead } from './groups.ts';
import type { ScopedBatch } from './scope.ts';

/** What the batch observed and did. */
export interface AppliedBatch {
  readonly plan: Plan;
  readonly result: ApplyResult;
  readonly addresses: readonly NodeAddresses[];
  /** The target groups looked at and their targets (the re-check's memory of where the nodes were). */
  readonly targetGroups: readonly TargetGroup[];
  readonly targets: readonly TargetRegistration[];
  readonly cloudMap: readonly CloudMapRegistration[];
  /** How the groups were found (fast path or scan) and what a completeness round found the fast path missed. */
  readonly candidates: CandidateAudit;
  /** The groups described this time (a fast path's first re-check round scans every other group in scope). */
  readonly describedArns: readonly string[];
  /** Set when part of the observation failed: what was applied is audited, then the invocation fails. */
  readonly failedObservation: Error | undefined;
}

/** Observes the nodes' registrations and applies the plan part by part. */
export async function observeAndApply(scope: ScopedBatch, deps: NodeWorkflowDeps, run: { planId: string; now: Date; deadline?: number }): Promise<AppliedBatch> {
  const { config, logger } = deps;
  const { planId, now } = run;
  const fullScan = scope.active.length > 0 || completenessRounds(scope).length > 0;
  const prepared = deps.executor.prepare();
  const choice = chooseCandidates(scope, deps); // the cluster is asked while ENIs and groups are listed
  const addresses = await observeNodeAddresses(deps.ec2, scope.planNodes);
  const vpcIds = [...new Set(scope.planNodes.map((n) => n.vpcId).filter((v): v is string => v !== undefined))];
  const warnings: PlanWarning[] = [];
  for (const a of addresses) {
    if (a.ips.size === 0 && a.prefixes.length === 0 && a.ipv6Prefixes.length === 0) warnings.push(planWarning('node-without-eni', `no ENI found on ${a.instanceId} (already terminated?): its pod IPs are unknown; the sweeper removes what is left`));
  }
  if (config.cloudMapNamespaces.length === 0) warnings.push(planWarning('cloud-map-off', 'CLOUDMAP_NAMESPACES is empty: Cloud Map is not looked at'));

  const subject = addresses.map((n) => n.instanceId).join(', ');
  const guard = { minHealthy: config.minHealthyTargets, maxFraction: config.maxDeregisterFraction, subject: `node(s) ${subject}` };
  const planPart = (targetGroups: readonly TargetGroup[], targets: readonly TargetRegistration[], cloudMap: readonly CloudMapRegistration[]): Plan =>
    guardPlan(
      planNodeDeregistration({ planId, trigger: 'spot-interruption', reasons: scope.reasons, nodes: addresses, targetGroups, targets, cloudMap, ownerAttributes: config.cloudMapOwnerAttributes, now }),
      guard,
    );
  // Parts finish in any order; `order` keeps the merged plan and the audit stable (groups as listed, then Cloud Map).
  const parts: { order: number; done: Promise<{ plan: Plan; result: ApplyResult }> }[] = [];
  const applyPart = (order: number, part: Plan, observed: Map<string, GroupObservation>): Promise<{ plan: Plan; result: ApplyResult }> => {
    const done =
      part.actions.length > 0
        ? deps.executor.apply(part, { observed, subject: guard.subject, ...(run.deadline ? { deadline: run.deadline } : {}) }).then((result) => ({ plan: part, result }))
        : Promise.resolve({ plan: part, result: emptyResult(planId, deps.executor.mode) });
    parts.push({ order, done });
    return done;
  };
  const rules = { vpcIds, tagSelector: config.targetGroupTagSelector, clusterName: config.clusterName };
  const targetGroups: TargetGroup[] = [];
  const targets: TargetRegistration[] = [];
  let cloudMap: CloudMapRegistration[] = [];
  let read: GroupsToRead | undefined;
  const gone: string[] = [];
  const leftScope: string[] = [];
  const fresh = new FreshTags(deps.elbv2);
  const looked = new LookedLog(deps, scope, now);
  const observed = await Promise.allSettled([
    groupsToRead(scope, deps, { choice, addresses, rules, onlyCarried: !fullScan, now }).then(async (r) => {
      read = r;
      const checkTags = r.scope.source === 'cache';
      const freshlyRead = new Set(r.added.map((g) => g.arn));
      if (checkTags) fresh.prefetch(r.likelyWritten.filter((a) => !freshlyRead.has(a)));
      looked.add(r.vouched);
      try {
        return await mapWithConcurrency(r.describe, config.concurrency, async (group, i) => {
          let registrations: TargetRegistration[];
          let readAt: number;
          try {
            registrations = await deps.elbv2.targetHealth(group.arn, group.name);
            readAt = deps.now().getTime();
          } catch (err) {
            // A group of the cached scope deleted since: nothing to take out of it.
            if (!/TargetGroupNotFound/.test(awsErrorName(err))) throw err;
            gone.push(group.name);
            return;
          }
          targetGroups.push(group);
          targets.push(...registrations);
          let part = planPart([group], registrations, []);
          if (checkTags && part.actions.length > 0 && !freshlyRead.has(group.arn)) {
            // The cache only narrows what is read: a group is written only while its tags, read now, keep it in scope.
            const tags = await fresh.of(group.arn);
            if (tags === undefined || !tagsInScope(tags, rules)) {
              leftScope.push(group.name);
              part = outOfScope(part, tags === undefined ? 'the group no longer exists' : 'its tags, read just now, no longer put it in scope');
            }
          }
          // Not awaited: the next group is described while this one's write waits for its token.
          void applyPart(i, part, observationsOf(registrations, readAt)).then(({ result }) => {
            if (clearFor(part, result)) looked.add([group.arn]);
          });
        });
      } finally {
        await Promise.allSettled(parts.map((p) => p.done));
        await looked.flush();
      }
    }),
    (fullScan
      ? observeCloudMap(deps.cloudMap, config.cloudMapNamespaces, config.concurrency).then((r) => {
          if (r.missingNamespaces.length > 0) logger.warn('Cloud Map namespaces not found', { namespaces: r.missingNamespaces });
          return r.registrations;
        })
      : relistServices(deps.cloudMap, scope.liveRechecks.flatMap((r) => r.message.services), config.concurrency)
    ).then((registrations) => {
      cloudMap = registrations;
      void applyPart(Number.MAX_SAFE_INTEGER, planPart([], [], registrations), observationsOf(registrations, deps.now().getTime()));
    }),
  ]);
  await prepared;
  // Whatever was already applied is awaited and audited, even when part of the observation failed.
  const applied = await Promise.all([...parts].sort((a, b) => a.order - b.order).map((p) => p.done));
  const failed = observed.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  const failedObservation = failed ? (failed.reason as Error) : undefined;
  if (failedObservation) warnings.push(planWarning('observation-incomplete', `observation incomplete (${failedObservation.name}: ${failedObservation.message}): the invocation fails and is retried`));
  if (gone.length > 0) warnings.push(planWarning('group-gone', `${gone.length} group(s) of the cached scope no longer exist: ${gone.slice(0, 10).join(', ')}`, { count: gone.length }));
  if (leftScope.length > 0) warnings.push(planWarning('scope-changed', `${leftScope.length} group(s) left the scope since the cached scope was written (fresh tags): not written: ${leftScope.slice(0, 10).join(', ')}`, { count: leftScope.length }));
  const merged = mergePlans({ id: planId, trigger: 'spot-interruption', subject: subject || 'no node', createdAt: now.toISOString() }, applied.map((a) => a.plan), warnings);
  const missed = fastPathMisses(merged, addresses, targetGroups, completenessRounds(scope));
  if (missed.length > 0) {
    warnings.push(planWarning('fast-path-missed', `fast path missed ${missed.length} registration(s), found by this completeness scan: ${missed.join(', ')}`, { count: missed.length }));
    logger.warn('fast path missed registrations: found by the completeness scan', { missed });
  }
  const r = read as GroupsToRead | undefined;
  if (r) await writeBackAdded(deps, r, now);
  const candidates = candidateAudit(r ? auditChoice(r) : await choice, r?.inScope ?? 0, targetGroups.length, missed, r);
  const plan: Plan = { ...merged, warnings: sumAlreadyGoing(uniqueWarnings([...warnings, ...merged.warnings])), candidates };
  const result = mergeResults(planId, deps.executor.mode, applied.map((a) => a.result));
  return { plan, result, addresses, targetGroups, targets, cloudMap, candidates, describedArns: targetGroups.map((g) => g.arn), failedObservation };
}

/** The choice as the audit names it: a scan the registration index ordered is `index`. */
function auditChoice(r: GroupsToRead): CandidateChoice {
  return r.usedIndex && r.choice.mode === 'full-scan' ? { ...r.choice, mode: 'index' } : r.choice;
}

/** A part whose group left the scope: its actions are held back (ownership), nothing is written. */
function outOfScope(part: Plan, why: string): Plan {
  return {
    ...part,
    actions: [],
    heldBack: [...part.heldBack, ...part.actions.map((action) => ({ action, guard: 'ownership' as const, reason: `not in scope any more: ${why}` }))],
  };
}

/** Whether a group is done with for the nodes: nothing failed, nothing refused, nothing kept in traffic. */
function clearFor(part: Plan, result: ApplyResult): boolean {
  return result.retryableFailures + result.permanentFailures === 0 && result.counts.refused === 0 && !part.heldBack.some(keepsInTraffic);
}

/**
 * The groups looked at for the batch's nodes, written to the node scan log (state/node-scan.ts) every 100
 * groups and at the end, one write at a time, through the write port: a dry run records it, and its own
 * later rounds in the same container read the record. Nothing without a log (no STATE_TABLE).
 */
class LookedLog {
  readonly #deps: NodeWorkflowDeps;
  readonly #nodes: string[];
  readonly #now: Date;
  #pending: string[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(deps: NodeWorkflowDeps, scope: ScopedBatch, now: Date) {
    this.#deps = deps;
    this.#nodes = scope.planNodes.map((n) => n.instanceId);
    this.#now = now;
  }

  add(arns: readonly string[]): void {
    if (!this.#deps.nodeScans || this.#nodes.length === 0) return;
    this.#pending.push(...arns);
    if (this.#pending.length >= 100) void this.flush();
  }

  flush(): Promise<void> {
    const log = this.#deps.nodeScans;
    const batch = this.#pending;
    this.#pending = [];
    if (!log || batch.length === 0) return this.#writing;
    const until = new Date(this.#now.getTime() + (this.#deps.config.guardDeadlineSeconds + 120) * 1000);
    this.#writing = this.#writing.then(() =>
      log.add(this.#nodes, batch, this.#deps.now(), until).catch((err: unknown) => this.#deps.logger.warn('node scan log not written: a later round may look at these groups again', { error: String(err), groups: batch.length })),
    );
    return this.#writing;
  }
}

async function relistServices(cloudMap: CloudMapReads, services: readonly CloudMapServiceRef[], concurrency: number): Promise<CloudMapRegistration[]> {
  const unique = [...new Map(services.map((s) => [s.serviceId, s])).values()];
  const lists = await mapWithConcurrency(unique, concurrency, (s) => cloudMap.listInstances({ id: s.serviceId, name: s.serviceName }, { id: s.namespaceId, name: s.namespaceName }));
  return lists.flat();
}
