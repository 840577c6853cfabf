/**
 * The fake IAM's policy simulator and the fake STS's AssumeRole, through the real SDK clients: identity
 * policies judged with their conditions (a missing context key is reported, and denies), an explicit Deny
 * winning, paging; AssumeRole only where the trust policy lets the caller in, and the session then known to
 * GetCallerIdentity as the role's.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeAws } from '../../fakes/aws/shared.ts';

const ROLE = 'arn:aws:iam::123456789012:role/quiesce-prod-sweeper-us-east-1';
const saved = process.env.AWS_ACCESS_KEY_ID;
afterEach(() => {
  process.env.AWS_ACCESS_KEY_ID = saved;
});

describe('the fake IAM simulator', () => {
  it('judges a role\'s statements with their conditions, reports missing context, lets a Deny win, and pages', async () => {
    fakeAws.iamApi.putRole(ROLE, { Statement: [] }, {
      sweeper: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Tagged', Effect: 'Allow', Action: 'elasticloadbalancing:DeregisterTargets', Resource: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/*/*', Condition: { StringEquals: { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'prod' } } },
          { Sid: 'NotThatOne', Effect: 'Deny', Action: 'elasticloadbalancing:*', Resource: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/forbidden/*' },
        ],
      },
    });
    const iam = new IAMClient({});
    const simulate = async (resource: string, context: Record<string, string> = {}, marker?: string) =>
      iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: ROLE, ActionNames: ['elasticloadbalancing:DeregisterTargets'], ResourceArns: [resource], ContextEntries: Object.entries(context).map(([k, v]) => ({ ContextKeyName: k, ContextKeyValues: [v], ContextKeyType: 'string' })), ...(marker ? { Marker: marker } : {}) }));
    const group = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/abc`;
    expect((await simulate(group('web'), { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'prod' })).EvaluationResults?.[0]).toMatchObject({ EvalDecision: 'allowed', MatchedStatements: [{ SourcePolicyId: 'sweeper' }] });
    expect((await simulate(group('web'), { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'staging' })).EvaluationResults?.[0]).toMatchObject({ EvalDecision: 'implicitDeny' });
    expect((await simulate(group('web'))).EvaluationResults?.[0]).toMatchObject({ EvalDecision: 'implicitDeny', MissingContextValues: ['aws:ResourceTag/elbv2.k8s.aws/cluster'] });
    expect((await simulate(group('forbidden'), { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'prod' })).EvaluationResults?.[0]).toMatchObject({ EvalDecision: 'explicitDeny' });
    await expect(iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:iam::123456789012:role/none', ActionNames: ['s3:GetObject'] }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    const many = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: ROLE, ActionNames: ['elasticloadbalancing:DeregisterTargets'], ResourceArns: [group('a'), group('b'), group('c')], MaxItems: 2 }));
    expect([many.EvaluationResults?.length, many.IsTruncated]).toEqual([2, true]);
    const rest = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: ROLE, ActionNames: ['elasticloadbalancing:DeregisterTargets'], ResourceArns: [group('a'), group('b'), group('c')], MaxItems: 2, Marker: many.Marker }));
    expect([rest.EvaluationResults?.length, rest.IsTruncated]).toEqual([1, false]);
  });
});

describe('the fake STS', () => {
  it('assumes a role only for a caller its trust policy names, and knows the session afterwards', async () => {
    process.env.AWS_ACCESS_KEY_ID = fakeAws.iam.addUser('oncall');
    fakeAws.iamApi.putRole(ROLE, { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    const sts = new STSClient({});
    expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({ Arn: 'arn:aws:iam::123456789012:user/oncall' });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'doctor' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    fakeAws.iamApi.putRole(ROLE, { Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:user/oncall' }, Action: 'sts:AssumeRole' }] });
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'doctor' }));
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/quiesce-prod-sweeper-us-east-1/doctor');
    const asRole = new STSClient({ credentials: { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! } });
    expect(await asRole.send(new GetCallerIdentityCommand({}))).toMatchObject({ Arn: 'arn:aws:sts::123456789012:assumed-role/quiesce-prod-sweeper-us-east-1/doctor', UserId: expect.stringMatching(/^AROA[A-Z0-9]{17}:doctor$/) });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/none', RoleSessionName: 'doctor' }))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
