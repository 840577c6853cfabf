/**
 * Builds the real spot-interruption handler against the fake AWS, exactly as production wires it: the SDK
 * clients find the fake through AWS_ENDPOINT_URL (set by test/setup.ts), nothing is patched. Time follows
 * the fake clock, and the executor's waits advance it (a DuplicateRequest wait lets the in-flight Cloud Map
 * operation finish, as it would in AWS).
 */
import type { Context } from 'aws-lambda';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { loadConfig } from '#core/config.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { makeHandler } from '../../functions/spot-interruption/handler.ts';
import type { SpotDeps } from '../../functions/spot-interruption/wiring.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { afterAll, beforeAll } from 'vitest';
import { FakeKubeApi } from '../fakes/kube/index.ts';
import { PROD_ENV, seedTopology, VPC, type Topology } from '../fakes/topology.ts';
import { loadPodEventsConfig } from '../../functions/pod-events/config.ts';
import type { PodWorkflowDeps } from '../../functions/pod-events/deregister-pod.ts';
import { makeHandler as makePodHandler } from '../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../functions/pod-events/wiring.ts';

/** A Lambda context good enough for Powertools and middy. */
export const lambdaContext = {
  functionName: 'quiesce-spot-interruption',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:quiesce-spot-interruption',
  memoryLimitInMB: '256',
  awsRequestId: 'test-request',
  logGroupName: '/aws/lambda/quiesce-spot-interruption',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as unknown as Context;

/** Write operations: none of them may happen on bad input, in dry run, or out of scope. */
export const WRITE_OPERATIONS: readonly [string, string][] = [
  ['elasticloadbalancing', 'DeregisterTargets'],
  ['elasticloadbalancing', 'RegisterTargets'],
  ['elasticloadbalancing', 'ModifyRule'],
  ['servicediscovery', 'DeregisterInstance'],
  ['servicediscovery', 'RegisterInstance'],
  ['autoscaling', 'CompleteLifecycleAction'],
  ['sqs', 'SendMessage'],
];

/** Number of write calls the fake received. */
export function writeCalls(): number {
  return WRITE_OPERATIONS.reduce((n, [s, o]) => n + fakeAws.calls.count(s, o), 0);
}

/** The harness: seeded topology, deps, and an `invoke` that calls the middy handler like Lambda does. */
export interface SpotHarness {
  readonly topology: Topology;
  readonly deps: SpotDeps;
  invoke(event: unknown): Promise<unknown>;
}

/** Options of the harnesses. */
export interface HarnessOptions {
  /** Sign the function's SDK calls with this access key id (a role session the fake IAM knows: test/fakes/aws/iam.ts). */
  readonly accessKeyId?: string;
}

/** The SDK clients a harness's function uses: the environment's credentials, or the session it is given. */
const clientsFor = (options: HarnessOptions) => createAwsClients(options.accessKeyId ? { overrides: { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: 'fake' } } } : {});

/** Seeds the topology and builds the handler with `env` on top of the prod environment. */
/** `world`: an already seeded topology (a second Lambda container on the same account), else a fresh one. */
export function spotHarness(env: Record<string, string> = {}, world?: Topology, options: HarnessOptions = {}): SpotHarness {
  const topology = world ?? seedTopology(fakeAws);
  const config = loadConfig({ ...PROD_ENV, RECHECK_QUEUE_URL: topology.recheckQueueUrl, ...env });
  const logger = createLogger('spot-interruption');
  const deps = buildNodeWorkflowDeps('spot-interruption', {
    config,
    clients: clientsFor(options),
    logger,
    now: () => new Date(fakeAws.clock.now()),
    // Same policy shape, shorter waits: throttling tests stay fast.
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    // Executor waits (DuplicateRequest, leases, Cloud Map operations) move the fake clock, as AWS time would.
    sleep: (ms) => fakeAws.clock.sleep(ms),
  });
  const handler = makeHandler(() => deps, logger, createMetrics('spot-interruption'));
  return { topology, deps, invoke: (event) => handler(event as never, lambdaContext) };
}

/** The pod-events handler against the fake AWS, its cluster API the given fake Kubernetes API (via fake EKS). */
export interface PodHarness {
  readonly topology: Topology;
  readonly deps: PodWorkflowDeps;
  invoke(event: unknown): Promise<unknown>;
}

/**
 * Seeds the topology (or joins `world`, already seeded), points cluster `prod` at the started fake
 * Kubernetes API, and builds the real
 * pod-events handler.
 */
export function podEventsHarness(kube: StartedKube, env: Record<string, string> = {}, world?: Topology, options: HarnessOptions = {}): PodHarness {
  const topology = world ?? seedTopology(fakeAws);
  if (!world) fakeAws.eks.seedCluster({ name: 'prod', ...kube.address(), vpcId: VPC });
  const logger = createLogger('pod-events');
  const deps = buildPodWorkflowDeps({
    config: loadPodEventsConfig({ ...PROD_ENV, ...env }),
    clients: clientsFor(options),
    logger,
    now: () => new Date(fakeAws.clock.now()),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    sleep: (ms) => fakeAws.clock.sleep(ms),
  });
  const handler = makePodHandler(() => deps, logger, createMetrics('pod-events'));
  return { topology, deps, invoke: (event) => handler(event as never, lambdaContext) };
}

/** The fake Kubernetes API of a test file, and where the fake EKS should say it is. */
export interface StartedKube {
  readonly kube: FakeKubeApi;
  /** Endpoint and CA of the started server (valid inside tests, after beforeAll). */
  readonly address: () => { endpoint: string; caData: string };
}

/**
 * Starts a fake Kubernetes API for the calling test file (beforeAll / afterAll) that accepts only EKS tokens
 * of cluster `prod` signed with the test credentials of test/setup.ts, as the sweeper and pod-events send.
 */
export function startFakeKube(): StartedKube {
  const kube = new FakeKubeApi({ token: { verify: { clusterName: 'prod', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } } });
  let address = { endpoint: '', caData: '' };
  beforeAll(async () => {
    address = await kube.start();
  });
  afterAll(() => kube.stop());
  return { kube, address: () => address };
}
