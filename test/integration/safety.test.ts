/**
 * Issue 9's scenarios, each through the real handlers against the fake AWS (and the fake Kubernetes API):
 * guards that hold across concurrent writers, identity before address, current state before event state,
 * retries in seconds, permanent failures that fail, Cloud Map operations followed to their end, and a
 * state table that cannot be reached. Each one failed on the code before the guard across writers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { fakeAws } from '../fakes/aws/shared.ts';
import { recheckEnvelope } from '#core/contracts/node-events.ts';
import { NODES } from '../fakes/topology.ts';
import { podEventsHarness, spotHarness, startFakeKube, writeCalls } from './harness.ts';

const started = startFakeKube();
const kube = started.kube;

type Event = Record<string, unknown> & { detail: Record<string, unknown> };
const sample = (name: string): Event => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const at = (offsetMs = 0): string => new Date(fakeAws.clock.now() + offsetMs).toISOString();
const warning = (instanceId: string, time = at()): Event => ({ ...sample('spot-interruption-warning'), id: `w-${instanceId}`, time, detail: { 'instance-id': instanceId, 'instance-action': 'terminate' } });
const stateChange = (instanceId: string, state: string, time: string): Event => ({ ...sample('instance-state-change'), time, detail: { 'instance-id': instanceId, state } });
function podEvent(name: string, ip: string, patch: Record<string, unknown> = {}): Event {
  const e = sample('pod-terminating');
  e.detail = { ...e.detail, cluster: 'prod', namespace: 'shop', name, podIPs: [ip], observedAt: at(), ...patch };
  return e;
}
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const lowestHealthy = (arn: string): number => Math.min(...fakeAws.elbv2.healthHistory(arn).map((h) => h.healthy));
const deregistered = (): number => fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets');

/** A target group with exactly two healthy targets: one pod on the spot node, one on the ASG node. */
function seedPair(): string {
  return fakeAws.elbv2.seedTargetGroup({
    name: 'k8s-shop-pair',
    vpcId: 'vpc-0123456789abcdef0',
    port: 7000,
    tags: { 'elbv2.k8s.aws/cluster': 'prod' },
    targets: [{ id: '10.0.1.10' }, { id: '10.0.2.10' }],
  });
}

describe('guards that hold across concurrent writers', () => {
  it('two spot batches in flight at once never take a group below MIN_HEALTHY_TARGETS', async () => {
    const a = spotHarness();
    const b = spotHarness({}, a.topology);
    const pair = seedPair();
    // Both read "2 healthy" before either writes: each writer's read of the pair is held until the other's
    // has arrived (a latency made it only likely, and a loaded machine let one writer read after the other wrote).
    fakeAws.faults.barrier(2, { service: 'elasticloadbalancing', operation: 'DescribeTargetHealth', match: (input) => input['TargetGroupArn'] === pair });
    await Promise.all([a.invoke(warning(NODES.spot)), b.invoke(warning(NODES.asg))]);
    expect(lowestHealthy(pair)).toBe(1);
    const states = targetsOf(pair);
    expect(states.filter((s) => s.endsWith('draining'))).toHaveLength(1);
    expect(states.filter((s) => s.endsWith('healthy'))).toHaveLength(1);
    // The writer that lost the race says why it kept its target, in its audit.
    const refusals = fakeAws.events
      .published('quiesce-audit')
      .flatMap((p) => (p.event.detail as { outcomes: { action: string; status: string; error?: string }[] }).outcomes)
      .filter((o) => o.status === 'refused' && o.action.startsWith('target k8s-shop-pair'));
    expect(refusals).toEqual([expect.objectContaining({ error: expect.stringMatching(/min-healthy \(across writers\)/) })]);
  });

  it('a spot batch and a pod-events invocation at once: the same', async () => {
    const spot = spotHarness();
    const pod = podEventsHarness(started, {}, spot.topology);
    fakeAws.eks.seedCluster({ name: 'prod', ...started.address(), vpcId: 'vpc-0123456789abcdef0' });
    kube.reset();
    const pair = seedPair();
    // The spot write is slow to land: pod-events reads "2 healthy" meanwhile. Only the spot's commitment,
    // in the group's ledger before its write, tells pod-events that one of them is already going.
    fakeAws.faults.latency(300, { service: 'elasticloadbalancing', operation: 'DeregisterTargets' });
    await Promise.all([spot.invoke(warning(NODES.spot)), pod.invoke(podEvent('pair-asg', '10.0.2.10', { containerPorts: [{ containerPort: 7000, protocol: 'TCP' }] }))]);
    expect(lowestHealthy(pair)).toBe(1);
    expect(targetsOf(pair).filter((s) => s.endsWith('healthy'))).toHaveLength(1);
  });

  it('MAX_DEREGISTER_FRACTION holds for the writers together, within the guard window', async () => {
    const env = { MAX_DEREGISTER_FRACTION: '0.5' };
    const first = podEventsHarness(started, env);
    kube.reset();
    const others = [podEventsHarness(started, env, first.topology), podEventsHarness(started, env, first.topology)];
    const web = first.topology.tg.web; // 4 healthy targets: at most 2 may go in one window
    fakeAws.faults.latency(30, { service: 'elasticloadbalancing', operation: 'DescribeTargetHealth' });
    const ips = ['10.0.1.11', '10.0.2.11', '10.0.3.11'];
    await Promise.all([first, ...others].map((h, i) => h.invoke(podEvent(`web-${i}`, ips[i] as string, { containerPorts: [{ containerPort: 8080, protocol: 'TCP' }] }))));
    expect(targetsOf(web).filter((s) => s.endsWith('draining'))).toHaveLength(2);
    // A window later, the third may go.
    fakeAws.clock.advance(61_000);
    fakeAws.faults.reset();
    await others[1]!.invoke(podEvent('web-2', '10.0.3.11', { containerPorts: [{ containerPort: 8080, protocol: 'TCP' }], observedAt: at() }));
    expect(fakeAws.elbv2.targets(web).filter((t) => t.id === '10.0.3.11')[0]?.state).not.toBe('healthy');
  });

  it('fails safe when the state table cannot be reached: nothing written, the work retried', async () => {
    const h = spotHarness();
    fakeAws.faults.fail('UpdateItem', { times: 1000, code: 'ResourceNotFoundException', message: 'Requested resource not found', service: 'dynamodb' });
    await expect(h.invoke(warning(NODES.spot))).rejects.toThrow(/deregistration\(s\) left undone/);
    expect(deregistered()).toBe(0);
    expect(fakeAws.calls.count('servicediscovery', 'DeregisterInstance')).toBe(0);
    const [audit] = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { outcomes: { status: string; error?: string }[] });
    expect(audit?.outcomes.every((o) => o.status === 'failed' && /CoordinationUnavailableError/.test(o.error ?? ''))).toBe(true);
  });
});

describe('identity before address (pod-events)', () => {
  const payments = { name: 'payments-7d9f-abcde', uid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', ip: '10.0.1.12' };
  const paymentsEvent = (patch: Record<string, unknown> = {}): Event =>
    podEvent(payments.name, payments.ip, { uid: payments.uid, containerPorts: [{ containerPort: 9090, protocol: 'TCP' }], ...patch });

  it('a retry after the IP went to a new pod deregisters nothing', async () => {
    kube.reset();
    kube.addPod({ namespace: 'shop', name: payments.name, uid: payments.uid, ip: payments.ip, containerPorts: [9090], deletionTimestamp: at(30_000), deletionGracePeriodSeconds: 30 });
    const h = podEventsHarness(started);
    const event = paymentsEvent({ deletionTimestamp: at(30_000) });
    // The first attempt fails retryably (ELB 500s past the budget's retries).
    fakeAws.faults.fail('DeregisterTargets', { times: 8, code: 'InternalFailure', message: 'boom', status: 500 });
    await expect(h.invoke(event)).rejects.toThrow(/left undone/);
    // A minute later Lambda retries; by then the pod is gone and the CNI gave its IP to a new, healthy pod.
    fakeAws.clock.advance(60_000);
    kube.deletePod('shop', payments.name);
    kube.addPod({ namespace: 'shop', name: 'payments-new', ip: payments.ip, containerPorts: [9090] });
    const before = deregistered();
    expect(await h.invoke(event)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/now belongs to pod shop\/payments-new/) });
    expect(deregistered()).toBe(before);
    expect(targetsOf(h.topology.tg.api)).toContain('10.0.1.12:9090 healthy');
  });

  it('proceeds when the pod still holds its IP, or when no live pod holds it', async () => {
    kube.reset();
    kube.addPod({ namespace: 'shop', name: payments.name, uid: payments.uid, ip: payments.ip, containerPorts: [9090], deletionTimestamp: at(30_000) });
    const h = podEventsHarness(started);
    expect(await h.invoke(paymentsEvent())).toMatchObject({ status: 'applied' });
    expect(targetsOf(h.topology.tg.api)).toContain('10.0.1.12:9090 draining');
  });

  it('without the cluster API, a fresh event proceeds and an old one is refused with the reason', async () => {
    kube.reset();
    kube.setUnavailable(true);
    try {
      const h = podEventsHarness(started);
      expect(await h.invoke(paymentsEvent({ observedAt: at(-2_000) }))).toMatchObject({ status: 'applied' });
      const h2 = podEventsHarness(started, {}, h.topology);
      const before = writeCalls();
      expect(await h2.invoke(podEvent('ledger-6b8c-uvwxy', '10.0.3.11', { observedAt: at(-30_000) }))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/cluster API unavailable .* 30 s old \(IDENTITY_FRESH_SECONDS=5\)/) });
      expect(writeCalls()).toBe(before);
    } finally {
      kube.setUnavailable(false);
    }
  });
});

describe('current state before event state (spot)', () => {
  it('a late "stopped" for an instance that is running again is ignored after one second look: no deregistration, no re-check', async () => {
    const h = spotHarness();
    const stoppedAt = at(-120_000);
    fakeAws.ec2.setInstanceState(NODES.asg, 'stopped');
    fakeAws.clock.advance(60_000);
    fakeAws.ec2.setInstanceState(NODES.asg, 'running'); // started again: a new LaunchTime
    // EC2 may lag behind a state change (eventually consistent): looked at again in a few seconds, not acted on.
    expect(await h.invoke(stateChange(NODES.asg, 'stopped', stoppedAt))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/running now: .* not confirmed yet: looked at again in 5 s/) });
    expect(fakeAws.calls.count('sqs', 'SendMessage')).toBe(1);
    fakeAws.clock.advance(5_000);
    expect(await h.invoke(fakeAws.sqs.lambdaEvent(h.topology.recheckQueueUrl))).toEqual({ batchItemFailures: [] });
    // Still running on the second look: dropped as stale, nothing written, nothing more sent.
    expect(writeCalls()).toBe(1);
    expect(fakeAws.sqs.pending(h.topology.recheckQueueUrl)).toEqual([]);
  });

  it('a spot warning from before the instance was launched again is ignored', async () => {
    const h = spotHarness();
    const warnedAt = at(-60_000);
    fakeAws.ec2.setInstanceState(NODES.spot, 'stopped');
    fakeAws.ec2.setInstanceState(NODES.spot, 'running');
    expect(await h.invoke(warning(NODES.spot, warnedAt))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/launched again/) });
    expect(writeCalls()).toBe(0);
  });

  it('a replay older than MAX_EVENT_AGE_SECONDS is ignored with the reason', async () => {
    const h = spotHarness();
    expect(await h.invoke(warning(NODES.spot, at(-3_600_000)))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/3600 s old \(MAX_EVENT_AGE_SECONDS=600\)/) });
    expect(writeCalls()).toBe(0);
  });

  it('out of order (shutting-down before the warning) and duplicated: the same end state as in order', async () => {
    const end = async (events: Event[]): Promise<string[]> => {
      fakeAws.reset();
      const h = spotHarness();
      fakeAws.ec2.setInstanceState(NODES.spot, 'shutting-down');
      for (const e of events) await h.invoke(e);
      fakeAws.clock.advance(5_000);
      return [h.topology.tg.web, h.topology.tg.api, h.topology.tg.nodes].flatMap(targetsOf);
    };
    const warn = warning(NODES.spot, at(-10_000));
    const down = stateChange(NODES.spot, 'shutting-down', at(-1_000));
    const inOrder = await end([warn, down]);
    expect(await end([down, warn])).toEqual(inOrder);
    expect(await end([down, warn, down, warn])).toEqual(inOrder);
    expect(inOrder).toContain('10.0.1.11:8080 draining');
  });
});

/** Receives from the fake queue like Lambda's SQS event source does, with the attributes Lambda passes on. */
function receive(queueUrl: string): SQSRecord[] {
  const name = queueUrl.split('/').pop() as string;
  const out = fakeAws.sqs.handle('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }) as {
    Messages?: { MessageId: string; ReceiptHandle: string; Body: string; Attributes?: Record<string, string> }[];
  };
  return (out.Messages ?? []).map(
    (m) =>
      ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${name}`,
        awsRegion: 'us-east-1',
      }) as unknown as SQSRecord,
  );
}

describe('retries in seconds (SQS)', () => {
  it('a failed warning is visible again after 2 s, then 4 s, not after the 540 s visibility timeout', async () => {
    // Every retry of a 500 spends an elb-register token (4/s): a roomy budget keeps the test from waiting on it.
    const h = spotHarness({ RATE_LIMITS: 'elb-register=1000:1000' });
    const queue = h.topology.recheckQueueUrl;
    fakeAws.sqs.handle('SendMessage', { QueueUrl: queue, MessageBody: JSON.stringify(warning(NODES.spot)) });
    fakeAws.faults.fail('DeregisterTargets', { times: 10_000, code: 'InternalFailure', message: 'boom', status: 500 });
    const first = receive(queue);
    expect(await h.invoke({ Records: first })).toMatchObject({ batchItemFailures: [{ itemIdentifier: first[0]?.messageId }] });
    fakeAws.clock.advance(1_900);
    expect(receive(queue)).toEqual([]);
    fakeAws.clock.advance(200);
    const second = receive(queue);
    expect(second.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2']);
    await h.invoke({ Records: second });
    fakeAws.clock.advance(3_900);
    expect(receive(queue)).toEqual([]);
    fakeAws.clock.advance(200);
    expect(receive(queue)).toHaveLength(1);
  });

  it('a failed re-check keeps its own pace (GUARD_INTERVAL_SECONDS), known by the kind its body parses to, however it is spelled', async () => {
    const h = spotHarness({ RATE_LIMITS: 'elb-register=1000:1000' });
    const queue = h.topology.recheckQueueUrl;
    const recheck = recheckEnvelope({ instanceIds: [NODES.spot], targetGroupArns: [h.topology.tg.web], services: [], deadline: at(150_000), round: 1, reason: 'spot interruption warning (terminate)' });
    // Pretty-printed: the same message, spelled differently from what the guard itself sends.
    fakeAws.sqs.handle('SendMessage', { QueueUrl: queue, MessageBody: JSON.stringify(recheck, null, 2) });
    fakeAws.faults.fail('DeregisterTargets', { times: 10_000, code: 'InternalFailure', message: 'boom', status: 500 });
    const first = receive(queue);
    expect(await h.invoke({ Records: first })).toMatchObject({ batchItemFailures: [{ itemIdentifier: first[0]?.messageId }] });
    fakeAws.clock.advance(14_900);
    expect(receive(queue)).toEqual([]);
    fakeAws.clock.advance(200);
    // Back after 15 s (next to the guard's own next round, sent with the same delay), not after 2 s.
    expect(receive(queue).filter((r) => r.messageId === first[0]?.messageId).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });
});

describe('permanent failures are failures', () => {
  it('AccessDenied: the SQS item fails, the lifecycle hook is not completed while the targets are registered', async () => {
    const h = spotHarness();
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'not authorized' });
    const lifecycle = { messageId: 'lc', eventSource: 'aws:sqs', body: JSON.stringify(sample('asg-terminate-lifecycle-action')) };
    expect(await h.invoke({ Records: [lifecycle] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'lc' }] });
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(0);
    const [audit] = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { permanentFailures: number; warnings: string[] });
    expect(audit?.permanentFailures).toBeGreaterThan(0);
    expect(audit?.warnings.join('\n')).toMatch(/lifecycle action quiesce-drain of i-0a1b2c3d4e5f60002 not completed/);
  });

  it('a lifecycle hook whose node keeps its last healthy target waits: completed by a re-check round once the node is clear', async () => {
    const h = spotHarness();
    // The ASG node holds the only healthy target of a group: min-healthy keeps it, so no CONTINUE yet.
    const solo = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-solo', vpcId: 'vpc-0123456789abcdef0', port: 7001, tags: { 'elbv2.k8s.aws/cluster': 'prod' }, targets: [{ id: '10.0.2.10' }] });
    await h.invoke({ Records: [{ messageId: 'lc', eventSource: 'aws:sqs', body: JSON.stringify(sample('asg-terminate-lifecycle-action')) }] });
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(0);
    // A replacement registers and turns healthy; the next round deregisters the old one and completes the hook.
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: solo, Targets: [{ Id: '10.0.3.10' }] });
    fakeAws.clock.advance(15_000);
    const round = fakeAws.sqs.dueMessages(h.topology.recheckQueueUrl);
    expect(round).toHaveLength(1);
    await h.invoke(fakeAws.sqs.lambdaEventOf(h.topology.recheckQueueUrl, round));
    expect(targetsOf(solo)).toEqual(['10.0.2.10:7001 draining', '10.0.3.10:7001 healthy']);
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(1);
  });

  it('the sweeper and pod-events fail on a permanent error instead of reporting "applied"', async () => {
    kube.reset();
    const h = podEventsHarness(started);
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'not authorized' });
    await expect(h.invoke(podEvent('payments-7d9f-abcde', '10.0.1.12'))).rejects.toThrow(/left undone/);
  });
});

describe('Cloud Map operations are followed to their end', () => {
  it('an operation that ends in FAIL is a failure, not "submitted"', async () => {
    const h = spotHarness();
    fakeAws.cloudMap.failOperations(1);
    await expect(h.invoke(warning(NODES.spot))).rejects.toThrow(/left undone/);
    const [audit] = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { outcomes: { action: string; status: string; error?: string }[] });
    const failed = audit?.outcomes.filter((o) => o.status === 'failed') ?? [];
    expect(failed).toEqual([expect.objectContaining({ error: expect.stringMatching(/CloudMapOperationFailedError: Cloud Map operation .* ended in FAIL \(INTERNAL_FAILURE\)/) })]);
  });

  it('one still in flight when the wait ends stays "submitted" and is handed to the re-check', async () => {
    const h = spotHarness({ CLOUDMAP_OPERATION_WAIT_SECONDS: '0' });
    expect(await h.invoke(warning(NODES.spot))).toMatchObject({ counts: { submitted: 2 } });
    const [round] = fakeAws.sqs.dueMessages(h.topology.recheckQueueUrl).concat(fakeAws.sqs.pending(h.topology.recheckQueueUrl));
    expect((JSON.parse(round?.Body ?? '{}') as { detail: { services: unknown[] } }).detail.services).toHaveLength(2);
  });
});

