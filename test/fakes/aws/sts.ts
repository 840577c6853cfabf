/**
 * Fake AWS STS (signing name `sts`, awsQuery protocol): GetCallerIdentity (the call the EKS token is a
 * presigned form of) and AssumeRole (how `quiesce doctor` checks a stage with each function's own role).
 * Also the home of the account and Region every fake service uses in its ARNs.
 *
 * - GetCallerIdentity: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html. A
 *   caller the fake's principal registry knows (iam.ts) is answered as itself (a role session as its
 *   assumed-role ARN, `<role id>:<session>`); anyone else gets `identity` (a test may replace it).
 * - AssumeRole: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html. The role must
 *   exist (the fake IAM's roles) and its trust policy must allow the caller (an explicit Allow for the
 *   caller's ARN or account); else AccessDenied (403), as for a role that does not exist. RoleSessionName
 *   is 2-64 of `[\w+=,.@-]`. The credentials returned sign as a session of the role.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService, RequestCaller } from './core.ts';
import type { FakeIam } from './iam.ts';
import type { FakeIamApi } from './iam-api.ts';
import { evaluateResourcePolicy } from './policy.ts';

/** The account every fake resource belongs to. */
export const FAKE_ACCOUNT_ID = '123456789012';
/** The Region every fake resource lives in. */
export const FAKE_REGION = 'us-east-1';

/** The GetCallerIdentity response shape. */
export interface CallerIdentity {
  UserId: string;
  Account: string;
  Arn: string;
}

const DEFAULT_IDENTITY: CallerIdentity = {
  UserId: 'AROAFAKEQUIESCEROLE01:quiesce',
  Account: FAKE_ACCOUNT_ID,
  Arn: `arn:aws:sts::${FAKE_ACCOUNT_ID}:assumed-role/quiesce-lambda/quiesce`,
};

/** The assumed-role ARN of a role session: what GetCallerIdentity and AssumeRole report. */
export const assumedRoleArn = (roleArn: string, session: string): string =>
  `arn:aws:sts::${/:iam::(\d{12}):/.exec(roleArn)?.[1] ?? FAKE_ACCOUNT_ID}:assumed-role/${roleArn.slice(roleArn.lastIndexOf('/') + 1)}/${session}`;

export class FakeSts implements FakeService {
  readonly signingName = 'sts';
  /** What GetCallerIdentity returns to a caller the principal registry does not know; tests may replace it. */
  identity: CallerIdentity = { ...DEFAULT_IDENTITY };
  readonly #iam: FakeIam | undefined;
  readonly #roles: FakeIamApi | undefined;
  #sessions = 0;

  // The clock is unused (nothing in STS happens later) but kept for the uniform `(clock)` constructor.
  constructor(_clock?: FakeClock, iam?: FakeIam, roles?: FakeIamApi) {
    this.#iam = iam;
    this.#roles = roles;
  }

  handle(operation: string, input: Record<string, unknown>, caller?: RequestCaller): unknown {
    switch (operation) {
      case 'GetCallerIdentity':
        return this.#callerIdentity(caller);
      case 'AssumeRole':
        return this.#assumeRole(input, caller);
      default:
        throw new UnknownOperationError('InvalidAction', `The action ${operation} is not valid for this web service.`, 400);
    }
  }

  #callerIdentity(caller: RequestCaller | undefined): CallerIdentity {
    const p = caller?.accessKeyId !== undefined && this.#iam?.knows(caller.accessKeyId) ? this.#iam.principalOf(caller.accessKeyId) : undefined;
    if (!p) return { ...this.identity };
    return { UserId: p.senderId, Account: p.account, Arn: p.kind === 'role-session' ? assumedRoleArn(p.arn, p.session ?? '') : p.arn };
  }

  #assumeRole(input: Record<string, unknown>, caller: RequestCaller | undefined): unknown {
    const roleArn = String(input.RoleArn ?? '');
    const session = String(input.RoleSessionName ?? '');
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) throw new FakeAwsError('ValidationError', `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint`, 400);
    const who = this.#callerIdentity(caller);
    const principal = this.#iam && caller?.accessKeyId !== undefined ? this.#iam.principalOf(caller.accessKeyId) : undefined;
    const role = this.#roles?.role(roleArn);
    // A trust policy names no Resource (the role is the resource): judged as if every statement named it.
    const trust = role && { ...role.trustPolicy, Statement: [role.trustPolicy.Statement].flat().map((st) => ({ Resource: roleArn, ...st })) };
    const trusted = trust !== undefined && principal !== undefined && evaluateResourcePolicy(trust, { action: 'sts:AssumeRole', resource: roleArn, principal: { kind: 'aws', arn: principal.arn, account: principal.account }, context: { 'aws:PrincipalArn': principal.arn } }).decision === 'allow';
    if (!trusted || !role || !this.#iam) throw new FakeAwsError('AccessDenied', `User: ${who.Arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    this.#sessions += 1;
    const accessKeyId = this.#iam.assumeRole(roleArn, session);
    const duration = Number(input.DurationSeconds ?? 3600);
    return {
      Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'test', SessionToken: `fake-session-token-${this.#sessions}`, Expiration: new Date(Date.now() + duration * 1000) },
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${session}`, Arn: assumedRoleArn(roleArn, session) },
    };
  }

  reset(): void {
    this.identity = { ...DEFAULT_IDENTITY };
  }
}
