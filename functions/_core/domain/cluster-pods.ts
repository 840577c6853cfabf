/**
 * The cluster's pods as evidence: which live pods hold an address. The sweeper's second truth (next to the
 * VPC's ENIs): a registration whose address a live pod of this cluster holds is alive, and a Cloud Map record
 * whose address another live pod holds now was reused. Built once per run from the pod list.
 */
import { addressKey } from './ip.ts';

/** A pod as the sweeper needs it (adapters/kube's KubePod fits this shape). */
export interface ClusterPod {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly phase: string;
  readonly startTime: string | undefined;
}

/** A pod is alive while it exists and has not terminated (Succeeded/Failed pods keep their IP in status). */
function isLive(pod: ClusterPod): boolean {
  return pod.phase !== 'Succeeded' && pod.phase !== 'Failed';
}

/**
 * Live pods by IP in canonical form (host-network pods share their node's IP, so an IP may have several;
 * a dual-stack pod is under both its addresses). Look up with `addressKey(ip)`.
 */
export function indexPods(pods: readonly ClusterPod[]): Map<string, ClusterPod[]> {
  const out = new Map<string, ClusterPod[]>();
  for (const p of pods) {
    if (!isLive(p)) continue;
    for (const raw of p.ips) {
      const ip = addressKey(raw);
      const list = out.get(ip);
      if (list) list.push(p);
      else out.set(ip, [p]);
    }
  }
  return out;
}


/** Live pods by canonical IP, as {@link indexPods} builds it. */
export type PodIndex = ReadonlyMap<string, readonly ClusterPod[]>;
