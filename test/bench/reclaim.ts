/**
 * Reclaim bench (issue 23): requests lost when spot nodes are reclaimed, with the Load Balancer Controller
 * alone and with quiesce deployed, side by side in one run.
 *
 * For each drainer (managed node group or NTH, Karpenter, kubelet graceful node shutdown alone), for one
 * warned node and for a wave of three, and for each preStop sleep of the sweep, one run of the real system on
 * the fake AWS (reclaim/world.ts): the stand-in LBC alone, or the LBC plus quiesce's real spot-interruption
 * handler (node-signal queue) and pod-events handler (fed by the real forwarder). The fake's target history
 * of each run is then routed by the model's load balancer (reclaim/model.ts) for every load-balancer setting
 * of the sweep (ALB lag 5 / 10 / 15 / 30 s, NLB 120 s): routing does not act back on the control plane, so
 * one run serves every lag.
 *
 *   npm run bench -- reclaim                 # default sweep
 *   RECLAIM_SWEEP=full npm run bench -- reclaim   # finer preStop sweep
 */
import type { BenchSection } from './table.ts';
import { countRequests, DEFAULTS, PARAMETER_SOURCES, planCluster, S, topology, type Drainer, type LoadBalancerModel } from './reclaim/model.ts';
import { runReclaim, RUN_TO, type System } from './reclaim/world.ts';

const DRAINERS: readonly [Drainer, string][] = [
  ['mng', 'managed node group / NTH drain'],
  ['karpenter', 'Karpenter drain'],
  ['gns', 'graceful node shutdown alone'],
];
const SCOPES = [
  ['one', '1 node'],
  ['wave', 'wave of 3'],
] as const;
const SYSTEMS: readonly [System, string][] = [
  ['lbc', 'LBC alone'],
  ['quiesce', 'LBC + quiesce'],
];
const FULL = process.env['RECLAIM_SWEEP'] === 'full';
const ALB_LAGS = FULL ? [5, 10, 15, 20, 30, 45, 60] : [5, 10, 15, 30];
const PRESTOPS = FULL ? [0, 5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120] : [0, 5, 10, 15, 20, 30, 45, 60, 90];
/** The reference preStop of the main table: the EKS best-practices example. */
const REF_PRESTOP = 10;
/** The window the fraction is taken of: the 3 minutes from 60 s before the warning. */
const WINDOW = { from: -60 * S, to: 120 * S };

const lbs = (): [string, LoadBalancerModel][] => [
  ...ALB_LAGS.map((lag): [string, LoadBalancerModel] => [`ALB, lag ${lag} s`, { ...DEFAULTS.alb, lagMs: lag * S }]),
  ['NLB, lag 120 s', DEFAULTS.nlb],
];

/** One Service class's outcome in one run and load-balancer setting. */
interface Part {
  failed: number;
  noTarget: number;
  requests: number;
  lastRouted: number;
}

/** `shared`: the Services that keep pods on other nodes (web, api); `solo`: every pod on the reclaimed node(s). */
interface Cell {
  shared: Part;
  solo: Part;
}

/** The bench's sections. */
export async function run(): Promise<BenchSection[]> {
  process.env['LOG_LEVEL'] ??= 'SILENT';
  const only = process.env['RECLAIM_ONLY']?.split(',');
  const started = performance.now();
  const cells = new Map<string, Cell>();
  const key = (d: string, s: string, sys: string, lb: string, pre: number): string => `${d}|${s}|${sys}|${lb}|${pre}`;
  let runs = 0;
  const handlerCalls = { spot: 0, podEvents: 0, quiesceDeregistrations: 0 };
  const lastQuiesce: number[] = [];
  for (const [drainer] of DRAINERS) {
    if (only && !only.includes(drainer)) continue;
    for (const [scope] of SCOPES) {
      const topo = topology(scope);
      const groups = topo.deployments.map((d) => d.name);
      for (const [system] of SYSTEMS) {
        for (const preStop of PRESTOPS) {
          const timeline = planCluster(topo, drainer, { preStopMs: preStop * S, shutdownMs: DEFAULTS.pod.shutdownMs });
          const rec = await runReclaim(topo, timeline, system);
          runs++;
          handlerCalls.spot += rec.spotInvocations;
          handlerCalls.podEvents += rec.podEventInvocations;
          handlerCalls.quiesceDeregistrations += rec.quiesceDeregistrations;
          if (rec.lastQuiesceDeregistration !== undefined && rec.spotInvocations > 0) lastQuiesce.push(rec.lastQuiesceDeregistration);
          for (const [lbName, lb] of lbs()) {
            const part = (names: string[]): Part => {
              const out = countRequests({ registrations: rec.registrations, pods: timeline.pods, groups: names, lb, requestsPerSecond: DEFAULTS.requestsPerSecond, from: WINDOW.from, to: RUN_TO });
              return {
                failed: out.groups.reduce((n, g) => n + g.failed, 0),
                noTarget: out.groups.reduce((n, g) => n + g.noTarget, 0),
                requests: (names.length * DEFAULTS.requestsPerSecond * (WINDOW.to - WINDOW.from)) / S,
                lastRouted: Math.max(...topo.spotNodes.map((n) => out.lastRoutedTo.get(n) ?? -Infinity)),
              };
            };
            cells.set(key(drainer, scope, system, lbName, preStop), { shared: part(groups.filter((g) => g !== 'solo')), solo: part(['solo']) });
          }
        }
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const get = (d: string, s: string, sys: string, lb: string, pre: number): Cell | undefined => cells.get(key(d, s, sys, lb, pre));
  const failedText = (c: Part | undefined): string => (c === undefined ? '-' : `${Math.round(c.failed)} (${((c.failed / c.requests) * 100).toFixed(2)}%)${c.noTarget >= 0.5 ? `, ${Math.round(c.noTarget)} with no target` : ''}`);
  const lastText = (c: Part | undefined): string => (c === undefined || !Number.isFinite(c.lastRouted) ? '-' : `+${(c.lastRouted / S).toFixed(1)} s`);
  const shortest = (d: string, s: string, sys: string, lb: string): string => {
    const ok = PRESTOPS.find((p) => Math.round(get(d, s, sys, lb, p)?.shared.failed ?? Infinity) === 0);
    return ok === undefined ? `none up to ${PRESTOPS[PRESTOPS.length - 1]} s` : `${ok} s`;
  };

  const headline: (string | number)[][] = [];
  const full: (string | number)[][] = [];
  const byPreStop: (string | number)[][] = [];
  for (const [drainer, drainerName] of DRAINERS) {
    if (only && !only.includes(drainer)) continue;
    for (const [scope, scopeName] of SCOPES) {
      const ref = 'ALB, lag 10 s';
      headline.push([
        drainerName,
        scopeName,
        failedText(get(drainer, scope, 'lbc', ref, REF_PRESTOP)?.shared),
        failedText(get(drainer, scope, 'quiesce', ref, REF_PRESTOP)?.shared),
        shortest(drainer, scope, 'lbc', ref),
        shortest(drainer, scope, 'quiesce', ref),
        `${failedText(get(drainer, scope, 'lbc', ref, REF_PRESTOP)?.solo)} / ${failedText(get(drainer, scope, 'quiesce', ref, REF_PRESTOP)?.solo)}`,
      ]);
      for (const [lbName] of lbs()) {
        for (const [system, systemName] of SYSTEMS) {
          const c = get(drainer, scope, system, lbName, REF_PRESTOP);
          full.push([lbName, drainerName, scopeName, systemName, failedText(c?.shared), lastText(c?.shared), shortest(drainer, scope, system, lbName), failedText(c?.solo), lastText(c?.solo)]);
        }
      }
      for (const lbName of ['ALB, lag 10 s', 'NLB, lag 120 s']) {
        for (const [system, systemName] of SYSTEMS) {
          byPreStop.push([lbName, drainerName, scopeName, systemName, ...PRESTOPS.map((p) => Math.round(get(drainer, scope, system, lbName, p)?.shared.failed ?? NaN))]);
        }
      }
    }
  }
  const requestsNote = `Requests: ${DEFAULTS.requestsPerSecond}/s per Service. "failed" counts web and api, which keep pods on other nodes (web 6 replicas with 3 on the node, api 4 with 1; the wave: web 9 with 2 on each node, api 6 with 1 on each); "solo" has 2 replicas, all on the reclaimed node(s). The fraction is of the Services' requests in the 3 minutes from 60 s before the warning (${(2 * DEFAULTS.requestsPerSecond * 180).toLocaleString('en-US')} for web + api); failures are counted until ${RUN_TO / S} s after it. "with no target": of those, 503s because the group had no target in rotation at all.`;
  const runNote = `${runs} runs of the real system (${handlerCalls.spot} spot-interruption and ${handlerCalls.podEvents} pod-events invocations, ${handlerCalls.quiesceDeregistrations} DeregisterTargets by quiesce), each routed for ${lbs().length} load-balancer settings; ${seconds.toFixed(0)} s on this machine.${lastQuiesce.length > 0 ? ` quiesce's last DeregisterTargets of a run came ${(Math.min(...lastQuiesce) / S).toFixed(1)}-${(Math.max(...lastQuiesce) / S).toFixed(1)} s after the warning (its re-checks included).` : ''}`;
  return [
    {
      title: `Reclaim: failed requests with the Load Balancer Controller alone and with quiesce (ALB, lag 10 s, preStop ${REF_PRESTOP} s)`,
      columns: ['drainer', 'reclaim', 'failed, LBC alone', 'failed, LBC + quiesce', 'shortest preStop with 0 failed, LBC alone', 'with quiesce', 'solo (all pods on the node): LBC alone / + quiesce'],
      rows: headline,
      notes: [requestsNote, runNote, 'The model and each parameter\'s source: docs/benchmarks.md (reclaim section).'],
    },
    {
      title: `Reclaim, full: per load balancer, drainer and reclaim (preStop ${REF_PRESTOP} s; shortest preStop over ${PRESTOPS.join(', ')} s)`,
      columns: ['load balancer', 'drainer', 'reclaim', 'system', 'failed (web + api)', 'last new request to the node(s)', 'shortest preStop with 0 failed', 'failed (solo)', 'last new request to solo on the node(s)'],
      rows: full,
      notes: ['"last new request": the last moment a target of a reclaimed node was sent a new request, from the warning (the node is gone at +120 s; under graceful node shutdown when its pods exited).'],
    },
    {
      title: 'Reclaim: failed requests (web + api) by preStop sleep',
      columns: ['load balancer', 'drainer', 'reclaim', 'system', ...PRESTOPS.map((p) => `preStop ${p} s`)],
      rows: byPreStop,
      notes: PARAMETER_SOURCES.map(([what, value]) => `${what}: ${value}`),
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const { renderSection } = await import('./table.ts');
  for (const s of await run()) console.log(`${renderSection(s)}\n`);
}
