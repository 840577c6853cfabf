/**
 * The spot-interruption trigger end to end: the real handler (middy, config, SDK v3 clients, adapters,
 * budget, executor) against the stateful fake AWS, fed the documented sample events from events/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { spotHarness, writeCalls } from './harness.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

/** `id:port state` of every target of a group, sorted, for whole-state assertions. */
function targetsOf(arn: string): string[] {
  return fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
}
function instanceIds(serviceId: string): string[] {
  return fakeAws.cloudMap.instancesOf(serviceId).map((i) => i.Id).sort();
}
/** Lets Cloud Map operations finish (they are asynchronous: SUBMITTED -> PENDING -> SUCCESS). */
function settleCloudMap(): void {
  fakeAws.clock.advance(5_000);
}

describe('spot interruption warning', () => {
  it('takes every registration on the node out of traffic: ip (incl. prefix-delegated, port overrides), instance and Cloud Map', async () => {
    const h = spotHarness();
    const result = await h.invoke(sample('spot-interruption-warning'));
    expect(result).toMatchObject({ status: 'applied' });
    settleCloudMap();
    const { tg, services } = h.topology;
    expect(targetsOf(tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    expect(targetsOf(tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
    expect(targetsOf(tg.nodes)).toEqual([`${NODES.spot}:30080 draining`, `${NODES.asg}:30080 healthy`, `${NODES.other}:30080 healthy`]);
    // Another cluster's group and Cloud Map record are untouched, even the one whose IP is on our node.
    expect(targetsOf(tg.staging)).toEqual(['10.0.9.11:8080 healthy']);
    expect(instanceIds(services.payments)).toEqual(['10.0.2.12', '10.0.9.11']);
    expect(instanceIds(services.ledger)).toEqual(['10.0.3.11', 'old-10.0.1.33']);
  });

  it('keeps the last healthy target of a group in traffic and says so loudly (min-healthy guard)', async () => {
    const h = spotHarness();
    await h.invoke(sample('spot-interruption-warning'));
    // k8s-shop-admin: its only healthy target is on the spot node; the unhealthy one elsewhere does not count.
    expect(targetsOf(h.topology.tg.admin)).toEqual(['10.0.1.34:8080 healthy', '10.0.3.12:8081 unhealthy']);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as Record<string, unknown>);
    expect(audit).toHaveLength(1);
    const detail = audit[0] as { warnings: string[]; heldBack: { guard: string; action: string }[]; counts: Record<string, number> };
    // Target groups first (as listed), then Cloud Map.
    expect(detail.heldBack).toEqual([
      expect.objectContaining({ guard: 'min-healthy', action: 'target k8s-shop-admin 10.0.1.34:8080' }),
      // The old cluster's Cloud Map record for an IP now on our node: not ours (ownership guard).
      expect.objectContaining({ guard: 'ownership', action: 'cloudmap ledger old-10.0.1.33' }),
    ]);
    expect(detail.warnings.join('\n')).toMatch(/SINGLE POINT OF FAILURE: target group k8s-shop-admin/);
    // The 2 Cloud Map deregistrations were followed (GetOperation) to SUCCESS inside the invocation.
    expect(detail.counts).toMatchObject({ deregistered: 7, submitted: 0, failed: 0 });
  });

  it('sends DeregisterTargets once per group, with exact ports', async () => {
    const h = spotHarness();
    const seen: { tg: string; targets: string[] }[] = [];
    fakeAws.elbv2.onDeregister((e) => seen.push({ tg: e.targetGroupArn, targets: e.targets.map((t) => `${t.id}:${t.port}`).sort() }));
    await h.invoke(sample('spot-interruption-warning'));
    expect(seen.sort((a, b) => a.tg.localeCompare(b.tg))).toEqual(
      [
        { tg: h.topology.tg.web, targets: ['10.0.1.11:8080', '10.0.1.33:8080'] },
        { tg: h.topology.tg.api, targets: ['10.0.1.12:9090', '10.0.1.12:9091'] },
        { tg: h.topology.tg.nodes, targets: [`${NODES.spot}:30080`] },
      ].sort((a, b) => a.tg.localeCompare(b.tg)),
    );
  });

  it('converges on duplicate delivery: same end state, no errors', async () => {
    const h = spotHarness();
    await h.invoke(sample('spot-interruption-warning'));
    const after1 = [targetsOf(h.topology.tg.web), targetsOf(h.topology.tg.api), instanceIds(h.topology.services.payments)];
    // Delivered again while the Cloud Map operations are still in flight (DuplicateRequest is waited out).
    const second = await h.invoke(sample('spot-interruption-warning'));
    expect(second).toMatchObject({ status: 'applied' });
    settleCloudMap();
    const third = await h.invoke(sample('spot-interruption-warning'));
    expect(third).toMatchObject({ status: 'applied', counts: { failed: 0 } });
    settleCloudMap();
    expect([targetsOf(h.topology.tg.web), targetsOf(h.topology.tg.api)]).toEqual(after1.slice(0, 2));
    expect(instanceIds(h.topology.services.payments)).toEqual(['10.0.2.12', '10.0.9.11']);
  });

  it('loses nothing under 30% throttling on every API: the end state is the same', async () => {
    const reference = spotHarness();
    await reference.invoke(sample('spot-interruption-warning'));
    settleCloudMap();
    const expected = [targetsOf(reference.topology.tg.web), targetsOf(reference.topology.tg.api), targetsOf(reference.topology.tg.nodes), targetsOf(reference.topology.tg.admin)];
    const expectedCm = [instanceIds(reference.topology.services.payments), instanceIds(reference.topology.services.ledger)];

    fakeAws.reset();
    // The client budget is not under test here, the end state is: AIMD halves a family's rate on every throttle
    // AWS answers (down to 1/20 of it), and at the topology's limits (elb-register 4/s, cloudmap-read 20/s...) that is seconds of real-time
    // token waits. Roomy limits keep AIMD's floor far above what the test needs (tested on its own: budget.test.ts).
    const h = spotHarness({ RATE_LIMITS: 'elb-describe=2000:2000,elb-register=2000:2000,elb-modify=2000:2000,cloudmap-read=2000:2000,cloudmap-write=2000:2000,ec2-describe=2000:2000,events=2000:2000,autoscaling=2000:2000,sqs=2000:2000,eks=2000:2000,ssm=2000:2000,scheduler=2000:2000,dynamodb=2000:2000' });
    fakeAws.faults.throttle(0.3, { seed: 7 });
    const result = await h.invoke(sample('spot-interruption-warning'));
    expect(result).toMatchObject({ status: 'applied', counts: { failed: 0 } });
    expect(fakeAws.calls.records.filter((r) => r.error !== undefined).length).toBeGreaterThan(0);
    fakeAws.faults.reset();
    settleCloudMap();
    expect([targetsOf(h.topology.tg.web), targetsOf(h.topology.tg.api), targetsOf(h.topology.tg.nodes), targetsOf(h.topology.tg.admin)]).toEqual(expected);
    expect([instanceIds(h.topology.services.payments), instanceIds(h.topology.services.ledger)]).toEqual(expectedCm);
  });

  it('fails the invocation (so it is retried) when a deregistration is left undone, and reports it', async () => {
    // Every retry of a 500 spends an elb-register token (4/s): a roomy budget keeps the test from waiting on it.
    const h = spotHarness({ RATE_LIMITS: 'elb-register=1000:1000' });
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'InternalFailure', message: 'boom', status: 500 });
    await expect(h.invoke(sample('spot-interruption-warning'))).rejects.toThrow(/deregistration\(s\) left undone/);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { counts: Record<string, number> });
    expect(audit[0]?.counts.failed).toBe(5);
  });

  it('applies and audits what it could when part of the observation fails, then fails the invocation to be retried', async () => {
    const h = spotHarness();
    fakeAws.faults.fail('DescribeTargetHealth', { times: 1000, code: 'InternalFailure', message: 'describe is down', status: 500 });
    await expect(h.invoke(sample('spot-interruption-warning'))).rejects.toThrow('describe is down');
    settleCloudMap();
    // The Cloud Map part did not depend on the failed describes: it went out, and the audit says what happened.
    expect(instanceIds(h.topology.services.payments)).toEqual(['10.0.2.12', '10.0.9.11']);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { warnings: string[]; counts: Record<string, number> });
    expect(audit).toHaveLength(1);
    // Followed to SUCCESS (GetOperation) before the invocation failed.
    expect(audit[0]?.counts.deregistered).toBe(2);
    expect(audit[0]?.warnings.join('\n')).toMatch(/observation incomplete \(InternalFailure: describe is down\)/);
  });

  it('writes nothing in dry run, but plans and reports', async () => {
    const h = spotHarness({ DRY_RUN: 'true' });
    const result = await h.invoke(sample('spot-interruption-warning'));
    expect(result).toMatchObject({ status: 'dry-run', counts: { 'dry-run': 7 } });
    expect(writeCalls()).toBe(0);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { dryRun: boolean });
    expect(audit).toEqual([expect.objectContaining({ dryRun: true })]);
  });
});

describe('re-registration guard', () => {
  it('deregisters again what the Load Balancer Controller registered back, until the node is gone', async () => {
    const h = spotHarness();
    await h.invoke(sample('spot-interruption-warning'));
    const queue = h.topology.recheckQueueUrl;
    expect(fakeAws.sqs.pending(queue)).toHaveLength(1);

    // The LBC sees the draining target as absent and registers the still-Ready pod again.
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.1.11' }] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.11:8080 initial');

    fakeAws.clock.advance(15_000);
    const due = fakeAws.sqs.dueMessages(queue);
    expect(due).toHaveLength(1);
    const batch = fakeAws.sqs.lambdaEventOf(queue, due);
    expect(await h.invoke(batch)).toEqual({ batchItemFailures: [] });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.1.11:8080 draining');
    // The re-check only looked at the 4 groups that point at the node, not at all 6.
    expect(fakeAws.calls.filter('elasticloadbalancing', 'DescribeTargetHealth').length).toBe(6 + 4);

    // Round 2 is scheduled; once the node is terminated the guard ends and schedules nothing more.
    fakeAws.ec2.terminate(NODES.spot);
    fakeAws.clock.advance(15_000);
    const round2 = fakeAws.sqs.dueMessages(queue);
    expect(round2).toHaveLength(1);
    expect(JSON.parse(round2[0]!.Body).detail.round).toBe(2);
    await h.invoke(fakeAws.sqs.lambdaEventOf(queue, round2));
    expect(fakeAws.sqs.pending(queue)).toHaveLength(0);
  });

  it('stops at the deadline even if the node still runs', async () => {
    const h = spotHarness({ GUARD_DEADLINE_SECONDS: '40' });
    await h.invoke(sample('spot-interruption-warning'));
    const queue = h.topology.recheckQueueUrl;
    let rounds = 0;
    for (let i = 0; i < 10; i++) {
      fakeAws.clock.advance(15_000);
      const due = fakeAws.sqs.dueMessages(queue);
      if (due.length === 0) continue;
      rounds++;
      await h.invoke(fakeAws.sqs.lambdaEventOf(queue, due));
    }
    // 40 s deadline, 15 s interval: re-checks at +15 s and +30 s; a third would land after the deadline.
    expect(rounds).toBe(2);
    expect(fakeAws.sqs.pending(queue)).toHaveLength(0);
    // Rounds that found nothing came back are logged, not published: one audit event, the first plan's.
    expect(fakeAws.events.published('quiesce-audit')).toHaveLength(1);
  });
});

describe('other node events', () => {
  it('ignores a rebalance recommendation by default, and acts on it when configured', async () => {
    const h = spotHarness();
    expect(await h.invoke(sample('rebalance-recommendation'))).toMatchObject({ status: 'ignored' });
    expect(writeCalls()).toBe(0);
    fakeAws.reset();
    const h2 = spotHarness({ REBALANCE_ACTION: 'deregister' });
    // 5 targets, and 2 Cloud Map instances whose operations were followed to SUCCESS.
    expect(await h2.invoke(sample('rebalance-recommendation'))).toMatchObject({ status: 'applied', counts: { deregistered: 7 } });
  });

  it('acts on a dying state change, ignores others', async () => {
    const h = spotHarness();
    // The event says shutting-down, and so does EC2 now (current state before event state).
    fakeAws.ec2.setInstanceState(NODES.other, 'shutting-down');
    expect(await h.invoke(sample('instance-state-change'))).toMatchObject({ status: 'applied' });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.3.11:8080 draining');
    const running = sample('instance-state-change');
    (running['detail'] as Record<string, string>)['state'] = 'running';
    const before = writeCalls();
    expect(await h.invoke(running)).toMatchObject({ status: 'ignored' });
    expect(writeCalls()).toBe(before);
  });

  it('completes the Auto Scaling lifecycle action with CONTINUE after deregistering', async () => {
    const h = spotHarness();
    expect(await h.invoke(sample('asg-terminate-lifecycle-action'))).toMatchObject({ status: 'applied' });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.2.11:8080 draining');
    expect(fakeAws.autoscaling.completed()).toEqual([expect.objectContaining({ instanceId: NODES.asg, result: 'CONTINUE' })]);
    // A repeat delivery finds the action completed: not an error.
    expect(await h.invoke(sample('asg-terminate-lifecycle-action'))).toMatchObject({ status: 'applied' });
  });

  it('skips the Auto Scaling test notification without a write', async () => {
    const h = spotHarness();
    expect(await h.invoke(sample('asg-test-notification'))).toMatchObject({ status: 'ignored', reason: 'autoscaling:TEST_NOTIFICATION' });
    expect(fakeAws.calls.count()).toBe(0);
  });
});

describe('bad input: a typed, logged rejection and no AWS write', () => {
  const cases: [string, unknown, string][] = [
    ['not an object', 'hello', 'InvalidEventError'],
    ['no detail', { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning' }, 'InvalidEventError'],
    ['unknown detail-type', { source: 'aws.ec2', 'detail-type': 'EC2 Something Else', detail: {} }, 'InvalidEventError'],
    ['malformed instance id', { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': 'i-; drop', 'instance-action': 'terminate' } }, 'InvalidEventError'],
    ['bad instance-action', { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': NODES.spot, 'instance-action': 'explode' } }, 'InvalidEventError'],
  ];
  for (const [name, event, error] of cases) {
    it(`rejects: ${name}`, async () => {
      const h = spotHarness();
      const result = await h.invoke(event);
      expect(result).toMatchObject({ status: 'rejected', error });
      expect(writeCalls()).toBe(0);
      expect(fakeAws.calls.count('elasticloadbalancing')).toBe(0);
      expect(fakeAws.events.published('quiesce-audit')).toEqual([
        expect.objectContaining({ event: expect.objectContaining({ 'detail-type': 'Event Rejected' }) }),
      ]);
    });
  }

  it('rejects an instance id that matches nothing', async () => {
    const h = spotHarness();
    const event = sample('spot-interruption-warning');
    (event['detail'] as Record<string, string>)['instance-id'] = 'i-0ffffffffffffffff';
    expect(await h.invoke(event)).toMatchObject({ status: 'rejected', reason: 'i-0ffffffffffffffff: not-found' });
    expect(writeCalls()).toBe(0);
  });

  it('a direct invocation with one instance rejected and another left to retry fails, so it is retried, and still audits the rejection', async () => {
    const h = spotHarness();
    // One AWS Health event naming two instances: another cluster's node (rejected) and ours, whose change
    // cannot be settled now (the state table is down: retried).
    const e = sample('health-scheduled-change');
    const detail = e['detail'] as Record<string, unknown>;
    const event = { ...e, resources: [NODES.staging, NODES.other], detail: { ...detail, affectedEntities: [{ entityValue: NODES.staging, tags: {} }, { entityValue: NODES.other, tags: {} }] } };
    fakeAws.faults.fail('GetItem', { service: 'dynamodb', times: 100, code: 'InternalServerError', message: 'table is down', status: 500 });
    await expect(h.invoke(event)).rejects.toThrow(/not settled: scheduled change: InternalServerError: table is down/);
    const rejected = fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail);
    expect(rejected).toEqual([expect.objectContaining({ status: 'rejected', error: 'OutOfScopeError', instanceId: NODES.staging })]);
    expect(writeCalls()).toBe(0);
  });

  it("never acts on another cluster's node in the same account", async () => {
    const h = spotHarness();
    const event = sample('spot-interruption-warning');
    (event['detail'] as Record<string, string>)['instance-id'] = NODES.staging;
    expect(await h.invoke(event)).toMatchObject({ status: 'rejected', reason: `${NODES.staging}: not-a-node-of-this-cluster` });
    expect(writeCalls()).toBe(0);
    expect(targetsOf(h.topology.tg.staging)).toEqual(['10.0.9.11:8080 healthy']);
  });

  it('reports a configuration error by variable name before any AWS call', async () => {
    const { makeHandler } = await import('../../functions/spot-interruption/handler.ts');
    const { buildNodeWorkflowDeps } = await import('../../functions/spot-interruption/wiring.ts');
    const { loadConfig } = await import('#core/config.ts');
    const handler = makeHandler(() => buildNodeWorkflowDeps('spot', { config: loadConfig({ CLUSTER_NAME: 'prod', MIN_HEALTHY_TARGETS: 'zero' }) }));
    await expect(handler(sample('spot-interruption-warning') as never, {} as never)).rejects.toThrow('MIN_HEALTHY_TARGETS: expected an integer');
    expect(fakeAws.calls.count()).toBe(0);
  });
});

describe('reclaim waves through SQS', () => {
  it('handles a batch of warnings with one target-group scan, and reports bad records without failing the batch', async () => {
    const h = spotHarness();
    const warn = (id: string, n: number) => ({ messageId: `m${n}`, eventSource: 'aws:sqs', body: JSON.stringify({ ...sample('spot-interruption-warning'), id: `e${n}`, detail: { 'instance-id': id, 'instance-action': 'terminate' } }) });
    const batch = { Records: [warn(NODES.spot, 1), warn(NODES.asg, 2), { messageId: 'bad', eventSource: 'aws:sqs', body: '{not json' }] };
    expect(await h.invoke(batch)).toEqual({ batchItemFailures: [] });
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(1);
    // One scan: each of the topology's 6 groups described once.
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth')).toBe(6);
    expect(targetsOf(h.topology.tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 draining', '10.0.3.11:8080 healthy']);
  });

  it('reports only the unfinished records as batch item failures', async () => {
    const h = spotHarness();
    fakeAws.faults.fail('CompleteLifecycleAction', { times: 100, code: 'InternalFailure', message: 'boom', status: 500 });
    const lifecycle = { messageId: 'lc', eventSource: 'aws:sqs', body: JSON.stringify(sample('asg-terminate-lifecycle-action')) };
    const spot = { messageId: 'spot', eventSource: 'aws:sqs', body: JSON.stringify(sample('spot-interruption-warning')) };
    expect(await h.invoke({ Records: [spot, lifecycle] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'lc' }] });
  });
});
