/**
 * The forwarder's counters, rendered in the Prometheus text format. Hand-rolled (eight series) rather than a
 * client library: the image stays small and there is no registry to share. The names are part of the
 * operational contract (dashboards, alerts) and follow Prometheus' naming: the `quiesce_forwarder_` prefix,
 * `_total` on every counter, none on the gauge. quiesce_forwarder_events_failed_total and
 * quiesce_forwarder_events_dropped_total are the "we lost a signal" alarms; quiesce_forwarder_publish_failing is
 * 1 while PutEvents has failed for PUBLISH_UNHEALTHY_SECONDS with nothing accepted since (the pod is then not
 * ready). The alerts on them ship as a PrometheusRule in the service-monitor component.
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
  /** When PutEvents last accepted an entry (Unix seconds); 0 before the first. */
  lastPublishSeconds = 0;
  /** 1 while publishing has failed for PUBLISH_UNHEALTHY_SECONDS (the pod is not ready), else 0; read at scrape time. */
  publishFailing: () => 0 | 1 = () => 0;

  /** The Prometheus text exposition (version 0.0.4) of every series. */
  render(): string {
    const series: [string, 'counter' | 'gauge', string, number][] = [
      ['events_sent', 'counter', 'Pod events accepted by EventBridge PutEvents.', this.eventsSent],
      ['events_failed', 'counter', 'Pod events given up on after bounded retries or a permanent error.', this.eventsFailed],
      ['events_dropped', 'counter', 'Pod events dropped because the queue was full (oldest first).', this.eventsDropped],
      ['queue_depth', 'gauge', 'Pod events waiting to be published.', this.queueDepth()],
      ['watch_restarts', 'counter', 'Pod watch connections that ended and were restarted.', this.watchRestarts],
      ['relists', 'counter', 'Full pod lists (initial and after 410 Gone).', this.relists],
      ['last_publish_timestamp_seconds', 'gauge', 'When PutEvents last accepted a pod event (Unix seconds; 0 = never).', this.lastPublishSeconds],
      ['publish_failing', 'gauge', 'Whether PutEvents has failed for PUBLISH_UNHEALTHY_SECONDS with nothing accepted since (1: the pod is not ready).', this.publishFailing()],
    ];
    return series
      .map(([base, type, help, value]) => {
        const name = `${METRIC_PREFIX}${base}${type === 'counter' ? '_total' : ''}`;
        return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
      })
      .join('');
  }
}
