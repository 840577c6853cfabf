/**
 * Strict where it protects, lenient where strictness only drops work (contracts/node-events.ts,
 * delivery.ts, spot-interruption/stages/signal-rules.ts): absent or empty fields the deregistration does
 * not need are unknown, not malformed; a present value is still held to what AWS writes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unwrapDelivery } from '#core/contracts/delivery.ts';
import { parseEnvelope, parseNodeSignals, parseRecheck, recheckEnvelope, type EventBridgeEnvelope } from '#core/contracts/node-events.ts';
import { InvalidEventError } from '#core/errors.ts';
import { currentStateDecision } from '../../../functions/spot-interruption/stages/signal-rules.ts';

const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } => JSON.parse(readFileSync(new URL(`../../../events/${name}.json`, import.meta.url), 'utf8'));
const health = (detail: Record<string, unknown>) => parseNodeSignals(parseEnvelope({ ...sample('health-scheduled-change'), detail: { ...sample('health-scheduled-change').detail, ...detail } }));
const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidEventError) return err.field;
    throw err;
  }
  return undefined;
};

describe('AWS Health events', () => {
  it('without statusCode: an open change', () => {
    expect(health({ statusCode: undefined })).toEqual([expect.objectContaining({ kind: 'scheduled-change', statusCode: 'open' })]);
  });

  it('with no start or no event ARN (absent, or "" as Go writes it): acted on now', () => {
    expect(health({ startTime: '', endTime: '' })).toEqual([expect.objectContaining({ kind: 'scheduled-change-now', why: 'no start' })]);
    expect(health({ eventArn: '', eventTypeCode: '' })).toEqual([expect.objectContaining({ kind: 'scheduled-change-now', eventTypeCode: 'scheduled change', why: 'no event ARN' })]);
    expect(health({ eventArn: undefined, startTime: undefined, statusCode: 'closed' })).toEqual([expect.objectContaining({ kind: 'notice' })]);
  });

  it('a present value is still held to what AWS Health writes', () => {
    expect(fieldOf(() => health({ statusCode: 'pending' }))).toBe('detail.statusCode');
    expect(fieldOf(() => health({ eventArn: 'arn:aws:s3:::bucket' }))).toBe('detail.eventArn');
    expect(fieldOf(() => health({ startTime: 'tomorrow' }))).toBe('detail.startTime');
  });
});

describe('envelopes and Auto Scaling messages', () => {
  it('an empty envelope field is absent (NTH\'s "time": ""); another type is still refused', () => {
    const spot = sample('spot-interruption-warning');
    expect(parseEnvelope({ ...spot, time: '', account: '' })).not.toHaveProperty('time');
    expect(fieldOf(() => parseEnvelope({ ...spot, time: 0 }))).toBe('time');
  });

  it('a lifecycle message without Service is Auto Scaling\'s; one naming another service, or an envelope, is not', () => {
    const raw = { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Event: '', EC2InstanceId: 'i-0a1b2c3d4e5f60002', AutoScalingGroupName: 'g', LifecycleHookName: 'h', Time: '2026-11-21T12:00:00Z' };
    expect(unwrapDelivery(raw)).toMatchObject({ source: 'aws.autoscaling', 'detail-type': 'EC2 Instance-terminate Lifecycle Action' });
    expect(fieldOf(() => unwrapDelivery({ ...raw, Service: 'AWS Something Else' }))).toBe('source');
    expect(fieldOf(() => unwrapDelivery({ ...raw, source: 'aws.autoscaling' }))).toBe('detail-type');
  });
});

describe('the second look at an unconfirmed state change', () => {
  const running = { state: 'running', launchTime: '2026-11-01T00:00:00Z' };
  it('first: look again; on the second look: stale', () => {
    expect(currentStateDecision({ kind: 'state-change', instanceId: 'i-0a1b2c3d4e5f60003', state: 'stopping' }, running)).toMatchObject({ act: false, lookAgain: true });
    expect(currentStateDecision({ kind: 'state-change', instanceId: 'i-0a1b2c3d4e5f60003', state: 'stopping', secondLook: true }, running)).toEqual({ act: false, reason: expect.stringMatching(/on a second look too/) });
    expect(currentStateDecision({ kind: 'state-change', instanceId: 'i-0a1b2c3d4e5f60003', state: 'stopping' }, { ...running, state: 'stopping' })).toMatchObject({ act: true });
  });

  it('the message carrying it is bounded like every re-check: its nodes, dying states only', () => {
    const base = { instanceIds: ['i-0a1b2c3d4e5f60003'], targetGroupArns: [], services: [], deadline: '2026-11-21T12:01:00.000Z', round: 1, reason: 'r' };
    const parse = (lookAgain: unknown) => () => parseRecheck(parseEnvelope(JSON.parse(JSON.stringify(recheckEnvelope({ ...base, lookAgain } as never)))) as EventBridgeEnvelope);
    expect(parse([{ instanceId: 'i-0a1b2c3d4e5f60003', state: 'shutting-down', eventTime: '2026-11-21T12:00:00Z' }])()).toMatchObject({ lookAgain: [{ state: 'shutting-down' }] });
    expect(fieldOf(parse([{ instanceId: 'i-0a1b2c3d4e5f60001', state: 'stopping' }]))).toBe('detail.lookAgain');
    expect(fieldOf(parse([{ instanceId: 'i-0a1b2c3d4e5f60003', state: 'running' }]))).toBe('detail.lookAgain');
  });
});
