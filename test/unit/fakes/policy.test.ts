/**
 * The resource-policy evaluator the fakes and the package test share (functions/_core/policy/resource-policy.ts), held to the
 * IAM rules it cites: an explicit Deny wins, condition keys AND, values OR, an absent key is false for a
 * positive operator and true for a negated one, IfExists and Null test presence, and anything it does not
 * understand throws instead of being guessed.
 */
import { describe, expect, it } from 'vitest';
import { evaluateResourcePolicy, resourcePolicyAdmits, wildcardMatch, type PolicyDocument, type PolicyPrincipal, type PolicyRequest } from '../../fakes/aws/policy.ts';

const ACCOUNT = '123456789012';
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:node-signals`;
const RULE = `arn:aws:events:us-east-1:${ACCOUNT}:rule/spot`;
const SPOT_ROLE = `arn:aws:iam::${ACCOUNT}:role/spot`;
const role = (arn: string, account = ACCOUNT): PolicyPrincipal => ({ kind: 'aws', arn, account });
const send = (principal: PolicyPrincipal, context: Record<string, string> = {}): PolicyRequest => ({
  action: 'sqs:SendMessage',
  resource: QUEUE,
  principal,
  context: { ...context, ...(principal.kind === 'aws' ? { 'aws:PrincipalArn': principal.arn } : {}) },
});

/** The shape the stack deploys: EventBridge for one rule allowed; everyone but the role and the rule denied. */
const onlySenders: PolicyDocument = {
  Statement: [
    { Sid: 'Rules', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE, Condition: { ArnEquals: { 'aws:SourceArn': [RULE] } } },
    { Sid: 'OnlySenders', Effect: 'Deny', Principal: '*', Action: 'sqs:SendMessage', Resource: QUEUE, Condition: { ArnNotLike: { 'aws:PrincipalArn': [SPOT_ROLE] }, ArnNotEquals: { 'aws:SourceArn': [RULE] } } },
  ],
};

describe('evaluateResourcePolicy', () => {
  it('lets the listed role and the listed rule through, and denies every other principal', () => {
    expect(evaluateResourcePolicy(onlySenders, send(role(SPOT_ROLE)))).toEqual({ decision: 'no-match' });
    expect(evaluateResourcePolicy(onlySenders, send({ kind: 'service', service: 'events.amazonaws.com' }, { 'aws:SourceArn': RULE }))).toEqual({ decision: 'allow', statement: 'Rules' });
    expect(evaluateResourcePolicy(onlySenders, send(role(`arn:aws:iam::${ACCOUNT}:role/admin`)))).toEqual({ decision: 'deny', statement: 'OnlySenders' });
    // Another rule of the account (an attacker's), and SNS for any topic: denied.
    expect(evaluateResourcePolicy(onlySenders, send({ kind: 'service', service: 'events.amazonaws.com' }, { 'aws:SourceArn': `${RULE}-evil` })).decision).toBe('deny');
    expect(evaluateResourcePolicy(onlySenders, send({ kind: 'service', service: 'sns.amazonaws.com' }, { 'aws:SourceArn': `arn:aws:sns:us-east-1:${ACCOUNT}:t` })).decision).toBe('deny');
    expect(evaluateResourcePolicy(onlySenders, send({ kind: 'anonymous' })).decision).toBe('deny');
  });

  it('an explicit Deny wins over an Allow that also matches', () => {
    const both: PolicyDocument = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:*', Resource: '*' }, { Sid: 'no', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:SendMessage', Resource: QUEUE }] };
    expect(evaluateResourcePolicy(both, send(role(SPOT_ROLE)))).toEqual({ decision: 'deny', statement: 'no' });
  });

  it('an absent key is false for a positive operator and true for a negated one; IfExists and Null test presence', () => {
    const deny = (Condition: Record<string, Record<string, unknown>>): PolicyDocument => ({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 'sqs:SendMessage', Resource: QUEUE, Condition }] });
    const anon = send({ kind: 'anonymous' });
    expect(evaluateResourcePolicy(deny({ ArnEquals: { 'aws:SourceArn': RULE } }), anon).decision).toBe('no-match');
    expect(evaluateResourcePolicy(deny({ StringEquals: { 'aws:SourceArn': RULE } }), anon).decision).toBe('no-match');
    expect(evaluateResourcePolicy(deny({ ArnNotEquals: { 'aws:SourceArn': RULE } }), anon).decision).toBe('deny');
    expect(evaluateResourcePolicy(deny({ StringNotLike: { 'aws:SourceArn': RULE } }), anon).decision).toBe('deny');
    expect(evaluateResourcePolicy(deny({ ArnEqualsIfExists: { 'aws:SourceArn': RULE } }), anon).decision).toBe('deny');
    expect(evaluateResourcePolicy(deny({ Null: { 'aws:SourceArn': 'true' } }), anon).decision).toBe('deny');
    expect(evaluateResourcePolicy(deny({ Null: { 'aws:SourceArn': 'false' } }), anon).decision).toBe('no-match');
  });

  it('ANDs operators and keys, ORs the values of one key; keys are case-insensitive, values are not', () => {
    const allow: PolicyDocument = {
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: '*', Condition: { StringEquals: { 'events:detail-type': ['Pod Terminating', 'Pod Not Ready'], 'EVENTS:SOURCE': 'quiesce.kubernetes' } } }],
    };
    const put = (source: string, detailType: string): PolicyRequest => ({ action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:1:event-bus/q', principal: role(SPOT_ROLE), context: { 'events:source': source, 'events:detail-type': detailType } });
    expect(evaluateResourcePolicy(allow, put('quiesce.kubernetes', 'Pod Not Ready')).decision).toBe('allow');
    expect(evaluateResourcePolicy(allow, put('quiesce.kubernetes', 'pod not ready')).decision).toBe('no-match');
    expect(evaluateResourcePolicy(allow, put('quiesce', 'Pod Terminating')).decision).toBe('no-match');
  });

  it('matches principals: a role ARN, an account (id or :root) for all its principals, a service', () => {
    const by = (Principal: unknown): PolicyDocument => ({ Statement: [{ Effect: 'Allow', Principal, Action: 'sqs:SendMessage', Resource: QUEUE }] });
    expect(evaluateResourcePolicy(by({ AWS: SPOT_ROLE }), send(role(SPOT_ROLE))).decision).toBe('allow');
    expect(evaluateResourcePolicy(by({ AWS: SPOT_ROLE }), send(role(`${SPOT_ROLE}x`))).decision).toBe('no-match');
    expect(evaluateResourcePolicy(by({ AWS: ACCOUNT }), send(role(`arn:aws:iam::${ACCOUNT}:user/bob`))).decision).toBe('allow');
    expect(evaluateResourcePolicy(by({ AWS: `arn:aws:iam::${ACCOUNT}:root` }), send(role(SPOT_ROLE, '999999999999'))).decision).toBe('no-match');
    expect(evaluateResourcePolicy(by({ Service: ['sns.amazonaws.com'] }), send({ kind: 'service', service: 'sns.amazonaws.com' })).decision).toBe('allow');
    expect(evaluateResourcePolicy(by({ Service: 'sns.amazonaws.com' }), send(role(SPOT_ROLE))).decision).toBe('no-match');
  });

  it('matches actions case-insensitively with wildcards, resources with wildcards', () => {
    const p: PolicyDocument = { Statement: [{ Effect: 'Allow', Principal: '*', Action: ['SQS:Send*'], Resource: 'arn:aws:sqs:us-east-1:*:node-*' }] };
    expect(evaluateResourcePolicy(p, send(role(SPOT_ROLE))).decision).toBe('allow');
    expect(evaluateResourcePolicy(p, { ...send(role(SPOT_ROLE)), action: 'sqs:ReceiveMessage' }).decision).toBe('no-match');
    expect(wildcardMatch('a?c*', 'abcdef')).toBe(true);
    expect(wildcardMatch('a.c', 'abc')).toBe(false);
  });

  it('refuses what it does not understand instead of guessing', () => {
    const base = { Effect: 'Deny' as const, Principal: '*', Action: 'sqs:SendMessage', Resource: QUEUE };
    expect(() => evaluateResourcePolicy({ Statement: [{ ...base, Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'x' } } }] }, send(role(SPOT_ROLE)))).toThrow(/set operator/);
    expect(() => evaluateResourcePolicy({ Statement: [{ ...base, Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } } }] }, send(role(SPOT_ROLE)))).toThrow(/not understood/);
    expect(() => evaluateResourcePolicy({ Statement: [{ ...base, NotAction: 'sqs:ReceiveMessage' }] }, send(role(SPOT_ROLE)))).toThrow(/NotAction/);
    expect(() => evaluateResourcePolicy({ Statement: [{ ...base, Principal: { Federated: 'x' } }] }, send(role(SPOT_ROLE)))).toThrow(/Federated/);
  });
});

describe('resourcePolicyAdmits', () => {
  it('admits the account\'s principals unless denied (identity policies are assumed), services only when allowed', () => {
    expect(resourcePolicyAdmits(undefined, send(role(SPOT_ROLE)), ACCOUNT)).toBe(true);
    expect(resourcePolicyAdmits(undefined, send(role(SPOT_ROLE, '999999999999')), ACCOUNT)).toBe(false);
    expect(resourcePolicyAdmits(undefined, send({ kind: 'service', service: 'events.amazonaws.com' }, { 'aws:SourceArn': RULE }), ACCOUNT)).toBe(false);
    expect(resourcePolicyAdmits(onlySenders, send({ kind: 'service', service: 'events.amazonaws.com' }, { 'aws:SourceArn': RULE }), ACCOUNT)).toBe(true);
    expect(resourcePolicyAdmits(onlySenders, send(role(`arn:aws:iam::${ACCOUNT}:role/ci`)), ACCOUNT)).toBe(false);
  });
});
