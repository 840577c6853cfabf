/**
 * The cluster, as a function reaches it: DescribeCluster for the endpoint and CA, a token signed with the
 * function's credentials, and for every list (and get) the function makes, the API server's own answer to
 * "may I?" (a SelfSubjectAccessReview: RBAC decides, nothing is listed). A 401 means the cluster does not
 * know the role (no EKS access entry, or the cluster does not use access entries); a denied review names the
 * missing rule. Then the TargetGroupBindings are listed for real, as the functions do: the groups they name
 * are in scope (ownership.ts) and what the target-group checks judge.
 *
 * Run as the function's role (assumed, or the function itself on a cold start). Without the role, see
 * cluster-fallback.ts.
 */
import type { ApiBudget } from '../adapters/aws/budget.ts';
import { clusterAccess, eksToken, KubeApiError, KubeClient, type AccessAttributes, type EksDescribeClient, type EksTokenCredentials } from '../adapters/kube/index.ts';
import { errorText, fail, pass, type Check, type PreflightFunction } from './checklist.ts';
import { NEEDS, type PreflightTarget } from './target.ts';

/** What the cluster checks use. */
export interface ClusterCheckDeps {
  readonly eks: EksDescribeClient;
  /** The credentials the function signs with (its role's); default the SDK chain. */
  readonly credentials?: EksTokenCredentials;
  /** Per request (default 5 s). */
  readonly timeoutMs?: number;
}

/** An EKS client whose DescribeCluster is spent from (and retried by) the budget, as every call is. */
export function describeThroughBudget(eks: EksDescribeClient, budget: ApiBudget): EksDescribeClient {
  return { send: ((command: never) => budget.call('eks', 'DescribeCluster', () => eks.send(command))) as EksDescribeClient['send'] };
}

/** What the cluster answered besides the checks: its VPC, the groups its bindings name. */
export interface ClusterFound {
  readonly vpcId?: string;
  readonly bindingArns?: ReadonlySet<string>;
}

/** `list endpointslices.discovery.k8s.io`: how a line names an access. */
export const accessText = (a: AccessAttributes): string => `${a.verb} ${a.resource}${a.group ? `.${a.group}` : ''}`;

/** The fix for RBAC that lacks what the functions read. */
const RBAC_FIX = 'apply infra/k8s/cluster-access (part of the rendered overlay: its ClusterRole quiesce-reader grants get and list on pods, services, endpointslices and targetgroupbindings to the group of the access entries)';

/** The fix for a role the cluster does not know. */
export function accessEntryFix(target: PreflightTarget, role: string): string {
  return `set clusterAccessEntries: true in infra/stages/${target.stage}.yml and deploy, or: aws eks create-access-entry --cluster-name ${target.config.clusterName} --principal-arn ${role} --kubernetes-groups ${target.readerGroup} (the cluster's authenticationMode must be API or API_AND_CONFIG_MAP)`;
}

/** Checks the cluster as the function reaches it; `role` names whose credentials sign (for the lines). */
export async function checkCluster(fn: PreflightFunction, deps: ClusterCheckDeps, target: PreflightTarget, role: string): Promise<{ checks: Check[]; found: ClusterFound }> {
  const needs = NEEDS[fn].kube;
  const cluster = target.config.clusterName;
  const reach = `the cluster ${cluster} reachable through the access entry`;
  let access: Awaited<ReturnType<typeof clusterAccess>>;
  try {
    access = await clusterAccess(deps.eks, cluster);
  } catch (err) {
    return { checks: [fail(fn, 'cluster.access', reach, `DescribeCluster: ${errorText(err)}`, `give the role eks:DescribeCluster on the cluster (infra/serverless/iam.yml), and check the cluster name (clusterName in infra/stages/${target.stage}.yml)`)], found: {} };
  }
  const found: { vpcId?: string; bindingArns?: ReadonlySet<string> } = access.vpcId ? { vpcId: access.vpcId } : {};
  if (needs.length === 0) return { checks: [], found };
  const kube = new KubeClient({
    endpoint: access.endpoint,
    caPem: access.caPem,
    token: () => eksToken(cluster, { region: target.region, ...(deps.credentials ? { credentials: deps.credentials } : {}) }),
    timeoutMs: deps.timeoutMs ?? 5000,
    pageSize: 500,
  });
  const checks: Check[] = [];
  try {
    let first = true;
    for (const need of needs) {
      let allowed: boolean;
      try {
        allowed = (await kube.selfSubjectAccessReview(need)).allowed;
      } catch (err) {
        if (first && err instanceof KubeApiError && err.status === 401) {
          checks.push(fail(fn, 'cluster.access', reach, `${access.endpoint} answers 401 Unauthorized to ${role}: the cluster has no access entry for it`, accessEntryFix(target, role)));
          return { checks, found };
        }
        if (first) {
          checks.push(fail(fn, 'cluster.access', reach, `${access.endpoint}: ${errorText(err)}`, 'a private endpoint needs the functions in the cluster\'s VPC (clusterSubnetIds, clusterSecurityGroupIds: docs/deploy.md, Private cluster endpoints)'));
          return { checks, found };
        }
        checks.push(fail(fn, `cluster.${need.verb}.${need.resource}`, `RBAC lets it ${accessText(need)}`, errorText(err), RBAC_FIX));
        continue;
      }
      if (first) checks.push(pass(fn, 'cluster.access', reach, `${access.endpoint} knows ${role}`));
      first = false;
      checks.push(
        allowed
          ? pass(fn, `cluster.${need.verb}.${need.resource}`, `RBAC lets it ${accessText(need)}`, 'allowed (SelfSubjectAccessReview)')
          : fail(fn, `cluster.${need.verb}.${need.resource}`, `RBAC lets it ${accessText(need)}`, `denied to ${role}: the function's ${accessText(need)} fails (403)${need.resource === 'endpointslices' ? ', and the spot fast path quietly finds a node\'s groups by its pods only' : ''}`, RBAC_FIX),
      );
    }
    if (needs.some((n) => n.resource === 'targetgroupbindings' && n.verb === 'list') && checks.every((c) => c.id !== 'cluster.list.targetgroupbindings' || c.status === 'pass')) {
      try {
        found.bindingArns = new Set((await kube.listTargetGroupBindings()).map((b) => b.targetGroupArn).filter((a): a is string => typeof a === 'string'));
      } catch {
        // The review said yes: a list that fails anyway is the functions' problem too, but the lines above say enough.
      }
    }
  } finally {
    kube.close();
  }
  return { checks, found };
}
