/**
 * Who is calling: the fake's registry of IAM principals behind access key ids, so the fake SQS can report
 * each message's `SenderId` as AWS does and both the fake SQS and the fake EventBridge can judge a request
 * by the resource policy a test set (policy.ts). The fake models no identity policies: a principal of the
 * account may do anything its resource's policy does not explicitly deny.
 *
 * SenderId, per sender kind (docs/aws-facts.md#sqs-senderid):
 * - an IAM role session: `<role id>:<session name>` (SQS API reference, ReceiveMessage: "For an IAM role,
 *   returns the IAM role ID, for example ABCDE1F2GH3I4JK5LMNOP:i-a123b456"); a Lambda function's session
 *   name is the function's name (user reports: its assumed-role ARN is `.../<role>/<function>`);
 * - an IAM user: its user id (same page: "For an IAM user, returns the IAM user ID");
 * - an AWS service delivering for a resource (SNS for a topic, EventBridge for a rule): an id of an
 *   AWS-owned identity, the same whatever the resource. Not documented; SNS's is reported by users as
 *   `AIDAIT2UOQQY3AUEKVGXU` (moto answers that constant for every message); EventBridge's is not reported,
 *   so the fake uses an id of the same shape that is no principal of the account.
 * Role and user ids are 21 characters, `AROA` / `AIDA` then 17 of [A-Z0-9]; the fake derives them from the
 * name, so they are stable across runs.
 */
import { createHash } from 'node:crypto';
import { FAKE_ACCOUNT_ID } from './sts.ts';

/** SenderId of SNS's own deliveries (user reports; the value moto answers for every message). */
export const SNS_SENDER_ID = 'AIDAIT2UOQQY3AUEKVGXU';
/** SenderId the fake gives EventBridge's deliveries (AWS's real value is not documented). */
export const EVENTBRIDGE_SENDER_ID = 'AIDAFAKEEVENTBRIDGE01';

/** The role and session behind credentials nobody registered: what every test used before principals. */
export const DEFAULT_ROLE = { name: 'quiesce-lambda', id: 'AROAFAKEQUIESCEROLE01', session: 'quiesce' } as const;

/** An IAM principal that signs requests. */
export interface FakePrincipal {
  readonly kind: 'role-session' | 'user';
  /** The role's (or user's) ARN: what a policy's Principal and `aws:PrincipalArn` name. */
  readonly arn: string;
  readonly account: string;
  /** What SQS reports as the SenderId of a message this principal sends. */
  readonly senderId: string;
  /** The role session's name (role sessions only). */
  readonly session?: string;
}

/** An AWS service sending for one of its resources (SNS for a topic, EventBridge for a rule). */
export interface FakeServiceSender {
  readonly service: 'sns.amazonaws.com' | 'events.amazonaws.com' | string;
  /** The resource it sends for: `aws:SourceArn`. */
  readonly sourceArn: string;
}

const idOf = (prefix: 'AROA' | 'AIDA', name: string): string =>
  prefix +
  [...createHash('sha256').update(name).digest()]
    .slice(0, 17)
    .map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32])
    .join('');

/** The name in a role or user ARN (after the last `/`), or the name itself. */
const nameOf = (arnOrName: string): string => arnOrName.slice(arnOrName.lastIndexOf('/') + 1);

/** The registry (one per FakeAws, emptied on reset). */
export class FakeIam {
  #keys = new Map<string, FakePrincipal>();
  #seq = 0;

  /** The unique id IAM gives a role (`!GetAtt Role.RoleId`): stable per role name. */
  roleIdOf(roleArnOrName: string): string {
    const name = nameOf(roleArnOrName);
    return name === DEFAULT_ROLE.name ? DEFAULT_ROLE.id : idOf('AROA', `role/${name}`);
  }

  /** The unique id IAM gives a user. */
  userIdOf(userArnOrName: string): string {
    return idOf('AIDA', `user/${nameOf(userArnOrName)}`);
  }

  /**
   * Credentials for a session of a role (what AssumeRole, Lambda or Scheduler hand out); returns the access
   * key id to sign with (pass `accessKeyId` to choose it).
   */
  assumeRole(roleArnOrName: string, sessionName: string, accessKeyId = this.#nextKey('ASIA')): string {
    const name = nameOf(roleArnOrName);
    this.#keys.set(accessKeyId, {
      kind: 'role-session',
      arn: roleArnOrName.startsWith('arn:') ? roleArnOrName : `arn:aws:iam::${FAKE_ACCOUNT_ID}:role/${name}`,
      account: FAKE_ACCOUNT_ID,
      senderId: `${this.roleIdOf(name)}:${sessionName}`,
      session: sessionName,
    });
    return accessKeyId;
  }

  /** Credentials of an IAM user; returns the access key id. */
  addUser(userName: string, accessKeyId = this.#nextKey('AKIA')): string {
    this.#keys.set(accessKeyId, { kind: 'user', arn: `arn:aws:iam::${FAKE_ACCOUNT_ID}:user/${userName}`, account: FAKE_ACCOUNT_ID, senderId: this.userIdOf(userName) });
    return accessKeyId;
  }

  /** Whether an access key id was registered (a role session or a user), not the default principal. */
  knows(accessKeyId: string): boolean {
    return this.#keys.has(accessKeyId);
  }

  /** The principal behind an access key id; unregistered keys are a session of {@link DEFAULT_ROLE}. */
  principalOf(accessKeyId: string | undefined): FakePrincipal {
    const known = accessKeyId === undefined ? undefined : this.#keys.get(accessKeyId);
    return known ?? { kind: 'role-session', arn: `arn:aws:iam::${FAKE_ACCOUNT_ID}:role/${DEFAULT_ROLE.name}`, account: FAKE_ACCOUNT_ID, senderId: `${DEFAULT_ROLE.id}:${DEFAULT_ROLE.session}`, session: DEFAULT_ROLE.session };
  }

  reset(): void {
    this.#keys = new Map();
    this.#seq = 0;
  }

  #nextKey(prefix: string): string {
    this.#seq += 1;
    return `${prefix}FAKE${String(this.#seq).padStart(12, '0')}`;
  }
}

/** SenderId of a service's delivery, as the fake reports it. */
export function serviceSenderId(sender: FakeServiceSender): string {
  return sender.service === 'sns.amazonaws.com' ? SNS_SENDER_ID : sender.service === 'events.amazonaws.com' ? EVENTBRIDGE_SENDER_ID : idOf('AIDA', `service/${sender.service}`);
}
