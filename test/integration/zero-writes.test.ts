/**
 * Dry run is a wiring choice of the write port (functions/_core/ports/writes.ts), so it can be held to one
 * rule, seen in the fake AWS's call log of every API it serves (each operation classified read or write,
 * test/fakes/aws/operations.ts):
 *
 * - `quiesce plan` of every sample in events/ (and of the messages quiesce sends itself: a re-check, a
 *   scheduled change's due message), `quiesce sweep --dry-run` and `quiesce apply --dry-run` make no write
 *   call at all, of any API, audit included;
 * - every trigger's handler with DRY_RUN=true makes none but the documented one, the audit records
 *   (PutEvents of "Deregistration Plan Applied" / "Event Rejected"), while its stages run their live path:
 *   the writes they would have made (deregistrations, leases, lifecycle completions, re-checks, schedules,
 *   the failover's weights, a shift's lock and step, a sweep's cursor, scope and registration index, the
 *   spot trigger's node scan log) are in the port's record instead. The telemetry items and the dry-run
 *   ledger's own keys (harness.ts) are the exceptions a deployed dry run writes.
 *
 * The account is set up so that every write path is reachable: the guard across writers (STATE_TABLE), the
 * re-check queue, one-time schedules of scheduled changes, the weighted-rule failover (a rule whose web group
 * the spot node's loss takes below its minimum) with its restore schedule, and traffic plans.
 */
import { readdirSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RecordedWrite } from '#core/ports/writes.ts';
import { ExitCode } from '../../functions/cli/main.ts';
import { triggerOf } from '../../functions/cli/triggers.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import type { CallRecord } from '../fakes/aws/server.ts';
import { NODES } from '../fakes/topology.ts';
import { WEBHOOK_TOKEN } from '../fakes/traffic.ts';
import { runCli } from './cli-run.ts';
import { buildHandlers, seedEveryWritePath, startFakeKube, type World } from './handlers.ts';
import { isAuditOnly, isDryRunLedger, isTelemetryItem, isTelemetryOnly, writeLog } from './harness.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'quiesce-zero-writes-'));
const samples = readdirSync(join(root, 'events')).filter((f) => f.endsWith('.json')).sort();
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(root, 'events', name), 'utf8')) as Record<string, unknown>;
const sqs = (...bodies: unknown[]) => ({ Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: typeof b === 'string' ? b : JSON.stringify(b), eventSource: 'aws:sqs' })) });
const started = startFakeKube();
const { address } = started;

let world: World;
let env: Record<string, string>;
let rule: string;
let uids: ReadonlyMap<string, string>;

beforeEach(() => {
  ({ world, env, rule, uids } = seedEveryWritePath(started));
});

/** The write calls since `from` (an index into the call log). */
const writesSince = (from: number): CallRecord[] => writeLog().filter((r) => fakeAws.calls.records.indexOf(r) >= from);
const describeCalls = (calls: readonly CallRecord[]): string[] => calls.map((c) => `${c.service}.${c.operation}`);
const operations = (recorded: readonly RecordedWrite[]): Set<string> => new Set(recorded.map((r) => `${r.service}.${r.operation}`));

describe('quiesce plan, sweep --dry-run and apply --dry-run write nothing at all', () => {
  const run = (argv: string[]): Promise<{ code: ExitCode; out: string; err: string }> => runCli(argv, env);
  const file = (name: string, value: unknown): string => {
    const p = join(tmp, name);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };

  it('on every sample in events/: no write call of any API', async () => {
    expect(samples.length).toBeGreaterThanOrEqual(20);
    const looked: string[] = [];
    for (const name of samples) {
      const from = fakeAws.calls.records.length;
      const r = await run(['plan', join(root, 'events', name)]);
      expect([ExitCode.ok, ExitCode.refused], `${name}: exit ${r.code}\n${r.out}${r.err}`).toContain(r.code);
      if (fakeAws.calls.records.length > from) looked.push(name);
      expect(describeCalls(writesSince(from)), `${name} wrote`).toEqual([]);
    }
    // Only what is refused or ignored on its face is answered without a look at the account (the test
    // notifications, the pod samples of another cluster, a rebalance recommendation by default): the rest
    // were planned for real.
    expect(samples.filter((s) => !looked.includes(s))).toEqual([
      'asg-test-notification-sns.json',
      'asg-test-notification-sqs-direct.json',
      'asg-test-notification.json',
      'pod-terminating-not-ready.json',
      'pod-terminating.json',
      'rebalance-recommendation.json',
    ]);
  });

  it('on the messages quiesce sends itself, taken from a live run: a re-check round and a scheduled change due', async () => {
    const { handlers } = buildHandlers(address(), { world, env });
    await handlers['spot-interruption'](sample('spot-interruption-warning.json'));
    const [recheck] = fakeAws.sqs.pending(world.topology.recheckQueueUrl);
    const soon = { ...sample('health-scheduled-change.json'), detail: { ...(sample('health-scheduled-change.json')['detail'] as object), startTime: 'Sat, 21 Nov 2026 12:05:00 GMT', endTime: 'Sat, 21 Nov 2026 13:00:00 GMT' } };
    await handlers['spot-interruption'](soon);
    const due = fakeAws.sqs.pending(world.topology.recheckQueueUrl).find((m) => m.Body.includes('Scheduled Change Due'));
    expect(recheck?.Body).toContain('Re-registration Check');
    expect(due).toBeDefined();
    for (const [name, body] of [['re-check', recheck!.Body], ['scheduled change due', due!.Body]] as const) {
      const from = fakeAws.calls.records.length;
      const r = await run(['plan', file(`${name}.json`, JSON.parse(body))]);
      expect([ExitCode.ok, ExitCode.refused], `${name}: exit ${r.code}\n${r.out}${r.err}`).toContain(r.code);
      expect(r.out, name).toMatch(/Plan \S+ \(spot-interruption\)/);
      expect(describeCalls(writesSince(from)), `${name} wrote`).toEqual([]);
    }
  });

  it('quiesce sweep --dry-run and quiesce apply --dry-run', async () => {
    for (const argv of [['sweep', '--dry-run'], ['apply', join(root, 'events', 'spot-interruption-warning.json'), '--dry-run', '--yes'], ['apply', join(root, 'events', 'scheduled-sweep.json'), '--dry-run', '--yes']]) {
      const from = fakeAws.calls.records.length;
      const r = await run(argv);
      expect([ExitCode.ok, ExitCode.refused], `${argv.join(' ')}: exit ${r.code}\n${r.out}${r.err}`).toContain(r.code);
      expect(fakeAws.calls.records.length).toBeGreaterThan(from);
      expect(describeCalls(writesSince(from)), `${argv.join(' ')} wrote`).toEqual([]);
    }
  });
});

describe('every trigger with DRY_RUN=true: no write but the audit records, and every stage runs', () => {
  /** Invokes and returns the write calls it made that are not audit records (must be none), and the audit ones. */
  async function dry(invoke: () => Promise<unknown>): Promise<{ result: unknown; writes: string[]; audit: number }> {
    const from = fakeAws.calls.records.length;
    const result = await invoke().catch((err: unknown) => ({ threw: String(err) }));
    const calls = writesSince(from);
    return { result, writes: describeCalls(calls.filter((c) => !isTelemetryOnly(c) && !isDryRunLedger(c))), audit: calls.filter(isAuditOnly).length };
  }

  it('spot interruption: every node-signal sample, direct and through SQS, then the re-check and the due message it recorded', async () => {
    const { handlers, deps } = buildHandlers(address(), { world, env: { ...env, DRY_RUN: 'true' } });
    const spot = handlers['spot-interruption'];
    const nodeSamples = samples.filter((s) => triggerOf(sample(s), []) === 'node');
    expect(nodeSamples.length).toBeGreaterThanOrEqual(13);
    for (const name of nodeSamples) {
      const event = sample(name);
      // An EventBridge event is invoked directly (and through the queue); a raw SQS/SNS body only through the queue.
      const deliveries = 'detail-type' in event ? [event, sqs(event)] : [sqs(event)];
      for (const delivery of deliveries) {
        const out = await dry(() => spot(delivery));
        expect(out.writes, `${name}: ${JSON.stringify(out.result)}`).toEqual([]);
        expect(out.result, name).not.toHaveProperty('threw');
      }
    }
    const recorded = deps.spot.aws.writes.recorded();
    expect(deps.spot.aws.writes.mode).toBe('recording');
    // What the live path writes, recorded: deregistrations, the lifecycle hook, the re-check, a scheduled
    // change (schedule + state), and the failover (weights, originals, its restore schedule).
    expect([...operations(recorded)].sort()).toEqual(
      expect.arrayContaining([
        'autoscaling.CompleteLifecycleAction',
        'dynamodb.PutItem',
        'elasticloadbalancing.DeregisterTargets',
        'elasticloadbalancing.ModifyRule',
        'scheduler.CreateSchedule',
        'servicediscovery.DeregisterInstance',
        'sqs.SendMessage',
      ]),
    );
    // The leases were taken for real, in the dry-run ledger's own keys (no live writer looks there).
    const ledgers = fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk?: { S?: string } }).pk?.S ?? '').filter((k) => k.includes('guard#'));
    expect(ledgers.length).toBeGreaterThan(0);
    expect(ledgers.every((k) => k.startsWith('dry-run#guard#'))).toBe(true);
    // The rounds quiesce would have sent itself, fed back: they run, and write nothing either.
    const sent = recorded.filter((r) => r.operation === 'SendMessage').map((r) => (r.request as { MessageBody: string }).MessageBody);
    const scheduled = recorded.filter((r) => r.operation === 'CreateSchedule' && (r.request as { Target: { Input?: string } }).Target.Input?.includes('Scheduled Change Due')).map((r) => (r.request as { Target: { Input: string } }).Target.Input);
    expect(sent.some((b) => b.includes('Re-registration Check'))).toBe(true);
    expect(scheduled).toHaveLength(1);
    const recheck = sent.find((b) => b.includes('Re-registration Check'))!;
    // Each delivered as it would arrive: the re-check from the function's own role (the handlers sign as a
    // session of the fake's default role, INTERNAL_SENDER_IDS), the due message from the Scheduler's role.
    const senders = { recheck: 'test', due: fakeAws.iam.assumeRole(env['SCHEDULED_CHANGE_ROLE_ARN']!, 'scheduler') };
    for (const [when, body, sender] of [[0, recheck, senders.recheck], [3 * 3600_000, scheduled[0]!, senders.due]] as const) {
      fakeAws.clock.advance(when);
      const before = deps.spot.aws.writes.recorded().length;
      fakeAws.sqs.sendAs(sender, world.topology.recheckQueueUrl, body);
      const delivery = fakeAws.sqs.lambdaEvent(world.topology.recheckQueueUrl);
      expect(delivery.Records).toHaveLength(1);
      const out = await dry(() => spot(delivery));
      expect(out.writes, body.slice(0, 120)).toEqual([]);
      expect(out.result).toEqual({ batchItemFailures: [] });
      expect(deps.spot.aws.writes.recorded().length, `${body.slice(0, 80)}: its round recorded no write`).toBeGreaterThan(before);
    }
    // Nothing changed: no target drains, the rule keeps its weights, nothing is scheduled or queued.
    expect(fakeAws.elbv2.targets(world.topology.tg.web).map((t) => t.state).sort()).toEqual(['healthy', 'healthy', 'healthy', 'unhealthy']);
    const weights = (fakeAws.elbv2.handle('DescribeRules', { RuleArns: [rule] }) as { Rules: { Actions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }[] }).Rules[0]!.Actions[0]!.ForwardConfig.TargetGroups.map((g) => g.Weight);
    expect(weights).toEqual([50, 50]);
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    expect(fakeAws.sqs.pending(world.topology.recheckQueueUrl)).toEqual([]);
  });

  it('spot interruption: the second look at a dying state change EC2 does not confirm yet is recorded, and fed back from the function\'s role it runs', async () => {
    const { handlers, deps } = buildHandlers(address(), { world, env: { ...env, DRY_RUN: 'true' } });
    const spot = handlers['spot-interruption'];
    const queue = world.topology.recheckQueueUrl;
    const change = { version: '0', id: 'sc-dry-run', 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', account: '123456789012', time: new Date(fakeAws.clock.now()).toISOString(), region: 'us-east-1', resources: [], detail: { 'instance-id': NODES.other, state: 'shutting-down' } };
    const secondLooks = (): string[] =>
      deps.spot.aws.writes
        .recorded()
        .filter((r) => r.operation === 'SendMessage')
        .map((r) => (r.request as { MessageBody: string }).MessageBody)
        .filter((b) => b.includes('lookAgain'));
    const deregistrations = (): number => deps.spot.aws.writes.recorded().filter((r) => r.operation === 'DeregisterTargets').length;
    // EventBridge was faster than DescribeInstances: EC2 still answers running, so the change is looked at again.
    const first = await dry(() => spot(change));
    expect(first.writes).toEqual([]);
    expect(first.result).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/looked at again in 5 s/) });
    expect(secondLooks()).toHaveLength(1);
    expect(fakeAws.sqs.pending(queue)).toEqual([]);
    // EC2 has caught up; the second look arrives as the function's own message would (its role's SenderId).
    fakeAws.ec2.setInstanceState(NODES.other, 'shutting-down');
    fakeAws.clock.advance(5_000);
    fakeAws.sqs.sendAs('test', queue, secondLooks()[0]!);
    const before = deregistrations();
    const second = await dry(() => spot(fakeAws.sqs.lambdaEvent(queue)));
    expect(second.writes).toEqual([]);
    expect(second.result).toEqual({ batchItemFailures: [] });
    expect(deregistrations()).toBeGreaterThan(before);
    expect(fakeAws.elbv2.targets(world.topology.tg.web).find((t) => t.id === '10.0.3.11')?.state).toBe('healthy');
  });

  it('the audit records are published in a dry run, and say so', async () => {
    const { handlers } = buildHandlers(address(), { world, env: { ...env, DRY_RUN: 'true' } });
    const out = await dry(() => handlers['spot-interruption'](sample('spot-interruption-warning.json')));
    expect(out.result).toMatchObject({ status: 'dry-run' });
    expect(out.writes).toEqual([]);
    expect(out.audit).toBeGreaterThan(0);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { dryRun: boolean; trigger: string });
    expect(audit.length).toBeGreaterThan(0);
    for (const a of audit) expect(a.dryRun, a.trigger).toBe(true);
  });

  it('pod events, the sweeper, the deploy webhook and the traffic shift', async () => {
    const { handlers, deps } = buildHandlers(address(), { world, env: { ...env, DRY_RUN: 'true' } });
    const now = new Date(fakeAws.clock.now());
    const uid = uids.get('payments-7d9f-abcde');
    // The pod is terminating in the cluster, as the event says: pod-events confirms a claim there before it acts.
    started.kube.markTerminating('shop', 'payments-7d9f-abcde', 30);
    const ours: Record<string, unknown> = { ...sample('pod-terminating.json'), time: now.toISOString() };
    ours['detail'] = { ...(ours['detail'] as object), cluster: 'prod', name: 'payments-7d9f-abcde', uid, podIPs: ['10.0.1.12'], containerPorts: [], deletionTimestamp: new Date(now.getTime() + 30_000).toISOString(), observedAt: now.toISOString() };
    const webhook = (name: string) => ({ version: '2.0', rawPath: '/', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(sample(name)), isBase64Encoded: false });
    const cases: [string, () => Promise<unknown>, unknown][] = [
      ['pod-terminating (this cluster)', () => handlers['pod-events'](ours), { status: 'dry-run' }],
      ...samples.filter((s) => triggerOf(sample(s), ['kubernetes-event-exporter']) === 'pod').map((s): [string, () => Promise<unknown>, unknown] => [s, () => handlers['pod-events'](sample(s)), expect.anything()]),
      ['scheduled-sweep.json', () => handlers.sweeper(sample('scheduled-sweep.json')), { status: 'dry-run' }],
      ['argocd-webhook-body.json', () => handlers['deploy-webhook'](webhook('argocd-webhook-body.json')), { statusCode: 202 }],
      ['argocd-webhook-body-multi-source.json', () => handlers['deploy-webhook'](webhook('argocd-webhook-body-multi-source.json')), expect.anything()],
      ['deployment-synced.json', () => handlers['traffic-shift'](sample('deployment-synced.json')), { status: 'step-applied', step: 1, percent: 10 }],
      ['traffic-shift-step.json', () => handlers['traffic-shift'](sample('traffic-shift-step.json')), expect.anything()],
      ['failover check', () => handlers['traffic-shift']({ ...sample('deployment-synced.json'), 'detail-type': 'Weighted Rule Failover Check', detail: { targetGroupArns: [world.traffic.tg.new] } }), { status: 'failover' }],
      ['watchdog', () => handlers['traffic-shift']({ ...sample('deployment-synced.json'), 'detail-type': 'Traffic Shift Watchdog', detail: {} }), { status: 'watchdog' }],
    ];
    for (const [name, invoke, expected] of cases) {
      const out = await dry(invoke);
      expect(out.result, name).toMatchObject(expected as object);
      expect(out.writes, `${name}: ${JSON.stringify(out.result)}`).toEqual([]);
    }
    // The shift ran its live path on the recording port: claimed, locked, announced, wrote and verified step 1,
    // recorded its progress and scheduled step 2; none of it reached AWS.
    expect([...operations(deps.traffic.writes.recorded())].sort()).toEqual(['dynamodb.PutItem', 'dynamodb.UpdateItem', 'elasticloadbalancing.ModifyRule', 'events.PutEvents', 'scheduler.CreateSchedule']);
    expect(deps.pod.executor.mode).toBe('recording');
    expect(deps.sweeper.aws.writes.mode).toBe('recording');
    expect(fakeAws.scheduler.schedules()).toEqual([]);
    // Only the telemetry items (the forwarder's heartbeat, the sweeper's deadline) are in the table: live in a dry run too.
    // and the dry-run ledger (its own keys), where only dry runs look.
    expect(fakeAws.dynamodb.items('quiesce-state').filter((i) => !isTelemetryItem(i as { pk?: { S?: string } }) && !((i as { pk?: { S?: string } }).pk?.S ?? '').startsWith('dry-run#'))).toEqual([]);
  });

  it('at scale (STATE_TABLE): a sweep spanning invocations reads every owned group once over its slices and writes none of its cursor, scope or index; the spot scan log and the scope are recorded too', async () => {
    // The failover off: its own reads of the rule's groups would mix with the sweep's.
    const dryEnv = { ...env, DRY_RUN: 'true', SWEEP_GROUPS_PER_RUN: '2', FAILOVER_LISTENER_ARNS: '' };
    const { handlers, deps } = buildHandlers(address(), { world, env: dryEnv });
    type Tick = { status: string; progress?: { slice: number; done: boolean; groupsRead: number; completed?: { groups: number; slices: number } } };
    const readBySlice: string[][] = [];
    let last: Tick | undefined;
    for (let i = 0; i < 20 && !last?.progress?.done; i++) {
      const from = fakeAws.calls.records.length;
      const out = await dry(() => handlers.sweeper(sample('scheduled-sweep.json')));
      expect(out.writes, JSON.stringify(out.result)).toEqual([]);
      // A slice may end degraded (this world's pods do not cover every group: ClusterUnavailableError); it
      // still moved the cursor on, as a live one does.
      if ((out.result as Tick).progress) last = out.result as Tick;
      const read = fakeAws.calls.records.slice(from).filter((c) => c.operation === 'DescribeTargetHealth').map((c) => String(c.input?.['TargetGroupArn']));
      if (read.length > 0) readBySlice.push([...new Set(read)]);
      fakeAws.clock.advance(120_000);
    }
    // Several slices, each group read in one of them only, every owned group read: the sweep completed in memory.
    const completed = last?.progress?.completed;
    expect(completed?.slices).toBeGreaterThan(1);
    expect(readBySlice).toHaveLength(completed!.slices);
    const all = readBySlice.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(completed!.groups);
    // What a live sweep keeps in the state table was recorded, not written.
    const keysRecorded = (recorded: readonly RecordedWrite[]): string[] => recorded.map((r) => String(((r.request as { Item?: { pk?: { S?: string } } }).Item?.pk?.S ?? '').replace(/#.*/, '#')));
    expect(keysRecorded(deps.sweeper.aws.writes.recorded())).toEqual(expect.arrayContaining(['sweep-cursor#', 'scope#', 'regidx#']));
    const table = (): string[] => fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S);
    expect(table().filter((k) => /^(sweep-cursor|scope|regidx)#/.test(k))).toEqual([]);
    // The deadline is telemetry, written live: the dry run's completed sweep is known to the alarm.
    expect(table()).toContain('sweep-done#prod');
    // A new container does not find the recorded cursor: its sweep starts again from the first slice.
    const fresh = buildHandlers(address(), { world, env: dryEnv });
    expect(((await dry(() => fresh.handlers.sweeper(sample('scheduled-sweep.json')))).result as Tick).progress).toMatchObject({ slice: 1, done: false });

    // The spot trigger without the cluster's candidates: the full scan, logged per node. The dry run records
    // the log (and answers its own later rounds from it); nothing of it reaches the table.
    const spot = buildHandlers(address(), { world, env: { ...dryEnv, CLUSTER_CANDIDATES: 'false' } });
    const out = await dry(() => spot.handlers['spot-interruption'](sample('spot-interruption-warning.json')));
    expect(out.writes).toEqual([]);
    expect(out.result).toMatchObject({ status: 'dry-run' });
    expect(keysRecorded(spot.deps.spot.aws.writes.recorded())).toContain('nodescan#');
    // Its redelivery in the same container reads the recorded log: the groups looked at are not described again.
    const described = (): number => fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth');
    const before = described();
    expect((await dry(() => spot.handlers['spot-interruption'](sample('spot-interruption-warning.json')))).writes).toEqual([]);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { candidates?: { alreadyLooked?: number; groupsDescribed: number } });
    expect(audit.at(-1)?.candidates?.alreadyLooked).toBeGreaterThan(0);
    expect(described() - before).toBe(audit.at(-1)?.candidates?.groupsDescribed);
    expect(table().filter((k) => /^(nodescan|scope|regidx)#/.test(k))).toEqual([]);
  });
});
