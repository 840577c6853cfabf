/**
 * The reclaim model (issue 23): a small, deterministic model of the data plane and the cluster around a spot
 * reclaim, on a virtual clock in integer milliseconds, with no I/O. Three pure parts:
 *
 *  - the cluster: which pods stop serving, leave the API and are replaced when, for a drainer (a managed node
 *    group's or Karpenter's / NTH's PDB-respecting drain, or kubelet graceful node shutdown alone);
 *  - the Load Balancer Controller's decision (register Ready endpoints that have no live target, deregister
 *    live targets whose endpoint is not Ready) and its client-side rate limit;
 *  - the load balancer: which registrations are in rotation when (health checks, the lag after
 *    DeregisterTargets), and how many of a steady request rate fail because they reach a pod that no longer
 *    serves.
 *
 * The adapter (world.ts) runs the real quiesce handlers against the fake AWS on the same virtual clock and
 * hands the fake's target history back to {@link countRequests}. Every default is listed, with its source, in
 * {@link PARAMETER_SOURCES} (and in docs/benchmarks.md).
 */

/** One second in model time. */
export const S = 1000;

/** A load balancer as the model routes: how long new requests keep arriving after deregistration, and health checks. */
export interface LoadBalancerModel {
  readonly kind: 'alb' | 'nlb';
  /** New requests still routed to a target this long after DeregisterTargets made it `draining`. */
  readonly lagMs: number;
  /** Health checks: a target that stops answering is out of rotation after `unhealthyThreshold` failed checks. */
  readonly healthCheck: { readonly intervalMs: number; readonly unhealthyThreshold: number };
}

/** What a pod does when told to stop. */
export interface PodLifecycle {
  /** The preStop sleep: the pod keeps serving through it. */
  readonly preStopMs: number;
  /** From SIGTERM (the end of preStop) to exit: in-flight work only, no new requests (the listener is closed). */
  readonly shutdownMs: number;
}

/** The drainers users run. */
export type Drainer = 'mng' | 'karpenter' | 'gns';

/** Cluster timings (see {@link PARAMETER_SOURCES}). */
export interface ClusterTimings {
  /** The instance terminates this long after the warning. */
  readonly terminationMs: number;
  /** A replacement pod: scheduled on spare capacity, started, Ready after this long. */
  readonly replacementReadyMs: number;
  /** A drain starts this long after the warning (its own queue or event delivery). */
  readonly drainStartMs: Record<Exclude<Drainer, 'gns'>, number>;
  /** A refused eviction (PDB) is tried again after this long (the managed node group's and NTH's fixed retry). */
  readonly evictionRetryMs: Record<Exclude<Drainer, 'gns'>, number>;
  /** Karpenter's eviction queue: per pod, from `base` doubling up to `max`. */
  readonly evictionBackoffMs: { readonly base: number; readonly max: number };
  /** Pods of a vanished node are marked not Ready this long after it went (node-monitor-grace-period). */
  readonly nodeNotReadyMs: number;
  /**
   * Pods of a vanished node leave the API this long after it went: the node is NotReady, the cloud node
   * lifecycle controller deletes the Node, the pod GC deletes its orphaned pods (their ReplicaSet then
   * replaces them).
   */
  readonly vanishedPodDeletedMs: number;
  /** kubelet graceful node shutdown: the whole shutdown grace period, and the part kept for critical pods. */
  readonly gnsGraceMs: number;
  readonly gnsCriticalMs: number;
}

/** The defaults of the model; each one's source is in {@link PARAMETER_SOURCES}. */
export const DEFAULTS = {
  cluster: {
    terminationMs: 120 * S,
    replacementReadyMs: 30 * S,
    drainStartMs: { mng: 1 * S, karpenter: 1 * S },
    evictionRetryMs: { mng: 5 * S, karpenter: 5 * S },
    evictionBackoffMs: { base: 100, max: 10 * S },
    nodeNotReadyMs: 40 * S,
    vanishedPodDeletedMs: 105 * S,
    gnsGraceMs: 150 * S,
    gnsCriticalMs: 30 * S,
  } satisfies ClusterTimings,
  pod: { preStopMs: 10 * S, shutdownMs: 2 * S } satisfies PodLifecycle,
  alb: { kind: 'alb', lagMs: 10 * S, healthCheck: { intervalMs: 15 * S, unhealthyThreshold: 2 } } satisfies LoadBalancerModel,
  nlb: { kind: 'nlb', lagMs: 120 * S, healthCheck: { intervalMs: 10 * S, unhealthyThreshold: 3 } } satisfies LoadBalancerModel,
  /** A target is healthy (in rotation) this long after RegisterTargets: one health check interval (ALB: "must pass one health check"). */
  registrationToHealthyMs: 15 * S,
  lbc: { reconcileDelayMs: 2 * S, ratePerSecond: 4, burst: 20 },
  /**
   * The App Mesh controller's Cloud Map side: a reconcile per pod change (after the same delay as the LBC's),
   * its operations polled every 3 s; Cloud Map completes an operation 2 s after it was submitted (the fake's
   * timing: asynchronous, as AWS documents, with no published figure).
   */
  appMesh: { reconcileDelayMs: 2 * S, operationPollMs: 3 * S },
  /** The gRPC client in front of Cloud Map: it re-resolves the service this often (swept; see PARAMETER_SOURCES). */
  grpc: { refreshMs: 30 * S } satisfies DiscoveryClientModel,
  requestsPerSecond: 100,
  /** quiesce's delivery path, as deployed (see PARAMETER_SOURCES). */
  quiesce: { eventToQueueMs: 500, batchWindowMs: 5 * S, invocationMs: 1 * S, forwarderToLambdaMs: 500 },
} as const;

/** Every default with where it comes from (rendered into docs/benchmarks.md and the bench notes). */
export const PARAMETER_SOURCES: readonly (readonly [string, string, string])[] = [
  ['warning to termination', '120 s', 'EC2 spot interruption notices, two minutes: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html'],
  ['ALB lag after DeregisterTargets (swept)', '5, 10, 15, 30 s (default 10 s)', 'user measurements, not AWS statements: LBC #1064 (504s after deregistration even with a 5 s delay), #1719 ("ELB API propagation time: about 10s"), #2106 (a 70 s preStop stopped the 502s); #905 as the issue cites it (not found in our reference copies): https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1719'],
  ['NLB lag after DeregisterTargets', '120 s', 'LBC #2366 ("deregistration takes at least 2 minutes regardless of the deregistration delay"), #3270: https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/2366'],
  ['ALB health check', '15 s interval, 2 unhealthy, healthy after 1 check', 'LBC annotation defaults (healthcheck-interval-seconds 15, unhealthy-threshold-count 2): https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/ ; a new target "must pass one health check": https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html'],
  ['NLB health check', '10 s interval, 3 unhealthy', 'LBC service annotation defaults (aws-load-balancer-healthcheck-interval 10, unhealthy-threshold 3): https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/'],
  ['all targets unhealthy', 'fail open: routed to all', 'ALB user guide, health checks: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html'],
  ['LBC client limit on Register/DeregisterTargets', '4/s, burst 20', 'LBC pkg/aws/throttle/defaults.go: https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/pkg/aws/throttle/defaults.go'],
  ['LBC: draining targets ignored, Ready endpoints without a live target registered', 'as coded', 'LBC pkg/targetgroupbinding/resource_manager.go (partitionTargetsByDrainingStatus): https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/pkg/targetgroupbinding/resource_manager.go'],
  ['LBC reconcile delay after an endpoint change', '2 s', 'assumption (EndpointSlice update + watch + reconcile); users report longer (LBC #1409: 16 s between two groups)'],
  ['preStop sleep (swept)', '0-90 s (default 10 s)', 'EKS best practices show a 10 s preStop sleep: https://docs.aws.amazon.com/eks/latest/best-practices/load-balancing.html'],
  ['shutdown after SIGTERM', '2 s', 'assumption: the listener closes at SIGTERM, in-flight requests finish'],
  ['pods of a vanished node leave the API (pod GC), then are replaced', '105 s after the node went', 'NotReady after 40 s, the cloud node lifecycle controller deletes the Node within its 5 s --node-monitor-period (k8s.io/cloud-provider controllers/nodelifecycle), the pod GC sees it on its 20 s loop and deletes the orphaned pods after a 40 s quarantine (kubernetes pkg/controller/podgc gcCheckPeriod, quarantineTime): 40 + 5 + 20 + 40, the latest by these defaults'],
  ['Cloud Map registrations', 'the App Mesh controller: Ready pods (ContainersReady, no deletionTimestamp) registered, others deregistered, instance id = pod IP', 'aws-app-mesh-controller-for-k8s pkg/cloudmap (virtualnode_endpoint_resolver.go, instances_reconcile_task.go, instances_reconciler.go): https://github.com/aws/aws-app-mesh-controller-for-k8s/tree/master/pkg/cloudmap'],
  ['App Mesh controller: its view of Cloud Map', 'a ListInstances cache (5 min TTL) updated by its own operations only; not expired during the run', 'instances_cache.go (defaultInstanceAttrsCacheTTL 5 min): an instance quiesce deregistered stays in that cache, so a still-Ready pod is not registered back until the cache expires'],
  ['App Mesh controller: reconcile delay, operation polling', '2 s (as the LBC), GetOperation every 3 s', 'reconcile delay: assumption; instances_cache.go defaultOperationPollInterval 3 s'],
  ['Cloud Map operation (Register/DeregisterInstance) to SUCCESS', '2 s', 'asynchronous with an OperationId (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html); 2 s is the fake\'s timing, no AWS figure found'],
  ['gRPC client re-resolution (swept)', '5 s and 30 s (default 30 s)', '5 s: Envoy\'s dns_refresh_rate default (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/clusters/dns/v3/dns_cluster.proto), "will query for dns updates every ~5s" (App Mesh roadmap #151); 30 s: gRPC\'s minimum between re-resolutions (grpc-go internal/resolver/dns MinResolutionRate) and the 20-30 s of stale endpoints users measured behind App Mesh (https://github.com/aws/aws-app-mesh-roadmap/issues/151)'],
  ['gRPC client routing', 'round robin over the addresses it last resolved whose connection is up', 'grpc round_robin picks READY subchannels only: a pod that closes gracefully (GOAWAY at SIGTERM, then refused connections) is skipped at once; a pod whose node vanished leaves no FIN/RST and stays picked (keepalive off by default) until a re-resolution drops it'],
  ['replacement pod Ready', '30 s', 'assumption: scheduled on spare capacity, image cached, readiness probe (periodSeconds 10 default)'],
  ['PodDisruptionBudget', 'maxUnavailable 1 per Deployment', 'the common setting; the eviction API refuses an eviction the budget does not allow: https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/'],
  ['managed node group drain', 'at the warning (+1 s), PDB-respecting, refused evictions retried every 5 s', 'EKS UG, managed node groups ("If a Spot two-minute interruption notice arrives before the replacement Spot node is in a Ready state, Amazon EKS starts draining"): https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html ; 5 s: the kubectl drain helper\'s retry, assumed'],
  ['Karpenter', 'taint + drain at the warning (+1 s, its SQS queue), PDB-respecting, a refused eviction retried per pod after 100 ms doubling to 10 s', 'Karpenter interruption handling: https://karpenter.sh/docs/concepts/disruption/#interruption ; eviction queue evictionQueueBaseDelay 100 ms, evictionQueueMaxDelay 10 s: https://github.com/kubernetes-sigs/karpenter/blob/main/pkg/controllers/node/termination/terminator/eviction.go'],
  ['NTH (queue mode)', 'as the managed node group row: cordon + drain at the warning through the kubectl drain helper', 'aws-node-termination-handler: https://github.com/aws/aws-node-termination-handler ; its drain is the kubectl drain library (refused evictions retried every 5 s)'],
  ['kubelet graceful node shutdown alone', 'shutdown starts at termination, 150 s (30 s critical); endpoints unchanged until a pod exits', 'amazon-eks-ami PR #2390 (AL2023, EKS 1.34+): https://github.com/awslabs/amazon-eks-ami/pull/2390 ; kubernetes #116965, LBC #2702: https://github.com/kubernetes/kubernetes/issues/116965'],
  ['pods of a vanished node marked not Ready', '40 s', 'kube-controller-manager --node-monitor-grace-period default: https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/'],
  ['traffic', '100 requests/s per Service, round robin over targets in rotation', 'model choice; results scale linearly with the rate'],
  ['quiesce: warning to node-signal queue', '0.5 s', 'assumption (EventBridge rule to SQS)'],
  ['quiesce: SQS batching window', '5 s', 'serverless.yml (maximumBatchingWindow: 5)'],
  ['quiesce: one invocation (start to writes)', '1 s', 'assumption (Lambda start + ~30 API calls); the handler itself runs for real against the fake'],
  ['quiesce: forwarder to pod-events Lambda', '0.5 s', 'assumption (PutEvents to the bus, rule, async invoke); the forwarder itself runs for real against the fake Kubernetes API'],
  ['quiesce: Cloud Map', 'CLOUDMAP_NAMESPACES = the mesh namespace; CLOUDMAP_OPERATION_WAIT_SECONDS 0 (bench only)', 'an invocation runs at one virtual instant here, so waiting for operations inside it would stall the simulated cluster; the wait decides what an invocation reports, not when an instance leaves Cloud Map'],
  ['quiesce: re-registration guard (swept in the wave)', 'GUARD_INTERVAL_SECONDS 15 (default) and 5; GUARD_DEADLINE_SECONDS 150', 'functions/_core/config.ts; a round is a delayed message on the node-signal queue, so it also waits for the batching window and the invocation'],
];

// ---- the cluster ----------------------------------------------------------------------------------------

/** A Deployment (one Service, one target group) and where its pods run. */
export interface DeploymentSpec {
  readonly name: string;
  readonly replicas: number;
  /** How many of its pods run on each spot node, in the order of {@link Topology.spotNodes}. */
  readonly onSpot: readonly number[];
}

/** The cluster around the reclaim: the spot nodes warned at t = 0 and the Deployments. */
export interface Topology {
  readonly spotNodes: readonly string[];
  readonly deployments: readonly DeploymentSpec[];
}

/** One pod over the run (original or replacement). Times in ms from the warning; Infinity = not in the run. */
export interface PodRecord {
  readonly name: string;
  readonly deployment: string;
  readonly node: string;
  readonly ip: string;
  readonly createdAt: number;
  readonly readyAt: number;
  /** deletionTimestamp set (eviction): endpoint terminating, not Ready. */
  terminatingAt: number;
  /** Stops accepting new requests (end of preStop, or its node is gone). */
  stopServingAt: number;
  /** Leaves the API (evicted pod deleted) or reports failed (graceful node shutdown): endpoint gone. */
  exitAt: number;
  /** Marked not Ready by the node controller (its node vanished): the PodReady condition only. */
  notReadyAt: number;
  /** Deleted by the pod GC, its node gone from the API (Infinity: not in the run). */
  gcAt: number;
}

/** The cluster's side of a run: every pod, and when each spot node is gone. */
export interface ClusterTimeline {
  readonly pods: readonly PodRecord[];
  readonly nodeGoneAt: ReadonlyMap<string, number>;
}

/** The topologies of the bench: one warned node, and a wave of three. */
export function topology(scope: 'one' | 'wave'): Topology {
  if (scope === 'one') {
    return {
      spotNodes: ['spot-0'],
      deployments: [
        { name: 'web', replicas: 6, onSpot: [3] },
        { name: 'api', replicas: 4, onSpot: [1] },
        { name: 'solo', replicas: 2, onSpot: [2] },
      ],
    };
  }
  return {
    spotNodes: ['spot-0', 'spot-1', 'spot-2'],
    deployments: [
      { name: 'web', replicas: 9, onSpot: [2, 2, 2] },
      { name: 'api', replicas: 6, onSpot: [1, 1, 1] },
      { name: 'solo', replicas: 2, onSpot: [1, 1, 0] },
    ],
  };
}

/** Pod IPs: 10.<node>.<deployment>.<n>; replacements on node index 200+. */
const ipOf = (nodeIndex: number, dep: number, n: number): string => `10.${nodeIndex + 10}.${dep + 1}.${n + 10}`;

/**
 * The pods at the warning: each Deployment's `onSpot` pods on the spot nodes, the rest on on-demand nodes
 * (`od-<n>`, one pod of a Deployment per node). All Ready long before the warning.
 */
export function initialPods(t: Topology): PodRecord[] {
  const pods: PodRecord[] = [];
  t.deployments.forEach((d, di) => {
    let n = 0;
    d.onSpot.forEach((count, ni) => {
      for (let k = 0; k < count; k++, n++) pods.push(pod(`${d.name}-${n}`, d.name, t.spotNodes[ni] as string, ipOf(ni, di, n), -3600 * S, -3600 * S));
    });
    for (let k = 0; n < d.replicas; k++, n++) pods.push(pod(`${d.name}-${n}`, d.name, `od-${k}`, ipOf(100 + k, di, n), -3600 * S, -3600 * S));
  });
  return pods;
}

function pod(name: string, deployment: string, node: string, ip: string, createdAt: number, readyAt: number): PodRecord {
  return { name, deployment, node, ip, createdAt, readyAt, terminatingAt: Infinity, stopServingAt: Infinity, exitAt: Infinity, notReadyAt: Infinity, gcAt: Infinity };
}

/**
 * What the cluster does after the warning, for a drainer:
 *  - `mng` / `karpenter`: from the drain's start, every pod of the spot nodes is evicted as soon as its
 *    Deployment's PDB (maxUnavailable 1) allows; the budget counts Ready pods without a deletionTimestamp,
 *    so the next pod of a Deployment goes when the previous one's replacement is Ready. A refused eviction
 *    is retried every `evictionRetryMs` (managed node group, NTH), or per pod with Karpenter's backoff.
 *    Pods still on a node at termination die with it; they are marked not Ready 40 s later and leave the API
 *    (pod GC) `vanishedPodDeletedMs` after the node went, when a pod that was never evicted is replaced.
 *  - `gns`: nothing until termination; then kubelet runs each pod's preStop and SIGTERM, and the API learns
 *    of it only when the pod exits (kubernetes #116965); the instance stops once its pods exited (within the
 *    shutdown grace period).
 * An evicted pod serves through its preStop, then stops; it leaves the API at exit. Its replacement is
 * created at eviction (the ReplicaSet no longer counts it) on an on-demand node and is Ready after
 * `replacementReadyMs`.
 */
export function planCluster(t: Topology, drainer: Drainer, life: PodLifecycle, timings: ClusterTimings = DEFAULTS.cluster): ClusterTimeline {
  const pods = initialPods(t);
  const spot = new Set(t.spotNodes);
  const nodeGoneAt = new Map<string, number>();
  let replacements = 0;
  const replace = (p: PodRecord, at: number): void => {
    const di = t.deployments.findIndex((d) => d.name === p.deployment);
    pods.push(pod(`${p.deployment}-r${replacements}`, p.deployment, `od-r${replacements}`, ipOf(200, di, replacements), at, at + timings.replacementReadyMs));
    replacements++;
  };
  if (drainer === 'gns') {
    const start = timings.terminationMs;
    const budget = timings.gnsGraceMs - timings.gnsCriticalMs;
    for (const node of t.spotNodes) {
      let last = start;
      for (const p of pods.filter((x) => x.node === node)) {
        p.stopServingAt = start + Math.min(life.preStopMs, budget);
        p.exitAt = start + Math.min(life.preStopMs + life.shutdownMs, budget);
        last = Math.max(last, p.exitAt);
      }
      nodeGoneAt.set(node, Math.min(last, start + timings.gnsGraceMs));
    }
    for (const p of pods.filter((x) => spot.has(x.node))) replace(p, p.exitAt);
  } else {
    for (const node of t.spotNodes) nodeGoneAt.set(node, timings.terminationMs);
    const replicas = new Map(t.deployments.map((d) => [d.name, d.replicas]));
    const healthy = (dep: string, at: number): number => pods.filter((p) => p.deployment === dep && p.readyAt <= at && p.terminatingAt > at && p.stopServingAt > at).length;
    // Each pod of the spot nodes is evicted at its own attempts: the first at the drain's start, a refused
    // one again after the drainer's retry delay (Karpenter: per pod, 100 ms doubling to 10 s).
    const attempts = pods.filter((p) => spot.has(p.node)).map((p, order) => ({ p, order, next: timings.drainStartMs[drainer], delay: timings.evictionRetryMs[drainer] }));
    const backoff = drainer === 'karpenter';
    if (backoff) for (const a of attempts) a.delay = timings.evictionBackoffMs.base;
    while (attempts.length > 0) {
      attempts.sort((a, b) => a.next - b.next || a.order - b.order);
      const a = attempts[0] as (typeof attempts)[number];
      const at = a.next;
      if (at >= timings.terminationMs) break;
      if (healthy(a.p.deployment, at) - ((replicas.get(a.p.deployment) ?? 0) - 1) <= 0) {
        a.next = at + a.delay;
        if (backoff) a.delay = Math.min(a.delay * 2, timings.evictionBackoffMs.max);
        continue;
      }
      const p = a.p;
      p.terminatingAt = at;
      p.stopServingAt = Math.min(at + life.preStopMs, timings.terminationMs);
      const exit = at + life.preStopMs + life.shutdownMs;
      if (exit < timings.terminationMs) p.exitAt = exit;
      attempts.shift();
      replace(p, at);
    }
  }
  for (const p of [...pods]) {
    const gone = nodeGoneAt.get(p.node);
    if (gone === undefined) continue;
    p.stopServingAt = Math.min(p.stopServingAt, gone);
    if (p.exitAt === Infinity && p.terminatingAt === Infinity) p.notReadyAt = gone + timings.nodeNotReadyMs;
    if (p.exitAt === Infinity) {
      // Still in the API when its node went (evicted too late, or never): the pod GC deletes it once the Node
      // is deleted; a pod that was not evicted is replaced only then (the ReplicaSet counted it until then).
      p.gcAt = gone + timings.vanishedPodDeletedMs;
      if (p.terminatingAt === Infinity) replace(p, p.gcAt);
    }
  }
  return { pods, nodeGoneAt };
}

/** An endpoint as the LBC reads it at a moment: the pod's IP and whether it is Ready (not terminating, not failed). */
export interface EndpointView {
  readonly ip: string;
  readonly ready: boolean;
}

/** The endpoints of a Deployment's Service at `at`: pods in the API (created, not exited) and their readiness. */
export function endpointsAt(timeline: ClusterTimeline, deployment: string, at: number): EndpointView[] {
  return timeline.pods
    .filter((p) => p.deployment === deployment && p.createdAt <= at && p.exitAt > at && p.gcAt > at)
    .map((p) => ({ ip: p.ip, ready: p.readyAt <= at && p.terminatingAt > at && p.notReadyAt > at }));
}

/** Times at which a Deployment's endpoints change (each one triggers an LBC reconcile). */
export function endpointChanges(timeline: ClusterTimeline, deployment: string): number[] {
  const out = new Set<number>();
  for (const p of timeline.pods) {
    if (p.deployment !== deployment) continue;
    for (const at of [p.createdAt, p.readyAt, p.terminatingAt, p.exitAt, p.notReadyAt, p.gcAt]) if (Number.isFinite(at) && at >= 0) out.add(at);
  }
  return [...out].sort((a, b) => a - b);
}

// ---- the Load Balancer Controller ------------------------------------------------------------------------

/** A target as DescribeTargetHealth reports it. */
export interface TargetView {
  readonly id: string;
  readonly state: string;
}

/**
 * One reconcile of a TargetGroupBinding (ip targets), as the controller codes it: draining targets are set
 * aside; a Ready endpoint with no other target is registered (so a pod deregistered early while still Ready
 * comes back); a live target with no Ready endpoint is deregistered.
 */
export function lbcReconcile(endpoints: readonly EndpointView[], targets: readonly TargetView[]): { register: string[]; deregister: string[] } {
  const live = targets.filter((t) => t.state !== 'draining' && t.state !== 'unused');
  const ready = new Set(endpoints.filter((e) => e.ready).map((e) => e.ip));
  const liveIds = new Set(live.map((t) => t.id));
  return { register: [...ready].filter((ip) => !liveIds.has(ip)).sort(), deregister: live.filter((t) => !ready.has(t.id)).map((t) => t.id).sort() };
}

/** A token bucket on the virtual clock (the LBC's client-side limit on Register/DeregisterTargets). */
export class TokenBucket {
  #tokens: number;
  #at = -Infinity;
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }
  /** Takes one token at or after `at`; returns when the call may go. */
  take(at: number): number {
    const now = Math.max(at, this.#at);
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - (Number.isFinite(this.#at) ? this.#at : now)) * this.ratePerSecond) / S);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return now;
    }
    const wait = Math.ceil(((1 - this.#tokens) * S) / this.ratePerSecond);
    this.#at = now + wait;
    this.#tokens = 0;
    return now + wait;
  }
}

// ---- the App Mesh controller (Cloud Map registrations) ---------------------------------------------------

/**
 * The pod IPs the App Mesh controller wants registered in a Deployment's Cloud Map service at `at`: pods with
 * an IP, no deletionTimestamp, and their containers Ready. The node controller's "not Ready" for the pods of
 * a vanished node sets the PodReady condition only, not ContainersReady, so those stay wanted until the pod
 * GC deletes them.
 */
export function appMeshDesired(timeline: ClusterTimeline, deployment: string, at: number): string[] {
  return timeline.pods
    .filter((p) => p.deployment === deployment && p.createdAt <= at && p.readyAt <= at && p.terminatingAt > at && p.exitAt > at && p.gcAt > at)
    .map((p) => p.ip)
    .sort();
}

/**
 * One instances reconcile of the App Mesh controller, as coded: what it wants against its cached view of the
 * service (not a fresh ListInstances), instances with an operation of its own in flight skipped. So an
 * instance someone else deregistered stays in its view, and a still-Ready pod is not registered back.
 */
export function appMeshReconcile(desired: readonly string[], cached: ReadonlySet<string>, inFlight: ReadonlySet<string>): { register: string[]; deregister: string[] } {
  const want = new Set(desired);
  return {
    register: [...want].filter((ip) => !cached.has(ip) && !inFlight.has(ip)).sort(),
    deregister: [...cached].filter((ip) => !want.has(ip) && !inFlight.has(ip)).sort(),
  };
}

// ---- the load balancer -----------------------------------------------------------------------------------

/** One registration of a target, as the fake reported it over the run. */
export interface Registration {
  readonly group: string;
  readonly ip: string;
  readonly registeredAt: number;
  /** When the fake first reported it `healthy` (Infinity: never). */
  readonly healthyAt: number;
  /** When the fake first reported it `draining` (or gone); Infinity: still registered at the end. */
  readonly drainAt: number;
}

/** What one Service saw over the window. */
export interface GroupOutcome {
  readonly group: string;
  readonly requests: number;
  readonly failed: number;
  /** Of `failed`: with no target in rotation at all (503 from the load balancer). */
  readonly noTarget: number;
}

/** What the load balancer did over the window. */
export interface RoutingOutcome {
  readonly groups: readonly GroupOutcome[];
  /** The last moment each node's targets were sent new requests (ms from the warning; -Infinity: never after `from`). */
  readonly lastRoutedTo: ReadonlyMap<string, number>;
}

/** Whether a registration ever passes its first health check: before it is drained, while its pod serves. */
export function entersRotation(r: Pick<Registration, 'healthyAt' | 'drainAt'>, stopServingAt: number): boolean {
  return r.healthyAt < r.drainAt && r.healthyAt < stopServingAt;
}

/**
 * When the load balancer takes a registration out of rotation: the lag after draining, or failed health
 * checks. A registration that never entered rotation (deregistered before it passed its first health check,
 * or its pod stopped serving before that check) is out from the start: it returns `healthyAt`, an empty
 * stay. The lag is the load balancer still routing to a target it had in rotation; a target still in its
 * initial health checks was never there.
 */
export function outOfRotationAt(r: Registration, stopServingAt: number, lb: LoadBalancerModel): number {
  if (!entersRotation(r, stopServingAt)) return r.healthyAt;
  const drained = r.drainAt + lb.lagMs;
  if (!Number.isFinite(stopServingAt)) return drained;
  // Checks at registeredAt + k * interval; out after `unhealthyThreshold` consecutive failures.
  const first = Math.max(0, Math.ceil((stopServingAt - r.registeredAt) / lb.healthCheck.intervalMs));
  const unhealthy = r.registeredAt + (first + lb.healthCheck.unhealthyThreshold - 1) * lb.healthCheck.intervalMs;
  return Math.min(drained, unhealthy);
}

/**
 * Routes `requestsPerSecond` per group over [from, to) and counts failures. At each moment a group's requests
 * are spread evenly (round robin) over its registrations in rotation (healthy, not yet out by lag or health
 * checks); when none is, over its registrations that failed health checks but are not draining (fail open);
 * when there are none of those either, they fail (503). A request fails when its target's pod does not
 * serve: before Ready, after its preStop ended, or after its node went. Request counts are expectations
 * (fractions), summed exactly between the moments anything changes.
 */
export function countRequests(opts: {
  registrations: readonly Registration[];
  pods: readonly Pick<PodRecord, 'ip' | 'node' | 'readyAt' | 'stopServingAt'>[];
  groups: readonly string[];
  lb: LoadBalancerModel;
  requestsPerSecond: number;
  from: number;
  to: number;
}): RoutingOutcome {
  const podByIp = new Map(opts.pods.map((p) => [p.ip, p]));
  const lastRoutedTo = new Map<string, number>();
  const groups: GroupOutcome[] = [];
  for (const group of opts.groups) {
    const regs = opts.registrations
      .filter((r) => r.group === group)
      .map((r) => {
        const p = podByIp.get(r.ip);
        const stop = p?.stopServingAt ?? -Infinity;
        return { r, p, stop, out: outOfRotationAt(r, stop, opts.lb) };
      });
    const cuts = new Set<number>([opts.from, opts.to]);
    for (const x of regs) for (const at of [x.r.registeredAt, x.r.healthyAt, x.r.drainAt, x.out, x.stop, x.p?.readyAt ?? -Infinity]) if (at > opts.from && at < opts.to) cuts.add(at);
    const times = [...cuts].sort((a, b) => a - b);
    let requests = 0;
    let failed = 0;
    let noTarget = 0;
    for (let i = 0; i + 1 < times.length; i++) {
      const a = times[i] as number;
      const b = times[i + 1] as number;
      const n = (opts.requestsPerSecond * (b - a)) / S;
      requests += n;
      // A target is one (Id, Port) however many registrations it had: re-registered while still draining, it
      // is one target in rotation, not two.
      const one = (xs: typeof regs): typeof regs => [...new Map(xs.map((x) => [x.r.ip, x])).values()];
      let routed = one(regs.filter((x) => x.r.healthyAt <= a && a < x.out));
      if (routed.length === 0) routed = one(regs.filter((x) => x.r.healthyAt <= a && a < x.r.drainAt));
      if (routed.length === 0) {
        failed += n;
        noTarget += n;
        continue;
      }
      for (const x of routed) {
        const share = n / routed.length;
        const serving = x.p !== undefined && x.p.readyAt <= a && a < x.stop;
        if (!serving) failed += share;
        if (x.p) lastRoutedTo.set(x.p.node, Math.max(lastRoutedTo.get(x.p.node) ?? -Infinity, b));
      }
    }
    groups.push({ group, requests, failed, noTarget });
  }
  return { groups, lastRoutedTo };
}

// ---- Cloud Map and a gRPC client ---------------------------------------------------------------------------

/** A client that finds a service through Cloud Map and balances over what it found. */
export interface DiscoveryClientModel {
  /** It re-resolves the service this often; between two resolutions it uses the addresses it last got. */
  readonly refreshMs: number;
}

/** An instance as a Cloud Map discovery answers it: present in the service from `from` until `to` (ms). */
export interface InstanceSpan {
  readonly group: string;
  readonly ip: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Routes `requestsPerSecond` per group through a gRPC client (round robin) that re-resolves the Cloud Map
 * service every `refreshMs` and counts failures, as an expectation over the resolution phase (phases 1 s
 * apart, averaged). At each moment the client balances over the addresses of its last resolution whose
 * connection is up: a pod that stopped serving while its node was up closed its connections (GOAWAY at
 * SIGTERM, then refused reconnects) and is skipped from then on; a pod whose node vanished closed nothing,
 * so it stays picked, and its requests fail, until a resolution no longer returns it. With no usable
 * address the requests fail (UNAVAILABLE, counted as "no target"). `lastRoutedTo` is the latest over phases.
 */
export function countDiscoveryRequests(opts: {
  instances: readonly InstanceSpan[];
  pods: readonly Pick<PodRecord, 'ip' | 'node' | 'readyAt' | 'stopServingAt'>[];
  nodeGoneAt: ReadonlyMap<string, number>;
  groups: readonly string[];
  client: DiscoveryClientModel;
  requestsPerSecond: number;
  from: number;
  to: number;
}): RoutingOutcome {
  const podByIp = new Map(opts.pods.map((p) => [p.ip, p]));
  const refresh = opts.client.refreshMs;
  const phases = Math.max(1, Math.round(refresh / S));
  const lastRoutedTo = new Map<string, number>();
  const groups: GroupOutcome[] = [];
  for (const group of opts.groups) {
    const spans = opts.instances.filter((x) => x.group === group);
    let requests = 0;
    let failed = 0;
    let noTarget = 0;
    for (let k = 0; k < phases; k++) {
      const phase = (k * refresh) / phases;
      // Resolutions at phase + n * refresh; the one in force at `from` is the last at or before it.
      const first = phase + Math.floor((opts.from - phase) / refresh) * refresh;
      const resolutions: number[] = [];
      for (let r = first; r < opts.to; r += refresh) resolutions.push(r);
      const cuts = new Set<number>([opts.from, opts.to, ...resolutions.filter((r) => r > opts.from)]);
      for (const x of spans) {
        const p = podByIp.get(x.ip);
        for (const at of [p?.readyAt ?? -Infinity, p?.stopServingAt ?? -Infinity]) if (at > opts.from && at < opts.to) cuts.add(at);
      }
      const times = [...cuts].sort((a, b) => a - b);
      let ri = 0;
      for (let i = 0; i + 1 < times.length; i++) {
        const a = times[i] as number;
        const b = times[i + 1] as number;
        while (ri + 1 < resolutions.length && (resolutions[ri + 1] as number) <= a) ri++;
        const resolvedAt = resolutions[ri] as number;
        const n = (opts.requestsPerSecond * (b - a)) / S / phases;
        requests += n;
        const resolved = [...new Set(spans.filter((x) => x.from <= resolvedAt && resolvedAt < x.to).map((x) => x.ip))];
        const usable = resolved.filter((ip) => {
          const p = podByIp.get(ip);
          if (!p) return true;
          const closed = p.stopServingAt < (opts.nodeGoneAt.get(p.node) ?? Infinity);
          return !(closed && a >= p.stopServingAt);
        });
        if (usable.length === 0) {
          failed += n;
          noTarget += n;
          continue;
        }
        for (const ip of usable) {
          const p = podByIp.get(ip);
          const serving = p !== undefined && p.readyAt <= a && a < p.stopServingAt;
          if (!serving) failed += n / usable.length;
          if (p) lastRoutedTo.set(p.node, Math.max(lastRoutedTo.get(p.node) ?? -Infinity, b));
        }
      }
    }
    groups.push({ group, requests, failed, noTarget });
  }
  return { groups, lastRoutedTo };
}
