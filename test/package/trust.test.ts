/**
 * The deployed trust boundaries, checked on the packaged template rendered for one account (render.ts) with
 * the resource-policy evaluator the fakes use (functions/_core/policy/resource-policy.ts): the node-signal queue accepts
 * exactly the senders docs/security.md lists (senders.ts), the quiesce bus takes each detail-type only from
 * its producer, for every principal of the stack, the ones the parameters add, and outsiders (an
 * administrator, a CI role, an IAM user, another rule or topic of the account), with the optional senders
 * configured and without. And the docs name the same principals.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeIam } from '../fakes/aws/iam.ts';
import { evaluateResourcePolicy, resourcePolicyAdmits, type PolicyPrincipal, type PolicyRequest } from '../fakes/aws/policy.ts';
import { FAKE_ACCOUNT_ID } from '../fakes/aws/sts.ts';
import { deployedStack, type DeployedStack } from './deployed.ts';
import { PUBLISHES } from './publishers.ts';
import { BUS_PRODUCERS, QUEUE_SENDERS } from './senders.ts';

const A = FAKE_ACCOUNT_ID;
/** Values for every optional sender: the principals they add must be accepted, and only with them. */
const CONFIGURED = {
  LifecycleNotificationTopicArns: `arn:aws:sns:us-east-1:${A}:asg-hooks,arn:aws:sns:us-east-1:${A}:asg-hooks-2`,
  LifecycleNotificationRoleArns: `arn:aws:iam::${A}:role/asg-notify`,
  NodeSignalRedriveRoleArns: `arn:aws:iam::${A}:role/oncall-redrive`,
  EventExporterRoleArns: `arn:aws:iam::${A}:role/event-exporter`,
};
const OUTSIDERS = { Administrator: `arn:aws:iam::${A}:role/Administrator`, CiDeployer: `arn:aws:iam::${A}:role/ci-deployer`, alice: `arn:aws:iam::${A}:user/alice` };

let plain: DeployedStack;
let configured: DeployedStack;
beforeAll(async () => {
  const iam = new FakeIam();
  plain = await deployedStack({ iam });
  configured = await deployedStack({ iam }, CONFIGURED);
}, 120_000);

const split = (v: string): string[] => v.split(',');
const roleIds = (d: DeployedStack): string[] => Object.entries(d.stack.resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
const ruleIds = (d: DeployedStack): string[] => Object.entries(d.stack.resources).filter(([, r]) => r.Type === 'AWS::Events::Rule').map(([id]) => id);
const aws = (arn: string): PolicyPrincipal => ({ kind: 'aws', arn, account: A });

/** Every principal worth asking about, by a readable name. */
function principals(d: DeployedStack): Map<string, { principal: PolicyPrincipal; context: Record<string, string> }> {
  const out = new Map<string, { principal: PolicyPrincipal; context: Record<string, string> }>();
  const role = (name: string, arn: string) => out.set(name, { principal: aws(arn), context: { 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': A } });
  for (const id of roleIds(d)) role(id, d.roleArn(id));
  for (const [name, arn] of Object.entries(OUTSIDERS)) role(name, arn);
  for (const p of PARAMETER_ROLES as (keyof typeof CONFIGURED)[]) for (const arn of split(CONFIGURED[p])) role(`${p}:${arn}`, arn);
  const service = (name: string, svc: string, sourceArn: string) => out.set(name, { principal: { kind: 'service', service: svc }, context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': A } });
  for (const id of ruleIds(d)) service(`events:${id}`, 'events.amazonaws.com', d.ruleArn(id));
  service('events:another rule of the account', 'events.amazonaws.com', `arn:aws:events:us-east-1:${A}:rule/forger`);
  for (const arn of split(CONFIGURED.LifecycleNotificationTopicArns)) service(`sns:${arn}`, 'sns.amazonaws.com', arn);
  service('sns:another topic of the account', 'sns.amazonaws.com', `arn:aws:sns:us-east-1:${A}:forger`);
  out.set('anonymous', { principal: { kind: 'anonymous' }, context: {} });
  return out;
}

/** The principals the queue accepts, by name (the IAM principals: not denied; services: allowed). */
function queueAccepts(d: DeployedStack): string[] {
  return [...principals(d)]
    .filter(([, p]) => resourcePolicyAdmits(d.queuePolicy, { action: 'sqs:SendMessage', resource: d.queueArn, ...p }, A))
    .map(([name]) => name)
    .sort();
}

describe('the node-signal queue accepts exactly its senders', () => {
  it('without optional senders: the spot function\'s role, the Scheduler role, EventBridge for the four rules', () => {
    expect(queueAccepts(plain)).toEqual([...QUEUE_SENDERS.roles, ...QUEUE_SENDERS.rules.map((r) => `events:${r}`)].sort());
  });

  it('with them: also each lifecycle-hook topic (SNS), each notification role and each redrive role', () => {
    const extra = [...split(CONFIGURED.LifecycleNotificationTopicArns).map((t) => `sns:${t}`), `LifecycleNotificationRoleArns:${CONFIGURED.LifecycleNotificationRoleArns}`, `NodeSignalRedriveRoleArns:${CONFIGURED.NodeSignalRedriveRoleArns}`];
    expect(queueAccepts(configured)).toEqual([...QUEUE_SENDERS.roles, ...QUEUE_SENDERS.rules.map((r) => `events:${r}`), ...extra].sort());
  });

  it('statement by statement: the services by their Allow, the roles by not being denied, everyone else by the Deny', () => {
    const statements = (configured.queuePolicy.Statement as readonly { Sid?: string; Effect: string }[]).map((s) => `${s.Sid} ${s.Effect}`);
    expect(statements).toEqual(['NodeSignalRules Allow', 'LifecycleHookTopics Allow', 'NobodyElseSends Deny', 'DenyInsecureTransport Deny']);
    expect((plain.queuePolicy.Statement as readonly { Sid?: string }[]).map((s) => s.Sid)).toEqual(['NodeSignalRules', 'NobodyElseSends', 'DenyInsecureTransport']);
    const verdict = (name: string) => {
      const p = principals(configured).get(name);
      if (!p) throw new Error(name);
      return evaluateResourcePolicy(configured.queuePolicy, { action: 'sqs:SendMessage', resource: configured.queueArn, ...p } as PolicyRequest);
    };
    expect(verdict('events:SpotSignalsRule')).toEqual({ decision: 'allow', statement: 'NodeSignalRules' });
    expect(verdict(`sns:${split(CONFIGURED.LifecycleNotificationTopicArns)[1]}`)).toEqual({ decision: 'allow', statement: 'LifecycleHookTopics' });
    expect(verdict('SpotInterruptionRole')).toEqual({ decision: 'no-match' });
    expect(verdict(`LifecycleNotificationRoleArns:${CONFIGURED.LifecycleNotificationRoleArns}`)).toEqual({ decision: 'no-match' });
    // Even the spot function, over plain HTTP.
    const spot = principals(configured).get('SpotInterruptionRole')!;
    const overHttp = { action: 'sqs:ReceiveMessage', resource: configured.queueArn, principal: spot.principal, context: { ...spot.context, 'aws:SecureTransport': 'false' } };
    expect(evaluateResourcePolicy(configured.queuePolicy, overHttp)).toEqual({ decision: 'deny', statement: 'DenyInsecureTransport' });
    for (const outsider of ['Administrator', 'CiDeployer', 'alice', 'SweeperRole', 'PodForwarderRole', 'events:another rule of the account', 'events:SweeperEventsRuleSchedule1', 'sns:another topic of the account', 'anonymous']) {
      expect(verdict(outsider), outsider).toEqual({ decision: 'deny', statement: 'NobodyElseSends' });
    }
  });
});

/** The parameters that list roles. */
const PARAMETER_ROLES = ['LifecycleNotificationRoleArns', 'NodeSignalRedriveRoleArns', 'EventExporterRoleArns'];

describe('the quiesce bus takes each detail-type only from its producer', () => {
  /** Names of the IAM principals that may put `detailType` (with any source) on the bus. */
  function producers(d: DeployedStack, detailType: string, source = 'quiesce'): string[] {
    return [...principals(d)]
      .filter(([, p]) => p.principal.kind === 'aws')
      .filter(([, p]) => resourcePolicyAdmits(d.busPolicy, { action: 'events:PutEvents', resource: d.busArn, principal: p.principal, context: { ...p.context, 'events:source': source, 'events:detail-type': detailType, 'events:eventBusInvocation': 'false' } }, A))
      .map(([name]) => name)
      .sort();
  }

  const everyIamPrincipal = (d: DeployedStack): string[] => [...principals(d)].filter(([, p]) => p.principal.kind === 'aws').map(([n]) => n).sort();

  it.each(Object.keys(BUS_PRODUCERS))('%s: only its producer, with the optional senders configured and without', (detailType) => {
    const expected = BUS_PRODUCERS[detailType]!;
    for (const [d, params] of [[plain, {}], [configured, CONFIGURED]] as const) {
      const fromParams = (expected.roleParameters ?? []).flatMap((p) => ((params as Record<string, string>)[p] ? split((params as Record<string, string>)[p]!).map((arn) => `${p}:${arn}`) : []));
      expect(producers(d, detailType), JSON.stringify(params)).toEqual([...expected.roles, ...fromParams].sort());
      // Whatever the source it claims.
      expect(producers(d, detailType, 'quiesce.kubernetes')).toEqual(producers(d, detailType));
    }
  });

  it('a detail-type quiesce does not read is not its business (no rule routes it): not denied', () => {
    expect(producers(configured, 'Order Placed', 'com.example.shop')).toEqual(everyIamPrincipal(configured));
  });

  it('lets every role put what its IAM policy lets it publish (the PUBLISHES table), and a forged one is denied by a named statement', () => {
    for (const [role, kinds] of Object.entries(PUBLISHES)) {
      for (const [source, detailType] of kinds) expect(producers(plain, detailType, source), `${role}: ${detailType}`).toContain(role);
    }
    const forged = evaluateResourcePolicy(plain.busPolicy, { action: 'events:PutEvents', resource: plain.busArn, principal: aws(OUTSIDERS.Administrator), context: { 'aws:PrincipalArn': OUTSIDERS.Administrator, 'events:source': 'quiesce.kubernetes', 'events:detail-type': 'Pod Terminating' } });
    expect(forged).toEqual({ decision: 'deny', statement: 'PodEventsFromTheForwarderOnly' });
  });
});

describe('docs/security.md names the same principals', () => {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  /** The table rows of the section under `heading`. */
  const rows = (heading: string): string[] => {
    const start = doc.indexOf(heading);
    if (start < 0) throw new Error(`docs/security.md has no section "${heading}"`);
    const rest = doc.slice(start + heading.length);
    const end = rest.search(/\n#{2,3} /);
    return (end < 0 ? rest : rest.slice(0, end)).split('\n').filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l));
  };
  const ticked = (line: string): string[] => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

  it('the node-signal queue: every sender, and no other role of the stack', () => {
    const named = new Set(rows('### Who may send to the node-signal queue').flatMap(ticked));
    for (const n of [...QUEUE_SENDERS.roles, ...QUEUE_SENDERS.rules, ...QUEUE_SENDERS.roleParameters, ...QUEUE_SENDERS.topicParameters]) expect(named, n).toContain(n);
    for (const r of roleIds(plain).filter((r) => !(QUEUE_SENDERS.roles as readonly string[]).includes(r))) expect(named, r).not.toContain(r);
  });

  it('the bus: for every detail-type, the row that names it names exactly its producers', () => {
    const table = rows('### Who may put what on the quiesce bus');
    const stackRoles = roleIds(plain);
    for (const [detailType, p] of Object.entries(BUS_PRODUCERS)) {
      const row = table.find((l) => ticked(l).includes(detailType));
      expect(row, detailType).toBeDefined();
      const names = ticked(row!);
      expect(names.filter((n) => stackRoles.includes(n) || PARAMETER_ROLES.includes(n)).sort(), detailType).toEqual([...p.roles, ...(p.roleParameters ?? [])].sort());
    }
  });
});
