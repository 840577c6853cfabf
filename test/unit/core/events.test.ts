import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '#core/errors.ts';
import { parseEnvelope, parseNodeSignal, parseRecheck, recheckEnvelope } from '#core/contracts/node-events.ts';

const dir = new URL('../../../events/', import.meta.url);
const sample = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

describe('event contracts', () => {
  it('parses every documented EC2 / Auto Scaling sample in events/', () => {
    const parsed = ['spot-interruption-warning.json', 'rebalance-recommendation.json', 'instance-state-change.json', 'asg-terminate-lifecycle-action.json', 'asg-test-notification.json'].map(
      (f) => parseNodeSignal(parseEnvelope(sample(f))),
    );
    expect(parsed.map((p) => p.kind)).toEqual(['spot-interruption', 'rebalance', 'state-change', 'lifecycle', 'lifecycle']);
    expect(parsed[0]).toMatchObject({ instanceId: 'i-0a1b2c3d4e5f60001', action: 'terminate', eventId: '1e5527d7-bb36-4607-3370-4164db56a40e' });
    expect(parsed[3]).toMatchObject({ autoScalingGroupName: 'eks-prod-ng-general', lifecycleHookName: 'quiesce-drain', test: false });
    expect(parsed[4]).toMatchObject({ test: true });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(5);
  });

  it('parses an SQS body (string) the same as the object', () => {
    const raw = sample('spot-interruption-warning.json');
    expect(parseNodeSignal(parseEnvelope(JSON.stringify(raw)))).toEqual(parseNodeSignal(parseEnvelope(raw)));
  });

  it('names the field at fault', () => {
    const cases: [unknown, string][] = [
      ['{', 'body'],
      [{ 'detail-type': 'x', detail: {} }, 'source'],
      [{ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: [] }, 'detail'],
      [{ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': 'i-123', 'instance-action': 'terminate' } }, 'detail.instance-id'],
      [{ source: 'aws.autoscaling', 'detail-type': 'EC2 Instance-terminate Lifecycle Action', detail: { LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' } }, 'detail.LifecycleTransition'],
      [{ source: 'aws.health', 'detail-type': 'AWS Health Event', detail: {} }, 'detail-type'],
    ];
    for (const [raw, field] of cases) {
      let err: unknown;
      try {
        parseNodeSignal(parseEnvelope(raw));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(raw)).toBeInstanceOf(InvalidEventError);
      expect((err as InvalidEventError).field).toBe(field);
    }
  });

  it('round-trips a re-check message and rejects a tampered one', () => {
    const env = recheckEnvelope({ instanceIds: ['i-0a1b2c3d4e5f60001'], targetGroupArns: ['arn:aws:elasticloadbalancing:x'], services: [], deadline: '2026-11-21T12:02:30.000Z', round: 1, reason: 'r' });
    const parsed = parseRecheck(parseEnvelope(JSON.parse(JSON.stringify(env))));
    expect(parsed).toMatchObject({ kind: 'recheck', round: 1, instanceIds: ['i-0a1b2c3d4e5f60001'] });
    expect(() => parseRecheck({ ...env, detail: { ...env.detail, round: 0 } })).toThrow(InvalidEventError);
    expect(() => parseRecheck({ ...env, detail: { ...env.detail, instanceIds: ['nope'] } })).toThrow(InvalidEventError);
  });

  it('carries a completeness round\'s described groups, and rejects anything else there', () => {
    const described = ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web/0123456789abcdef'];
    const env = recheckEnvelope({ instanceIds: ['i-0a1b2c3d4e5f60001'], targetGroupArns: [], services: [], deadline: '2026-11-21T12:02:30.000Z', round: 1, reason: 'r', completeness: { describedArns: described } });
    expect(parseRecheck(parseEnvelope(JSON.parse(JSON.stringify(env)))).completeness).toEqual({ describedArns: described });
    for (const bad of [null, 'all', { describedArns: 'x' }, { describedArns: ['not-an-arn'] }]) {
      expect(() => parseRecheck({ ...env, detail: { ...env.detail, completeness: bad } }), JSON.stringify(bad)).toThrow(/detail.completeness/);
    }
  });
});
