/**
 * Ownership: which registrations this cluster's quiesce may write. The rules live here so that no trigger and
 * no IAM statement can drift from them: the target-group opt-in tag, Cloud Map owner attributes, which
 * target groups the sweeper owns, and whose an address (its ENI) is.
 *
 * Cloud Map ownership by attributes. Two clusters may share one namespace during a migration, told apart only
 * by instance attributes (the App Mesh controller copies the VirtualNode's, e.g. `ver: v1-21`; the MCS
 * controller sets CLUSTER_ID). An instance is this cluster's only if it carries every configured owner
 * attribute; every planner that writes Cloud Map asks here, so the rule cannot drift between triggers.
 */
import { nodeInstanceOf, type NetworkInterface, type NodeInstance } from './endpoint.ts';
import { clustersInTagKeys, clustersOfNode } from './node-cluster.ts';
import type { CloudMapRegistration, TargetGroup } from './registration.ts';

/**
 * The tag by which a target group the Load Balancer Controller did not make for this cluster opts in (a
 * terraform-made blue/green group, or one another cluster's LBC made that this cluster's TargetGroupBinding
 * also fills): `quiesce.io/deregister-by` whose value lists the clusters allowed, colon-delimited, e.g.
 * `:blue:green:`, so `prod` never matches `prod2`. The IAM policy's DeregisterTargets statement reads the same
 * tag with the same pattern (`*:<cluster>:*`, infra/serverless/iam.yml).
 */
export const DEREGISTER_BY_TAG = 'quiesce.io/deregister-by';

/** Whether a target group's tags opt it in for `clusterName` (see {@link DEREGISTER_BY_TAG}). */
export function optedInFor(tags: Readonly<Record<string, string>>, clusterName: string): boolean {
  return tags[DEREGISTER_BY_TAG]?.includes(`:${clusterName}:`) ?? false;
}

/** The owner attributes an instance lacks (`k=v` each); empty = it carries them all. */
export function missingOwnerAttributes(instance: CloudMapRegistration, ownerAttributes: Readonly<Record<string, string>>): string[] {
  return Object.entries(ownerAttributes)
    .filter(([k, v]) => instance.attributes[k] !== v)
    .map(([k, v]) => `${k}=${v}`);
}

/** The held-back reason for an instance that is not this cluster's, or undefined when it is. */
export function notOwnedReason(instance: CloudMapRegistration, ownerAttributes: Readonly<Record<string, string>>): string | undefined {
  const missing = missingOwnerAttributes(instance, ownerAttributes);
  return missing.length > 0 ? `instance lacks owner attribute(s) ${missing.join(', ')}: another cluster's record` : undefined;
}

/** The tag the AWS Load Balancer Controller puts on every target group it creates for a cluster. */
export const LBC_CLUSTER_TAG = 'elbv2.k8s.aws/cluster';
/** The tag the VPC CNI puts on the ENIs it creates (docs/aws-facts.md#vpc-cni-eni-tags). */
export const CNI_CLUSTER_TAG = 'cluster.k8s.amazonaws.com/name';

/** Why a target group is this cluster's; undefined = not ours (never written). */
export type TargetGroupOwnership = 'lbc-tag' | 'tag-selector' | 'opt-in-tag' | 'target-group-binding';

/** What makes a target group ours. */
export interface OwnershipRules {
  readonly clusterName: string;
  /** Tags a group must all carry to be ours (empty = this rule is off). */
  readonly tagSelector: Readonly<Record<string, string>>;
  /** Target group ARNs named by this cluster's TargetGroupBindings; undefined when they could not be read. */
  readonly bindingArns: ReadonlySet<string> | undefined;
}

/**
 * Whether a target group belongs to this cluster: the LBC tag `elbv2.k8s.aws/cluster=<name>`, the configured
 * tag selector, the opt-in tag `quiesce.io/deregister-by` naming this cluster ({@link optedInFor}: the
 * spot and pod triggers and the IAM policy read the same tag), or a TargetGroupBinding of this cluster naming
 * it. Tags must have been read (`group.tags`). Owning a shared group never makes its other cluster's
 * targets ours: every address is still judged by whose it is.
 */
export function targetGroupOwnership(group: TargetGroup, rules: OwnershipRules): TargetGroupOwnership | undefined {
  const tags = group.tags ?? {};
  if (tags[LBC_CLUSTER_TAG] === rules.clusterName) return 'lbc-tag';
  const selector = Object.entries(rules.tagSelector);
  if (selector.length > 0 && selector.every(([k, v]) => tags[k] === v)) return 'tag-selector';
  if (optedInFor(tags, rules.clusterName)) return 'opt-in-tag';
  if (rules.bindingArns?.has(group.arn)) return 'target-group-binding';
  return undefined;
}

/**
 * Whether a Cloud Map instance carries every owner attribute. Stricter than the spot and pod triggers: with
 * none configured nothing is the sweeper's (it acts on absence of evidence, they on a dying node's IP).
 */
export function ownsCloudMapInstance(instance: CloudMapRegistration, ownerAttributes: Readonly<Record<string, string>>): boolean {
  return Object.keys(ownerAttributes).length > 0 && missingOwnerAttributes(instance, ownerAttributes).length === 0;
}

/** Whose an ENI is, by positive evidence only (see {@link eniOwner}). */
export type EniOwner =
  | { readonly kind: 'ours' }
  | { readonly kind: 'other'; readonly clusters: string }
  | { readonly kind: 'unknown'; readonly why: string };

/**
 * Whose an ENI is. An address is this cluster's only with positive evidence, and an ENI says whose it is
 * through: the VPC CNI's cluster tag (`cluster.k8s.amazonaws.com/name`, set only with the CNI's
 * CLUSTER_NAME), the VPC resource controller's `kubernetes.io/cluster/<name>` on trunk and branch ENIs, and
 * the node it serves (the attached instance, or the one a branch ENI's `node.k8s.amazonaws.com/instance_id`
 * names), if that instance was looked up and carries a cluster's tags. `ours` only when every piece of
 * evidence names this cluster; `other` when any names another; `unknown` when none names any (an untagged
 * ENI of no known node: a NAT gateway's, a Lambda's, an instance never looked up): never ours.
 */
export function eniOwner(eni: Pick<NetworkInterface, 'instanceId' | 'tags'>, instances: ReadonlyMap<string, NodeInstance>, clusterName: string): EniOwner {
  const clusters = new Set<string>();
  const cni = eni.tags[CNI_CLUSTER_TAG];
  if (cni !== undefined && cni !== '') clusters.add(cni);
  for (const c of clustersInTagKeys(eni.tags)) clusters.add(c);
  const nodeId = nodeInstanceOf(eni);
  const instance = nodeId === undefined ? undefined : instances.get(nodeId);
  if (instance) for (const c of clustersOfNode(instance)) clusters.add(c);
  if (clusters.size === 0) {
    const why = nodeId === undefined ? 'no instance and no cluster tag' : instance ? `${nodeId} carries no cluster tag` : `its instance ${nodeId} is not known`;
    return { kind: 'unknown', why };
  }
  const others = [...clusters].filter((c) => c !== clusterName);
  return others.length === 0 ? { kind: 'ours' } : { kind: 'other', clusters: others.join(',') };
}
