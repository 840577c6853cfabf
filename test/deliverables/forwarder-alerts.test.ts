/**
 * The forwarder's PrometheusRule (infra/k8s/forwarder/components/service-monitor) reads only series the
 * forwarder exposes: a renamed metric would leave an alert that never fires, which is worse than none. The
 * series come from the forwarder's own /metrics rendering (functions/pod-forwarder/metrics.ts); the rule's
 * schema is checked with every other manifest (kustomize.test.ts), and test/integration/pod-forwarder
 * triggers `publish_failing` and the failed counter against the fake EventBridge.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ForwarderMetrics } from '../../functions/pod-forwarder/metrics.ts';

const rule = parse(readFileSync(new URL('../../infra/k8s/forwarder/components/service-monitor/prometheusrule.yaml', import.meta.url), 'utf8')) as {
  kind: string;
  spec: { groups: { rules: { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] };
};
const rules = rule.spec.groups.flatMap((g) => g.rules);
const exposed = new Set([...new ForwarderMetrics().render().matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
const service = parse(readFileSync(new URL('../../infra/k8s/forwarder/base/service.yaml', import.meta.url), 'utf8')) as { metadata: { name: string } };

describe('the forwarder\'s alerts', () => {
  it('alert on publish failures, lost events and no forwarder up, each with a severity and a runbook', () => {
    expect(rules.map((r) => r.alert)).toEqual(['QuiesceForwarderPublishFailing', 'QuiesceForwarderEventsLost', 'QuiesceForwarderDown']);
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels['severity']);
      expect(r.annotations['runbook'], r.alert).toBe(`docs/operations.md#${r.alert.toLowerCase()}`);
    }
  });

  it('read only series the forwarder exposes (and `up`), of the job its Service names', () => {
    for (const r of rules) {
      const series = [...r.expr.matchAll(/\b([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1]!);
      expect(series.length, r.alert).toBeGreaterThan(0);
      for (const s of series) expect(s === 'up' || exposed.has(s), `${r.alert}: ${s}`).toBe(true);
      for (const job of r.expr.matchAll(/job="([^"]+)"/g)) expect(job[1], r.alert).toBe(service.metadata.name);
    }
  });
});
