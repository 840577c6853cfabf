/**
 * The reads a function makes, made once as it would make them: the target groups in scope (found, and
 * tagged the way IAM's conditions on DeregisterTargets expect, so a write the code plans is one IAM allows),
 * DescribeTargetHealth on one of them, and the Cloud Map namespaces in scope with their instances carrying
 * the owner attributes (without them every record is another cluster's, and nothing is ever deregistered).
 * What is found here (the groups and services in scope) is what the write checks simulate on.
 */
import { LBC_CLUSTER_TAG, DEREGISTER_BY_TAG, missingOwnerAttributes, optedInFor, targetGroupOwnership } from '../domain/ownership.ts';
import type { TargetGroup } from '../domain/registration.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';
import { errorText, fail, pass, skip, type Check, type PreflightFunction } from './checklist.ts';
import type { PreflightTarget } from './target.ts';

/** What the reads found, for the write checks. */
export interface ReadsFound {
  /** Target groups in scope (tags read). */
  readonly groups: readonly TargetGroup[];
  /** Cloud Map services in scope, with their namespace. */
  readonly services: readonly { readonly id: string; readonly name: string; readonly namespace: string }[];
}

/** What the read checks use. */
export interface ReadsDeps {
  readonly elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf' | 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>;
}

/** Whether IAM's DeregisterTargets statements would match the group's tags (infra/serverless/iam.yml). */
export function taggedForIam(tags: Readonly<Record<string, string>>, clusterName: string): boolean {
  return tags[LBC_CLUSTER_TAG] === clusterName || optedInFor(tags, clusterName);
}

/**
 * Target groups: the groups in scope found (of the cluster's VPC when known), each tagged as IAM expects,
 * and DescribeTargetHealth answering on one.
 */
export async function checkTargetGroups(fn: PreflightFunction, deps: ReadsDeps, target: PreflightTarget, scope: { vpcId?: string; bindingArns?: ReadonlySet<string> }): Promise<{ checks: Check[]; groups: TargetGroup[] }> {
  const cluster = target.config.clusterName;
  const title = 'target groups in scope, tagged as IAM expects';
  let groups: TargetGroup[];
  try {
    const all = await deps.elbv2.listTargetGroups(scope.vpcId ? { vpcId: scope.vpcId } : {});
    const tags = await deps.elbv2.tagsOf(all.map((g) => g.arn));
    groups = all.map((g) => ({ ...g, tags: tags.get(g.arn) ?? {} }));
  } catch (err) {
    return { checks: [fail(fn, 'read.target-groups', title, `DescribeTargetGroups / DescribeTags: ${errorText(err)}`, 'give the role elasticloadbalancing:DescribeTargetGroups and DescribeTags on * (infra/serverless/iam.yml, ObserveUnscopable)')], groups: [] };
  }
  const rules = { clusterName: cluster, tagSelector: target.config.targetGroupTagSelector, bindingArns: scope.bindingArns };
  const inScope = groups.filter((g) => g.targetType !== 'lambda' && g.targetType !== 'alb' && targetGroupOwnership(g, rules) !== undefined);
  const untagged = inScope.filter((g) => !taggedForIam(g.tags ?? {}, cluster));
  const checks: Check[] = [];
  if (inScope.length === 0) {
    checks.push(skip(fn, 'read.target-groups', title, `no target group of cluster ${cluster} among ${groups.length}${scope.vpcId ? ` in ${scope.vpcId}` : ''}: nothing to deregister from yet`));
  } else if (untagged.length > 0) {
    const why = (g: TargetGroup): string => `${g.name} (in scope by ${targetGroupOwnership(g, rules)})`;
    checks.push(
      fail(
        fn,
        'read.target-groups',
        title,
        `${untagged.length} of ${inScope.length} in scope carry neither ${LBC_CLUSTER_TAG}=${cluster} nor ${DEREGISTER_BY_TAG} naming ${cluster}, so IAM denies DeregisterTargets on them: ${untagged.map(why).join(', ')}`,
        `tag each: aws elbv2 add-tags --resource-arns ${untagged.map((g) => g.arn).join(' ')} --tags Key=${DEREGISTER_BY_TAG},Value=:${cluster}: (docs/safety.md#which-target-groups-are-in-scope)`,
      ),
    );
  } else {
    checks.push(pass(fn, 'read.target-groups', title, `${inScope.length} in scope of ${groups.length}, each tagged ${LBC_CLUSTER_TAG}=${cluster} or opted in with ${DEREGISTER_BY_TAG}`));
  }
  const probe = inScope[0];
  if (probe) {
    try {
      const targets = await deps.elbv2.targetHealth(probe.arn, probe.name);
      checks.push(pass(fn, 'read.target-health', 'DescribeTargetHealth on a group in scope', `${probe.name}: ${targets.length} target(s)`));
    } catch (err) {
      checks.push(fail(fn, 'read.target-health', 'DescribeTargetHealth on a group in scope', `${probe.name}: ${errorText(err)}`, 'give the role elasticloadbalancing:DescribeTargetHealth on * (infra/serverless/iam.yml, ObserveUnscopable)'));
    }
  }
  return { checks, groups: inScope };
}

/**
 * Cloud Map: each namespace in scope found, and its instances carrying the owner attributes (a namespace
 * whose instances carry none of them is one where quiesce would deregister nothing: a migration's two
 * clusters told apart by attributes that are not there).
 */
export async function checkCloudMap(fn: PreflightFunction, deps: ReadsDeps, target: PreflightTarget): Promise<{ checks: Check[]; services: ReadsFound['services'] }> {
  const { cloudMapNamespaces: wanted, cloudMapOwnerAttributes: owner } = target.config;
  const title = 'Cloud Map namespaces in scope, owner attributes on their instances';
  if (wanted.length === 0) return { checks: [skip(fn, 'read.cloud-map', title, 'CLOUDMAP_NAMESPACES is empty: Cloud Map is left alone')], services: [] };
  let namespaces: { id: string; name: string }[];
  try {
    namespaces = await deps.cloudMap.listNamespaces();
  } catch (err) {
    return { checks: [fail(fn, 'read.cloud-map', title, `ListNamespaces: ${errorText(err)}`, 'give the role servicediscovery:ListNamespaces, ListServices, ListInstances on * (infra/serverless/iam.yml)')], services: [] };
  }
  const all = wanted.includes('*');
  const inScope = namespaces.filter((n) => all || wanted.includes(n.name) || wanted.includes(n.id));
  const missing = all ? [] : wanted.filter((w) => !namespaces.some((n) => n.name === w || n.id === w));
  const checks: Check[] = [];
  if (missing.length > 0) {
    checks.push(fail(fn, 'read.cloud-map', title, `namespace(s) ${missing.join(', ')} not found (of ${namespaces.length} in the account and Region)`, 'correct cloudMapNamespaces in infra/stages/<stage>.yml (names or ids, as ListNamespaces shows them)'));
  }
  const services: { id: string; name: string; namespace: string }[] = [];
  const noOwner: string[] = [];
  let instances = 0;
  try {
    for (const ns of inScope) {
      let seen = 0;
      let owned = 0;
      for (const s of await deps.cloudMap.listServices(ns.id)) {
        services.push({ id: s.id, name: s.name, namespace: ns.name });
        for (const i of await deps.cloudMap.listInstances(s, ns)) {
          seen += 1;
          if (missingOwnerAttributes(i, owner).length === 0) owned += 1;
        }
      }
      instances += seen;
      if (Object.keys(owner).length > 0 && seen > 0 && owned === 0) noOwner.push(`${ns.name} (${seen} instance(s), none with ${Object.entries(owner).map(([k, v]) => `${k}=${v}`).join(',')})`);
    }
  } catch (err) {
    checks.push(fail(fn, 'read.cloud-map', title, `ListServices / ListInstances: ${errorText(err)}`, 'give the role servicediscovery:ListServices and ListInstances on * (infra/serverless/iam.yml)'));
    return { checks, services };
  }
  if (noOwner.length > 0) {
    checks.push(
      fail(fn, 'read.cloud-map.owner', 'Cloud Map instances carry the owner attributes', `no instance of ${noOwner.join('; ')}: every record there counts as another cluster's and is never deregistered`, 'set cloudMapOwnerAttributes in infra/stages/<stage>.yml to the attributes this cluster\'s registrar writes (the App Mesh controller copies the VirtualNode\'s, the MCS controller sets CLUSTER_ID)'),
    );
  } else if (missing.length === 0) {
    const ownerText = Object.keys(owner).length === 0 ? 'no owner attributes set: every instance of the namespaces counts as this cluster\'s (the sweeper leaves Cloud Map alone)' : `instances carry ${Object.entries(owner).map(([k, v]) => `${k}=${v}`).join(',')}`;
    checks.push(pass(fn, 'read.cloud-map', title, `${inScope.length} namespace(s), ${services.length} service(s), ${instances} instance(s); ${ownerText}`));
  }
  return { checks, services };
}
