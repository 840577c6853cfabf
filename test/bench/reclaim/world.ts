/**
 * The adapter between the reclaim model (model.ts) and the real system: one run of a reclaim on the fake AWS
 * and the fake Kubernetes API, on the fake's clock (virtual time, advanced here from event to event, as the
 * integration tests do). What runs for real: the stand-in Load Balancer Controller's RegisterTargets /
 * DeregisterTargets calls (through the SDK, at its client limit), and with quiesce the real spot-interruption
 * handler (the warning on the node-signal queue, delivered as Lambda's SQS event source would: batching
 * window, partial batch failures, the re-registration guard's delayed re-checks on the same queue) and the
 * real pod-events handler fed by the real pod forwarder watching the fake Kubernetes API. The same pods are
 * in Cloud Map: the stand-in App Mesh controller registers and deregisters their instances (asynchronous
 * operations in the fake, as in AWS), and quiesce's handlers deregister them too (CLOUDMAP_NAMESPACES set).
 * What the model decides: when pods stop serving, leave and are replaced (the drainer), and the latencies of
 * delivery.
 *
 * The run returns the fake's target history as {@link Registration}s (the model's load balancer routes on
 * exactly what the fake reported: `healthy` from when, `draining` from when) and its Cloud Map history as
 * {@link InstanceSpan}s (from each operation's completion), which the model's gRPC client resolves.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeregisterInstanceCommand, GetOperationCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { DeregisterTargetsCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SQSRecord } from 'aws-lambda';
import { loadConfig } from '#core/config.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { makeHandler as makeSpotHandler } from '../../../functions/spot-interruption/handler.ts';
import { buildNodeWorkflowDeps } from '../../../functions/spot-interruption/wiring.ts';
import { loadPodEventsConfig } from '../../../functions/pod-events/config.ts';
import { makeHandler as makePodHandler } from '../../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../../functions/pod-events/wiring.ts';
import { startForwarder, type RunningForwarder } from '../../../functions/pod-forwarder/forwarder.ts';
import { memoryLogger } from '../../../functions/pod-forwarder/log.ts';
import type { FakeAws } from '../../fakes/aws/index.ts';
import { FakeKubeApi } from '../../fakes/kube/index.ts';
import { unsignedEksToken } from '../../fakes/kube/unsigned-token.ts';
import { benchAws } from '../support.ts';
import { appMeshDesired, appMeshReconcile, DEFAULTS, endpointChanges, endpointsAt, lbcReconcile, S, TokenBucket, type ClusterTimeline, type InstanceSpan, type Registration, type Topology } from './model.ts';

const CLUSTER = 'bench';
const VPC = 'vpc-0bec0000000000a2';
const NS = 'shop';
const BUS = 'quiesce-bench';
const PORT = 8080;
/** The Cloud Map namespace the App Mesh controller registers the pods in (an HTTP namespace). */
const CLOUD_MAP_NAMESPACE = 'shop.mesh.local';
const MESH = 'shop-mesh';
/** The run ends this long after the warning (it starts at the warning; the pods ran for an hour before). */
export const RUN_TO = 320 * S;

/** Which system takes the node's endpoints out of traffic. */
export type System = 'lbc' | 'quiesce';

/** How quiesce is deployed in a run (ignored for the LBC alone). */
export interface RunOptions {
  /** GUARD_INTERVAL_SECONDS of the spot trigger's re-registration guard (the product default: 15). */
  readonly guardIntervalSeconds?: number;
}

/** What a run recorded. */
export interface RunRecord {
  readonly registrations: Registration[];
  /** Every Cloud Map instance's presence over the run (what a discovery answered when). */
  readonly instances: InstanceSpan[];
  /** Invocations of the real handlers and the calls they made. */
  readonly spotInvocations: number;
  readonly podEventInvocations: number;
  readonly quiesceDeregistrations: number;
  readonly lbcCalls: { register: number; deregister: number };
  /** The latest moment a DeregisterTargets by quiesce took one of the warned nodes' targets out (ms from the warning). */
  readonly lastQuiesceDeregistration: number | undefined;
  /** ELB Describe* calls made by quiesce's spot-interruption and pod-events invocations (the LBC stand-in reads the fake directly). */
  readonly elbDescribes: { spot: number; podEvents: number };
  /** DeregisterInstance operations quiesce submitted. */
  readonly quiesceInstanceDeregistrations: number;
  /** The App Mesh stand-in's calls, and its DeregisterInstance answered InstanceNotFound / DuplicateRequest (quiesce was first). */
  readonly appMeshCalls: { register: number; deregister: number; notFound: number; duplicate: number };
  /** DuplicateRequest answers to quiesce's DeregisterInstance (each makes its executor wait, moving the run's clock). */
  readonly quiesceDuplicateRequests: number;
  /** Waits for the forwarder's events that ran out of real time (non-zero: the run's timing may have shifted). */
  readonly forwarderTimeouts: number;
}

const instanceId = (i: number): string => `i-0${(0x5b07 + i).toString(16).padStart(16, '0')}`;
const nodeIp = (i: number): string => `10.0.0.${i + 10}`;
/** The Kubernetes node name of a model node: the instance's EC2 private DNS name for spot nodes. */
const kubeNode = (node: string): string => (node.startsWith('spot-') ? `ip-10-0-0-${Number(node.slice(5)) + 10}.ec2.internal` : `${node}.ec2.internal`);

interface Agenda {
  at: number;
  seq: number;
  run: () => Promise<void> | void;
}

/** One reclaim, start to end, for a system; returns the fake's history. */
export async function runReclaim(topology: Topology, timeline: ClusterTimeline, system: System, options: RunOptions = {}): Promise<RunRecord> {
  const aws = await benchAws();
  const { fake } = aws;
  await fake.preload('ec2', 'elasticloadbalancing', 'eks', 'dynamodb', 'servicediscovery');
  const origin = fake.clock.now();
  const t = (): number => fake.clock.now() - origin;
  const kube = new FakeKubeApi({ now: () => new Date(fake.clock.now()), token: { checkAge: false } });
  const started = await kube.start();
  const env = { AWS_ENDPOINT_URL: aws.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let forwarder: RunningForwarder | undefined;
  try {
    // ---- the account and the cluster at the warning ----
    topology.spotNodes.forEach((node, i) => {
      const ips = timeline.pods.filter((p) => p.node === node).map((p) => p.ip);
      fake.ec2.seedInstance({
        instanceId: instanceId(i),
        vpcId: VPC,
        lifecycle: 'spot',
        privateIp: nodeIp(i),
        launchTime: new Date(origin - 86_400_000),
        tags: { [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' },
        enis: [{ privateIps: [nodeIp(i), ...ips] }],
      });
    });
    const groupArn = new Map<string, string>();
    for (const d of topology.deployments) {
      const arn = fake.elbv2.seedTargetGroup({
        name: `k8s-${NS}-${d.name}`,
        vpcId: VPC,
        targetType: 'ip',
        port: PORT,
        tags: { 'elbv2.k8s.aws/cluster': CLUSTER },
        healthCheckSettleMs: DEFAULTS.registrationToHealthyMs,
        targets: timeline.pods.filter((p) => p.deployment === d.name && p.createdAt < 0).map((p) => ({ id: p.ip })),
      });
      groupArn.set(d.name, arn);
      kube.addService({ namespace: NS, name: d.name, selector: { app: d.name }, ports: [{ port: PORT, targetPort: PORT }] });
      kube.addTargetGroupBinding({ namespace: NS, name: d.name, targetGroupARN: arn, serviceRef: { name: d.name, port: PORT }, targetType: 'ip' });
    }
    for (const p of timeline.pods.filter((x) => x.createdAt < 0)) addPod(kube, p.name, p.deployment, p.node, p.ip, true);
    // Cloud Map: one service per Deployment, its Ready pods registered as the App Mesh controller does.
    const namespaceId = fake.cloudMap.seedNamespace(CLOUD_MAP_NAMESPACE);
    const serviceId = new Map<string, string>();
    for (const d of topology.deployments) {
      const id = fake.cloudMap.seedService(namespaceId, d.name);
      serviceId.set(d.name, id);
      for (const p of timeline.pods.filter((x) => x.deployment === d.name && x.createdAt < 0)) fake.cloudMap.seedInstance(id, p.ip, instanceAttributes(p.name, d.name, p.ip));
    }
    fake.eks.seedCluster({ name: CLUSTER, endpoint: started.endpoint, caData: started.caData, vpcId: VPC });
    fake.dynamodb.seedTable('bench-state');
    const queueUrl = fake.sqs.seedQueue('bench-node-signals', { VisibilityTimeout: '540' });
    fake.events.handle('CreateEventBus', { Name: BUS });

    // ---- the agenda on the virtual clock ----
    const agenda: Agenda[] = [];
    let seq = 0;
    const at = (when: number, run: Agenda['run']): void => {
      agenda.push({ at: when, seq: seq++, run });
    };
    const registrations = recorder(fake, groupArn, t);

    // The stand-in Load Balancer Controller: a reconcile per endpoint change of a Service (after the
    // reconcile delay; one pending at a time per binding), its writes at its client limit.
    const elb = new ElasticLoadBalancingV2Client({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'lbc', secretAccessKey: 'lbc' }, maxAttempts: 3 });
    const bucket = new TokenBucket(DEFAULTS.lbc.ratePerSecond, DEFAULTS.lbc.burst);
    const lbcCalls = { register: 0, deregister: 0 };
    let lbcCalling = false;
    // One reconcile per binding at a time (controller-runtime's work queue): a change seen while one runs
    // makes it run once more when it ends.
    const busy = new Set<string>();
    const dirty = new Set<string>();
    const request = (dep: string): void => {
      if (busy.has(dep)) {
        dirty.add(dep);
        return;
      }
      busy.add(dep);
      at(t(), () => reconcile(dep));
    };
    const reconcile = async (dep: string): Promise<void> => {
      const arn = groupArn.get(dep) as string;
      const plan = lbcReconcile(endpointsAt(timeline, dep, t()), fake.elbv2.targets(arn));
      const calls: ['register' | 'deregister', string[]][] = [];
      if (plan.deregister.length > 0) calls.push(['deregister', plan.deregister]);
      if (plan.register.length > 0) calls.push(['register', plan.register]);
      const step = async (i: number): Promise<void> => {
        const call = calls[i];
        if (!call) {
          busy.delete(dep);
          if (dirty.delete(dep)) request(dep);
          return;
        }
        const go = async (): Promise<void> => {
          const Targets = call[1].map((Id) => ({ Id, Port: PORT }));
          lbcCalls[call[0]]++;
          lbcCalling = true;
          try {
            await elb.send(call[0] === 'register' ? new RegisterTargetsCommand({ TargetGroupArn: arn, Targets }) : new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets }));
          } finally {
            lbcCalling = false;
          }
          await step(i + 1);
        };
        const when = bucket.take(t());
        if (when > t()) at(when, go);
        else await go();
      };
      await step(0);
    };
    for (const d of topology.deployments) for (const change of endpointChanges(timeline, d.name)) at(change + DEFAULTS.lbc.reconcileDelayMs, () => request(d.name));

    // The stand-in App Mesh controller: an instances reconcile per pod change of a VirtualNode (after its
    // delay), against its cached view of the service (its ListInstances cache, filled before the warning and
    // updated only by its own operations), each operation polled every 3 s until SUCCESS updates that view.
    const sd = new ServiceDiscoveryClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'appmesh', secretAccessKey: 'appmesh' }, maxAttempts: 3 });
    const meshView = new Map(topology.deployments.map((d) => [d.name, new Set(fake.cloudMap.instancesOf(serviceId.get(d.name) as string).map((i) => i.Id))]));
    const meshInFlight = new Map(topology.deployments.map((d) => [d.name, new Set<string>()]));
    const appMeshCalls = { register: 0, deregister: 0, notFound: 0, duplicate: 0 };
    const follow = (dep: string, ip: string, operationId: string, kind: 'register' | 'deregister'): void =>
      at(t() + DEFAULTS.appMesh.operationPollMs, async () => {
        const op = (await sd.send(new GetOperationCommand({ OperationId: operationId }))).Operation;
        if (op?.Status === 'SUCCESS' || op?.Status === 'FAIL') {
          meshInFlight.get(dep)?.delete(ip);
          if (op.Status === 'SUCCESS' && kind === 'register') meshView.get(dep)?.add(ip);
          if (op.Status === 'SUCCESS' && kind === 'deregister') meshView.get(dep)?.delete(ip);
        } else follow(dep, ip, operationId, kind);
      });
    const reconcileMesh = async (dep: string): Promise<void> => {
      const sid = serviceId.get(dep) as string;
      const inFlight = meshInFlight.get(dep) as Set<string>;
      const plan = appMeshReconcile(appMeshDesired(timeline, dep, t()), meshView.get(dep) as Set<string>, inFlight);
      for (const ip of plan.register) {
        const pod = timeline.pods.find((p) => p.ip === ip);
        appMeshCalls.register++;
        const res = await sd.send(new RegisterInstanceCommand({ ServiceId: sid, InstanceId: ip, Attributes: { ...instanceAttributes(pod?.name ?? ip, dep, ip), AWS_INIT_HEALTH_STATUS: 'HEALTHY' } }));
        inFlight.add(ip);
        follow(dep, ip, res.OperationId as string, 'register');
      }
      for (const ip of plan.deregister) {
        appMeshCalls.deregister++;
        try {
          const res = await sd.send(new DeregisterInstanceCommand({ ServiceId: sid, InstanceId: ip }));
          inFlight.add(ip);
          follow(dep, ip, res.OperationId as string, 'deregister');
        } catch (err) {
          // Someone else (quiesce) got there first: the controller's reconcile fails and its view keeps the
          // instance; it tries again on the next pod change.
          const name = (err as { name?: string }).name;
          if (name === 'InstanceNotFound') appMeshCalls.notFound++;
          else if (name === 'DuplicateRequest') appMeshCalls.duplicate++;
          else throw err;
        }
      }
    };
    for (const d of topology.deployments) for (const change of endpointChanges(timeline, d.name)) at(change + DEFAULTS.appMesh.reconcileDelayMs, () => reconcileMesh(d.name));

    // The cluster: pods created, Ready, terminating, exited, marked not Ready; instances terminated.
    for (const p of timeline.pods) {
      if (p.createdAt >= 0) at(p.createdAt, () => addPod(kube, p.name, p.deployment, p.node, p.ip, false));
      if (p.createdAt >= 0 && Number.isFinite(p.readyAt)) at(p.readyAt, () => void kube.updatePod(NS, p.name, { ready: true }));
      if (Number.isFinite(p.terminatingAt)) at(p.terminatingAt, () => void kube.markTerminating(NS, p.name, 90));
      if (Number.isFinite(p.exitAt)) {
        // An evicted pod is deleted at exit; under graceful node shutdown it reports Failed (not Ready) instead.
        at(p.exitAt, () => void (Number.isFinite(p.terminatingAt) ? kube.deletePod(NS, p.name) : kube.updatePod(NS, p.name, { ready: false, phase: 'Failed' })));
      }
      if (Number.isFinite(p.notReadyAt)) at(p.notReadyAt, () => void kube.updatePod(NS, p.name, { ready: false }));
      // The pod GC force-deletes the pods of a vanished node (deletionTimestamp, then gone).
      if (Number.isFinite(p.gcAt)) {
        at(p.gcAt, () => {
          if (!Number.isFinite(p.terminatingAt)) kube.markTerminating(NS, p.name, 0);
          kube.deletePod(NS, p.name);
        });
      }
    }
    topology.spotNodes.forEach((node, i) => at(timeline.nodeGoneAt.get(node) as number, () => fake.ec2.terminate(instanceId(i))));

    // ---- quiesce, as deployed ----
    let spotInvocations = 0;
    let podEventInvocations = 0;
    const elbDescribes = { spot: 0, podEvents: 0 };
    let forwarderTimeouts = 0;
    const describes = (): number => fake.calls.filter('elasticloadbalancing').filter((r) => r.operation.startsWith('Describe')).length;
    if (system === 'quiesce') {
      const q = DEFAULTS.quiesce;
      // As deployed, with two bench settings: Cloud Map in scope (the App Mesh namespace), and no wait for
      // Cloud Map operations inside an invocation. The agenda runs an invocation at one virtual instant, so a
      // wait there would move the clock under everything else; the wait only decides what the invocation
      // reports, not when the instance leaves Cloud Map (its operation completes in the fake regardless).
      const shared = {
        CLUSTER_NAME: CLUSTER,
        TARGET_GROUP_TAG_SELECTOR: `elbv2.k8s.aws/cluster=${CLUSTER}`,
        STATE_TABLE: 'bench-state',
        CLOUDMAP_NAMESPACES: CLOUD_MAP_NAMESPACE,
        CLOUDMAP_OPERATION_WAIT_SECONDS: '0',
        AWS_REGION: 'us-east-1',
      };
      const now = (): Date => new Date(fake.clock.now());
      const sleep = (ms: number): Promise<void> => fake.clock.sleep(ms);
      const spotLogger = createLogger('spot-interruption');
      const spotDeps = buildNodeWorkflowDeps('spot-interruption', {
        config: loadConfig({ ...shared, RECHECK_QUEUE_URL: queueUrl, ...(options.guardIntervalSeconds !== undefined ? { GUARD_INTERVAL_SECONDS: String(options.guardIntervalSeconds) } : {}) }),
        clients: aws.clients,
        logger: spotLogger,
        now,
        sleep,
        retry: { baseDelayMs: 50, maxDelayMs: 500 },
      });
      const spot = makeSpotHandler(() => spotDeps, spotLogger, createMetrics('spot-interruption'));
      const podLogger = createLogger('pod-events');
      const podDeps = buildPodWorkflowDeps({
        config: loadPodEventsConfig({ ...shared, VPC_ID: VPC, EXPORTER_ENABLED: 'false' }),
        clients: aws.clients,
        logger: podLogger,
        now,
        sleep,
        retry: { baseDelayMs: 50, maxDelayMs: 500 },
      });
      const podEvents = makePodHandler(() => podDeps, podLogger, createMetrics('pod-events'));
      const context = { functionName: 'quiesce-bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 80_000 } as never;

      // The warnings: EventBridge rule -> node-signal queue.
      const sqs = new SQSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'events', secretAccessKey: 'events' } });
      topology.spotNodes.forEach((_, i) =>
        at(q.eventToQueueMs, async () => {
          await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(warning(i, now())) }));
        }),
      );
      // Lambda's SQS event source: once a message is visible, a batching window, then one invocation.
      let windowOpen = false;
      const poll = (): void => {
        if (!windowOpen && fake.sqs.pending(queueUrl).some((m) => m.visibleAt <= fake.clock.now())) {
          windowOpen = true;
          at(t() + q.batchWindowMs + q.invocationMs, async () => {
            windowOpen = false;
            const records = receive(fake, queueUrl);
            if (records.length === 0) return;
            spotInvocations++;
            const before = describes();
            const out = (await spot({ Records: records } as never, context)) as { batchItemFailures?: { itemIdentifier: string }[] };
            elbDescribes.spot += describes() - before;
            const failed = new Set((out.batchItemFailures ?? []).map((f) => f.itemIdentifier));
            for (const r of records) if (!failed.has(r.messageId)) fake.sqs.handle('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle });
          });
        }
      };
      for (let when = 0; when <= RUN_TO; when += S) at(when, poll);

      // The pod forwarder watching the fake Kubernetes API; its events reach pod-events through the bus.
      forwarder = await startForwarder(
        { clusterName: CLUSTER, eventBusName: BUS, queueMax: 1000, batchMaxWaitMs: 10, forwardNotReady: false, namespaces: undefined, labelSelector: undefined, metricsPort: 0, healthStaleSeconds: 60, shutdownTimeoutMs: 2000, publishUnhealthySeconds: 60 },
        { kube: { server: started.endpoint, caData: started.caData, token: unsignedEksToken(now()) }, log: memoryLogger(), now, watcher: { baseBackoffMs: 20, maxBackoffMs: 200 }, publisher: { baseBackoffMs: 10, maxBackoffMs: 50 } },
      );
      await kube.waitForWatches(1);
      let delivered = 0;
      const deliver = async (): Promise<void> => {
        const fresh = fake.events.published(BUS).slice(delivered);
        delivered += fresh.length;
        for (const e of fresh) {
          at(t() + q.forwarderToLambdaMs + q.invocationMs, async () => {
            podEventInvocations++;
            const before = describes();
            await podEvents(e.event as never, context).catch(() => undefined);
            elbDescribes.podEvents += describes() - before;
          });
        }
      };
      // After the cluster changes, wait (real time) for the forwarder to publish what it saw, then deliver.
      const published = (): number => fake.events.published(BUS).length;
      let expected = 0;
      // An eviction, or the pod GC's force delete of a pod that was never evicted: one deletion each.
      for (const p of timeline.pods.filter((x) => Number.isFinite(x.terminatingAt) || Number.isFinite(x.gcAt))) {
        at(Number.isFinite(p.terminatingAt) ? p.terminatingAt : p.gcAt, async () => {
          expected++;
          // Generous: a late forwarder would shift this run's timing (counted, and reported by the bench).
          if (!(await until(() => published() >= expected, 20_000))) forwarderTimeouts++;
          await deliver();
        });
      }
    }

    // ---- run the agenda ----
    const quiesceWrites: number[] = [];
    const unsubscribe = fake.elbv2.onDeregister(() => {
      if (!lbcCalling) quiesceWrites.push(t());
    });
    while (agenda.length > 0) {
      agenda.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = agenda.shift() as Agenda;
      if (next.at > RUN_TO) break;
      if (next.at > t()) fake.clock.advance(next.at - t());
      await next.run();
      registrations.snapshot();
    }
    unsubscribe();
    elb.destroy();
    sd.destroy();
    const cloudMapCalls = (op: string, error?: string): number => fake.calls.filter('servicediscovery', op).filter((r) => error === undefined || r.error === error).length;
    return {
      registrations: registrations.close(),
      instances: instanceSpans(fake, serviceId, origin, timeline.pods.filter((p) => p.createdAt < 0).map((p) => ({ group: p.deployment, ip: p.ip }))),
      elbDescribes,
      quiesceInstanceDeregistrations: cloudMapCalls('DeregisterInstance') - cloudMapCalls('DeregisterInstance', 'InstanceNotFound') - cloudMapCalls('DeregisterInstance', 'DuplicateRequest') - (appMeshCalls.deregister - appMeshCalls.notFound - appMeshCalls.duplicate),
      appMeshCalls,
      quiesceDuplicateRequests: cloudMapCalls('DeregisterInstance', 'DuplicateRequest') - appMeshCalls.duplicate,
      forwarderTimeouts,
      spotInvocations,
      podEventInvocations,
      quiesceDeregistrations: quiesceWrites.length,
      lbcCalls,
      lastQuiesceDeregistration: quiesceWrites.length > 0 ? Math.max(...quiesceWrites) : undefined,
    };
  } finally {
    await forwarder?.stop(1000);
    Object.assign(process.env, savedEnv);
    for (const [k, v] of Object.entries(savedEnv)) if (v === undefined) delete process.env[k];
    await kube.stop();
    await aws.stop();
  }
}

/** The attributes the App Mesh controller gives a pod's instance (instances_reconciler.go buildInstanceAttributes). */
function instanceAttributes(pod: string, deployment: string, ip: string): Record<string, string> {
  return {
    app: deployment,
    AWS_INSTANCE_IPV4: ip,
    AWS_INSTANCE_PORT: String(PORT),
    'k8s.io/pod': pod,
    'k8s.io/namespace': NS,
    'appmesh.k8s.aws/mesh': MESH,
    'appmesh.k8s.aws/virtualNode': `${deployment}_${NS}`,
  };
}

/**
 * Every instance's presence from the fake's Cloud Map operations: seeded instances from long before the
 * warning, then each successful RegisterInstance / DeregisterInstance at its completion (submission + the
 * fake's settle time), which is when ListInstances, and so a discovery, changes.
 */
function instanceSpans(fake: FakeAws, serviceIds: ReadonlyMap<string, string>, origin: number, seeded: readonly { group: string; ip: string }[]): InstanceSpan[] {
  const groupOf = new Map([...serviceIds].map(([group, id]) => [id, group]));
  const open = new Map<string, { group: string; ip: string; from: number }>();
  const done: InstanceSpan[] = [];
  const settle = fake.cloudMap.timing.successAfterMs;
  const ops = fake.cloudMap.operations().filter((o) => o.Status === 'SUCCESS' && (o.Type === 'REGISTER_INSTANCE' || o.Type === 'DEREGISTER_INSTANCE'));
  for (const x of seeded) open.set(`${x.group}|${x.ip}`, { ...x, from: -3600 * S });
  for (const o of [...ops].sort((a, b) => a.CreateDate - b.CreateDate)) {
    const group = groupOf.get(o.Targets['SERVICE'] as string);
    if (group === undefined) continue;
    const ip = o.Targets['INSTANCE'] as string;
    const at = o.CreateDate + settle - origin;
    const k = `${group}|${ip}`;
    const cur = open.get(k);
    if (o.Type === 'REGISTER_INSTANCE' && !cur) open.set(k, { group, ip, from: at });
    if (o.Type === 'DEREGISTER_INSTANCE' && cur) {
      done.push({ ...cur, to: at });
      open.delete(k);
    }
  }
  return [...done, ...[...open.values()].map((x) => ({ ...x, to: Infinity }))];
}

function addPod(kube: FakeKubeApi, name: string, deployment: string, node: string, ip: string, ready: boolean): void {
  kube.addPod({
    namespace: NS,
    name,
    ip,
    nodeName: kubeNode(node),
    labels: { app: deployment },
    containerPorts: [PORT],
    ready,
    phase: 'Running',
    startTime: '2026-11-21T10:00:00Z',
    terminationGracePeriodSeconds: 90,
  });
}

const warning = (i: number, now: Date) => ({
  version: '0',
  id: `reclaim-${i}`,
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: now.toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId(i)}`],
  detail: { 'instance-id': instanceId(i), 'instance-action': 'terminate' },
});

/** Receives up to a batch (25, as deployed) from the fake queue, as Lambda's event source does. */
function receive(fake: FakeAws, queueUrl: string): SQSRecord[] {
  const out: SQSRecord[] = [];
  while (out.length < 25) {
    const got = fake.sqs.handle('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }) as {
      Messages?: { MessageId: string; ReceiptHandle: string; Body: string; Attributes?: Record<string, string> }[];
    };
    const msgs = got.Messages ?? [];
    if (msgs.length === 0) break;
    for (const m of msgs) {
      out.push({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench-node-signals',
        awsRegion: 'us-east-1',
      } as unknown as SQSRecord);
    }
  }
  return out;
}


/** Waits (real time) until `cond` holds; false when `timeoutMs` ran out first. */
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  return cond();
}

/**
 * Records each target's registrations from the fake's reported states: opened when a target is seen live
 * (`healthy` at once when seeded, else healthy after the group's health-check settle), closed when it is seen
 * `draining` or gone. Snapshots are taken after every step of the agenda, at that step's virtual time.
 */
function recorder(fake: FakeAws, groupArn: ReadonlyMap<string, string>, t: () => number) {
  const open = new Map<string, { group: string; ip: string; registeredAt: number; healthyAt: number }>();
  const done: Registration[] = [];
  const snapshot = (): void => {
    const now = t();
    for (const [group, arn] of groupArn) {
      const seen = new Map(fake.elbv2.targets(arn).map((x) => [x.id, x.state]));
      for (const [ip, state] of seen) {
        const k = `${group}|${ip}`;
        const live = state !== 'draining' && state !== 'unused';
        const cur = open.get(k);
        if (live && !cur) open.set(k, { group, ip, registeredAt: now, healthyAt: state === 'healthy' ? now : now + DEFAULTS.registrationToHealthyMs });
        if (!live && cur) {
          done.push({ ...cur, drainAt: now });
          open.delete(k);
        }
      }
      for (const [k, cur] of open) {
        if (cur.group === group && !seen.has(cur.ip)) {
          done.push({ ...cur, drainAt: now });
          open.delete(k);
        }
      }
    }
  };
  snapshot();
  // Seeded targets were registered (and healthy) long before the run.
  for (const cur of open.values()) {
    cur.registeredAt = -3600 * S;
    cur.healthyAt = -3600 * S;
  }
  return {
    snapshot,
    close: (): Registration[] => [...done, ...[...open.values()].map((cur) => ({ ...cur, drainAt: Infinity }))],
  };
}
