/**
 * Kubernetes -> termination signals: list + watch pods with resourceVersion, re-list on 410 Gone, reconnect
 * with exponential backoff. Our own loop (the same one client-go's reflector and client-node's ListWatch
 * run) rather than an informer cache: the cache keeps every full pod object (too much memory at 5,000
 * pods) and hides the connection state that /healthz and the restart/re-list metrics need.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { PodApi } from './kube.ts';
import type { PodTracker } from './tracker.ts';
import type { ForwarderMetrics } from './metrics.ts';
import { errorMessage, type Logger } from './log.ts';
import { sleep } from './publisher.ts';

/** Options of the watcher; backoff and page size are tunable for tests. */
export interface PodWatcherOptions {
  readonly api: PodApi;
  readonly tracker: PodTracker;
  readonly metrics: ForwarderMetrics;
  readonly log: Logger;
  /** Namespaces to watch (one list/watch each); undefined = one cluster-wide watch. */
  readonly namespaces?: readonly string[] | undefined;
  readonly labelSelector?: string | undefined;
  /** First reconnect delay after a failure (default 500 ms), doubling up to maxBackoffMs (default 30 s). */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Pods per list page (default 500): bounded memory while listing a big cluster. */
  readonly pageSize?: number;
  /** Server-side watch timeout (default 300 s): the server ends the watch cleanly and we resume from resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  /** No bytes (not even a bookmark) for this long ends the watch as dead (default 90 s); it resumes at once. */
  readonly inactivityTimeoutMs?: number;
}

interface Scope {
  readonly namespace: string | undefined;
  connected: boolean;
  /** Last time this scope's watch was known connected (ms); the start time until the first connection. */
  lastConnectedAt: number;
}

interface WatchOutcome {
  readonly resourceVersion: string;
  readonly gone: boolean;
  readonly error: unknown;
  readonly received: number;
  readonly connected: boolean;
  readonly durationMs: number;
}

/** HTTP 410 Gone (a KubeApiError from the watch request itself). */
function isGone(err: unknown): boolean {
  return (err as { statusCode?: unknown } | null | undefined)?.statusCode === 410;
}

/**
 * Runs one list/watch loop per scope until stopped, feeding every pod observation to the tracker. A watch
 * that ends cleanly (server timeout, client inactivity timeout) resumes at once from the last resourceVersion;
 * 410 Gone re-lists at once; anything else waits with exponential backoff (with jitter), reset once a watch
 * has delivered events or stayed up.
 */
export class PodWatcher {
  readonly #o: PodWatcherOptions;
  readonly #scopes: Scope[];
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(options: PodWatcherOptions) {
    this.#o = options;
    const started = Date.now();
    const namespaces = options.namespaces === undefined || options.namespaces.length === 0 ? [undefined] : options.namespaces;
    this.#scopes = namespaces.map((namespace) => ({ namespace, connected: false, lastConnectedAt: started }));
  }

  /** Starts watching (idempotent). */
  start(): void {
    if (this.#loops.length === 0) this.#loops = this.#scopes.map((s) => this.#run(s));
  }

  /** Stops every watch and waits for the loops to end; no signal is produced after this resolves. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
  }

  /** True when every scope's watch is connected now. */
  get connected(): boolean {
    return this.#scopes.every((s) => s.connected);
  }

  /**
   * Health for /healthz: every scope is connected, or was within `staleMs` (a reconnect or re-list in
   * progress is normal; a watch down for longer means terminations are not being seen).
   */
  healthy(now: number, staleMs: number): boolean {
    return this.#scopes.every((s) => s.connected || now - s.lastConnectedAt <= staleMs);
  }

  async #run(scope: Scope): Promise<void> {
    const { log, metrics } = this.#o;
    const base = this.#o.baseBackoffMs ?? 500;
    const max = this.#o.maxBackoffMs ?? 30_000;
    const stop = this.#stop.signal;
    let resourceVersion = '';
    let failures = 0;
    const backoff = async (): Promise<void> => {
      failures += 1;
      const ceiling = Math.min(max, base * 2 ** (failures - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2), stop);
    };
    while (!stop.aborted) {
      if (resourceVersion === '') {
        try {
          resourceVersion = await this.#relist(scope);
        } catch (err) {
          if (stop.aborted) break;
          log.warn('pod list failed; backing off', { namespace: scope.namespace, error: errorMessage(err), failures: failures + 1 });
          await backoff();
          continue;
        }
        if (stop.aborted) break;
      }
      const outcome = await this.#watchOnce(scope, resourceVersion);
      if (stop.aborted) break;
      metrics.watchRestarts += 1;
      resourceVersion = outcome.gone ? '' : outcome.resourceVersion;
      const err = outcome.error as { name?: unknown } | null | undefined;
      const timeout = err?.name === 'TimeoutError';
      if (outcome.connected && (outcome.received > 0 || outcome.durationMs >= 5_000)) failures = 0;
      if (outcome.gone) {
        log.info('watch resourceVersion expired (410 Gone); re-listing', { namespace: scope.namespace });
      } else if (err && !timeout) {
        log.warn('pod watch failed; reconnecting with backoff', { namespace: scope.namespace, error: errorMessage(err), failures: failures + 1 });
        await backoff();
      } else if (!outcome.connected || (outcome.received === 0 && outcome.durationMs < 1_000 && !timeout)) {
        // A watch closed at once without error: do not hammer the API server.
        await backoff();
      }
    }
    scope.connected = false;
  }

  /** Lists every pod of the scope page by page, feeding the tracker; returns the list's resourceVersion. */
  async #relist(scope: Scope): Promise<string> {
    const { tracker, metrics, log } = this.#o;
    metrics.relists += 1;
    const session = tracker.startRelist(scope.namespace);
    const labelSelector = this.#o.labelSelector;
    const limit = this.#o.pageSize ?? 500;
    let cont: string | undefined;
    let resourceVersion = '';
    let count = 0;
    do {
      const page = await this.#o.api.listPods(scope.namespace, { labelSelector, limit, continueToken: cont });
      for (const pod of page.items) tracker.observe(pod, 'list', session);
      count += page.items.length;
      resourceVersion = page.resourceVersion;
      cont = page.continueToken;
    } while (cont !== undefined && !this.#stop.signal.aborted);
    if (this.#stop.signal.aborted) return '';
    tracker.finishRelist(session);
    log.info('pods listed', { namespace: scope.namespace, count, resourceVersion });
    return resourceVersion;
  }

  /** One watch connection, from `resourceVersion` until it ends; never throws. */
  async #watchOnce(scope: Scope, resourceVersion: string): Promise<WatchOutcome> {
    const { tracker, log } = this.#o;
    const started = Date.now();
    const local = new AbortController();
    const onStop = (): void => local.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    let latest = resourceVersion;
    let gone = false;
    let received = 0;
    let connected = false;
    let error: unknown = null;
    try {
      await this.#o.api.watchPods(
        scope.namespace,
        { resourceVersion, labelSelector: this.#o.labelSelector, timeoutSeconds: this.#o.watchTimeoutSeconds ?? 300 },
        {
          onConnected: () => {
            connected = true;
            scope.connected = true;
            scope.lastConnectedAt = Date.now();
          },
          onEvent: (type, obj) => {
            if (local.signal.aborted) return;
            if (type === 'ERROR') {
              const status = (obj ?? {}) as { code?: unknown; message?: unknown };
              if (status.code === 410) gone = true;
              else log.warn('watch error event', { namespace: scope.namespace, code: status.code, reason: status.message });
              local.abort();
              return;
            }
            const pod = obj as V1Pod;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
              received += 1;
              tracker.observe(pod, type === 'ADDED' ? 'added' : type === 'MODIFIED' ? 'modified' : 'deleted');
            }
            const rv = pod?.metadata?.resourceVersion;
            if (rv) latest = rv;
          },
        },
        { signal: local.signal, inactivityTimeoutMs: this.#o.inactivityTimeoutMs ?? 90_000 },
      );
    } catch (err) {
      if (isGone(err)) gone = true;
      else if (!gone) error = err;
    } finally {
      this.#stop.signal.removeEventListener('abort', onStop);
      if (connected) scope.lastConnectedAt = Date.now();
      scope.connected = false;
    }
    return { resourceVersion: latest, gone, error, received, connected, durationMs: Date.now() - started };
  }
}
