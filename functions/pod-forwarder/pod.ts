/**
 * Reading a pod: the few facts the forwarder needs, from either shape the client hands us (the list API
 * deserialises timestamps into `Date`, the watch stream leaves them as RFC 3339 strings). Pure functions, so
 * the event contract can be tested without a cluster.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { POD_EVENT_VERSION, type PodContainerPort, type PodTerminatingDetail } from '../_core/contracts/pod-terminating.ts';

/** A timestamp from either pod shape as RFC 3339, or null; keeps Date vs string out of everything else. */
export function toIso(x: unknown): string | null {
  if (x instanceof Date) return Number.isNaN(x.getTime()) ? null : x.toISOString();
  if (typeof x === 'string' && x.length > 0) {
    const t = Date.parse(x);
    return Number.isNaN(t) ? null : new Date(t).toISOString();
  }
  return null;
}

/** True when the pod's Ready condition is "True": the same test the endpoints controller uses. */
export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pod's RFC 3339 deletionTimestamp, or null: its first appearance is the termination signal. */
export function deletionTimestampOf(pod: V1Pod): string | null {
  return toIso(pod.metadata?.deletionTimestamp);
}

/** Every pod IP (dual-stack aware), falling back to status.podIP for older API servers; de-duplicated. */
export function podIPsOf(pod: V1Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  const single = pod.status?.podIP;
  if (ips.length === 0 && typeof single === 'string' && single !== '') ips.push(single);
  return [...new Set(ips)];
}

/**
 * Declared ports of the serving containers, including native sidecars (init containers with
 * restartPolicy Always), since those can be load-balancer targets too. Ordinary init containers are skipped:
 * they never serve traffic.
 */
export function containerPortsOf(pod: V1Pod): PodContainerPort[] {
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  const out: PodContainerPort[] = [];
  const seen = new Set<string>();
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP';
      const key = `${p.containerPort}/${protocol}`;
      if (seen.has(key) || !Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) continue;
      seen.add(key);
      out.push(p.name ? { name: p.name, containerPort: p.containerPort, protocol } : { containerPort: p.containerPort, protocol });
    }
  }
  return out;
}

/**
 * Builds the event detail for a pod at `now`. Pure (no clock, no I/O) so it is unit-tested and reused by the
 * bench. The reason follows the pod: a deletionTimestamp means `deletion`, otherwise `not-ready`.
 *
 * @example
 * const detail = podToEvent(pod, 'prod-eu', new Date());
 */
export function podToEvent(pod: V1Pod, cluster: string, now: Date): PodTerminatingDetail {
  const md = pod.metadata ?? {};
  const deletionTimestamp = deletionTimestampOf(pod);
  const grace = md.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds;
  return {
    version: POD_EVENT_VERSION,
    cluster,
    namespace: md.namespace ?? '',
    name: md.name ?? '',
    uid: md.uid ?? '',
    podIPs: podIPsOf(pod),
    nodeName: pod.spec?.nodeName || null,
    containerPorts: containerPortsOf(pod),
    labels: { ...(md.labels ?? {}) },
    deletionTimestamp,
    gracePeriodSeconds: typeof grace === 'number' && Number.isInteger(grace) && grace >= 0 ? grace : null,
    reason: deletionTimestamp !== null ? 'deletion' : 'not-ready',
    observedAt: now.toISOString(),
    ...(pod.spec?.hostNetwork === true ? { hostNetwork: true } : {}),
  };
}
