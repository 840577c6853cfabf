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
import { isWriteOperation } from '../fakes/aws/operations.ts';
import type { CallRecord } from '../fakes/aws/server.ts';
import type { BudgetClock } from '#core/adapters/aws/index.ts';
import { AuditDetailType } from '#core/contracts/node-events.ts';
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

/**
 * Every write call the fake received, of every API it serves (each of its operations is classified read or
 * write: test/fakes/aws/operations.ts), in order: DeregisterTargets as much as a lease's UpdateItem, a
 * CreateSchedule or a PutEvents.
 */
export function writeLog(): CallRecord[] {
  return fakeAws.calls.records.filter((r) => isWriteOperation(r.service, r.operation));
}

/** The detail-types of a PutEvents call's entries (empty for any other call). */
export function publishedTypes(call: CallRecord): string[] {
  if (call.service !== 'events' || call.operation !== 'PutEvents') return [];
  return ((call.input?.['Entries'] as { DetailType?: string }[] | undefined) ?? []).map((e) => e.DetailType ?? '');
}

const AUDIT_TYPES: ReadonlySet<string> = new Set(Object.values(AuditDetailType));

/**
 * Whether a call only published audit records ("Deregistration Plan Applied", "Event Rejected"): telemetry,
 * published in a dry run and on bad input by design (functions/_core/ports/writes.ts), not a write.
 */
export function isAuditOnly(call: CallRecord): boolean {
  const types = publishedTypes(call);
  return types.length > 0 && types.every((t) => AUDIT_TYPES.has(t));
}

/** The state-table keys of telemetry items: the forwarder's heartbeat, the sweeper's deadline (not plan effects). */
const TELEMETRY_KEYS = /^(forwarder|sweep-done)#/;

/** Whether a state-table item (by its `pk`) is telemetry (see `isTelemetryOnly`). */
export const isTelemetryItem = (item: { pk?: { S?: string } }): boolean => TELEMETRY_KEYS.test(item.pk?.S ?? '');

/**
 * Whether a call only wrote telemetry (functions/_core/ports/writes.ts, "What is not"): the audit records, or
 * one of the state table's telemetry items (pod-events' forwarder heartbeat, the sweeper's completion deadline),
 * written in a dry run too so that `quiesce doctor` and the sweeper-overdue alarm tell the truth there.
 */
export function isTelemetryOnly(call: CallRecord): boolean {
  if (isAuditOnly(call)) return true;
  if (call.service !== 'dynamodb' || (call.operation !== 'UpdateItem' && call.operation !== 'PutItem')) return false;
  const key = ((call.input?.['Key'] ?? call.input?.['Item']) as { pk?: { S?: string } } | undefined)?.pk?.S;
  return key !== undefined && isTelemetryItem({ pk: { S: key } });
}

/**
 * Whether a call is a deployed dry run's write to its own ledger: its group leases (`dry-run#guard#<group>`,
 * UpdateItem: adapters/aws/dynamo-group-leases.ts) and its other coordination records, pod-events' claims
 * and the shared ELB budget's leases (`dry-run#podsignal#...`, `dry-run#share#...`: PutItem / DeleteItem,
 * ports/writes.ts `coordination`), all in keys no live writer ever looks at. A dry run coordinates as live
 * does, among dry-run writers; it changes nothing a live run reads.
 */
export function isDryRunLedger(call: CallRecord): boolean {
  if (call.service !== 'dynamodb' || !['UpdateItem', 'PutItem', 'DeleteItem'].includes(call.operation)) return false;
  const key = ((call.input?.['Key'] ?? call.input?.['Item']) as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
  return key.startsWith('dry-run#');
}

/**
 * Number of write calls the fake received, of every API, except telemetry (see `isTelemetryOnly`) and a dry
 * run's own ledger (`isDryRunLedger`): none may happen on bad input, in dry run, or out of scope.
 */
export function writeCalls(): number {
  return writeLog().filter((r) => !isTelemetryOnly(r) && !isDryRunLedger(r)).length;
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
  /** The API budget's clock (default real time; test/integration/budget-clock.ts skips the waits). */
  readonly budgetClock?: BudgetClock;
}

/** The SDK clients a harness's function uses: the environment's credentials, or the session it is given. */
const clientsFor = (options: HarnessOptions) => createAwsClients(options.accessKeyId ? { overrides: { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: 'fake' } } } : {});

/** Seeds the topology and builds the handler with `env` on top of the prod environment. */
/** `world`: an already seeded topology (a second Lambda container on the same account), else a fresh one. */
export function spotHarness(env: Record<string, string> = {}, world?: Topology, options: HarnessOptions = {}): SpotHarness {
  const topology = world ?? seedTopology(fakeAws);
  const environment = { ...PROD_ENV, RECHECK_QUEUE_URL: topology.recheckQueueUrl, ...env };
  const config = loadConfig(environment);
  const logger = createLogger('spot-interruption');
  const deps = buildNodeWorkflowDeps('spot-interruption', {
    config,
    // The failover's variables (FAILOVER_LISTENER_ARNS, ...) come from the same environment, not the process's.
    env: environment,
    clients: clientsFor(options),
    logger,
    now: () => new Date(fakeAws.clock.now()),
    // Same policy shape, shorter waits: throttling tests stay fast.
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    // Executor waits (DuplicateRequest, leases, Cloud Map operations) move the fake clock, as AWS time would.
    sleep: (ms) => fakeAws.clock.sleep(ms),
    ...(options.budgetClock ? { budgetClock: options.budgetClock } : {}),
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
