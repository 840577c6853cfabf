/**
 * What a real account needs, in the packaged stack (stage prod, packaged once per run: packaged.ts): every
 * resource named as infra/names.yml says and exported as an output; the pod forwarder's role and its EKS
 * Pod Identity association; the functions' EKS access entries; state that survives the stack (Retain); the
 * optional VPC of the two functions that call the cluster API; the single-point-of-failure alarms; and the
 * dashboard operators watch.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stageNames, type NameKey, type StageNames } from '../../functions/cli/stage-names.ts';
import { packaged, packagedTemplate } from './packaged.ts';
import { statementsOf, variants } from './template.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
  Conditions: Record<string, unknown>;
  Parameters: Record<string, { Default?: string }>;
}

let t: Template;
/** The template as packaged (parameters not replaced by their defaults). */
let raw: Template;
let names: StageNames;
let stackName: string;
const res = (id: string): Resource => {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};
const props = (id: string): Json => res(id).Properties;
const output = (key: string): unknown => t.Outputs[key]?.Value;
const getAtt = (v: unknown): string | undefined => ((v as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'] ?? [])[0];
const ref = (v: unknown): string | undefined => (v as { Ref?: string })?.Ref;

beforeAll(async () => {
  const p = await packaged();
  t = await packagedTemplate<Template>();
  raw = JSON.parse(readFileSync(p.templatePath, 'utf8')) as Template;
  stackName = (JSON.parse(readFileSync(join(dirname(p.templatePath), 'serverless-state.json'), 'utf8')) as { service: { provider: { stackName: string } } }).service.provider.stackName;
  names = stageNames('prod');
}, 120_000);

describe('names come from infra/names.yml, and the stack exports them', () => {
  it('names each resource as infra/names.yml does for the stage', () => {
    expect(stackName).toBe(names.stack);
    // [name in names.yml, resource, property that carries it]
    const named: [NameKey, string, string][] = [
      ['eventBus', 'QuiesceBus', 'Name'],
      ['stateTable', 'StateTable', 'TableName'],
      ['scheduleGroup', 'ShiftScheduleGroup', 'Name'],
      ['nodeSignalQueue', 'NodeSignalQueue', 'QueueName'],
      ['nodeSignalDeadLetterQueue', 'NodeSignalDeadLetterQueue', 'QueueName'],
      ['eventsDeadLetterQueue', 'EventsDeadLetterQueue', 'QueueName'],
      ['asyncFailureQueue', 'AsyncFailureQueue', 'QueueName'],
      ['alarmTopic', 'AlarmTopic', 'TopicName'],
      ['pagingTopic', 'PagingTopic', 'TopicName'],
      ['dashboard', 'Dashboard', 'DashboardName'],
      ['auditArchive', 'AuditArchive', 'ArchiveName'],
      ['auditLogGroup', 'AuditLogGroup', 'LogGroupName'],
      ['forwarderImageRepository', 'ForwarderImageRepository', 'RepositoryName'],
      ['forwarderNamespace', 'PodForwarderPodIdentity', 'Namespace'],
      ['forwarderServiceAccount', 'PodForwarderPodIdentity', 'ServiceAccount'],
    ];
    for (const [key, id, property] of named) expect(props(id)[property], `${id}.${property}`).toBe(names[key]);
    const webhookEnv = ((props('DeployWebhookLambdaFunction')['Environment'] as Json)['Variables'] as Json)['WEBHOOK_TOKEN_PARAMETER'];
    expect(webhookEnv).toBe(names.webhookTokenParameter);
    for (const id of ['SpotInterruptionAccessEntry', 'SweeperAccessEntry', 'PodEventsAccessEntry']) expect(props(id)['KubernetesGroups'], id).toEqual([names.readerGroup]);
  });

  it('exports what everything outside the stack consumes', () => {
    expect(output('Stage')).toBe('prod');
    expect(output('ClusterName')).toBe('prod');
    expect(ref(output('StackName'))).toBe('AWS::StackName');
    expect(ref(output('EventBusName'))).toBe('QuiesceBus');
    expect(getAtt(output('EventBusArn'))).toBe('QuiesceBus');
    expect(ref(output('StateTableName'))).toBe('StateTable');
    expect(ref(output('ScheduleGroupName'))).toBe('ShiftScheduleGroup');
    expect(output('WebhookTokenParameterName')).toBe(names.webhookTokenParameter);
    expect(getAtt(output('PodForwarderRoleArn'))).toBe('PodForwarderRole');
    expect(getAtt(output('ForwarderImageRepositoryUri'))).toBe('ForwarderImageRepository');
    expect(output('ForwarderNamespace')).toBe(names.forwarderNamespace);
    expect(output('ForwarderServiceAccount')).toBe(names.forwarderServiceAccount);
    expect(output('ReaderGroup')).toBe(names.readerGroup);
    expect(output('TargetGroupTagKey')).toBe('elbv2.k8s.aws/cluster');
    for (const k of ['SpotInterruptionRoleArn', 'SweeperRoleArn', 'PodEventsRoleArn', 'DeployWebhookUrl', 'AlarmTopicArn', 'PagingTopicArn', 'DashboardUrl', 'NodeSignalDeadLetterQueueUrl', 'EventsDeadLetterQueueUrl', 'AsyncFailureQueueUrl']) {
      expect(output(k), k).toBeDefined();
    }
  });
});

describe('the pod forwarder and the cluster', () => {
  it('gives the forwarder a role Pod Identity assumes for its ServiceAccount in this cluster only, allowed its own events only', () => {
    const role = props('PodForwarderRole');
    const [trust, ...more] = (role['AssumeRolePolicyDocument'] as { Statement: { Principal: unknown; Action: string[]; Condition: Json }[] }).Statement;
    expect(more).toEqual([]);
    expect(trust?.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    expect(trust?.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(trust?.Condition['StringEquals']).toMatchObject({
      'aws:RequestTag/eks-cluster-name': 'prod',
      'aws:RequestTag/kubernetes-namespace': names.forwarderNamespace,
      'aws:RequestTag/kubernetes-service-account': names.forwarderServiceAccount,
    });
    const statements = (role['Policies'] as { PolicyDocument: { Statement: { Action: string; Resource: unknown; Condition: Json }[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => [s.Action, getAtt(s.Resource)])).toEqual([['events:PutEvents', 'QuiesceBus']]);
    expect(statements[0]?.Condition).toEqual({ StringEquals: { 'events:source': 'quiesce.kubernetes', 'events:detail-type': ['Pod Terminating', 'Pod Not Ready'] } });
    expect(getAtt(props('PodForwarderPodIdentity')['RoleArn'])).toBe('PodForwarderRole');
    expect(props('PodForwarderPodIdentity')['ClusterName']).toBe('prod');
  });

  it('creates the EKS access entries of the three functions that read the cluster API, behind a switch', () => {
    const entries = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::EKS::AccessEntry');
    expect(entries.map(([, r]) => getAtt(r.Properties['PrincipalArn'])).sort()).toEqual(['PodEventsRole', 'SpotInterruptionRole', 'SweeperRole']);
    for (const [, r] of entries) expect([r.Condition, r.Properties['ClusterName'], r.Properties['Type']]).toEqual(['CreateAccessEntries', 'prod', 'STANDARD']);
    expect(res('PodForwarderPodIdentity').Condition).toBe('CreatePodIdentity');
    expect([t.Parameters['ClusterAccessEntries']?.Default, t.Parameters['ForwarderPodIdentity']?.Default]).toEqual(['true', 'true']);
  });

  it('puts only spot-interruption, sweeper and pod-events in the cluster VPC when subnets are given, with the network-interface grants Lambda needs', () => {
    expect(t.Parameters['ClusterSubnetIds']?.Default).toBe('');
    const inVpc = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['VpcConfig'] !== undefined).map(([id]) => id);
    expect(inVpc.sort()).toEqual(['PodEventsLambdaFunction', 'SpotInterruptionLambdaFunction', 'SweeperLambdaFunction']);
    for (const id of inVpc) {
      const vpc = raw.Resources[id]?.Properties['VpcConfig'] as { 'Fn::If': [string, Json, unknown] };
      expect(vpc['Fn::If'][0]).toBe('ClusterApiInVpc');
      expect(vpc['Fn::If'][1]['SubnetIds']).toEqual({ 'Fn::Split': [',', { Ref: 'ClusterSubnetIds' }] });
      expect(variants(vpc)).toHaveLength(1); // the other branch is AWS::NoValue
      const role = getAtt(props(id)['Role']) as string;
      const conditional = ((props(role)['Policies'] as { PolicyDocument: { Statement: unknown[] } }[])[0]?.PolicyDocument.Statement ?? []).filter((s) => (s as Json)['Fn::If']);
      expect(conditional.map((s) => (s as { 'Fn::If': [string] })['Fn::If'][0])).toEqual(['ClusterApiInVpc', 'ClusterApiInVpc']);
      const actions = statementsOf<{ Action: string | string[] }>({ Statement: conditional }).flatMap((s) => [s.Action].flat());
      expect(actions.sort()).toEqual(['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses']);
    }
  });
});

describe('state survives the stack', () => {
  it('keeps the state table, the dead-letter queues, the log groups and the image repository on delete and on replacement', () => {
    const kept = ['StateTable', 'NodeSignalDeadLetterQueue', 'EventsDeadLetterQueue', 'AsyncFailureQueue', 'ForwarderImageRepository', 'AuditLogGroup', ...['SpotInterruption', 'Sweeper', 'PodEvents', 'DeployWebhook', 'TrafficShift'].map((f) => `${f}LogGroup`)];
    for (const id of kept) expect([res(id).DeletionPolicy, res(id).UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
    expect(props('StateTable')['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('publishes a version of every function on each deploy (the rollback path of docs/deploy.md)', () => {
    const versions = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::Version').map((r) => ref(r.Properties['FunctionName']));
    expect(versions.sort()).toEqual(['DeployWebhookLambdaFunction', 'PodEventsLambdaFunction', 'SpotInterruptionLambdaFunction', 'SweeperLambdaFunction', 'TrafficShiftLambdaFunction']);
  });
});

describe('what operators watch', () => {
  const alarms = (): Json[] => Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);

  it('alarms on single-point-of-failure hold-backs of every deregistering function, to the alarm topic', () => {
    const spof = alarms().filter((a) => a['Namespace'] === 'quiesce' && a['MetricName'] === 'singlePointOfFailure');
    expect(spof.map((a) => ((a['Dimensions'] as Json[])[0] ?? {})['Value']).sort()).toEqual(['pod-events', 'spot-interruption', 'sweeper']);
    for (const a of spof) {
      expect(a).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Sum', TreatMissingData: 'notBreaching' });
      expect(ref((a['AlarmActions'] as unknown[])[0])).toBe('AlarmTopic');
    }
  });

  it('has a dashboard with, per function, events, planned, deregistered, held back, failed and duration; queue depth and age; DLQ depth', () => {
    const body = (props('Dashboard')['DashboardBody'] as { 'Fn::Sub': string })['Fn::Sub'];
    const dash = JSON.parse(body.replaceAll('${AWS::Region}', 'eu-west-1')) as { widgets: { type: string; properties: { metrics?: unknown[][]; region?: string } }[] };
    // Each row of a widget's metrics, with CloudWatch's "." (same as the row above) filled in.
    const rows = dash.widgets.flatMap((w) => {
      let last: unknown[] = [];
      return (w.properties.metrics ?? []).map((m) => (last = m.map((v, i) => (v === '.' ? last[i] : v))).filter((v) => typeof v === 'string') as string[]);
    });
    const has = (...row: string[]): boolean => rows.some((r) => row.every((v, i) => r[i] === v));
    for (const fn of ['spot-interruption', 'sweeper', 'pod-events']) {
      for (const metric of ['planned', 'deregistered', 'heldBack', 'singlePointOfFailure', 'failed']) expect(has('quiesce', metric, 'service', fn), `${fn} ${metric}`).toBe(true);
    }
    for (const fn of ['spot-interruption', 'sweeper', 'pod-events', 'deploy-webhook', 'traffic-shift']) {
      expect(has('AWS/Lambda', 'Duration', 'FunctionName', `quiesce-prod-${fn}`), `${fn} duration`).toBe(true);
      expect(has('AWS/Lambda', 'Errors', 'FunctionName', `quiesce-prod-${fn}`), `${fn} errors`).toBe(true);
    }
    for (const fn of ['sweeper', 'pod-events', 'deploy-webhook', 'traffic-shift']) expect(has('AWS/Lambda', 'Invocations', 'FunctionName', `quiesce-prod-${fn}`), `${fn} events`).toBe(true);
    expect(has('AWS/SQS', 'NumberOfMessagesReceived', 'QueueName', names.nodeSignalQueue)).toBe(true);
    expect(has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', names.nodeSignalQueue)).toBe(true);
    expect(has('AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', names.nodeSignalQueue)).toBe(true);
    for (const q of [names.nodeSignalDeadLetterQueue, names.eventsDeadLetterQueue, names.asyncFailureQueue]) expect(has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', q), q).toBe(true);
    expect(dash.widgets.filter((w) => w.type === 'metric').every((w) => w.properties.region === 'eu-west-1')).toBe(true);
  });
});
