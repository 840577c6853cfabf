/**
 * Pins the reclaim bench's model (test/bench/reclaim/model.ts) on tiny cases worked out by hand, so a change
 * to the model shows here before it changes the published tables. Pure functions on a virtual clock: no
 * wall-clock dependence.
 */
import { describe, expect, it } from 'vitest';
import {
  appMeshDesired,
  appMeshReconcile,
  countDiscoveryRequests,
  countRequests,
  DEFAULTS,
  endpointsAt,
  entersRotation,
  lbcReconcile,
  outOfRotationAt,
  planCluster,
  S,
  TokenBucket,
  type InstanceSpan,
  type LoadBalancerModel,
  type Registration,
} from '../../bench/reclaim/model.ts';

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
    // a stops at 15 s: fails 15..20 s at 5/s = 25 (the first registration, by the lag). The new registration
    // would pass its first health check at 27 s, but a stopped serving at 15 s: it never enters rotation.
    expect(dead.groups).toEqual([{ group: 'g', requests: 400, failed: 25, noTarget: 0 }]);
  });

  it('a target deregistered before it passed its first health check never enters rotation: no lag for it', () => {
    // c registered at 5 s (healthy at 20 s), drained at 12 s, its pod stops at 15 s. It was never in rotation,
    // so the lag does not apply: b takes every request, nothing fails.
    const c = reg('c', 12 * S, 5 * S, 20 * S);
    expect(entersRotation(c, 15 * S)).toBe(false);
    expect(outOfRotationAt(c, 15 * S, alb)).toBe(20 * S);
    const out = countRequests({ registrations: [c, reg('b')], pods: [podAt('c', 'spot-0', 15 * S, 0), podAt('b', 'od-0')], groups: ['g'], lb: alb, requestsPerSecond: 10, from: 0, to: 40 * S });
    expect(out.groups).toEqual([{ group: 'g', requests: 400, failed: 0, noTarget: 0 }]);
    expect(out.lastRoutedTo.has('spot-0')).toBe(false);
  });

  it('NLB: a dead pod registered again after its node went is never in rotation; the first registration lags 120 s', () => {
    // d drained at 7 s: in rotation until min(7 + 120, health checks). Checks every 10 s on the -3600 s grid:
    // d stops at 120 s, fails at 120, 130, 140 s -> out at 127 s by the lag. Registered again at 125 s
    // (healthy at 140 s by the fake), it never passes a check. 10 req/s over d and b: d fails 120..127 s at
    // 5/s = 35.
    const nlb = DEFAULTS.nlb;
    const out = countRequests({
      registrations: [reg('d', 7 * S), reg('d', Infinity, 125 * S, 140 * S), reg('b')],
      pods: [podAt('d', 'spot-0', 120 * S), podAt('b', 'od-0')],
      groups: ['g'],
      lb: nlb,
      requestsPerSecond: 10,
      from: 0,
      to: 160 * S,
    });
    expect(out.groups).toEqual([{ group: 'g', requests: 1600, failed: 35, noTarget: 0 }]);
    expect(out.lastRoutedTo.get('spot-0')).toBe(127 * S);
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
    // 1, 31, 61, 91 s: four evictions before 120 s; two pods die with the node. The pod GC deletes them at
    // 120 + 105 s, and only then does their ReplicaSet replace them (Ready 30 s later).
    expect(left.map((p) => [p.stopServingAt, p.notReadyAt, p.gcAt])).toEqual([
      [120 * S, 160 * S, 225 * S],
      [120 * S, 160 * S, 225 * S],
    ]);
    expect(t.pods.filter((p) => p.createdAt === 225 * S).map((p) => [p.node.startsWith('od-r'), p.readyAt])).toEqual([
      [true, 255 * S],
      [true, 255 * S],
    ]);
    // The LBC's endpoint is not Ready from 160 s (PodReady false); the App Mesh controller reads
    // ContainersReady, which the node controller leaves alone: it wants them registered until 225 s.
    const ips = left.map((p) => p.ip);
    expect(endpointsAt(t, 'w', 170 * S).filter((e) => ips.includes(e.ip)).map((e) => e.ready)).toEqual([false, false]);
    expect(appMeshDesired(t, 'w', 170 * S).filter((ip) => ips.includes(ip))).toEqual(ips.sort());
    expect(appMeshDesired(t, 'w', 225 * S).filter((ip) => ips.includes(ip))).toEqual([]);
    // An evicted pod is not wanted from its eviction on (deletionTimestamp), though it serves its preStop.
    const first = t.pods.find((p) => p.name === 'w-0');
    expect(appMeshDesired(t, 'w', 1 * S)).not.toContain(first?.ip);
  });
});

describe('the App Mesh controller of the reclaim model', () => {
  it('reconciles what it wants against its own cached view, skipping instances with an operation in flight', () => {
    expect(appMeshReconcile(['a', 'c'], new Set(['a', 'b']), new Set())).toEqual({ register: ['c'], deregister: ['b'] });
    expect(appMeshReconcile(['a', 'c'], new Set(['a', 'b']), new Set(['b', 'c']))).toEqual({ register: [], deregister: [] });
    // quiesce deregistered a still-Ready pod's instance: the controller's cache still lists it, so it is not
    // registered back (unlike the LBC, which reads the target group afresh).
    expect(appMeshReconcile(['a'], new Set(['a']), new Set())).toEqual({ register: [], deregister: [] });
  });
});

describe('Cloud Map and a gRPC client in the reclaim model', () => {
  const span = (ip: string, from: number, to: number): InstanceSpan => ({ group: 'g', ip, from, to });
  const client = { refreshMs: 10 * S };

  it('a pod whose node vanished is black-holed until a re-resolution drops its instance', () => {
    // x's node goes at 20 s (x stops then, no FIN); its instance leaves Cloud Map at 30 s. The client
    // re-resolves every 10 s at phase p (0..9 s): it resolves x until p + 20 < 30 and drops it at p + 30.
    // x fails from 20 to p + 30 s at half of 10 req/s: 5 * (10 + p), mean over p = 5 * 14.5 = 72.5.
    const out = countDiscoveryRequests({
      instances: [span('x', -3600 * S, 30 * S), span('y', -3600 * S, Infinity)],
      pods: [podAt('x', 'spot-0', 20 * S), podAt('y', 'od-0')],
      nodeGoneAt: new Map([['spot-0', 20 * S]]),
      groups: ['g'],
      client,
      requestsPerSecond: 10,
      from: 0,
      to: 60 * S,
    });
    expect(out.groups).toHaveLength(1);
    expect(out.groups[0]?.requests).toBeCloseTo(600, 9);
    expect(out.groups[0]?.failed).toBeCloseTo(72.5, 9);
    expect(out.groups[0]?.noTarget).toBe(0);
    // The latest phase (p = 9 s) sends x new requests until 39 s.
    expect(out.lastRoutedTo.get('spot-0')).toBe(39 * S);
  });

  it('a pod that stops on a live node closed its connections: skipped at once, stale record or not', () => {
    const out = countDiscoveryRequests({
      instances: [span('x', -3600 * S, 30 * S), span('y', -3600 * S, Infinity)],
      pods: [podAt('x', 'spot-0', 20 * S), podAt('y', 'od-0')],
      nodeGoneAt: new Map(),
      groups: ['g'],
      client,
      requestsPerSecond: 10,
      from: 0,
      to: 60 * S,
    });
    expect(out.groups[0]?.failed).toBeCloseTo(0, 9);
    expect(out.lastRoutedTo.get('spot-0')).toBe(20 * S);
  });

  it('with no usable address the requests fail (UNAVAILABLE) until a resolution returns the replacement', () => {
    // x stops at 20 s on a live node (skipped from then); its replacement z is registered from 40 s and
    // first resolved at p + 40: 10 req/s fail from 20 to p + 40 s, mean over p = 10 * 24.5 = 245, all with
    // no target.
    const out = countDiscoveryRequests({
      instances: [span('x', -3600 * S, 25 * S), span('z', 40 * S, Infinity)],
      pods: [podAt('x', 'spot-0', 20 * S), podAt('z', 'od-r0', Infinity, 38 * S)],
      nodeGoneAt: new Map(),
      groups: ['g'],
      client,
      requestsPerSecond: 10,
      from: 0,
      to: 60 * S,
    });
    expect(out.groups[0]?.failed).toBeCloseTo(245, 9);
    expect(out.groups[0]?.noTarget).toBeCloseTo(245, 9);
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
