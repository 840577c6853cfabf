import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../../fakes/kube/index.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';
import { validatePodTerminatingDetail } from '#core/contracts/pod-terminating.ts';
import type { RunningForwarder } from '../../../functions/pod-forwarder/forwarder.ts';
import { createBus, forwarderFor, published, publishedPods, settle, waitUntil } from './helpers.ts';

const kube = new FakeKubeApi();
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

const addPods = (ns: string, names: string[]) =>
  names.forEach((name, i) => kube.addPod({ namespace: ns, name, ip: `10.0.${ns.length}.${i + 10}`, nodeName: 'node-1', containerPorts: [{ name: 'http', containerPort: 8080 }], labels: { app: name } }));

async function start(...args: Parameters<typeof forwarderFor> extends [unknown, unknown, ...infer R] ? R : never) {
  const r = await forwarderFor(kube, caData, ...args);
  running = r.fwd;
  await kube.waitForWatches(1);
  return r;
}

describe('pod forwarder against the fake Kubernetes API and fake EventBridge', () => {
  it('turns each deletion into exactly one valid "Pod Terminating" event', async () => {
    addPods('shop', ['web-1', 'web-2']);
    const { fwd } = await start();
    addPods('pay', ['api-1']);
    kube.markTerminating('shop', 'web-1', 30);
    kube.markTerminating('pay', 'api-1', 10);
    kube.updatePod('shop', 'web-1', { labels: { app: 'web-1', touched: 'yes' } }); // still terminating: no resend
    kube.deletePod('shop', 'web-1');
    await waitUntil(() => published().length >= 2, 'two events');
    kube.markTerminating('shop', 'web-2', 30);
    kube.deletePod('shop', 'web-2');
    await waitUntil(() => published().length >= 3, 'three events');
    await settle();

    expect(publishedPods()).toEqual(['pay/api-1', 'shop/web-1', 'shop/web-2']);
    for (const e of published()) {
      expect(e.source).toBe('quiesce.kubernetes');
      expect(e.detailType).toBe('Pod Terminating');
      expect(validatePodTerminatingDetail(e.detail)).toMatchObject({ ok: true });
    }
    const api = published().find((e) => e.pod === 'pay/api-1')!.detail;
    expect(api).toMatchObject({ cluster: 'test-cluster', podIPs: ['10.0.3.10'], nodeName: 'node-1', gracePeriodSeconds: 10, reason: 'deletion' });
    expect(api['containerPorts']).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(fwd.metrics).toMatchObject({ eventsSent: 3, eventsFailed: 0, eventsDropped: 0, relists: 1 });

    const metrics = await (await fetch(`http://127.0.0.1:${fwd.port}/metrics`)).text();
    expect(metrics).toMatch(/^quiesce_forwarder_events_sent_total 3$/m);
    expect(metrics).toMatch(/^quiesce_forwarder_queue_depth 0$/m);
    const health = await fetch(`http://127.0.0.1:${fwd.port}/healthz`);
    expect(health.status).toBe(200);
    // every request carried the EKS-shaped bearer token
    expect(kube.requests.every((r) => r.token?.startsWith('k8s-aws-v1.'))).toBe(true);
  });

  it('sends terminations already in progress when it starts, and "Pod Not Ready" when enabled', async () => {
    addPods('shop', ['old-1', 'web-1']);
    kube.markTerminating('shop', 'old-1', 30);
    await start({ forwardNotReady: true });
    kube.updatePod('shop', 'web-1', { ready: false });
    await waitUntil(() => published().length >= 2, 'two events');
    await settle();
    expect(published().map((e) => [e.pod, e.detailType, e.detail['reason']]).sort()).toEqual([
      ['shop/old-1', 'Pod Terminating', 'deletion'],
      ['shop/web-1', 'Pod Not Ready', 'not-ready'],
    ]);
  });

  it('recovers from dropped connections without losing or duplicating a termination (resumes, no re-list)', async () => {
    addPods('shop', ['a', 'b', 'c', 'd']);
    const { fwd } = await start();
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => published().length === 1, 'a');
    kube.dropWatches('reset'); // a load balancer cuts the stream
    kube.markTerminating('shop', 'b', 30); // happens while disconnected: replayed from resourceVersion
    await kube.waitForWatches(1);
    kube.dropWatches('end'); // the API server's own timeout
    kube.markTerminating('shop', 'c', 30);
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'd', 30);
    await waitUntil(() => published().length >= 4, 'four events');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/b', 'shop/c', 'shop/d']);
    expect(fwd.metrics.relists).toBe(1);
    expect(fwd.metrics.watchRestarts).toBeGreaterThanOrEqual(2);
  });

  it('re-lists after 410 Gone (ERROR event in the stream) without duplicating', async () => {
    addPods('shop', ['a', 'b']);
    const { fwd } = await start();
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => published().length === 1, 'a');
    kube.dropWatches('expire');
    await waitUntil(() => fwd.metrics.relists >= 2, 're-list');
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'b', 30);
    await waitUntil(() => published().length >= 2, 'b');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/b']);
  });

  it('after an outage and compaction (410 on reconnect), the re-list sends what was missed, once, and logs pods already gone', async () => {
    addPods('shop', ['a', 'b', 'c', 'd', 'e']);
    const { fwd, log } = await start();
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => published().length === 1, 'a');

    kube.setUnavailable(true); // control plane upgrade: reconnects fail with 503 and back off
    kube.dropWatches('reset');
    kube.markTerminating('shop', 'b', 30); // terminating while we were away: must be sent by the re-list
    kube.markTerminating('shop', 'c', 30);
    kube.deletePod('shop', 'c'); // terminated AND gone while away: nothing left to deregister early
    kube.deletePod('shop', 'd'); // gone while away
    kube.compact(); // history gone: resuming from our resourceVersion gets 410
    await settle(100);
    expect(fwd.watcher.connected).toBe(false);
    kube.setUnavailable(false);

    await waitUntil(() => published().length >= 2, 'b');
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'e', 30);
    await waitUntil(() => published().length >= 3, 'e');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/b', 'shop/e']);
    expect(fwd.metrics.relists).toBe(2);
    const vanished = log.lines.filter((l) => l.message.includes('vanished')).map((l) => l.fields['name']).sort();
    expect(vanished).toEqual(['c', 'd']);
  });

  it('resends only the PutEvents entries that failed', async () => {
    addPods('shop', ['a', 'b', 'c', 'd', 'e']);
    const { fwd } = await start({ batchMaxWaitMs: 100 });
    fakeAws.events.failNextEntries(3);
    for (const n of ['a', 'b', 'c', 'd', 'e']) kube.markTerminating('shop', n, 30);
    await waitUntil(() => published().length >= 5, 'five events');
    await settle();
    expect(publishedPods()).toEqual(['shop/a', 'shop/b', 'shop/c', 'shop/d', 'shop/e']);
    expect(fwd.metrics).toMatchObject({ eventsSent: 5, eventsFailed: 0 });
    const calls = fakeAws.calls.count('events', 'PutEvents');
    expect(calls).toBe(2); // one batch of 5 (3 failed), one resend of the 3
  });

  it('counts entries that keep failing after bounded attempts', async () => {
    addPods('shop', ['a', 'b']);
    const { fwd } = await start({}, { publisher: { baseBackoffMs: 5, maxBackoffMs: 10, maxAttempts: 3 } });
    fakeAws.events.failNextEntries(1000);
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => fwd.metrics.eventsFailed === 1, 'failure counted');
    expect(fakeAws.calls.count('events', 'PutEvents')).toBe(3);
    const metrics = await (await fetch(`http://127.0.0.1:${fwd.port}/metrics`)).text();
    expect(metrics).toMatch(/^quiesce_forwarder_events_failed_total 1$/m);
  });

  it('turns not ready while PutEvents keeps failing (AccessDenied), stays live, and is ready again once an entry is accepted', async () => {
    addPods('shop', ['a', 'b']);
    // The readiness clock is the test's: "sustained" is PUBLISH_UNHEALTHY_SECONDS of it, not of the machine's.
    let clock = Date.parse('2026-11-21T12:00:00Z');
    const { fwd } = await start({ publishUnhealthySeconds: 60 }, { now: () => new Date(clock), publisher: { baseBackoffMs: 5, maxBackoffMs: 10, maxAttempts: 2 } });
    const get = async (path: string): Promise<[number, string]> => {
      const r = await fetch(`http://127.0.0.1:${fwd.port}${path}`);
      return [r.status, await r.text()];
    };
    const metric = async (name: string): Promise<string | undefined> => new RegExp(`^quiesce_forwarder_${name} (\\S+)$`, 'm').exec((await get('/metrics'))[1])?.[1];
    expect(await get('/readyz')).toEqual([200, 'ok\n']);
    expect(await metric('last_publish_timestamp_seconds')).toBe('0');

    fakeAws.faults.fail('PutEvents', { service: 'events', code: 'AccessDeniedException', message: 'not authorized to perform events:PutEvents', times: 1000 });
    kube.markTerminating('shop', 'a', 30);
    await waitUntil(() => fwd.metrics.eventsFailed === 1, 'the denied entry given up on');
    // Failing, but not for long yet: still ready.
    clock += 59_000;
    expect((await get('/readyz'))[0]).toBe(200);
    expect(await metric('publish_failing')).toBe('0');
    clock += 2_000;
    const [status, why] = await get('/readyz');
    expect(status).toBe(503);
    expect(why).toMatch(/PutEvents failing for 61 s with nothing accepted since/);
    expect(await metric('publish_failing')).toBe('1');
    expect(await metric('events_failed_total')).toBe('1');
    // Liveness follows the watch only: a restart would not mend a denied PutEvents.
    expect((await get('/healthz'))[0]).toBe(200);

    fakeAws.faults.reset();
    kube.markTerminating('shop', 'b', 30);
    await waitUntil(() => fwd.metrics.eventsSent === 1, 'the next entry accepted');
    expect((await get('/readyz'))[0]).toBe(200);
    expect(await metric('publish_failing')).toBe('0');
    expect(await metric('last_publish_timestamp_seconds')).toBe(String(Math.floor(clock / 1000)));
  });

  it('a full queue drops the oldest events and counts the drops, without stalling the watch', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
    addPods('shop', names);
    const { fwd } = await start({ queueMax: 5, batchMaxWaitMs: 0 }, { publisher: { concurrency: 1 } });
    fakeAws.faults.latency(400, { service: 'events', operation: 'PutEvents' });
    for (const n of names) kube.markTerminating('shop', n, 30);
    await waitUntil(() => fwd.metrics.eventsSent + fwd.metrics.eventsDropped === 30, 'all accounted for', 10_000);
    await settle();
    const sent = publishedPods();
    expect(fwd.metrics.eventsDropped).toBeGreaterThan(0);
    expect(sent).toHaveLength(30 - fwd.metrics.eventsDropped);
    // the newest terminations survive: the last five marked are all sent
    for (const n of names.slice(-5)) expect(sent).toContain(`shop/${n}`);
    const metrics = await (await fetch(`http://127.0.0.1:${fwd.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^quiesce_forwarder_events_dropped_total ${fwd.metrics.eventsDropped}$`, 'm'));
  });

  it('flushes the queue on stop', async () => {
    addPods('shop', ['a', 'b', 'c']);
    const { fwd } = await start({ batchMaxWaitMs: 60_000 });
    for (const n of ['a', 'b', 'c']) kube.markTerminating('shop', n, 30);
    await waitUntil(() => fwd.metrics.queueDepth() === 3, 'queued');
    expect(published()).toHaveLength(0);
    running = undefined;
    expect(await fwd.stop(3000)).toEqual({ flushed: true });
    expect(publishedPods()).toEqual(['shop/a', 'shop/b', 'shop/c']);
  });

  it('watches only the configured namespaces and label selector', async () => {
    addPods('shop', ['web-1', 'web-2']);
    addPods('other', ['web-1']);
    const { fwd } = await forwarderFor(kube, caData, { namespaces: ['shop', 'pay'], labelSelector: 'app=web-1' });
    running = fwd;
    await kube.waitForWatches(2);
    addPods('pay', ['web-1']);
    for (const [ns, n] of [['shop', 'web-1'], ['shop', 'web-2'], ['other', 'web-1'], ['pay', 'web-1']] as const) kube.markTerminating(ns, n, 30);
    await waitUntil(() => published().length >= 2, 'two events');
    await settle(300);
    expect(publishedPods()).toEqual(['pay/web-1', 'shop/web-1']);
    expect(fwd.metrics.relists).toBe(2); // one list per namespace
  });
});
