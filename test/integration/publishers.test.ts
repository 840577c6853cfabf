/**
 * Each function publishes only the (source, detail-type) pairs its role may put (test/package/publishers.ts,
 * which the packaged template's PutEvents conditions are checked against): the samples and a rejection run
 * through every real handler, and every event that reaches the bus, or a schedule Scheduler will put there,
 * is attributed to the handler that caused it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PUBLISHES } from '../package/publishers.ts';
import { buildHandlers, webhookHeaders, type HandlerName, startFakeKube } from './handlers.ts';

const { kube, address } = startFakeKube();

const raw = (name: string): string => readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8');
const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } => JSON.parse(raw(`${name}.json`));

const ROLE: Record<HandlerName, string> = {
  'spot-interruption': 'SpotInterruptionRole',
  'pod-events': 'PodEventsRole',
  sweeper: 'SweeperRole',
  'deploy-webhook': 'DeployWebhookRole',
  'traffic-shift': 'TrafficShiftRole',
};

describe('who publishes what', () => {
  it('every handler publishes only its own detail-types, and Scheduler only the shift steps', async () => {
    kube.reset();
    for (const [name, ip] of [['web-a', '10.0.1.11'], ['web-b', '10.0.2.11'], ['api-b', '10.0.2.12']] as const) {
      kube.addPod({ namespace: 'shop', name, ip, startTime: '2026-11-21T11:00:00Z', nodeName: 'n' });
    }
    const { handlers } = buildHandlers(address());
    const pod = sample('pod-terminating');
    pod.detail = { ...pod.detail, cluster: 'prod', namespace: 'shop', name: 'payments-7d9f-abcde', podIPs: ['10.0.1.12'] };
    const inputs: Record<HandlerName, unknown[]> = {
      'spot-interruption': [sample('spot-interruption-warning'), sample('asg-terminate-lifecycle-action'), { source: 'aws.ec2' }],
      'pod-events': [pod, null],
      sweeper: [sample('scheduled-sweep'), { Records: [] }],
      'deploy-webhook': [{ headers: webhookHeaders(), body: raw('argocd-webhook-body.json') }, null],
      'traffic-shift': [sample('deployment-synced'), { source: 'quiesce' }],
    };
    const seen = new Map<string, Set<string>>();
    let published = 0;
    for (const [name, events] of Object.entries(inputs) as [HandlerName, unknown[]][]) {
      for (const event of events) {
        await handlers[name](event).catch(() => undefined);
        const bus = fakeAws.events.published('quiesce-audit');
        for (const p of bus.slice(published)) {
          const kinds = seen.get(ROLE[name]) ?? new Set<string>();
          kinds.add(`${p.event.source}\n${p.event['detail-type']}`);
          seen.set(ROLE[name], kinds);
        }
        published = bus.length;
      }
    }
    const schedules = fakeAws.scheduler.schedules().map((s) => `${s.target.EventBridgeParameters?.Source}\n${s.target.EventBridgeParameters?.DetailType}`);
    expect(schedules.length).toBeGreaterThan(0);
    seen.set('SchedulerInvokeRole', new Set(schedules));
    for (const [role, kinds] of seen) {
      const allowed = new Set((PUBLISHES[role] ?? []).map((k) => k.join('\n')));
      for (const k of kinds) expect(allowed.has(k), `${role} published ${k.replace('\n', ' / ')}`).toBe(true);
    }
    // Every publisher was exercised, so the table is not vacuously right.
    expect([...seen.keys()].sort()).toEqual(Object.keys(PUBLISHES).filter((k) => k !== 'PodForwarderRole').sort()); // the forwarder is no Lambda handler
  });
});
