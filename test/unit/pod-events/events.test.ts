import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidEventError, OutOfScopeError } from '#core/errors.ts';
import { loadPodEventsConfig } from '../../../functions/pod-events/config.ts';
import { parsePodSignal } from '../../../functions/pod-events/events.ts';

const sample = (name: string): { detail: Record<string, unknown> } & Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../events/${name}.json`, import.meta.url), 'utf8'));
const cfg = { clusterName: 'prod-eu-west-1', exporterSources: ['kubernetes-event-exporter'] };

describe('parsePodSignal', () => {
  it('accepts the forwarder samples, validated by the forwarder validator', () => {
    expect(parsePodSignal(sample('pod-terminating'), cfg)).toMatchObject({ kind: 'forwarder', detail: { podIPs: ['10.0.1.57'], reason: 'deletion' } });
    expect(parsePodSignal(JSON.stringify(sample('pod-terminating-not-ready')), cfg)).toMatchObject({ kind: 'forwarder', detail: { reason: 'not-ready' } });
  });

  it('rejects a detail-type that does not go with the reason, and every validator finding', () => {
    const e = sample('pod-terminating');
    e['detail-type'] = 'Pod Not Ready';
    expect(() => parsePodSignal(e, cfg)).toThrow(InvalidEventError);
    const bad = sample('pod-terminating');
    bad.detail = { ...bad.detail, containerPorts: [{ containerPort: 70000, protocol: 'TCP' }] };
    expect(() => parsePodSignal(bad, cfg)).toThrow(/containerPorts\[0\]\.containerPort/);
  });

  it('rejects a sparse podIPs or containerPorts (an in-process caller\'s holes) as a typed error naming the hole, not a TypeError later', () => {
    for (const [field, value, at] of [
      // eslint-disable-next-line no-sparse-arrays
      ['podIPs', [, '10.0.1.57'], 'podIPs[0]'],
      ['podIPs', new Array(1), 'podIPs[0]'],
      // eslint-disable-next-line no-sparse-arrays
      ['containerPorts', [{ containerPort: 8080, protocol: 'TCP' }, ,], 'containerPorts[1]'],
    ] as const) {
      const e = sample('pod-terminating');
      e.detail = { ...e.detail, [field]: value };
      let err: unknown;
      try {
        parsePodSignal(e, cfg);
      } catch (caught) {
        err = caught;
      }
      expect(err, `${field}: ${at}`).toBeInstanceOf(InvalidEventError);
      expect((err as InvalidEventError).message, field).toMatch(new RegExp(at.replace(/[[\]]/g, '\\$&')));
    }
  });

  it("refuses another cluster's events", () => {
    expect(() => parsePodSignal(sample('pod-terminating'), { ...cfg, clusterName: 'prod' })).toThrow(OutOfScopeError);
    expect(() => parsePodSignal(sample('kubernetes-event-exporter-killing'), cfg)).toThrow(OutOfScopeError);
  });

  it('reads the exporter Killing event, ignores other reasons and kinds', () => {
    const c = { ...cfg, clusterName: 'prod' };
    expect(parsePodSignal(sample('kubernetes-event-exporter-killing'), c)).toEqual({
      kind: 'exporter-killing', namespace: 'shop', name: 'payments-7d9f-abcde', uid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', message: 'Stopping container payments', eventId: '3b1f2c9e-7a64-4d1b-9e0f-5c2a8d7b6e41',
    });
    const node = sample('kubernetes-event-exporter-killing');
    node.detail = { ...node.detail, involvedObject: { kind: 'Node', name: 'n1' } };
    expect(parsePodSignal(node, c)).toMatchObject({ kind: 'exporter-ignored' });
    const bad = sample('kubernetes-event-exporter-killing');
    bad.detail = { ...bad.detail, involvedObject: { kind: 'Pod', namespace: 'shop', name: 'Bad Name!' } };
    expect(() => parsePodSignal(bad, c)).toThrow(/not a pod name/);
  });
});

describe('loadPodEventsConfig', () => {
  it('defaults and validates its own variables by name', () => {
    expect(loadPodEventsConfig({ CLUSTER_NAME: 'prod' })).toMatchObject({ indexTtlSeconds: 30, indexMissRefreshSeconds: 5, staleAfterSeconds: 60, exporterSources: ['kubernetes-event-exporter'], notReadyAction: 'ignore', vpcId: undefined });
    expect(() => loadPodEventsConfig({ CLUSTER_NAME: 'prod', VPC_ID: 'vpc-nope' })).toThrow(/VPC_ID/);
    expect(() => loadPodEventsConfig({ CLUSTER_NAME: 'prod', NOT_READY_ACTION: 'maybe' })).toThrow(/NOT_READY_ACTION/);
    expect(() => loadPodEventsConfig({ CLUSTER_NAME: 'prod', INDEX_TTL_SECONDS: '-1' })).toThrow(/INDEX_TTL_SECONDS/);
  });
});
