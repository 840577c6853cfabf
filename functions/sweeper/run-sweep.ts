/**
 * One sweep: find this cluster's registrations that point at nothing alive, and take them out, within the
 * guards. Called by the scheduled Lambda (handler.ts) and by the CLI (`quiesce sweep`: its dry run is the
 * same sweep wired with the recording write port) with its own dependencies.
 *
 *   connect (DescribeCluster + token) | DescribeTargetGroups
 *     -> TargetGroupBindings -> DescribeTags -> owned groups
 *     -> registrations: DescribeTargetHealth per owned group | Cloud Map instances
 *     -> truths, read AFTER the registrations: ENIs of the VPC(s) | every pod
 *     -> DescribeInstances (instance targets, ENIs of candidates) -> pure plan -> guardPlan -> executor -> audit
 *
 * Why the truths come after the registrations: a registration we saw existed before we looked at the pods
 * and ENIs, so if its pod is alive the pod list and ENI scan show it. Reading the truths first would let a pod
 * that started mid-run look like a dead registration.
 */
import { randomUUID } from 'node:crypto';
import type { ApiBudget } from '#core/adapters/aws/budget.ts';
import type { AuditSink } from '#core/audit.ts';
import { mapWithConcurrency } from '#core/concurrency.ts';
import type { NodeInstance } from '#core/domain/endpoint.ts';
import { guardPlan } from '#core/domain/guards.ts';
import type { Plan } from '#core/domain/plan.ts';
import { planSummary } from '#core/domain/plan.ts';
import { indexPods } from '#core/domain/cluster-pods.ts';
import { EniIndex, type VpcEni } from '#core/domain/eni-index.ts';
import { targetGroupOwnership } from '#core/domain/ownership.ts';
import { IMPLAUSIBLE_POD_LIST, type PodListDoubt } from '#core/domain/planners/pod-list-doubt.ts';
import { instanceIdsToLookUp, planSweep } from '#core/domain/planners/sweep.ts';
import { planWarning, type PlanWarning } from '#core/domain/warnings.ts';
import type { CloudMapRegistration, TargetGroup } from '#core/domain/registration.ts';
import type { ApplyResult, Executor } from '#core/executor/executor.ts';
import { observeCloudMap } from '#core/observe/index.ts';
import { connectCluster, observeBindingArns, observePods, type ClusterSource } from '#core/observe/cluster.ts';
import type { CloudMapPort, Ec2Port, Elbv2Port } from '#core/ports/index.ts';
import type { Logger } from '#core/telemetry.ts';
import type { SweeperConfig } from './config.ts';
import type { AwsDeps } from '#core/wiring.ts';
import type { SweepCompletion } from './completion.ts';
import type { SweepPacing } from './pacing.ts';
import type { SweepState } from './sweep-cursor.ts';
import { readSlice, recheckOwnership, sliceOf, type SweepSlice } from './slice.ts';
import type { GroupRead } from '#core/state/registration-index.ts';

/** What a sweep needs; the handler builds it once per container, the CLI and tests pass their own. */
export interface SweepDeps {
  readonly config: SweeperConfig;
  readonly elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf' | 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>;
  readonly ec2: Pick<Ec2Port, 'describeInstances' | 'networkInterfacesInVpc'>;
  readonly cluster: ClusterSource;
  /** The one executor, on the container's write port (live, or recording in a dry run). */
  readonly executor: Executor;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The shared API budget, when the caller wants the run's API calls counted. */
  readonly budget?: ApiBudget;
  /**
   * Optional weighted-rule failover pass (FAILOVER_LISTENER_ARNS): every run hands it the groups this
   * cluster owns, so weights a failover shifted away are restored once the group is healthy again, even if
   * the failover's own one-time re-check was lost. Its errors never fail the sweep.
   */
  readonly weightedFailover?: (targetGroupArns: readonly string[]) => Promise<unknown>;
  /** When the next full sweep is due (STATE_TABLE set): the handler skips until then. */
  readonly pacing?: SweepPacing;
  /**
   * The state of a sweep that spans invocations (STATE_TABLE set): its cursor, the cached scope and the
   * registration index it keeps (spanning-sweep.ts). Unset: each run sweeps every owned group at once.
   */
  readonly state?: SweepState;
  /** Completed sweeps and the deadline of the next (completion.ts); undefined without STATE_TABLE. */
  readonly completion?: SweepCompletion;
  /** The container's AWS side (its clients and budget), for its preflight on a cold start in dry run. */
  readonly aws?: AwsDeps;
}

/** Per-run options. */
export interface SweepOptions {
  readonly planId?: string;
  /**
   * Sweep only this slice of the groups (a sweep spanning invocations: slice.ts, sweep-cursor.ts); without
   * it, every owned group in one run, as the CLI does.
   */
  readonly slice?: SweepSlice;
}

/** What was looked at. */
export interface SweepScan {
  readonly targetGroups: number;
  readonly ownedTargetGroups: number;
  readonly targets: number;
  readonly cloudMapInstances: number;
  readonly notOwnedInstances: number;
  readonly enis: number;
  readonly pods: number | undefined;
}

/** The outcome of one sweep. */
export interface SweepRunResult {
  /**
   * `degraded`: the cluster API could not be read, or its pod list was not believed (`clusterError.name`
   * ImplausiblePodList); only the VPC truth was acted on (see `clusterError`).
   */
  readonly status: 'applied' | 'dry-run' | 'degraded';
  readonly plan: Plan;
  readonly result: ApplyResult;
  /** Registrations found stale (planned, or held back by a guard). */
  readonly stale: number;
  /** Healthy registrations reported (VPC has the IP, no pod of ours holds it), not removed. */
  readonly reported: number;
  readonly cloudMap: 'swept' | 'left-alone';
  readonly clusterError: { readonly name: string; readonly message: string } | undefined;
  /** Why the pod list was not believed, when it was not (then `clusterError` is its ImplausiblePodList report). */
  readonly podListDoubt: PodListDoubt | undefined;
  readonly scan: SweepScan;
  /** AWS API attempts this run (retries included), when a budget was given. */
  readonly apiCalls: number | undefined;
  /** ELB Describe attempts this run (the account bucket the pace is about), when a budget was given. */
  readonly describeCalls: number | undefined;
  readonly durationMs: number;
  /** Each owned group read (its target ids, and when): what the registration index is kept from. */
  readonly groupReads: readonly GroupRead[];
  /** With a slice: where it stopped and whether the sweep is complete. */
  readonly slice?: { readonly lastArn: string | undefined; readonly done: boolean; readonly groupsRead: number; readonly ownedGroups: number };
}

/** Runs one sweep. Never throws for an AWS write failure or an unreachable cluster: see the result. */
export async function runSweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepRunResult> {
  const { config, logger } = deps;
  const started = performance.now();
  const callsBefore = deps.budget?.attempts();
  const describesBefore = deps.budget?.attempts('elb-describe');
  const now = deps.now();
  const warnings: PlanWarning[] = [];

  const { slice } = options;
  // Ownership: the cluster (bindings) and the target groups, in parallel (a slice has the sweep's scope).
  const [session, allGroups] = await Promise.all([connectCluster(deps.cluster), slice ? Promise.resolve(slice.groups) : deps.elbv2.listTargetGroups()]);
  try {
    const bindings = await observeBindingArns(session);
    if (!bindings.ok) warnings.push(planWarning('bindings-unreadable', `TargetGroupBindings unreadable (${bindings.error.name}): groups owned only through a binding are not swept this run`));
    const candidates = allGroups.filter((g) => g.targetType === 'ip' || g.targetType === 'instance');
    const tags = slice || candidates.length === 0 ? new Map<string, Record<string, string>>() : await deps.elbv2.tagsOf(candidates.map((g) => g.arn));
    const rules = { clusterName: config.clusterName, tagSelector: config.ownerTagSelector, bindingArns: bindings.ok ? bindings.value : undefined };
    const allOwned: TargetGroup[] = candidates
      .map((g) => ({ ...g, tags: slice ? (g.tags ?? {}) : (tags.get(g.arn) ?? {}) }))
      .filter((g) => targetGroupOwnership(g, rules) !== undefined);

    // Registrations first.
    const cloudMapOn = Object.keys(config.cloudMapOwnerAttributes).length > 0 && (slice?.cloudMap ?? true);
    if (Object.keys(config.cloudMapOwnerAttributes).length === 0) warnings.push(planWarning('cloud-map-off', 'CLOUDMAP_OWNER_ATTRIBUTES is not set: Cloud Map is left alone (nothing there can be proven ours)'));
    const next = slice ? sliceOf(allOwned, slice.after, slice.maxGroups) : { groups: allOwned, more: false };
    const [read, cloudMap] = await Promise.all([
      readSlice(deps.elbv2, next.groups, next.more, { concurrency: config.concurrency, readUntil: slice?.readUntil ?? Infinity, now: () => deps.now().getTime() }),
      cloudMapOn
        ? observeCloudMap(deps.cloudMap, config.cloudMapNamespaces, config.concurrency)
        : Promise.resolve({ registrations: [] as CloudMapRegistration[], missingNamespaces: [] as string[] }),
    ]);
    if (cloudMap.missingNamespaces.length > 0) warnings.push(planWarning('cloud-map-namespaces-missing', `Cloud Map namespaces not found: ${cloudMap.missingNamespaces.join(', ')}`));
    if (read.gone.length > 0) warnings.push(planWarning('group-gone', `${read.gone.length} group(s) of the sweep's scope no longer exist: ${read.gone.slice(0, 10).join(', ')}`, { count: read.gone.length }));
    const owned = read.groups;
    const { targets } = read;

    // Then the truths: the VPC's ENIs and the pods.
    const clusterVpcId = session.ok ? session.value.vpcId : undefined;
    const vpcIds = [...new Set([clusterVpcId, ...owned.map((g) => g.vpcId)].filter((v): v is string => v !== undefined))].sort();
    const [eniLists, pods] = await Promise.all([
      mapWithConcurrency(vpcIds, 4, (v) => deps.ec2.networkInterfacesInVpc(v)),
      observePods(session),
    ]);
    const enis: VpcEni[] = eniLists.flat();
    const eniIndex = new EniIndex(vpcIds, enis);
    const podIndex = pods.ok ? indexPods(pods.value) : undefined;
    if (cloudMapOn && clusterVpcId === undefined) warnings.push(planWarning('cluster-vpc-unknown', 'the cluster VPC is unknown (DescribeCluster failed or named none): Cloud Map records are not judged'));

    // Instances: instance targets, and the nodes behind ENIs that hold candidate addresses (ownership).
    const lookUp = instanceIdsToLookUp({ targetGroups: owned, targets, cloudMap: cloudMap.registrations, ownerAttributes: config.cloudMapOwnerAttributes, pods: podIndex, enis: eniIndex });
    const instances: NodeInstance[] = lookUp.length > 0 ? await deps.ec2.describeInstances(lookUp) : [];

    const swept = planSweep({
      planId: options.planId ?? randomUUID(),
      clusterName: config.clusterName,
      now,
      graceSeconds: config.graceSeconds,
      targetGroups: owned,
      targets,
      cloudMap: cloudMap.registrations,
      ownerAttributes: cloudMapOn ? config.cloudMapOwnerAttributes : {},
      clusterVpcId,
      pods: podIndex,
      enis: eniIndex,
      instances: new Map(instances.map((i) => [i.instanceId, i])),
      instancesLookedUp: new Set(lookUp),
    });
    // A pod list the planner did not believe is missing evidence, reported like an unreachable API.
    const unreadable = !session.ok ? session.error : !pods.ok ? pods.error : !bindings.ok ? bindings.error : undefined;
    const { podListDoubt } = swept;
    const clusterError = unreadable ?? (podListDoubt ? { name: IMPLAUSIBLE_POD_LIST, message: podListDoubt.text } : undefined);
    if (unreadable) {
      warnings.push(planWarning('cluster-unreadable', `cluster API unreadable (${unreadable.name}: ${unreadable.message}): nothing removed on pod-list evidence; the VPC truth still applies`));
    }
    // Ownership from the sweep's scope may be minutes old: the groups about to be written are read again.
    const fresh = slice?.tagsCached ? await recheckOwnership(deps.elbv2, swept.plan, owned, rules) : { plan: swept.plan, changed: [] };
    if (fresh.changed.length > 0) warnings.push(planWarning('scope-changed', `${fresh.changed.length} group(s) are no longer this cluster's by their tags read just now: not written: ${fresh.changed.slice(0, 10).join(', ')}`, { count: fresh.changed.length }));
    const plan = guardPlan(
      { ...fresh.plan, warnings: [...warnings, ...fresh.plan.warnings] },
      { minHealthy: config.minHealthyTargets, maxFraction: config.maxFraction, subject: 'the sweep' },
    );
    logger.info('sweep plan', { planId: plan.id, summary: planSummary(plan), stale: swept.stale, reported: swept.reported, writes: deps.executor.mode, warnings: plan.warnings });
    for (const w of warnings) logger.warn(w.text, { code: w.code });
    for (const h of plan.heldBack.filter((h) => h.guard === 'evidence')) logger.info('reported, not removed', { reason: h.reason });

    const result = await deps.executor.apply(plan);
    await deps.audit.record(plan, result);
    if (deps.weightedFailover && owned.length > 0) {
      await deps.weightedFailover(owned.map((g) => g.arn)).catch((err: unknown) => logger.error('weighted-rule failover/restore failed', { error: err as Error }));
    }
    const callsAfter = deps.budget?.attempts();
    const describesAfter = deps.budget?.attempts('elb-describe');
    return {
      status: clusterError ? 'degraded' : result.dryRun ? 'dry-run' : 'applied',
      plan,
      result,
      stale: swept.stale,
      reported: swept.reported,
      cloudMap: cloudMapOn ? 'swept' : 'left-alone',
      clusterError,
      podListDoubt,
      scan: {
        targetGroups: allGroups.length,
        ownedTargetGroups: owned.length,
        targets: targets.length,
        cloudMapInstances: cloudMap.registrations.length,
        notOwnedInstances: swept.notOwnedInstances,
        enis: enis.length,
        pods: pods.ok ? pods.value.length : undefined,
      },
      apiCalls: callsBefore === undefined || callsAfter === undefined ? undefined : callsAfter - callsBefore,
      describeCalls: describesBefore === undefined || describesAfter === undefined ? undefined : describesAfter - describesBefore,
      durationMs: performance.now() - started,
      groupReads: read.reads,
      ...(slice ? { slice: { lastArn: read.lastArn, done: read.done, groupsRead: owned.length, ownedGroups: allOwned.length } } : {}),
    };
  } finally {
    if (session.ok) session.value.connection.close();
  }
}
