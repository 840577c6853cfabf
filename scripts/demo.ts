/**
 * `npm start`: the main job on the embedded default. Starts the fake AWS on loopback (no credentials, no
 * network), seeds a realistic topology (one ALB, target groups with pods of several nodes, a Cloud Map
 * namespace shared by two clusters, one spot node, one dual-stack node with IPv6 pods), points the SDK at it through the standard
 * AWS_ENDPOINT_URL, and replays the samples in events/ through the REAL Lambda handler module, printing
 * each plan, what the guards held back and what was done, including an AWS Health scheduled change (planned
 * for its start minus the lead, moved by an update, due through the queue). Then a cluster migration: the
 * ArgoCD webhook (wrong token, right token, a replay) and the traffic shift it starts, step by step to 100%.
 */
import { readFileSync } from 'node:fs';
import { FakeAws } from '../test/fakes/aws/index.ts';
import { NODES, PROD_ENV, seedTopology } from '../test/fakes/topology.ts';
import type { NetworkInterface } from '@aws-sdk/client-ec2';

// On Node 20 the SDK prints a notice that its 2027 releases need Node 22 (the Lambda runtime is 22); the
// demo is about quiesce, so it uses the SDK's own switch to skip it.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8'));

interface AuditDetail {
  planId: string;
  subject: string;
  dryRun: boolean;
  counts: Record<string, number>;
  warnings: string[];
  outcomes: { action: string; status: string; why?: string; error?: string }[];
  heldBack: { action: string; guard: string; reason: string }[];
}

const fake = new FakeAws();
const { endpoint } = await fake.start();
const topology = seedTopology(fake);
Object.assign(process.env, {
  AWS_ENDPOINT_URL: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'demo',
  AWS_SECRET_ACCESS_KEY: 'demo',
  LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  ...PROD_ENV,
  RECHECK_QUEUE_URL: topology.recheckQueueUrl,
  // AWS Health scheduled changes due later than 15 minutes: one-time schedules to the same queue.
  SCHEDULED_CHANGE_QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:quiesce-recheck',
  SCHEDULED_CHANGE_ROLE_ARN: 'arn:aws:iam::123456789012:role/quiesce-scheduled-change',
  // Scheduler sends the due message with a session of that role: its id is allowed to (as the stack does).
  SCHEDULED_CHANGE_SENDER_IDS: fake.iam.roleIdOf('quiesce-scheduled-change'),
});
// Imported after the environment is set, exactly as Lambda would load it. The handler is the module's own
// factory with the production wiring; only time is the fake's (AWS's "later" is a clock the demo moves: a
// Cloud Map operation settles, a re-check comes due), so the run takes seconds, not minutes.
const { makeHandler } = await import('../functions/spot-interruption/handler.ts');
const { buildNodeWorkflowDeps } = await import('../functions/spot-interruption/wiring.ts');
const spotDeps = buildNodeWorkflowDeps('spot-interruption', { now: () => new Date(fake.clock.now()), sleep: async (ms) => fake.clock.advance(ms) });
const handler = makeHandler(() => spotDeps);
const context = { functionName: 'quiesce-spot-interruption', awsRequestId: 'demo', getRemainingTimeInMillis: () => 60_000 } as never;

let seenAudit = 0;
function printAudit(): void {
  const published = fake.events.published('quiesce-audit').slice(seenAudit);
  seenAudit += published.length;
  for (const p of published) {
    const d = p.event.detail as unknown as AuditDetail;
    if (p.event['detail-type'] === 'Event Rejected') {
      console.log(`  ${bold('rejected')}: ${(p.event.detail as { error: string; message: string }).error}: ${(p.event.detail as { message: string }).message}`);
      continue;
    }
    console.log(`  plan ${dim(d.planId.slice(0, 8))} for ${d.subject}${d.dryRun ? ' (dry run)' : ''}`);
    for (const o of d.outcomes) console.log(`    ${o.status.padEnd(12)} ${o.action.padEnd(48)} ${dim(o.why ?? o.error ?? '')}`);
    for (const h of d.heldBack) console.log(`    ${('held: ' + h.guard).padEnd(12)} ${h.action.padEnd(48)} ${dim(h.reason)}`);
    for (const w of d.warnings) console.log(`    ${bold('!')} ${w}`);
    console.log(`    ${dim(Object.entries(d.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ') || 'nothing to do')}`);
  }
}

/** Delivers `event` now: EventBridge stamps `time` when it sends (an old time would be ignored as a replay). */
const now = (event: Record<string, unknown>): Record<string, unknown> => ({ ...event, time: new Date(fake.clock.now()).toISOString() });

async function replay(title: string, event: unknown): Promise<void> {
  console.log(`\n${bold(title)}`);
  const calls = fake.calls.count();
  const result = await handler(event as never, context);
  printAudit();
  console.log(`  ${dim(`handler returned ${JSON.stringify(result)}; ${fake.calls.count() - calls} AWS calls`)}`);
}

/** Every node with the address kinds its ENIs hold (what quiesce matches registrations against). */
function printNodes(): void {
  console.log(`\n${bold('Nodes')} ${dim('(their ENIs: IPv4 addresses and /28 prefixes, IPv6 addresses and /80 prefixes)')}`);
  const pick = (enis: NetworkInterface[], f: (e: NetworkInterface) => (string | undefined)[]): string[] => enis.flatMap(f).filter((x): x is string => x !== undefined);
  for (const [role, id] of Object.entries(NODES)) {
    const enis = fake.ec2.networkInterfacesOf(id);
    const v4 = pick(enis, (e) => [...(e.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress), ...(e.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix)]);
    const v6 = pick(enis, (e) => [...(e.Ipv6Addresses ?? []).map((p) => p.Ipv6Address), ...(e.Ipv6Prefixes ?? []).map((p) => p.Ipv6Prefix)]);
    console.log(`  ${id} ${role.padEnd(8)} ${(v6.length > 0 ? 'dual-stack' : 'IPv4').padEnd(11)} ${[...v4, ...v6].join(', ')}`);
  }
}

function printState(): void {
  console.log(`\n${bold('Registrations now')}`);
  for (const [name, arn] of Object.entries(topology.tg)) {
    // RFC 5952 section 6: an IPv6 target with its port is written [address]:port.
    const targets = fake.elbv2.targets(arn).map((t) => `${t.id.includes(':') ? `[${t.id}]` : t.id}:${t.port} ${t.state}`);
    console.log(`  target group ${name.padEnd(8)} ${targets.join(', ')}`);
  }
  for (const [name, id] of Object.entries(topology.services)) {
    const instances = fake.cloudMap.instancesOf(id).map((i) => `${i.Id} (ver=${i.Attributes['ver']})`);
    console.log(`  cloud map    ${name.padEnd(8)} ${instances.join(', ')}`);
  }
}

console.log(bold('quiesce demo: a fake AWS on loopback, cluster "prod", spot node ' + NODES.spot));
printNodes();
printState();

await replay('1. EC2 Spot Instance Interruption Warning for the spot node', now(sample('spot-interruption-warning')));
fake.clock.advance(5_000); // Cloud Map deregistrations are asynchronous operations

console.log(`\n${bold('2. The Load Balancer Controller registers the still-Ready pod 10.0.1.11 again')}`);
fake.elbv2.handle('RegisterTargets', { TargetGroupArn: topology.tg.web, Targets: [{ Id: '10.0.1.11' }] });
fake.clock.advance(15_000);
const due = fake.sqs.dueMessages(topology.recheckQueueUrl);
await replay(
  `   ...the re-registration guard's delayed re-check arrives through SQS (${due.length} message)`,
  fake.sqs.lambdaEventOf(topology.recheckQueueUrl, due),
);

// The dual-stack node's IPv6 pods come out of its /80: matched by containment, compared in canonical form.
const dualWarning = { ...sample('spot-interruption-warning'), id: 'demo-dual-stack', resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${NODES.dual}`], detail: { 'instance-id': NODES.dual, 'instance-action': 'terminate' } };
await replay('3. EC2 Spot Instance Interruption Warning for the dual-stack node ' + NODES.dual + ' (IPv6 pods)', now(dualWarning));
fake.clock.advance(5_000);
await replay('4. EC2 Instance Rebalance Recommendation (REBALANCE_ACTION=ignore)', now(sample('rebalance-recommendation')));
await replay('5. Auto Scaling terminate lifecycle action for ' + NODES.asg, now(sample('asg-terminate-lifecycle-action')));
console.log(`  ${dim(`lifecycle actions completed: ${JSON.stringify(fake.autoscaling.completed().map((c) => `${c.instanceId} ${c.result}`))}`)}`);

// An AWS Health scheduled change: planned, moved by an update, and due through the queue at its new time.
const health = sample('health-scheduled-change');
const schedules = (): string => JSON.stringify(fake.scheduler.schedules().map((s) => `${s.name} at ${new Date(s.at).toISOString()} -> ${s.target.Arn.split(':').pop()}`));
await replay(`6. AWS Health: ${(health['detail'] as { eventTypeCode: string }).eventTypeCode} for ${NODES.other}, starting 14:00`, now(health));
console.log(`  ${dim(`one-time schedules: ${schedules()}`)}`);
const moved = { ...health, detail: { ...(health['detail'] as object), startTime: 'Sat, 21 Nov 2026 15:00:00 GMT', endTime: 'Sat, 21 Nov 2026 17:00:00 GMT', lastUpdatedTime: 'Sat, 21 Nov 2026 12:01:00 GMT' } };
await replay('   ...an update moves the start to 15:00 (moved, not doubled)', now(moved));
console.log(`  ${dim(`one-time schedules: ${schedules()}`)}`);
const dueAt = fake.scheduler.nextDueAt() ?? fake.clock.now();
fake.clock.advance(dueAt - fake.clock.now());
fake.deliverDueSchedules(); // Scheduler sends the due message to the queue as its role
await replay(
  `   ...at ${new Date(fake.clock.now()).toISOString().slice(11, 16)} (SCHEDULED_CHANGE_LEAD_SECONDS=600 before the start) the schedule's due message arrives through SQS`,
  fake.sqs.lambdaEvent(topology.recheckQueueUrl),
);
fake.clock.advance(5_000);

fake.ec2.setInstanceState(NODES.other, 'shutting-down'); // the event says so, and EC2 agrees: acted on
await replay('7. EC2 state change: ' + NODES.other + ' shutting-down (last healthy targets)', now(sample('instance-state-change')));
await replay('8. Auto Scaling test notification', now(sample('asg-test-notification')));
await replay('9. A malformed event', { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': 'not-an-instance' } });
fake.clock.advance(5_000);
printState();

// ---- Part 2: a cluster migration. ArgoCD reports the new cluster's app synced; quiesce shifts traffic. ----
const { seedTrafficTopology, trafficDeps, trafficEnv, WEBHOOK_TOKEN } = await import('../test/fakes/traffic.ts');
const { buildWebhookDeps, makeHandler: makeWebhook } = await import('../functions/deploy-webhook/handler.ts');
const { runShiftToCompletion } = await import('../test/fakes/deliver-schedules.ts');
const traffic = seedTrafficTopology(fake);
const weights = (): string => {
  const rule = fake.elbv2.handle('DescribeRules', { RuleArns: [traffic.ruleArn] }) as { Rules: { Actions: { ForwardConfig?: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[] }[] };
  const names = new Map([[traffic.tg.old, 'blue (old cluster)'], [traffic.tg.new, 'green (new cluster)'], [traffic.tg.errors, 'errors']]);
  return (rule.Rules[0]?.Actions[0]?.ForwardConfig?.TargetGroups ?? []).map((t) => `${names.get(t.TargetGroupArn) ?? t.TargetGroupArn}=${t.Weight}`).join('  ');
};
console.log(`\n${bold('10. ArgoCD: app "shop" synced and healthy on the new cluster; the webhook is called')}`);
console.log(`  listener rule weights: ${weights()}`);
const webhook = makeWebhook(() =>
  buildWebhookDeps({
    env: { WEBHOOK_TOKEN_PARAMETER: traffic.tokenParameter, STATE_TABLE: traffic.table, EVENT_BUS: traffic.bus },
    now: () => new Date(fake.clock.now()),
  }),
);
const body = readFileSync(new URL('../events/argocd-webhook-body.json', import.meta.url), 'utf8');
const post = (token: string): Promise<unknown> =>
  webhook({ headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, isBase64Encoded: false } as never, context);
console.log(`  with a wrong token: ${JSON.stringify(await post('not-the-token'))}`);
console.log(`  with the right token: ${JSON.stringify(await post(WEBHOOK_TOKEN))}`);
console.log(`  the same revision again (ArgoCD retries): ${JSON.stringify(await post(WEBHOOK_TOKEN))}`);
const synced = fake.events.published(traffic.bus).filter((p) => p.event['detail-type'] === 'Deployment Synced');
console.log(`\n${bold('11. "Deployment Synced" drives the shift: gate, write, verify, pause (a one-time schedule), repeat')}`);
const deps = trafficDeps(fake, traffic, trafficEnv(traffic));
const steps = await runShiftToCompletion(deps, synced[0]?.event, {
  clock: fake.clock,
  scheduler: fake.scheduler,
});
for (const outcome of steps) console.log(`  ${JSON.stringify(outcome)}`);
console.log(`  listener rule weights: ${weights()}`);
const outcomes = fake.events.published(traffic.bus).filter((p) => String(p.event['detail-type']).startsWith('Traffic Shift'));
console.log(`  published: ${outcomes.map((p) => p.event['detail-type']).join(', ')}`);

console.log(`\n${dim(`AWS calls by operation: ${JSON.stringify(fake.calls.byOperation())}`)}`);
await fake.stop();
