/**
 * The forwarder's metrics and health server: liveness follows the watch, readiness the watch and the publish
 * health, and it answers on IPv6 as well as IPv4 (an IPv6 cluster's kubelet probes the pod's IPv6 address:
 * the server binds every interface, which Node makes dual-stack).
 */
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ForwarderMetrics } from '../../../functions/pod-forwarder/metrics.ts';
import { startServer, type RunningServer } from '../../../functions/pod-forwarder/server.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.family === 'IPv6' && i.internal));

describe('forwarder server', () => {
  it('/healthz follows the watch only; /readyz follows the watch and the publish health, saying why', async () => {
    let healthy = true;
    let notReady: string | undefined = undefined;
    server = await startServer({ port: 0, metrics: new ForwarderMetrics(), healthy: () => healthy, notReady: () => notReady });
    const get = async (path: string): Promise<[number, string]> => {
      const r = await fetch(`http://127.0.0.1:${server!.port}${path}`);
      return [r.status, await r.text()];
    };
    expect(await get('/healthz')).toEqual([200, 'ok\n']);
    expect(await get('/readyz')).toEqual([200, 'ok\n']);
    notReady = 'PutEvents failing for 90 s with nothing accepted since';
    expect(await get('/healthz')).toEqual([200, 'ok\n']);
    expect(await get('/readyz')).toEqual([503, 'PutEvents failing for 90 s with nothing accepted since\n']);
    healthy = false;
    expect(await get('/healthz')).toEqual([503, 'watch disconnected\n']);
    expect(await get('/readyz')).toEqual([503, 'watch disconnected\n']);
  });

  it.skipIf(!hasIpv6Loopback)(`answers on the IPv6 loopback too${hasIpv6Loopback ? '' : ' (SKIPPED: this machine has no IPv6 loopback)'}`, async () => {
    server = await startServer({ port: 0, metrics: new ForwarderMetrics(), healthy: () => true });
    const r = await fetch(`http://[::1]:${server.port}/readyz`);
    expect(r.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
  });
});
