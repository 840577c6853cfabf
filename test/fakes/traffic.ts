/**
 * The migration topology for the traffic shift, shared by its tests and `npm start`: one ALB listener with a
 * terraform-managed rule whose forward action weights the OLD cluster's target group (100) against the NEW
 * cluster's (0) plus a third, unrelated group (a static error page at weight 0) and stickiness on, so a
 * test can see that a write preserved everything but the weights; plus an LBC-managed rule to refuse.
 */
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { createLogger } from '#core/telemetry.ts';
import { parseTrafficPlans, loadTrafficConfig, type TrafficConfig } from '../../functions/traffic-shift/config.ts';
import type { TrafficDeps } from '../../functions/traffic-shift/deps.ts';
import { buildTrafficDeps } from '../../functions/traffic-shift/wiring.ts';
import type { FakeAws } from './aws/index.ts';

/** ARNs of the traffic topology. */
export interface TrafficTopology {
  readonly listenerArn: string;
  readonly ruleArn: string;
  readonly lbcRuleArn: string;
  readonly tg: { old: string; new: string; errors: string; lbcOld: string; lbcNew: string };
  readonly bus: string;
  readonly busArn: string;
  readonly table: string;
  readonly tokenParameter: string;
}

export const WEBHOOK_TOKEN = 's3cr3t-shared-token-0123456789abcdef';

/** Seeds the traffic topology into a (reset) fake. */
export function seedTrafficTopology(fake: FakeAws): TrafficTopology {
  const lb = fake.elbv2.seedLoadBalancer({ name: 'shop-alb', vpcId: 'vpc-0123456789abcdef0' });
  const ip = (n: number, base: string): { id: string; port: number }[] => Array.from({ length: n }, (_, i) => ({ id: `${base}.${i + 10}`, port: 8080 }));
  const old = fake.elbv2.seedTargetGroup({ name: 'shop-blue', port: 8080, targets: ip(3, '10.0.1') });
  const neu = fake.elbv2.seedTargetGroup({ name: 'shop-green', port: 8080, targets: ip(3, '10.0.2') });
  const errors = fake.elbv2.seedTargetGroup({ name: 'shop-errors', port: 8080, targets: ip(1, '10.0.3') });
  const lbcOld = fake.elbv2.seedTargetGroup({ name: 'k8s-shop-old', port: 8080, targets: ip(1, '10.0.4') });
  const lbcNew = fake.elbv2.seedTargetGroup({ name: 'k8s-shop-new', port: 8080, targets: ip(1, '10.0.5') });
  const listenerArn = fake.elbv2.seedListener({ loadBalancerArn: lb, port: 443, protocol: 'HTTPS' });
  const ruleArn = fake.elbv2.seedRule({ listenerArn, priority: 10, targetGroups: [{ arn: old, weight: 100 }, { arn: neu, weight: 0 }, { arn: errors, weight: 0 }] });
  // Stickiness on the forward action: a write must keep it.
  fake.elbv2.handle('ModifyRule', {
    RuleArn: ruleArn,
    Actions: [
      {
        Type: 'forward',
        Order: 1,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: old, Weight: 100 }, { TargetGroupArn: neu, Weight: 0 }, { TargetGroupArn: errors, Weight: 0 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
        },
      },
    ],
  });
  const lbcRuleArn = fake.elbv2.seedRule({
    listenerArn,
    priority: 20,
    targetGroups: [{ arn: lbcOld, weight: 100 }, { arn: lbcNew, weight: 0 }],
    tags: { 'ingress.k8s.aws/stack': 'shop/shop-ingress' },
  });
  const bus = 'quiesce-audit';
  if (fake.events.published(bus).length === 0) {
    try {
      fake.events.handle('CreateEventBus', { Name: bus });
    } catch {
      // Already there (seeded with the spot topology).
    }
  }
  const busArn = `arn:aws:events:us-east-1:123456789012:event-bus/${bus}`;
  const table = 'quiesce-state';
  try {
    fake.dynamodb.seedTable(table);
  } catch {
    // Already there (seeded with the spot topology: one state table per deployment).
  }
  const tokenParameter = '/quiesce/webhook-token';
  fake.ssm.putParameter(tokenParameter, WEBHOOK_TOKEN, 'SecureString');
  return { listenerArn, ruleArn, lbcRuleArn, tg: { old, new: neu, errors, lbcOld, lbcNew }, bus, busArn, table, tokenParameter };
}

/** The traffic plans document of the topology (what terraform would render). */
export function trafficPlansJson(t: TrafficTopology, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apps: {
      shop: { ruleArn: t.ruleArn, from: t.tg.old, to: t.tg.new, steps: [10, 50, 100], pauseSeconds: 300, gate: { minHealthyTargets: 2 }, destination: 'green', ...overrides },
      'shop-lbc': { ruleArn: t.lbcRuleArn, from: t.tg.lbcOld, to: t.tg.lbcNew, steps: [50, 100], pauseSeconds: 60 },
    },
  });
}

/** The function's environment against the topology. */
export function trafficEnv(t: TrafficTopology, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TRAFFIC_PLANS: trafficPlansJson(t),
    STATE_TABLE: t.table,
    EVENT_BUS: t.bus,
    STEP_EVENT_BUS_ARN: t.busArn,
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/quiesce-scheduler',
    VERIFY_ATTEMPTS: '3',
    VERIFY_INTERVAL_MS: '500',
    ...extra,
  };
}

/** Traffic deps against the fake: time is the fake clock; verification waits advance it. */
export function trafficDeps(fake: FakeAws, t: TrafficTopology, env: Record<string, string> = {}, config?: TrafficConfig): TrafficDeps {
  const cfg = config ?? loadTrafficConfig(trafficEnv(t, env));
  return buildTrafficDeps('traffic-shift', {
    config: cfg,
    clients: createAwsClients(),
    logger: createLogger('traffic-shift'),
    now: () => new Date(fake.clock.now()),
    sleep: async (ms) => fake.clock.advance(ms),
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
  });
}

export { parseTrafficPlans };
