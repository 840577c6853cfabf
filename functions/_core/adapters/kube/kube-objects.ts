/**
 * The few fields of Kubernetes objects quiesce reasons about, lifted out of the API server's JSON. Why so
 * small: a pod's JSON is kilobytes; the planners need its address, node, readiness and whether it is
 * terminating. Parsing is defensive because the JSON is untyped input; a missing field never throws.
 */

/** One container port of a pod (what an ip target's port usually is). */
export interface KubeContainerPort {
  readonly name: string | undefined;
  readonly containerPort: number;
  readonly protocol: string;
}

/** A pod as quiesce needs it. */
export interface KubePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** `status.podIP`: the address ALB ip targets and Cloud Map AWS_INSTANCE_IPV4 point at. */
  readonly ip: string | undefined;
  /** `status.podIPs` (dual stack), primary first. */
  readonly ips: readonly string[];
  readonly nodeName: string | undefined;
  /** Pending | Running | Succeeded | Failed | Unknown. */
  readonly phase: string;
  /** The Ready condition is True: the load balancer controller would (re)register this pod. */
  readonly ready: boolean;
  readonly startTime: string | undefined;
  /** Set once deletion started: the pod is terminating and should leave the load balancer now. */
  readonly deletionTimestamp: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly KubeContainerPort[];
  /** spec.hostNetwork: the pod's IP is its node's, shared with other host-network pods. */
  readonly hostNetwork: boolean;
}

/** A TargetGroupBinding (AWS Load Balancer Controller CRD): which target group a Service's pods go to. */
export interface KubeTargetGroupBinding {
  readonly namespace: string;
  readonly name: string;
  readonly targetGroupArn: string;
  readonly targetType: string | undefined;
  /** The Service whose endpoints the controller registers, and its port (number or name). */
  readonly serviceRef: { readonly name: string; readonly port: number | string } | undefined;
}

/** A Service as quiesce needs it: which pods it selects (a TargetGroupBinding's serviceRef names it). */
export interface KubeService {
  readonly namespace: string;
  readonly name: string;
  /** spec.selector; undefined for a Service without one (its endpoints are managed by hand). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly { readonly name: string | undefined; readonly port: number; readonly targetPort: number | string | undefined; readonly nodePort: number | undefined }[];
}

/** One endpoint of an EndpointSlice (discovery.k8s.io/v1): its addresses and the node it runs on. */
export interface KubeSliceEndpoint {
  readonly addresses: readonly string[];
  /** endpoints[].nodeName: the Kubernetes node hosting this endpoint. */
  readonly nodeName: string | undefined;
  /** targetRef of kind Pod, when the slice names one. */
  readonly pod: { readonly namespace: string; readonly name: string } | undefined;
}

/** An EndpointSlice as quiesce needs it: which Service it belongs to and where its endpoints are. */
export interface KubeEndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** The `kubernetes.io/service-name` label: the Service these endpoints serve. */
  readonly serviceName: string | undefined;
  readonly endpoints: readonly KubeSliceEndpoint[];
}

type Json = Record<string, unknown>;

const asObj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Maps a Pod JSON object (from list, get or a watch event) to a `KubePod`. */
export function toKubePod(raw: unknown): KubePod {
  const o = asObj(raw);
  const meta = asObj(o['metadata']);
  const spec = asObj(o['spec']);
  const status = asObj(o['status']);
  const ip = asStr(status['podIP']);
  const ips = asArr(status['podIPs'])
    .map((x) => asStr(asObj(x)['ip']))
    .filter((x): x is string => x !== undefined);
  const ready = asArr(status['conditions']).some((c) => asObj(c)['type'] === 'Ready' && asObj(c)['status'] === 'True');
  const containerPorts: KubeContainerPort[] = [];
  for (const c of asArr(spec['containers'])) {
    for (const p of asArr(asObj(c)['ports'])) {
      const port = asObj(p);
      if (typeof port['containerPort'] !== 'number') continue;
      containerPorts.push({ name: asStr(port['name']), containerPort: port['containerPort'], protocol: asStr(port['protocol']) ?? 'TCP' });
    }
  }
  return {
    namespace: asStr(meta['namespace']) ?? '',
    name: asStr(meta['name']) ?? '',
    uid: asStr(meta['uid']) ?? '',
    ip,
    ips: ips.length > 0 ? ips : ip === undefined ? [] : [ip],
    nodeName: asStr(spec['nodeName']),
    phase: asStr(status['phase']) ?? 'Unknown',
    ready,
    startTime: asStr(status['startTime']),
    deletionTimestamp: asStr(meta['deletionTimestamp']),
    labels: stringMap(meta['labels']),
    containerPorts,
    hostNetwork: spec['hostNetwork'] === true,
  };
}

/** Maps a TargetGroupBinding JSON object to a `KubeTargetGroupBinding`. */
export function toKubeTargetGroupBinding(raw: unknown): KubeTargetGroupBinding {
  const o = asObj(raw);
  const meta = asObj(o['metadata']);
  const spec = asObj(o['spec']);
  const ref = asObj(spec['serviceRef']);
  const refName = asStr(ref['name']);
  const refPort = ref['port'];
  return {
    namespace: asStr(meta['namespace']) ?? '',
    name: asStr(meta['name']) ?? '',
    targetGroupArn: asStr(spec['targetGroupARN']) ?? '',
    targetType: asStr(spec['targetType']),
    serviceRef:
      refName !== undefined && (typeof refPort === 'number' || typeof refPort === 'string') ? { name: refName, port: refPort } : undefined,
  };
}

/** Maps a Service JSON object to a `KubeService`. */
export function toKubeService(raw: unknown): KubeService {
  const o = asObj(raw);
  const meta = asObj(o['metadata']);
  const spec = asObj(o['spec']);
  const selector = spec['selector'] === undefined || spec['selector'] === null ? undefined : stringMap(spec['selector']);
  const ports = asArr(spec['ports']).flatMap((p) => {
    const x = asObj(p);
    if (typeof x['port'] !== 'number') return [];
    const tp = x['targetPort'];
    return [{ name: asStr(x['name']), port: x['port'], targetPort: typeof tp === 'number' || typeof tp === 'string' ? tp : undefined, nodePort: typeof x['nodePort'] === 'number' ? x['nodePort'] : undefined }];
  });
  return { namespace: asStr(meta['namespace']) ?? '', name: asStr(meta['name']) ?? '', selector: selector && Object.keys(selector).length > 0 ? selector : undefined, ports };
}

/** Maps an EndpointSlice JSON object (discovery.k8s.io/v1) to a `KubeEndpointSlice`. */
export function toKubeEndpointSlice(raw: unknown): KubeEndpointSlice {
  const o = asObj(raw);
  const meta = asObj(o['metadata']);
  const endpoints = asArr(o['endpoints']).map((e) => {
    const x = asObj(e);
    const ref = asObj(x['targetRef']);
    const podName = ref['kind'] === 'Pod' ? asStr(ref['name']) : undefined;
    return {
      addresses: asArr(x['addresses']).filter((a): a is string => typeof a === 'string'),
      nodeName: asStr(x['nodeName']),
      pod: podName === undefined ? undefined : { namespace: asStr(ref['namespace']) ?? asStr(meta['namespace']) ?? '', name: podName },
    };
  });
  return { namespace: asStr(meta['namespace']) ?? '', name: asStr(meta['name']) ?? '', serviceName: stringMap(meta['labels'])['kubernetes.io/service-name'], endpoints };
}
