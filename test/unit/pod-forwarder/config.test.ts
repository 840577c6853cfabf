import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../functions/pod-forwarder/config.ts';

const base = { CLUSTER_NAME: 'prod-eu', EVENT_BUS_NAME: 'quiesce' };

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig(base)).toEqual({
      clusterName: 'prod-eu',
      eventBusName: 'quiesce',
      queueMax: 10_000,
      batchMaxWaitMs: 100,
      forwardNotReady: false,
      namespaces: undefined,
      labelSelector: undefined,
      metricsPort: 8080,
      healthStaleSeconds: 60,
      shutdownTimeoutMs: 20_000,
      publishUnhealthySeconds: 60,
    });
  });

  it('parses every variable', () => {
    const c = loadConfig({
      ...base,
      EVENT_BUS_NAME: 'arn:aws:events:eu-west-1:123456789012:event-bus/quiesce',
      QUEUE_MAX: '500',
      BATCH_MAX_WAIT_MS: '0',
      FORWARD_NOT_READY: 'TRUE',
      NAMESPACES: 'shop, payments,,shop',
      LABEL_SELECTOR: 'app in (web,api)',
      METRICS_PORT: '9100',
      PUBLISH_UNHEALTHY_SECONDS: '30',
    });
    expect(c).toMatchObject({ queueMax: 500, batchMaxWaitMs: 0, forwardNotReady: true, namespaces: ['shop', 'payments'], labelSelector: 'app in (web,api)', metricsPort: 9100, publishUnhealthySeconds: 30 });
  });

  it('reports every problem at once, by variable name', () => {
    try {
      loadConfig({ QUEUE_MAX: '0', BATCH_MAX_WAIT_MS: 'soon', FORWARD_NOT_READY: 'yes', NAMESPACES: 'Shop_1', METRICS_PORT: '70000', PUBLISH_UNHEALTHY_SECONDS: '0' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of ['CLUSTER_NAME', 'EVENT_BUS_NAME', 'QUEUE_MAX', 'BATCH_MAX_WAIT_MS', 'FORWARD_NOT_READY', 'NAMESPACES', 'METRICS_PORT', 'PUBLISH_UNHEALTHY_SECONDS']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('rejects a malformed bus', () => {
    expect(() => loadConfig({ ...base, EVENT_BUS_NAME: 'arn:aws:sqs:eu-west-1:1:q' })).toThrow(/EVENT_BUS_NAME/);
  });
});
