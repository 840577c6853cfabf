/**
 * The cluster checks for a role the caller could not assume (its trust policy lets Lambda in, not people):
 * the role's EKS access entry read with the caller's credentials (DescribeAccessEntry: present, mapped to the
 * reader group), and each list the function makes put to the API server as a SubjectAccessReview about the
 * access entry's user and groups, which the caller may ask only with `create subjectaccessreviews`; without
 * it those lines are skipped, saying so. `quiesce doctor` only: a function always checks as itself.
 */
import { DescribeAccessEntryCommand, type EKSClient } from '@aws-sdk/client-eks';
import type { ApiBudget } from '../adapters/aws/budget.ts';
import { clusterAccess, eksToken, KubeApiError, KubeClient, type EksDescribeClient, type EksTokenCredentials } from '../adapters/kube/index.ts';
import { errorText, fail, pass, skip, type Check, type PreflightFunction } from './checklist.ts';
import { accessEntryFix, accessText, type ClusterFound } from './cluster.ts';
import { NEEDS, type PreflightTarget } from './target.ts';

/** What the fallback uses: EKS with the caller's credentials, and the caller's credentials for the token. */
export interface ClusterFallbackDeps {
  readonly eks: Pick<EKSClient, 'send'> & EksDescribeClient;
  readonly budget: ApiBudget;
  readonly credentials?: EksTokenCredentials;
  readonly timeoutMs?: number;
}

/** Checks a role's cluster access without its credentials. */
export async function checkClusterWithoutRole(fn: PreflightFunction, deps: ClusterFallbackDeps, target: PreflightTarget, role: string): Promise<{ checks: Check[]; found: ClusterFound }> {
  const needs = NEEDS[fn].kube;
  const cluster = target.config.clusterName;
  const reach = `the cluster ${cluster} reachable through the access entry`;
  if (needs.length === 0) return { checks: [], found: {} };
  let entry: { username: string; groups: string[] };
  try {
    const out = await deps.budget.call('eks', 'DescribeAccessEntry', () => deps.eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn: role })));
    entry = { username: (out.accessEntry?.username ?? role).replace('{{SessionName}}', 'quiesce-doctor'), groups: out.accessEntry?.kubernetesGroups ?? [] };
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return { checks: [fail(fn, 'cluster.access', reach, `no access entry for ${role} in ${cluster}`, accessEntryFix(target, role))], found: {} };
    return { checks: [skip(fn, 'cluster.access', reach, `DescribeAccessEntry as the caller: ${errorText(err)}`)], found: {} };
  }
  if (!entry.groups.includes(target.readerGroup)) {
    return { checks: [fail(fn, 'cluster.access', reach, `${role}'s access entry maps it to ${entry.groups.join(', ') || 'no group'}, not ${target.readerGroup}`, `aws eks update-access-entry --cluster-name ${cluster} --principal-arn ${role} --kubernetes-groups ${target.readerGroup}`)], found: {} };
  }
  const checks: Check[] = [pass(fn, 'cluster.access', reach, `${role} has an access entry in group ${target.readerGroup} (read as the caller: the role could not be assumed)`)];
  let access: Awaited<ReturnType<typeof clusterAccess>>;
  try {
    access = await clusterAccess(deps.eks, cluster);
  } catch (err) {
    checks.push(fail(fn, 'cluster.access.endpoint', 'the cluster\'s endpoint', `DescribeCluster: ${errorText(err)}`, 'the caller needs eks:DescribeCluster'));
    return { checks, found: {} };
  }
  const kube = new KubeClient({ endpoint: access.endpoint, caPem: access.caPem, token: () => eksToken(cluster, { region: target.region, ...(deps.credentials ? { credentials: deps.credentials } : {}) }), timeoutMs: deps.timeoutMs ?? 5000 });
  try {
    for (const need of needs) {
      const id = `cluster.${need.verb}.${need.resource}`;
      const title = `RBAC lets it ${accessText(need)}`;
      try {
        const review = await kube.subjectAccessReview(entry.username, entry.groups, need);
        checks.push(review.allowed ? pass(fn, id, title, `allowed to ${entry.groups.join(', ')} (SubjectAccessReview, asked as the caller)`) : fail(fn, id, title, `denied to ${entry.groups.join(', ')}`, 'apply infra/k8s/cluster-access (part of the rendered overlay: its ClusterRole quiesce-reader grants get and list on pods, services, endpointslices and targetgroupbindings)'));
      } catch (err) {
        checks.push(skip(fn, id, title, err instanceof KubeApiError && (err.status === 401 || err.status === 403) ? `not asked: the caller may not create subjectaccessreviews in ${cluster} (${err.status})` : `not asked: ${errorText(err)}`));
      }
    }
  } finally {
    kube.close();
  }
  return { checks, found: access.vpcId ? { vpcId: access.vpcId } : {} };
}
