/**
 * Wiring: config + kube connection + EventBridge -> tracker -> queue -> publisher, plus the metrics/health
 * server. Separate from main.ts (which only reads the environment and handles signals) so integration tests
 * and the bench start a real forwarder against the loopback fakes with injected connections.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ForwarderConfig } from './config.ts';
import { detailTypeFor, POD_EVENT_SOURCE, validatePodTerminatingDetail } from '../_core/contracts/pod-terminating.ts';
import { httpPodApi, type KubeConnection, type PodApi } from './kube.ts';
import { jsonLogger, type Logger } from './log.ts';
import { ForwarderMetrics } from './metrics.ts';
import { entrySize, Publisher, putEventsVia, type PublisherOptions, type PutEventsFn, type QueuedEntry } from './publisher.ts';
import { BoundedQueue } from './queue.ts';
import { startServer } from './server.ts';
import { PodTracker, type TerminationSignal } from './tracker.ts';
import { PodWatcher, type PodWatcherOptions } from './watcher.ts';

/** Everything a test or the bench may replace; production passes nothing. */
export interface ForwarderDeps {
  /** Explicit API server connection; default: in-cluster service account. */
  readonly kube?: KubeConnection;
  /** A whole pod API (overrides `kube`), for tests that script list/watch answers. */
  readonly podApi?: PodApi;
  /** PutEvents implementation; default: an EventBridgeClient with the SDK's default chain (IRSA / Pod Identity, AWS_ENDPOINT_URL). */
  readonly putEvents?: PutEventsFn;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Watcher tuning (backoff, page size) for fast tests. */
  readonly watcher?: Pick<PodWatcherOptions, 'baseBackoffMs' | 'maxBackoffMs' | 'pageSize' | 'watchTimeoutSeconds' | 'inactivityTimeoutMs'>;
  /** Publisher tuning (attempts, backoff, concurrency) and the latency hook for the bench. */
  readonly publisher?: Pick<PublisherOptions, 'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs' | 'concurrency' | 'onSent'>;
  /** Observe every signal (bench, tests); called before enqueueing. */
  readonly onSignal?: (signal: TerminationSignal) => void;
}

/** A running forwarder. */
export interface RunningForwarder {
  readonly metrics: ForwarderMetrics;
  /** Port of /metrics and /healthz (useful with METRICS_PORT=0). */
  readonly port: number;
  readonly tracker: PodTracker;
  readonly watcher: PodWatcher;
  /** Stops watching, flushes the queue within `deadlineMs` (default: config.shutdownTimeoutMs), closes the server. */
  stop(deadlineMs?: number): Promise<{ flushed: boolean }>;
}

/**
 * Starts a forwarder: watch, queue, publisher and server. Returns once the server listens; the first list
 * runs in the background (its progress shows on /healthz and in quiesce_forwarder_relists_total).
 */
export async function startForwarder(config: ForwarderConfig, deps: ForwarderDeps = {}): Promise<RunningForwarder> {
  const log = deps.log ?? jsonLogger();
  const metrics = new ForwarderMetrics();
  const queue = new BoundedQueue<QueuedEntry>(config.queueMax, () => {
    metrics.eventsDropped += 1;
  });
  metrics.queueDepth = () => queue.size;
  let dropWarnedAt = 0;

  const enqueue = (signal: TerminationSignal): void => {
    deps.onSignal?.(signal);
    const checked = validatePodTerminatingDetail(signal.detail);
    if (!checked.ok) {
      metrics.eventsFailed += 1;
      log.error('refusing to publish an invalid pod event', { errors: checked.errors, uid: signal.detail.uid });
      return;
    }
    const entry = {
      Source: POD_EVENT_SOURCE,
      DetailType: detailTypeFor(signal.detail.reason),
      Detail: JSON.stringify(signal.detail),
      EventBusName: config.eventBusName,
    };
    if (queue.push({ entry, size: entrySize(entry), enqueuedAt: Date.now() }) !== undefined && Date.now() - dropWarnedAt > 10_000) {
      dropWarnedAt = Date.now();
      log.warn('event queue full: dropping oldest events', { queueMax: config.queueMax, dropped: metrics.eventsDropped });
    }
  };

  const nowMs = (): number => (deps.now ? deps.now().getTime() : Date.now());
  const tracker = new PodTracker({ cluster: config.clusterName, forwardNotReady: config.forwardNotReady, emit: enqueue, log, ...(deps.now ? { now: deps.now } : {}) });
  const publisher = new Publisher({
    queue,
    putEvents: deps.putEvents ?? putEventsVia(new EventBridgeClient({})),
    metrics,
    log,
    batchMaxWaitMs: config.batchMaxWaitMs,
    now: nowMs,
    ...deps.publisher,
  });
  const watcher = new PodWatcher({
    api: deps.podApi ?? httpPodApi(deps.kube),
    tracker,
    metrics,
    log,
    namespaces: config.namespaces,
    labelSelector: config.labelSelector,
    ...deps.watcher,
  });
  const publishFailing = (): boolean => publisher.failingForMs(nowMs()) >= config.publishUnhealthySeconds * 1000;
  metrics.publishFailing = () => (publishFailing() ? 1 : 0);
  const server = await startServer({
    port: config.metricsPort,
    metrics,
    healthy: () => watcher.healthy(Date.now(), config.healthStaleSeconds * 1000),
    notReady: () => (publishFailing() ? `PutEvents failing for ${Math.round(publisher.failingForMs(nowMs()) / 1000)} s with nothing accepted since` : undefined),
  });
  publisher.start();
  watcher.start();
  log.info('pod forwarder started', {
    cluster: config.clusterName,
    eventBus: config.eventBusName,
    namespaces: config.namespaces ?? 'all',
    labelSelector: config.labelSelector,
    forwardNotReady: config.forwardNotReady,
    port: server.port,
  });

  let stopping: Promise<{ flushed: boolean }> | undefined;
  return {
    metrics,
    port: server.port,
    tracker,
    watcher,
    stop: (deadlineMs = config.shutdownTimeoutMs) =>
      (stopping ??= (async () => {
        await watcher.stop();
        const flushed = await publisher.stop(deadlineMs);
        await server.close();
        log.info('pod forwarder stopped', { flushed, sent: metrics.eventsSent, failed: metrics.eventsFailed, dropped: metrics.eventsDropped });
        return { flushed };
      })()),
  };
}
