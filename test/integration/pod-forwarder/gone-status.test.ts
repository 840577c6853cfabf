/**
 * The other shapes of "Gone" and of an unhealthy watch: 410 as an HTTP status on the watch request (some
 * API servers and proxies), an expired continue token in the middle of a paged list, and /healthz turning
 * 503 when the watch has been down longer than HEALTH_STALE_SECONDS.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../../fakes/kube/index.ts';
import { httpPodApi, type PodApi } from '../../../functions/pod-forwarder/kube.ts';
import type { RunningForwarder } from '../../../functions/pod-forwarder/forwarder.ts';
import { createBus, eksToken, forwarderFor, published, publishedPods, settle, waitUntil } from './helpers.ts';

const kube = new FakeKubeApi({ expiredWatchAs: 'status' });
let caData = '';
let running: RunningForwarder | undefined;

beforeAll(async () => {
  ({ caData } = await kube.start());
});
afterAll(async () => {
  await kube.stop();
});
beforeEach(async () => {
  kube.reset();
  await createBus();
});
afterEach(async () => {
  await running?.stop(2000);
  running = undefined;
});

const addPods = (names: string[]) => names.forEach((name, i) => kube.addPod({ namespace: 'shop', name, ip: `10.0.9.${i + 10}` }));

describe('pod forwarder: Gone and health edge cases', () => {
  it('re-lists when the watch request itself answers HTTP 410, without duplicating', async () => {
    addPods(['a', 'b', 'c']);
    const { fwd } = await forwarderFor(kube, caData);
    running = fwd;
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => published().length === 1, 'a');
    kube.setUnavailable(true);
    kube.dropWatches('reset');
    kube.markTerminating('shop', 'b', 30); // missed, and compacted away: only a re-list can show it
    kube.compact();
    kube.setUnavailable(false);
    await waitUntil(() => fwd.metrics.relists >= 2, 're-list');
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'c', 30);
    await waitUntil(() => published().length >= 3, 'b and c');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/b', 'shop/c']);
    expect(kube.requests.some((r) => r.watch && r.status === 410)).toBe(true);
  });

  it('restarts a paged list whose continue token expired, sending each termination once', async () => {
    addPods(['a', 'b', 'c', 'd', 'e']);
    for (const n of ['a', 'c', 'e']) kube.markTerminating('shop', n, 30);
    const real = httpPodApi({ server: kube.endpoint, caData, token: eksToken() });
    let pages = 0;
    const podApi: PodApi = {
      watchPods: real.watchPods,
      listPods: async (ns, q) => {
        const page = await real.listPods(ns, q);
        pages += 1;
        if (pages === 1) kube.expireContinueTokens(); // the next page of this list will be 410
        return page;
      },
    };
    const { fwd } = await forwarderFor(kube, caData, {}, { podApi, watcher: { pageSize: 2, baseBackoffMs: 10, maxBackoffMs: 50 } });
    running = fwd;
    await kube.waitForWatches(1);
    await waitUntil(() => published().length >= 3, 'three events');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/c', 'shop/e']);
    expect(kube.requests.some((r) => r.status === 410)).toBe(true);
  });

  it('/healthz is 503 once the watch has been down longer than HEALTH_STALE_SECONDS, and ok again after', async () => {
    const { fwd } = await forwarderFor(kube, caData, { healthStaleSeconds: 1 });
    running = fwd;
    await kube.waitForWatches(1);
    const health = async () => (await fetch(`http://127.0.0.1:${fwd.port}/healthz`)).status;
    expect(await health()).toBe(200);
    kube.setUnavailable(true);
    kube.dropWatches('reset');
    await settle(300);
    expect(await health()).toBe(200); // a short gap is normal
    await settle(1200);
    expect(await health()).toBe(503);
    kube.setUnavailable(false);
    await kube.waitForWatches(1);
    await waitUntil(() => fwd.watcher.connected, 'reconnected');
    expect(await health()).toBe(200);
  });
});
