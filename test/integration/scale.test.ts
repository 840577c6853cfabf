/**
 * Every trigger at the account's quotas (issue 20), end to end: the real sweeper and spot handlers against
 * the fake AWS (DynamoDB with its 400 KB items and conditional writes) and the fake Kubernetes API.
 *
 * - The sweeper spans invocations: a cursor in the state table, each invocation a slice; every owned group is
 *   read once per sweep; the sweep's duration is recorded; ownership is read again before a write.
 * - A warning after the sweeper: the scope comes from the state table (no DescribeTargetGroups, no DescribeTags
 *   of the account), fresh tags only for the groups written; with the cluster API unreachable, the
 *   registration index names the node's groups and vouches for the rest; the node scan log carries a scan
 *   across redeliveries and into the completeness round.
 *
 * The world: cluster prod, 8 nodes, GROUPS owned groups (LBC tag) of 3 pods each on 3 of the nodes, 2 groups of
 * another cluster; the spot node n0 is in every fourth group.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { ApiBudget } from '#core/adapters/aws/budget.ts';
import { loadConfig } from '#core/config.ts';
import { RegistrationIndexStore } from '#core/state/registration-index.ts';
import { ScopeCache } from '#core/state/scope-cache.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV } from '../fakes/topology.ts';
import { lambdaContext, startFakeKube } from './harness.ts';

const { kube, address } = startFakeKube();
beforeEach(() => kube.reset());

const VPC = 'vpc-0a0a0a0a0a0a0a0a0';
const GROUPS = 23;
const NODES = 8;
const STATE = 'quiesce-state';
/** Outcomes, not pace: token waits are real time (the budget's pace is tested on its own and benched). */
const ROOMY = 'elb-describe=400:400,elb-register=400:400,ec2-describe=400:400,dynamodb=400:400';
const instanceId = (n: number): string => `i-0${(0xb0000 + n).toString(16).padStart(16, '0')}`;
const podIp = (n: number, g: number): string => `10.1.${n}.${g + 20}`;
const nodeName = (n: number): string => `ip-10-1-${n}-10.ec2.internal`;
/** Group g's pods: node 0 in every fourth group, the others on nodes 1-7. */
/** The Kubernetes name of node n: its EC2 private DNS name (the fake derives it from the primary address 10.1.n.10). */
const nodesOf = (g: number): number[] => (g % 4 === 0 ? [0, 1 + (g % 7), 1 + ((g + 3) % 7)] : [1 + (g % 7), 1 + ((g + 3) % 7), 1 + ((g + 5) % 7)]);
const touched = (): number[] => Array.from({ length: GROUPS }, (_, g) => g).filter((g) => nodesOf(g).includes(0));
const describes = (): number => fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth');
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id} ${t.state}`).sort();
const audits = (): Record<string, unknown>[] => fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as Record<string, unknown>);

interface World {
  readonly arns: string[];
  readonly blue: string[];
  /** Per owned group, a registration on no ENI (unhealthy): what the sweeper removes. */
  readonly stale: Map<string, string>;
  readonly recheckQueueUrl: string;
}

/** Seeds the world; `staleEvery`: every so many groups carry a dead registration for the sweeper. */
function seedWorld(staleEvery = 5): World {
  const { ec2, elbv2, eks, events, sqs, dynamodb } = fakeAws;
  dynamodb.seedTable(STATE);
  events.handle('CreateEventBus', { Name: 'quiesce-audit' });
  const recheckQueueUrl = sqs.seedQueue('scale-recheck', { VisibilityTimeout: '540' });
  eks.seedCluster({ name: 'prod', ...address(), vpcId: VPC });
  const launchTime = new Date(fakeAws.clock.now() - 86_400_000);
  for (let n = 0; n < NODES; n++) {
    const ips = Array.from({ length: GROUPS }, (_, g) => g).filter((g) => nodesOf(g).includes(n)).map((g) => podIp(n, g));
    ec2.seedInstance({ instanceId: instanceId(n), vpcId: VPC, lifecycle: 'spot', launchTime, tags: { 'kubernetes.io/cluster/prod': 'owned', 'eks:cluster-name': 'prod' }, enis: [{ privateIps: [`10.1.${n}.10`, ...ips] }] });
  }
  const arns: string[] = [];
  const stale = new Map<string, string>();
  for (let g = 0; g < GROUPS; g++) {
    const dead = g % staleEvery === 2 ? `10.9.0.${g}` : undefined;
    const arn = elbv2.seedTargetGroup({
      name: `k8s-shop-g${g}`, vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' },
      targets: [...nodesOf(g).map((n) => ({ id: podIp(n, g) })), ...(dead ? [{ id: dead, state: 'unhealthy' as const }] : [])],
    });
    if (dead) stale.set(arn, dead);
    arns.push(arn);
    kube.addService({ namespace: 'shop', name: `svc-${g}`, selector: { app: `svc-${g}` }, ports: [{ port: 80, targetPort: 8080 }] });
    kube.addTargetGroupBinding({ namespace: 'shop', name: `svc-${g}`, targetGroupARN: arn, serviceRef: { name: `svc-${g}`, port: 80 } });
    for (const n of nodesOf(g)) kube.addPod({ namespace: 'shop', name: `svc-${g}-${n}`, ip: podIp(n, g), nodeName: nodeName(n), labels: { app: `svc-${g}` }, startTime: '2026-11-21T10:00:00Z' });
  }
  // Another cluster's groups in the same VPC: never read by prod's sweeper, never written.
  const blue = [0, 1].map((i) => elbv2.seedTargetGroup({ name: `k8s-blue-${i}`, vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'blue' }, targets: [{ id: `10.9.9.${i}`, state: 'unhealthy' }] }));
  return { arns, blue, stale, recheckQueueUrl };
}

const tick = (at = fakeAws.clock.now()) => ({ version: '0', id: `tick-${at}`, 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: new Date(at).toISOString(), region: 'us-east-1', resources: [], detail: {} });

/** The real sweeper handler with STATE_TABLE (a sweep spans invocations), `env` on top. */
function sweeper(env: Record<string, string> = {}) {
  const logger = createLogger('sweeper');
  const metrics = createMetrics('sweeper');
  const added = vi.spyOn(metrics, 'addMetric');
  const deps = buildSweepDeps({
    config: loadSweeperConfig({ CLUSTER_NAME: 'prod', AWS_REGION: 'us-east-1', STATE_TABLE: STATE, AUDIT_EVENT_BUS: 'quiesce-audit', TARGET_GROUP_TAG_SELECTOR: 'elbv2.k8s.aws/cluster=prod', SWEEP_GROUPS_PER_RUN: '5', RATE_LIMITS: ROOMY, ...env }),
    clients: createAwsClients(),
    logger,
    now: () => new Date(fakeAws.clock.now()),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    sleep: (ms) => fakeAws.clock.sleep(ms),
  });
  const handler = makeSweepHandler(() => deps, logger, metrics);
  return {
    invoke: () => handler(tick() as never, lambdaContext) as Promise<{ status: string; progress?: { slice: number; done: boolean; groupsRead: number; completed?: { durationSeconds: number; groups: number; slices: number } } }>,
    metric: (name: string) => added.mock.calls.filter((c) => c[0] === name).map((c) => c[2]),
  };
}

/** Sweeps until the sweep completes, a tick (2 minutes) apart; returns each invocation's result. */
async function sweepAll(s: ReturnType<typeof sweeper>) {
  const outs = [];
  for (let i = 0; i < 20; i++) {
    const out = await s.invoke();
    outs.push(out);
    if (out.progress?.done) break;
    fakeAws.clock.advance(120_000);
  }
  return outs;
}

/** The real spot handler as deployed (STATE_TABLE, the tag selector, the re-registration guard), `env` on top. */
function spot(w: World, env: Record<string, string> = {}) {
  const deps = buildNodeWorkflowDeps('spot-interruption', {
    // INTERNAL_SENDER_IDS as deployed: the re-check rounds it sends itself come back from its own role.
    config: loadConfig({ CLUSTER_NAME: 'prod', STATE_TABLE: STATE, AUDIT_EVENT_BUS: 'quiesce-audit', TARGET_GROUP_TAG_SELECTOR: 'elbv2.k8s.aws/cluster=prod', RECHECK_QUEUE_URL: w.recheckQueueUrl, RATE_LIMITS: ROOMY, INTERNAL_SENDER_IDS: PROD_ENV.INTERNAL_SENDER_IDS, ...env }),
    clients: createAwsClients(),
    logger: createLogger('spot-interruption'),
    now: () => new Date(fakeAws.clock.now()),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    sleep: (ms) => fakeAws.clock.sleep(ms),
  });
  const handler = makeSpotHandler(() => deps, createLogger('spot-interruption'), createMetrics('spot-interruption'));
  return (event: unknown) => handler(event as never, lambdaContext);
}

const warning = (): Record<string, unknown> => {
  const e = JSON.parse(readFileSync(new URL('../../events/spot-interruption-warning.json', import.meta.url), 'utf8')) as Record<string, unknown> & { detail: Record<string, unknown> };
  return { ...e, id: 'warning-n0', time: new Date(fakeAws.clock.now()).toISOString(), resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId(0)}`], detail: { ...e.detail, 'instance-id': instanceId(0) } };
};
const loseCluster = (): void => fakeAws.eks.seedCluster({ name: 'prod', endpoint: 'https://127.0.0.1:9', caData: address().caData, vpcId: VPC });
const n0Out = (w: World): boolean => touched().every((g) => targetsOf(w.arns[g]!).includes(`${podIp(0, g)} draining`));

describe('the sweeper finishes at any size: a full sweep spans invocations', () => {
  it('reads every owned group once, in slices of SWEEP_GROUPS_PER_RUN, removes what is stale in each, and records the sweep\'s duration', async () => {
    const w = seedWorld();
    const s = sweeper();
    const outs = await sweepAll(s);
    // 23 owned groups, 5 a slice: 5 invocations; only the last completes the sweep, 8 minutes after the first.
    expect(outs.map((o) => [o.progress?.slice, o.progress?.done])).toEqual([[1, false], [2, false], [3, false], [4, false], [5, true]]);
    expect(outs[4]?.progress?.completed).toMatchObject({ groups: GROUPS, slices: 5, durationSeconds: 480 });
    expect(s.metric('sweepDurationSeconds')).toEqual([480]);
    expect(s.metric('sweepOverdue')).toEqual([0, 0, 0, 0, 0]);
    // Each owned group described once, plus the lease's fresh read of each group written; blue's never.
    expect(describes()).toBe(GROUPS + w.stale.size);
    // Removed: draining, or gone once its deregistration delay passed.
    for (const [arn, dead] of w.stale) expect(targetsOf(arn)).not.toContain(`${dead} unhealthy`);
    for (const arn of w.blue) expect(targetsOf(arn)).toEqual([expect.stringMatching(/unhealthy$/)]);
    // What it leaves for the spot trigger: the scope (every ip group of the account) and the index of what it read.
    const store = new AwsDynamoStateStore(createAwsClients().dynamodb, new ApiBudget(), STATE);
    const now = new Date(fakeAws.clock.now());
    expect((await new ScopeCache(store, 'prod').read(now))?.groups).toHaveLength(GROUPS + 2);
    const index = await new RegistrationIndexStore(store, 'prod').load(now);
    expect(index.entries.size).toBe(GROUPS);
    // The next tick starts the next sweep.
    fakeAws.clock.advance(120_000);
    expect((await s.invoke()).progress).toMatchObject({ slice: 1, done: false });
  });

  it('fails a slice whose write fails, and says when the sweep comes back to those groups (a full sweep later, not the next tick)', async () => {
    seedWorld();
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'not authorized' });
    await expect(sweeper().invoke()).rejects.toThrow(/left undone; the sweep reads these groups again when it comes back to them, in the next full sweep \(one takes about \d+ min at the share\)/);
  });

  it('reads ownership again before a write: a group untagged since the sweep read its scope is not written', async () => {
    const w = seedWorld();
    const s = sweeper();
    const first = await s.invoke();
    expect(first.progress?.slice).toBe(1);
    // A stale group a later slice reads (k8s-shop-g2 sorts after the first slice's g0, g1, g10, g11, g12)
    // leaves this cluster: its LBC tag removed and its TargetGroupBinding deleted.
    const later = w.arns[2]!;
    expect(w.stale.has(later)).toBe(true);
    fakeAws.elbv2.handle('RemoveTags', { ResourceArns: [later], TagKeys: ['elbv2.k8s.aws/cluster'] });
    kube.deleteTargetGroupBinding('shop', 'svc-2');
    fakeAws.clock.advance(120_000);
    await sweepAll(s);
    expect(targetsOf(later)).toContain(`${w.stale.get(later)} unhealthy`);
    const held = audits().flatMap((a) => a['heldBack'] as { guard: string; reason: string }[]).filter((h) => h.guard === 'ownership');
    expect(held).toEqual([expect.objectContaining({ reason: expect.stringMatching(/no longer this cluster's/) })]);
  });
});

describe("a warning's cost follows the node, once the sweeper has run", () => {
  it('reads the scope from the state table: the node\'s groups, their fresh tags, nothing of the rest of the account', async () => {
    const w = seedWorld();
    await sweepAll(sweeper());
    fakeAws.calls.records.length = 0;
    await spot(w)(warning());
    expect(n0Out(w)).toBe(true);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(0);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTags')).toBe(1); // 6 groups written: one call
    expect(describes()).toBe(touched().length);
    expect(audits().at(-1)?.['candidates']).toEqual({ source: 'cluster', groupsInScope: GROUPS, groupsDescribed: touched().length, scope: 'cache' });
  });

  it('describes a group the cluster names that the cached scope does not list (made since), and adds it to the cache', async () => {
    const w = seedWorld();
    await sweepAll(sweeper());
    // A new Service with a (host-network) pod on the node, its group made after the sweep.
    const fresh = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-new', vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'prod' }, targets: [{ id: '10.1.0.10' }, { id: '10.1.1.10' }] });
    kube.addService({ namespace: 'shop', name: 'svc-new', selector: { app: 'svc-new' }, ports: [{ port: 80, targetPort: 8080 }] });
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'svc-new', targetGroupARN: fresh, serviceRef: { name: 'svc-new', port: 80 } });
    kube.addPod({ namespace: 'shop', name: 'svc-new-0', ip: '10.1.0.10', nodeName: nodeName(0), labels: { app: 'svc-new' } });
    fakeAws.calls.records.length = 0;
    await spot(w)(warning());
    expect(targetsOf(fresh)).toEqual(['10.1.0.10 draining', '10.1.1.10 healthy']);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1); // by ARN, the new group only
    const store = new AwsDynamoStateStore(createAwsClients().dynamodb, new ApiBudget(), STATE);
    expect((await new ScopeCache(store, 'prod').read(new Date(fakeAws.clock.now())))?.groups.map((g) => g.arn)).toContain(fresh);
  });

  it('never writes a group whose tags, read before the write, put it out of scope since the cache was written', async () => {
    const w = seedWorld();
    await sweepAll(sweeper());
    const left = w.arns[touched()[1]!]!;
    fakeAws.elbv2.handle('RemoveTags', { ResourceArns: [left], TagKeys: ['elbv2.k8s.aws/cluster'] });
    await spot(w)(warning());
    expect(targetsOf(left)).toContain(`${podIp(0, touched()[1]!)} healthy`);
    const last = audits().at(-1) as { heldBack: { guard: string }[]; warnings: string[] };
    expect(last.heldBack).toEqual([expect.objectContaining({ guard: 'ownership' })]);
    expect(last.warnings.join('\n')).toMatch(/1 group\(s\) left the scope since the cached scope was written/);
  });

  it('with the cluster API unreachable, describes the groups the index names and vouches for the rest; the first round adds nothing', async () => {
    const w = seedWorld();
    await sweepAll(sweeper());
    loseCluster();
    fakeAws.calls.records.length = 0;
    const invoke = spot(w);
    await invoke(warning());
    expect(n0Out(w)).toBe(true);
    expect(describes()).toBe(touched().length);
    expect(audits().at(-1)?.['candidates']).toMatchObject({ source: 'index', groupsInScope: GROUPS, groupsDescribed: touched().length, scope: 'cache', vouched: GROUPS - touched().length });
    // The completeness round continues the node's scan log: every group was looked at (described or vouched
    // for), so it only watches the groups the node was found in.
    fakeAws.clock.advance(15_000);
    const due = fakeAws.sqs.dueMessages(w.recheckQueueUrl);
    expect(JSON.parse(due[0]!.Body).detail.completeness).toBeDefined();
    const before = describes();
    await invoke(fakeAws.sqs.lambdaEventOf(w.recheckQueueUrl, due));
    expect(describes() - before).toBe(touched().length);
  });

  it('scans what the index cannot vouch for: readings older than INDEX_VOUCH_SECONDS', async () => {
    const w = seedWorld();
    await sweepAll(sweeper());
    loseCluster();
    fakeAws.clock.advance(120_000);
    fakeAws.calls.records.length = 0;
    await spot(w, { INDEX_VOUCH_SECONDS: '60' })(warning());
    expect(n0Out(w)).toBe(true);
    expect(describes()).toBe(GROUPS);
    expect(audits().at(-1)?.['candidates']).toMatchObject({ source: 'index', groupsDescribed: GROUPS });
    expect(audits().at(-1)?.['candidates']).not.toHaveProperty('vouched');
  });

  it('a redelivery continues where the last invocation stopped: only the group whose write failed is described again', async () => {
    const w = seedWorld();
    loseCluster(); // and no sweep yet: no index, no cached scope; the full scan, logged per node
    const invoke = spot(w);
    fakeAws.faults.fail('DeregisterTargets', { times: 1, code: 'AccessDenied', message: 'denied' });
    await expect(invoke(warning())).rejects.toThrow(/left undone/);
    expect(describes()).toBe(GROUPS);
    fakeAws.calls.records.length = 0;
    await invoke(warning());
    expect(n0Out(w)).toBe(true);
    expect(describes()).toBe(1);
    expect(audits().at(-1)?.['candidates']).toMatchObject({ source: 'full-scan', groupsDescribed: 1, alreadyLooked: GROUPS - 1 });
  });
});
