/**
 * The "Pod Terminating" event contract, shared by the forwarder (producer) and the pod-events Lambda
 * (consumer). Dependency-free on purpose (only `node:net`): the Lambda bundle must not pull the Kubernetes
 * client in just to validate a payload, and both ends must agree on one validator so a malformed event is
 * rejected the same way wherever it is checked. The JSON Schema twin is events/schemas/pod-terminating.schema.json. It lives in _core/contracts
 * because two deployables (the forwarder image and the Lambda) depend on it and neither owns it.
 */
import { isIP } from 'node:net';
import { isDns1123Label, isDns1123Subdomain, isEksClusterName, isPortName, isUid } from './names.ts';

/** EventBridge `source` of every forwarder event: a custom source, so rules cannot confuse it with AWS's own. */
export const POD_EVENT_SOURCE = 'quiesce.kubernetes';
/** `detail-type` when a pod first got a deletionTimestamp: the signal the early deregistration acts on. */
export const DETAIL_TYPE_POD_TERMINATING = 'Pod Terminating';
/** `detail-type` when a Ready pod turned NotReady (only with FORWARD_NOT_READY=true): opt-in, noisier. */
export const DETAIL_TYPE_POD_NOT_READY = 'Pod Not Ready';
/** Current `detail.version`; additive fields keep it, a breaking change bumps it so consumers can refuse. */
export const POD_EVENT_VERSION = 1;

/**
 * Most addresses one event may name: a pod has at most one IPv4 and one IPv6 address (Kubernetes dual-stack
 * gives one per family; EKS pods have one). Why a bound at all: the consumer deregisters every address it is
 * told about, so an unbounded list is a way to empty every ip target group with one event.
 */
export const MAX_POD_IPS = 2;

/** Why the event was sent; the consumer may treat a not-ready pod more cautiously than a deleted one. */
export type PodEventReason = 'deletion' | 'not-ready';

/** One declared container port: the Lambda deregisters the pod IP on each of these (IP targets are (ip, port)). */
export interface PodContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

/**
 * The `detail` of a "Pod Terminating" / "Pod Not Ready" event. It carries everything the consumer needs to
 * deregister without calling the cluster back (pod IPs and ports), which is what kubernetes-event-exporter's
 * events lack.
 */
export interface PodTerminatingDetail {
  readonly version: 1;
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly podIPs: readonly string[];
  readonly nodeName: string | null;
  readonly containerPorts: readonly PodContainerPort[];
  readonly labels: Readonly<Record<string, string>>;
  /** RFC 3339; null only for reason `not-ready`. */
  readonly deletionTimestamp: string | null;
  /** metadata.deletionGracePeriodSeconds (falls back to spec.terminationGracePeriodSeconds); null if unknown. */
  readonly gracePeriodSeconds: number | null;
  readonly reason: PodEventReason;
  /** When the forwarder saw the change (RFC 3339): lets the consumer measure end-to-end latency. */
  readonly observedAt: string;
  /**
   * spec.hostNetwork (optional, additive in version 1; absent = false). A host-network pod's IP is its
   * node's, shared with every other host-network pod there: the consumer may touch only its own ports.
   */
  readonly hostNetwork?: boolean;
}

/** One problem found by the validator: `field` is a path such as `containerPorts[0].containerPort`. */
export interface DetailValidationError {
  readonly field: string;
  readonly message: string;
}

/** The validator's answer: a typed detail, or every problem at once so a rejection log explains itself. */
export type DetailValidation =
  | { readonly ok: true; readonly detail: PodTerminatingDetail }
  | { readonly ok: false; readonly errors: readonly DetailValidationError[] };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);


function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isTimestamp(x: unknown): x is string {
  return typeof x === 'string' && RFC3339.test(x) && !Number.isNaN(Date.parse(x));
}

function nonEmptyString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/**
 * Checks an untrusted `detail` (from EventBridge, a test fixture or the forwarder itself) against the v1
 * contract without any schema library, so the Lambda can reject malformed input with a typed error before
 * any AWS write, and the forwarder can refuse to publish something the Lambda would reject.
 *
 * @example
 * const r = validatePodTerminatingDetail(event.detail);
 * if (!r.ok) throw new MalformedEventError(r.errors);
 */
export function validatePodTerminatingDetail(x: unknown): DetailValidation {
  const errors: DetailValidationError[] = [];
  const err = (field: string, message: string): void => {
    errors.push({ field, message });
  };
  if (!isRecord(x)) return { ok: false, errors: [{ field: '', message: 'detail must be an object' }] };

  if (x['version'] !== POD_EVENT_VERSION) err('version', `must be ${POD_EVENT_VERSION}`);
  for (const f of ['cluster', 'namespace', 'name', 'uid'] as const) {
    if (!nonEmptyString(x[f])) err(f, 'must be a non-empty string');
  }
  // Names as Kubernetes (and EKS) validate them: anything else was never produced by a cluster.
  if (nonEmptyString(x['cluster']) && !isEksClusterName(x['cluster'])) err('cluster', 'must be an EKS cluster name (1-100 of A-Z a-z 0-9 - _, alphanumeric first)');
  if (nonEmptyString(x['namespace']) && !isDns1123Label(x['namespace'])) err('namespace', 'must be a DNS-1123 label of at most 63 characters');
  if (nonEmptyString(x['name']) && !isDns1123Subdomain(x['name'])) err('name', 'must be a DNS-1123 subdomain of at most 253 characters');
  if (nonEmptyString(x['uid']) && !isUid(x['uid'])) err('uid', 'must be at most 128 printable characters');

  const ips = x['podIPs'];
  if (!Array.isArray(ips)) err('podIPs', 'must be an array of IP addresses');
  else if (ips.length > MAX_POD_IPS) err('podIPs', `must hold at most one IPv4 and one IPv6 address, got ${ips.length} entries`);
  else {
    // Every index, holes too: forEach/map skip the holes of a sparse array (`[, '10.0.1.5']` from an
    // in-process caller), which would pass here and fail later as a TypeError.
    for (let i = 0; i < ips.length; i++) {
      const ip: unknown = ips[i];
      if (typeof ip !== 'string' || isIP(ip) === 0 || ip.includes('%')) err(`podIPs[${i}]`, 'must be an IPv4 or IPv6 address');
    }
    const families = ips.map((ip) => (typeof ip === 'string' ? isIP(ip) : 0)).filter((f) => f !== 0);
    if (new Set(families).size < families.length) err('podIPs', 'must hold at most one IPv4 and one IPv6 address');
  }

  const nodeName = x['nodeName'];
  if (nodeName !== null && !nonEmptyString(nodeName)) err('nodeName', 'must be a non-empty string or null');
  else if (nodeName !== null && !isDns1123Subdomain(nodeName)) err('nodeName', 'must be a DNS-1123 subdomain of at most 253 characters, or null');

  const ports = x['containerPorts'];
  if (!Array.isArray(ports)) err('containerPorts', 'must be an array');
  // Every index, holes too (see podIPs).
  else Array.from(ports as unknown[]).forEach((p: unknown, i) => {
    const at = `containerPorts[${i}]`;
    if (!isRecord(p)) return err(at, 'must be an object');
    const n = p['containerPort'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) err(`${at}.containerPort`, 'must be an integer 1-65535');
    if (typeof p['protocol'] !== 'string' || !PROTOCOLS.has(p['protocol'])) err(`${at}.protocol`, 'must be TCP, UDP or SCTP');
    if (p['name'] !== undefined && !nonEmptyString(p['name'])) err(`${at}.name`, 'must be a non-empty string when present');
    else if (p['name'] !== undefined && !isPortName(p['name'])) err(`${at}.name`, 'must be a port name (IANA_SVC_NAME: at most 15 of a-z 0-9 -) when present');
  });

  const labels = x['labels'];
  if (!isRecord(labels)) err('labels', 'must be an object of strings');
  else for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') err(`labels.${k}`, 'must be a string');
  }

  const reason = x['reason'];
  if (reason !== 'deletion' && reason !== 'not-ready') err('reason', "must be 'deletion' or 'not-ready'");

  const dt = x['deletionTimestamp'];
  if (dt !== null && !isTimestamp(dt)) err('deletionTimestamp', 'must be an RFC 3339 timestamp or null');
  if (reason === 'deletion' && dt === null) err('deletionTimestamp', "is required when reason is 'deletion'");

  const grace = x['gracePeriodSeconds'];
  if (grace !== null && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    err('gracePeriodSeconds', 'must be a non-negative integer or null');
  }
  if (!isTimestamp(x['observedAt'])) err('observedAt', 'must be an RFC 3339 timestamp');
  if (x['hostNetwork'] !== undefined && typeof x['hostNetwork'] !== 'boolean') err('hostNetwork', 'must be a boolean when present');

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, detail: x as unknown as PodTerminatingDetail };
}

/** The detail-type that goes with a reason: one place, so producer and rule patterns cannot drift. */
export function detailTypeFor(reason: PodEventReason): string {
  return reason === 'deletion' ? DETAIL_TYPE_POD_TERMINATING : DETAIL_TYPE_POD_NOT_READY;
}
