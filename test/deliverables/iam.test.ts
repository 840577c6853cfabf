/**
 * Every AWS call a function's code can make is allowed by its role in the packaged template, and its role
 * allows nothing else (iam-coverage.ts, with the calls read from the code by sdk-calls.ts). A new call
 * without its grant, or a grant left behind by a removed call, fails here instead of in production.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../bin/build.ts';
import { packagedTemplate } from '../package/packaged.ts';
import { check, roleOf, type NotSent, type Template } from './iam-coverage.ts';
import { callsInSource, sdkCallsOf } from './sdk-calls.ts';

/** serverless.yml function key -> the logical id osls gives its AWS::Lambda::Function. */
const functionId = (name: string): string => `${name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase())}LambdaFunction`;

const FAILOVER = 'weighted-rule failover runs only with FAILOVER_LISTENER_ARNS set, and its role grants are opt-in (README, Troubleshooting)';
const EXECUTOR = 'the executor applies any plan; this function never plans that kind of action';

const ddb = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
/** What the spot and sweeper functions reach of the core's weighted-rule failover, which is opt-in. */
const FAILOVER_CALLS: Readonly<Record<string, readonly string[]>> = {
  'functions/_core/failover/weighted-failover.ts': [...ddb, 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth', 'scheduler:CreateSchedule'],
  'functions/_core/failover/verify-weights.ts': ['elasticloadbalancing:DescribeRules'],
  'functions/_core/executor/executor.ts': ['elasticloadbalancing:ModifyRule'],
};
const failover: NotSent[] = Object.entries(FAILOVER_CALLS).flatMap(([module, actions]) => actions.map((action) => ({ action, module, why: FAILOVER })));
const executor = (...actions: string[]): NotSent[] => actions.map((action) => ({ action, module: 'functions/_core/executor/executor.ts', why: EXECUTOR }));
/** The executor's Cloud Map side (the fresh read under a lease, following operations): never reached by weight plans. */
const executorCloudMap: NotSent[] = [
  { action: 'servicediscovery:ListInstances', module: 'functions/_core/executor/cross-writer.ts', why: EXECUTOR },
  { action: 'servicediscovery:GetOperation', module: 'functions/_core/executor/operations.ts', why: EXECUTOR },
  { action: 'servicediscovery:ListOperations', module: 'functions/_core/executor/operations.ts', why: EXECUTOR },
];

/**
 * Calls the code can reach that a function never sends as deployed. Each names the module it is excused
 * from, so the same action sent from any other module is still checked. Kept short on purpose: a new
 * entry is a decision that a reachable call needs no grant.
 */
const NOT_SENT: Readonly<Record<string, readonly NotSent[]>> = {
  'spot-interruption': failover,
  sweeper: failover,
  'pod-events': executor('elasticloadbalancing:ModifyRule'),
  'deploy-webhook': [],
  'traffic-shift': [...executor('elasticloadbalancing:DeregisterTargets', 'servicediscovery:DeregisterInstance'), ...executorCloudMap],
};

let template: Template;
const calls = new Map<string, Map<string, string[]>>();

beforeAll(async () => {
  template = await packagedTemplate<Template>();
  for (const name of FUNCTIONS) calls.set(name, await sdkCallsOf(`functions/${name}/handler.ts`));
}, 120_000);

describe('IAM roles against the calls each function makes', () => {
  for (const name of FUNCTIONS) {
    it(`${name}: its role allows every call its code makes, and nothing more`, () => {
      const found = check(template, functionId(name), calls.get(name) ?? new Map(), NOT_SENT[name]);
      expect(found.missing, `${name} (${roleOf(template, functionId(name))}) sends actions its role does not allow`).toEqual([]);
      expect(found.unused, `${name} (${roleOf(template, functionId(name))}) allows actions no code sends`).toEqual([]);
    });
  }

  it('every excused call is still reachable (a stale excuse would hide nothing, and should go)', () => {
    for (const [name, excused] of Object.entries(NOT_SENT)) {
      for (const n of excused) expect(calls.get(name)?.get(n.action) ?? [], `${name}: ${n.action} from ${n.module}`).toContain(n.module);
    }
  });

  it('reads the calls from the code: SDK commands only, through the adapters each handler uses', () => {
    const webhook = calls.get('deploy-webhook');
    expect([...(webhook?.keys() ?? [])].sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'events:PutEvents', 'ssm:GetParameter']);
    expect(calls.get('pod-events')?.get('eks:DescribeCluster')).toBeDefined();
    const sample = [
      "import { GetItemCommand, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';",
      "import { SendMessageCommand as Send } from '@aws-sdk/client-sqs';",
      'const a = new GetItemCommand({}); const b = new Send({}); const c = new Map();',
    ].join('\n');
    expect(callsInSource(sample, 'x.ts').map((c) => c.action)).toEqual(['dynamodb:GetItem', 'sqs:SendMessage']);
  });
});

describe('the check catches a broken role', () => {
  const withRole = (roleId: string, edit: (statements: { Action: string | string[] }[]) => void): Template => {
    const copy = structuredClone(template);
    const policies = copy.Resources[roleId]?.Properties['Policies'] as { PolicyDocument: { Statement: { Action: string | string[] }[] } }[];
    edit(policies.flatMap((p) => p.PolicyDocument.Statement));
    return copy;
  };

  it('reports an action the code sends that the role lacks', () => {
    const role = roleOf(template, functionId('sweeper'));
    const broken = withRole(role, (statements) => {
      for (const s of statements) s.Action = [s.Action].flat().filter((a) => a !== 'elasticloadbalancing:DeregisterTargets');
    });
    const found = check(broken, functionId('sweeper'), calls.get('sweeper') ?? new Map(), NOT_SENT['sweeper']);
    expect(found.missing).toEqual([{ action: 'elasticloadbalancing:DeregisterTargets', modules: ['functions/_core/executor/executor.ts'] }]);
  });

  it('reports an action the role allows that no code sends', () => {
    const role = roleOf(template, functionId('pod-events'));
    const broken = withRole(role, (statements) => statements[0]?.Action && (statements[0].Action = [statements[0].Action, 'ec2:TerminateInstances'].flat()));
    expect(check(broken, functionId('pod-events'), calls.get('pod-events') ?? new Map(), NOT_SENT['pod-events']).unused).toEqual(['ec2:TerminateInstances']);
  });

  it('reports a call added to a function without its grant (a new DynamoDB DeleteItem in the sweeper)', () => {
    // (The sweeper's pace made PutItem a granted call of the sweeper, issue 14: the example is DeleteItem now.)
    const more = new Map(calls.get('sweeper'));
    more.set('dynamodb:DeleteItem', [...(more.get('dynamodb:DeleteItem') ?? []), 'functions/sweeper/run-sweep.ts']);
    expect(check(template, functionId('sweeper'), more, NOT_SENT['sweeper']).missing).toEqual([{ action: 'dynamodb:DeleteItem', modules: ['functions/sweeper/run-sweep.ts'] }]);
  });

  it('needs the network-interface grants Lambda uses for a function in a VPC (the sweeper without them)', () => {
    const copy = structuredClone(template);
    const policies = copy.Resources[roleOf(template, functionId('sweeper'))]?.Properties['Policies'] as { PolicyDocument: { Statement: object[] } }[];
    for (const p of policies) p.PolicyDocument.Statement = p.PolicyDocument.Statement.filter((st) => !('Fn::If' in st));
    const missing = check(copy, functionId('sweeper'), calls.get('sweeper') ?? new Map(), NOT_SENT['sweeper']).missing.map((m) => m.action);
    expect(missing).toEqual(['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses']);
  });

  it('needs the actions AWS checks on behalf of a call (PassRole for CreateSchedule)', () => {
    const role = roleOf(template, functionId('traffic-shift'));
    const broken = withRole(role, (statements) => {
      for (const s of statements) s.Action = [s.Action].flat().filter((a) => a !== 'iam:PassRole');
    });
    expect(check(broken, functionId('traffic-shift'), calls.get('traffic-shift') ?? new Map(), NOT_SENT['traffic-shift']).missing.map((m) => m.action)).toEqual(['iam:PassRole']);
  });
});
