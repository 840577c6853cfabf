/**
 * The adapter between the reclaim model (model.ts) and the real system: one run of a reclaim on the fake AWS
 * and the fake Kubernetes API, on the fake's clock (virtual time, advanced here from event to event, as the
 * integration tests do). What runs for real: the stand-in Load Balancer Controller's RegisterTargets /
 * DeregisterTargets calls (through the SDK, at its client limit), and with quiesce the real spot-interruption
 * handler (the warning on the node-signal queue, delivered as Lambda's SQS event source would: batching
 * window, partial batch failures, the re-registration guard's delayed re-checks on the same queue) and the
 * real pod-events handler fed by the real pod forwarder watching the fake Kubernetes API. What the model
 * decides: when pods stop serving, leave and are replaced (the drainer), and the latencies of delivery.
 *
 * The run returns the fake's target history as {@link Registration}s: the model's load balancer routes on
 * exactly what the fake reported (`healthy` from when, `draining` from when).
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
import { benchAws } from '../support.ts';
import { DEFAULTS, endpointChanges, endpointsAt, lbcReconcile, S, TokenBucket, type ClusterTimeline, type Registration, type Topology } from './model.ts';

const CLUSTER = 'bench';
const VPC = 'vpc-0bec0000000000a2';
const NS = 'shop';
const BUS = 'quiesce-bench';
const PORT = 8080;
/** The run ends this long after the warning (it starts at the warning; the pods ran for an hour before). */
export const RUN_TO = 320 * S;

/** Which system takes the node's endpoints out of traffic. */
export type System = 'lbc' | 'quiesce';

/** What a run recorded. */
export interface RunRecord {
  readonly registrations: Registration[];
  /** Invocations of the real handlers and the calls they made. */
  readonly spotInvocations: number;
  readonly podEventInvocations: number;
  readonly quiesceDeregistrations: number;
  readonly lbcCalls: { register: number; deregister: number };
  /** The latest moment a DeregisterTargets by quiesce took one of the warned nodes' targets out (ms from the warning). */
  readonly lastQuiesceDeregistration: number | undefined;
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
export async function runReclaim(topology: Topology, timeline: ClusterTimeline, system: System): Promise<RunRecord> {
  const aws = await benchAws();
  const { fake } = aws;
  await fake.preload('ec2', 'elasticloadbalancing', 'eks', 'dynamodb');
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
    }
    topology.spotNodes.forEach((node, i) => at(timeline.nodeGoneAt.get(node) as number, () => fake.ec2.terminate(instanceId(i))));

    // ---- quiesce, as deployed ----
    let spotInvocations = 0;
    let podEventInvocations = 0;
    if (system === 'quiesce') {
      const q = DEFAULTS.quiesce;
      const now = (): Date => new Date(fake.clock.now());
      const sleep = (ms: number): Promise<void> => fake.clock.sleep(ms);
      const spotLogger = createLogger('spot-interruption');
      const spotDeps = buildNodeWorkflowDeps('spot-interruption', {
        config: loadConfig({ CLUSTER_NAME: CLUSTER, TARGET_GROUP_TAG_SELECTOR: `elbv2.k8s.aws/cluster=${CLUSTER}`, STATE_TABLE: 'bench-state', RECHECK_QUEUE_URL: queueUrl, AWS_REGION: 'us-east-1' }),
        clients: aws.clients,
        logger: spotLogger,
        now,
        sleep,
        retry: { baseDelayMs: 50, maxDelayMs: 500 },
      });
      const spot = makeSpotHandler(() => spotDeps, spotLogger, createMetrics('spot-interruption'));
      const podLogger = createLogger('pod-events');
      const podDeps = buildPodWorkflowDeps({
        config: loadPodEventsConfig({ CLUSTER_NAME: CLUSTER, VPC_ID: VPC, TARGET_GROUP_TAG_SELECTOR: `elbv2.k8s.aws/cluster=${CLUSTER}`, STATE_TABLE: 'bench-state', EXPORTER_ENABLED: 'false', AWS_REGION: 'us-east-1' }),
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
            const out = (await spot({ Records: records } as never, context)) as { batchItemFailures?: { itemIdentifier: string }[] };
            const failed = new Set((out.batchItemFailures ?? []).map((f) => f.itemIdentifier));
            for (const r of records) if (!failed.has(r.messageId)) fake.sqs.handle('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle });
          });
        }
      };
      for (let when = 0; when <= RUN_TO; when += S) at(when, poll);

      // The pod forwarder watching the fake Kubernetes API; its events reach pod-events through the bus.
      forwarder = await startForwarder(
        { clusterName: CLUSTER, eventBusName: BUS, queueMax: 1000, batchMaxWaitMs: 10, forwardNotReady: false, namespaces: undefined, labelSelector: undefined, metricsPort: 0, healthStaleSeconds: 60, shutdownTimeoutMs: 2000 },
        { kube: { server: started.endpoint, caData: started.caData, token: eksToken(now()) }, log: memoryLogger(), now, watcher: { baseBackoffMs: 20, maxBackoffMs: 200 }, publisher: { baseBackoffMs: 10, maxBackoffMs: 50 } },
      );
      await kube.waitForWatches(1);
      let delivered = 0;
      const deliver = async (): Promise<void> => {
        const fresh = fake.events.published(BUS).slice(delivered);
        delivered += fresh.length;
        for (const e of fresh) {
          at(t() + q.forwarderToLambdaMs + q.invocationMs, async () => {
            podEventInvocations++;
            await podEvents(e.event as never, context).catch(() => undefined);
          });
        }
      };
      // After the cluster changes, wait (real time) for the forwarder to publish what it saw, then deliver.
      const published = (): number => fake.events.published(BUS).length;
      let expected = 0;
      for (const p of timeline.pods.filter((x) => Number.isFinite(x.terminatingAt))) {
        at(p.terminatingAt, async () => {
          expected++;
          await until(() => published() >= expected, 5000);
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
    return {
      registrations: registrations.close(),
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

/** A structurally valid EKS token (the fake Kubernetes API checks the format; its age check is off here). */
function eksToken(now: Date): string {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const q = new URLSearchParams({
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `AKIDEXAMPLE/${amzDate.slice(0, 8)}/us-east-1/sts/aws4_request`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    'X-Amz-Signature': 'a'.repeat(64),
  });
  return `k8s-aws-v1.${Buffer.from(`https://sts.us-east-1.amazonaws.com/?${q.toString()}`).toString('base64url')}`;
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
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
