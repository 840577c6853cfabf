/**
 * One job of the reclaim bench: one run of the real system (world.ts) for a drainer, a reclaim, a system and
 * a preStop sleep, routed by the model (model.ts) for every data-path setting of the sweep (ALB lags, NLB,
 * Cloud Map + gRPC refresh intervals). Routing does not act back on the control plane, so one run serves
 * every setting. A job's result is plain data, so jobs can run in worker processes (worker.ts) and the
 * tables are the same whichever process ran them.
 */
import { countDiscoveryRequests, countRequests, DEFAULTS, entersRotation, planCluster, S, topology, type DiscoveryClientModel, type Drainer, type LoadBalancerModel, type RoutingOutcome } from './model.ts';
import { runReclaim, RUN_TO, type System } from './world.ts';

/** A reclaim's scope: one warned node, or a wave of three. */
export type Scope = 'one' | 'wave';

/** What one job runs. */
export interface ReclaimJob {
  readonly drainer: Drainer;
  readonly scope: Scope;
  readonly system: System;
  /** quiesce's GUARD_INTERVAL_SECONDS (undefined: the product default, or the LBC alone). */
  readonly guardIntervalSeconds?: number;
  /** The pods' preStop sleep, seconds. */
  readonly preStop: number;
}

/** A data path the requests take: a load balancer in front of target groups, or a gRPC client resolving Cloud Map. */
export type DataPath = { readonly name: string; readonly kind: 'lb'; readonly lb: LoadBalancerModel } | { readonly name: string; readonly kind: 'grpc'; readonly client: DiscoveryClientModel };

/** The ALB lags of the sweep (seconds). */
export const albLags = (full: boolean): number[] => (full ? [5, 10, 15, 20, 30, 45, 60] : [5, 10, 15, 30]);
/** The gRPC clients' re-resolution intervals of the sweep (seconds). */
export const GRPC_REFRESH = [5, 30] as const;

/** The data paths every run is routed for. */
export function dataPaths(full: boolean): DataPath[] {
  return [
    ...albLags(full).map((lag): DataPath => ({ name: `ALB, lag ${lag} s`, kind: 'lb', lb: { ...DEFAULTS.alb, lagMs: lag * S } })),
    { name: 'NLB, lag 120 s', kind: 'lb', lb: DEFAULTS.nlb },
    ...GRPC_REFRESH.map((r): DataPath => ({ name: `Cloud Map + gRPC, refresh ${r} s`, kind: 'grpc', client: { refreshMs: r * S } })),
  ];
}

/** One Service class's outcome in one run and data path. */
export interface Part {
  readonly failed: number;
  readonly noTarget: number;
  readonly requests: number;
  /** The last moment a target (or address) of a reclaimed node was sent a new request (ms from the warning). */
  readonly lastRouted: number;
}

/** `shared`: the Services that keep pods on other nodes (web, api); `solo`: every pod on the reclaimed node(s). */
export interface Cell {
  readonly shared: Part;
  readonly solo: Part;
}

/** What one job measured. */
export interface JobResult {
  readonly job: ReclaimJob;
  /** By data path name. */
  readonly cells: Record<string, Cell>;
  readonly spotInvocations: number;
  readonly podEventInvocations: number;
  readonly quiesceDeregistrations: number;
  readonly quiesceInstanceDeregistrations: number;
  readonly lastQuiesceDeregistration: number | undefined;
  readonly elbDescribes: { readonly spot: number; readonly podEvents: number };
  /** Times the LBC registered a pod of a reclaimed node again after quiesce took it out. */
  readonly reRegistrations: number;
  /** Of those, how many entered rotation again: passed their first health check before being drained, while the pod served. */
  readonly reRegisteredHealthy: number;
  readonly appMeshCalls: { readonly register: number; readonly deregister: number; readonly notFound: number; readonly duplicate: number };
  readonly quiesceDuplicateRequests: number;
  /** Waits for the forwarder that ran out (real time): non-zero means the run may not be reproducible. */
  readonly forwarderTimeouts: number;
  /** Wall time of the run, ms. */
  readonly wallMs: number;
}

/** The window the fraction is taken of: the 3 minutes from 60 s before the warning. */
export const WINDOW = { from: -60 * S, to: 120 * S };

/** Runs one job and routes it for every data path. */
export async function runJob(job: ReclaimJob, full: boolean): Promise<JobResult> {
  const started = performance.now();
  const topo = topology(job.scope);
  const groups = topo.deployments.map((d) => d.name);
  const timeline = planCluster(topo, job.drainer, { preStopMs: job.preStop * S, shutdownMs: DEFAULTS.pod.shutdownMs });
  const rec = await runReclaim(topo, timeline, job.system, job.guardIntervalSeconds !== undefined ? { guardIntervalSeconds: job.guardIntervalSeconds } : {});
  const cells: Record<string, Cell> = {};
  for (const path of dataPaths(full)) {
    const part = (names: string[]): Part => {
      const base = { pods: timeline.pods, groups: names, requestsPerSecond: DEFAULTS.requestsPerSecond, from: WINDOW.from, to: RUN_TO };
      const out: RoutingOutcome =
        path.kind === 'lb' ? countRequests({ ...base, registrations: rec.registrations, lb: path.lb }) : countDiscoveryRequests({ ...base, instances: rec.instances, nodeGoneAt: timeline.nodeGoneAt, client: path.client });
      return {
        failed: out.groups.reduce((n, g) => n + g.failed, 0),
        noTarget: out.groups.reduce((n, g) => n + g.noTarget, 0),
        requests: (names.length * DEFAULTS.requestsPerSecond * (WINDOW.to - WINDOW.from)) / S,
        lastRouted: Math.max(...topo.spotNodes.map((n) => out.lastRoutedTo.get(n) ?? -Infinity)),
      };
    };
    cells[path.name] = { shared: part(groups.filter((g) => g !== 'solo')), solo: part(['solo']) };
  }
  // Re-registrations: a reclaimed node's pod registered again during the run (the LBC, after quiesce took it out).
  const spotIps = new Set(timeline.pods.filter((p) => topo.spotNodes.includes(p.node)).map((p) => p.ip));
  const again = rec.registrations.filter((r) => spotIps.has(r.ip) && r.registeredAt >= 0);
  const stopOf = new Map(timeline.pods.map((p) => [p.ip, p.stopServingAt]));
  return {
    job,
    cells,
    spotInvocations: rec.spotInvocations,
    podEventInvocations: rec.podEventInvocations,
    quiesceDeregistrations: rec.quiesceDeregistrations,
    quiesceInstanceDeregistrations: rec.quiesceInstanceDeregistrations,
    lastQuiesceDeregistration: rec.spotInvocations > 0 ? rec.lastQuiesceDeregistration : undefined,
    elbDescribes: rec.elbDescribes,
    reRegistrations: again.length,
    reRegisteredHealthy: again.filter((r) => entersRotation(r, stopOf.get(r.ip) ?? -Infinity)).length,
    appMeshCalls: rec.appMeshCalls,
    quiesceDuplicateRequests: rec.quiesceDuplicateRequests,
    forwarderTimeouts: rec.forwarderTimeouts,
    wallMs: performance.now() - started,
  };
}
