/**
 * The guards hold for the whole system: a property over random topologies and random interleavings of three
 * or four concurrent writers (two spot batches, a pod-events invocation, the sweeper), each through its real
 * handler and wiring against the fake AWS, with latency and throttling injected. Failed invocations are
 * retried, as SQS and Lambda would.
 *
 * At no moment in the fake's recorded history (every DeregisterTargets / DeregisterInstance) does an owned
 * group or service lose a healthy registration below MIN_HEALTHY_TARGETS, the writers together never take
 * more than MAX_DEREGISTER_FRACTION of a group within the guard window, and at the end nothing that should
 * go is still registered unless a guard had to keep it.
 *
 * The cases run as two halves in two test files (concurrent-writers-{1,2}.property.test.ts), so the two
 * vitest workers share them: QUIESCE_PROPERTY_RUNS in all (default 100, 500 in the deep run: see
 * case-counts.ts), each half with its own random seed; PROPERTY_SEED reproduces a run (half n uses seed + n).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, type AwsClients } from '#core/adapters/aws/index.ts';
import { loadConfig } from '#core/config.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { loadPodEventsConfig } from '../../functions/pod-events/config.ts';
import { makeHandler as makePodHandler } from '../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../functions/pod-events/wiring.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { propertyRuns } from './case-counts.ts';
import { lambdaContext, startFakeKube, type StartedKube } from './harness.ts';

const SEED = process.env['PROPERTY_SEED'] === undefined ? undefined : Number(process.env['PROPERTY_SEED']);

const VPC = 'vpc-0c0c0c0c0c0c0c0c0';
const OLD = '2026-11-21T10:00:00Z';
const NODE = { spotA: 'i-0c00000000000000a', spotB: 'i-0c00000000000000b', pod: 'i-0c00000000000000c', live: 'i-0c00000000000000d' } as const;
const SUBNET = { spotA: 1, spotB: 2, pod: 3, live: 4 } as const;
const VICTIM = { name: 'victim', uid: '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c', ip: '10.0.3.11' };
type Where = 'spotA' | 'spotB' | 'pod' | 'live' | 'dead';

/**
 * What a test file of the property holds: its fake Kubernetes API, the SDK clients and the writers it built.
 * Per file, never module state: the suite runs without per-file isolation, so a module (and anything it
 * started at load) is shared by every file of a worker that imports it.
 */
interface Env {
  readonly started: StartedKube;
  readonly clients: () => AwsClients;
  readonly cache: Map<string, ReturnType<typeof writers>>;
}

interface World {
  readonly groups: readonly { readonly targets: readonly { readonly where: Where; readonly healthy: boolean }[] }[];
  readonly instances: readonly Where[];
  readonly minHealthy: number;
  readonly fraction: number;
}

interface Schedule {
  /** Real-time start offsets (ms) of spot A, spot B, pod-events, sweeper. */
  readonly starts: readonly [number, number, number, number];
  readonly latencyMs: number;
  readonly throttle: number;
  /** Half the cases run all four writers, the others three (the spot batches and one of the other two). */
  readonly writers: 'all' | 'no-pod-events' | 'no-sweeper';
}

const where = fc.constantFrom<Where>('spotA', 'spotB', 'pod', 'live', 'live', 'dead');
const worldArb: fc.Arbitrary<World> = fc.record({
  groups: fc.array(fc.record({ targets: fc.array(fc.record({ where, healthy: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }), { minLength: 1, maxLength: 5 }) }), { minLength: 1, maxLength: 2 }),
  instances: fc.array(where, { maxLength: 3 }),
  minHealthy: fc.constantFrom(1, 1, 2),
  fraction: fc.constantFrom(0.5, 0.34, 1),
});
const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  starts: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
  latencyMs: fc.constantFrom(0, 0, 0, 1, 2),
  throttle: fc.constantFrom(0, 0, 0.1, 0.2),
  writers: fc.constantFrom<Schedule['writers']>('all', 'all', 'no-pod-events', 'no-sweeper'),
});

/** What a seeded world is, for the assertions: per group / service, which registrations should go. */
interface Seeded {
  readonly groups: { arn: string; initial: number; shouldGo: Map<string, Where> }[];
  readonly service: { id: string; initial: number; shouldGo: Map<string, Where> } | undefined;
}

function seed(world: World, { started }: Env): Seeded {
  const kube = started.kube;
  const { ec2, elbv2, cloudMap, eks, dynamodb, events, sqs } = fakeAws;
  kube.reset();
  eks.seedCluster({ name: 'prod', ...started.address(), vpcId: VPC });
  dynamodb.seedTable('quiesce-state');
  events.handle('CreateEventBus', { Name: 'quiesce-audit' });
  sqs.seedQueue('quiesce-recheck');
  const nextIp: Record<Where, number> = { spotA: 20, spotB: 20, pod: 20, live: 20, dead: 20 };
  const ipsOn: Record<Exclude<Where, 'dead'>, string[]> = { spotA: [], spotB: [], pod: [VICTIM.ip], live: [] };
  const ipFor = (w: Where): string => {
    if (w === 'pod') return VICTIM.ip;
    const ip = w === 'dead' ? `10.0.99.${nextIp.dead++}` : `10.0.${SUBNET[w]}.${nextIp[w]++}`;
    if (w !== 'dead') ipsOn[w].push(ip);
    return ip;
  };
  const groups = world.groups.map((g, i) => {
    const seen = new Set<string>();
    const targets: { id: string; state: 'healthy' | 'unhealthy'; where: Where }[] = [];
    for (const t of g.targets) {
      const id = ipFor(t.where);
      if (seen.has(id)) continue;
      seen.add(id);
      targets.push({ id, state: t.healthy ? 'healthy' : 'unhealthy', where: t.where });
    }
    const arn = elbv2.seedTargetGroup({ name: `k8s-shop-g${i}`, vpcId: VPC, port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' }, deregistrationDelaySeconds: 300, targets });
    return { arn, initial: targets.length, shouldGo: new Map(targets.filter((t) => t.where !== 'live').map((t) => [`${t.id}:8080`, t.where])) };
  });
  let service: Seeded['service'];
  if (world.instances.length > 0) {
    const ns = cloudMap.seedNamespace('mesh.local');
    const id = cloudMap.seedService(ns, 'svc');
    const shouldGo = new Map<string, Where>();
    for (const w of new Set(world.instances)) {
      const ip = ipFor(w);
      cloudMap.seedInstance(id, ip, { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', 'k8s.io/pod': w === 'pod' ? VICTIM.name : `p-${ip}`, 'k8s.io/namespace': 'shop', ver: 'v1-30' });
      if (w !== 'live') shouldGo.set(ip, w);
    }
    service = { id, initial: cloudMap.instancesOf(id).length, shouldGo };
  }
  const tags = { 'kubernetes.io/cluster/prod': 'owned', 'eks:cluster-name': 'prod' };
  for (const w of ['spotA', 'spotB', 'pod', 'live'] as const) {
    const primary = `10.0.${SUBNET[w]}.10`;
    ec2.seedInstance({ instanceId: NODE[w], vpcId: VPC, tags, launchTime: new Date(OLD), enis: [{ privateIps: [primary, ...ipsOn[w].filter((ip, i, a) => a.indexOf(ip) === i)] }] });
    for (const ip of ipsOn[w]) {
      if (ip === VICTIM.ip) continue;
      if (!kube.getPod('shop', `p-${ip}`)) kube.addPod({ namespace: 'shop', name: `p-${ip}`, ip, startTime: OLD, nodeName: w });
    }
  }
  kube.addPod({ namespace: 'shop', name: VICTIM.name, uid: VICTIM.uid, ip: VICTIM.ip, startTime: OLD, nodeName: 'pod', deletionTimestamp: new Date(fakeAws.clock.now() + 30_000).toISOString(), deletionGracePeriodSeconds: 30 });
  return { groups, service };
}

/** The four writers of one guard configuration: one Lambda container each, reused across cases. */
function writers(minHealthy: number, fraction: number, clients: AwsClients) {
  const env = {
    CLUSTER_NAME: 'prod',
    CLOUDMAP_NAMESPACES: 'mesh.local',
    CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30',
    // Audit records only logged: what is under test is the writes, and PutEvents would be a tenth of the calls.
    AUDIT_EVENT_BUS: '',
    AWS_REGION: 'us-east-1',
    STATE_TABLE: 'quiesce-state',
    MIN_HEALTHY_TARGETS: String(minHealthy),
    MAX_DEREGISTER_FRACTION: String(fraction),
    SWEEP_MAX_FRACTION: String(fraction),
    // One guard window for the whole case (the fake clock moves with every wait); leases long enough that a
    // slow read under one never loses it to the clock the other writers move.
    COORDINATION_WINDOW_SECONDS: '3600',
    COORDINATION_LEASE_SECONDS: '120',
    GUARD_DEADLINE_SECONDS: '0',
    INDEX_TTL_SECONDS: '0',
    // The client budget is not under test here: the fake's own throttling is.
    RATE_LIMITS: 'elb-describe=10000:10000,elb-register=10000:10000,cloudmap-read=10000:10000,cloudmap-write=10000:10000,ec2-describe=10000:10000,dynamodb=10000:10000,events=10000:10000,eks=10000:10000,sqs=10000:10000',
  };
  const now = (): Date => new Date(fakeAws.clock.now());
  // Waits are instant here (fakeAws.clock.sleep would add 6 s a half): a writer that gives up on a lease
  // sooner than a real wait would is retried by untilDone, as SQS / Lambda would retry it.
  const sleep = async (ms: number): Promise<void> => fakeAws.clock.advance(ms);
  const retry = { baseDelayMs: 1, maxDelayMs: 5 };
  const spot = () => {
    const logger = createLogger('spot-interruption');
    const deps = buildNodeWorkflowDeps('spot-interruption', { config: loadConfig(env), clients, logger, now, sleep, retry });
    return makeSpotHandler(() => deps, logger, createMetrics('spot-interruption'));
  };
  const podLogger = createLogger('pod-events');
  const podDeps = buildPodWorkflowDeps({ config: loadPodEventsConfig(env), clients, logger: podLogger, now, sleep, retry });
  const sweepLogger = createLogger('sweeper');
  const sweepDeps = buildSweepDeps({ config: loadSweeperConfig(env), clients, logger: sweepLogger, now, sleep, retry });
  return { spotA: spot(), spotB: spot(), pod: makePodHandler(() => podDeps, podLogger, createMetrics('pod-events')), sweep: makeSweepHandler(() => sweepDeps, sweepLogger, createMetrics('sweeper')) };
}

const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const t0 = (): string => new Date(fakeAws.clock.now()).toISOString();
function spotRecord(instanceId: string): { Records: unknown[] } {
  const body = { ...sample('spot-interruption-warning'), id: `w-${instanceId}`, time: t0(), detail: { 'instance-id': instanceId, 'instance-action': 'terminate' } };
  return { Records: [{ messageId: `m-${instanceId}`, eventSource: 'aws:sqs', body: JSON.stringify(body) }] };
}
function victimEvent(): Record<string, unknown> {
  const e = sample('pod-terminating');
  e.detail = { ...e.detail, cluster: 'prod', namespace: 'shop', name: VICTIM.name, uid: VICTIM.uid, podIPs: [VICTIM.ip], containerPorts: [{ containerPort: 8080, protocol: 'TCP' }], deletionTimestamp: new Date(fakeAws.clock.now() + 30_000).toISOString(), observedAt: t0() };
  return e;
}

/**
 * Runs a writer until it reports success (SQS item not failed, invocation not thrown), at most `rounds`
 * times; the last failure says why, for the assertion message.
 */
async function untilDone(run: () => Promise<unknown>, rounds = 6): Promise<true | string> {
  let last = '';
  for (let i = 0; i < rounds; i++) {
    try {
      const out = (await run()) as { batchItemFailures?: unknown[] } | undefined;
      if (!out?.batchItemFailures || out.batchItemFailures.length === 0) return true;
      last = `batch item failures ${JSON.stringify(out.batchItemFailures)}`;
    } catch (err) {
      // retried, as Lambda / SQS would
      last = `${(err as Error).name}: ${(err as Error).message}`;
    }
    fakeAws.clock.advance(1_000);
  }
  return last;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Defines the property in the calling test file, for `cases` cases (half of QUIESCE_PROPERTY_RUNS). */
export function defineConcurrentWritersProperty(half: 1 | 2, cases = Math.ceil(propertyRuns() / 2)): void {
  let clients: AwsClients | undefined;
  const env: Env = { started: startFakeKube(), clients: () => clients as AwsClients, cache: new Map() };
  beforeAll(() => {
    // The real SDK clients, handing each request to the fake without a socket: tens of thousands of calls.
    clients = createAwsClients({ overrides: { requestHandler: fakeAws.requestHandler() } });
  });
  afterAll(() => clients?.destroy());
  describe(`guards across concurrent writers (property, half ${half} of 2)`, () => {
    it(`hold at every moment, for ${cases} random topologies and interleavings of 2 spot batches with pod-events, the sweeper or both`, async () => {
      await fc.assert(
        fc.asyncProperty(worldArb, scheduleArb, async (world, schedule) => {
          fakeAws.reset();
          const seeded = seed(world, env);
          const key = `${world.minHealthy}/${world.fraction}`;
          const w = env.cache.get(key) ?? writers(world.minHealthy, world.fraction, env.clients());
          env.cache.set(key, w);
          if (schedule.latencyMs > 0) fakeAws.faults.latency(schedule.latencyMs);
          if (schedule.throttle > 0) fakeAws.faults.throttle(schedule.throttle, { service: 'elasticloadbalancing', seed: 7 });
          const [a, b, p, s] = schedule.starts;
          const podEvents = schedule.writers !== 'no-pod-events';
          const sweeper = schedule.writers !== 'no-sweeper';
          const done = await Promise.all([
            delay(a).then(() => untilDone(() => w.spotA(spotRecord(NODE.spotA) as never, lambdaContext))),
            delay(b).then(() => untilDone(() => w.spotB(spotRecord(NODE.spotB) as never, lambdaContext))),
            podEvents ? delay(p).then(() => untilDone(() => w.pod(victimEvent() as never, lambdaContext))) : true,
            sweeper ? delay(s).then(() => untilDone(() => w.sweep(sample('scheduled-sweep') as never, lambdaContext))) : true,
          ]);
          expect(done, 'every writer finished within its retries').toEqual([true, true, true, true]);
          // What should go is what the writers that ran were for: the spot nodes' registrations always, the
          // terminating pod's with pod-events, those on no ENI with the sweeper.
          const goes = (where: Where | undefined): boolean => where !== undefined && (where === 'spotA' || where === 'spotB' || (where === 'pod' ? podEvents : sweeper));
          fakeAws.faults.reset();
          fakeAws.clock.advance(10_000); // Cloud Map operations settle

          const min = world.minHealthy;
          for (const g of seeded.groups) {
            const history = fakeAws.elbv2.healthHistory(g.arn);
            history.forEach((h, i) => {
              const before = history[i - 1];
              if (before && h.healthy < before.healthy) expect(h.healthy, `${g.arn} dropped below ${min} healthy at ${h.op} #${h.seq}`).toBeGreaterThanOrEqual(min);
            });
            const targets = fakeAws.elbv2.targets(g.arn);
            const live = targets.filter((t) => t.state !== 'draining');
            const removed = g.initial - live.length;
            const cap = world.fraction >= 1 ? Infinity : Math.max(1, Math.floor(g.initial * world.fraction));
            expect(removed, `${g.arn}: removed ${removed} of ${g.initial} (fraction ${world.fraction})`).toBeLessThanOrEqual(cap);
            const left = live.filter((t) => goes(g.shouldGo.get(`${t.id}:${t.port}`)));
            if (left.length > 0 && removed < cap) {
              const healthy = live.filter((t) => t.state === 'healthy').length;
              expect(left.every((t) => t.state === 'healthy') && healthy <= min, `${g.arn}: ${left.map((t) => `${t.id} ${t.state}`).join(', ')} left registered with ${healthy} healthy`).toBe(true);
            }
          }
          if (seeded.service) {
            const { id, initial, shouldGo } = seeded.service;
            const history = fakeAws.cloudMap.liveHistory(id);
            history.forEach((h, i) => {
              const before = history[i - 1];
              if (before && h.live < before.live) expect(h.live, `service dropped below ${min} at #${h.seq}`).toBeGreaterThanOrEqual(min);
            });
            const now = fakeAws.cloudMap.instancesOf(id);
            const removed = initial - now.length;
            const cap = world.fraction >= 1 ? Infinity : Math.max(1, Math.floor(initial * world.fraction));
            expect(removed).toBeLessThanOrEqual(cap);
            const left = now.filter((i) => goes(shouldGo.get(i.Id)));
            if (left.length > 0 && removed < cap) expect(now.length, `service kept ${left.map((i) => i.Id).join(', ')}`).toBeLessThanOrEqual(min);
          }
        }),
        { numRuns: cases, ...(SEED === undefined ? {} : { seed: SEED + half }), endOnFailure: true },
      );
    }, 300_000);
  });
}
