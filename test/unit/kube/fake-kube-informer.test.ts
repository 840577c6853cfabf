/**
 * A reference client against FakeKubeApi: @kubernetes/client-node's informer (the client most in-cluster
 * controllers use) pins that the fake's list + watch is what a real client needs, including recovery from
 * cut watches and from 410 (relist). The project pins client-node 1.x (a dev dependency): 2.x pulls
 * undici 8, which does not load on Node 20.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { eksToken } from '#core/adapters/kube/eks-token.ts';
import { FakeKubeApi } from '#fakes/kube/index.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const kube = new FakeKubeApi();
let config: KubeConfig;

beforeAll(async () => {
  const { endpoint, caData } = await kube.start();
  const { KubeConfig } = await import('@kubernetes/client-node');
  config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server: endpoint, caData }],
    users: [{ name: 'u', token: await eksToken('fake', { region: 'us-east-1', credentials }) }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
});
afterAll(() => kube.stop());
beforeEach(() => kube.reset());

/** Waits, at most 5 s, for the condition the test is about to assert; fails naming it. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('an informer follows adds, updates and deletes, and recovers from a cut watch and from 410', async () => {
  const { CoreV1Api, makeInformer } = await import('@kubernetes/client-node');
  kube.addPod({ namespace: 'shop', name: 'web-1', ip: '10.0.1.5' });
  const api = config.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(config, '/api/v1/pods', () => api.listPodForAllNamespaces());
  const seen: string[] = [];
  informer.on('add', (p) => seen.push(`add ${p.metadata?.name ?? ''}`));
  informer.on('update', (p) => seen.push(`update ${p.metadata?.name ?? ''} ${p.metadata?.deletionTimestamp ? 'terminating' : ''}`.trim()));
  informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name ?? ''}`));
  // client-node 1.x stops an informer on a watch error; its documented pattern is to restart it. Never
  // after the test has stopped it: a restart racing the end of the test would open a watch nobody closes.
  let done = false;
  informer.on('error', () =>
    setTimeout(() => {
      if (!done) void informer.start().catch(() => undefined);
    }, 50),
  );
  await informer.start();
  const lists = (): number => kube.requests.filter((r) => !r.watch).length;
  const names = (): string[] => informer.list().map((p) => p.metadata?.name ?? '').sort();
  try {
    await kube.waitForWatches(1);
    kube.markTerminating('shop', 'web-1', 30);
    kube.addPod({ namespace: 'shop', name: 'web-2', ip: '10.0.1.6' });
    await until(() => new Set(seen).size >= 3, 'three events');
    // An informer restarted after a watch error re-lists and may announce a pod again: judge distinct events.
    expect([...new Set(seen)]).toEqual(['add web-1', 'update web-1 terminating', 'add web-2']);

    kube.dropWatches('reset');
    kube.deletePod('shop', 'web-1'); // happens while no watch is open: must arrive on the resumed watch
    await until(() => seen.includes('delete web-1'), 'delete after reconnect');

    await kube.waitForWatches(1);
    const listsBefore = lists();
    kube.compact();
    kube.addPod({ namespace: 'shop', name: 'web-3' });
    kube.dropWatches('expire'); // ERROR 410 -> the informer relists
    // web-3 may reach the informer on the old watch before the 410 does, so its arrival alone does not show
    // the relist: wait for both things asserted, the list request and the informer's resulting view.
    await until(() => lists() > listsBefore && names().join() === 'web-2,web-3', 'relist after 410');
    expect(lists()).toBeGreaterThan(listsBefore);
    expect(names()).toEqual(['web-2', 'web-3']);
  } finally {
    done = true;
    await informer.stop();
  }
});
