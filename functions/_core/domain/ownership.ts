/**
 * Ownership: which registrations this cluster's quiesce may write. Two rules live here so that no trigger and
 * no IAM statement can drift from them: the target-group opt-in tag, and Cloud Map owner attributes.
 *
 * Cloud Map ownership by attributes. Two clusters may share one namespace during a migration, told apart only
 * by instance attributes (the App Mesh controller copies the VirtualNode's, e.g. `ver: v1-21`; the MCS
 * controller sets CLUSTER_ID). An instance is this cluster's only if it carries every configured owner
 * attribute; every planner that writes Cloud Map asks here, so the rule cannot drift between triggers.
 */
import type { CloudMapRegistration } from './registration.ts';

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
