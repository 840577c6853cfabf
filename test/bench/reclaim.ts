/**
 * Reclaim bench (issue 23): requests lost when spot nodes are reclaimed, with the controllers alone and with
 * quiesce deployed, side by side in one run.
 *
 * For each drainer (managed node group or NTH, Karpenter, kubelet graceful node shutdown alone), for one
 * warned node and for a wave of three, and for each preStop sleep of the sweep, one run of the real system on
 * the fake AWS (reclaim/world.ts): the stand-in Load Balancer Controller and App Mesh controller alone, or
 * with quiesce's real spot-interruption handler (node-signal queue) and pod-events handler (fed by the real
 * forwarder). The wave also runs with the re-registration guard at GUARD_INTERVAL_SECONDS=5 (the product
 * default is 15), to weigh what a shorter interval saves in failed requests against its ELB Describe calls.
 * Each run's history is routed by the model (reclaim/model.ts) for every data path of the sweep: ALB lag
 * 5 / 10 / 15 / 30 s, NLB 120 s, and a gRPC client resolving Cloud Map every 5 or 30 s (reclaim/job.ts).
 *
 *   npm run bench -- reclaim                      # default sweep
 *   RECLAIM_SWEEP=full npm run bench -- reclaim   # finer preStop and ALB lag sweep
 *   RECLAIM_JOBS=1 npm run bench -- reclaim       # every run in this process (default: 3 worker processes)
 *   RECLAIM_ONLY=gns npm run bench -- reclaim     # some drainers only
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './table.ts';
import { DEFAULTS, PARAMETER_SOURCES, S, type Drainer } from './reclaim/model.ts';
import { dataPaths, GRPC_REFRESH, runJob, type DataPath, type JobResult, type Part, type ReclaimJob, type Scope } from './reclaim/job.ts';
import { RUN_TO, type System } from './reclaim/world.ts';
import type { WorkerMessage } from './reclaim/worker.ts';

const DRAINERS: readonly [Drainer, string][] = [
  ['mng', 'managed node group / NTH drain'],
  ['karpenter', 'Karpenter drain'],
  ['gns', 'graceful node shutdown alone'],
];
const SCOPES: readonly [Scope, string][] = [
  ['one', '1 node'],
  ['wave', 'wave of 3'],
];
/** The shorter re-registration guard interval measured next to the default (GUARD_INTERVAL_SECONDS). */
const SHORT_GUARD = 5;

/** A system as the tables show it: who takes endpoints out, and where it runs. */
interface SystemSpec {
  readonly id: string;
  readonly system: System;
  readonly guardIntervalSeconds?: number;
  /** Runs only for these (the short guard: the PDB-paced drains of a wave, where the LBC re-registers pods). */
  readonly only?: { readonly scopes: readonly Scope[]; readonly drainers: readonly Drainer[] };
  readonly label: (path: DataPath) => string;
}
const controller = (path: DataPath): string => (path.kind === 'lb' ? 'LBC' : 'App Mesh ctrl');
const SYSTEMS: readonly SystemSpec[] = [
  { id: 'alone', system: 'lbc', label: (p) => `${controller(p)} alone` },
  { id: 'quiesce', system: 'quiesce', label: (p) => `${controller(p)} + quiesce` },
  { id: 'guard5', system: 'quiesce', guardIntervalSeconds: SHORT_GUARD, only: { scopes: ['wave'], drainers: ['mng', 'karpenter'] }, label: (p) => `${controller(p)} + quiesce, guard ${SHORT_GUARD} s` },
];
const runsFor = (s: SystemSpec, d: Drainer, scope: Scope): boolean => !s.only || (s.only.scopes.includes(scope) && s.only.drainers.includes(d));

const FULL = process.env['RECLAIM_SWEEP'] === 'full';
const PRESTOPS = FULL ? [0, 5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120] : [0, 5, 10, 15, 20, 30, 45, 60, 90];
/** The reference preStop of the main table: the EKS best-practices example. */
const REF_PRESTOP = 10;
const REF_ALB = 'ALB, lag 10 s';
const REF_GRPC = `Cloud Map + gRPC, refresh ${DEFAULTS.grpc.refreshMs / S} s`;
const NLB = 'NLB, lag 120 s';

/** Runs the jobs in `workers` child processes (in this one when 1), longest first; results in any order. */
async function runAll(jobs: readonly ReclaimJob[], workers: number): Promise<JobResult[]> {
  if (workers <= 1) {
    const out: JobResult[] = [];
    for (const job of jobs) out.push(await runJob(job, FULL));
    return out;
  }
  const queue = [...jobs];
  const results: JobResult[] = [];
  const file = fileURLToPath(new URL('./reclaim/worker.ts', import.meta.url));
  await Promise.all(
    Array.from({ length: Math.min(workers, jobs.length) }, () =>
      new Promise<void>((resolve, reject) => {
        const child = fork(file, [], { execArgv: process.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const next = (): void => {
          const job = queue.shift();
          const msg: WorkerMessage = job ? { job, full: FULL } : { stop: true };
          child.send(msg);
        };
        child.on('message', (m: { ready?: true; result?: JobResult; error?: string }) => {
          if (m.error !== undefined) {
            child.kill();
            reject(new Error(`reclaim worker: ${m.error}`));
            return;
          }
          if (m.result) results.push(m.result);
          next();
        });
        child.on('exit', (code) => (code === 0 || code === null ? resolve() : reject(new Error(`reclaim worker exited with ${code}`))));
        child.on('error', reject);
      }),
    ),
  );
  return results;
}

/** The bench's sections. */
export async function run(): Promise<BenchSection[]> {
  process.env['LOG_LEVEL'] ??= 'SILENT';
  const only = process.env['RECLAIM_ONLY']?.split(',');
  const workers = Math.max(1, Number(process.env['RECLAIM_JOBS'] ?? 3) || 1);
  const started = performance.now();
  const jobs: ReclaimJob[] = [];
  for (const [drainer] of DRAINERS) {
    if (only && !only.includes(drainer)) continue;
    for (const [scope] of SCOPES) {
      for (const s of SYSTEMS) {
        if (!runsFor(s, drainer, scope)) continue;
        for (const preStop of PRESTOPS) jobs.push({ drainer, scope, system: s.system, ...(s.guardIntervalSeconds !== undefined ? { guardIntervalSeconds: s.guardIntervalSeconds } : {}), preStop });
      }
    }
  }
  // The quiesce runs take the longest: first, so the workers finish together.
  jobs.sort((a, b) => Number(b.system === 'quiesce') - Number(a.system === 'quiesce') || (b.guardIntervalSeconds ?? 0) - (a.guardIntervalSeconds ?? 0));
  const results = await runAll(jobs, workers);
  const seconds = (performance.now() - started) / 1000;

  const sysOf = (j: ReclaimJob): string => SYSTEMS.find((s) => s.system === j.system && s.guardIntervalSeconds === j.guardIntervalSeconds)?.id ?? '?';
  const byKey = new Map(results.map((r) => [`${r.job.drainer}|${r.job.scope}|${sysOf(r.job)}|${r.job.preStop}`, r]));
  const result = (d: string, s: string, sys: string, pre: number): JobResult | undefined => byKey.get(`${d}|${s}|${sys}|${pre}`);
  const get = (d: string, s: string, sys: string, path: string, pre: number) => result(d, s, sys, pre)?.cells[path];
  const failedText = (c: Part | undefined): string => (c === undefined ? '-' : `${Math.round(c.failed)} (${((c.failed / c.requests) * 100).toFixed(2)}%)${c.noTarget >= 0.5 ? `, ${Math.round(c.noTarget)} with no target` : ''}`);
  const lastText = (c: Part | undefined): string => (c === undefined || !Number.isFinite(c.lastRouted) ? '-' : `+${(c.lastRouted / S).toFixed(1)} s`);
  const shortest = (d: string, s: string, sys: string, path: string): string => {
    const ok = PRESTOPS.find((p) => Math.round(get(d, s, sys, path, p)?.shared.failed ?? Infinity) === 0);
    return ok === undefined ? `none up to ${PRESTOPS[PRESTOPS.length - 1]} s` : `${ok} s`;
  };
  const paths = dataPaths(FULL);
  const pathOf = (name: string): DataPath => paths.find((p) => p.name === name) as DataPath;

  const headline: (string | number)[][] = [];
  const full: (string | number)[][] = [];
  const byPreStop: (string | number)[][] = [];
  const guard: (string | number)[][] = [];
  for (const [drainer, drainerName] of DRAINERS) {
    if (only && !only.includes(drainer)) continue;
    for (const [scope, scopeName] of SCOPES) {
      headline.push([
        drainerName,
        scopeName,
        failedText(get(drainer, scope, 'alone', REF_ALB, REF_PRESTOP)?.shared),
        failedText(get(drainer, scope, 'quiesce', REF_ALB, REF_PRESTOP)?.shared),
        shortest(drainer, scope, 'alone', REF_ALB),
        shortest(drainer, scope, 'quiesce', REF_ALB),
        `${failedText(get(drainer, scope, 'alone', REF_GRPC, REF_PRESTOP)?.shared)} / ${failedText(get(drainer, scope, 'quiesce', REF_GRPC, REF_PRESTOP)?.shared)}`,
        `${failedText(get(drainer, scope, 'alone', REF_ALB, REF_PRESTOP)?.solo)} / ${failedText(get(drainer, scope, 'quiesce', REF_ALB, REF_PRESTOP)?.solo)}`,
      ]);
      for (const path of paths) {
        for (const s of SYSTEMS) {
          if (!runsFor(s, drainer, scope)) continue;
          const c = get(drainer, scope, s.id, path.name, REF_PRESTOP);
          full.push([path.name, drainerName, scopeName, s.label(path), failedText(c?.shared), lastText(c?.shared), shortest(drainer, scope, s.id, path.name), failedText(c?.solo), lastText(c?.solo)]);
        }
      }
      for (const name of [REF_ALB, NLB, ...GRPC_REFRESH.map((r) => `Cloud Map + gRPC, refresh ${r} s`)]) {
        for (const s of SYSTEMS) {
          if (!runsFor(s, drainer, scope)) continue;
          byPreStop.push([name, drainerName, scopeName, s.label(pathOf(name)), ...PRESTOPS.map((p) => Math.round(get(drainer, scope, s.id, name, p)?.shared.failed ?? NaN))]);
        }
      }
      // The re-registration guard at its default and at the short interval: what it saves, what it costs.
      const g = SYSTEMS.find((s) => s.id === 'guard5') as SystemSpec;
      if (!runsFor(g, drainer, scope)) continue;
      for (const sys of ['quiesce', 'guard5']) {
        const rs = PRESTOPS.map((p) => result(drainer, scope, sys, p)).filter((r): r is JobResult => r !== undefined);
        const nodes = scope === 'wave' ? 3 : 1;
        const mean = (f: (r: JobResult) => number, per = 1): string => (rs.reduce((n, r) => n + f(r), 0) / rs.length / per).toFixed(1);
        const sum = (path: string): number => Math.round(rs.reduce((n, r) => n + (r.cells[path]?.shared.failed ?? 0), 0));
        guard.push([
          drainerName,
          scopeName,
          sys === 'quiesce' ? '15 s (default)' : `${SHORT_GUARD} s`,
          failedText(get(drainer, scope, sys, REF_ALB, REF_PRESTOP)?.shared),
          sum(REF_ALB),
          sum('ALB, lag 15 s'),
          sum(NLB),
          mean((r) => r.reRegistrations),
          mean((r) => r.reRegisteredHealthy),
          mean((r) => r.spotInvocations),
          `${mean((r) => r.elbDescribes.spot, nodes)} / ${mean((r) => r.elbDescribes.podEvents, nodes)}`,
          mean((r) => r.quiesceDeregistrations, nodes),
        ]);
      }
    }
  }
  const quiesceRuns = results.filter((r) => r.job.system === 'quiesce');
  const lastQuiesce = quiesceRuns.map((r) => r.lastQuiesceDeregistration).filter((x): x is number => x !== undefined);
  const total = (f: (r: JobResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  const timeouts = total((r) => r.forwarderTimeouts);
  const duplicates = total((r) => r.quiesceDuplicateRequests);
  const dupRuns = results.filter((r) => r.quiesceDuplicateRequests > 0).map((r) => `${r.job.drainer} ${r.job.scope} ${sysOf(r.job)} preStop ${r.job.preStop} s`);
  const requestsNote = `Requests: ${DEFAULTS.requestsPerSecond}/s per Service. "failed" counts web and api, which keep pods on other nodes (web 6 replicas with 3 on the node, api 4 with 1; the wave: web 9 with 2 on each node, api 6 with 1 on each); "solo" has 2 replicas, all on the reclaimed node(s). The fraction is of the Services' requests in the 3 minutes from 60 s before the warning (${(2 * DEFAULTS.requestsPerSecond * 180).toLocaleString('en-US')} for web + api); failures are counted until ${RUN_TO / S} s after it. "with no target": of those, 503s (gRPC: UNAVAILABLE) because nothing was in rotation at all.`;
  const runNote = `${results.length} runs of the real system (${total((r) => r.spotInvocations)} spot-interruption and ${total((r) => r.podEventInvocations)} pod-events invocations; quiesce's DeregisterTargets ${total((r) => r.quiesceDeregistrations)}, its DeregisterInstance ${total((r) => r.quiesceInstanceDeregistrations)}), each routed for ${paths.length} data paths; ${seconds.toFixed(0)} s on this machine with ${Math.min(workers, Math.max(1, results.length))} worker process(es).${lastQuiesce.length > 0 ? ` quiesce's last DeregisterTargets of a run came ${(Math.min(...lastQuiesce) / S).toFixed(1)}-${(Math.max(...lastQuiesce) / S).toFixed(1)} s after the warning (its re-checks included).` : ''} Forwarder waits that ran out: ${timeouts}${timeouts > 0 ? ' (those runs may differ from run to run)' : ''}; DuplicateRequest answers to quiesce's DeregisterInstance (its executor then waits, moving that run's clock within one invocation): ${duplicates}${dupRuns.length > 0 ? ` (${dupRuns.join('; ')})` : ''}.`;
  return [
    {
      title: `Reclaim: failed requests with the controllers alone and with quiesce (ALB lag 10 s; Cloud Map + gRPC re-resolving every ${DEFAULTS.grpc.refreshMs / S} s; preStop ${REF_PRESTOP} s)`,
      columns: ['drainer', 'reclaim', 'ALB: failed, LBC alone', 'ALB: failed, LBC + quiesce', 'ALB: shortest preStop with 0 failed, LBC alone', 'with quiesce', `Cloud Map + gRPC (${DEFAULTS.grpc.refreshMs / S} s): failed, App Mesh ctrl alone / + quiesce`, 'ALB, solo (all pods on the node): LBC alone / + quiesce'],
      rows: headline,
      notes: [requestsNote, runNote, 'The model and each parameter\'s source: docs/benchmarks.md (reclaim section).'],
    },
    {
      title: `Reclaim, full: per data path, drainer and reclaim (preStop ${REF_PRESTOP} s; shortest preStop over ${PRESTOPS.join(', ')} s)`,
      columns: ['data path', 'drainer', 'reclaim', 'system', 'failed (web + api)', 'last new request to the node(s)', 'shortest preStop with 0 failed', 'failed (solo)', 'last new request to solo on the node(s)'],
      rows: full,
      notes: [
        '"last new request": the last moment a target (gRPC: an address) of a reclaimed node was sent a new request, from the warning (the node is gone at +120 s; under graceful node shutdown when its pods exited). For gRPC, the latest over the client\'s resolution phases.',
        `"guard ${SHORT_GUARD} s": the same quiesce with GUARD_INTERVAL_SECONDS=${SHORT_GUARD} (default 15), for the PDB-paced drains of a wave.`,
      ],
    },
    {
      title: 'Reclaim: failed requests (web + api) by preStop sleep',
      columns: ['data path', 'drainer', 'reclaim', 'system', ...PRESTOPS.map((p) => `preStop ${p} s`)],
      rows: byPreStop,
    },
    {
      title: `Reclaim: the re-registration guard at GUARD_INTERVAL_SECONDS 15 (default) and ${SHORT_GUARD}, PDB-paced drains of a wave`,
      columns: [
        'drainer',
        'reclaim',
        'guard interval',
        `failed (web + api), ALB lag 10 s, preStop ${REF_PRESTOP} s`,
        'failed, ALB lag 10 s, summed over the preStop sweep',
        'same, ALB lag 15 s',
        'same, NLB',
        'LBC re-registrations of the nodes\' pods per run',
        'of which passed a health check first',
        'spot invocations per run',
        'ELB Describe calls per node per run: spot / pod-events',
        'DeregisterTargets by quiesce per node per run',
      ],
      rows: guard,
      notes: [
        `Per-run figures are means over the ${PRESTOPS.length} preStop runs. "re-registrations": a reclaimed node's pod registered again (by the LBC, after quiesce took it out); "passed a health check first": in rotation again before quiesce (or the LBC) drained it.`,
        'ELB Describe calls: DescribeTargetHealth, DescribeTargetGroups and DescribeTags made by quiesce\'s invocations (the account\'s Describe bucket: 40, refilled at 10/s, shared with the LBC). The stand-in LBC reads the fake directly, so every counted call is quiesce\'s.',
        ...PARAMETER_SOURCES.map(([what, value]) => `${what}: ${value}`),
      ],
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const { renderSection } = await import('./table.ts');
  for (const s of await run()) console.log(`${renderSection(s)}\n`);
}
