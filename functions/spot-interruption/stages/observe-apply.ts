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
import { observeCloudMap, observeNodeAddresses, targetGroupsInScope } from '#core/observe/index.ts';
import { mapWithConcurrency } from '#core/concurrency.ts';
import type { CloudMapReads } from '#core/ports/index.ts';
import type { NodeWorkflowDeps } from '../types.ts';
import { candidateAudit, carriedGroups, chooseCandidates, completenessRounds, fastPathMisses, groupsToDescribe } from './candidates.ts';
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
  const applyPart = (order: number, part: Plan, observed: Map<string, GroupObservation>): void => {
    const done =
      part.actions.length > 0
        ? deps.executor.apply(part, { observed, subject: guard.subject, ...(run.deadline ? { deadline: run.deadline } : {}) }).then((result) => ({ plan: part, result }))
        : Promise.resolve({ plan: part, result: emptyResult(planId, deps.executor.mode) });
    parts.push({ order, done });
  };
  const targetGroups: TargetGroup[] = [];
  const targets: TargetRegistration[] = [];
  let cloudMap: CloudMapRegistration[] = [];
  let groupsInScope = 0;
  const observed = await Promise.allSettled([
    targetGroupsInScope(deps.elbv2, {
      vpcIds,
      tagSelector: config.targetGroupTagSelector,
      clusterName: config.clusterName,
      ...(fullScan ? {} : { onlyArns: [...new Set(scope.liveRechecks.flatMap((r) => r.message.targetGroupArns))] }),
    }).then(async (inScope) => {
      const groups = groupsToDescribe(inScope, await choice, carriedGroups(scope));
      groupsInScope = inScope.length;
      return mapWithConcurrency(groups, config.concurrency, async (group, i) => {
        const registrations = await deps.elbv2.targetHealth(group.arn, group.name);
        targetGroups.push(group);
        targets.push(...registrations);
        applyPart(i, planPart([group], registrations, []), observationsOf(registrations, deps.now().getTime()));
      });
    }),
    (fullScan
      ? observeCloudMap(deps.cloudMap, config.cloudMapNamespaces, config.concurrency).then((r) => {
          if (r.missingNamespaces.length > 0) logger.warn('Cloud Map namespaces not found', { namespaces: r.missingNamespaces });
          return r.registrations;
        })
      : relistServices(deps.cloudMap, scope.liveRechecks.flatMap((r) => r.message.services), config.concurrency)
    ).then((registrations) => {
      cloudMap = registrations;
      applyPart(Number.MAX_SAFE_INTEGER, planPart([], [], registrations), observationsOf(registrations, deps.now().getTime()));
    }),
  ]);
  await prepared;
  // Whatever was already applied is awaited and audited, even when part of the observation failed.
  const applied = await Promise.all([...parts].sort((a, b) => a.order - b.order).map((p) => p.done));
  const failed = observed.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  const failedObservation = failed ? (failed.reason as Error) : undefined;
  if (failedObservation) warnings.push(planWarning('observation-incomplete', `observation incomplete (${failedObservation.name}: ${failedObservation.message}): the invocation fails and is retried`));
  const merged = mergePlans({ id: planId, trigger: 'spot-interruption', subject: subject || 'no node', createdAt: now.toISOString() }, applied.map((a) => a.plan), warnings);
  const missed = fastPathMisses(merged, addresses, targetGroups, completenessRounds(scope));
  if (missed.length > 0) {
    warnings.push(planWarning('fast-path-missed', `fast path missed ${missed.length} registration(s), found by this completeness scan: ${missed.join(', ')}`, { count: missed.length }));
    logger.warn('fast path missed registrations: found by the completeness scan', { missed });
  }
  const candidates = candidateAudit(await choice, groupsInScope, targetGroups.length, missed);
  const plan: Plan = { ...merged, warnings: sumAlreadyGoing(uniqueWarnings([...warnings, ...merged.warnings])), candidates };
  const result = mergeResults(planId, deps.executor.mode, applied.map((a) => a.result));
  return { plan, result, addresses, targetGroups, targets, cloudMap, candidates, describedArns: targetGroups.map((g) => g.arn), failedObservation };
}

async function relistServices(cloudMap: CloudMapReads, services: readonly CloudMapServiceRef[], concurrency: number): Promise<CloudMapRegistration[]> {
  const unique = [...new Map(services.map((s) => [s.serviceId, s])).values()];
  const lists = await mapWithConcurrency(unique, concurrency, (s) => cloudMap.listInstances({ id: s.serviceId, name: s.serviceName }, { id: s.namespaceId, name: s.namespaceName }));
  return lists.flat();
}
