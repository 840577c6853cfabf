/** The delivery shapes of a node signal, unwrapped (contracts/delivery.ts) and parsed (node-events.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '#core/errors.ts';
import { isNotice, unwrapDelivery } from '#core/contracts/delivery.ts';
import { parseNodeSignals, type EventBridgeEnvelope } from '#core/contracts/node-events.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../../events/${name}.json`, import.meta.url), 'utf8'));
const signals = (raw: unknown) => {
  const d = unwrapDelivery(raw);
  return isNotice(d) ? [d] : parseNodeSignals(d as EventBridgeEnvelope);
};
const fieldOf = (raw: unknown): string | undefined => {
  try {
    signals(raw);
  } catch (err) {
    if (err instanceof InvalidEventError) return err.field;
    throw err;
  }
  return undefined;
};

describe('delivery shapes', () => {
  it('reads the same lifecycle action from EventBridge, the raw Auto Scaling message, and SNS (JSON and key: value), as a string body too', () => {
    const expected = { kind: 'lifecycle', instanceId: 'i-0a1b2c3d4e5f60002', autoScalingGroupName: 'eks-prod-ng-general', lifecycleHookName: 'quiesce-drain', lifecycleActionToken: '87654321-4321-4321-4321-210987654321', test: false };
    for (const name of ['asg-terminate-lifecycle-action', 'asg-lifecycle-sqs-direct', 'asg-lifecycle-sns', 'asg-lifecycle-sns-key-value']) {
      expect(signals(JSON.stringify(sample(name))), name).toEqual([expect.objectContaining(expected)]);
    }
    expect(signals(sample('asg-lifecycle-sqs-direct'))[0]).toMatchObject({ eventTime: '2026-11-21T12:00:00.000Z', eventId: '4f6a5c1e-9b2d-4e8f-a7c3-1d0e2b3a4c5d' });
  });

  it('test notifications of every shape are lifecycle tests; SNS confirmations and other Health events are notices', () => {
    for (const name of ['asg-test-notification', 'asg-test-notification-sqs-direct', 'asg-test-notification-sns']) expect(signals(sample(name)), name).toEqual([expect.objectContaining({ kind: 'lifecycle', test: true })]);
    expect(signals({ Type: 'SubscriptionConfirmation', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' })).toEqual([expect.objectContaining({ kind: 'notice' })]);
    const rds = { ...sample('health-scheduled-change'), detail: { ...(sample('health-scheduled-change')['detail'] as object), service: 'RDS' } };
    expect(signals(rds)).toEqual([expect.objectContaining({ kind: 'notice' })]);
  });

  it('an AWS Health event is one scheduled change per instance it names, with its RFC 1123 times as ISO 8601', () => {
    const e = sample('health-scheduled-change');
    const two = { ...e, detail: { ...(e['detail'] as object), affectedEntities: [{ entityValue: 'i-0a1b2c3d4e5f60003' }, { entityValue: 'h-0123456789abcdef0' }, { entityValue: 'i-0a1b2c3d4e5f60002' }] } };
    expect(signals(two)).toEqual([
      expect.objectContaining({ kind: 'scheduled-change', instanceId: 'i-0a1b2c3d4e5f60003', statusCode: 'upcoming', startTime: '2026-11-21T14:00:00.000Z', endTime: '2026-11-21T16:00:00.000Z', updatedAt: '2026-11-21T12:00:00.000Z' }),
      expect.objectContaining({ instanceId: 'i-0a1b2c3d4e5f60002' }),
    ]);
  });

  it('names the field at fault', () => {
    const sns = sample('asg-lifecycle-sns');
    const health = sample('health-scheduled-change');
    const hd = health['detail'] as Record<string, unknown>;
    const cases: [unknown, string][] = [
      [{ ...sns, Type: 'Nope' }, 'Type'],
      [{ ...sns, TopicArn: 'arn:aws:sqs:us-east-1:123456789012:q' }, 'TopicArn'],
      [{ ...sns, Message: '{not json' }, 'Message'],
      [{ ...sns, Message: 'no key value here' }, 'Message'],
      [{ ...sns, Message: JSON.stringify(sns) }, 'Message'],
      [{ ...sample('asg-lifecycle-sqs-direct'), AccountId: '12' }, 'event.AccountId'],
      [{ ...sample('asg-lifecycle-sqs-direct'), LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }, 'detail.LifecycleTransition'],
      [{ ...health, detail: { ...hd, statusCode: 'pending' } }, 'detail.statusCode'],
      [{ ...health, detail: { ...hd, startTime: 'soon' } }, 'detail.startTime'],
      [{ ...health, detail: { ...hd, eventArn: 'arn:aws:ec2:::x' } }, 'detail.eventArn'],
      [{ ...health, detail: { ...hd, affectedEntities: 'i-0a1b2c3d4e5f60003' } }, 'detail.affectedEntities'],
      [{ ...sample('capacity-reservation-interruption-warning'), detail: { 'instance-id': 'i-0a1b2c3d4e5f60001', 'instance-action': 'stop' } }, 'detail.instance-action'],
      [{ source: 'quiesce', 'detail-type': 'Quiesce Scheduled Change Due', detail: { instanceId: 'i-0a1b2c3d4e5f60003' } }, 'detail.eventArn'],
    ];
    for (const [raw, field] of cases) expect(fieldOf(raw), field).toBe(field);
  });
});
