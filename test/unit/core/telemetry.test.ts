/**
 * Every metric carries the stage as a dimension when the stack sets QUIESCE_STAGE: several stages share an
 * account, and each stage's alarms and dashboard (infra/serverless/alarms.yml, dashboard.yml) select
 * `service` and `stage`, so they read that stage's metrics only (test/package/stages.test.ts checks the
 * template side).
 */
import { describe, expect, it } from 'vitest';
import { createMetrics, MetricUnit } from '#core/telemetry.ts';

const dimensionsOf = (emf: ReturnType<ReturnType<typeof createMetrics>['serializeMetrics']>): { sets: string[][]; values: Record<string, unknown> } => ({
  sets: emf._aws.CloudWatchMetrics.map((m) => m.Dimensions.flat()),
  values: Object.fromEntries(Object.entries(emf).filter(([k]) => k !== '_aws')),
});

describe('createMetrics', () => {
  it('puts every metric under the dimensions service and stage when QUIESCE_STAGE is set', () => {
    const metrics = createMetrics('sweeper', { QUIESCE_STAGE: 'green' });
    metrics.addMetric('failed', MetricUnit.Count, 1);
    const emf = metrics.serializeMetrics();
    const { sets, values } = dimensionsOf(emf);
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('quiesce');
    expect(sets).toEqual([['service', 'stage']]);
    expect(values).toMatchObject({ service: 'sweeper', stage: 'green', failed: 1 });
  });

  it('keeps service alone without a stage (the CLI, the demo, the tests)', () => {
    const metrics = createMetrics('sweeper', {});
    metrics.addMetric('failed', MetricUnit.Count, 1);
    expect(dimensionsOf(metrics.serializeMetrics()).sets).toEqual([['service']]);
  });
});
