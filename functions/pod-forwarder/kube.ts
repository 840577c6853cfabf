/**
 * A minimal Kubernetes client for the two calls the forwarder makes (list pods in pages, watch pods), over
 * node:https with no dependency.
 *
 * Why not @kubernetes/client-node at runtime: the installed 2.x pulls in undici 8, which requires
 * Node >= 22.19 and fails at import on Node 20, where this repository's tests and bench run. The image runs
 * Node 22, but then the code we ship would not be the code we test. Its types (`V1Pod`) are still used
 * (type-only imports, erased at build), so the pod shape stays the upstream one.
 *
 * Connection: in the cluster, the pod's service account (CA file, token file re-read every minute so
 * projected-token rotation just works); in tests and the bench, an explicit server, CA and bearer token.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { isIPv6 } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';

/** An explicit API server connection: what a kubeconfig would hold, without a file. */
export interface KubeConnection {
  /** https://host:port of the API server. */
  readonly server: string;
  /** Base64 of the PEM CA bundle (the kubeconfig `certificate-authority-data` / EKS `certificateAuthority.data`). */
  readonly caData: string;
  /** Bearer token (for EKS: `k8s-aws-v1.<base64url presigned STS URL>`). */
  readonly token: string;
}

/** A non-2xx answer from the API server; `statusCode` 410 is Gone (expired resourceVersion or continue). */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;
  constructor(statusCode: number, message: string, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

/** One page of a pod list. */
export interface PodListPage {
  readonly items: V1Pod[];
  readonly resourceVersion: string;
  readonly continueToken: string | undefined;
}

/** The pod API the watcher needs: a port, so the watcher can be driven by the fake or by a stub. */
export interface PodApi {
  /** GET pods (one namespace, or all when undefined), one page. */
  listPods(namespace: string | undefined, query: { labelSelector?: string | undefined; limit: number; continueToken?: string | undefined }): Promise<PodListPage>;
  /**
   * Watches pods from `resourceVersion`. Calls `onConnected` once the server answered 200, `onEvent` per
   * line; resolves when the server ends the stream cleanly; rejects on HTTP errors (KubeApiError), network
   * errors, abort, or no data for `inactivityTimeoutMs` (error name `TimeoutError`).
   */
  watchPods(
    namespace: string | undefined,
    query: { resourceVersion: string; labelSelector?: string | undefined; timeoutSeconds: number },
    handlers: { onConnected: () => void; onEvent: (type: string, object: unknown) => void },
    options: { signal: AbortSignal; inactivityTimeoutMs: number },
  ): Promise<void>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Credentials {
  readonly server: string;
  readonly ca: string;
  token(): string;
}

function inCluster(dir = SA_DIR): Credentials {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST is not set');
  const ca = readFileSync(`${dir}/ca.crt`, 'utf8');
  let token = '';
  let readAt = 0;
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca,
    token: () => {
      if (Date.now() - readAt > 60_000) {
        token = readFileSync(`${dir}/token`, 'utf8').trim();
        readAt = Date.now();
      }
      return token;
    },
  };
}

function pathFor(namespace: string | undefined): string {
  return namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
}

async function readBody(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let body = '';
  for await (const chunk of res) body += chunk as string;
  return body;
}

async function apiError(res: IncomingMessage): Promise<KubeApiError> {
  const code = res.statusCode ?? 0;
  let message = `HTTP ${code}`;
  let reason: string | undefined;
  try {
    const status = JSON.parse(await readBody(res)) as { message?: unknown; reason?: unknown };
    if (typeof status.message === 'string') message = `HTTP ${code}: ${status.message}`;
    if (typeof status.reason === 'string') reason = status.reason;
  } catch {
    // not a Status body; the code says enough
  }
  return new KubeApiError(code, message, reason);
}

/**
 * The pod API over HTTPS: explicit `connection`, or the in-cluster service account when none is given.
 * TLS is always verified against the given CA: there is no skip-verify switch to leave on by accident.
 */
export function httpPodApi(connection?: KubeConnection, options: { requestTimeoutMs?: number } = {}): PodApi {
  const creds: Credentials =
    connection === undefined
      ? inCluster()
      : { server: connection.server.replace(/\/+$/, ''), ca: Buffer.from(connection.caData, 'base64').toString('utf8'), token: () => connection.token };
  const agent = new Agent({ keepAlive: true, ca: creds.ca });
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const headers = () => ({ authorization: `Bearer ${creds.token()}`, accept: 'application/json', 'user-agent': 'quiesce-pod-forwarder' });
  const url = (namespace: string | undefined, params: Record<string, string | undefined>): URL => {
    const u = new URL(creds.server + pathFor(namespace));
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  };

  return {
    listPods: (namespace, q) =>
      new Promise<PodListPage>((resolve, reject) => {
        const req = request(
          url(namespace, { labelSelector: q.labelSelector, limit: String(q.limit), continue: q.continueToken }),
          { method: 'GET', agent, headers: headers(), timeout: requestTimeoutMs },
          (res) => {
            if (res.statusCode !== 200) return void apiError(res).then(reject, reject);
            readBody(res).then((body) => {
              const list = JSON.parse(body) as { items?: V1Pod[] | null; metadata?: { resourceVersion?: string; continue?: string } };
              resolve({ items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', continueToken: list.metadata?.continue || undefined });
            }, reject);
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error('pod list timed out'), { name: 'TimeoutError' })));
        req.on('error', reject);
        req.end();
      }),

    watchPods: (namespace, q, handlers, opts) =>
      new Promise<void>((resolve, reject) => {
        if (opts.signal.aborted) return reject(new Error('aborted'));
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        const settle = (err?: unknown): void => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          opts.signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        };
        const req = request(
          url(namespace, {
            watch: 'true',
            resourceVersion: q.resourceVersion,
            allowWatchBookmarks: 'true',
            timeoutSeconds: String(q.timeoutSeconds),
            labelSelector: q.labelSelector,
          }),
          { method: 'GET', agent, headers: headers() },
        );
        const arm = (): void => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => req.destroy(Object.assign(new Error('watch inactive'), { name: 'TimeoutError' })), opts.inactivityTimeoutMs);
        };
        const onAbort = (): void => {
          req.destroy(Object.assign(new Error('watch stopped'), { name: 'AbortError' }));
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
        arm();
        req.on('error', settle);
        req.on('response', (res) => {
          if (res.statusCode !== 200) return void apiError(res).then(settle, settle);
          handlers.onConnected();
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            arm();
            buffer += chunk;
            for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
              const line = buffer.slice(0, nl).trim();
              buffer = buffer.slice(nl + 1);
              if (line === '') continue;
              let event: { type?: unknown; object?: unknown };
              try {
                event = JSON.parse(line) as { type?: unknown; object?: unknown };
              } catch {
                continue; // a torn line can only come from a broken stream, which ends the watch anyway
              }
              if (typeof event.type === 'string') handlers.onEvent(event.type, event.object);
            }
          });
          res.on('end', () => settle());
          res.on('error', settle);
          res.on('close', () => settle(res.complete ? undefined : new Error('watch connection closed')));
        });
        req.end();
      }),
  };
}
