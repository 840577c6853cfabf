/**
 * The forwarder's counters, rendered in the Prometheus text format. Hand-rolled (six series) rather than a
 * client library: the image stays small and there is no registry to share. The names are part of the
 * operational contract (dashboards, alerts) and follow Prometheus' naming: the `quiesce_forwarder_` prefix,
 * `_total` on every counter, none on the gauge. quiesce_forwarder_events_failed_total and
 * quiesce_forwarder_events_dropped_total are the "we lost a signal" alarms.
 */

/** The prefix of every series. */
export const METRIC_PREFIX = 'quiesce_forwarder_';

/** Counters and gauges the forwarder exposes on /metrics. */
export class ForwarderMetrics {
  /** Entries PutEvents accepted. */
  eventsSent = 0;
  /** Entries given up on: attempts exhausted, permanent error code, oversize, or unsent at shutdown. */
  eventsFailed = 0;
  /** Entries dropped because the queue was full (oldest first). */
  eventsDropped = 0;
  /** Watch connections that ended, for any reason (server timeout, network, 410). */
  watchRestarts = 0;
  /** Full lists (initial one included): each re-list after 410 Gone costs a list of every pod. */
  relists = 0;
  /** Current queue length, read at scrape time. */
  queueDepth: () => number = () => 0;

  /** The Prometheus text exposition (version 0.0.4) of every series. */
  render(): string {
    const series: [string, 'counter' | 'gauge', string, number][] = [
      ['events_sent', 'counter', 'Pod events accepted by EventBridge PutEvents.', this.eventsSent],
      ['events_failed', 'counter', 'Pod events given up on after bounded retries or a permanent error.', this.eventsFailed],
      ['events_dropped', 'counter', 'Pod events dropped because the queue was full (oldest first).', this.eventsDropped],
      ['queue_depth', 'gauge', 'Pod events waiting to be published.', this.queueDepth()],
      ['watch_restarts', 'counter', 'Pod watch connections that ended and were restarted.', this.watchRestarts],
      ['relists', 'counter', 'Full pod lists (initial and after 410 Gone).', this.relists],
    ];
    return series
      .map(([base, type, help, value]) => {
        const name = `${METRIC_PREFIX}${base}${type === 'counter' ? '_total' : ''}`;
        return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
      })
      .join('');
  }
}
