/**
 * Cloud Map ownership by attributes. Two clusters may share one namespace during a migration, told apart only
 * by instance attributes (the App Mesh controller copies the VirtualNode's, e.g. `ver: v1-21`; the MCS
 * controller sets CLUSTER_ID). An instance is this cluster's only if it carries every configured owner
 * attribute; every planner that writes Cloud Map asks here, so the rule cannot drift between triggers.
 */
import type { CloudMapRegistration } from './registration.ts';

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
