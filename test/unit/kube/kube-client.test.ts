import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEksClusterPort, KubeApiError, KubeClient, ClusterAccessError, clusterAccess, type EksDescribeClient } from '#core/adapters/kube/index.ts';
import { eksToken } from '#core/adapters/kube/eks-token.ts';
import { FakeKubeApi } from '#fakes/kube/index.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const kube = new FakeKubeApi({ token: { verify: { clusterName: 'prod', credentials } } });
let endpoint = '';
let caPem = '';
let caData = '';
let token = '';
const clients: KubeClient[] = [];

function client(options: Partial<ConstructorParameters<typeof KubeClient>[0]> = {}): KubeClient {
  const c = new KubeClient({ endpoint, caPem, token, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  ({ endpoint, caData } = await kube.start());
  caPem = Buffer.from(caData, 'base64').toString('utf8');
  token = await eksToken('prod', { region: 'eu-west-1', credentials });
});
afterAll(() => kube.stop());
beforeEach(() => kube.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function seedPods(count: number): void {
  for (let i = 0; i < count; i += 1) {
    kube.addPod({
      namespace: i % 2 === 0 ? 'shop' : 'pay',
      name: `web-${String(i).padStart(2, '0')}`,
      ip: `10.0.1.${i + 10}`,
      nodeName: 'ip-10-0-1-1.eu-west-1.compute.internal',
      labels: { app: 'web' },
      containerPorts: [8080, { name: 'metrics', containerPort: 9090 }],
      startTime: '2026-11-21T11:00:00Z',
    });
  }
}

describe('KubeClient', () => {
  it('lists pods of all namespaces over 3 pages as domain objects', async () => {
    seedPods(5);
    kube.markTerminating('shop', 'web-00', 30);
    const pods = await client({ pageSize: 2 }).listPods();
    expect(pods).toHaveLength(5);
    const lists = kube.requests.filter((r) => r.path === '/api/v1/pods');
    expect(lists.map((r) => [r.query['limit'], r.query['continue'] === undefined])).toEqual([
      ['2', true],
      ['2', false],
      ['2', false],
    ]);
    const web0 = pods.find((p) => p.name === 'web-00');
    expect(web0).toMatchObject({
      namespace: 'shop',
      ip: '10.0.1.10',
      ips: ['10.0.1.10'],
      nodeName: 'ip-10-0-1-1.eu-west-1.compute.internal',
      phase: 'Running',
      ready: true,
      startTime: '2026-11-21T11:00:00Z',
      labels: { app: 'web' },
      containerPorts: [
        { name: undefined, containerPort: 8080, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      ],
    });
    expect(web0?.uid).toMatch(/[0-9a-f-]{36}/);
    expect(web0?.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(pods.filter((p) => p.deletionTimestamp === undefined)).toHaveLength(4);
  });

  it('lists one namespace and passes selectors', async () => {
    seedPods(4);
    kube.updatePod('shop', 'web-02', { labels: { app: 'api' } });
    const pods = await client().listPods({ namespace: 'shop', labelSelector: 'app=web' });
    expect(pods.map((p) => p.name)).toEqual(['web-00']);
    expect(kube.requests.at(-1)).toMatchObject({ path: '/api/v1/namespaces/shop/pods', query: { labelSelector: 'app=web' } });
  });

  it('starts the list over when its continue token expired (410), without mixing snapshots', async () => {
    seedPods(5);
    let calls = 0;
    const c = client({
      pageSize: 2,
      // Runs before each request: expire the snapshot just before page 2 is asked for, once.
      token: async () => {
        calls += 1;
        if (calls === 2) {
          kube.expireContinueTokens();
          kube.addPod({ namespace: 'shop', name: 'web-99' });
        }
        return token;
      },
    });
    const pods = await c.listPods();
    expect(pods).toHaveLength(6);
    expect(new Set(pods.map((p) => p.name)).size).toBe(6);
    expect(kube.requests.map((r) => [r.status, r.query['continue'] === undefined])).toEqual([
      [200, true],
      [410, false],
      [200, true],
      [200, false],
      [200, false],
    ]);
  });

  it('gives up with a typed 410 after maxListRestarts', async () => {
    seedPods(3);
    const c = client({
      pageSize: 1,
      maxListRestarts: 0,
      token: async () => {
        kube.expireContinueTokens();
        return token;
      },
    });
    await expect(c.listPods()).rejects.toMatchObject({ status: 410, reason: 'Expired', expired: true });
  });

  it('lists TargetGroupBindings and gets one pod (undefined when gone)', async () => {
    kube.addTargetGroupBinding({
      namespace: 'shop',
      name: 'k8s-shop-web-1234',
      targetGroupARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-web/abc',
      serviceRef: { name: 'web', port: 80 },
    });
    seedPods(1);
    const c = client();
    expect(await c.listTargetGroupBindings()).toEqual([
      {
        namespace: 'shop',
        name: 'k8s-shop-web-1234',
        targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-web/abc',
        targetType: 'ip',
        serviceRef: { name: 'web', port: 80 },
      },
    ]);
    expect(await c.listTargetGroupBindings({ namespace: 'pay' })).toEqual([]);
    expect((await c.getPod('shop', 'web-00'))?.ip).toBe('10.0.1.10');
    kube.deletePod('shop', 'web-00');
    expect(await c.getPod('shop', 'web-00')).toBeUndefined();
  });

  it('gets 401 Unauthorized for a token that is not an EKS token, or signed for another cluster', async () => {
    for (const bad of ['not-a-token', 'k8s-aws-v1.aHR0cHM6Ly9leGFtcGxlLmNvbS8=', await eksToken('staging', { region: 'eu-west-1', credentials })]) {
      const err = await client({ token: bad }).listPods().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeApiError);
      expect(err).toMatchObject({ status: 401, reason: 'Unauthorized', retryable: false });
    }
  });

  it('trusts only the cluster CA: without it the TLS handshake fails', async () => {
    const err = await client({ caPem: '' }).listPods().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: undefined, reason: 'TLSVerificationFailed', retryable: false });
    expect(kube.requests).toHaveLength(0);
  });

  it('turns 503 and injected failures into typed, retryable errors', async () => {
    kube.setUnavailable(true);
    const err = await client().listPods().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 503, reason: 'ServiceUnavailable', retryable: true, path: '/api/v1/pods' });
    kube.setUnavailable(false);
    kube.failNext(1, 429);
    await expect(client().listPods()).rejects.toMatchObject({ status: 429, reason: 'TooManyRequests', retryable: true });
    await expect(client().listPods()).resolves.toEqual([]);
  });

  it('times out a request that gets no answer', async () => {
    const err = await client({ endpoint: 'https://127.0.0.1:1', timeoutMs: 200 }).listPods().catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: expect.stringMatching(/NetworkError|Timeout/), retryable: true });
  });
});

describe('createEksClusterPort', () => {
  function eksStub(cluster: Record<string, unknown>): EksDescribeClient & { calls: number } {
    const stub = {
      calls: 0,
      send: async () => {
        stub.calls += 1;
        return { cluster, $metadata: {} };
      },
    };
    return stub as unknown as EksDescribeClient & { calls: number };
  }

  it('describes the cluster and signs a fresh token on every connect', async () => {
    seedPods(2);
    const eks = eksStub({ name: 'prod', endpoint, certificateAuthority: { data: caData }, status: 'ACTIVE' });
    const port = createEksClusterPort({ eks, clusterName: 'prod', region: 'eu-west-1', credentials });
    const conn = await port.connect();
    try {
      expect((await conn.listPods()).map((p) => p.name)).toEqual(['web-01', 'web-00']);
    } finally {
      conn.close();
    }
    (await port.connect()).close();
    expect(eks.calls).toBe(2);
  });

  it('rejects a cluster without endpoint or CA', async () => {
    await expect(clusterAccess(eksStub({ status: 'CREATING' }), 'prod')).rejects.toBeInstanceOf(ClusterAccessError);
    await expect(clusterAccess(eksStub({ endpoint, certificateAuthority: { data: 'bm90IGEgY2VydA' } }), 'prod')).rejects.toThrow(/not a base64 PEM/);
  });
});
