/**
 * One function's preflight as the function itself would meet it: the cluster (as its role), the reads it
 * makes (the groups and services in scope), and its writes judged by the policy simulator on exactly those.
 * What a function runs on its own cold start in dry run (cold-start.ts), and the first half of what
 * `quiesce doctor` runs per function (functions/cli/doctor.ts adds the resource policies and the forwarder,
 * which need read access a function's role does not have).
 */
import type { PolicySimulatorPort } from '../adapters/aws/policy-simulator.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';
import type { Check, PreflightFunction } from './checklist.ts';
import type { ClusterAutoScalingGroup } from './auto-scaling-groups.ts';
import { checkCluster, type ClusterCheckDeps, type ClusterFound } from './cluster.ts';
import { checkCloudMap, checkTargetGroups } from './reads.ts';
import { NEEDS, type PreflightTarget } from './target.ts';
import { checkWrites } from './writes.ts';

/** The AWS side a function's preflight runs with (built with the function's credentials). */
export interface PreflightAws {
  readonly elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf' | 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>;
  readonly simulator: PolicySimulatorPort;
  readonly cluster: ClusterCheckDeps;
  readonly autoScalingGroups?: () => Promise<ClusterAutoScalingGroup[]>;
}

/** How the cluster is checked: as the role (default), or by another way (cluster-fallback.ts). */
export type ClusterCheck = (fn: PreflightFunction, target: PreflightTarget, role: string) => Promise<{ checks: Check[]; found: ClusterFound }>;

/**
 * The cluster, reads and writes of `fn`, checked as `role`. The cluster comes first: its VPC bounds the
 * target groups read, and its TargetGroupBindings put groups in scope (ownership.ts).
 */
export async function preflightAsFunction(fn: PreflightFunction, aws: PreflightAws, target: PreflightTarget, role: string, clusterCheck?: ClusterCheck): Promise<Check[]> {
  const needs = NEEDS[fn];
  const cluster = needs.kube.length > 0 || needs.reads ? await (clusterCheck ?? ((f, t, r) => checkCluster(f, aws.cluster, t, r)))(fn, target, role) : { checks: [], found: {} };
  const checks: Check[] = [...cluster.checks];
  let found: { groups: Awaited<ReturnType<typeof checkTargetGroups>>['groups']; services: Awaited<ReturnType<typeof checkCloudMap>>['services'] } = { groups: [], services: [] };
  if (needs.reads) {
    const tgs = await checkTargetGroups(fn, aws, target, { ...(cluster.found.vpcId ? { vpcId: cluster.found.vpcId } : {}), ...(cluster.found.bindingArns ? { bindingArns: cluster.found.bindingArns } : {}) });
    const cm = await checkCloudMap(fn, aws, target);
    checks.push(...tgs.checks, ...cm.checks);
    found = { groups: tgs.groups, services: cm.services };
  }
  checks.push(...(await checkWrites(fn, { simulator: aws.simulator, elbv2: aws.elbv2, ...(aws.autoScalingGroups ? { autoScalingGroups: aws.autoScalingGroups } : {}) }, target, role, found)));
  return checks;
}
