/**
 * Cluster-derived candidates: which target groups a dying node (or a terminating pod) can be registered in,
 * from what the cluster already knows, so a spot warning describes the health of those groups only instead
 * of every group in scope (one DescribeTargetHealth per group on the account's shared ELB bucket).
 *
 * The AWS Load Balancer Controller makes a TargetGroupBinding for every group it manages (Ingress, Service
 * and explicit bindings alike) and registers a Service's endpoints in it: `ip` targets are the pod IPs of the
 * Service's endpoints, `instance` targets are the cluster's nodes on the Service's NodePort (LBC docs,
 * "TargetGroupBinding" and "target-type"). So a node is in:
 * - every `ip` group whose binding's Service has an endpoint on the node: an EndpointSlice endpoint whose
 *   `nodeName` is the node (Kubernetes docs, "EndpointSlices"), or a pod of the node (`spec.nodeName`) the
 *   Service's selector picks (the same endpoints, read from the pods when slices are absent or late);
 * - every `instance` group with a binding: every node is registered there, whatever it hosts.
 * A group in scope that no binding names is not the controller's: the caller scans it as before.
 *
 * This is only the fast path. What it cannot see (a registration made outside the controller in a bound
 * group, a binding created after the read) is found by the first re-check round, which scans every group in
 * scope once per dying node and reports the miss (spot-interruption/stages/candidates.ts).
 */
import type { KubeEndpointSlice, KubePod, KubeService, KubeTargetGroupBinding } from '../adapters/kube/index.ts';
import type { NodeInstance } from '../domain/endpoint.ts';
import { QuiesceError } from '../errors.ts';
import { describeError, type ClusterSource, type Observed } from './cluster.ts';

/** The cluster read for one batch of dying nodes (or one pod): what the candidates are derived from. */
export interface ClusterView {
  readonly bindings: readonly KubeTargetGroupBinding[];
  readonly services: readonly KubeService[];
  /** Empty when the cluster has none or they could not be read (the pods still answer). */
  readonly slices: readonly KubeEndpointSlice[];
  /** The pods on the nodes asked about (field selector `spec.nodeName`), or the one pod asked about. */
  readonly pods: readonly KubePod[];
}

/** The groups a node's (or pod's) endpoints are in, and every group a binding names (the rest are unbound). */
export interface Candidates {
  /** Target group ARN -> why it is a candidate (for the log and the audit). */
  readonly groups: ReadonlyMap<string, string>;
  /** Every ARN a TargetGroupBinding names: a group in scope outside this set is scanned as before. */
  readonly bound: ReadonlySet<string>;
}

/** The cluster API did not answer within CLUSTER_TIMEOUT_MS: the caller falls back to the full scan. */
export class ClusterViewTimeoutError extends QuiesceError {
  constructor(timeoutMs: number) {
    super(`the cluster API did not answer within ${timeoutMs} ms (CLUSTER_TIMEOUT_MS)`, { retryable: true });
  }
}

/**
 * The Kubernetes node names an EC2 instance may have: its private DNS name (EKS managed and self-managed
 * node groups, "IP name" hostnames) and its instance id ("resource name" hostnames, e.g. Karpenter's
 * default on some AMIs). Both are asked about; a name no pod runs on costs one empty list.
 */
export function nodeNamesOf(node: Pick<NodeInstance, 'instanceId' | 'privateDnsName'>): string[] {
  return [...new Set([node.privateDnsName, node.instanceId].filter((n): n is string => n !== undefined && n !== ''))];
}

/** Whether a Service's selector picks a pod (every selector label present with its value; no selector: none). */
export function selects(service: Pick<KubeService, 'selector'>, labels: Readonly<Record<string, string>>): boolean {
  const selector = service.selector;
  return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;
const live = (p: KubePod): boolean => p.phase !== 'Succeeded' && p.phase !== 'Failed';

/** Pure: the Services (namespace/name) that have an endpoint on one of the nodes, by slice or by selected pod. */
export function servicesOnNodes(view: ClusterView, nodeNames: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of view.slices) {
    if (s.serviceName === undefined) continue;
    const e = s.endpoints.find((x) => x.nodeName !== undefined && nodeNames.has(x.nodeName));
    if (e) out.set(serviceKey(s.namespace, s.serviceName), `EndpointSlice ${s.namespace}/${s.name} has ${e.addresses[0] ?? 'an endpoint'} on node ${e.nodeName ?? ''}`);
  }
  for (const p of view.pods) {
    if (!live(p) || p.nodeName === undefined || !nodeNames.has(p.nodeName)) continue;
    for (const svc of view.services) {
      const k = serviceKey(svc.namespace, svc.name);
      if (svc.namespace === p.namespace && !out.has(k) && selects(svc, p.labels)) out.set(k, `pod ${p.namespace}/${p.name} on node ${p.nodeName} is selected by Service ${k}`);
    }
  }
  return out;
}

/** Pure: the candidate groups of nodes, from their Services' bindings (`ip`) and every `instance` binding. */
export function candidatesOfNodes(view: ClusterView, nodeNames: ReadonlySet<string>): Candidates {
  const onNodes = servicesOnNodes(view, nodeNames);
  return candidatesFrom(view.bindings, (b) => {
    if (b.targetType === 'instance') return `instance binding ${b.namespace}/${b.name}: every node is a target`;
    return b.serviceRef ? onNodes.get(serviceKey(b.namespace, b.serviceRef.name)) : undefined;
  });
}

/** Pure: the candidate groups of one pod: the `ip` bindings of the Services that select it (or whose slices name it). */
export function candidatesOfPod(view: ClusterView, pod: Pick<KubePod, 'namespace' | 'name' | 'labels'>): Candidates {
  const mine = new Map<string, string>();
  for (const s of view.slices) {
    if (s.serviceName !== undefined && s.endpoints.some((e) => e.pod?.name === pod.name && e.pod.namespace === pod.namespace)) mine.set(serviceKey(s.namespace, s.serviceName), `EndpointSlice ${s.namespace}/${s.name} names the pod`);
  }
  for (const svc of view.services) {
    if (svc.namespace === pod.namespace && selects(svc, pod.labels)) mine.set(serviceKey(svc.namespace, svc.name), `Service ${svc.namespace}/${svc.name} selects the pod`);
  }
  return candidatesFrom(view.bindings, (b) => (b.targetType !== 'instance' && b.serviceRef ? mine.get(serviceKey(b.namespace, b.serviceRef.name)) : undefined));
}

function candidatesFrom(bindings: readonly KubeTargetGroupBinding[], why: (b: KubeTargetGroupBinding) => string | undefined): Candidates {
  const groups = new Map<string, string>();
  const bound = new Set<string>();
  for (const b of bindings) {
    if (b.targetGroupArn === '') continue;
    bound.add(b.targetGroupArn);
    const w = why(b);
    if (w !== undefined && !groups.has(b.targetGroupArn)) groups.set(b.targetGroupArn, `${w} -> TargetGroupBinding ${b.namespace}/${b.name}`);
  }
  return { groups, bound };
}

/** Rejects after `ms`; the timer never keeps a Lambda (or a test) alive. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterViewTimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads the view for these nodes (or, with `pods`, for pods the caller already has), bounded as a whole by
 * `timeoutMs`: connect (DescribeCluster + token, kept per container), then in parallel every binding, every
 * Service, every EndpointSlice and the pods of each node name. EndpointSlices are optional: a cluster (or an
 * RBAC) without them still answers from the pods. Never throws: an unreachable, forbidden or slow API is an
 * `ok: false` the caller falls back on.
 */
export async function readClusterView(source: ClusterSource, ask: { readonly nodeNames?: readonly string[]; readonly pods?: readonly KubePod[] }, timeoutMs: number): Promise<Observed<ClusterView>> {
  try {
    const view = await within(timeoutMs, (async (): Promise<ClusterView> => {
      const { connection } = await source.connect();
      try {
        const [bindings, services, slices, perNode] = await Promise.all([
          connection.listTargetGroupBindings(),
          connection.listServices(),
          connection.listEndpointSlices().catch((): KubeEndpointSlice[] => []),
          Promise.all((ask.nodeNames ?? []).map((n) => connection.listPods({ fieldSelector: `spec.nodeName=${n}` }))),
        ]);
        return { bindings, services, slices, pods: [...(ask.pods ?? []), ...perNode.flat()] };
      } finally {
        connection.close();
      }
    })());
    return { ok: true, value: view };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
