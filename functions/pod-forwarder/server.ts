/**
 * One small node:http server for /metrics (Prometheus text), /healthz (liveness: the pod watch) and /readyz
 * (readiness: the watch, and PutEvents not failing for PUBLISH_UNHEALTHY_SECONDS): no framework, because
 * three read-only routes do not justify a dependency in an in-cluster image.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ForwarderMetrics } from './metrics.ts';

/** What the server reads; `healthy` and `ready` are evaluated per request. */
export interface ServerOptions {
  readonly port: number;
  readonly metrics: ForwarderMetrics;
  readonly healthy: () => boolean;
  /** Why the pod is not ready (undefined = ready); default: ready whenever healthy. */
  readonly notReady?: () => string | undefined;
  /** Bind address (default all interfaces, since the kubelet probes the pod IP). */
  readonly host?: string;
}

/** A started server and how to stop it. */
export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the metrics/health server. /healthz answers 200 "ok" or 503 "watch disconnected" so the kubelet
 * restarts a forwarder whose watch is stuck; /readyz answers 503 with the reason while the watch is down or
 * publishing fails (a not-ready forwarder shows in the Deployment's status and in the alerts, where a quietly
 * dropping one would not); any other path is 404, any method but GET/HEAD 405.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(options.metrics.render());
    } else if (path === '/healthz') {
      const ok = options.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'ok\n' : 'watch disconnected\n');
    } else if (path === '/readyz') {
      const why = options.healthy() ? options.notReady?.() : 'watch disconnected';
      res.writeHead(why === undefined ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(why === undefined ? 'ok\n' : `${why}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
