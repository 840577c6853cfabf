/**
 * The input limits of issue 9 item 7, at the contract level: names as Kubernetes and AWS validate them, at
 * most one address per family in a pod event, envelope fields of the right type, bounded re-checks.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '#core/errors.ts';
import {
  hasControlCharacter,
  isAutoScalingGroupName,
  isDns1123Label,
  isDns1123Subdomain,
  isEksClusterName,
  isLifecycleActionToken,
  isLifecycleHookName,
  isPortName,
  quoted,
} from '#core/contracts/names.ts';
import { MAX_RECHECK_NODES, parseEnvelope, parseNodeSignal, parseRecheck, recheckEnvelope } from '#core/contracts/node-events.ts';
import { MAX_POD_IPS, validatePodTerminatingDetail } from '#core/contracts/pod-terminating.ts';
import { parseSqsRecord, recordLabel } from '#core/contracts/sqs-batch.ts';
import { parseDeploymentSynced, parseShiftState } from '#core/contracts/traffic.ts';

const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(new URL(`../../../events/${name}.json`, import.meta.url), 'utf8'));

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidEventError);
    return (err as InvalidEventError).field;
  }
  return undefined;
}

describe('Kubernetes names (apimachinery IsDNS1123Label / IsDNS1123Subdomain)', () => {
  it('accepts what Kubernetes accepts', () => {
    for (const ok of ['a', 'shop', 'kube-system', '0', 'a'.repeat(63)]) expect(isDns1123Label(ok), ok).toBe(true);
    for (const ok of ['web-7d9c8b6f5-x2k4q', 'ip-10-0-1-12.eu-west-1.compute.internal', 'a.b', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`]) {
      expect(isDns1123Subdomain(ok), ok).toBe(true);
    }
  });

  it('refuses what Kubernetes refuses', () => {
    for (const bad of ['', 'Shop', '-shop', 'shop-', 'sh_op', 'sh.op', 'shop\u0000', 'a'.repeat(64), 'ünicode', ' shop', 7, null]) expect(isDns1123Label(bad), String(bad)).toBe(false);
    for (const bad of ['', 'a..b', '.a', 'a.', 'A.b', 'a_b', `${'a'.repeat(254)}`, 'a\nb']) expect(isDns1123Subdomain(bad), bad).toBe(false);
  });

  it('every label is a subdomain; nothing with a control character is either', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 70 }), (s) => {
        if (isDns1123Label(s)) expect(isDns1123Subdomain(s)).toBe(true);
        if (hasControlCharacter(s)) expect(isDns1123Subdomain(s)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('port names are IANA_SVC_NAME (at most 15, a letter, no double hyphen)', () => {
    for (const ok of ['http', 'metrics', 'h2c', 'grpc-web']) expect(isPortName(ok), ok).toBe(true);
    for (const bad of ['', '8080', 'HTTP', 'a--b', '-http', 'way-too-long-port', 'ht tp']) expect(isPortName(bad), bad).toBe(false);
  });
});

describe('AWS names (botocore autoscaling, EKS CreateCluster)', () => {
  it('Auto Scaling group names: 1-255 of ASCII 33-126 without the colon', () => {
    for (const ok of ['eks-prod-ng-general', 'a', 'x'.repeat(255), 'eks-ng-1234!#$%&()*+,./;<=>?@[]^_`{|}~']) expect(isAutoScalingGroupName(ok), ok).toBe(true);
    for (const bad of [' ', '', 'a b', 'eks:prod', 'x'.repeat(256), 'tab\t', 'é']) expect(isAutoScalingGroupName(bad), bad).toBe(false);
  });

  it('hook names, tokens and cluster names', () => {
    expect(isLifecycleHookName('quiesce-drain')).toBe(true);
    expect(isLifecycleHookName('team/quiesce_drain-1')).toBe(true);
    for (const bad of ['', 'quiesce drain', 'a:b', 'x'.repeat(256)]) expect(isLifecycleHookName(bad), bad).toBe(false);
    expect(isLifecycleActionToken('87654321-4321-4321-4321-210987654321')).toBe(true);
    for (const bad of ['', '87654321-4321-4321-4321-21098765432', '87654321432143214321210987654321', 'zzzzzzzz-4321-4321-4321-210987654321']) expect(isLifecycleActionToken(bad), bad).toBe(false);
    for (const ok of ['prod', 'prod-eu-west-1', 'Prod_2']) expect(isEksClusterName(ok), ok).toBe(true);
    for (const bad of ['', '-prod', 'prod.eu', 'x'.repeat(101), 'prod\n']) expect(isEksClusterName(bad), bad).toBe(false);
  });

  it('quotes hostile values for messages: escaped, bounded, never throwing', () => {
    expect(quoted('a\u0000b')).toBe('"a\\u0000b"');
    expect(quoted('x'.repeat(500)).length).toBeLessThan(100);
    expect(quoted(Object.create(null))).toBe('"[object]"');
  });
});

describe('Pod Terminating: bounded addresses, Kubernetes names (producer and consumer share this validator)', () => {
  const detail = (patch: Record<string, unknown>) => ({ ...sample('pod-terminating').detail, ...patch });
  const fields = (patch: Record<string, unknown>): string[] => {
    const r = validatePodTerminatingDetail(detail(patch));
    return r.ok ? [] : r.errors.map((e) => e.field);
  };

  it(`holds at most ${MAX_POD_IPS} addresses, one per family`, () => {
    expect(fields({ podIPs: ['10.0.1.57', 'fd00::57'] })).toEqual([]);
    expect(fields({ podIPs: [] })).toEqual([]);
    expect(fields({ podIPs: ['10.0.1.57', '10.0.1.58'] })).toEqual(['podIPs']);
    expect(fields({ podIPs: ['fd00::1', 'fd00::2'] })).toEqual(['podIPs']);
    expect(fields({ podIPs: ['10.0.1.57', 'fd00::57', '10.0.1.58'] })).toEqual(['podIPs']);
    const huge = validatePodTerminatingDetail(detail({ podIPs: Array.from({ length: 768 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) }));
    // One finding, not 768: the rejection log stays one line.
    expect(huge).toEqual({ ok: false, errors: [{ field: 'podIPs', message: 'must hold at most one IPv4 and one IPv6 address, got 768 entries' }] });
    expect(fields({ podIPs: ['fe80::1%eth0'] })).toEqual(['podIPs[0]']);
  });

  it('names the field of every name Kubernetes would refuse', () => {
    expect(fields({ namespace: 'shop\u0000' })).toEqual(['namespace']);
    expect(fields({ namespace: 'a'.repeat(64) })).toEqual(['namespace']);
    expect(fields({ name: 'Web' })).toEqual(['name']);
    expect(fields({ nodeName: 'ip 10' })).toEqual(['nodeName']);
    expect(fields({ nodeName: null })).toEqual([]);
    expect(fields({ uid: 'u'.repeat(129) })).toEqual(['uid']);
    expect(fields({ cluster: 'prod\u0000' })).toEqual(['cluster']);
    expect(fields({ containerPorts: [{ name: 'HTTP', containerPort: 80, protocol: 'TCP' }] })).toEqual(['containerPorts[0].name']);
  });
});

describe('EventBridge envelopes and node signals', () => {
  it('refuses envelope fields EventBridge never writes that way', () => {
    const spot = sample('spot-interruption-warning');
    expect(fieldOf(() => parseEnvelope({ ...spot, id: 1 }))).toBe('id');
    expect(fieldOf(() => parseEnvelope({ ...spot, time: null }))).toBe('time');
    expect(fieldOf(() => parseEnvelope({ ...spot, account: 'x'.repeat(300) }))).toBe('account');
    expect(fieldOf(() => parseEnvelope({ ...spot, resources: 'arn:aws:ec2' }))).toBe('resources');
    expect(fieldOf(() => parseEnvelope({ ...spot, resources: [null] }))).toBe('resources');
    expect(fieldOf(() => parseEnvelope({ ...spot, 'detail-type': 'EC2 Spot\nInstance' }))).toBe('detail-type');
    expect(fieldOf(() => parseEnvelope(null))).toBe('event');
    expect(parseEnvelope(spot).resources).toEqual(spot['resources']);
  });

  it('validates lifecycle actions as Auto Scaling names them, and EC2 states', () => {
    const lifecycle = (patch: Record<string, unknown>) => {
      const e = sample('asg-terminate-lifecycle-action');
      return () => parseNodeSignal(parseEnvelope({ ...e, detail: { ...e.detail, ...patch } }));
    };
    // The group, hook and token serve CompleteLifecycleAction only: a bad one makes that step unusable (it
    // fails loudly), not the signal: the node still leaves traffic. The instance id is required.
    expect(lifecycle({ AutoScalingGroupName: ' ' })()).toMatchObject({ kind: 'lifecycle', autoScalingGroupName: '', unusable: { field: 'detail.AutoScalingGroupName' } });
    expect(lifecycle({ LifecycleHookName: 'a b' })()).toMatchObject({ unusable: { field: 'detail.LifecycleHookName' } });
    expect(lifecycle({ LifecycleActionToken: 42 })()).toMatchObject({ lifecycleActionToken: undefined, unusable: { field: 'detail.LifecycleActionToken' } });
    expect(lifecycle({ LifecycleActionToken: undefined })()).toMatchObject({ kind: 'lifecycle', lifecycleActionToken: undefined });
    expect(lifecycle({ LifecycleActionToken: undefined })()).not.toHaveProperty('unusable');
    expect(fieldOf(lifecycle({ EC2InstanceId: 'i-123' }))).toBe('detail.EC2InstanceId');
    const test = sample('asg-test-notification');
    expect(fieldOf(() => parseNodeSignal(parseEnvelope({ ...test, detail: { ...test.detail, AutoScalingGroupName: ' ' } })))).toBe('detail.AutoScalingGroupName');
    const state = sample('instance-state-change');
    expect(fieldOf(() => parseNodeSignal(parseEnvelope({ ...state, detail: { ...state.detail, state: 'gone' } })))).toBe('detail.state');
  });

  it('bounds re-check messages (they crossed a queue)', () => {
    const base = { instanceIds: ['i-0a1b2c3d4e5f60001'], targetGroupArns: ['arn:aws:elasticloadbalancing:x'], services: [], deadline: '2026-11-21T12:02:30.000Z', round: 1, reason: 'r' };
    const check = (patch: Record<string, unknown>) => () => parseRecheck(parseEnvelope(JSON.parse(JSON.stringify(recheckEnvelope({ ...base, ...patch } as never)))));
    expect(check({})()).toMatchObject({ kind: 'recheck' });
    expect(fieldOf(check({ instanceIds: Array(MAX_RECHECK_NODES + 1).fill('i-0a1b2c3d4e5f60001') }))).toBe('detail.instanceIds');
    expect(fieldOf(check({ targetGroupArns: ['arn:aws:s3:::bucket'] }))).toBe('detail.targetGroupArns');
    expect(fieldOf(check({ services: [{ namespaceId: 1, namespaceName: 'n', serviceId: 's', serviceName: 's' }] }))).toBe('detail.services');
    expect(fieldOf(check({ reason: 42 }))).toBe('detail.reason');
  });
});

describe('SQS records', () => {
  it('needs an object with a messageId and a string body; names the record otherwise', () => {
    expect(parseSqsRecord({ messageId: 'm', body: '{}' }, 0)).toEqual({ messageId: 'm', body: '{}' });
    expect(fieldOf(() => parseSqsRecord(null, 3))).toBe('Records[3]');
    expect(fieldOf(() => parseSqsRecord({ body: '{}' }, 0))).toBe('Records[0].messageId');
    expect(fieldOf(() => parseSqsRecord({ messageId: 'm', body: {} }, 1))).toBe('Records[1].body');
    expect(recordLabel({ messageId: 'm' }, 0)).toBe('m');
    expect(recordLabel(null, 2)).toBe('Records[2]');
    expect(recordLabel({ messageId: 5 }, 1)).toBe('Records[1]');
  });
});

describe('traffic contracts', () => {
  it('a destination namespace is a DNS-1123 label; times are times', () => {
    const body = JSON.parse(readFileSync(new URL('../../../events/argocd-webhook-body.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(fieldOf(() => parseDeploymentSynced({ ...body, destination: { name: 'green', namespace: 'Shop' } }, 'now'))).toBe('destination.namespace');
    expect(fieldOf(() => parseDeploymentSynced({ ...body, destination: { name: 'green\u0000' } }, 'now'))).toBe('destination.name');
    expect(fieldOf(() => parseDeploymentSynced({ ...body, receivedAt: 'soon' }, 'now'))).toBe('receivedAt');
    const step = sample('traffic-shift-step');
    expect(fieldOf(() => parseShiftState({ ...step.detail, startedAt: 'a while ago' }))).toBe('detail.startedAt');
  });
});
