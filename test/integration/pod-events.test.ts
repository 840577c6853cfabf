/**
 * The pod-events trigger end to end: the real handler (middy, config, SDK v3 clients, adapters, budget,
 * registration index, executor) against the stateful fake AWS, fed the documented samples from events/; and
 * for kubernetes-event-exporter events, the pod resolved through the fake Kubernetes API reached ONLY through
 * the endpoint and CA that the fake EKS DescribeCluster returns.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import type { Topology } from '../fakes/topology.ts';
import { type PodHarness, podEventsHarness, startFakeKube, writeCalls } from './harness.ts';

const started = startFakeKube();
const kube = started.kube;

const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

/** The forwarder's sample, pointed at a pod of the seeded topology (cluster `prod`). */
function podEvent(ip: string, name = 'payments-7d9f-abcde', patch: Record<string, unknown> = {}): Record<string, unknown> {
  const e = sample('pod-terminating');
  e.detail = { ...e.detail, cluster: 'prod', namespace: 'shop', name, podIPs: [ip], ...patch };
  return e;
}

function targetsOf(arn: string): string[] {
  return fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
}
function instanceIds(serviceId: string): string[] {
  return fakeAws.cloudMap.instancesOf(serviceId).map((i) => i.Id).sort();
}
const settleCloudMap = (): void => fakeAws.clock.advance(5_000);
const describes = (): number => fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth');

const podHarness = (env: Record<string, string> = {}): PodHarness => podEventsHarness(started, env);

/** The untouched topology, for "nothing else changed" assertions. */
function wholeState(t: Topology): Record<string, string[]> {
  return {
    web: targetsOf(t.tg.web),
    api: targetsOf(t.tg.api),
    admin: targetsOf(t.tg.admin),
    nodes: targetsOf(t.tg.nodes),
    staging: targetsOf(t.tg.staging),
    payments: instanceIds(t.services.payments),
    ledger: instanceIds(t.services.ledger),
  };
}

describe('"Pod Terminating" from the forwarder', () => {
  it("deregisters the pod's IP on all its ports and its Cloud Map instance, and nothing else", async () => {
    const h = podHarness();
    const before = wholeState(h.topology);
    const result = await h.invoke(podEvent('10.0.1.12'));
    expect(result).toMatchObject({ status: 'applied', lookup: 'cold', counts: { deregistered: 3, submitted: 0, failed: 0 } });
    settleCloudMap();
    expect(wholeState(h.topology)).toEqual({
      ...before,
      // both the group port and the port override
      api: ['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy'],
      payments: ['10.0.2.12', '10.0.9.11'],
    });
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { trigger: string; subject: string });
    expect(audit).toEqual([expect.objectContaining({ trigger: 'pod-events', subject: 'pod shop/payments-7d9f-abcde' })]);
  });

  it('is a logged no-op for an IP no registration points at', async () => {
    const h = podHarness();
    const info = vi.spyOn(h.deps.logger, 'info');
    const result = await h.invoke(podEvent('10.0.1.57', 'web-7d9c8b6f5-x2k4q'));
    expect(result).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/no registration points at pod shop\/web-7d9c8b6f5-x2k4q \(10\.0\.1\.57\)/) });
    expect(writeCalls()).toBe(0);
    expect(info).toHaveBeenCalledWith('event ignored', expect.objectContaining({ reason: expect.stringContaining('10.0.1.57') }));
    expect(fakeAws.events.published('quiesce-audit')).toEqual([]);
  });

  it('converges on duplicate delivery', async () => {
    // Not following the operation leaves it in flight for the second delivery to meet (DuplicateRequest).
    const h = podHarness({ CLOUDMAP_OPERATION_WAIT_SECONDS: '0' });
    await h.invoke(podEvent('10.0.1.12'));
    // Again while the Cloud Map operation is in flight (DuplicateRequest is waited out), and again after.
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ counts: { failed: 0 } });
    settleCloudMap();
    const after = wholeState(h.topology);
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ status: 'ignored' });
    settleCloudMap();
    expect(wholeState(h.topology)).toEqual(after);
    expect(after.api).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
    expect(after.payments).toEqual(['10.0.2.12', '10.0.9.11']);
  });

  it('costs ELB calls once when both forwarder replicas send the termination: the copy (another event id, the same pod uid) is ignored', async () => {
    const h = podHarness();
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ status: 'applied', counts: { deregistered: 3 } });
    const before = fakeAws.calls.count('elasticloadbalancing');
    const copy = { ...podEvent('10.0.1.12'), id: 'from-the-other-replica' };
    expect(await h.invoke(copy)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/already handled or in hand by event 6f0c1a52-3d7e-4b8e-9a51-2f1c0d9e4b77/) });
    expect(fakeAws.calls.count('elasticloadbalancing')).toBe(before);
  });

  it('lets the copy do the work when the first event failed (its claim is released)', async () => {
    const h = podHarness();
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'denied' });
    await expect(h.invoke(podEvent('10.0.1.12'))).rejects.toThrow(/left undone/);
    fakeAws.faults.reset();
    const copy = { ...podEvent('10.0.1.12'), id: 'from-the-other-replica' };
    // The two targets the first could not write (its Cloud Map deregistration went through).
    expect(await h.invoke(copy)).toMatchObject({ status: 'applied', counts: { deregistered: 2, failed: 0 } });
    expect(targetsOf(h.topology.tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
  });

  it('reaches the same end state under 30% throttling on every API', async () => {
    const reference = podHarness();
    await reference.invoke(podEvent('10.0.1.12'));
    settleCloudMap();
    const expected = wholeState(reference.topology);
    fakeAws.reset();
    // The client budget is not under test here, the end state is: AIMD halves a family's rate on every throttle
    // AWS answers (down to 1/20 of it), and at the topology's limits (elb-register 4/s, cloudmap-read 20/s...) that is seconds of real-time
    // token waits. Roomy limits keep AIMD's floor far above what the test needs (tested on its own: budget.test.ts).
    const h = podHarness({ RATE_LIMITS: 'elb-describe=2000:2000,elb-register=2000:2000,elb-modify=2000:2000,cloudmap-read=2000:2000,cloudmap-write=2000:2000,ec2-describe=2000:2000,events=2000:2000,autoscaling=2000:2000,sqs=2000:2000,eks=2000:2000,ssm=2000:2000,scheduler=2000:2000,dynamodb=2000:2000' });
    fakeAws.faults.throttle(0.3, { seed: 11 });
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ status: 'applied', counts: { failed: 0 } });
    expect(fakeAws.calls.records.filter((r) => r.error !== undefined).length).toBeGreaterThan(0);
    fakeAws.faults.reset();
    settleCloudMap();
    expect(wholeState(h.topology)).toEqual(expected);
  });

  it('writes nothing in dry run, but plans and reports', async () => {
    const h = podHarness({ DRY_RUN: 'true' });
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ status: 'dry-run', counts: { 'dry-run': 3 } });
    expect(writeCalls()).toBe(0);
    expect(fakeAws.events.published('quiesce-audit').map((p) => p.event.detail)).toEqual([expect.objectContaining({ dryRun: true })]);
  });

  it('keeps the last healthy target in traffic (guards apply)', async () => {
    const h = podHarness();
    // k8s-shop-admin's only healthy target is 10.0.1.34.
    expect(await h.invoke(podEvent('10.0.1.34', 'admin-1'))).toMatchObject({ status: 'applied', heldBack: 1, counts: { deregistered: 0 } });
    expect(targetsOf(h.topology.tg.admin)).toEqual(['10.0.1.34:8080 healthy', '10.0.3.12:8081 unhealthy']);
  });

  it('does not touch a Cloud Map record of another pod that now holds the IP, nor another cluster\'s record', async () => {
    const h = podHarness();
    // 10.0.1.33 is on prod's node now; the ledger record for it names the old cluster's pod: evidence of another pod.
    expect(await h.invoke(podEvent('10.0.1.33', 'web-new-1'))).toMatchObject({ status: 'applied', heldBack: 1, counts: { deregistered: 1, submitted: 0 } });
    settleCloudMap();
    expect(instanceIds(h.topology.services.ledger)).toEqual(['10.0.1.11', '10.0.3.11', 'old-10.0.1.33']);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { heldBack: { guard: string; action: string }[] });
    expect(audit[0]?.heldBack).toEqual([expect.objectContaining({ guard: 'evidence', action: 'cloudmap ledger old-10.0.1.33' })]);
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.33:8080 draining');
  });

  it('ignores a stale event: the pod is long dead and its IP may be reused', async () => {
    const h = podHarness();
    fakeAws.clock.advance(120_000); // deletionTimestamp 12:00:30 + 60 s slack < now
    expect(await h.invoke(podEvent('10.0.1.12'))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^stale event/) });
    expect(fakeAws.calls.count()).toBe(0);
  });
});

describe('registration index across warm invocations', () => {
  it('scans once, then describes only the groups the index names', async () => {
    const h = podHarness();
    await h.invoke(podEvent('10.0.1.12'));
    // cold: the 5 ip groups of the VPC, ipv4 and ipv6 (the instance group is never described for a pod)
    expect(describes()).toBe(5);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1);
    fakeAws.clock.advance(1_000);
    expect(await h.invoke(podEvent('10.0.2.11', 'web-2'))).toMatchObject({ status: 'applied', lookup: 'warm', counts: { deregistered: 1 } });
    expect(describes()).toBe(5 + 1);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1);
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.11:8080 draining');
  });

  it('never deregisters from a stale hint: the fresh describe decides', async () => {
    const h = podHarness();
    await h.invoke(podEvent('10.0.1.11', 'ledger-6b8c-pqrst')); // builds the index
    // After the scan, 10.0.3.12 is deregistered from k8s-shop-api by someone else; the index still names api.
    fakeAws.elbv2.handle('DeregisterTargets', { TargetGroupArn: h.topology.tg.api, Targets: [{ Id: '10.0.3.12', Port: 9090 }] });
    fakeAws.clock.advance(1_000);
    const seen: string[] = [];
    fakeAws.elbv2.onDeregister((e) => seen.push(...e.targets.map((t) => `${e.targetGroupArn === h.topology.tg.api ? 'api' : 'other'} ${t.id}:${t.port}`)));
    const r = await h.invoke(podEvent('10.0.3.12', 'api-3'));
    // The hint named api and admin; the fresh describe shows 10.0.3.12:9090 already draining in api: nothing
    // planned there. Only admin's 10.0.3.12:8081 (unhealthy, really registered) goes.
    expect(r).toMatchObject({ status: 'applied', lookup: 'warm', counts: { deregistered: 1 } });
    expect(seen).toEqual(['other 10.0.3.12:8081']);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1);
  });

  it('rebuilds on a miss when the index is older than the miss window: a pod registered since is found', async () => {
    const h = podHarness();
    await h.invoke(podEvent('10.0.1.12'));
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.2.13' }] });
    fakeAws.elbv2.setTargetHealth(h.topology.tg.web, '10.0.2.13', 8080, 'healthy');
    fakeAws.clock.advance(6_000);
    expect(await h.invoke(podEvent('10.0.2.13', 'web-new'))).toMatchObject({ status: 'applied', lookup: 'refreshed', counts: { deregistered: 1 } });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.13:8080 draining');
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(2);
    // A second miss right after does not scan again.
    await h.invoke(podEvent('10.0.2.99', 'nowhere'));
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(2);
  });
});

describe('bad input: a typed, logged rejection and no AWS write', () => {
  const cases: [string, () => unknown, string, string][] = [
    ['not JSON', () => 'hello', 'InvalidEventError', 'body'],
    ['unknown source', () => ({ source: 'acme', 'detail-type': 'Pod Terminating', detail: {} }), 'InvalidEventError', 'source'],
    ['bad pod IP', () => podEvent('10.0.1.999'), 'InvalidEventError', 'detail.podIPs[0]'],
    ['wrong version', () => podEvent('10.0.1.12', 'p', { version: 2 }), 'InvalidEventError', 'detail.version'],
    ['another cluster', () => ({ ...podEvent('10.0.1.12'), detail: { ...(podEvent('10.0.1.12') as { detail: object }).detail, cluster: 'staging' } }), 'OutOfScopeError', ''],
    ['exporter event without involvedObject', () => ({ ...sample('kubernetes-event-exporter-killing'), detail: { reason: 'Killing' } }), 'InvalidEventError', 'detail.involvedObject'],
  ];
  for (const [name, event, error, field] of cases) {
    it(`rejects: ${name}`, async () => {
      const h = podHarness();
      const result = await h.invoke(event());
      expect(result).toMatchObject({ status: 'rejected', error, ...(field ? { field } : {}) });
      expect(writeCalls()).toBe(0);
      expect(fakeAws.calls.count('elasticloadbalancing')).toBe(0);
      expect(fakeAws.calls.count('servicediscovery')).toBe(0);
      expect(fakeAws.events.published('quiesce-audit')).toEqual([expect.objectContaining({ event: expect.objectContaining({ 'detail-type': 'Event Rejected' }) })]);
    });
  }

  it('handles an SQS batch: a malformed message is reported, not retried; the good one is applied', async () => {
    const h = podHarness();
    const result = await h.invoke({
      Records: [
        { messageId: 'm1', body: JSON.stringify(podEvent('10.0.1.12')), eventSource: 'aws:sqs' },
        { messageId: 'm2', body: '{not json', eventSource: 'aws:sqs' },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.api)).toContain('10.0.1.12:9091 draining');
  });

  it('fails the invocation (so it is retried) when a deregistration is left undone', async () => {
    const h = podHarness();
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'InternalFailure', message: 'boom', status: 500 });
    await expect(h.invoke(podEvent('10.0.1.12'))).rejects.toThrow(/left undone for pod shop\/payments-7d9f-abcde/);
  });
});

describe('kubernetes-event-exporter "Killing" events', () => {
  const killing = (): Record<string, unknown> => sample('kubernetes-event-exporter-killing');
  const seedPod = (patch: Record<string, unknown> = {}): void => {
    kube.reset();
    kube.addPod({
      namespace: 'shop',
      name: 'payments-7d9f-abcde',
      uid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      ip: '10.0.1.12',
      containerPorts: [9090],
      deletionTimestamp: '2026-11-21T12:00:30Z',
      deletionGracePeriodSeconds: 30,
      ...patch,
    });
  };

  it('resolves the pod IP through the cluster API (EKS endpoint + CA) and runs the same plan', async () => {
    seedPod();
    const h = podHarness();
    expect(await h.invoke(killing())).toMatchObject({ status: 'applied', counts: { deregistered: 3, submitted: 0 } });
    settleCloudMap();
    expect(targetsOf(h.topology.tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
    expect(instanceIds(h.topology.services.payments)).toEqual(['10.0.2.12', '10.0.9.11']);
    expect(fakeAws.calls.count('eks', 'DescribeCluster')).toBeGreaterThanOrEqual(1);
    expect(kube.requests.some((r) => r.token?.startsWith('k8s-aws-v1.') && /payments-7d9f-abcde/.test(r.path))).toBe(true);
  });

  it('also describes the groups the pod\'s Services are bound to: a registration the warm index does not know is found', async () => {
    seedPod({ labels: { app: 'payments' } });
    const h = podHarness();
    await h.invoke(podEvent('10.0.2.11', 'web-2')); // the cold scan: the index knows 10.0.1.12 only in api
    kube.addService({ namespace: 'shop', name: 'payments', selector: { app: 'payments' }, ports: [{ port: 80, targetPort: 9090 }] });
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'payments-web', targetGroupARN: h.topology.tg.web, serviceRef: { name: 'payments', port: 80 } });
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.1.12' }] });
    fakeAws.clock.advance(1_000);
    const before = describes();
    expect(await h.invoke(killing())).toMatchObject({ status: 'applied', lookup: 'warm' });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.12:8080 draining');
    // Warm: api (the index, by IP) and web (the binding), not a rescan of every group.
    expect(describes() - before).toBe(2);
  });

  it('keeps a host-network pod\'s node-IP targets when it declares no ports, whatever its binding\'s targetPort', async () => {
    seedPod({ ip: '10.0.1.10', containerPorts: [], labels: { app: 'agent' } });
    kube.updatePod('shop', 'payments-7d9f-abcde', (p) => {
      (p.spec as Record<string, unknown>)['hostNetwork'] = true;
    });
    kube.addService({ namespace: 'shop', name: 'agent', selector: { app: 'agent' }, ports: [{ port: 80, targetPort: 8080 }] });
    const h = podHarness();
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'agent', targetGroupARN: h.topology.tg.web, serviceRef: { name: 'agent', port: 80 } });
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.1.10', Port: 8080 }, { Id: '10.0.1.10', Port: 9999 }] });
    await h.invoke(killing());
    // 10.0.1.10 is the node's IP: a Service's targetPort (8080) does not prove this pod listens there (another
    // host-network pod on the node may, and its Service may select both): both stay, held back as evidence.
    expect(targetsOf(h.topology.tg.web).filter((t) => t.startsWith('10.0.1.10'))).toEqual(['10.0.1.10:8080 initial', '10.0.1.10:9999 initial']);
  });

  const noops: [string, () => void, RegExp][] = [
    ['the pod is gone', () => kube.reset(), /no longer exists/],
    ['the name now belongs to a newer pod', () => seedPod({ uid: '00000000-0000-4000-8000-000000000000' }), /newer incarnation/],
    ['the pod is not terminating (a container restart)', () => seedPod({ deletionTimestamp: undefined, deletionGracePeriodSeconds: undefined }), /container restart/],
  ];
  for (const [name, setup, reason] of noops) {
    it(`is a logged no-op when ${name}`, async () => {
      setup();
      const h = podHarness();
      expect(await h.invoke(killing())).toMatchObject({ status: 'ignored', reason: expect.stringMatching(reason) });
      expect(writeCalls()).toBe(0);
    });
  }

  it('ignores other events without asking the cluster', async () => {
    const h = podHarness();
    const e = killing() as { detail: Record<string, unknown> };
    e.detail = { ...e.detail, reason: 'Pulled' };
    expect(await h.invoke(e)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/only Killing on a Pod/) });
    expect(fakeAws.calls.count()).toBe(0);
  });
});
