/**
 * Pins the reclaim bench's model (test/bench/reclaim/model.ts) on tiny cases worked out by hand, so a change
 * to the model shows here before it changes the published tables. Pure functions on a virtual clock: no
 * wall-clock dependence.
 */
import { describe, expect, it } from 'vitest';
import { countRequests, DEFAULTS, endpointsAt, lbcReconcile, outOfRotationAt, planCluster, S, TokenBucket, type LoadBalancerModel, type Registration } from '../../bench/reclaim/model.ts';

const alb: LoadBalancerModel = { kind: 'alb', lagMs: 10 * S, healthCheck: { intervalMs: 15 * S, unhealthyThreshold: 2 } };
const LONG_AGO = -3600 * S;
const reg = (ip: string, drainAt = Infinity, registeredAt = LONG_AGO, healthyAt = LONG_AGO): Registration => ({ group: 'g', ip, registeredAt, healthyAt, drainAt });
const podAt = (ip: string, node: string, stopServingAt = Infinity, readyAt = LONG_AGO) => ({ ip, node, readyAt, stopServingAt });

describe('the load balancer of the reclaim model', () => {
  it('a drained target stays in rotation for the lag; requests after its pod stopped fail', () => {
    // a stops at 30 s, drained at 25 s: out at min(25 + 10, health checks) = 35 s. Checks every 15 s from
    // -3600 s (multiples of 15): first failing check at 30 s, second at 45 s, so health checks say 45 s.
    expect(outOfRotationAt(reg('a', 25 * S), 30 * S, alb)).toBe(35 * S);
    // 10 req/s over a and b: 5/s each until 35 s; a fails from 30 to 35 s: 25 requests.
    const out = countRequests({ registrations: [reg('a', 25 * S), reg('b')], pods: [podAt('a', 'spot-0', 30 * S), podAt('b', 'od-0')], groups: ['g'], lb: alb, requestsPerSecond: 10, from: 0, to: 60 * S });
    expect(out.groups).toEqual([{ group: 'g', requests: 600, failed: 25, noTarget: 0 }]);
    expect(out.lastRoutedTo.get('spot-0')).toBe(35 * S);
    expect(out.lastRoutedTo.get('od-0')).toBe(60 * S);
  });

  it('with no target in rotation the requests fail (503) until a new registration passes its health check', () => {
    // c drained at 10 s, lag 5 s: out at 15 s (it serves until 20 s: no failure of its own). d registered at
    // 20 s, healthy at 35 s. 15..35 s: no target, 20 s x 10/s = 200 failures.
    const lb = { ...alb, lagMs: 5 * S };
    const out = countRequests({
      registrations: [reg('c', 10 * S), reg('d', Infinity, 20 * S, 35 * S)],
      pods: [podAt('c', 'spot-0', 20 * S), podAt('d', 'od-r0', Infinity, 20 * S)],
      groups: ['g'],
      lb,
      requestsPerSecond: 10,
      from: 0,
      to: 40 * S,
    });
    expect(out.groups).toEqual([{ group: 'g', requests: 400, failed: 200, noTarget: 200 }]);
  });

  it('a target registered again while it drains is one target in rotation, not two', () => {
    // a drained at 10 s (in rotation until 20 s by the lag), registered again at 12 s, healthy at 27 s: one
    // target all along, so b and a share 10 req/s evenly: 5/s each over 0..40 s, nothing fails.
    const out = countRequests({
      registrations: [reg('a', 10 * S), reg('a', Infinity, 12 * S, 27 * S), reg('b')],
      pods: [podAt('a', 'spot-0'), podAt('b', 'od-0')],
      groups: ['g'],
      lb: alb,
      requestsPerSecond: 10,
      from: 0,
      to: 40 * S,
    });
    expect(out.groups).toEqual([{ group: 'g', requests: 400, failed: 0, noTarget: 0 }]);
    // 12..20 s: a is in rotation by its first registration's lag; 20..27 s: out (the new one is not healthy yet).
    const dead = countRequests({
      registrations: [reg('a', 10 * S), reg('a', Infinity, 12 * S, 27 * S), reg('b')],
      pods: [podAt('a', 'spot-0', 15 * S), podAt('b', 'od-0')],
      groups: ['g'],
      lb: alb,
      requestsPerSecond: 10,
      from: 0,
      to: 40 * S,
    });
    // a stops at 15 s: fails 15..20 s at 5/s = 25; from 27 s the new registration is in rotation until its
    // health checks fail (checks at 12 + 15k: 27 and 42 s -> out at 42 s): 27..40 s at 5/s = 65. Total 90.
    expect(dead.groups).toEqual([{ group: 'g', requests: 400, failed: 90, noTarget: 0 }]);
  });

  it('fails open: a group whose only target failed its health checks still routes to it', () => {
    // e stops at 0 and is never deregistered: out of rotation at 15 s (checks at 0 and 15 s), then the
    // group has only unhealthy targets and routes to them: every request fails, none for lack of a target.
    expect(outOfRotationAt(reg('e'), 0, alb)).toBe(15 * S);
    const out = countRequests({ registrations: [reg('e')], pods: [podAt('e', 'spot-0', 0)], groups: ['g'], lb: alb, requestsPerSecond: 10, from: 0, to: 40 * S });
    expect(out.groups).toEqual([{ group: 'g', requests: 400, failed: 400, noTarget: 0 }]);
  });
});

describe('the cluster of the reclaim model', () => {
  const topo = { spotNodes: ['spot-0'], deployments: [{ name: 'w', replicas: 3, onSpot: [2] }] };
  const life = { preStopMs: 10 * S, shutdownMs: 2 * S };
  const spotPods = (drainer: 'mng' | 'karpenter' | 'gns') => {
    const t = planCluster(topo, drainer, life);
    return { t, pods: t.pods.filter((p) => p.node === 'spot-0').map((p) => [p.name, p.terminatingAt, p.stopServingAt, p.exitAt]) };
  };

  it('a managed node group drain evicts one pod per PDB at a time: the next when the replacement is Ready', () => {
    // w-0 at 1 s (3 healthy, maxUnavailable 1); w-1 refused at 1, 6, ... 26 s; at 31 s the replacement created
    // at 1 s is Ready (30 s): evicted. Each serves through its 10 s preStop and exits 2 s later.
    const { t, pods } = spotPods('mng');
    expect(pods).toEqual([
      ['w-0', 1 * S, 11 * S, 13 * S],
      ['w-1', 31 * S, 41 * S, 43 * S],
    ]);
    expect(t.pods.filter((p) => p.name.startsWith('w-r')).map((p) => [p.createdAt, p.readyAt])).toEqual([
      [1 * S, 31 * S],
      [31 * S, 61 * S],
    ]);
    expect(t.nodeGoneAt.get('spot-0')).toBe(120 * S);
  });

  it("Karpenter retries a refused eviction per pod with its backoff (100 ms doubling, at most 10 s)", () => {
    // w-1: refused at 1.0, 1.1, 1.3, 1.7, 2.5, 4.1, 7.3, 13.7, 23.7 s; at 33.7 s the replacement is Ready.
    expect(spotPods('karpenter').pods[1]).toEqual(['w-1', 33_700, 43_700, 45_700]);
  });

  it('graceful node shutdown alone: nothing until termination, then preStop and exit; the node goes when its pods exited', () => {
    const { t, pods } = spotPods('gns');
    expect(pods).toEqual([
      ['w-0', Infinity, 130 * S, 132 * S],
      ['w-1', Infinity, 130 * S, 132 * S],
    ]);
    expect(t.nodeGoneAt.get('spot-0')).toBe(132 * S);
    // The API shows the pods Ready until they exit (kubernetes #116965).
    expect(endpointsAt(t, 'w', 131 * S).filter((e) => e.ready)).toHaveLength(3);
    expect(endpointsAt(t, 'w', 132 * S).filter((e) => e.ready)).toHaveLength(1);
  });

  it('pods left on a node at termination stop serving with it and are marked not Ready 40 s later', () => {
    const wide = { spotNodes: ['spot-0'], deployments: [{ name: 'w', replicas: 6, onSpot: [6] }] };
    const t = planCluster(wide, 'mng', life);
    const left = t.pods.filter((p) => p.node === 'spot-0' && p.terminatingAt === Infinity);
    // 1, 31, 61, 91 s: four evictions before 120 s; two pods die with the node.
    expect(left.map((p) => [p.stopServingAt, p.notReadyAt])).toEqual([
      [120 * S, 160 * S],
      [120 * S, 160 * S],
    ]);
  });
});

describe('the Load Balancer Controller of the reclaim model', () => {
  it('registers a Ready endpoint whose only target drains, deregisters a live target whose endpoint is not Ready', () => {
    const endpoints = [
      { ip: 'a', ready: true },
      { ip: 'b', ready: false },
      { ip: 'c', ready: true },
    ];
    const targets = [
      { id: 'a', state: 'healthy' },
      { id: 'b', state: 'healthy' },
      { id: 'c', state: 'draining' },
    ];
    expect(lbcReconcile(endpoints, targets)).toEqual({ register: ['c'], deregister: ['b'] });
  });

  it("its client limit is a token bucket: burst, then one call per 1/rate", () => {
    const b = new TokenBucket(1, 2);
    expect([b.take(0), b.take(0), b.take(0), b.take(0), b.take(5000)]).toEqual([0, 0, 1000, 2000, 5000]);
    expect(DEFAULTS.lbc).toMatchObject({ ratePerSecond: 4, burst: 20 });
  });
});
