/**
 * The forwarder's /metrics follows Prometheus naming (https://prometheus.io/docs/practices/naming/): one
 * application prefix, `_total` on counters and only on counters, HELP and TYPE before each sample.
 */
import { describe, expect, it } from 'vitest';
import { ForwarderMetrics, METRIC_PREFIX } from '../../../functions/pod-forwarder/metrics.ts';

describe('forwarder metrics naming', () => {
  it('prefixes every series with quiesce_forwarder_ and ends exactly the counters with _total', () => {
    const m = new ForwarderMetrics();
    m.eventsSent = 4;
    m.queueDepth = () => 2;
    const lines = m.render().trimEnd().split('\n');
    const types = new Map(lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ').slice(2) as [string, string]));
    expect([...types.keys()].sort()).toEqual([
      'quiesce_forwarder_events_dropped_total',
      'quiesce_forwarder_events_failed_total',
      'quiesce_forwarder_events_sent_total',
      'quiesce_forwarder_last_publish_timestamp_seconds',
      'quiesce_forwarder_publish_failing',
      'quiesce_forwarder_queue_depth',
      'quiesce_forwarder_relists_total',
      'quiesce_forwarder_watch_restarts_total',
    ]);
    for (const [name, type] of types) {
      expect(name.startsWith(METRIC_PREFIX), name).toBe(true);
      expect(name.endsWith('_total'), name).toBe(type === 'counter');
      expect(lines.some((l) => l.startsWith(`# HELP ${name} `)), name).toBe(true);
    }
    expect(lines).toContain('quiesce_forwarder_events_sent_total 4');
    expect(lines).toContain('quiesce_forwarder_queue_depth 2');
  });
});
