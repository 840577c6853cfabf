/**
 * The name rules of the systems quiesce reads names from, checked where an event enters (the contracts of
 * every trigger, and the forwarder before it publishes). Why here and not at the API call: a name that the
 * system it comes from could never have produced means the event was forged or corrupted, and quiesce must
 * refuse it before it reads or writes anything; a name AWS rejects only at the last call (an Auto Scaling
 * group of `" "`) would otherwise arrive after the deregistrations it was meant to conclude.
 *
 * Dependency-free on purpose: the forwarder image bundles this folder (functions/_core/contracts) alone.
 * Sources: kubernetes/apimachinery pkg/util/validation/validation.go (DNS-1123), botocore autoscaling
 * service-2.json (group, hook and token shapes); see docs/aws-facts.md#name-rules.
 */

/** Longest DNS-1123 label (namespaces). */
export const DNS1123_LABEL_MAX = 63;
/** Longest DNS-1123 subdomain (pod and node names). */
export const DNS1123_SUBDOMAIN_MAX = 253;

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** A Kubernetes namespace name as the API server validates it: DNS-1123 label, at most 63 characters. */
export function isDns1123Label(value: unknown): value is string {
  return typeof value === 'string' && value.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value);
}

/** A Kubernetes pod or node name as the API server validates it: DNS-1123 subdomain, at most 253 characters. */
export function isDns1123Subdomain(value: unknown): value is string {
  return typeof value === 'string' && value.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(value);
}

/** Object uids: Kubernetes makes UUIDs; the bound keeps a hostile one out of logs and dedupe keys. */
const UID = /^[\x21-\x7e]{1,128}$/;

/** Whether `value` can be a Kubernetes object uid (1-128 printable ASCII characters). */
export function isUid(value: unknown): value is string {
  return typeof value === 'string' && UID.test(value);
}

/** Container port name (IANA_SVC_NAME): 1-15 of `[a-z0-9-]`, a letter somewhere, no leading, trailing or double hyphen. */
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether `value` is a container port name as Kubernetes validates it (IsValidPortName). */
export function isPortName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 15 && PORT_NAME.test(value);
}

/** EKS cluster name: 1-100 characters, alphanumeric first, then alphanumerics, hyphens and underscores (CreateCluster). */
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** Whether `value` is a name EKS accepts for a cluster (the `cluster` every pod event carries). */
export function isEksClusterName(value: unknown): value is string {
  return typeof value === 'string' && EKS_CLUSTER_NAME.test(value);
}

/** Auto Scaling group name: 1-255 ASCII characters 33-126 except the colon (CreateAutoScalingGroup). */
const ASG_NAME = /^[\x21-\x39\x3b-\x7e]{1,255}$/;
/** Lifecycle hook name: 1-255 of `[A-Za-z0-9\-_\/]` (PutLifecycleHook). */
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;
/** LifecycleActionToken: a 36-character UUID. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Whether `value` is a name Auto Scaling accepts for a group. */
export function isAutoScalingGroupName(value: unknown): value is string {
  return typeof value === 'string' && ASG_NAME.test(value);
}

/** Whether `value` is a name Auto Scaling accepts for a lifecycle hook. */
export function isLifecycleHookName(value: unknown): value is string {
  return typeof value === 'string' && HOOK_NAME.test(value);
}

/** Whether `value` has the shape of a LifecycleActionToken (a UUID). */
export function isLifecycleActionToken(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Whether `text` holds a control character (NUL, newline, escape, DEL): free text that must not reach a log. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * A value as it may appear inside an error message or a log line: JSON-quoted (control characters and NUL
 * escaped) and cut to `max` characters, so a hostile field cannot forge log lines or flood them.
 */
export function quoted(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : String(value);
  } catch {
    // An object without a prototype has no toString: name its type instead of failing the rejection.
    text = `[${typeof value}]`;
  }
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
