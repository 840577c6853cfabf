import { request } from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eksToken } from '#core/adapters/kube/eks-token.ts';
import { FakeKubeApi, FAKE_KUBE_CA_PEM, type WatchEvent } from '#fakes/kube/index.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const kube = new FakeKubeApi({ token: { verify: { clusterName: 'test', credentials } } });
let endpoint = '';
let token = '';

interface Stream {
  status: number;
  events: WatchEvent[];
  /** Resolves when the server ends or cuts the stream: 'end' or 'error'. */
  closed: Promise<'end' | 'error'>;
  next(count: number): Promise<WatchEvent[]>;
  abort(): void;
  body: string;
}

/** A raw watch client: what client-node does, without client-node, so the fake's wire format is pinned. */
function watch(path: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}${path}`, { ca: FAKE_KUBE_CA_PEM, headers: { authorization: `Bearer ${token}` } });
    req.on('error', reject);
    req.on('response', (res) => {
      const waiters: (() => void)[] = [];
      let buffer = '';
      let closedResolve: (v: 'end' | 'error') => void = () => {};
      const stream: Stream = {
        status: res.statusCode ?? 0,
        events: [],
        body: '',
        closed: new Promise((r) => (closedResolve = r)),
        next: (count) =>
          new Promise((r, j) => {
            const t = setTimeout(() => j(new Error(`only ${stream.events.length} events: ${JSON.stringify(stream.events)}`)), 3000);
            const check = (): void => {
              if (stream.events.length >= count) {
                clearTimeout(t);
                r(stream.events.slice(0, count));
              } else waiters.push(check);
            };
            check();
          }),
        abort: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.body += chunk;
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          stream.events.push(JSON.parse(buffer.slice(0, nl)) as WatchEvent);
          buffer = buffer.slice(nl + 1);
        }
        for (const w of waiters.splice(0)) w();
      });
      res.on('end', () => closedResolve('end'));
      res.on('error', () => closedResolve('error'));
      res.on('aborted', () => closedResolve('error'));
      res.on('close', () => closedResolve(res.complete ? 'end' : 'error'));
      resolve(stream);
    });
    req.end();
  });
}

async function get(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}${path}`, { ca: FAKE_KUBE_CA_PEM, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

const rvOf = (e: WatchEvent): number => Number((e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
const nameOf = (e: WatchEvent): string => (e.object as { metadata: { name: string } }).metadata.name;

beforeAll(async () => {
  ({ endpoint } = await kube.start());
  token = await eksToken('test', { region: 'eu-west-1', credentials });
});
afterAll(() => kube.stop());
beforeEach(() => kube.reset());

describe('FakeKubeApi watch', () => {
  it('streams every change after the list resourceVersion, in order, with increasing resourceVersions', async () => {
    kube.addPod({ namespace: 'shop', name: 'web-1', ip: '10.0.1.5' });
    const list = await get('/api/v1/pods');
    const rv = (list.json['metadata'] as { resourceVersion: string }).resourceVersion;
    const s = await watch(`/api/v1/pods?watch=1&resourceVersion=${rv}`);
    expect(s.status).toBe(200);
    kube.addPod({ namespace: 'shop', name: 'web-2', ip: '10.0.1.6' });
    kube.markTerminating('shop', 'web-1', 30);
    kube.updatePod('shop', 'web-1', { ready: false });
    kube.deletePod('shop', 'web-1');
    const events = await s.next(4);
    expect(events.map((e) => `${e.type} ${nameOf(e)}`)).toEqual(['ADDED web-2', 'MODIFIED web-1', 'MODIFIED web-1', 'DELETED web-1']);
    const rvs = events.map(rvOf);
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(new Set(rvs).size).toBe(4);
    expect(rvs[0]).toBeGreaterThan(Number(rv));
    expect((events[1]?.object as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp).toBeDefined();
    s.abort();
  });

  it('replays history after an older resourceVersion, then goes live', async () => {
    kube.addPod({ namespace: 'a', name: 'p1' });
    const from = kube.resourceVersion;
    kube.addPod({ namespace: 'a', name: 'p2' });
    kube.updatePod('a', 'p1', { labels: { v: '2' } });
    const s = await watch(`/api/v1/pods?watch=true&resourceVersion=${from}`);
    kube.deletePod('a', 'p2');
    expect((await s.next(3)).map((e) => `${e.type} ${nameOf(e)}`)).toEqual(['ADDED p2', 'MODIFIED p1', 'DELETED p2']);
    s.abort();
  });

  it('without a resourceVersion sends the current state as ADDED first', async () => {
    kube.addPod({ namespace: 'b', name: 'z' });
    kube.addPod({ namespace: 'a', name: 'y' });
    const s = await watch('/api/v1/pods?watch=true');
    kube.addPod({ namespace: 'c', name: 'x' });
    expect((await s.next(3)).map((e) => `${e.type} ${nameOf(e)}`)).toEqual(['ADDED y', 'ADDED z', 'ADDED x']);
    s.abort();
  });

  it('filters by namespace and label selector, turning moves across the selector into ADDED/DELETED', async () => {
    kube.addPod({ namespace: 'shop', name: 'web-1', labels: { app: 'web' } });
    const s = await watch(`/api/v1/namespaces/shop/pods?watch=1&labelSelector=app%3Dweb&resourceVersion=${kube.resourceVersion}`);
    kube.addPod({ namespace: 'other', name: 'web-9', labels: { app: 'web' } });
    kube.updatePod('shop', 'web-1', { labels: { app: 'old' } });
    kube.updatePod('shop', 'web-1', { labels: { app: 'web' } });
    expect((await s.next(2)).map((e) => `${e.type} ${nameOf(e)}`)).toEqual(['DELETED web-1', 'ADDED web-1']);
    s.abort();
  });

  it('answers a compacted resourceVersion with an ERROR event carrying a 410 Status, then ends', async () => {
    kube.addPod({ namespace: 'a', name: 'p1' });
    const old = kube.resourceVersion;
    kube.addPod({ namespace: 'a', name: 'p2' });
    kube.compact();
    const s = await watch(`/api/v1/pods?watch=1&resourceVersion=${old}`);
    expect(s.status).toBe(200);
    expect(await s.closed).toBe('end');
    expect(s.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    // The current resourceVersion is still fine.
    const ok = await watch(`/api/v1/pods?watch=1&resourceVersion=${kube.resourceVersion}`);
    expect(ok.status).toBe(200);
    ok.abort();
  });

  it('can answer a compacted resourceVersion with HTTP 410 instead', async () => {
    const strict = new FakeKubeApi({ expiredWatchAs: 'status', historyLimit: 2 });
    const started = await strict.start();
    try {
      strict.addPod({ namespace: 'a', name: 'p1' });
      const old = strict.resourceVersion;
      strict.addPod({ namespace: 'a', name: 'p2' });
      strict.addPod({ namespace: 'a', name: 'p3' });
      strict.addPod({ namespace: 'a', name: 'p4' }); // history keeps 2: the change right after `old` is gone
      const saved = endpoint;
      endpoint = started.endpoint;
      try {
        const res = await get(`/api/v1/pods?watch=1&resourceVersion=${old}`);
        expect(res.status).toBe(410);
        expect(res.json).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
      } finally {
        endpoint = saved;
      }
    } finally {
      await strict.stop();
    }
  });

  it('drops, ends or expires open watches on request', async () => {
    const a = await watch('/api/v1/pods?watch=1');
    const b = await watch('/apis/elbv2.k8s.aws/v1beta1/targetgroupbindings?watch=1');
    await kube.waitForWatches(2);
    kube.dropWatches('reset');
    expect(await a.closed).toBe('error');
    expect(await b.closed).toBe('error');
    expect(kube.openWatches).toBe(0);

    const c = await watch('/api/v1/pods?watch=1');
    await kube.waitForWatches(1);
    kube.dropWatches('end');
    expect(await c.closed).toBe('end');

    const d = await watch('/api/v1/pods?watch=1');
    await kube.waitForWatches(1);
    kube.dropWatches('expire');
    expect(await d.closed).toBe('end');
    expect(d.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('sends BOOKMARKs only to watches that allow them', async () => {
    const withBookmarks = await watch('/api/v1/pods?watch=1&allowWatchBookmarks=true');
    const without = await watch('/api/v1/pods?watch=1');
    await kube.waitForWatches(2);
    kube.addPod({ namespace: 'a', name: 'p1' });
    kube.bookmark();
    const [added, bookmark] = await withBookmarks.next(2);
    expect(added?.type).toBe('ADDED');
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: kube.resourceVersion } } });
    await without.next(1);
    kube.dropWatches('end');
    await without.closed;
    expect(without.events.map((e) => e.type)).toEqual(['ADDED']);
  });

  it('watches TargetGroupBindings and ends a watch after timeoutSeconds', async () => {
    const s = await watch(`/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings?watch=1&timeoutSeconds=1&resourceVersion=${kube.resourceVersion}`);
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'web', targetGroupARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1', serviceRef: { name: 'web', port: 80 } });
    kube.addPod({ namespace: 'shop', name: 'p' }); // other kind: not on this watch
    const [e] = await s.next(1);
    expect(e).toMatchObject({ type: 'ADDED', object: { kind: 'TargetGroupBinding', spec: { targetGroupARN: expect.stringContaining('targetgroup/web') } } });
    expect(await s.closed).toBe('end');
    expect(s.events).toHaveLength(1);
  });

  it('records watch requests with their token and query', async () => {
    const s = await watch('/api/v1/pods?watch=1&resourceVersion=0');
    s.abort();
    expect(kube.requests.at(-1)).toMatchObject({ path: '/api/v1/pods', watch: true, token, query: { resourceVersion: '0' }, status: 200 });
  });
});
