/**
 * The sweeper end to end: the real handler (middy, config, SDK v3 clients, adapters, budget, executor, the
 * EKS-backed cluster port) against the stateful fake AWS and the fake Kubernetes API. The sweeper reaches the
 * cluster only through the endpoint and CA the fake EKS DescribeCluster returns, with a token signed from the
 * standard AWS environment (test/setup.ts), which the fake API server verifies.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { FakeKubeApi } from '#fakes/kube/index.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler } from '../../functions/sweeper/handler.ts';
import { runSweep, type SweepDeps } from '../../functions/sweeper/run-sweep.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { lambdaContext, writeCalls } from './harness.ts';
import { seedTrafficTopology, trafficDeps, trafficEnv } from '../fakes/traffic.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { failoverWeightedRules } from '#core/failover/weighted-failover.ts';
import { failoverDepsOf } from '../../functions/traffic-shift/wiring.ts';

const kube = new FakeKubeApi({ token: { verify: { clusterName: 'prod', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } } });
let kubeEndpoint = '';
let caData = '';
beforeAll(async () => {
  ({ endpoint: kubeEndpoint, caData } = await kube.start());
});
afterAll(() => kube.stop());
beforeEach(() => kube.reset());

const sample = (): Record<string, unknown> => JSON.parse(readFileSync(new URL('../../events/scheduled-sweep.json', import.meta.url), 'utf8'));

const VPC = 'vpc-0a0a0a0a0a0a0a0a0';
const OLD = '2026-11-21T11:00:00Z';
/** 10 s before the fake clock's start: inside the 120 s grace period. */
const FRESH = '2026-11-21T11:59:50Z';
const NODE = { a: 'i-0a0000000000000a1', b: 'i-0a0000000000000b2', stopped: 'i-0a0000000000000c3', blue: 'i-0b0000000000000b1' };

const ENV = {
  CLUSTER_NAME: 'prod',
  CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30',
  AUDIT_EVENT_BUS: 'quiesce-audit',
  AWS_REGION: 'us-east-1',
};

interface World {
  tg: { web: string; shared: string; blue: string; nodes: string };
  payments: string;
}

/** prod (this cluster) and blue (the other one) in one VPC, one shared target group and one Cloud Map namespace. */
function seedWorld(options: { kubeEndpoint?: string } = {}): World {
  const { ec2, elbv2, cloudMap, eks, events } = fakeAws;
  eks.seedCluster({ name: 'prod', endpoint: options.kubeEndpoint ?? kubeEndpoint, caData, vpcId: VPC });
  const prodNode = { [`kubernetes.io/cluster/prod`]: 'owned', 'eks:cluster-name': 'prod' };
  ec2.seedInstance({ instanceId: NODE.a, vpcId: VPC, tags: prodNode, enis: [{ privateIps: ['10.0.1.10', '10.0.1.11', '10.0.1.12', '10.0.1.13', '10.0.1.14'] }, { privateIps: ['10.0.1.40'], ipv4Prefixes: ['10.0.1.32/28'] }] });
  ec2.seedInstance({ instanceId: NODE.b, vpcId: VPC, tags: prodNode, enis: [{ privateIps: ['10.0.2.10', '10.0.2.11', '10.0.2.20', '10.0.2.21', '10.0.2.22'] }] });
  ec2.seedInstance({ instanceId: NODE.stopped, vpcId: VPC, tags: prodNode, state: 'stopped', enis: [{ privateIps: ['10.0.3.10'] }] });
  // The blue cluster's node: untagged primary ENI, so only the node's tags say whose it is.
  ec2.seedInstance({ instanceId: NODE.blue, vpcId: VPC, tags: { 'kubernetes.io/cluster/blue': 'owned', 'eks:cluster-name': 'blue' }, enis: [{ privateIps: ['10.0.9.10', '10.0.9.11', '10.0.9.12'] }] });

  const prodTags = { 'elbv2.k8s.aws/cluster': 'prod' };
  const web = elbv2.seedTargetGroup({
    name: 'k8s-shop-web', vpcId: VPC, targetType: 'ip', port: 8080, tags: prodTags,
    targets: [
      { id: '10.0.1.11' }, // live pod
      { id: '10.0.2.11' }, // live pod
      { id: '10.0.1.33' }, // live pod on a delegated prefix
      { id: '10.0.5.5', state: 'unhealthy' }, // on no ENI: dead
      { id: '10.0.1.12', state: 'unhealthy' }, // free address on our node, no pod: stale
      { id: '10.0.1.13' }, // healthy, on our node, no pod: reported, not removed
      { id: '10.0.2.20', state: 'initial' }, // a pod starting right now
    ],
  });
  // Blue/green: blue's LBC made it, prod's TargetGroupBinding names it too; both clusters' pods are in it.
  const shared = elbv2.seedTargetGroup({
    name: 'k8s-shop-shared', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'blue' },
    targets: [{ id: '10.0.1.14' }, { id: '10.0.9.11', state: 'unhealthy' }, { id: '10.0.9.12' }, { id: '10.0.5.6', state: 'unhealthy' }],
  });
  const blue = elbv2.seedTargetGroup({ name: 'k8s-blue-web', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'blue' }, targets: [{ id: '10.0.9.10' }, { id: '10.0.7.7', state: 'unhealthy' }] });
  const nodes = elbv2.seedTargetGroup({ name: 'k8s-shop-nodeport', vpcId: VPC, targetType: 'instance', port: 30080, tags: prodTags, targets: [{ id: NODE.a }, { id: NODE.b }, { id: NODE.stopped, state: 'unhealthy' }] });

  const ns = cloudMap.seedNamespace('mesh.local');
  const payments = cloudMap.seedService(ns, 'payments');
  const mesh = (ip: string, pod: string, ver: string): Record<string, string> => ({
    AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', 'k8s.io/pod': pod, 'k8s.io/namespace': 'shop', 'appmesh.k8s.aws/mesh': 'shop-mesh', 'appmesh.k8s.aws/virtualNode': 'payments', ver,
  });
  cloudMap.seedInstance(payments, '10.0.1.10', mesh('10.0.1.10', 'payments-a', 'v1-30')); // alive
  cloudMap.seedInstance(payments, '10.0.2.21', mesh('10.0.2.21', 'payments-old', 'v1-30')); // IP reused by another pod
  cloudMap.seedInstance(payments, '10.0.2.22', mesh('10.0.2.22', 'payments-gone', 'v1-30')); // IP taken by a pod starting now
  cloudMap.seedInstance(payments, '10.0.6.6', mesh('10.0.6.6', 'payments-d', 'v1-30')); // on no ENI: dead
  cloudMap.seedInstance(payments, '10.0.1.36', mesh('10.0.1.36', 'payments-e', 'v1-30')); // alive (prefix IP)
  cloudMap.seedInstance(payments, '10.0.9.10', mesh('10.0.9.10', 'payments-blue', 'v1-29')); // blue's, alive there
  cloudMap.seedInstance(payments, '10.0.6.7', mesh('10.0.6.7', 'payments-blue-old', 'v1-29')); // blue's, dead: still not ours

  const pod = (name: string, ip: string, startTime = OLD) => kube.addPod({ namespace: 'shop', name, ip, startTime, nodeName: 'ip-node' });
  pod('web-a', '10.0.1.11');
  pod('web-b', '10.0.2.11');
  pod('web-c', '10.0.1.33');
  pod('shared-a', '10.0.1.14');
  pod('payments-a', '10.0.1.10');
  pod('payments-e', '10.0.1.36');
  pod('batch-x', '10.0.2.21'); // holds payments-old's IP now
  pod('web-new', '10.0.2.20', FRESH);
  pod('worker-new', '10.0.2.22', FRESH); // holds payments-gone's IP, started seconds ago
  kube.addPod({ namespace: 'shop', name: 'job-done', ip: '10.0.1.12', phase: 'Succeeded', startTime: OLD }); // terminated: not alive
  kube.addTargetGroupBinding({ namespace: 'shop', name: 'shared', targetGroupARN: shared, serviceRef: { name: 'shared', port: 8080 } });
  events.handle('CreateEventBus', { Name: 'quiesce-audit' });
  return { tg: { web, shared, blue, nodes }, payments };
}

function sweeper(env: Record<string, string> = {}, weightedFailover?: (tgs: readonly string[]) => Promise<unknown>, writes?: WriteMode) {
  const config = loadSweeperConfig({ ...ENV, ...env });
  const logger = createLogger('sweeper');
  const deps = buildSweepDeps({
    config,
    env: { ...ENV, ...env },
    ...(writes ? { writes } : {}),
    clients: createAwsClients(),
    logger,
    now: () => new Date(fakeAws.clock.now()),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    sleep: (ms) => fakeAws.clock.sleep(ms),
    ...(weightedFailover ? { weightedFailover } : {}),
  });
  const handler = makeHandler(() => deps, logger, createMetrics('sweeper'));
  return { deps, invoke: (event: unknown) => handler(event as never, lambdaContext) };
}

const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id} ${t.state}`).sort();
const instancesOf = (serviceId: string): string[] => fakeAws.cloudMap.instancesOf(serviceId).map((i) => i.Id).sort();
const audit = () => fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { dryRun: boolean; warnings: string[]; heldBack: { action: string; guard: string; reason: string }[]; outcomes: { action: string; status: string }[]; counts: Record<string, number> });

/** The end state of the default world after one correct sweep. */
const SWEPT = {
  web: ['10.0.1.11 healthy', '10.0.1.12 draining', '10.0.1.13 healthy', '10.0.1.33 healthy', '10.0.2.11 healthy', '10.0.2.20 initial', '10.0.5.5 draining'],
  shared: ['10.0.1.14 healthy', '10.0.5.6 draining', '10.0.9.11 unhealthy', '10.0.9.12 healthy'],
  blue: ['10.0.7.7 unhealthy', '10.0.9.10 healthy'],
  nodes: [`${NODE.a} healthy`, `${NODE.b} healthy`, `${NODE.stopped} draining`],
  payments: ['10.0.1.10', '10.0.1.36', '10.0.2.22', '10.0.6.7', '10.0.9.10'],
};

describe('scheduled sweep', () => {
  it("removes this cluster's stale targets and instances, and nothing of the other cluster's", async () => {
    const w = seedWorld();
    const s = sweeper();
    const result = await s.invoke(sample());
    expect(result).toMatchObject({ status: 'applied', stale: 6, reported: 1, cloudMap: 'swept', counts: { deregistered: 6, submitted: 0, failed: 0 } });
    fakeAws.clock.advance(5_000);
    expect(targetsOf(w.tg.web)).toEqual(SWEPT.web);
    expect(targetsOf(w.tg.shared)).toEqual(SWEPT.shared);
    expect(targetsOf(w.tg.blue)).toEqual(SWEPT.blue);
    expect(targetsOf(w.tg.nodes)).toEqual(SWEPT.nodes);
    expect(instancesOf(w.payments)).toEqual(SWEPT.payments);
    // The token the fake API server verified named cluster prod and was signed with the environment's keys.
    expect(kube.requests.filter((r) => r.path === '/api/v1/pods').map((r) => r.status)).toEqual([200]);
  });

  it('explains every registration it kept: ownership, grace period and the healthy one it only reports', async () => {
    seedWorld();
    await sweeper().invoke(sample());
    const [detail] = audit();
    const held = Object.fromEntries((detail?.heldBack ?? []).map((h) => [h.action, h.guard]));
    expect(held).toEqual({
      'target k8s-shop-web 10.0.1.13:8080': 'evidence',
      'target k8s-shop-shared 10.0.9.11:8080': 'ownership',
      // Healthy AND another cluster's: ownership decides first.
      'target k8s-shop-shared 10.0.9.12:8080': 'ownership',
      'cloudmap payments 10.0.2.22': 'grace-period',
    });
    expect(detail?.outcomes.map((o) => `${o.action} ${o.status}`).sort()).toEqual([
      // Cloud Map operations are followed to SUCCESS inside the run (GetOperation).
      'cloudmap payments 10.0.2.21 deregistered',
      'cloudmap payments 10.0.6.6 deregistered',
      `target k8s-shop-nodeport ${NODE.stopped}:30080 deregistered`,
      'target k8s-shop-shared 10.0.5.6:8080 deregistered',
      'target k8s-shop-web 10.0.1.12:8080 deregistered',
      'target k8s-shop-web 10.0.5.5:8080 deregistered',
    ]);
  });

  it('converges: a second run finds nothing more to remove', async () => {
    seedWorld();
    const s = sweeper();
    await s.invoke(sample());
    fakeAws.clock.advance(5_000);
    const before = writeCalls();
    expect(await s.invoke(sample())).toMatchObject({ status: 'applied', stale: 0, counts: { deregistered: 0, submitted: 0 } });
    expect(writeCalls()).toBe(before);
  });

  it('fails the run on a permanent error (AccessDenied) instead of reporting "applied"', async () => {
    seedWorld();
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'not authorized' });
    await expect(sweeper().invoke(sample())).rejects.toThrow(/deregistration\(s\) left undone/);
    const [detail] = audit();
    expect(detail?.counts.failed).toBeGreaterThan(0);
  });

  it('writes nothing in dry run, but plans and reports', async () => {
    seedWorld();
    const result = await sweeper({ DRY_RUN: 'true' }).invoke(sample());
    expect(result).toMatchObject({ status: 'dry-run', counts: { 'dry-run': 6 } });
    expect(writeCalls()).toBe(0);
    expect(audit()).toEqual([expect.objectContaining({ dryRun: true })]);
  });

  it('runSweep wired with the recording port (the CLI\'s dry run) over a live configuration', async () => {
    seedWorld();
    const out = await runSweep(sweeper({}, undefined, 'recording').deps);
    expect(out.status).toBe('dry-run');
    expect(out.result.counts['dry-run']).toBe(6);
    expect(out.apiCalls).toBeGreaterThan(0);
    expect(writeCalls()).toBe(0);
  });

  it('leaves Cloud Map alone without owner attributes, and says so', async () => {
    const w = seedWorld();
    const result = await sweeper({ CLOUDMAP_OWNER_ATTRIBUTES: '' }).invoke(sample());
    expect(result).toMatchObject({ cloudMap: 'left-alone', counts: { submitted: 0, deregistered: 4 } });
    expect(fakeAws.calls.count('servicediscovery')).toBe(0);
    fakeAws.clock.advance(5_000);
    expect(instancesOf(w.payments)).toHaveLength(7);
    expect(audit()[0]?.warnings.join('\n')).toMatch(/CLOUDMAP_OWNER_ATTRIBUTES is not set: Cloud Map is left alone/);
  });

  it('loses nothing under 30% throttling on every API: the end state is the same', async () => {
    const w = seedWorld();
    // The client budget is not under test here, the end state is: AIMD halves a family's rate on every throttle
    // AWS answers (down to 1/20 of it), and at the topology's limits (elb-register 4/s, cloudmap-read 20/s...) that is seconds of real-time
    // token waits. Roomy limits keep AIMD's floor far above what the test needs (tested on its own: budget.test.ts).
    fakeAws.faults.throttle(0.3, { seed: 11 });
    const result = await sweeper({ RATE_LIMITS: 'elb-describe=2000:2000,elb-register=2000:2000,elb-modify=2000:2000,cloudmap-read=2000:2000,cloudmap-write=2000:2000,ec2-describe=2000:2000,events=2000:2000,autoscaling=2000:2000,sqs=2000:2000,eks=2000:2000,ssm=2000:2000,scheduler=2000:2000,dynamodb=2000:2000' }).invoke(sample());
    expect(result).toMatchObject({ status: 'applied', counts: { failed: 0 } });
    expect(fakeAws.calls.records.filter((r) => r.error !== undefined).length).toBeGreaterThan(0);
    fakeAws.faults.reset();
    fakeAws.clock.advance(5_000);
    expect([targetsOf(w.tg.web), targetsOf(w.tg.shared), targetsOf(w.tg.blue), targetsOf(w.tg.nodes), instancesOf(w.payments)]).toEqual([
      SWEPT.web, SWEPT.shared, SWEPT.blue, SWEPT.nodes, SWEPT.payments,
    ]);
  });
});

describe('guards', () => {
  it('removes at most half of a group per run (max fraction)', async () => {
    seedWorld();
    const dead = fakeAws.elbv2.seedTargetGroup({
      name: 'k8s-shop-gone', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' },
      targets: ['10.0.8.1', '10.0.8.2', '10.0.8.3', '10.0.8.4', '10.0.8.5', '10.0.8.6'].map((id) => ({ id, state: 'unhealthy' as const })),
    });
    await sweeper().invoke(sample());
    expect(targetsOf(dead).filter((t) => t.endsWith('draining'))).toHaveLength(3);
    expect(audit()[0]?.heldBack.filter((h) => h.guard === 'max-fraction' && h.action.startsWith('target k8s-shop-gone'))).toHaveLength(3);
  });

  it('never removes the last healthy target, even a dead one', async () => {
    seedWorld();
    const last = fakeAws.elbv2.seedTargetGroup({
      name: 'k8s-shop-last', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' },
      targets: [{ id: '10.0.8.10' }, { id: '10.0.8.11', state: 'unhealthy' }],
    });
    await sweeper({ SWEEP_MAX_FRACTION: '1' }).invoke(sample());
    expect(targetsOf(last)).toEqual(['10.0.8.10 healthy', '10.0.8.11 draining']);
    const held = audit()[0]?.heldBack.find((h) => h.action === 'target k8s-shop-last 10.0.8.10:8080');
    expect(held?.guard).toBe('min-healthy');
  });
});

describe('an unreachable cluster API', () => {
  it('fails safe with a clear error: only the VPC and EC2 truths remove anything', async () => {
    const w = seedWorld({ kubeEndpoint: 'https://127.0.0.1:1' });
    await expect(sweeper().invoke(sample())).rejects.toThrow(/cluster prod API unreachable \(KubeApiError: .*\); only registrations on no ENI were removed/);
    fakeAws.clock.advance(5_000);
    // Removed: addresses on no ENI, the stopped instance. Kept: 10.0.1.12 (pod-list evidence only) and the
    // IP-reuse record; the shared group is ours only through a binding nobody could read.
    expect(targetsOf(w.tg.web)).toEqual(['10.0.1.11 healthy', '10.0.1.12 unhealthy', '10.0.1.13 healthy', '10.0.1.33 healthy', '10.0.2.11 healthy', '10.0.2.20 initial', '10.0.5.5 draining']);
    expect(targetsOf(w.tg.shared)).toEqual(['10.0.1.14 healthy', '10.0.5.6 unhealthy', '10.0.9.11 unhealthy', '10.0.9.12 healthy']);
    expect(targetsOf(w.tg.nodes)).toEqual(SWEPT.nodes);
    expect(instancesOf(w.payments)).toEqual(['10.0.1.10', '10.0.1.36', '10.0.2.21', '10.0.2.22', '10.0.6.7', '10.0.9.10']);
    expect(audit()[0]?.warnings.join('\n')).toMatch(/cluster API unreadable .*nothing removed on pod-list evidence/);
  });

  it('also when the API server answers 503', async () => {
    const w = seedWorld();
    kube.setUnavailable(true);
    await expect(sweeper().invoke(sample())).rejects.toThrow(/API unreachable \(KubeApiError: .*503/);
    expect(targetsOf(w.tg.web)).toContain('10.0.1.12 unhealthy');
    expect(targetsOf(w.tg.web)).toContain('10.0.5.5 draining');
  });
});

describe('bad input and bad configuration', () => {
  const cases: [string, unknown][] = [
    ['not an object', 'hello'],
    ['a spot warning', { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': NODE.a, 'instance-action': 'terminate' } }],
    ['no detail', { source: 'aws.events', 'detail-type': 'Scheduled Event' }],
  ];
  for (const [name, event] of cases) {
    it(`rejects ${name} without touching AWS`, async () => {
      seedWorld();
      expect(await sweeper().invoke(event)).toMatchObject({ status: 'rejected', error: 'InvalidEventError' });
      expect(writeCalls()).toBe(0);
      expect(fakeAws.calls.count('elasticloadbalancing')).toBe(0);
      expect(kube.requests).toHaveLength(0);
    });
  }

  it('stops on a configuration it cannot parse, naming the variable, before any AWS call', async () => {
    seedWorld();
    const handler = makeHandler(() => buildSweepDeps({ config: loadSweeperConfig({ ...ENV, SWEEP_MAX_FRACTION: '0.5x' }) }));
    await expect(handler(sample() as never, lambdaContext)).rejects.toThrow('SWEEP_MAX_FRACTION: expected a number in (0, 1]');
    expect(fakeAws.calls.count()).toBe(0);
  });
});

describe('restoring listener weights a failover shifted (issue 3, item 6)', () => {
  it("gives a recovered group its weight back on the next sweep, even when the failover's own re-check was lost", async () => {
    const w = seedWorld();
    const t = seedTrafficTopology(fakeAws);
    const green = fakeAws.elbv2.seedTargetGroup({ name: 'web-green', vpcId: VPC, port: 8080, targets: [{ id: '10.0.8.10' }, { id: '10.0.8.11' }, { id: '10.0.8.12' }] });
    const listener = fakeAws.elbv2.seedListener({ loadBalancerArn: fakeAws.elbv2.seedLoadBalancer({ name: 'web-alb', vpcId: VPC }), port: 80 });
    const rule = fakeAws.elbv2.seedRule({ listenerArn: listener, priority: 5, targetGroups: [{ arn: w.tg.web, weight: 70 }, { arn: green, weight: 30 }] });
    const weights = (): number[] => {
      const out = fakeAws.elbv2.handle('DescribeRules', { RuleArns: [rule] }) as { Rules: { Actions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }[] };
      return out.Rules[0]!.Actions[0]!.ForwardConfig.TargetGroups.map((g) => g.Weight);
    };
    const failover = failoverDepsOf(trafficDeps(fakeAws, t, { FAILOVER_LISTENER_ARNS: listener, FAILOVER_MIN_HEALTHY_TARGETS: '2' }));

    // The web group degrades: a spot wave took its pods; the failover moves its weight to green.
    const healthy = fakeAws.elbv2.targets(w.tg.web).filter((x) => x.state === 'healthy');
    for (const x of healthy) fakeAws.elbv2.setTargetHealth(w.tg.web, x.id, x.port, 'unhealthy');
    await failoverWeightedRules(failover, [w.tg.web]);
    expect(weights()).toEqual([0, 100]);
    // Its one-time re-check is lost (deleted by hand, a failed delivery...), and the group recovers.
    for (const s of fakeAws.scheduler.schedules()) fakeAws.scheduler.handle('DeleteSchedule', { Name: s.name, GroupName: s.group });
    for (const x of healthy) fakeAws.elbv2.setTargetHealth(w.tg.web, x.id, x.port, undefined);

    const { invoke } = sweeper({}, (tgs) => failoverWeightedRules(failover, tgs));
    await invoke(sample());
    expect(weights()).toEqual([70, 30]);
    // In dry run the sweep leaves weights alone (the pass writes): its failover is built on the sweeper's
    // own (recording) write port, from the same variables.
    fakeAws.elbv2.handle('ModifyRule', { RuleArn: rule, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: w.tg.web, Weight: 0 }, { TargetGroupArn: green, Weight: 100 }] } }] });
    const calls = fakeAws.calls.count('elasticloadbalancing', 'ModifyRule');
    await sweeper({ DRY_RUN: 'true', ...trafficEnv(t, { FAILOVER_LISTENER_ARNS: listener, FAILOVER_MIN_HEALTHY_TARGETS: '2' }) }).invoke(sample());
    expect(fakeAws.calls.count('elasticloadbalancing', 'ModifyRule')).toBe(calls);
  });
});

describe('an empty or shrunken pod list while nodes run (issue 9, item 8)', () => {
  /** Every pod seedWorld adds, by name. */
  const PODS = ['web-a', 'web-b', 'web-c', 'shared-a', 'payments-a', 'payments-e', 'batch-x', 'web-new', 'worker-new', 'job-done'];

  it('a 200 with zero items is missing evidence, like an unreachable API: only the VPC and EC2 truths remove anything', async () => {
    const w = seedWorld();
    for (const name of PODS) kube.deletePod('shop', name);
    await expect(sweeper().invoke(sample())).rejects.toThrow(
      /cluster prod pod list not trusted \(ImplausiblePodList: the pod list holds no live pod while 2 running node\(s\) of prod hold the addresses of \d+ registration\(s\)\); only registrations on no ENI were removed/,
    );
    expect(kube.requests.some((r) => /\/pods/.test(r.path))).toBe(true);
    fakeAws.clock.advance(5_000);
    // Kept: 10.0.1.12 (a free address only by the empty list's word) and the IP-reuse record. Removed:
    // addresses on no ENI (the shared group is still ours: its binding was readable) and the stopped node.
    expect(targetsOf(w.tg.web)).toEqual(['10.0.1.11 healthy', '10.0.1.12 unhealthy', '10.0.1.13 healthy', '10.0.1.33 healthy', '10.0.2.11 healthy', '10.0.2.20 initial', '10.0.5.5 draining']);
    expect(targetsOf(w.tg.shared)).toEqual(['10.0.1.14 healthy', '10.0.5.6 draining', '10.0.9.11 unhealthy', '10.0.9.12 healthy']);
    expect(targetsOf(w.tg.nodes)).toEqual(SWEPT.nodes);
    expect(instancesOf(w.payments)).toEqual(['10.0.1.10', '10.0.1.36', '10.0.2.21', '10.0.2.22', '10.0.6.7', '10.0.9.10']);
    const [record] = audit();
    expect(record?.warnings.join('\n')).toMatch(/pod list not trusted \(the pod list holds no live pod.*nothing removed on pod-list evidence/);
    expect(record?.heldBack.filter((h) => h.guard === 'evidence')).toEqual([]);
  });

  it('so is a list that lost most pods (a truncated answer): the healthy targets of live pods stay, nothing goes on its word', async () => {
    const w = seedWorld();
    for (const name of ['web-a', 'web-b', 'web-c', 'shared-a']) kube.deletePod('shop', name);
    const out = await runSweep(sweeper().deps);
    expect(out.status).toBe('degraded');
    expect(out.clusterError).toEqual({ name: 'ImplausiblePodList', message: 'the pod list has no live pod for 5 of the 5 healthy ip targets on running nodes of prod: it looks incomplete' });
    fakeAws.clock.advance(5_000);
    expect(targetsOf(w.tg.web)).toContain('10.0.1.12 unhealthy');
    expect(targetsOf(w.tg.web)).toContain('10.0.5.5 draining');
  });

  it('a pod list that lost one pod of many is believed: that target is reported, the free address removed', async () => {
    const w = seedWorld();
    kube.deletePod('shop', 'web-a');
    const out = await runSweep(sweeper().deps);
    expect(out.status).toBe('applied');
    expect(out.clusterError).toBeUndefined();
    fakeAws.clock.advance(5_000);
    expect(targetsOf(w.tg.web)).toEqual(expect.arrayContaining(['10.0.1.11 healthy', '10.0.1.12 draining']));
  });
});

describe('address truth (issue 10): an IPv6 cluster, and another cluster\'s branch-ENI pods in a shared VPC and group', () => {
  const P6 = 'i-0c0000000000000c6';
  const BLUE = 'i-0b0000000000000b6';
  const V6 = (n: string): string => `2600:1f18:aa:1:c3a5::${n}`;

  /** prod: an IPv6 node with a trunk (SGP pods); blue: a node with a trunk in the same VPC; one group both fill. */
  function seedAddressWorld(): { grpc: string; shared: string; grpcService: string } {
    const { ec2, elbv2, cloudMap, eks, events } = fakeAws;
    eks.seedCluster({ name: 'prod', endpoint: kubeEndpoint, caData, vpcId: VPC });
    ec2.seedInstance({ instanceId: P6, vpcId: VPC, tags: { 'kubernetes.io/cluster/prod': 'owned' }, enis: [{ privateIps: ['10.0.1.10'], ipv6Addresses: ['2600:1f18:aa:1::10'], ipv6Prefixes: [`${V6('')}/80`] }, { privateIps: ['10.0.1.20'], interfaceType: 'trunk' }] });
    ec2.seedInstance({ instanceId: BLUE, vpcId: VPC, tags: { 'kubernetes.io/cluster/blue': 'owned' }, enis: [{ privateIps: ['10.0.9.10'] }, { privateIps: ['10.0.9.20'], interfaceType: 'trunk' }] });
    const trunk = (id: string): string => ec2.networkInterfacesOf(id).find((e) => e.InterfaceType === 'trunk')!.NetworkInterfaceId!;
    for (const ip of ['10.0.1.31', '10.0.1.32']) ec2.seedBranchEni({ trunkEniId: trunk(P6), privateIp: ip, clusterName: 'prod' });
    for (const ip of ['10.0.9.31', '10.0.9.32']) ec2.seedBranchEni({ trunkEniId: trunk(BLUE), privateIp: ip, clusterName: 'blue' });
    // A branch ENI whose owner and node tags are gone (leaked): nothing says whose it is.
    ec2.seedBranchEni({ trunkEniId: trunk(BLUE), privateIp: '10.0.9.33', clusterName: 'blue', tags: { 'kubernetes.io/cluster/blue': null, 'node.k8s.amazonaws.com/instance_id': null } });

    const grpc = elbv2.seedTargetGroup({
      name: 'k8s-shop-grpc', vpcId: VPC, targetType: 'ip', ipAddressType: 'ipv6', port: 50051, tags: { 'elbv2.k8s.aws/cluster': 'prod' },
      targets: [
        { id: '2600:1F18:AA:1:C3A5:0:0:1' }, // a live pod (the pod list spells it canonically)
        { id: V6('4') }, // a live pod
        { id: V6('2'), state: 'unhealthy' }, // in our node's /80, no pod: stale
        { id: V6('3') }, // healthy, in our node's /80, no pod: reported, not removed
        { id: '2600:1f18:aa:99::1', state: 'unhealthy' }, // on no ENI: gone
      ],
    });
    // Blue/green: blue's LBC made it; it opts in for both clusters by tag (no TargetGroupBinding of prod names it).
    const shared = elbv2.seedTargetGroup({
      name: 'k8s-shop-shared', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'blue', 'quiesce.io/deregister-by': ':blue:prod:' },
      targets: [{ id: '10.0.1.31' }, { id: '10.0.1.32', state: 'unhealthy' }, { id: '10.0.9.31' }, { id: '10.0.9.32', state: 'unhealthy' }, { id: '10.0.9.33', state: 'unhealthy' }],
    });
    const ns = cloudMap.seedNamespace('mesh.local');
    const grpcService = cloudMap.seedService(ns, 'grpc');
    const record = (ip: string, pod: string, extra: Record<string, string> = {}) => ({ AWS_INSTANCE_IPV6: ip, 'k8s.io/pod': pod, 'k8s.io/namespace': 'shop', ver: 'v1-30', ...extra });
    cloudMap.seedInstance(grpcService, 'grpc-a', record('2600:1f18:aa:1:c3a5:0000:0000:0001', 'grpc-a'));
    cloudMap.seedInstance(grpcService, 'grpc-b', record(V6('2'), 'grpc-b', { AWS_INIT_HEALTH_STATUS: 'UNHEALTHY' }));
    cloudMap.seedInstance(grpcService, 'grpc-d', record(V6('4'), 'grpc-d'));
    for (const [name, ip] of [['grpc-a', V6('1')], ['grpc-d', V6('4')], ['sgp-a', '10.0.1.31']] as const) kube.addPod({ namespace: 'shop', name, ip, startTime: OLD, nodeName: 'n' });
    events.handle('CreateEventBus', { Name: 'quiesce-audit' });
    return { grpc, shared, grpcService };
  }

  it("removes only what is provably prod's and dead: blue's branch-ENI pods and an unattributable ENI's address stay, reported", async () => {
    const w = seedAddressWorld();
    const result = await sweeper().invoke(sample());
    expect(result).toMatchObject({ status: 'applied', stale: 4, counts: { deregistered: 4, failed: 0 } });
    fakeAws.clock.advance(5_000);
    expect(targetsOf(w.grpc)).toEqual(['2600:1F18:AA:1:C3A5:0:0:1 healthy', `${V6('2')} draining`, `${V6('3')} healthy`, `${V6('4')} healthy`, '2600:1f18:aa:99::1 draining'].sort());
    // Blue's targets untouched, dead or alive; prod's dead branch-ENI pod gone.
    expect(targetsOf(w.shared)).toEqual(['10.0.1.31 healthy', '10.0.1.32 draining', '10.0.9.31 healthy', '10.0.9.32 unhealthy', '10.0.9.33 unhealthy']);
    expect(instancesOf(w.grpcService)).toEqual(['grpc-a', 'grpc-d']);
    const held = Object.fromEntries((audit()[0]?.heldBack ?? []).map((h) => [h.action, h.guard]));
    expect(held).toEqual({
      [`target k8s-shop-grpc [${V6('3')}]:50051`]: 'evidence',
      'target k8s-shop-shared 10.0.9.31:8080': 'ownership',
      'target k8s-shop-shared 10.0.9.32:8080': 'ownership',
      'target k8s-shop-shared 10.0.9.33:8080': 'evidence',
    });
    expect(audit()[0]?.warnings.join('\n')).toMatch(/2 registration\(s\) of groups or services prod owns point at another cluster's addresses/);
  });
});

describe('a verdict that no longer holds at the write (review: state judged, then changed)', () => {
  /**
   * The sweeper judges 10.0.1.12 stale: unhealthy, its address free on our node (the pod that held it
   * finished) and no pod of prod holds it. Between that verdict (the pods and ENIs are read) and the write
   * (the group read again under its lease), the VPC CNI hands the address to a new pod, which answers its
   * health checks: the target, same (Id, Port), is now healthy and a live pod's. The Load Balancer
   * Controller sees nothing to do (its desired target is already registered), so a deregistration now takes
   * that pod out of traffic until its Service's endpoints next change. The fresh read under the lease shows
   * the target healthy: the verdict "not healthy, no pod" no longer holds and nothing may be written.
   */
  it('holds back a removal whose target turned healthy since it was judged stale', async () => {
    const w = seedWorld();
    fakeAws.dynamodb.seedTable('quiesce-state');
    const env = { STATE_TABLE: 'quiesce-state' };
    const { deps } = sweeper(env);
    let reused = false;
    const ec2 = {
      networkInterfacesInVpc: (v: string) => deps.ec2.networkInterfacesInVpc(v),
      // Called after the pods and ENIs were read, before the plan is applied: the address is reused now.
      describeInstances: async (ids: readonly string[]) => {
        if (!reused) {
          reused = true;
          kube.addPod({ namespace: 'shop', name: 'web-reused', ip: '10.0.1.12', startTime: '2026-11-21T11:59:59Z', nodeName: 'ip-node' });
          fakeAws.elbv2.setTargetHealth(w.tg.web, '10.0.1.12', 8080, 'healthy');
        }
        return deps.ec2.describeInstances(ids);
      },
    } as SweepDeps['ec2'];
    const handler = makeHandler(() => ({ ...deps, ec2 }), createLogger('sweeper'), createMetrics('sweeper'));
    await handler(sample() as never, lambdaContext);
    expect(reused).toBe(true);
    fakeAws.clock.advance(5_000);
    expect(targetsOf(w.tg.web)).toContain('10.0.1.12 healthy');
    // The other stale target of the group still goes: only the contradicted verdict is held back.
    expect(targetsOf(w.tg.web)).toContain('10.0.5.5 draining');
  });
});
