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
 *  - one spot warning at 205, 500 and 1,000 target groups, the node in one group of ten;
 *  - a reclaim wave: 20 nodes' warnings in one SQS batch, 205 groups;
 * each for (a) quiesce as wired: the real spot handler, the cluster (pods with nodeName, TargetGroupBindings)
 * in the fake Kubernetes API and fake EKS pointing at it; (b) the cluster API unreachable (EKS names an
 * endpoint nobody listens on: the full scan); (c) a naive sequential peer (one DescribeTargetHealth per
 * group in turn, then DeregisterTargets, every throttled call retried with backoff until it passes).
 * Plus the controller alone (quiesce idle) and the sweeper's share of the Describe budget at 1,000 groups.
 *
 * Time runs 10x (time-dilation.ts): the numbers are bench seconds, the run takes a tenth of them.
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

const FACTOR = 10;
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
const nodesOf = (g: number): number[] => [0, 1, 2, 3].map((k) => ((10 - (g % 10)) % 10) + 10 * k);

interface World {
  readonly fake: FakeAws;
  readonly clients: AwsClients;
  readonly endpoint: string;
  readonly groupArns: readonly string[];
  readonly kube: FakeKubeApi;
  readonly recheckQueueUrl: string;
  stop(): Promise<void>;
}

/** A fresh account: G ip target groups of 4 pods on 4 of 40 nodes, the cluster in fake EKS + fake Kubernetes. */
async function world(groups: number, cluster: 'reachable' | 'unreachable'): Promise<World> {
  const aws = await benchAws();
  const { fake } = aws;
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
  fake.eks.seedCluster({ name: CLUSTER, endpoint: cluster === 'reachable' ? started.endpoint : 'https://127.0.0.1:9', caData: started.caData, vpcId: VPC });
  fake.dynamodb.seedTable('bench-state');
  const recheckQueueUrl = fake.sqs.seedQueue('bench-recheck', { VisibilityTimeout: '540' });
  // Clients the wiring builds itself (sdkClientConfig: EKS, Scheduler) find the fake through the SDK's own variables.
  process.env['AWS_ENDPOINT_URL'] = aws.endpoint;
  process.env['AWS_ACCESS_KEY_ID'] = 'bench';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'bench';
  return {
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
}

/** Groups that still route to one of `nodes` (a registration of it that is not draining), out of those that did. */
function holding(w: World, groups: number, nodes: readonly number[]): { touched: number; still: number } {
  let touched = 0;
  let still = 0;
  for (let g = 0; g < groups; g++) {
    const mine = new Set(nodesOf(g).filter((n) => nodes.includes(n)).map((n) => podIp(n, g)));
    if (mine.size === 0) continue;
    touched++;
    if (w.fake.elbv2.targets(w.groupArns[g] as string).some((t) => mine.has(t.id) && t.state !== 'draining')) still++;
  }
  return { touched, still };
}

/** One run of `impl` on a fresh account of `groups` groups for the dying `nodes`. */
async function runOnce(groups: number, nodes: readonly number[], impl: 'quiesce' | 'unreachable' | 'naive', env: Record<string, string> = {}): Promise<Outcome> {
  const w = await world(groups, impl === 'unreachable' ? 'unreachable' : 'reachable');
  enforceAccountBuckets(w.fake);
  const lbc = controller(w.endpoint);
  // The controller alone for 5 s first: the bucket is at its steady state when the warning arrives.
  await sleep(5000);
  lbc.reset();
  const t0 = performance.now();
  let result = 'ok';
  try {
    if (impl === 'naive') await naive(w, nodes);
    else result = await spotHandler(w, nodes, env);
  } catch (err) {
    result = `failed (${(err as Error).name}), retried later`;
  }
  const end = performance.now();
  const ctl = await lbc.stop();
  const records = quiesceCalls(w.fake, t0);
  const elb = records.filter((r) => r.service === 'elasticloadbalancing');
  const log = new CallLog();
  log.records.push(...records);
  const writes = elb.filter((r) => r.operation === 'DeregisterTargets' && r.error === undefined).map((r) => r.end - t0);
  const held = holding(w, groups, nodes);
  await w.stop();
  void end;
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
  };
}

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
    // 2 s of real time: dilation magnifies the fake Kubernetes API's CPU time (thousands of objects) 10x.
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
  ['quiesce, cluster API unreachable (full scan)', 'unreachable'],
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
  return ['-', 'quiesce idle (the controller alone, 60 s)', 0, 0, 0, 0, '-', '-', `${ctl.throttled} of ${ctl.calls}`, '-'];
}

/** One real sweep (the sweeper handler, STATE_TABLE set) at `groups` groups under the account buckets and the controller. */
async function sweep(groups: number): Promise<BenchSection> {
  const w = await world(groups, 'reachable');
  enforceAccountBuckets(w.fake);
  const lbc = controller(w.endpoint);
  await sleep(5000);
  lbc.reset();
  const origin = w.fake.clock.now() - performance.now();
  const now = (): Date => new Date(origin + performance.now());
  const config = loadSweeperConfig({ CLUSTER_NAME: CLUSTER, AWS_REGION: 'us-east-1', STATE_TABLE: 'bench-state' });
  const logger = createLogger('sweeper');
  const deps = buildSweepDeps({ config, clients: w.clients, logger, now, sleep: (n) => sleep(n), clientOptions: { overrides: { endpoint: w.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } } } });
  const handler = makeSweepHandler(() => deps, logger, createMetrics('sweeper'));
  const event = (at: Date) => ({ version: '0', id: `tick-${at.getTime()}`, 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: at.toISOString(), region: 'us-east-1', resources: [], detail: {} });
  const t0 = performance.now();
  const startedAt = now();
  let out: { status?: string; nextSweepAt?: string } = {};
  try {
    out = (await handler(event(startedAt) as never, {} as never)) as typeof out;
  } catch (err) {
    out = { status: `${(err as Error).name}: ${(err as Error).message.slice(0, 60)}` };
  }
  const runMs = performance.now() - t0;
  const during = await lbc.stop();
  const describes = quiesceCalls(w.fake, t0).filter((r) => r.service === 'elasticloadbalancing' && r.operation.startsWith('Describe')).length;
  // The next tick, 2 minutes after the first: skipped, and it says until when.
  const next = (await handler(event(new Date(startedAt.getTime() + 120_000)) as never, {} as never).catch((e: Error) => ({ status: e.name }))) as { status?: string; nextSweepAt?: string };
  deps.destroy();
  await w.stop();
  const interval = out.nextSweepAt ? (Date.parse(out.nextSweepAt) - startedAt.getTime()) / 1000 : 120;
  const refill = ELB_ACCOUNT_BUCKETS.describe.refillPerSecond;
  const pct = (perSecond: number) => `${((perSecond / refill) * 100).toFixed(0)}% of the ${refill}/s refill`;
  return {
    title: `Sweeper at ${groups} groups: its share of the account's Describe budget`,
    columns: ['measure', 'value'],
    rows: [
      ['one full sweep: Describe calls', describes],
      ['one full sweep: duration (bench time)', ms(runMs)],
      ['one full sweep: result', out.status ?? '-'],
      ['controller throttled during the sweep', `${during.throttled} of ${during.calls}`],
      ['next full sweep due after', `${interval.toFixed(0)} s (SWEEP_DESCRIBE_SHARE 0.1)`],
      ['the tick 2 minutes later', `${next.status ?? '-'}${next.nextSweepAt ? `, next due ${next.nextSweepAt}` : ''}`],
      ['average Describe rate of the sweeper, paced', `${(describes / interval).toFixed(2)}/s = ${pct(describes / interval)}`],
      ['the same with a full sweep every 2 minutes (before)', `${(describes / 120).toFixed(2)}/s = ${pct(describes / 120)}`],
    ],
    notes: [
      `The real sweeper handler, cluster reachable (pods and TargetGroupBindings in the fake Kubernetes API), STATE_TABLE set; the same account buckets and controller as above; elb-describe ${DEFAULT_LIMITS['elb-describe'].ratePerSecond}/s burst ${DEFAULT_LIMITS['elb-describe'].burst}.`,
      'The sweep itself is longer than the sweeper\'s 110 s timeout at this size (1,053 calls at 4/s): a full sweep of 1,000 groups at 40% of the Describe refill needs more than one invocation; sweeping across invocations is not built yet. Here the handler is not stopped at 110 s.',
    ],
  };
}

/** The account bench sections. */
export async function run(): Promise<BenchSection[]> {
  process.env['LOG_LEVEL'] ??= 'SILENT';
  const restore = dilateTime(FACTOR);
  const rows: (string | number)[][] = [];
  const sections: BenchSection[] = [];
  try {
    // ACCOUNT_BENCH_GROUPS=205 while iterating; the table in docs/benchmarks.md is the full run.
    const sizes = (process.env['ACCOUNT_BENCH_GROUPS'] ?? '205,500,1000').split(',').map(Number);
    if (!process.env['ACCOUNT_BENCH_GROUPS']) rows.push(await idle());
    for (const groups of sizes) {
      for (const [what, impl] of IMPLS) rows.push(row(`${groups} groups, 1 warning`, what, await runOnce(groups, [0], impl)));
      if (groups >= 1000) rows.push(row(`${groups} groups, 1 warning`, 'quiesce as wired, ELB_BUDGET_SHARE=register=1', await runOnce(groups, [0], 'quiesce', { ELB_BUDGET_SHARE: 'register=1' })));
    }
    const wave = Array.from({ length: 20 }, (_, n) => n);
    if (process.env['ACCOUNT_BENCH_WAVE'] !== '0') {
      for (const [what, impl] of IMPLS) rows.push(row('205 groups, wave of 20 nodes', what, await runOnce(205, wave, impl)));
      rows.push(row('205 groups, wave of 20 nodes', 'quiesce, unreachable, ELB_BUDGET_SHARE=register=1', await runOnce(205, wave, 'unreachable', { ELB_BUDGET_SHARE: 'register=1' })));
    }
    if (process.env['ACCOUNT_BENCH_SWEEP'] !== '0') sections.push(await sweep(1000));
  } finally {
    restore();
  }
  const d = DEFAULT_LIMITS['elb-describe'];
  const r = DEFAULT_LIMITS['elb-register'];
  return [
    {
      title: `Account budget: the ELB guide's buckets enforced account-wide, a Load Balancer Controller at ${CONTROLLER_PER_SECOND} Describe/s, ${LATENCY_MS} ms per call`,
      columns: ['world', 'implementation', 'ELB calls', 'Describe calls', 'throttled (own)', 'round-trip waves', 'last deregistration', 'groups still routing to the node(s) at the end', 'controller throttled', 'invocation'],
      rows,
      notes: [
        `Account buckets (fake, account-wide): Describe* ${ELB_ACCOUNT_BUCKETS.describe.capacity} tokens + ${ELB_ACCOUNT_BUCKETS.describe.refillPerSecond}/s, DeregisterTargets ${ELB_ACCOUNT_BUCKETS.register.capacity} + ${ELB_ACCOUNT_BUCKETS.register.refillPerSecond}/s (ELB user guide, request throttling). The all-actions account bucket the guide also names (40 + 10/s) is not enforced.`,
        `quiesce's defaults: elb-describe ${d.ratePerSecond}/s burst ${d.burst}, elb-register ${r.ratePerSecond}/s burst ${r.burst} (ELB_BUDGET_SHARE 0.4 of each bucket), AIMD on throttling; concurrency 16; STATE_TABLE set (group leases), ownership tag selector as deployed.`,
        `40 nodes; each group has 4 pods on 4 nodes, so a node is in one group of ten (21, 50, 100 groups); the wave's 20 nodes are in every group.`,
        `One invocation of the real spot handler with a ${SPOT_TIMEOUT_MS / 1000} s context (the function's timeout): its deadline is the remaining time less 10 s. A node still routed to at the end is retried by SQS later (not measured).`,
        `quiesce as wired: pods with nodeName, Services and TargetGroupBindings in the fake Kubernetes API, fake EKS pointing at it: the spot trigger's cluster-derived candidates (CLUSTER_CANDIDATES, default on; CLUSTER_TIMEOUT_MS ${2000 * FACTOR} bench ms = the default 2 s of real time, since dilation magnifies the fake API's CPU time). Unreachable: fake EKS names an endpoint that refuses connections.`,
        'naive: every call in turn; a throttled call is retried (full-jitter backoff, 100 ms doubling to 5 s) until it passes; one DeregisterTargets per group; no client-side limit.',
        `controller throttled: its DescribeLoadBalancers calls answered ThrottlingException during the run (from the warning to the end), of those it made. Time runs ${FACTOR}x (test/bench/time-dilation.ts): figures are bench time.`,
      ],
    },
    ...sections,
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  const { renderSection } = await import('./table.ts');
  for (const s of await run()) console.log(renderSection(s));
}
