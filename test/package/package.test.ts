/**
 * `npm run package` end to end: build + zip every function, `osls package` offline with a scrubbed
 * environment (no credentials, no endpoint), then assertions on the CloudFormation osls generates: every
 * function with its trigger and exact event pattern, per-function least-privilege roles, DLQs wired,
 * alarms present. Functions whose handler is not written yet are packaged as placeholders (and said so);
 * once every handler exists the placeholder list must be empty.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../bin/build.ts';
import { offlineEnv, type PackageResult } from '../../bin/package.ts';
import { zip } from '../../bin/zip.ts';
import { DetailType, QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import { PUBLISHES } from './publishers.ts';
import { packaged, packagedTemplate } from './packaged.ts';
import { statementsOf } from './template.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const root = new URL('../../', import.meta.url).pathname;
let result: PackageResult;
let resources: Record<string, Resource>;
let elapsedMs = 0;

/** Function key in serverless.yml -> folder under functions/ -> osls logical id prefix. */
const FUNCTION_IDS: Record<(typeof FUNCTIONS)[number], string> = {
  'spot-interruption': 'SpotInterruption',
  sweeper: 'Sweeper',
  'pod-events': 'PodEvents',
  'deploy-webhook': 'DeployWebhook',
  'traffic-shift': 'TrafficShift',
};

const ofType = (type: string): [string, Resource][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const res = (id: string): Resource => {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}; have ${Object.keys(resources).join(', ')}`);
  return r;
};
const getAtt = (v: unknown): string | undefined => ((v as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'] ?? [])[0];
const ref = (v: unknown): string | undefined => (v as { Ref?: string })?.Ref;
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Read-only IAM verbs: the only ones allowed on Resource "*". */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get|Discover)[A-Za-z]*$/;

function rulesTargeting(logicalId: string): [string, Resource][] {
  return ofType('AWS::Events::Rule').filter(([, r]) => (r.Properties['Targets'] as Json[]).some((t) => getAtt(t['Arn']) === logicalId));
}

beforeAll(async () => {
  // Packaged once per test run (packaged.ts): stage prod, placeholders allowed, into the run's scratch dir.
  const packagedStack = await packaged();
  result = packagedStack;
  elapsedMs = packagedStack.elapsedMs;
  resources = (await packagedTemplate<{ Resources: Record<string, Resource> }>()).Resources;
}, 120_000);

describe('npm run package', () => {
  it('packages offline in well under a minute, placeholders only for handlers not written yet', () => {
    // Bounded by the packaging's own timeout (90 s): seconds when idle, more when the machine is shared.
    expect(elapsedMs).toBeLessThan(90_000);
    const missing = FUNCTIONS.filter((f) => !existsSync(join(root, 'functions', f, 'handler.ts')));
    expect([...result.placeholders]).toEqual(missing);
    expect(result.built.map((b) => b.name)).toEqual([...FUNCTIONS]);
    for (const b of result.built) expect(statSync(b.zip).size).toBe(b.bytes);
    // Template bodies above 51,200 bytes must go through S3 (osls does); the hard limit is 1 MB.
    expect(result.templateBytes).toBeLessThan(1_000_000);
    console.warn(`package: ${elapsedMs} ms (build+zip ${result.buildMs} ms, osls ${result.oslsMs} ms), template ${result.templateBytes} B`);
  });

  it('gives osls no credentials and no endpoint', () => {
    const env = offlineEnv({ AWS_ACCESS_KEY_ID: 'x', AWS_ENDPOINT_URL: 'http://x', AWS_PROFILE: 'p', PATH: '/bin' });
    expect(Object.keys(env).filter((k) => k.startsWith('AWS_'))).toEqual([]);
    expect(env['PATH']).toBe('/bin');
    expect(env['SLS_TELEMETRY_DISABLED']).toBe('1');
  });

  it('bundles each written handler (an ESM module exporting `handler`) and nothing for the others', () => {
    for (const name of FUNCTIONS) {
      const bundle = join(root, 'dist', name, 'index.mjs');
      if (result.placeholders.includes(name)) continue;
      expect(readFileSync(bundle, 'utf8')).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b|export const handler/);
    }
  });
});

describe('functions', () => {
  it('has all five, each on nodejs22.x arm64 with its own role and its prebuilt zip', () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.map(([id]) => id).sort()).toEqual(Object.values(FUNCTION_IDS).map((id) => `${id}LambdaFunction`).sort());
    const roles = new Set<string>();
    for (const [name, id] of Object.entries(FUNCTION_IDS)) {
      const p = res(`${id}LambdaFunction`).Properties;
      expect(p['Runtime']).toBe('nodejs22.x');
      expect(p['Architectures']).toEqual(['arm64']);
      expect(p['Handler']).toBe('index.handler');
      expect(p['FunctionName']).toBe(`quiesce-prod-${name}`);
      expect(String((p['Code'] as Json)['S3Key'])).toMatch(new RegExp(`/${name}\\.zip$`));
      const role = getAtt(p['Role']);
      expect(role).toMatch(/Role$/);
      roles.add(role as string);
      expect(Number(res(`${id}LogGroup`).Properties['RetentionInDays'])).toBe(90);
    }
    expect(roles.size).toBe(5);
    // No shared default role from osls.
    expect(resources['IamRoleLambdaExecution']).toBeUndefined();
  });

  it('configures them with the variable names the code reads', () => {
    const env = (id: string): Record<string, unknown> => ((res(`${id}LambdaFunction`).Properties['Environment'] as Json)['Variables'] as Record<string, unknown>);
    const spot = env('SpotInterruption');
    expect(spot).toMatchObject({ CLUSTER_NAME: 'prod', DRY_RUN: 'true', TARGET_GROUP_TAG_SELECTOR: 'elbv2.k8s.aws/cluster=prod' });
    expect(ref(spot['RECHECK_QUEUE_URL'])).toBe('NodeSignalQueue');
    expect(ref(spot['AUDIT_EVENT_BUS'])).toBe('QuiesceBus');
    // For every handler already written, each variable the template sets is one its code reads.
    const sources = readdirSync(join(root, 'functions'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
      .join('\n');
    const platform = new Set(['LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE']);
    for (const [name, id] of Object.entries(FUNCTION_IDS)) {
      if (result.placeholders.includes(name)) continue;
      for (const key of Object.keys(env(id))) {
        if (platform.has(key)) continue;
        expect(sources.includes(`'${key}'`), `${name}: ${key} is read nowhere in functions/`).toBe(true);
      }
    }
  });
});

describe('triggers and event patterns', () => {
  it('spot: four exact rules on the default bus into the node-signal queue, consumed in batches with partial failures', () => {
    const byQueue = rulesTargeting('NodeSignalQueue');
    const patterns = Object.fromEntries(byQueue.map(([id, r]) => [id, r.Properties['EventPattern']]));
    expect(patterns).toEqual({
      SpotSignalsRule: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Capacity Reservation Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'] },
      InstanceStateRule: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] } },
      LifecycleHookRule: { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'] },
      HealthScheduledChangeRule: { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } },
    });
    for (const [, r] of byQueue) expect(r.Properties['EventBusName']).toBeUndefined();
    const [, esm] = ofType('AWS::Lambda::EventSourceMapping')[0] ?? [];
    expect(getAtt(esm?.Properties['EventSourceArn'])).toBe('NodeSignalQueue');
    expect(getAtt(esm?.Properties['FunctionName'])).toBe('SpotInterruptionLambdaFunction');
    expect(esm?.Properties['FunctionResponseTypes']).toEqual(['ReportBatchItemFailures']);
    expect(esm?.Properties['MaximumBatchingWindowInSeconds']).toBe(5);
    expect(esm?.Properties['ScalingConfig']).toEqual({ MaximumConcurrency: 2 });
    // Lambda's guidance: visibility timeout at least 6x the function timeout.
    expect(res('NodeSignalQueue').Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * (res('SpotInterruptionLambdaFunction').Properties['Timeout'] as number));
    // Only these rules may send to the queue.
    const policy = (res('NodeSignalQueuePolicy').Properties['PolicyDocument'] as { Statement: Statement[] }).Statement[0];
    expect(((policy?.Condition?.['ArnEquals']?.['aws:SourceArn'] as unknown[]) ?? []).map(getAtt).sort()).toEqual(['HealthScheduledChangeRule', 'InstanceStateRule', 'LifecycleHookRule', 'SpotSignalsRule']);
    // Scheduled changes' due messages: Scheduler sends to the queue with its own role, only there.
    const env = (res('SpotInterruptionLambdaFunction').Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect([getAtt(env['SCHEDULED_CHANGE_QUEUE_ARN']), getAtt(env['SCHEDULED_CHANGE_ROLE_ARN'])]).toEqual(['NodeSignalQueue', 'ScheduledChangeSchedulerRole']);
    const schedulerRole = (res('ScheduledChangeSchedulerRole').Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    expect(schedulerRole.map((st) => [asList(st.Action), getAtt(st.Resource)])).toEqual([[['sqs:SendMessage'], 'NodeSignalQueue']]);
  });

  it('sweeper: every 2 minutes, one run at a time', () => {
    const [[, rule] = []] = rulesTargeting('SweeperLambdaFunction');
    expect(rule?.Properties['ScheduleExpression']).toBe('rate(2 minutes)');
    expect(res('SweeperLambdaFunction').Properties['ReservedConcurrentExecutions']).toBe(1);
  });

  it('pod-events: Pod Terminating from the forwarder and Killing from kubernetes-event-exporter, on the quiesce bus', () => {
    const rules = rulesTargeting('PodEventsLambdaFunction');
    expect(rules.map(([, r]) => r.Properties['EventPattern'])).toEqual([
      { source: ['quiesce.kubernetes'], 'detail-type': ['Pod Terminating'] },
      { source: ['kubernetes-event-exporter'], 'detail-type': ['Kubernetes Event'], detail: { reason: ['Killing'], involvedObject: { kind: ['Pod'] } } },
    ]);
    for (const [, r] of rules) expect(getAtt(r.Properties['EventBusName'])).toBe('QuiesceBus');
  });

  it('deploy-webhook: a function URL with auth NONE (the token is checked in code)', () => {
    const [[, url] = []] = ofType('AWS::Lambda::Url');
    expect(getAtt(url?.Properties['TargetFunctionArn'])).toBe('DeployWebhookLambdaFunction');
    expect(url?.Properties['AuthType']).toBe('NONE');
    expect(res('DeployWebhookLambdaFunction').Properties['ReservedConcurrentExecutions']).toBeGreaterThan(0);
  });

  it('traffic-shift: Deployment Synced and its own step events on the quiesce bus; Scheduler may only put events there (and dead-letter them)', () => {
    const rules = rulesTargeting('TrafficShiftLambdaFunction').map(([, r]) => r);
    const rule = rules.find((r) => r.Properties['EventPattern'] !== undefined);
    expect(rule?.Properties['EventPattern']).toEqual({ source: ['quiesce'], 'detail-type': ['Deployment Synced', 'Traffic Shift Step Due', 'Weighted Rule Failover Check'] });
    expect(getAtt(rule?.Properties['EventBusName'])).toBe('QuiesceBus');
    // The shift watchdog: a constant event every 2 minutes (the sweeper's cadence).
    const watchdog = rules.find((r) => r.Properties['ScheduleExpression'] !== undefined);
    expect(watchdog?.Properties['ScheduleExpression']).toBe('rate(2 minutes)');
    const input = JSON.parse(String((watchdog?.Properties['Targets'] as { Input?: string }[])[0]?.Input)) as Record<string, unknown>;
    expect(input).toEqual({ source: 'quiesce', 'detail-type': 'Traffic Shift Watchdog', detail: {} });
    expect(rules).toHaveLength(2);
    const scheduler = res('SchedulerInvokeRole').Properties;
    expect(JSON.stringify(scheduler['AssumeRolePolicyDocument'])).toContain('scheduler.amazonaws.com');
    const statements = (scheduler['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((st) => [asList(st.Action), JSON.stringify(st.Resource)])).toEqual([
      [['events:PutEvents'], JSON.stringify({ 'Fn::GetAtt': ['QuiesceBus', 'Arn'] })],
      [['sqs:SendMessage'], JSON.stringify({ 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] })],
    ]);
    const env = (res('TrafficShiftLambdaFunction').Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(getAtt(env['SCHEDULER_DLQ_ARN'])).toBe('EventsDeadLetterQueue');
  });
});

describe('IAM least privilege', () => {
  const statements = (): { role: string; s: Statement }[] =>
    ofType('AWS::IAM::Role').flatMap(([role, r]) =>
      ((r.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]) ?? []).flatMap((p) => statementsOf<Statement>(p.PolicyDocument).map((s) => ({ role, s }))),
    );

  it('has no `*` action, and no managed policies', () => {
    expect(statements().length).toBeGreaterThan(30);
    for (const { role, s } of statements()) {
      for (const a of asList(s.Action)) expect(a.includes('*'), `${role}/${s.Sid}: ${a}`).toBe(false);
      expect(s.Effect).toBe('Allow');
    }
    for (const [, r] of ofType('AWS::IAM::Role')) expect(r.Properties['ManagedPolicyArns']).toBeUndefined();
  });

  it('grants a `*` resource to read actions only; every write names its resources', () => {
    let writes = 0;
    for (const { role, s } of statements()) {
      const resourcesOf = asList(s.Resource);
      const star = resourcesOf.includes('*');
      for (const a of asList(s.Action)) {
        if (READ_ONLY.test(a)) continue;
        writes++;
        expect(star && !s.Condition, `${role}/${s.Sid}: write ${a} on * without a condition`).toBe(false);
        expect(star, `${role}/${s.Sid}: write ${a} on *`).toBe(false);
      }
    }
    expect(writes).toBeGreaterThan(20);
  });

  it('scopes the deregistrations and lifecycle completions to this cluster by tag', () => {
    const find = (action: string) => statements().filter(({ s }) => asList(s.Action).includes(action));
    const dereg = find('elasticloadbalancing:DeregisterTargets');
    expect(dereg.map((d) => d.role).sort()).toEqual(['PodEventsRole', 'PodEventsRole', 'SpotInterruptionRole', 'SpotInterruptionRole', 'SweeperRole', 'SweeperRole']);
    for (const { s } of dereg) {
      expect([
        { StringEquals: { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'prod' } },
        { StringLike: { 'aws:ResourceTag/quiesce.io/deregister-by': '*:prod:*' } },
      ]).toContainEqual(s.Condition);
      expect(JSON.stringify(s.Resource)).toContain(':targetgroup/*/*');
    }
    const [lifecycle, ...more] = find('autoscaling:CompleteLifecycleAction');
    expect(more).toEqual([]);
    expect(lifecycle?.role).toBe('SpotInterruptionRole');
    expect(lifecycle?.s.Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/eks:cluster-name': 'prod' } });
    for (const { s } of find('servicediscovery:DeregisterInstance')) expect(JSON.stringify(s.Resource)).toContain(':service/*');
    const [modify, ...others] = find('elasticloadbalancing:ModifyRule');
    expect(others).toEqual([]);
    expect(modify?.role).toBe('TrafficShiftRole');
    expect(modify?.s.Condition?.['Null']).toEqual({ 'aws:ResourceTag/ingress.k8s.aws/stack': 'true', 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'true' });
    for (const { s } of find('events:PutEvents')) expect(getAtt(s.Resource)).toBe('QuiesceBus');
    for (const { s } of find('iam:PassRole')) expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  /**
   * IAM's evaluation of one PutEvents entry against a role's Allow statements on the quiesce bus: a statement
   * allows when every operator and key of its Condition matches (a list value: any of them), and a condition
   * key the request does not carry never matches. Only the operators the template uses are understood.
   */
  const mayPutEvents = (role: string, source: string, detailType: string): boolean =>
    statements()
      .filter(({ role: r, s }) => r === role && asList(s.Action).includes('events:PutEvents') && getAtt(s.Resource) === 'QuiesceBus')
      .some(({ s }) =>
        Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
          Object.entries(keys).every(([key, expected]) => {
            const actual = key === 'events:source' ? source : key === 'events:detail-type' ? detailType : undefined;
            if (actual === undefined) return false;
            return asList(expected as string | string[]).some((v) => {
              if (operator === 'StringEquals') return v === actual;
              if (operator === 'StringLike') return new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(actual);
              throw new Error(`${role}/${s.Sid}: condition operator ${operator} not understood by this test`);
            });
          }),
        ),
      );

  it('lets each role PutEvents only its own source and detail-types, so no function can forge another\'s events', () => {
    // Every principal that publishes, the in-cluster forwarder's role included: the stack creates it too.
    const publishers = Object.keys(PUBLISHES);
    const withPutEvents = [...new Set(statements().filter(({ s }) => asList(s.Action).includes('events:PutEvents')).map(({ role }) => role))];
    expect(withPutEvents.sort()).toEqual(publishers.sort());
    const kinds = [...new Map(Object.values(PUBLISHES).flat().map((k) => [k.join('\n'), k])).values()];
    const forgeries: (readonly [string, string])[] = [
      ...kinds,
      [QUIESCE_SOURCE, DetailType.recheck],
      ['quiesce.kubernetes', 'Deployment Synced'],
      ['quiesce.evil', 'Pod Terminating'],
      [QUIESCE_SOURCE, 'Anything Else'],
      ['aws.ec2', DetailType.spotWarning],
    ];
    for (const role of publishers) {
      const own = new Set((PUBLISHES[role] ?? []).map((k) => k.join('\n')));
      for (const [source, detailType] of forgeries) {
        expect(mayPutEvents(role, source, detailType), `${role}: ${source} / ${detailType}`).toBe(own.has(`${source}\n${detailType}`));
      }
    }
    // The case: the internet-facing webhook's role cannot forge a pod termination.
    expect(mayPutEvents('DeployWebhookRole', 'quiesce.kubernetes', 'Pod Terminating')).toBe(false);
    expect(mayPutEvents('DeployWebhookRole', QUIESCE_SOURCE, 'Deployment Synced')).toBe(true);
  });

  it('gives the EKS cluster read only to the roles that talk to Kubernetes', () => {
    const eks = statements().filter(({ s }) => asList(s.Action).some((a) => a.startsWith('eks:')));
    expect(eks.map((e) => e.role).sort()).toEqual(['PodEventsRole', 'SpotInterruptionRole', 'SweeperRole']);
    for (const { s } of eks) expect(s.Action).toBe('eks:DescribeCluster');
  });
});

describe('failure paths', () => {
  it('every event rule target retries and dead-letters (except the schedule: the next run is the retry)', () => {
    for (const [id, r] of ofType('AWS::Events::Rule')) {
      for (const t of r.Properties['Targets'] as Json[]) {
        if (r.Properties['ScheduleExpression']) continue;
        expect(t['RetryPolicy'], id).toBeDefined();
        expect(getAtt((t['DeadLetterConfig'] as Json | undefined)?.['Arn']), id).toBe('EventsDeadLetterQueue');
      }
    }
    // The DLQ accepts EventBridge's dead letters from this stack's rules, by name on both buses.
    const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties['Name']).filter((n): n is string => typeof n === 'string');
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const n of rules) expect(n).toMatch(/^quiesce-prod-/);
  });

  it('redrives the node-signal queue and sends failed async invocations to a queue', () => {
    const redrive = res('NodeSignalQueue').Properties['RedrivePolicy'] as Json;
    expect(getAtt(redrive['deadLetterTargetArn'])).toBe('NodeSignalDeadLetterQueue');
    expect(redrive['maxReceiveCount']).toBeGreaterThan(1);
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => [ref(r.Properties['FunctionName']), getAtt(((r.Properties['DestinationConfig'] as Json)['OnFailure'] as Json)['Destination'])]);
    expect(configs.sort()).toEqual([
      ['PodEventsLambdaFunction', 'AsyncFailureQueue'],
      ['SweeperLambdaFunction', 'AsyncFailureQueue'],
      ['TrafficShiftLambdaFunction', 'AsyncFailureQueue'],
    ]);
  });

  it('alarms on every DLQ, on late node signals, and on every function’s errors', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    const onQueue = (q: string, metric: string) => alarms.filter((a) => a['MetricName'] === metric && getAtt(((a['Dimensions'] as Json[])[0] ?? {})['Value']) === q);
    for (const q of ['NodeSignalDeadLetterQueue', 'EventsDeadLetterQueue', 'AsyncFailureQueue']) {
      const [a] = onQueue(q, 'ApproximateNumberOfMessagesVisible');
      expect(a, q).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(ref((a?.['AlarmActions'] as unknown[])[0])).toBe('AlarmTopic');
    }
    expect(onQueue('NodeSignalQueue', 'ApproximateAgeOfOldestMessage')).toHaveLength(1);
    const errors = alarms.filter((a) => a['MetricName'] === 'Errors').map((a) => ref(((a['Dimensions'] as Json[])[0] ?? {})['Value'])).sort();
    expect(errors).toEqual(Object.values(FUNCTION_IDS).map((id) => `${id}LambdaFunction`).sort());
  });
});

describe('the guard across writers, in the deployment', () => {
  it('gives every deregistering function the state table (leases: UpdateItem, and GetItem to open the connection; spot also Get/PutItem for scheduled changes and its scale state, the sweeper for its pace and cursor, pod-events Put/DeleteItem for its claims) and nothing more there', () => {
    const expected: Record<string, string[]> = {
      SpotInterruptionRole: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      SweeperRole: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      PodEventsRole: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    };
    for (const [role, actions] of Object.entries(expected)) {
      const statements = statementsOf<Statement>((res(role).Properties['Policies'] as Json[])[0]?.['PolicyDocument'] as { Statement: Statement[] });
      const dynamo = statements.filter((st) => asList(st.Action).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.flatMap((st) => asList(st.Action)), role).toEqual(actions);
      for (const st of dynamo) expect(getAtt(st.Resource), role).toBe('StateTable');
    }
    for (const id of ['SpotInterruption', 'Sweeper', 'PodEvents']) {
      const env = ((res(`${id}LambdaFunction`).Properties['Environment'] as Json)['Variables'] as Json)['STATE_TABLE'];
      expect(ref(env), id).toBe('StateTable');
    }
  });

  it('alarms on quiesce\'s own failed metric for each deregistering function, and the webhook\'s unreleased claims', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties).filter((a) => a['Namespace'] === 'quiesce' && a['MetricName'] === 'failed');
    expect(alarms.map((a) => ((a['Dimensions'] as Json[])[0] ?? {})['Value']).sort()).toEqual(['deploy-webhook', 'pod-events', 'spot-interruption', 'sweeper']);
    for (const a of alarms) expect(a).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Sum' });
  });
});

describe('zip writer', () => {
  it('is deterministic, and its entry inflates back to the input with a matching CRC', () => {
    const data = Buffer.from('export const handler = 1;\n'.repeat(50));
    const a = zip([{ name: 'index.mjs', data }]);
    expect(a.equals(zip([{ name: 'index.mjs', data }]))).toBe(true);
    expect(a.readUInt32LE(0)).toBe(0x04034b50);
    expect(a.readUInt16LE(8)).toBe(8); // deflated: it is smaller
    const nameLength = a.readUInt16LE(26);
    expect(a.subarray(30, 30 + nameLength).toString()).toBe('index.mjs');
    const body = a.subarray(30 + nameLength, 30 + nameLength + a.readUInt32LE(18));
    const back = inflateRawSync(body);
    expect(back.equals(data)).toBe(true);
    expect(a.readUInt32LE(14)).toBe(crc32(data));
    expect(a.readUInt32LE(a.length - 22)).toBe(0x06054b50);
    expect(a.readUInt16LE(a.length - 12)).toBe(1);
    expect(() => zip([{ name: '../evil', data: Buffer.from('x') }])).toThrow(/unsafe/);
  });
});
