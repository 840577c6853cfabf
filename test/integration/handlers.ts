/**
 * The five Lambda handlers, each built as production wires it (middy, config, SDK v3 clients, adapters,
 * executor, audit) against the fake AWS, for tests that throw the same input at all of them: the bad-input
 * scenarios and the fuzz suite. Time follows the fake clock. Building them seeds the world they can write
 * to; the caller starts the fake Kubernetes API (the sweeper and exporter events reach it through EKS).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { buildWebhookDeps, makeHandler as makeWebhookHandler } from '../../functions/deploy-webhook/handler.ts';
import { loadPodEventsConfig } from '../../functions/pod-events/config.ts';
import { makeHandler as makePodHandler } from '../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../functions/pod-events/wiring.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { makeHandler as makeTrafficHandler } from '../../functions/traffic-shift/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV, seedTopology, VPC, type Topology } from '../fakes/topology.ts';
import { seedTrafficTopology, trafficDeps, trafficPlansJson, WEBHOOK_TOKEN, type TrafficTopology } from '../fakes/traffic.ts';
import { lambdaContext, publishedTypes, spotHarness, writeLog, type StartedKube } from './harness.ts';
import type { SpotDeps } from '../../functions/spot-interruption/wiring.ts';
import type { PodWorkflowDeps } from '../../functions/pod-events/deregister-pod.ts';
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';
import { AuditDetailType } from '#core/contracts/node-events.ts';
import { skippingBudgetClock } from './budget-clock.ts';

/** The handlers by function name. */
export type HandlerName = 'spot-interruption' | 'pod-events' | 'sweeper' | 'deploy-webhook' | 'traffic-shift';

/**
 * Writes so far: every write call of every API the fake serves (harness.ts `writeLog`), except the
 * publishing of `Event Rejected` audit records (a rejection is reported on the bus by design; anything else
 * published is a write).
 */
export function anyWrites(): number {
  return writeLog().filter((r) => {
    const types = publishedTypes(r);
    return !(types.length > 0 && types.every((t) => t === AuditDetailType.eventRejected));
  }).length;
}

/** A world where every write path of every trigger is reachable, and the environment that reaches it. */
export interface EveryWritePath {
  readonly world: World;
  readonly env: Record<string, string>;
  /** The weighted rule the failover acts on (web 50 / green 50). */
  readonly rule: string;
  /** The uid of each pod of the fake Kubernetes API, by name. */
  readonly uids: ReadonlyMap<string, string>;
}

/**
 * Seeds {@link seedWorld} plus what reaches every write: the topology's pods (the sweeper believes its pod
 * list), a weighted rule between the web group and a healthy green twin where web already has one target
 * failing its health check (3 healthy of 4, below FAILOVER_MIN_HEALTHY_TARGETS: a run that touches web moves
 * its weight and schedules the restore check, also in a dry run, whose reads are live), and an environment
 * with the state table, the re-check queue, scheduled-change schedules, the failover and traffic plans.
 */
export function seedEveryWritePath(kube: StartedKube): EveryWritePath {
  kube.kube.reset();
  const world = seedWorld(kube.address());
  const uids = new Map<string, string>();
  const pods = [['web-a', '10.0.1.11'], ['web-c', '10.0.1.33'], ['web-b', '10.0.2.11'], ['web-d', '10.0.3.11'], ['api-b', '10.0.2.12'], ['api-c', '10.0.3.12'], ['admin', '10.0.1.34'], ['payments-7d9f-abcde', '10.0.1.12']] as const;
  for (const [name, ip] of pods) uids.set(name, String(kube.kube.addPod({ namespace: 'shop', name, ip, startTime: '2026-11-21T11:00:00Z', nodeName: 'n' }).metadata?.uid));
  const green = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-web-green', port: 8080, targets: [10, 11, 12, 13, 14].map((i) => ({ id: `10.0.7.${i}` })) });
  fakeAws.elbv2.setTargetHealth(world.topology.tg.web, '10.0.2.11', 8080, 'unhealthy');
  const listener = fakeAws.elbv2.seedListener({ loadBalancerArn: fakeAws.elbv2.seedLoadBalancer({ name: 'web-alb' }), port: 80 });
  const rule = fakeAws.elbv2.seedRule({ listenerArn: listener, priority: 5, targetGroups: [{ arn: world.topology.tg.web, weight: 50 }, { arn: green, weight: 50 }] });
  const env = {
    ...PROD_ENV,
    AWS_REGION: 'us-east-1',
    RECHECK_QUEUE_URL: world.topology.recheckQueueUrl,
    SCHEDULED_CHANGE_QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:quiesce-recheck',
    SCHEDULED_CHANGE_ROLE_ARN: 'arn:aws:iam::123456789012:role/quiesce-scheduled-change',
    // The Scheduler role's id, as the stack sets it: due messages are taken from it (and the function's own role).
    SCHEDULED_CHANGE_SENDER_IDS: fakeAws.iam.roleIdOf('arn:aws:iam::123456789012:role/quiesce-scheduled-change'),
    FAILOVER_LISTENER_ARNS: listener,
    FAILOVER_MIN_HEALTHY_TARGETS: '4',
    STEP_EVENT_BUS_ARN: world.traffic.busArn,
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/quiesce-scheduler',
    TRAFFIC_PLANS: trafficPlansJson(world.traffic),
  };
  return { world, env, rule, uids };
}

/** Both topologies (the spot/pod world and the traffic migration), with the EKS cluster `prod`. */
export interface World {
  readonly topology: Topology;
  readonly traffic: TrafficTopology;
}

/** Options of {@link buildHandlers}. */
export interface HandlerOptions {
  /** Extra environment for every function. */
  readonly env?: Record<string, string>;
  /**
   * Audit records only logged, not published (no audit bus): a rejection then makes no AWS call at all,
   * which is what lets the fuzz suite run tens of thousands of them quickly. The webhook keeps its bus.
   */
  readonly auditOff?: boolean;
  /** An already seeded world (see {@link seedWorld}) to build the handlers on, instead of seeding one. */
  readonly world?: World;
}

/** Seeds the (reset) fake AWS with everything the five handlers can write to: both topologies and EKS `prod` -> `kube`. */
export function seedWorld(kube: { endpoint: string; caData: string }): World {
  const world: World = { topology: seedTopology(fakeAws), traffic: seedTrafficTopology(fakeAws) };
  fakeAws.eks.seedCluster({ name: 'prod', endpoint: kube.endpoint, caData: kube.caData, vpcId: VPC });
  return world;
}

/** The dependencies the handlers were built with (the webhook's are built inside its factory). */
export interface HandlerDeps {
  readonly spot: SpotDeps;
  readonly pod: PodWorkflowDeps;
  readonly sweeper: ReturnType<typeof buildSweepDeps>;
  readonly traffic: TrafficDeps;
}

/** A handler as Lambda calls it: one event in, its result (or its thrown error) out. */
export type Invoke = (event: unknown) => Promise<unknown>;

/**
 * Seeds the (reset) fake AWS with everything the five handlers can write to (the spot topology, the traffic
 * topology, the EKS cluster pointing at `kube`) and builds the handlers against it.
 */
export function buildHandlers(kube: { endpoint: string; caData: string }, options: HandlerOptions = {}): { world: World; handlers: Record<HandlerName, Invoke>; deps: HandlerDeps } {
  const env = { ...(options.auditOff ? { AUDIT_EVENT_BUS: '' } : {}), ...options.env };
  const now = () => new Date(fakeAws.clock.now());
  const sleep = (ms: number): Promise<void> => fakeAws.clock.sleep(ms);
  const retry = { baseDelayMs: 2, maxDelayMs: 20 };
  // No test here is about the rate: the budgets skip their waits (budget-clock.ts).
  const budgetClock = skippingBudgetClock();

  const world = options.world ?? seedWorld(kube);
  const spot = spotHarness(env, world.topology, { budgetClock });

  const podLogger = createLogger('pod-events');
  const podDeps = buildPodWorkflowDeps({
    config: loadPodEventsConfig({ ...PROD_ENV, ...env }),
    clients: createAwsClients(),
    logger: podLogger,
    now,
    retry,
    sleep,
    budgetClock,
  });
  const pod = makePodHandler(() => podDeps, podLogger, createMetrics('pod-events'));

  const sweepLogger = createLogger('sweeper');
  const sweepEnv = { ...PROD_ENV, AWS_REGION: 'us-east-1', ...env };
  const sweepDeps = buildSweepDeps({
    config: loadSweeperConfig(sweepEnv),
    env: sweepEnv,
    clients: createAwsClients(),
    logger: sweepLogger,
    now,
    retry,
    sleep,
    budgetClock,
  });
  const sweep = makeSweepHandler(() => sweepDeps, sweepLogger, createMetrics('sweeper'));

  const webhook = makeWebhookHandler(() =>
    buildWebhookDeps({
      env: { WEBHOOK_TOKEN_PARAMETER: world.traffic.tokenParameter, STATE_TABLE: world.traffic.table, ...env, EVENT_BUS: world.traffic.bus },
      clients: createAwsClients(),
      logger: createLogger('deploy-webhook'),
      now,
    }),
  );

  const trafficDepsOnce = trafficDeps(fakeAws, world.traffic, { ...env, ...(options.auditOff ? { EVENT_BUS: '' } : {}) });
  const traffic = makeTrafficHandler(() => trafficDepsOnce, createLogger('traffic-shift'));

  const handlers: Record<HandlerName, Invoke> = {
    'spot-interruption': (event) => spot.invoke(event),
    'pod-events': (event) => pod(event as never, lambdaContext),
    sweeper: (event) => sweep(event as never, lambdaContext),
    'deploy-webhook': (event) => webhook(event as APIGatewayProxyEventV2, lambdaContext),
    'traffic-shift': (event) => traffic(event as never, lambdaContext),
  };
  return { world, handlers, deps: { spot: spot.deps, pod: podDeps, sweeper: sweepDeps, traffic: trafficDepsOnce } };
}

/** The headers of an authenticated ArgoCD call. */
export const webhookHeaders = (): Record<string, string> => ({ authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' });

export { startFakeKube, type StartedKube } from './harness.ts';
