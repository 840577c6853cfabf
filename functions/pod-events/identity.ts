/**
 * Identity before address. A pod IP is reused: by the time an event is retried (Lambda retries a failed
 * async invocation a minute later; EventBridge for up to its retry policy), the terminating pod may be gone
 * and the VPC CNI may have given its IP to a new, healthy pod. Deregistering by the event's IP alone would
 * then take the new pod out of traffic. So before planning, each IP of the event is confirmed as still the
 * terminating pod's, with the cluster API:
 *
 * - the pod (namespace, name AND uid) still exists and still holds the IP: it is its IP (IPv4 or IPv6,
 *   compared canonicalised: `status.podIPs` is Go-printed, the event's spelling may differ);
 * - otherwise the pod's primary IP (`podIPs[0]`) is free only if no live pod holds it
 *   (`fieldSelector=status.podIP=<ip>`, sent in canonical form: the API server compares the string). That
 *   works for IPv6 too: on a single-stack IPv6 cluster (every EKS IPv6 cluster) `status.podIP` IS the IPv6.
 *   A dual-stack pod's second address cannot be asked about that way: the API server's only address field
 *   selector is `status.podIP`, which is `podIPs[0]` (kubernetes pkg/registry/core/pod/strategy.go
 *   ToSelectableFields, "TODO: add podIPs"), so a query with the second family's address matches nothing and
 *   would prove nothing. That address is treated as the cluster API not being able to say (next rule);
 * - when the cluster API cannot be asked (no access, timeout): an event younger than IDENTITY_FRESH_SECONDS
 *   (by the forwarder's `observedAt`) proceeds as before, an older one is refused with the reason.
 *
 * And the claim before the address: while the pod (uid) still exists, the event's claim must be the
 * cluster's. A "Pod Terminating" acts only on a pod with a `deletionTimestamp`, a "Pod Not Ready" only on a
 * pod whose Ready condition is not True now. Otherwise the event is not what the cluster says (forged, or
 * the pod recovered): nothing is deregistered, `unconfirmed` says why. A pod that is gone makes no claim
 * false: its IPs go when no live pod holds them (the rules above). Same rule on every path that names a
 * pod by uid (the forwarder's events, `quiesce plan` of them); the exporter's events are resolved through
 * the cluster and need a `deletionTimestamp` there (deregister-pod.ts).
 */
import type { ClusterConnection, EksClusterPortFactory, KubePod } from '#core/adapters/kube/index.ts';
import { addressKey } from '#core/domain/ip.ts';
import type { TerminatingPod } from '#core/domain/planners/pod-deregistration.ts';

/** The IPs confirmed as the pod's, and those refused with why. */
export interface IdentityVerdict {
  readonly ips: readonly string[];
  readonly refused: readonly { readonly ip: string; readonly reason: string }[];
  /** How the IPs were confirmed, for the log and the plan's warnings. */
  readonly how: string;
  /** Set when the pod exists and the cluster contradicts the event's claim (every IP is then refused). */
  readonly unconfirmed?: string;
}

/** What a pod event claims: the pod is being deleted, or it turned not ready. */
export type PodClaim = 'deletion' | 'not-ready';

/** Why the pod as the cluster shows it now contradicts the claim, or undefined when it agrees. */
export function claimContradiction(pod: Pick<TerminatingPod, 'namespace' | 'name'>, current: Pick<KubePod, 'deletionTimestamp' | 'ready'>, claim: PodClaim): string | undefined {
  if (claim === 'deletion' && !current.deletionTimestamp) return `pod ${pod.namespace}/${pod.name} is not terminating (no deletionTimestamp): the event's claim is not the cluster's`;
  if (claim === 'not-ready' && current.ready) return `pod ${pod.namespace}/${pod.name} is Ready now: the event's claim is not the cluster's`;
  return undefined;
}

/** A pod is alive while it has not terminated (Succeeded/Failed pods keep their IP in status). */
const alive = (p: KubePod): boolean => p.phase !== 'Succeeded' && p.phase !== 'Failed';
const ipsOf = (p: KubePod): string[] => (p.ips.length > 0 ? [...p.ips] : p.ip ? [p.ip] : []);

/**
 * Pure: the verdict from what the cluster said (the pod as it is now, and the live pods holding each IP),
 * for an event claiming `claim` (default: deletion).
 */
export function identityFromCluster(pod: TerminatingPod, current: KubePod | undefined, holders: ReadonlyMap<string, readonly KubePod[]>, claim: PodClaim = 'deletion'): IdentityVerdict {
  if (current && current.uid === pod.uid) {
    const contradiction = claimContradiction(pod, current, claim);
    if (contradiction) return { ips: [], refused: pod.ips.map((ip) => ({ ip, reason: contradiction })), how: 'refused: the cluster contradicts the event', unconfirmed: contradiction };
    const held = new Set(ipsOf(current).map(addressKey));
    return {
      ips: pod.ips.filter((ip) => held.has(addressKey(ip))),
      refused: pod.ips.filter((ip) => !held.has(addressKey(ip))).map((ip) => ({ ip, reason: `pod ${pod.namespace}/${pod.name} no longer holds ${ip}` })),
      how: 'the pod still exists with its IPs',
    };
  }
  const ips: string[] = [];
  const refused: { ip: string; reason: string }[] = [];
  for (const ip of pod.ips) {
    const other = (holders.get(ip) ?? []).find((p) => alive(p) && p.uid !== pod.uid);
    if (other) refused.push({ ip, reason: `IP ${ip} now belongs to pod ${other.namespace}/${other.name} (uid ${other.uid}): reused, not the terminating pod's` });
    else ips.push(ip);
  }
  return { ips, refused, how: current ? `the name now belongs to uid ${current.uid}; no live pod holds the IPs` : 'the pod is gone and no live pod holds its IPs' };
}

/** Pure: the verdict when the cluster could not be asked, by the event's age. */
export function identityFromAge(pod: TerminatingPod, observedAt: string, now: Date, freshSeconds: number, why: string): IdentityVerdict {
  const ageMs = now.getTime() - Date.parse(observedAt);
  if (ageMs <= freshSeconds * 1000) return { ips: pod.ips, refused: [], how: `cluster API unavailable (${why}); the event is ${Math.round(ageMs / 1000)} s old: acted on as sent` };
  const reason = `cluster API unavailable (${why}) and the event is ${Math.round(ageMs / 1000)} s old (IDENTITY_FRESH_SECONDS=${freshSeconds}): its IPs may belong to another pod now`;
  return { ips: [], refused: pod.ips.map((ip) => ({ ip, reason })), how: 'refused: identity unproven' };
}

/** Joins the verdicts on disjoint parts of one pod's IPs. */
function joinVerdicts(a: IdentityVerdict, b: IdentityVerdict): IdentityVerdict {
  if (b.ips.length === 0 && b.refused.length === 0) return a;
  return { ips: [...a.ips, ...b.ips], refused: [...a.refused, ...b.refused], how: `${a.how}; ${b.how}` };
}

/** Asks the cluster (when it can) and returns the verdict; never throws. */
export async function verifyPodIdentity(
  pod: TerminatingPod,
  cluster: EksClusterPortFactory | undefined,
  event: { readonly observedAt: string; readonly now: Date; readonly freshSeconds: number; readonly claim?: PodClaim },
): Promise<IdentityVerdict> {
  if (!cluster) return identityFromAge(pod, event.observedAt, event.now, event.freshSeconds, 'no cluster access configured');
  let conn: ClusterConnection | undefined;
  try {
    conn = await cluster.connect();
    const current = await conn.getPod(pod.namespace, pod.name);
    if (current && current.uid === pod.uid) return identityFromCluster(pod, current, new Map(), event.claim);
    // The pod is gone (or its name is another incarnation's): only the primary IP can be asked about.
    const [primary, ...secondary] = pod.ips;
    const holders = new Map<string, KubePod[]>();
    if (primary !== undefined) holders.set(primary, await conn.listPods({ fieldSelector: `status.podIP=${addressKey(primary)}` }));
    const asked = identityFromCluster({ ...pod, ips: primary === undefined ? [] : [primary] }, current, holders);
    if (secondary.length === 0) return asked;
    const why = `no field selector finds a pod by its second address (only status.podIP, the primary, is selectable)`;
    return joinVerdicts(asked, identityFromAge({ ...pod, ips: secondary }, event.observedAt, event.now, event.freshSeconds, why));
  } catch (err) {
    return identityFromAge(pod, event.observedAt, event.now, event.freshSeconds, `${(err as Error).name}: ${(err as Error).message}`);
  } finally {
    conn?.close();
  }
}
