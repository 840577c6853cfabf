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
import { seedTrafficTopology, trafficDeps, WEBHOOK_TOKEN, type TrafficTopology } from '../fakes/traffic.ts';
import { lambdaContext, publishedTypes, spotHarness, writeLog } from './harness.ts';
import type { SpotDeps } from '../../functions/spot-interruption/wiring.ts';
import type { PodWorkflowDeps } from '../../functions/pod-events/deregister-pod.ts';
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';
import { AuditDetailType } from '#core/contracts/node-events.ts';

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

  const world = options.world ?? seedWorld(kube);
  const spot = spotHarness(env, world.topology);

  const podLogger = createLogger('pod-events');
  const podDeps = buildPodWorkflowDeps({
    config: loadPodEventsConfig({ ...PROD_ENV, ...env }),
    clients: createAwsClients(),
    logger: podLogger,
    now,
    retry,
    sleep,
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
