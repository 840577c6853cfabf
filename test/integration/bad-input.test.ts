/**
 * Bad input through every real handler (issue 9, item 7): each odd shape is a typed, logged rejection that
 * names its field, and nothing is written, although the seeded world would let every write succeed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES } from '../fakes/topology.ts';
import { anyWrites, buildHandlers, webhookHeaders, startFakeKube } from './handlers.ts';

const { address } = startFakeKube();

const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const handlers = () => buildHandlers(address()).handlers;
const rejections = () => fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Event Rejected').map((p) => p.event.detail as Record<string, unknown>);

/** The forwarder's sample, for this cluster, with `patch` on its detail. */
function podEvent(patch: Record<string, unknown>): Record<string, unknown> {
  const e = sample('pod-terminating');
  e.detail = { ...e.detail, cluster: 'prod', namespace: 'shop', name: 'payments-7d9f-abcde', podIPs: ['10.0.1.12'], ...patch };
  return e;
}

describe('one event cannot empty every group', () => {
  it('rejects a Pod Terminating event with 768 podIPs, touching nothing', async () => {
    const ips = Array.from({ length: 768 }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`);
    const result = await handlers()['pod-events'](podEvent({ podIPs: ips }));
    expect(result).toMatchObject({ status: 'rejected', error: 'InvalidEventError', field: 'detail.podIPs' });
    expect(anyWrites()).toBe(0);
    expect(fakeAws.calls.count('elasticloadbalancing')).toBe(0);
  });

  it('rejects two addresses of one family; one IPv4 and one IPv6 are a dual-stack pod', async () => {
    const h = handlers()['pod-events'];
    expect(await h(podEvent({ podIPs: ['10.0.1.12', '10.0.1.11'] }))).toMatchObject({ status: 'rejected', field: 'detail.podIPs' });
    expect(anyWrites()).toBe(0);
    expect(await h(podEvent({ podIPs: ['10.0.1.12', 'fd00::12'] }))).toMatchObject({ status: 'applied' });
  });
});

describe('untyped crashes on odd input are typed rejections with no write', () => {
  it('a null event, to every handler', async () => {
    const h = handlers();
    for (const name of ['spot-interruption', 'pod-events', 'sweeper', 'traffic-shift'] as const) {
      expect(await h[name](null), name).toMatchObject({ status: 'rejected', error: 'InvalidEventError', field: 'event' });
    }
    // The webhook answers HTTP: a 400 naming the field, never a 500.
    expect(await h['deploy-webhook'](null)).toMatchObject({ statusCode: 400 });
    expect(JSON.parse((await h['deploy-webhook'](null) as { body: string }).body)).toMatchObject({ error: 'InvalidRequest', field: 'request' });
    expect(anyWrites()).toBe(0);
  });

  it('{"Records":[null]} and other odd SQS records: rejected per record, the rest of the batch still handled', async () => {
    const h = handlers();
    for (const name of ['spot-interruption', 'pod-events'] as const) {
      expect(await h[name]({ Records: [null] }), name).toEqual({ batchItemFailures: [] });
      expect(await h[name]({ Records: [{ messageId: 'm1' }, { messageId: 'm2', body: { source: 'aws.ec2' } }, 'x', []] }), name).toEqual({ batchItemFailures: [] });
    }
    expect(anyWrites()).toBe(0);
    expect(rejections().map((r) => [r['messageId'], r['message']])).toEqual(
      [0, 1].flatMap(() => [
        ['Records[0]', 'Records[0] must be an object'],
        ['m1', 'Records[0].body must be a string'],
        ['m2', 'Records[1].body must be a string'],
        ['Records[2]', 'Records[2] must be an object'],
        ['Records[3]', 'Records[3] must be an object'],
      ]),
    );
    // A good record next to a bad one is still applied.
    const good = { messageId: 'ok', body: JSON.stringify(sample('spot-interruption-warning')) };
    expect(await h['spot-interruption']({ Records: [null, good] })).toEqual({ batchItemFailures: [] });
    expect(fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets')).toBeGreaterThan(0);
  });

  it('a namespace with a NUL character (and other names Kubernetes would refuse)', async () => {
    const h = handlers()['pod-events'];
    const cases: [Record<string, unknown>, string][] = [
      [{ namespace: 'shop\u0000' }, 'detail.namespace'],
      [{ namespace: 'a'.repeat(64) }, 'detail.namespace'],
      [{ namespace: 'shop.eu' }, 'detail.namespace'],
      [{ name: 'Payments' }, 'detail.name'],
      [{ name: `${'a'.repeat(250)}.bcd` }, 'detail.name'],
      [{ nodeName: 'ip 10 0 1 12' }, 'detail.nodeName'],
      [{ cluster: 'prod\n' }, 'detail.cluster'],
      [{ containerPorts: [{ name: 'way-too-long-port-name', containerPort: 8080, protocol: 'TCP' }] }, 'detail.containerPorts[0].name'],
    ];
    for (const [patch, field] of cases) {
      expect(await h(podEvent(patch)), JSON.stringify(patch)).toMatchObject({ status: 'rejected', error: 'InvalidEventError', field });
    }
    const exporter = sample('kubernetes-event-exporter-killing');
    exporter.detail = { ...exporter.detail, clusterName: 'prod', involvedObject: { ...(exporter.detail['involvedObject'] as object), namespace: 'sh\u0000op' } };
    expect(await h(exporter)).toMatchObject({ status: 'rejected', field: 'detail.involvedObject.namespace' });
    expect(anyWrites()).toBe(0);
    expect(fakeAws.calls.count('elasticloadbalancing')).toBe(0);
  });

  it('an Auto Scaling group, hook name or token AWS would reject: the node leaves traffic, CompleteLifecycleAction is never sent and its failure is loud', async () => {
    // Issue 19: these fields serve CompleteLifecycleAction alone. Rejecting the whole signal lost the node's way
    // out of traffic; sending them would end in a ValidationError read as "already completed". So the step fails
    // up front, audited with the field, and the hook is left to Auto Scaling's heartbeat timeout.
    const h = handlers()['spot-interruption'];
    const cases: [Record<string, unknown>, string][] = [
      [{ AutoScalingGroupName: ' ' }, 'detail.AutoScalingGroupName'],
      [{ AutoScalingGroupName: 'eks:prod' }, 'detail.AutoScalingGroupName'],
      [{ AutoScalingGroupName: 'x'.repeat(256) }, 'detail.AutoScalingGroupName'],
      [{ LifecycleHookName: 'quiesce drain' }, 'detail.LifecycleHookName'],
      [{ LifecycleActionToken: 'not-a-uuid' }, 'detail.LifecycleActionToken'],
    ];
    for (const [patch, field] of cases) {
      const e = sample('asg-terminate-lifecycle-action');
      e.detail = { ...e.detail, ...patch };
      expect(await h(e), JSON.stringify(patch)).toMatchObject({ status: 'applied' });
      expect(rejections().at(-1), JSON.stringify(patch)).toMatchObject({ error: 'LifecycleActionUnusable', field, instanceId: NODES.asg });
    }
    expect(fakeAws.calls.count('elasticloadbalancing', 'DeregisterTargets')).toBeGreaterThan(0);
    expect(fakeAws.calls.count('autoscaling', 'CompleteLifecycleAction')).toBe(0);
    expect(fakeAws.autoscaling.completed()).toEqual([]);
    // The sample itself is still good: its hook is completed.
    expect(await h(sample('asg-terminate-lifecycle-action'))).toMatchObject({ status: 'applied' });
    expect(fakeAws.autoscaling.completed()).toEqual([expect.objectContaining({ instanceId: NODES.asg })]);
  });

  it('envelope fields of the wrong type, and a state EC2 never sends', async () => {
    const h = handlers();
    const spot = sample('spot-interruption-warning');
    expect(await h['spot-interruption']({ ...spot, id: 7 })).toMatchObject({ status: 'rejected', field: 'id' });
    expect(await h['spot-interruption']({ ...spot, resources: [1] })).toMatchObject({ status: 'rejected', field: 'resources' });
    expect(await h['spot-interruption']({ ...spot, source: 'aws.ec2\u0000' })).toMatchObject({ status: 'rejected', field: 'source' });
    const state = sample('instance-state-change');
    state.detail = { ...state.detail, state: 'exploding' };
    expect(await h['spot-interruption'](state)).toMatchObject({ status: 'rejected', field: 'detail.state' });
    expect(await h.sweeper({ ...sample('scheduled-sweep'), time: {} })).toMatchObject({ status: 'rejected', field: 'time' });
    expect(anyWrites()).toBe(0);
  });

  it('the webhook: a request Lambda could not have built is a 400 naming the field, before the token is read', async () => {
    const h = handlers()['deploy-webhook'];
    const body = readFileSync(new URL('../../events/argocd-webhook-body.json', import.meta.url), 'utf8');
    const cases: [unknown, string][] = [
      [[], 'request'],
      [{ headers: 'Bearer x', body }, 'headers'],
      [{ headers: { authorization: 42 }, body }, 'headers'],
      [{ headers: webhookHeaders(), body: { app: 'shop' } }, 'body'],
      [{ headers: webhookHeaders(), body, isBase64Encoded: 'yes' }, 'isBase64Encoded'],
    ];
    for (const [request, field] of cases) {
      const res = (await h(request)) as { statusCode: number; body: string };
      expect(res.statusCode, JSON.stringify(request).slice(0, 80)).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'InvalidRequest', field });
    }
    expect(fakeAws.calls.count()).toBe(0);
    // A destination namespace with a NUL, and a receivedAt that is not a time: 400 after the token.
    const payload = JSON.parse(body) as Record<string, unknown>;
    for (const [patch, field] of [
      [{ destination: { name: 'green', namespace: 'shop\u0000' } }, 'destination.namespace'],
      [{ receivedAt: 'yesterday' }, 'receivedAt'],
    ] as const) {
      const res = (await h({ headers: webhookHeaders(), body: JSON.stringify({ ...payload, ...patch }) })) as { statusCode: number; body: string };
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'InvalidPayload', field });
    }
    expect(anyWrites()).toBe(0);
  });

  it('traffic-shift: an event of another source cannot start a shift', async () => {
    const h = handlers()['traffic-shift'];
    expect(await h({ ...sample('deployment-synced'), source: 'quiesce.kubernetes' })).toMatchObject({ status: 'rejected', field: 'source' });
    expect(await h({ ...sample('deployment-synced'), source: 'evil' })).toMatchObject({ status: 'rejected', field: 'source' });
    expect(anyWrites()).toBe(0);
  });
});
