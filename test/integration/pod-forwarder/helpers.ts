/**
 * Helpers for the forwarder's integration tests: a real forwarder (real HTTPS watch client, real SDK
 * EventBridge client found through AWS_ENDPOINT_URL) against the loopback fake Kubernetes API and fake AWS.
 */
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ForwarderConfig } from '../../../functions/pod-forwarder/config.ts';
import { startForwarder, type ForwarderDeps, type RunningForwarder } from '../../../functions/pod-forwarder/forwarder.ts';
import { memoryLogger } from '../../../functions/pod-forwarder/log.ts';
import type { FakeKubeApi } from '../../fakes/kube/index.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';
import { unsignedEksToken } from '../../fakes/kube/unsigned-token.ts';

export const BUS = 'quiesce';

/** A structurally valid EKS token (test/fakes/kube/unsigned-token.ts). */
export const eksToken = (now = new Date()): string => unsignedEksToken(now);

/** Creates the event bus in the fake (events to an unknown bus are dropped, as in AWS). */
export async function createBus(): Promise<void> {
  await new EventBridgeClient({}).send(new CreateEventBusCommand({ Name: BUS }));
}

/** The forwarder's config for tests: fast batching, ephemeral metrics port. */
export function testConfig(overrides: Partial<ForwarderConfig> = {}): ForwarderConfig {
  return {
    clusterName: 'test-cluster',
    eventBusName: BUS,
    queueMax: 1000,
    batchMaxWaitMs: 10,
    forwardNotReady: false,
    namespaces: undefined,
    labelSelector: undefined,
    metricsPort: 0,
    healthStaleSeconds: 60,
    shutdownTimeoutMs: 5000,
    publishUnhealthySeconds: 60,
    ...overrides,
  };
}

/** Starts a forwarder against the fake Kubernetes API with fast backoffs and a recording logger. */
export async function forwarderFor(
  kube: FakeKubeApi,
  caData: string,
  config: Partial<ForwarderConfig> = {},
  deps: ForwarderDeps = {},
): Promise<{ fwd: RunningForwarder; log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const fwd = await startForwarder(testConfig(config), {
    kube: { server: kube.endpoint, caData, token: eksToken() },
    log,
    watcher: { baseBackoffMs: 20, maxBackoffMs: 200 },
    publisher: { baseBackoffMs: 10, maxBackoffMs: 50 },
    ...deps,
  });
  return { fwd, log };
}

/** Polls `cond` every 10 ms until true or `timeoutMs`; throws with `what` on timeout. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets in-flight work settle (used before asserting that nothing more arrives). */
export const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pod events published to the test bus, as (detail-type, namespace/name) plus the raw detail. */
export function published() {
  return fakeAws.events.published(BUS).map((p) => ({
    source: p.event.source,
    detailType: p.event['detail-type'],
    detail: p.event.detail,
    pod: `${String(p.event.detail['namespace'])}/${String(p.event.detail['name'])}`,
  }));
}

/** The pod names of published events, sorted (to compare as a multiset: duplicates show up). */
export const publishedPods = (): string[] => published().map((p) => p.pod).sort();
