import { describe, expect, it } from 'vitest';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '#core/domain/registration.ts';
import { buildIndexSnapshot, namedBy, RegistrationIndex } from '#core/observe/target-index.ts';

const group = (arn: string, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({ arn, name: arn, targetType, vpcId: 'vpc-1', port: 80, loadBalancerArns: [] });
const target = (tg: string, id: string): TargetRegistration => ({ kind: 'target', targetGroupArn: tg, targetGroupName: tg, id, port: 80, state: 'healthy' });
const instance = (svc: string, id: string, attributes: Record<string, string>): CloudMapRegistration => ({ kind: 'cloudmap', namespaceId: 'ns', namespaceName: 'mesh', serviceId: svc, serviceName: svc, instanceId: id, attributes });

/** A stub world whose calls are counted; `world` can change between lookups. */
function stub() {
  const world = {
    groups: [group('a'), group('b'), group('i', 'instance')],
    targets: new Map<string, TargetRegistration[]>([['a', [target('a', '10.0.0.1')]], ['b', [target('b', '10.0.0.2')]], ['i', []]]),
    instances: [instance('svc', '10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1', 'k8s.io/pod': 'p1', 'k8s.io/namespace': 'ns' })],
  };
  const calls = { listTargetGroups: 0, targetHealth: [] as string[], listInstances: 0, vpc: 0 };
  let t = 0;
  const index = new RegistrationIndex({
    elbv2: {
      listTargetGroups: async () => {
        calls.listTargetGroups++;
        return world.groups;
      },
      tagsOf: async () => new Map(),
      targetHealth: async (arn) => {
        calls.targetHealth.push(arn);
        const found = world.targets.get(arn);
        if (!found) throw Object.assign(new Error('gone'), { name: 'TargetGroupNotFoundException' });
        return found;
      },
    },
    cloudMap: {
      listNamespaces: async () => [{ id: 'ns', name: 'mesh' }],
      listServices: async () => [{ id: 'svc', name: 'svc' }],
      listInstances: async () => {
        calls.listInstances++;
        return world.instances;
      },
    },
    vpcIds: async () => {
      calls.vpc++;
      return ['vpc-1'];
    },
    tagSelector: {},
    cloudMapNamespaces: ['mesh'],
    concurrency: 4,
    ttlMs: 30_000,
    missRefreshMs: 5_000,
    now: () => t,
  });
  return { world, calls, index, advance: (ms: number) => (t += ms) };
}

describe('buildIndexSnapshot / namedBy', () => {
  it('indexes targets by IP and instances by IP and pod name', () => {
    const s = buildIndexSnapshot(0, [group('a')], [target('a', '10.0.0.1')], [instance('svc', 'x', { AWS_INSTANCE_IPV4: '10.0.0.9', 'k8s.io/pod': 'p', 'k8s.io/namespace': 'n' })]);
    expect(namedBy(s, { ips: ['10.0.0.1'] })).toEqual({ groupArns: new Set(['a']), serviceIds: new Set() });
    expect(namedBy(s, { ips: ['10.0.0.7'], pod: { namespace: 'n', name: 'p' } })).toEqual({ groupArns: new Set(), serviceIds: new Set(['svc']) });
  });
});

describe('RegistrationIndex', () => {
  it('cold: one full scan of ip groups only; warm: describes only the named groups', async () => {
    const s = stub();
    const cold = await s.index.lookup({ ips: ['10.0.0.1'] });
    expect(cold).toMatchObject({ path: 'cold', targets: [expect.objectContaining({ id: '10.0.0.1' })] });
    expect(s.calls.targetHealth.sort()).toEqual(['a', 'b']);
    s.advance(1000);
    s.calls.targetHealth = [];
    const warm = await s.index.lookup({ ips: ['10.0.0.2'] });
    expect(warm).toMatchObject({ path: 'warm', ageMs: 1000, targetGroups: [expect.objectContaining({ arn: 'b' })] });
    expect(s.calls.targetHealth).toEqual(['b']);
    expect(s.calls.listTargetGroups).toBe(1);
  });

  it('plans only from fresh answers: a target that left since the scan is not returned', async () => {
    const s = stub();
    await s.index.lookup({ ips: ['10.0.0.1'] });
    s.world.targets.set('a', []);
    s.advance(1000);
    expect((await s.index.lookup({ ips: ['10.0.0.1'] })).targets).toEqual([]);
  });

  it('expires after the TTL, and single-flights concurrent refreshes', async () => {
    const s = stub();
    await s.index.lookup({ ips: ['10.0.0.1'] });
    s.advance(30_000);
    const [a, b] = await Promise.all([s.index.lookup({ ips: ['10.0.0.1'] }), s.index.lookup({ ips: ['10.0.0.2'] })]);
    expect([a.path, b.path]).toEqual(['cold', 'cold']);
    expect(s.calls.listTargetGroups).toBe(2);
    expect(s.index.scans).toBe(2);
  });

  it('a miss rescans only when the index is older than the miss window', async () => {
    const s = stub();
    await s.index.lookup({ ips: ['10.0.0.1'] });
    s.advance(1000);
    expect((await s.index.lookup({ ips: ['10.0.0.3'] })).path).toBe('warm');
    expect(s.calls.listTargetGroups).toBe(1);
    s.world.targets.set('b', [target('b', '10.0.0.3')]);
    s.advance(5000);
    const r = await s.index.lookup({ ips: ['10.0.0.3'] });
    expect(r).toMatchObject({ path: 'refreshed', targets: [expect.objectContaining({ targetGroupArn: 'b', id: '10.0.0.3' })] });
  });

  it('a deleted group is dropped and invalidates the index; other errors propagate', async () => {
    const s = stub();
    await s.index.lookup({ ips: ['10.0.0.1'] });
    s.world.targets.delete('a');
    s.advance(1000);
    expect((await s.index.lookup({ ips: ['10.0.0.1'] })).targetGroups).toEqual([]);
    expect(s.index.age()).toBeUndefined();
  });

  it('finds Cloud Map services by pod name and lists only them', async () => {
    const s = stub();
    await s.index.lookup({ ips: ['10.0.0.2'] });
    s.advance(1000);
    const before = s.calls.listInstances;
    const r = await s.index.lookup({ ips: ['10.9.9.9'], pod: { namespace: 'ns', name: 'p1' } });
    expect(r.instances).toHaveLength(1);
    expect(s.calls.listInstances - before).toBe(1);
  });

  it('TTL 0 never caches', async () => {
    const index = new RegistrationIndex({ elbv2: { listTargetGroups: async () => [], tagsOf: async () => new Map(), targetHealth: async () => [] }, cloudMap: { listNamespaces: async () => [], listServices: async () => [], listInstances: async () => [] }, vpcIds: async () => [], tagSelector: {}, cloudMapNamespaces: [], concurrency: 1, ttlMs: 0, missRefreshMs: 0, now: () => 0 });
    await index.lookup({ ips: ['1.2.3.4'] });
    await index.lookup({ ips: ['1.2.3.4'] });
    expect(index.scans).toBe(2);
  });
});
