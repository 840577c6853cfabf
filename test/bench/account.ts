/**
 * Account bench (issue 14): quiesce held to a real account's ELB budget.
 *
 * The fake AWS enforces the ELB user guide's default buckets account-wide (Describe* 40 tokens refilling 10
 * per second; RegisterTargets/DeregisterTargets 20 refilling 4 per second: "Request throttling for the ELB
 * API", https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html), and a
 * simulated AWS Load Balancer Controller spends the same Describe bucket at a steady 3 calls per second
 * (DescribeLoadBalancers, which quiesce never calls, so its calls are told apart). 20 ms per call.
 *
 * Rows, side by side in one run:
 *  - one spot warning at 205, 500 and 1,000 target groups, the node in one group of ten, and at 3,000 groups
 *    (the default quota per Region) with the node in 30 of them (a node of tens of pods);
 *  - two warnings for two nodes in two concurrent invocations at 1,000 groups, with the stage's shared ELB
 *    budget and without it (SHARED_ELB_BUDGET=false);
 *  - a reclaim wave: 20 nodes' warnings in one SQS batch, 205 groups;
 * each for (a) quiesce as wired: the real spot handler, the cluster (pods with nodeName, TargetGroupBindings)
 * in the fake Kubernetes API and fake EKS pointing at it; (b) the cluster API unreachable (EKS names an
 * endpoint nobody listens on: the registration index's fallback); (c) a naive sequential peer (one
 * DescribeTargetHealth per group in turn, then DeregisterTargets, every throttled call retried with backoff
 * until it passes). quiesce runs as deployed, after the sweeper: before the warning, the real sweeper handler
 * (STATE_TABLE) sweeps the account once, outside the measurement (unthrottled, the buckets not yet
 * enforced), which leaves what the deployed sweeper keeps in the state table: the cached scope and the
 * registration index. Plus the controller alone (quiesce idle), and the sweeper's full sweep across
 * invocations at 1,000 and 3,000 groups: its duration and its share of the Describe budget.
 *
 * Time runs 5x (time-dilation.ts; ACCOUNT_BENCH_FACTOR): the numbers are bench seconds, the run takes a fifth of them.
 *
 *   npm run bench -- account
 */
import { DeregisterTargetsCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { DEFAULT_LIMITS, ELB_ACCOUNT_BUCKETS } from '#core/adapters/aws/budget.ts';
import { sdkClientConfig, type AwsClients } from '#core/adapters/aws/index.ts';
import { loadConfig } from '#core/config.ts';
import { isThrottling } from '#core/errors.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { makeHandler } from '../../functions/spot-interruption/handler.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { CallLog, type CallRecord, type FakeAws } from '../fakes/aws/index.ts';
import { FakeKubeApi } from '../fakes/kube/index.ts';
import { benchAws, ms } from './support.ts';
import type { BenchSection } from './table.ts';
import { dilateTime } from './time-dilation.ts';

/**
 * How much faster than real time the bench runs (ACCOUNT_BENCH_FACTOR, default 5). Dilation magnifies CPU time
 * by the same factor: at 10, on a machine shared with other work, a DynamoDB round trip of the guard's lease
 * could take seconds of bench time and outlive the lease's 10 s; at 5 the run takes twice as long.
 */
const FACTOR = Number(process.env['ACCOUNT_BENCH_FACTOR'] ?? '5');
const LATENCY_MS = 20;
const CONTROLLER_PER_SECOND = 3;
const NODES = 40;
const CLUSTER = 'bench';
const VPC = 'vpc-0acc0acc0acc0acc0';
/** The spot function's timeout (serverless.yml): the context's remaining time at the start of an invocation. */
const SPOT_TIMEOUT_MS = 90_000;

const instanceId = (n: number): string => `i-0${(0xacc00 + n).toString(16).padStart(16, '0')}`;
const nodeIp = (n: number): string => `10.0.0.${n + 10}`;
const nodeName = (n: number): string => `ip-10-0-0-${n + 10}.ec2.internal`;
const podIp = (n: number, g: number): string => `10.${100 + n}.${Math.floor(g / 250)}.${(g % 250) + 1}`;
/** The 4 nodes hosting group g's pods: each node is in one group of ten. */
const tenthLayout = (g: number): number[] => [0, 1, 2, 3].map((k) => ((10 - (g % 10)) % 10) + 10 * k);
/** At 3,000 groups: node 0 hosts a pod of every `step`-th group (30 groups: a node of tens of pods); the rest spread over nodes 1-39. */
const spreadLayout =
  (step: number) =>
  (g: number): number[] => {
    const others = [g, g + 13, g + 26, g + 7].map((x) => 1 + (x % (NODES - 1)));
    return g % step === 0 ? [0, ...others.slice(0, 3)] : others;
  };
/** How the pods spread: the node in one group of ten (the issue-14 world), or in 30 groups (a node of tens of pods). */
type Layout = 'tenth' | 'thirty';
/** Where group g's pods run, for a world of `groups` groups. */
const layoutFor = (groups: number, layout: Layout): ((g: number) => number[]) => (layout === 'thirty' ? spreadLayout(Math.max(1, Math.floor(groups / 30))) : tenthLayout);

interface World {
  readonly nodesOf: (g: number) => number[];
  readonly loseCluster: () => void;
  readonly fake: FakeAws;
  readonly clients: AwsClients;
  readonly endpoint: string;
  readonly groupArns: readonly string[];
  readonly kube: FakeKubeApi;
  readonly recheckQueueUrl: string;
  stop(): Promise<void>;
}

/** A fresh account: G ip target groups of 4 pods on 4 of 40 nodes, the cluster in fake EKS + fake Kubernetes. */
async function world(groups: number, cluster: 'reachable' | 'unreachable', layout: Layout = 'tenth'): Promise<World> {
  const aws = await benchAws();
  const { fake } = aws;
  const nodesOf = layoutFor(groups, layout);
  await fake.preload('ec2', 'elasticloadbalancing', 'eks', 'dynamodb');
  const podsOfNode = new Map<number, string[]>();
  for (let g = 0; g < groups; g++) for (const n of nodesOf(g)) podsOfNode.set(n, [...(podsOfNode.get(n) ?? []), podIp(n, g)]);
  for (let n = 0; n < NODES; n++) {
    fake.ec2.seedInstance({
      instanceId: instanceId(n),
      vpcId: VPC,
      lifecycle: 'spot',
      tags: { [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' },
      enis: [{ privateIps: [nodeIp(n), ...(podsOfNode.get(n) ?? [])] }],
    });
  }
  const kube = new FakeKubeApi({ historyLimit: 10 });
  const started = await kube.start();
  const arns: string[] = [];
  for (let g = 0; g < groups; g++) {
    const arn = fake.elbv2.seedTargetGroup({
      name: `k8s-bench-g${g}`,
      vpcId: VPC,
      targetType: 'ip',
      port: 8080,
      tags: { 'elbv2.k8s.aws/cluster': CLUSTER },
      targets: nodesOf(g).map((n) => ({ id: podIp(n, g) })),
    });
    arns.push(arn);
    for (const n of nodesOf(g)) kube.addPod({ namespace: 'bench', name: `svc-${g}-${n}`, ip: podIp(n, g), nodeName: nodeName(n), labels: { app: `svc-${g}` }, containerPorts: [8080], startTime: '2026-11-21T10:00:00Z' });
    kube.addService({ namespace: 'bench', name: `svc-${g}`, selector: { app: `svc-${g}` }, ports: [{ port: 8080, targetPort: 8080 }] });
    kube.addTargetGroupBinding({ namespace: 'bench', name: `svc-${g}`, targetGroupARN: arn, serviceRef: { name: `svc-${g}`, port: 8080 }, targetType: 'ip' });
  }
  // Unreachable: EKS answers, the endpoint it names refuses connections (port 9, discard).
  const seedEks = (reachable: boolean): void => fake.eks.seedCluster({ name: CLUSTER, endpoint: reachable ? started.endpoint : 'https://127.0.0.1:9', caData: started.caData, vpcId: VPC });
  seedEks(cluster === 'reachable');
  fake.dynamodb.seedTable('bench-state');
  const recheckQueueUrl = fake.sqs.seedQueue('bench-recheck', { VisibilityTimeout: '540' });
  // Clients the wiring builds itself (sdkClientConfig: EKS, Scheduler) find the fake through the SDK's own variables.
  process.env['AWS_ENDPOINT_URL'] = aws.endpoint;
  process.env['AWS_ACCESS_KEY_ID'] = 'bench';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'bench';
  return {
    nodesOf,
    // The cluster API goes away (after the sweeper ran): EKS names an endpoint that refuses connections.
    loseCluster: () => seedEks(false),
    fake,
    clients: aws.clients,
    endpoint: aws.endpoint,
    groupArns: arns,
    kube,
    recheckQueueUrl,
    stop: async () => {
      await aws.stop();
      await kube.stop();
    },
  };
}

/** The documented buckets, account-wide, on the (dilated) real clock. */
function enforceAccountBuckets(fake: FakeAws): void {
  const b = ELB_ACCOUNT_BUCKETS;
  fake.faults.accountBucket('elasticloadbalancing', 'Describe', b.describe.capacity, b.describe.refillPerSecond);
  // RegisterTargets and DeregisterTargets share the Registration bucket; only DeregisterTargets is called here.
  fake.faults.accountBucket('elasticloadbalancing', 'Deregister', b.register.capacity, b.register.refillPerSecond);
  fake.faults.latency(LATENCY_MS);
}

/** The stand-in Load Balancer Controller: 3 Describe calls per second, no retries, throttles counted. */
function controller(endpoint: string) {
  const client = new ElasticLoadBalancingV2Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lbc', secretAccessKey: 'lbc' }, maxAttempts: 1 });
  let calls = 0;
  let throttled = 0;
  const inflight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    calls++;
    const p = client.send(new DescribeLoadBalancersCommand({})).catch((err: unknown) => {
      if (isThrottling(err)) throttled++;
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }, 1000 / CONTROLLER_PER_SECOND);
  return {
    /** Starts counting from now. */
    reset: () => {
      calls = 0;
      throttled = 0;
    },
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inflight);
      client.destroy();
      return { calls, throttled };
    },
  };
}

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

/** quiesce's calls only (the controller's are DescribeLoadBalancers), from `t0`. */
function quiesceCalls(fake: FakeAws, t0: number): CallRecord[] {
  return fake.calls.records.filter((r) => r.start >= t0 && !(r.service === 'elasticloadbalancing' && r.operation === 'DescribeLoadBalancers'));
}

interface Outcome {
  elbCalls: number;
  describes: number;
  throttled: number;
  waves: number;
  lastDeregistration: number | undefined;
  stillHolding: number;
  touched: number;
  controller: { calls: number; throttled: number };
  result: string;
  /** State-table calls (DynamoDB) of the run: leases, the cached scope, the index, the scan log, the shared budget. */
  stateCalls: number;
}

/** Groups that still route to one of `nodes` (a registration of it that is not draining), out of those that did. */
function holding(w: World, groups: number, nodes: readonly number[]): { touched: number; still: number } {
  let touched = 0;
  let still = 0;
  for (let g = 0; g < groups; g++) {
    const mine = new Set(w.nodesOf(g).filter((n) => nodes.includes(n)).map((n) => podIp(n, g)));
    if (mine.size === 0) continue;
    touched++;
    if (w.fake.elbv2.targets(w.groupArns[g] as string).some((t) => mine.has(t.id) && t.state !== 'draining')) still++;
  }
  return { touched, still };
}

/** How a run delivers the warnings: one invocation (a direct event, or one SQS batch), or one invocation per node at once. */
type Delivery = 'one-invocation' | 'concurrent-invocations';

/** One run of `impl` on a fresh account of `groups` groups for the dying `nodes`. */
async function runOnce(groups: number, nodes: readonly number[], impl: 'quiesce' | 'unreachable' | 'naive', env: Record<string, string> = {}, delivery: Delivery = 'one-invocation', layout: Layout = 'tenth'): Promise<Outcome> {
  const w = await world(groups, 'reachable', layout);
  // As deployed, the sweeper has run: the cached scope and the registration index are in the state table.
  if (impl !== 'naive') await primeState(w);
  if (impl === 'unreachable') w.loseCluster();
  enforceAccountBuckets(w.fake);
  const lbc = controller(w.endpoint);
  // The controller alone for 5 s first: the bucket is at its steady state when the warning arrives.
  await sleep(5000);
  lbc.reset();
  const t0 = performance.now();
  let result = 'ok';
  try {
    if (impl === 'naive') await naive(w, nodes);
    else if (delivery === 'concurrent-invocations') {
      // Each invocation to its end (one that fails must not stop the world under the other).
      const outs = await Promise.allSettled(nodes.map((n) => spotHandler(w, [n], env)));
      result = outs.map((o) => (o.status === 'fulfilled' ? o.value : `failed (${(o.reason as Error).name}), retried later`)).join(', ');
    }
    else result = await spotHandler(w, nodes, env);
  } catch (err) {
    result = `failed (${(err as Error).name}), retried later`;
  }
  const ctl = await lbc.stop();
  const records = quiesceCalls(w.fake, t0);
  const elb = records.filter((r) => r.service === 'elasticloadbalancing');
  const log = new CallLog();
  log.records.push(...records);
  const writes = elb.filter((r) => r.operation === 'DeregisterTargets' && r.error === undefined).map((r) => r.end - t0);
  const held = holding(w, groups, nodes);
  // ACCOUNT_BENCH_DEBUG=1: the calls of each run by operation, on stderr.
  if (process.env['ACCOUNT_BENCH_DEBUG']) console.error(impl, groups, JSON.stringify(log.byOperation()), 'throttled:', elb.filter((r) => r.error !== undefined).map((r) => `${r.operation}@${Math.round(r.start - t0)}`).join(' '), 'writes:', writes.map((x) => Math.round(x)).join(','));
  await w.stop();
  return {
    elbCalls: elb.length,
    describes: elb.filter((r) => r.operation.startsWith('Describe')).length,
    throttled: elb.filter((r) => r.error !== undefined && /Throttl/.test(r.error)).length,
    waves: log.waves(),
    lastDeregistration: writes.length > 0 ? Math.max(...writes) : undefined,
    stillHolding: held.still,
    touched: held.touched,
    controller: ctl,
    result,
    stateCalls: records.filter((r) => r.service === 'dynamodb').length,
  };
}

/** The sweeper's config in the bench: as deployed (STATE_TABLE, the deploy's tag selector), plus `env`. */
const sweeperConfig = (env: Record<string, string> = {}) =>
  loadSweeperConfig({ CLUSTER_NAME: CLUSTER, AWS_REGION: 'us-east-1', STATE_TABLE: 'bench-state', TARGET_GROUP_TAG_SELECTOR: `elbv2.k8s.aws/cluster=${CLUSTER}`, ...env });

/**
 * The state the deployed sweeper leaves (cached scope, registration index): the real sweeper handler sweeps
 * the account once, before the measurement, with roomy client limits and the account buckets not yet
 * enforced (setup, not measured: the sweeper's own pace is the sweep section's subject).
 */
async function primeState(w: World): Promise<void> {
  const roomy = 'elb-describe=400:400,elb-register=400:400,ec2-describe=400:400,dynamodb=400:400';
  const config = sweeperConfig({ RATE_LIMITS: roomy, SWEEP_GROUPS_PER_RUN: '10000', SWEEP_READ_SECONDS: '600', SHARED_ELB_BUDGET: 'false' });
  const origin = w.fake.clock.now() - performance.now();
  const logger = createLogger('sweeper');
  const deps = buildSweepDeps({ config, clients: w.clients, logger, now: () => new Date(origin + performance.now()), sleep: (n) => sleep(n), clientOptions: { overrides: { endpoint: w.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } } } });
  const handler = makeSweepHandler(() => deps, logger, createMetrics('sweeper'));
  for (let tick = 0; tick < 10; tick++) {
    const out = (await handler(scheduledEvent(new Date(origin + performance.now())) as never, {} as never)) as { progress?: { done: boolean } };
    if (out.progress?.done) break;
  }
  deps.destroy();
}

const scheduledEvent = (at: Date) => ({ version: '0', id: `tick-${at.getTime()}`, 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: at.toISOString(), region: 'us-east-1', resources: [], detail: {} });

const warningEvent = (n: number, now: Date) => ({
  version: '0',
  id: `bench-${n}`,
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: now.toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId(n)}`],
  detail: { 'instance-id': instanceId(n), 'instance-action': 'terminate' },
});

/** The real spot handler, as deployed (STATE_TABLE, the ownership tag selector), one invocation. */
async function spotHandler(w: World, nodes: readonly number[], env: Record<string, string>): Promise<string> {
  const origin = w.fake.clock.now() - performance.now();
  const now = (): Date => new Date(origin + performance.now());
  const config = loadConfig({
    CLUSTER_NAME: CLUSTER,
    TARGET_GROUP_TAG_SELECTOR: `elbv2.k8s.aws/cluster=${CLUSTER}`,
    STATE_TABLE: 'bench-state',
    // As deployed: the re-registration guard on (its first re-check round scans every group once: the
    // fast path's completeness). The re-checks are sent, not run here.
    RECHECK_QUEUE_URL: w.recheckQueueUrl,
    AWS_REGION: 'us-east-1',
    // 2 s of real time: dilation magnifies the fake Kubernetes API's CPU time (thousands of objects) FACTOR times.
    CLUSTER_TIMEOUT_MS: String(2000 * FACTOR),
    ...env,
  });
  const logger = createLogger('spot-interruption');
  const deps = buildNodeWorkflowDeps('spot-interruption', { config, clients: w.clients, logger, now, sleep: (n) => sleep(n) });
  const handler = makeHandler(() => deps, logger, createMetrics('spot-interruption'));
  const started = performance.now();
  const context = {
    functionName: 'quiesce-bench-spot-interruption',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:quiesce-bench-spot-interruption',
    memoryLimitInMB: '512',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, SPOT_TIMEOUT_MS - (performance.now() - started)),
  };
  const event =
    nodes.length === 1
      ? warningEvent(nodes[0] as number, now())
      : { Records: nodes.map((n) => ({ messageId: `m-${n}`, body: JSON.stringify(warningEvent(n, now())), eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } })) };
  const out = (await handler(event as never, context as never)) as { status?: string; batchItemFailures?: unknown[] };
  const failures = out.batchItemFailures?.length ?? 0;
  return out.status ?? (failures > 0 ? `${failures} records retried later` : 'applied');
}

/** The naive peer: DescribeTargetHealth per group in turn, DeregisterTargets for the dying nodes' targets; throttled calls retried. */
async function naive(w: World, nodes: readonly number[]): Promise<void> {
  const elb = new ElasticLoadBalancingV2Client({ ...sdkClientConfig({ overrides: { endpoint: w.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'n', secretAccessKey: 'n' } } }), maxAttempts: 1 });
  const patient = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isThrottling(err)) throw err;
        await sleep(Math.random() * Math.min(5000, 100 * 2 ** attempt));
      }
    }
  };
  const ips = new Set<string>();
  for (const n of nodes) {
    const enis = await w.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId(n)] }] }));
    for (const e of enis.NetworkInterfaces ?? []) for (const p of e.PrivateIpAddresses ?? []) if (p.PrivateIpAddress) ips.add(p.PrivateIpAddress);
  }
  let marker: string | undefined;
  do {
    const page = await patient(() => elb.send(new DescribeTargetGroupsCommand({ Marker: marker })));
    for (const g of page.TargetGroups ?? []) {
      const health = await patient(() => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.TargetGroupArn })));
      const mine = (health.TargetHealthDescriptions ?? []).filter((d) => ips.has(d.Target?.Id ?? '')).map((d) => ({ Id: d.Target?.Id as string, Port: d.Target?.Port }));
      if (mine.length > 0) await patient(() => elb.send(new DeregisterTargetsCommand({ TargetGroupArn: g.TargetGroupArn, Targets: mine })));
    }
    marker = page.NextMarker;
  } while (marker);
  elb.destroy();
}

const IMPLS = [
  ['quiesce as wired (cluster API reachable)', 'quiesce'],
  ['quiesce, cluster API unreachable (registration index)', 'unreachable'],
  ['naive sequential peer', 'naive'],
] as const;

function row(label: string, what: string, o: Outcome): (string | number)[] {
  const done = o.stillHolding === 0;
  return [
    label,
    what,
    o.elbCalls,
    o.describes,
    o.throttled,
    o.waves,
    o.lastDeregistration === undefined ? '-' : ms(o.lastDeregistration),
    done ? `0 of ${o.touched}` : `${o.stillHolding} of ${o.touched}`,
    `${o.controller.throttled} of ${o.controller.calls}`,
    o.stateCalls,
    o.result,
  ];
}

/** The controller alone: what "quiesce idle" costs it. */
async function idle(): Promise<(string | number)[]> {
  const w = await world(10, 'reachable');
  enforceAccountBuckets(w.fake);
  const lbc = controller(w.endpoint);
  await sleep(5000);
  lbc.reset();
  await sleep(60_000);
  const ctl = await lbc.stop();
  await w.stop();
  return ['-', 'quiesce idle (the controller alone, 60 s)', 0, 0, 0, 0, '-', '-', `${ctl.throttled} of ${ctl.calls}`, 0, '-'];
}

/**
 * One full sweep of `groups` groups across invocations: the real sweeper handler (STATE_TABLE: its cursor,
 * scope and index) ticked every 2 minutes under the account buckets and the controller, until the sweep
 * completes. A tick that is not due yet (the pace) costs nothing and is skipped in time: the sweeper's clock
 * jumps to the due time (no call happens meanwhile; the buckets only refill), so the run takes the slices'
 * time, while the recorded duration is the sweep's own, from its first slice to its last.
 */
async function sweep(groups: number): Promise<{ rows: (string | number)[][]; notes: string[] }> {
  const w = await world(groups, 'reachable');
  enforceAccountBuckets(w.fake);
  const lbc = controller(w.endpoint);
  await sleep(5000);
  lbc.reset();
  const origin = w.fake.clock.now() - performance.now();
  let skew = 0;
  const now = (): Date => new Date(origin + performance.now() + skew);
  const config = sweeperConfig();
  const logger = createLogger('sweeper');
  const deps = buildSweepDeps({ config, clients: w.clients, logger, now, sleep: (n) => sleep(n), clientOptions: { overrides: { endpoint: w.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } } } });
  // Which group each DescribeTargetHealth read (the fake's call log has no inputs).
  const perGroup = new Map<string, number>();
  const counted = {
    ...deps,
    elbv2: {
      listTargetGroups: (o?: { vpcId?: string }) => deps.elbv2.listTargetGroups(o),
      tagsOf: (a: readonly string[]) => deps.elbv2.tagsOf(a),
      targetHealth: (arn: string, name: string) => {
        perGroup.set(arn, (perGroup.get(arn) ?? 0) + 1);
        return deps.elbv2.targetHealth(arn, name);
      },
    },
  };
  const handler = makeSweepHandler(() => counted, logger, createMetrics('sweeper'));
  const t0 = performance.now();
  let slowest = 0;
  let completed: { durationSeconds: number; describeCalls: number; slices: number; groups: number } | undefined;
  let failure: string | undefined;
  // Each invocation gets the function's 110 s (its context's remaining time: the budget's deadline).
  const context = (started: number) => ({ getRemainingTimeInMillis: () => Math.max(0, 110_000 - (performance.now() - started)) });
  for (let tick = 0; tick < 400 && !completed; tick++) {
    const at = now();
    const started = performance.now();
    try {
      const out = (await handler(scheduledEvent(at) as never, context(started) as never)) as { status: string; nextSweepAt?: string; progress?: { done: boolean; completed?: typeof completed } };
      if (out.status === 'skipped') {
        // Not due: jump to the due time, to the next tick after it.
        const due = Date.parse(out.nextSweepAt ?? '') - at.getTime();
        skew += Math.ceil(Math.max(due, 0) / 120_000) * 120_000;
        continue;
      }
      slowest = Math.max(slowest, performance.now() - started);
      completed = out.progress?.completed;
      skew += Math.max(0, 120_000 - (performance.now() - started));
    } catch (err) {
      failure = `${(err as Error).name}: ${(err as Error).message.slice(0, 80)}`;
      break;
    }
  }
  const ctl = await lbc.stop();
  const describes = quiesceCalls(w.fake, t0).filter((r) => r.service === 'elasticloadbalancing' && r.operation.startsWith('Describe'));
  const health = describes.filter((r) => r.operation === 'DescribeTargetHealth');
  const readOnce = w.groupArns.filter((a) => perGroup.get(a) === 1).length;
  deps.destroy();
  await w.stop();
  const refill = ELB_ACCOUNT_BUCKETS.describe.refillPerSecond;
  const share = completed ? completed.describeCalls / completed.durationSeconds : 0;
  const label = `${groups} groups`;
  return {
    rows: [
      [label, 'full sweep: completed', completed ? `yes, in ${completed.slices} invocations (the pace skipped the ticks between them)` : `no${failure ? ` (${failure})` : ''}`],
      [label, 'full sweep: duration (first slice start to last slice end)', completed ? `${(completed.durationSeconds / 60).toFixed(1)} min (${completed.durationSeconds} s)` : '-'],
      [label, 'groups described exactly once / in the account', `${readOnce} / ${groups}`],
      [label, 'Describe calls of the sweep (DescribeTargetHealth + scope)', `${completed?.describeCalls ?? describes.length} (${health.length} DescribeTargetHealth)`],
      [label, 'average Describe rate over the sweep', `${share.toFixed(2)}/s = ${((share / refill) * 100).toFixed(1)}% of the ${refill}/s refill (SWEEP_DESCRIBE_SHARE ${config.describeShare})`],
      [label, 'slowest invocation (bench time; the function has 110 s)', ms(slowest)],
      [label, 'controller throttled during the slices', `${ctl.throttled} of ${ctl.calls}`],
    ],
    notes: [],
  };
}

/** The account bench sections. */
export async function run(): Promise<BenchSection[]> {
  process.env['LOG_LEVEL'] ??= 'SILENT';
  const restore = dilateTime(FACTOR);
  const rows: (string | number)[][] = [];
  const sweepRows: (string | number)[][] = [];
  try {
    // ACCOUNT_BENCH_GROUPS=205 while iterating; the table in docs/benchmarks.md is the full run. The node is in
    // one group of ten (the issue-14 world) up to 1,000 groups; in 30 groups (ACCOUNT_BENCH_THIRTY) at 500,
    // 1,000 and 3,000 (a realistic node: tens of pods).
    const sizes = (process.env['ACCOUNT_BENCH_GROUPS'] ?? '205,500,1000').split(',').filter(Boolean).map(Number);
    const thirty = (process.env['ACCOUNT_BENCH_THIRTY'] ?? '500,1000,3000').split(',').filter(Boolean).map(Number);
    if (!process.env['ACCOUNT_BENCH_GROUPS']) rows.push(await idle());
    // Not measured: the first runs of a process load (and transpile) modules the later ones find loaded, and
    // that CPU, magnified by the dilation, would fall on whichever row came first.
    for (const impl of ['quiesce', 'unreachable'] as const) await runOnce(40, [0], impl);
    for (const groups of sizes) {
      // ACCOUNT_BENCH_IMPLS=quiesce,unreachable while iterating on one path.
      const only = process.env['ACCOUNT_BENCH_IMPLS']?.split(',');
      const extra = process.env['ACCOUNT_BENCH_ENV'] ? (JSON.parse(process.env['ACCOUNT_BENCH_ENV']) as Record<string, string>) : {};
      for (const [what, impl] of IMPLS.filter(([, i]) => !only || only.includes(i))) rows.push(row(`${groups} groups, 1 warning (node in 1 of 10)`, what, await runOnce(groups, [0], impl, extra)));
    }
    for (const groups of thirty) {
      const only = process.env['ACCOUNT_BENCH_IMPLS']?.split(',');
      for (const [what, impl] of IMPLS.filter(([, i]) => !only || only.includes(i))) rows.push(row(`${groups} groups, 1 warning (node in 30)`, what, await runOnce(groups, [0], impl, {}, 'one-invocation', 'thirty')));
    }
    if (process.env['ACCOUNT_BENCH_CONCURRENT'] !== '0') {
      // Two nodes in two Lambda containers at once (the queue's maximum concurrency is 2).
      const label = '1000 groups, 2 warnings, 2 concurrent invocations';
      rows.push(row(label, 'quiesce, shared ELB budget (default)', await runOnce(1000, [0, 1], 'quiesce', {}, 'concurrent-invocations')));
      rows.push(row(label, 'quiesce, SHARED_ELB_BUDGET=false', await runOnce(1000, [0, 1], 'quiesce', { SHARED_ELB_BUDGET: 'false' }, 'concurrent-invocations')));
    }
    const wave = Array.from({ length: 20 }, (_, n) => n);
    if (process.env['ACCOUNT_BENCH_WAVE'] !== '0') {
      for (const [what, impl] of IMPLS) rows.push(row('205 groups, wave of 20 nodes', what, await runOnce(205, wave, impl)));
    }
    const sweeps = (process.env['ACCOUNT_BENCH_SWEEP'] ?? '1000,3000').split(',').filter(Boolean).map(Number);
    for (const groups of sweeps) sweepRows.push(...(await sweep(groups)).rows);
  } finally {
    restore();
  }
  const d = DEFAULT_LIMITS['elb-describe'];
  const r = DEFAULT_LIMITS['elb-register'];
  return [
    {
      title: `Account budget: the ELB guide's buckets enforced account-wide, a Load Balancer Controller at ${CONTROLLER_PER_SECOND} Describe/s, ${LATENCY_MS} ms per call`,
      columns: ['world', 'implementation', 'ELB calls', 'Describe calls', 'throttled (own)', 'round-trip waves', 'last deregistration', 'groups still routing to the node(s) at the end', 'controller throttled', 'state-table calls', 'invocation'],
      rows,
      notes: [
        `Account buckets (fake, account-wide): Describe* ${ELB_ACCOUNT_BUCKETS.describe.capacity} tokens + ${ELB_ACCOUNT_BUCKETS.describe.refillPerSecond}/s, DeregisterTargets ${ELB_ACCOUNT_BUCKETS.register.capacity} + ${ELB_ACCOUNT_BUCKETS.register.refillPerSecond}/s (ELB user guide, request throttling). The all-actions account bucket the guide also names (40 + 10/s) is not enforced.`,
        `quiesce's client limits: the spot trigger's shares (60% of Describe: 6/s burst 24; all of Registration: 4/s burst 20), other triggers elb-describe ${d.ratePerSecond}/s burst ${d.burst}, elb-register ${r.ratePerSecond}/s burst ${r.burst}; AIMD on throttling; concurrency 16; STATE_TABLE set (group leases, the cached scope, the registration index, the scan log, the shared budget), ownership tag selector as deployed.`,
        '40 nodes; each group has 4 pods on 4 nodes. "node in 1 of 10": the issue-14 world, a node in one group of ten (21, 50, 100 groups: a node of 50 or 100 pods, each in another group); "node in 30": node 0 hosts a pod of every (G/30)th group (a node of tens of pods), the other pods spread over nodes 1-39; the wave\'s 20 nodes are in every group of 205.',
        'Before each quiesce row, the real sweeper handler swept the account once (unmeasured, unthrottled): the cached scope and the registration index are in the state table, as in a deployment where the sweeper runs. The naive peer needs no state.',
        `One invocation of the real spot handler with a ${SPOT_TIMEOUT_MS / 1000} s context (the function's timeout): its deadline is the remaining time less 10 s. A node still routed to at the end is retried by SQS later (not measured).`,
        `quiesce as wired: pods with nodeName, Services and TargetGroupBindings in the fake Kubernetes API, fake EKS pointing at it: the spot trigger's cluster-derived candidates (CLUSTER_TIMEOUT_MS ${2000 * FACTOR} bench ms = the default 2 s of real time, since dilation magnifies the fake API's CPU time). Unreachable: fake EKS names an endpoint that refuses connections, and the registration index names the groups (INDEX_VOUCH_SECONDS 3600: the index read them minutes ago, after the nodes launched).`,
        'naive: every call in turn; a throttled call is retried (full-jitter backoff, 100 ms doubling to 5 s) until it passes; one DeregisterTargets per group; no client-side limit.',
        `controller throttled: its DescribeLoadBalancers calls answered ThrottlingException during the run (from the warning to the end), of those it made. state-table calls: DynamoDB calls of the run (group leases and their release, the scope and index reads, the scan log, the shared budget's leases). Time runs ${FACTOR}x (test/bench/time-dilation.ts): figures are bench time.`,
      ],
    },
    {
      title: 'Sweeper: one full sweep across invocations, at its default share',
      columns: ['world', 'measure', 'value'],
      rows: sweepRows,
      notes: [
        'The real sweeper handler with STATE_TABLE (as deployed: SWEEP_DESCRIBE_SHARE 0.1, SWEEP_GROUPS_PER_RUN 400, SWEEP_READ_SECONDS 60, elb-describe 4/s burst 16), cluster reachable, the account buckets and the controller as above, ticked every 2 minutes until the sweep completes; each invocation has the function\'s 110 s.',
        'A tick before the next slice is due (the pace: each slice\'s Describe calls / (0.1 x 10/s)) does nothing; the bench jumps the sweeper\'s clock over it, so the sweep\'s duration is its own while the run takes only the slices\' time. "described exactly once": DescribeTargetHealth answered once for the group during the sweep (every group is owned here).',
      ],
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const { renderSection } = await import('./table.ts');
  for (const s of await run()) console.log(renderSection(s));
}
