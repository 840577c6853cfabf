/**
 * Cluster-derived candidates (issue 14): a spot warning asks the cluster (TargetGroupBindings, Services,
 * EndpointSlices, the node's pods) which target groups the node is in, and describes only those plus the
 * groups no binding names; the first re-check round scans every group once and audits what was missed.
 * The real spot handler against the fake AWS, its cluster the fake Kubernetes API (via the fake EKS).
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { makeHandler } from '../../functions/spot-interruption/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES, VPC, type Topology } from '../fakes/topology.ts';
import { lambdaContext, spotHarness, startFakeKube } from './harness.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const describes = (): number => fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth');
const audits = (): Record<string, unknown>[] => fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as Record<string, unknown>);
/** The spot node's Kubernetes name: its EC2 private DNS name (EKS node groups name nodes by IP). */
const SPOT_NODE = 'ip-10-0-1-10.ec2.internal';
const OTHER_NODE = 'ip-10-0-3-10.ec2.internal';
/** Bound groups of Services with no pod on the spot node: what the fast path does not describe. */
const ELSEWHERE = 10;

const { kube, address } = startFakeKube();

/**
 * The topology's cluster as the Load Balancer Controller would have it: a Service and a binding per group
 * (web, api, admin on the spot node; grpc on the dual-stack node; a NodePort Service bound to the instance
 * group), plus ELSEWHERE bound groups whose pods run on another node. staging's group has no binding here.
 */
function seedCluster(t: Topology, opts: { pods?: boolean; slices?: boolean } = {}): string[] {
  fakeAws.eks.seedCluster({ name: 'prod', ...address(), vpcId: VPC });
  const ns = 'shop';
  const bind = (name: string, arn: string, service: string, targetType: 'ip' | 'instance' = 'ip', port = 80): void => {
    kube.addTargetGroupBinding({ namespace: ns, name, targetGroupARN: arn, serviceRef: { name: service, port }, targetType });
  };
  for (const app of ['web', 'api', 'admin', 'grpc']) kube.addService({ namespace: ns, name: app, selector: { app }, ports: [{ port: 80, targetPort: 8080 }] });
  kube.addService({ namespace: ns, name: 'web-nodeport', selector: { app: 'web' }, type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  bind('web', t.tg.web, 'web');
  bind('api', t.tg.api, 'api');
  bind('admin', t.tg.admin, 'admin');
  bind('grpc', t.tg.grpc, 'grpc');
  bind('web-nodeport', t.tg.nodes, 'web-nodeport', 'instance');
  const spotPods: [string, string, string][] = [['web-1', '10.0.1.11', 'web'], ['web-2', '10.0.1.33', 'web'], ['api-1', '10.0.1.12', 'api'], ['admin-1', '10.0.1.34', 'admin']];
  if (opts.pods ?? true) for (const [name, ip, app] of spotPods) kube.addPod({ namespace: ns, name, ip, nodeName: SPOT_NODE, labels: { app } });
  if (opts.slices) {
    for (const app of ['web', 'api', 'admin']) {
      kube.addEndpointSlice({ namespace: ns, name: `${app}-abc`, serviceName: app, endpoints: spotPods.filter((p) => p[2] === app).map(([pod, ip]) => ({ addresses: [ip], nodeName: SPOT_NODE, pod })) });
    }
  }
  const elsewhere: string[] = [];
  for (let i = 0; i < ELSEWHERE; i++) {
    const arn = fakeAws.elbv2.seedTargetGroup({ name: `k8s-shop-other${i}`, vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' }, targets: [{ id: '10.0.3.11' }] });
    kube.addService({ namespace: ns, name: `other${i}`, selector: { app: `other${i}` }, ports: [{ port: 80 }] });
    kube.addPod({ namespace: ns, name: `other${i}-1`, ip: '10.0.3.11', nodeName: OTHER_NODE, labels: { app: `other${i}` } });
    bind(`other${i}`, arn, `other${i}`);
    elsewhere.push(arn);
  }
  return elsewhere;
}

/** The state the first spot test of spot-interruption.test.ts asserts after a full scan: the same here. */
function expectNodeOutOfTraffic(t: Topology): void {
  expect(targetsOf(t.tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
  expect(targetsOf(t.tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
  expect(targetsOf(t.tg.nodes)).toEqual([`${NODES.spot}:30080 draining`, `${NODES.asg}:30080 healthy`, `${NODES.other}:30080 healthy`]);
  // The min-healthy guard still keeps admin's last healthy target: the guard is unchanged.
  expect(targetsOf(t.tg.admin)).toEqual(['10.0.1.34:8080 healthy', '10.0.3.12:8081 unhealthy']);
}

/** Delivers every due re-check (after one guard interval) to the handler. */
async function deliverRechecks(t: Topology, invoke: (e: unknown) => Promise<unknown>): Promise<Record<string, unknown>[]> {
  fakeAws.clock.advance(15_000);
  const due = fakeAws.sqs.dueMessages(t.recheckQueueUrl);
  await invoke(fakeAws.sqs.lambdaEventOf(t.recheckQueueUrl, due));
  return due.map((m) => (JSON.parse(m.Body) as { detail: Record<string, unknown> }).detail);
}

/** A spot handler whose metrics the test can read. */
function withMetrics(h: ReturnType<typeof spotHarness>): { invoke: (e: unknown) => Promise<unknown>; metric: (name: string) => number[] } {
  const metrics = createMetrics('spot-interruption');
  const added = vi.spyOn(metrics, 'addMetric');
  const handler = makeHandler(() => h.deps, createLogger('spot-interruption'), metrics);
  return {
    invoke: (e) => handler(e as never, lambdaContext),
    metric: (name) => added.mock.calls.filter((c) => c[0] === name).map((c) => c[2]),
  };
}

beforeEach(() => kube.reset());

describe('cluster-derived candidates', () => {
  it('describes only the groups the node touches (plus unbound ones), with the same end state as the full scan', async () => {
    const h = spotHarness();
    seedCluster(h.topology);
    const m = withMetrics(h);
    await m.invoke(sample('spot-interruption-warning'));
    expectNodeOutOfTraffic(h.topology);
    // 16 groups in scope: web, api, admin (the node's pods), nodeport (instance: every node), staging
    // (no binding: scanned as before). Not grpc nor the 10 groups whose pods run elsewhere.
    expect(describes()).toBe(5);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1);
    expect(audits()[0]?.['candidates']).toEqual({ source: 'cluster', groupsInScope: 6 + ELSEWHERE, groupsDescribed: 5 });
    expect(m.metric('fastPath')).toEqual([1]);
    expect(m.metric('fullScanFallback')).toEqual([0]);
    // The first re-check round is told what the fast path described: it looks at every other group once.
    const [round1] = fakeAws.sqs.pending(h.topology.recheckQueueUrl).map((x) => JSON.parse(x.Body).detail as { completeness: { describedArns: string[] } });
    expect(round1?.completeness.describedArns.sort()).toEqual([h.topology.tg.web, h.topology.tg.api, h.topology.tg.admin, h.topology.tg.nodes, h.topology.tg.staging].sort());
    // It finds nothing the fast path missed: a miss metric of 0, and later rounds are targeted again. It
    // describes the 4 groups the node was found in (every round watches them) and the 11 no one looked at
    // for the node yet (grpc and the groups elsewhere); staging, described by the fast path, is not again.
    const before = describes();
    const sent = await deliverRechecks(h.topology, m.invoke);
    expect(sent).toHaveLength(1);
    expect(describes() - before).toBe(5 + ELSEWHERE);
    expect(audits()).toHaveLength(1); // a round that found nothing is only logged
    expect(m.metric('fastPathMiss')).toEqual([0]);
    const [round2] = fakeAws.sqs.pending(h.topology.recheckQueueUrl).map((x) => JSON.parse(x.Body).detail as Record<string, unknown>);
    expect(round2?.['round']).toBe(2);
    expect(round2?.['completeness']).toBeUndefined();
  });

  it('finds the node from EndpointSlices alone (no pod list needed)', async () => {
    const h = spotHarness();
    seedCluster(h.topology, { pods: false, slices: true });
    await h.invoke(sample('spot-interruption-warning'));
    expectNodeOutOfTraffic(h.topology);
    expect(describes()).toBe(5);
  });

  it('falls back to the full scan at once when the cluster API does not answer, and says so', async () => {
    const h = spotHarness();
    seedCluster(h.topology);
    kube.setUnavailable(true);
    const m = withMetrics(h);
    await m.invoke(sample('spot-interruption-warning'));
    expectNodeOutOfTraffic(h.topology);
    expect(describes()).toBe(6 + ELSEWHERE);
    const candidates = audits()[0]?.['candidates'] as Record<string, unknown>;
    expect(candidates).toMatchObject({ source: 'full-scan', groupsInScope: 6 + ELSEWHERE, groupsDescribed: 6 + ELSEWHERE });
    expect(candidates['reason']).toMatch(/cluster API unavailable \(KubeApiError: .*503/);
    expect(m.metric('fullScanFallback')).toEqual([1]);
    // A full scan needs no completeness round.
    expect(JSON.parse(fakeAws.sqs.pending(h.topology.recheckQueueUrl)[0]!.Body).detail.completeness).toBeUndefined();
  });

  it('falls back within CLUSTER_TIMEOUT_MS when the cluster API is slow', async () => {
    const h = spotHarness({ CLUSTER_TIMEOUT_MS: '100' });
    seedCluster(h.topology);
    kube.setLatency(30_000);
    const started = performance.now();
    await h.invoke(sample('spot-interruption-warning'));
    // It did not wait for the slow API (100 ms, then the full scan; a wide bound for a loaded 2-core run).
    expect(performance.now() - started).toBeLessThan(15_000);
    expectNodeOutOfTraffic(h.topology);
    // Every group in scope described: the full scan. (Counted from the audit: on a loaded machine a group's
    // write may wait past the lease step's 2 s freshness and read its group once more, as it should, so the
    // call count can be one or two above the groups; 2 of 20 loaded runs saw 17 for 16.)
    expect(audits()[0]?.['candidates']).toMatchObject({ source: 'full-scan', groupsInScope: 6 + ELSEWHERE, groupsDescribed: 6 + ELSEWHERE });
    expect(describes()).toBeGreaterThanOrEqual(6 + ELSEWHERE);
    expect((audits()[0]?.['candidates'] as { reason: string }).reason).toMatch(/ClusterViewTimeoutError: the cluster API did not answer within 100 ms/);
  });

  it('scans a group in scope that no binding names (a registration outside the controller) at once', async () => {
    const h = spotHarness();
    seedCluster(h.topology);
    const manual = fakeAws.elbv2.seedTargetGroup({ name: 'hand-made', vpcId: VPC, targetType: 'ip', port: 7000, tags: {}, targets: [{ id: '10.0.1.11' }, { id: '10.0.2.11' }] });
    await h.invoke(sample('spot-interruption-warning'));
    expect(targetsOf(manual)).toEqual(['10.0.1.11:7000 draining', '10.0.2.11:7000 healthy']);
    expect(describes()).toBe(6);
  });

  it('deregisters a registration the fast path cannot see before the guard ends, and audits the miss', async () => {
    const h = spotHarness();
    const [elsewhere] = seedCluster(h.topology);
    // Made outside the controller in an owned, bound group whose Service has no pod on the node: the
    // cluster does not know the node is there, so the fast path does not describe that group.
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: elsewhere, Targets: [{ Id: '10.0.1.12', Port: 8080 }] });
    const m = withMetrics(h);
    await m.invoke(sample('spot-interruption-warning'));
    expect(targetsOf(elsewhere!)).toEqual(['10.0.1.12:8080 initial', '10.0.3.11:8080 healthy']);
    expect(describes()).toBe(5);

    await deliverRechecks(h.topology, m.invoke);
    expect(targetsOf(elsewhere!)).toEqual(['10.0.1.12:8080 draining', '10.0.3.11:8080 healthy']);
    expect(m.metric('fastPathMiss')).toEqual([1]);
    const miss = audits()[1] as { candidates: Record<string, unknown>; warnings: string[] };
    // Every group looked at once for the node: the fast path's described ones are not described again
    // (staging: alreadyLooked), the ones the node was found in are watched as in every round.
    expect(miss.candidates).toEqual({ source: 'completeness-scan', groupsInScope: 6 + ELSEWHERE, groupsDescribed: 5 + ELSEWHERE, missed: [`target k8s-shop-other0 10.0.1.12:8080 of ${NODES.spot}`], alreadyLooked: 1 });
    expect(miss.warnings.join('\n')).toMatch(/fast path missed 1 registration/);
    // The next round watches the group the miss was found in.
    const [round2] = fakeAws.sqs.pending(h.topology.recheckQueueUrl).map((x) => JSON.parse(x.Body).detail as { targetGroupArns: string[] });
    expect(round2?.targetGroupArns).toContain(elsewhere);
  });

  it('finds a binding created after the warning in the first re-check round', async () => {
    const h = spotHarness();
    seedCluster(h.topology);
    await h.invoke(sample('spot-interruption-warning'));
    // A new Service on the node, bound a moment after the fast path read the cluster.
    const late = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-late', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' }, targets: [{ id: '10.0.1.33' }, { id: '10.0.2.11' }] });
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'late', targetGroupARN: late, serviceRef: { name: 'web', port: 80 } });
    await deliverRechecks(h.topology, h.invoke);
    expect(targetsOf(late)).toEqual(['10.0.1.33:8080 draining', '10.0.2.11:8080 healthy']);
    expect((audits()[1]?.['candidates'] as { missed: string[] }).missed).toEqual([`target k8s-shop-late 10.0.1.33:8080 of ${NODES.spot}`]);
  });

  it('scans every group for an Auto Scaling lifecycle hook, which is completed on that scan as before', async () => {
    const h = spotHarness();
    seedCluster(h.topology);
    await h.invoke(sample('asg-terminate-lifecycle-action'));
    expect(describes()).toBe(6 + ELSEWHERE);
    expect((audits()[0]?.['candidates'] as { reason: string }).reason).toMatch(/lifecycle hook/);
    expect(fakeAws.autoscaling.completed()).toEqual([expect.objectContaining({ instanceId: NODES.asg, result: 'CONTINUE' })]);
  });

  it('uses the full scan when no re-check round would complete the fast path (guard off)', async () => {
    const h = spotHarness({ GUARD_DEADLINE_SECONDS: '0' });
    seedCluster(h.topology);
    await h.invoke(sample('spot-interruption-warning'));
    expect(describes()).toBe(6 + ELSEWHERE);
    expect((audits()[0]?.['candidates'] as { reason: string }).reason).toMatch(/re-registration guard is off/);
  });
});
