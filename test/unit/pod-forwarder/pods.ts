/** Pod builders for the forwarder's unit tests: JSON-shaped like the watch stream delivers them. */
import type { V1Pod } from '@kubernetes/client-node';

/** The fields a unit test sets on a pod. */
export interface PodSpecSeed {
  namespace?: string;
  name?: string;
  uid?: string;
  ip?: string | undefined;
  ips?: string[];
  nodeName?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  terminationGracePeriodSeconds?: number;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

/** A running pod (Ready by default) with one container port 8080. */
export function pod(seed: PodSpecSeed = {}): V1Pod {
  const ip = 'ip' in seed ? seed.ip : '10.0.1.5';
  const ips = seed.ips ?? (ip ? [ip] : []);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: seed.namespace ?? 'shop',
      name: seed.name ?? 'web-1',
      uid: seed.uid ?? 'uid-web-1',
      resourceVersion: '100',
      labels: seed.labels ?? { app: 'web' },
      ...(seed.deletionTimestamp ? { deletionTimestamp: seed.deletionTimestamp as unknown as Date } : {}),
      ...(seed.deletionGracePeriodSeconds !== undefined ? { deletionGracePeriodSeconds: seed.deletionGracePeriodSeconds } : {}),
    },
    spec: {
      nodeName: seed.nodeName ?? 'ip-10-0-1-1.eu-west-1.compute.internal',
      terminationGracePeriodSeconds: seed.terminationGracePeriodSeconds ?? 30,
      containers: [{ name: 'app', image: 'web:1', ports: (seed.ports ?? [{ name: 'http', containerPort: 8080 }]).map((p) => ({ ...p })) }],
    },
    status: {
      phase: 'Running',
      ...(ip ? { podIP: ip } : {}),
      podIPs: ips.map((i) => ({ ip: i })),
      conditions: [{ type: 'Ready', status: seed.ready === false ? 'False' : 'True' }],
    },
  };
}
