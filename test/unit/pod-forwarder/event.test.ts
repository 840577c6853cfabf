import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DETAIL_TYPE_POD_NOT_READY,
  DETAIL_TYPE_POD_TERMINATING,
  POD_EVENT_SOURCE,
  validatePodTerminatingDetail,
} from '#core/contracts/pod-terminating.ts';
import { podToEvent } from '../../../functions/pod-forwarder/pod.ts';
import { pod } from './pods.ts';

const sample = (file: string) => JSON.parse(readFileSync(new URL(`../../../events/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-21T12:00:00.412Z');

describe('podToEvent', () => {
  it('builds the v1 detail of a terminating pod', () => {
    const p = pod({
      ips: ['10.0.1.57', 'fd00::57'],
      ip: '10.0.1.57',
      deletionTimestamp: '2026-11-21T12:00:30Z',
      deletionGracePeriodSeconds: 30,
      labels: { app: 'web', tier: 'front' },
      ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }, { name: 'dup', containerPort: 8080 }],
    });
    expect(podToEvent(p, 'prod', NOW)).toEqual({
      version: 1,
      cluster: 'prod',
      namespace: 'shop',
      name: 'web-1',
      uid: 'uid-web-1',
      podIPs: ['10.0.1.57', 'fd00::57'],
      nodeName: 'ip-10-0-1-1.eu-west-1.compute.internal',
      containerPorts: [
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { containerPort: 53, protocol: 'UDP' },
      ],
      labels: { app: 'web', tier: 'front' },
      deletionTimestamp: '2026-11-21T12:00:30.000Z',
      gracePeriodSeconds: 30,
      reason: 'deletion',
      observedAt: '2026-11-21T12:00:00.412Z',
    });
  });

  it('falls back to status.podIP and spec.terminationGracePeriodSeconds; not-ready without deletionTimestamp', () => {
    const p = pod({ terminationGracePeriodSeconds: 45 });
    delete p.status!.podIPs;
    const d = podToEvent(p, 'prod', NOW);
    expect(d.podIPs).toEqual(['10.0.1.5']);
    expect(d.gracePeriodSeconds).toBe(45);
    expect(d.reason).toBe('not-ready');
    expect(d.deletionTimestamp).toBeNull();
  });

  it('includes native sidecar ports but not ordinary init containers', () => {
    const p = pod();
    p.spec!.initContainers = [
      { name: 'init', ports: [{ containerPort: 1111 }] },
      { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'envoy', containerPort: 15001 }] },
    ];
    expect(podToEvent(p, 'c', NOW).containerPorts.map((x) => x.containerPort)).toEqual([8080, 15001]);
  });

  it('marks host-network pods (their IP is the node\'s), and only them', () => {
    const host = pod({ deletionTimestamp: '2026-11-21T12:00:30Z' });
    host.spec = { ...host.spec!, hostNetwork: true };
    const detail = podToEvent(host, 'c', NOW);
    expect(detail.hostNetwork).toBe(true);
    expect(validatePodTerminatingDetail(detail).ok).toBe(true);
    expect('hostNetwork' in podToEvent(pod(), 'c', NOW)).toBe(false);
    expect(validatePodTerminatingDetail({ ...detail, hostNetwork: 'yes' })).toEqual({ ok: false, errors: [{ field: 'hostNetwork', message: 'must be a boolean when present' }] });
  });

  it('always produces a detail that the validator accepts', () => {
    for (const p of [pod(), pod({ deletionTimestamp: '2026-11-21T12:00:30Z' }), pod({ ports: [], labels: {} })]) {
      expect(validatePodTerminatingDetail(podToEvent(p, 'c', NOW)).ok).toBe(true);
    }
  });
});

describe('validatePodTerminatingDetail', () => {
  it('accepts the documented sample events, whose envelopes carry the documented source and detail-types', () => {
    const terminating = sample('pod-terminating.json');
    const notReady = sample('pod-terminating-not-ready.json');
    expect(terminating['source']).toBe(POD_EVENT_SOURCE);
    expect(terminating['detail-type']).toBe(DETAIL_TYPE_POD_TERMINATING);
    expect(notReady['detail-type']).toBe(DETAIL_TYPE_POD_NOT_READY);
    const r = validatePodTerminatingDetail(terminating['detail']);
    expect(r).toMatchObject({ ok: true });
    if (r.ok) expect(r.detail.podIPs).toEqual(['10.0.1.57']);
    expect(validatePodTerminatingDetail(notReady['detail']).ok).toBe(true);
  });

  it('lists every problem with its field', () => {
    const r = validatePodTerminatingDetail({
      version: 2,
      cluster: '',
      namespace: 'shop',
      name: 'web',
      uid: 'u',
      podIPs: ['10.0.1.300', 7],
      nodeName: 3,
      containerPorts: [{ containerPort: 0, protocol: 'HTTP' }, 'x'],
      labels: { a: 1 },
      deletionTimestamp: null,
      gracePeriodSeconds: -1,
      reason: 'deletion',
      observedAt: 'yesterday',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field).sort()).toEqual(
      [
        'version',
        'cluster',
        'podIPs[0]',
        'podIPs[1]',
        'nodeName',
        'containerPorts[0].containerPort',
        'containerPorts[0].protocol',
        'containerPorts[1]',
        'labels.a',
        'deletionTimestamp',
        'gracePeriodSeconds',
        'observedAt',
      ].sort(),
    );
  });

  it('rejects non-objects and missing fields', () => {
    expect(validatePodTerminatingDetail(null)).toEqual({ ok: false, errors: [{ field: '', message: 'detail must be an object' }] });
    const r = validatePodTerminatingDetail({});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.length).toBeGreaterThanOrEqual(10);
  });

  it('agrees with the JSON Schema on required fields and enums', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../events/schemas/pod-terminating.schema.json', import.meta.url), 'utf8')) as {
      $schema: string;
      required: string[];
      properties: { reason: { enum: string[] } };
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const detail = sample('pod-terminating.json')['detail'] as Record<string, unknown>;
    expect(Object.keys(detail).sort()).toEqual([...schema.required].sort());
    for (const field of schema.required) {
      const { [field]: _gone, ...rest } = detail;
      expect(validatePodTerminatingDetail(rest).ok, `missing ${field}`).toBe(false);
    }
    expect(schema.properties.reason.enum).toEqual(['deletion', 'not-ready']);
  });
});
