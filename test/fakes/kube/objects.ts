/**
 * The Kubernetes objects the fake API server holds, in the JSON shape the real API server sends, plus the
 * builders that turn a few test-friendly fields into them and the selector matching that list and watch
 * share. Kept apart from the server so that tests can build expected objects without starting anything.
 */

/** `metadata` as the fake fills it in: only the fields quiesce and client-node look at. */
export interface KubeObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

/** A stored object: what list, get and watch events carry. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A container port as tests give it: a bare number means TCP without a name. */
export type ContainerPortSeed = number | { containerPort: number; name?: string; protocol?: 'TCP' | 'UDP' | 'SCTP' };

/**
 * The fields a test sets on a pod. Only namespace and name are required so that a test states what it is
 * about; defaults make a Running, Ready pod on `node-1` without an IP (like a pod before the CNI ran).
 */
export interface PodSeed {
  namespace: string;
  name: string;
  uid?: string;
  /** The primary pod IP (`status.podIP`); absent for a pod the CNI has not set up yet. */
  ip?: string;
  /** All pod IPs (`status.podIPs`); defaults to `[ip]`. */
  ips?: string[];
  nodeName?: string;
  hostIP?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containerPorts?: ContainerPortSeed[];
  /** ISO timestamp; defaults to the fake's "now" when the pod is added. */
  startTime?: string;
  /** ISO timestamp: set for a pod that is already terminating. */
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  terminationGracePeriodSeconds?: number;
}

/** The fields a test sets on a TargetGroupBinding (the AWS Load Balancer Controller CRD, v1beta1). */
export interface TargetGroupBindingSeed {
  namespace: string;
  name: string;
  uid?: string;
  targetGroupARN: string;
  serviceRef: { name: string; port: number | string };
  targetType?: 'ip' | 'instance';
  labels?: Record<string, string>;
}

/** The fields a test sets on a Service (core/v1): its selector and ports. */
export interface ServiceSeed {
  namespace: string;
  name: string;
  uid?: string;
  /** spec.selector: the pods (by label) whose endpoints this Service has. */
  selector?: Record<string, string>;
  ports?: { port: number; targetPort?: number | string; name?: string; nodePort?: number; protocol?: 'TCP' | 'UDP' }[];
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
}

/** The fields a test sets on an EndpointSlice (discovery.k8s.io/v1). */
export interface EndpointSliceSeed {
  namespace: string;
  name: string;
  uid?: string;
  /** The `kubernetes.io/service-name` label. */
  serviceName: string;
  endpoints: { addresses: string[]; nodeName?: string; pod?: string; ready?: boolean }[];
  ports?: { port: number; name?: string; protocol?: 'TCP' | 'UDP' }[];
  addressType?: 'IPv4' | 'IPv6';
}

/** Builds the Service JSON the API server would return. */
export function buildService(seed: ServiceSeed, uid: string, now: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: seed.name, namespace: seed.namespace, uid, resourceVersion: '0', creationTimestamp: now, labels: {} },
    spec: {
      type: seed.type ?? 'ClusterIP',
      ...(seed.selector ? { selector: { ...seed.selector } } : {}),
      ports: (seed.ports ?? []).map((p) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port })),
    },
    status: {},
  };
}

/**
 * Builds the EndpointSlice JSON the API server would return. Kubernetes docs, "EndpointSlices": the slice
 * is labelled `kubernetes.io/service-name`, and each endpoint carries `nodeName` and a `targetRef` to its pod.
 */
export function buildEndpointSlice(seed: EndpointSliceSeed, uid: string, now: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: seed.name, namespace: seed.namespace, uid, resourceVersion: '0', creationTimestamp: now, labels: { 'kubernetes.io/service-name': seed.serviceName } },
    addressType: seed.addressType ?? 'IPv4',
    endpoints: seed.endpoints.map((e) => ({
      addresses: [...e.addresses],
      conditions: { ready: e.ready ?? true },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace: seed.namespace, name: e.pod } } : {}),
    })),
    ports: (seed.ports ?? []).map((p) => ({ protocol: 'TCP', ...p })),
  } as KubeObject;
}

/** Builds the Pod JSON the API server would return, before the server stamps metadata.resourceVersion. */
export function buildPod(seed: PodSeed, uid: string, now: string): KubeObject {
  const ips = seed.ips ?? (seed.ip === undefined ? [] : [seed.ip]);
  const ready = seed.ready ?? true;
  const phase = seed.phase ?? 'Running';
  const ports = (seed.containerPorts ?? []).map((p) =>
    typeof p === 'number' ? { containerPort: p, protocol: 'TCP' } : { protocol: 'TCP', ...p },
  );
  const metadata: KubeObjectMeta = {
    name: seed.name,
    namespace: seed.namespace,
    uid,
    resourceVersion: '0',
    creationTimestamp: seed.startTime ?? now,
    labels: { ...(seed.labels ?? {}) },
  };
  if (seed.annotations) metadata.annotations = { ...seed.annotations };
  if (seed.deletionTimestamp !== undefined) {
    metadata.deletionTimestamp = seed.deletionTimestamp;
    metadata.deletionGracePeriodSeconds = seed.deletionGracePeriodSeconds ?? 30;
  }
  const status: Record<string, unknown> = {
    phase,
    startTime: seed.startTime ?? now,
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: ready ? 'True' : 'False' },
      { type: 'ContainersReady', status: ready ? 'True' : 'False' },
      { type: 'PodScheduled', status: 'True' },
    ],
  };
  if (seed.ip !== undefined || ips.length > 0) {
    status['podIP'] = seed.ip ?? ips[0];
    status['podIPs'] = ips.map((ip) => ({ ip }));
  }
  if (seed.hostIP !== undefined) status['hostIP'] = seed.hostIP;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      nodeName: seed.nodeName ?? 'node-1',
      terminationGracePeriodSeconds: seed.terminationGracePeriodSeconds ?? 30,
      containers: [{ name: 'app', image: 'fake.invalid/app:1', ports }],
    },
    status,
  };
}

/** Applies the seed fields present in `patch` to a stored pod (in place), the way a kubelet or user would. */
export function patchPod(pod: KubeObject, patch: Partial<Omit<PodSeed, 'namespace' | 'name' | 'uid'>>): void {
  const spec = (pod.spec ??= {});
  const status = (pod.status ??= {});
  if (patch.nodeName !== undefined) spec['nodeName'] = patch.nodeName;
  if (patch.terminationGracePeriodSeconds !== undefined) spec['terminationGracePeriodSeconds'] = patch.terminationGracePeriodSeconds;
  if (patch.containerPorts !== undefined) {
    spec['containers'] = [
      {
        name: 'app',
        image: 'fake.invalid/app:1',
        ports: patch.containerPorts.map((p) => (typeof p === 'number' ? { containerPort: p, protocol: 'TCP' } : { protocol: 'TCP', ...p })),
      },
    ];
  }
  if (patch.labels !== undefined) pod.metadata.labels = { ...patch.labels };
  if (patch.annotations !== undefined) pod.metadata.annotations = { ...patch.annotations };
  if (patch.deletionTimestamp !== undefined) {
    pod.metadata.deletionTimestamp = patch.deletionTimestamp;
    pod.metadata.deletionGracePeriodSeconds = patch.deletionGracePeriodSeconds ?? pod.metadata.deletionGracePeriodSeconds ?? 30;
  }
  if (patch.phase !== undefined) status['phase'] = patch.phase;
  if (patch.startTime !== undefined) status['startTime'] = patch.startTime;
  if (patch.hostIP !== undefined) status['hostIP'] = patch.hostIP;
  if (patch.ip !== undefined || patch.ips !== undefined) {
    const ips = patch.ips ?? (patch.ip === undefined ? [] : [patch.ip]);
    status['podIP'] = patch.ip ?? ips[0];
    status['podIPs'] = ips.map((ip) => ({ ip }));
  }
  if (patch.ready !== undefined) {
    const conditions = (status['conditions'] as { type: string; status: string }[] | undefined) ?? [];
    for (const type of ['Ready', 'ContainersReady']) {
      const c = conditions.find((x) => x.type === type);
      if (c) c.status = patch.ready ? 'True' : 'False';
      else conditions.push({ type, status: patch.ready ? 'True' : 'False' });
    }
    status['conditions'] = conditions;
  }
}

/** Builds the TargetGroupBinding JSON the API server would return. */
export function buildTargetGroupBinding(seed: TargetGroupBindingSeed, uid: string, now: string): KubeObject {
  return {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: {
      name: seed.name,
      namespace: seed.namespace,
      uid,
      resourceVersion: '0',
      creationTimestamp: now,
      labels: { ...(seed.labels ?? {}) },
    },
    spec: {
      targetGroupARN: seed.targetGroupARN,
      targetType: seed.targetType ?? 'ip',
      serviceRef: { ...seed.serviceRef },
    },
    status: { observedGeneration: 1 },
  };
}

type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value: string };

/** Parses an equality-based selector (`a=b,c!=d,e,!f`); set-based selectors (`in`, `notin`) are not supported. */
function parseSelector(selector: string): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const ne = part.indexOf('!=');
    if (ne > 0) {
      out.push({ key: part.slice(0, ne).trim(), op: '!=', value: part.slice(ne + 2).trim() });
      continue;
    }
    const eq = part.indexOf('=');
    if (eq > 0) {
      out.push({ key: part.slice(0, eq).trim(), op: '=', value: part.slice(eq + 1).replace(/^=/, '').trim() });
      continue;
    }
    if (part.startsWith('!')) out.push({ key: part.slice(1).trim(), op: '!exists', value: '' });
    else out.push({ key: part, op: 'exists', value: '' });
  }
  return out;
}

function matches(reqs: Requirement[], get: (key: string) => string | undefined): boolean {
  return reqs.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case '=':
        return v === r.value;
      case '!=':
        return v !== r.value;
      case 'exists':
        return v !== undefined;
      case '!exists':
        return v === undefined;
    }
  });
}

/** The field paths the real API server supports in pod field selectors that tests are likely to use. */
function fieldOf(obj: KubeObject, key: string): string | undefined {
  switch (key) {
    case 'metadata.name':
      return obj.metadata.name;
    case 'metadata.namespace':
      return obj.metadata.namespace;
    case 'spec.nodeName':
      return (obj.spec?.['nodeName'] as string | undefined) ?? '';
    case 'status.phase':
      return (obj.status?.['phase'] as string | undefined) ?? '';
    case 'status.podIP':
      return (obj.status?.['podIP'] as string | undefined) ?? '';
    default:
      return undefined;
  }
}

/** A compiled `labelSelector` + `fieldSelector` (+ namespace) filter, shared by list and watch. */
export interface ObjectFilter {
  (obj: KubeObject): boolean;
}

/** Compiles the filter for one request; an empty selector matches everything. */
export function compileFilter(namespace: string | undefined, labelSelector: string | null, fieldSelector: string | null): ObjectFilter {
  const labels = parseSelector(labelSelector ?? '');
  const fields = parseSelector(fieldSelector ?? '');
  return (obj) =>
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    matches(labels, (k) => obj.metadata.labels?.[k]) &&
    matches(fields, (k) => fieldOf(obj, k));
}
