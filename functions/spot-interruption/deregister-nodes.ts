/**
 * The spot-interruption workflow for one invocation: a batch of node signals (one event, or an SQS batch
 * of a reclaim wave) and re-checks, turned into ONE observation, ONE plan and ONE apply. A wave of 20
 * warnings in 10 s thus costs one target-group scan per batch, not one per event.
 *
 *   signals -> scope to cluster nodes -> ENIs -> target groups + Cloud Map -> plan -> guards -> apply
 *           -> audit -> lifecycle CONTINUE -> schedule the next re-check
 */
import { randomUUID } from 'node:crypto';
import type { AuditSink } from '#core/audit.ts';
import type { QuiesceConfig } from '#core/config.ts';
import { guardPlan } from '#core/domain/guards.ts';
import { nodeHasIp, type NodeAddresses, type NodeInstance } from '#core/domain/endpoint.ts';
import { mergePlans, planSummary, type Plan } from '#core/domain/plan.ts';
import { nodeOfAction, planNodeDeregistration, sumAlreadyGoing, targetGroupsPointingAt } from '#core/domain/planners/node-deregistration.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '#core/domain/registration.ts';
import { DYING_STATES, recheckEnvelope, type CloudMapServiceRef, type NodeSignal, type RecheckMessage } from '#core/contracts/node-events.ts';
import { emptyResult, mergeResults, type ApplyResult, type Executor } from '#core/executor/executor.ts';
import { observeCloudMap, observeNodeAddresses, resolveClusterNodes, targetGroupsInScope, type RejectedInstance } from '#core/observe/index.ts';
import type { AutoScalingPort, CloudMapPort, DelayQueuePort, Ec2Port, Elbv2Port } from '#core/ports/index.ts';
import type { Logger } from '#core/telemetry.ts';
import { mapWithConcurrency } from '#core/concurrency.ts';

/** What the workflow needs; the handler builds it once per container, tests pass fakes. */
export interface NodeWorkflowDeps {
  readonly config: QuiesceConfig;
  readonly ec2: Ec2Port;
  readonly elbv2: Elbv2Port;
  readonly cloudMap: CloudMapPort;
  readonly autoscaling: AutoScalingPort;
  readonly delayQueue: DelayQueuePort | undefined;
  readonly executor: Executor;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly now: () => Date;
  /**
   * Optional health failover of weighted listener rules (set when FAILOVER_LISTENER_ARNS is configured):
   * called with the target groups this run deregistered from, after apply. Its errors never fail the run.
   */
  readonly weightedFailover?: (targetGroupArns: readonly string[]) => Promise<unknown>;
}

/** One input of the batch, with the id the caller uses to report it failed (SQS message id). */
export interface WorkItem {
  readonly itemId: string;
  readonly input: NodeSignal | RecheckMessage;
}

/** What happened to the batch, per input. */
export interface NodeWorkflowResult {
  readonly plan: Plan | undefined;
  readonly result: ApplyResult | undefined;
  readonly ignored: readonly { itemId: string; reason: string }[];
  readonly rejected: readonly { itemId: string; instanceId: string; reason: RejectedInstance['reason'] }[];
  /** Items whose work is not finished and should be retried (SQS batch item failures). */
  readonly retry: readonly { itemId: string; reason: string }[];
  readonly rechecksScheduled: number;
  readonly lifecycleCompleted: number;
}

/** Why a signal is acted on, or why not. */
export function signalDecision(signal: NodeSignal, config: Pick<QuiesceConfig, 'rebalanceAction'>): { act: true; reason: string } | { act: false; reason: string } {
  switch (signal.kind) {
    case 'spot-interruption':
      return { act: true, reason: `spot interruption warning (${signal.action})` };
    case 'rebalance':
      return config.rebalanceAction === 'deregister'
        ? { act: true, reason: 'rebalance recommendation (REBALANCE_ACTION=deregister)' }
        : { act: false, reason: 'rebalance recommendation ignored (REBALANCE_ACTION=ignore)' };
    case 'state-change':
      return DYING_STATES.has(signal.state)
        ? { act: true, reason: `instance state ${signal.state}` }
        : { act: false, reason: `instance state ${signal.state} is not a dying state` };
    case 'lifecycle':
      return signal.test
        ? { act: false, reason: 'autoscaling:TEST_NOTIFICATION' }
        : { act: true, reason: `Auto Scaling terminate lifecycle hook ${signal.lifecycleHookName}` };
  }
}

/** Runs the workflow for a batch. Never throws for an AWS write failure: see `retry`. */
export async function deregisterNodes(items: readonly WorkItem[], deps: NodeWorkflowDeps): Promise<NodeWorkflowResult> {
  const { config, logger } = deps;
  const now = deps.now();
  const ignored: { itemId: string; reason: string }[] = [];
  const acting: { item: WorkItem; signal: NodeSignal; reason: string }[] = [];
  const rechecks: { item: WorkItem; message: RecheckMessage }[] = [];
  for (const item of items) {
    if (item.input.kind === 'recheck') {
      if (Date.parse(item.input.deadline) <= now.getTime()) ignored.push({ itemId: item.itemId, reason: 're-check deadline passed: guard ends' });
      else rechecks.push({ item, message: item.input });
      continue;
    }
    const decision = signalDecision(item.input, config);
    if (decision.act) acting.push({ item, signal: item.input, reason: decision.reason });
    else ignored.push({ itemId: item.itemId, reason: decision.reason });
  }
  for (const i of ignored) logger.info('event ignored', i);
  const empty = { plan: undefined, result: undefined, ignored, rejected: [], retry: [], rechecksScheduled: 0, lifecycleCompleted: 0 };
  const ids = [...new Set([...acting.map((a) => a.signal.instanceId), ...rechecks.flatMap((r) => r.message.instanceIds)])];
  if (ids.length === 0) return empty;

  // Scope: only nodes of this cluster; an unknown instance is a logged rejection, never a write.
  const { nodes, rejected: out } = await resolveClusterNodes(deps.ec2, ids, config.clusterName);
  const outIds = new Map(out.map((r) => [r.instanceId, r.reason]));
  const rejected = acting
    .filter((a) => outIds.has(a.signal.instanceId))
    .map((a) => ({ itemId: a.item.itemId, instanceId: a.signal.instanceId, reason: outIds.get(a.signal.instanceId) as RejectedInstance['reason'] }));
  for (const r of rejected) {
    logger.warn('instance out of scope: ignored', { ...r, cluster: config.clusterName });
    await deps.audit.rejected({ status: 'rejected', error: 'OutOfScopeError', message: `${r.instanceId}: ${r.reason}`, instanceId: r.instanceId });
  }
  const byId = new Map(nodes.map((n) => [n.instanceId, n]));
  const active = acting.filter((a) => byId.has(a.signal.instanceId));
  // A re-check ends when its node is no longer running: nothing can re-register a pod on a dead node.
  const liveRechecks = rechecks.filter((r) => r.message.instanceIds.some((id) => byId.get(id)?.state === 'running'));
  for (const r of rechecks) {
    if (!liveRechecks.includes(r)) ignored.push({ itemId: r.item.itemId, reason: 'node no longer running: guard ends' });
  }
  const reasons = new Map<string, string>(active.map((a) => [a.signal.instanceId, a.reason]));
  for (const r of liveRechecks) {
    for (const id of r.message.instanceIds) if (!reasons.has(id)) reasons.set(id, `re-registration guard round ${r.message.round}: ${r.message.reason}`);
  }
  const planNodes: NodeInstance[] = [...reasons.keys()].map((id) => byId.get(id)).filter((n): n is NodeInstance => n !== undefined);
  if (planNodes.length === 0) return { ...empty, ignored, rejected };

  // Observe, plan, guard and apply per target group, as each group's health arrives: the writes (one
  // DeregisterTargets per group, on the tight elb-register budget) overlap the rest of the scan instead of
  // waiting for it. Guards are per group (and per Cloud Map service), so planning a group alone decides
  // exactly what planning everything at once would. New signals scan everything in scope; a batch of
  // re-checks only looks at the groups and services it touched.
  const fullScan = active.length > 0;
  const addresses = await observeNodeAddresses(deps.ec2, planNodes);
  const vpcIds = [...new Set(planNodes.map((n) => n.vpcId).filter((v): v is string => v !== undefined))];
  const warnings: string[] = [];
  for (const a of addresses) {
    if (a.ips.size === 0 && a.prefixes.length === 0) {
      warnings.push(`no ENI found on ${a.instanceId} (already terminated?): its pod IPs are unknown; the sweeper removes what is left`);
    }
  }
  if (config.cloudMapNamespaces.length === 0) warnings.push('CLOUDMAP_NAMESPACES is empty: Cloud Map is not looked at');

  const planId = randomUUID();
  const subject = addresses.map((n) => n.instanceId).join(', ');
  const planPart = (targetGroups: readonly TargetGroup[], targets: readonly TargetRegistration[], cloudMap: readonly CloudMapRegistration[]): Plan =>
    guardPlan(
      planNodeDeregistration({
        planId,
        trigger: 'spot-interruption',
        reasons,
        nodes: addresses,
        targetGroups,
        targets,
        cloudMap,
        ownerAttributes: config.cloudMapOwnerAttributes,
        now,
      }),
      { minHealthy: config.minHealthyTargets, maxFraction: config.maxDeregisterFraction, subject: `node(s) ${subject}` },
    );
  // Parts finish in any order; `order` keeps the merged plan and the audit in a stable order (groups as
  // listed, then Cloud Map).
  const parts: { order: number; done: Promise<{ plan: Plan; result: ApplyResult }> }[] = [];
  const applyPart = (order: number, part: Plan): void => {
    parts.push({
      order,
      done: part.actions.length > 0 ? deps.executor.apply(part).then((result) => ({ plan: part, result })) : Promise.resolve({ plan: part, result: emptyResult(planId, config.dryRun) }),
    });
  };
  const scan = { targetGroups: [] as TargetGroup[], targets: [] as TargetRegistration[] };
  let cloudMap: CloudMapRegistration[] = [];
  const observed = await Promise.allSettled([
    targetGroupsInScope(deps.elbv2, {
      vpcIds,
      tagSelector: config.targetGroupTagSelector,
      ...(fullScan ? {} : { onlyArns: [...new Set(liveRechecks.flatMap((r) => r.message.targetGroupArns))] }),
    }).then((groups) =>
      mapWithConcurrency(groups, config.concurrency, async (group, i) => {
        const targets = await deps.elbv2.targetHealth(group.arn, group.name);
        scan.targetGroups.push(group);
        scan.targets.push(...targets);
        applyPart(i, planPart([group], targets, []));
      }),
    ),
    (fullScan
      ? observeCloudMap(deps.cloudMap, config.cloudMapNamespaces, config.concurrency).then((r) => {
          if (r.missingNamespaces.length > 0) logger.warn('Cloud Map namespaces not found', { namespaces: r.missingNamespaces });
          return r.registrations;
        })
      : relistServices(deps.cloudMap, liveRechecks.flatMap((r) => r.message.services), config.concurrency)
    ).then((registrations) => {
      cloudMap = registrations;
      applyPart(Number.MAX_SAFE_INTEGER, planPart([], [], registrations));
    }),
  ]);
  // Whatever was already applied is awaited and audited, even when part of the observation failed.
  const applied = await Promise.all([...parts].sort((a, b) => a.order - b.order).map((p) => p.done));
  const failedObservation = observed.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failedObservation) warnings.push(`observation incomplete (${(failedObservation.reason as Error).name}: ${(failedObservation.reason as Error).message}): the invocation fails and is retried`);
  const merged = mergePlans({ id: planId, trigger: 'spot-interruption', subject: subject || 'no node', createdAt: now.toISOString() }, applied.map((a) => a.plan), warnings);
  const plan: Plan = { ...merged, warnings: sumAlreadyGoing(merged.warnings) };
  const result = mergeResults(planId, config.dryRun, applied.map((a) => a.result));
  if (failedObservation) {
    await deps.audit.record(plan, result);
    throw failedObservation.reason;
  }
  logger.info('plan', { planId: plan.id, subject: plan.subject, summary: planSummary(plan), dryRun: config.dryRun, warnings: plan.warnings });
  for (const w of plan.warnings.filter((w) => w.startsWith('SINGLE POINT OF FAILURE'))) logger.warn(w);
  // Audit every plan for a new signal; a re-check round that found nothing to do is only logged (a dying node
  // is looked at up to GUARD_DEADLINE / GUARD_INTERVAL times, and "nothing came back" is not news).
  if (active.length > 0 || plan.actions.length > 0) await deps.audit.record(plan, result);
  if (deps.weightedFailover) {
    const touched = [...new Set(plan.actions.flatMap((a) => (a.kind === 'deregister-target' ? [a.target.targetGroupArn] : [])))];
    if (touched.length > 0) await deps.weightedFailover(touched).catch((err: unknown) => logger.error('weighted-rule failover failed', { error: err as Error }));
  }

  // Which inputs are not finished? Map each retryable failure back to its node, then to the items that asked.
  const unfinishedNodes = new Set<string>();
  for (const o of result.outcomes) {
    if (o.status === 'failed' && o.error?.retryable) {
      const node = nodeOfAction(addresses, scan.targetGroups, o.action);
      if (node) unfinishedNodes.add(node);
      else for (const n of planNodes) unfinishedNodes.add(n.instanceId);
    }
  }
  const retry: { itemId: string; reason: string }[] = [];
  for (const a of active) if (unfinishedNodes.has(a.signal.instanceId)) retry.push({ itemId: a.item.itemId, reason: 'retryable deregistration failures' });
  for (const r of liveRechecks) {
    if (r.message.instanceIds.some((id) => unfinishedNodes.has(id))) retry.push({ itemId: r.item.itemId, reason: 'retryable deregistration failures' });
  }

  // Auto Scaling lifecycle hooks: CONTINUE once the node is out of traffic (not in dry run: that is a write).
  let lifecycleCompleted = 0;
  for (const a of active) {
    const s = a.signal;
    if (s.kind !== 'lifecycle' || unfinishedNodes.has(s.instanceId)) continue;
    if (config.dryRun) {
      logger.info('dry run: lifecycle action not completed', { instanceId: s.instanceId, hook: s.lifecycleHookName });
      continue;
    }
    try {
      await deps.autoscaling.completeLifecycleAction({
        autoScalingGroupName: s.autoScalingGroupName,
        lifecycleHookName: s.lifecycleHookName,
        ...(s.lifecycleActionToken ? { lifecycleActionToken: s.lifecycleActionToken } : {}),
        instanceId: s.instanceId,
        result: 'CONTINUE',
      });
      lifecycleCompleted++;
    } catch (err) {
      // A repeat delivery finds the action already completed (ValidationError): that is done, not failed.
      const name = (err as Error).name;
      if (name === 'ValidationError') logger.info('lifecycle action already completed or expired', { instanceId: s.instanceId, error: (err as Error).message });
      else {
        logger.error('CompleteLifecycleAction failed', { instanceId: s.instanceId, error: err as Error });
        retry.push({ itemId: a.item.itemId, reason: `CompleteLifecycleAction: ${name}` });
      }
    }
  }

  // Re-registration guard: come back later without holding a Lambda idle (SQS delayed message).
  let rechecksScheduled = 0;
  if (!config.dryRun && config.guardDeadlineSeconds > 0) {
    if (!deps.delayQueue) {
      if (active.length > 0) logger.warn('RECHECK_QUEUE_URL is not set: the re-registration guard is off');
    } else {
      const pointing = targetGroupsPointingAt(addresses, scan.targetGroups, scan.targets);
      const services = servicesOf(cloudMap, addresses);
      const next: Omit<RecheckMessage, 'kind'>[] = [];
      if (active.length > 0) {
        next.push({
          instanceIds: active.map((a) => a.signal.instanceId).filter((id) => byId.get(id)?.state === 'running'),
          targetGroupArns: pointing,
          services,
          deadline: new Date(now.getTime() + config.guardDeadlineSeconds * 1000).toISOString(),
          round: 1,
          reason: [...new Set(active.map((a) => a.reason))].join('; '),
        });
      }
      for (const r of liveRechecks) {
        next.push({ ...r.message, instanceIds: r.message.instanceIds.filter((id) => byId.get(id)?.state === 'running'), round: r.message.round + 1 });
      }
      for (const m of next) {
        if (m.instanceIds.length === 0 || Date.parse(m.deadline) <= now.getTime() + config.guardIntervalSeconds * 1000) continue;
        try {
          await deps.delayQueue.sendDelayed(recheckEnvelope(m), config.guardIntervalSeconds);
          rechecksScheduled++;
        } catch (err) {
          logger.error('re-check not scheduled', { error: err as Error, instanceIds: m.instanceIds });
          for (const a of active) if (m.instanceIds.includes(a.signal.instanceId)) retry.push({ itemId: a.item.itemId, reason: 're-check not scheduled' });
          for (const r of liveRechecks) if (r.message.instanceIds.some((id) => m.instanceIds.includes(id))) retry.push({ itemId: r.item.itemId, reason: 're-check not scheduled' });
        }
      }
    }
  }
  const dedupedRetry = [...new Map(retry.map((r) => [r.itemId, r])).values()];
  return { plan, result, ignored, rejected, retry: dedupedRetry, rechecksScheduled, lifecycleCompleted };
}

/** The Cloud Map services that hold instances on these nodes. */
function servicesOf(registrations: readonly CloudMapRegistration[], nodes: readonly NodeAddresses[]): CloudMapServiceRef[] {
  const out = new Map<string, CloudMapServiceRef>();
  for (const r of registrations) {
    const ip = r.attributes['AWS_INSTANCE_IPV4'];
    const onNode = nodes.some((n) => (ip !== undefined && nodeHasIp(n, ip)) || r.attributes['AWS_EC2_INSTANCE_ID'] === n.instanceId);
    if (onNode) out.set(r.serviceId, { namespaceId: r.namespaceId, namespaceName: r.namespaceName, serviceId: r.serviceId, serviceName: r.serviceName });
  }
  return [...out.values()];
}

async function relistServices(cloudMap: CloudMapPort, services: readonly CloudMapServiceRef[], concurrency: number): Promise<CloudMapRegistration[]> {
  const unique = [...new Map(services.map((s) => [s.serviceId, s])).values()];
  const lists = await mapWithConcurrency(unique, concurrency, (s) =>
    cloudMap.listInstances({ id: s.serviceId, name: s.serviceName }, { id: s.namespaceId, name: s.namespaceName }),
  );
  return lists.flat();
}
