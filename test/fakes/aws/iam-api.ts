/**
 * Fake AWS IAM (signing name `iam`, awsQuery): roles with their trust policy and inline policies, as the
 * stack deploys them (tests install the rendered template's roles: test/package/deployed-roles.ts), and the
 * policy simulator quiesce's preflight calls to prove a write is allowed without making it.
 *
 * - GetRole: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html (NoSuchEntity, 404).
 * - SimulatePrincipalPolicy: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 *   Every action x resource is judged against the principal's policies (here: the role's inline policies)
 *   and, when given, `ResourcePolicy` (with `CallerArn` as the caller): an explicit Deny wins
 *   (`explicitDeny`), else an Allow that matches (`allowed`), else `implicitDeny`. The simulator does not
 *   read a resource's tags: a condition on `aws:ResourceTag/...` sees only the `ContextEntries` given, and a
 *   key a matching statement needs but the request lacks is listed in `MissingContextValues`. `MaxItems`
 *   and `Marker` page the results. (IAM User Guide, "Testing IAM policies with the IAM policy simulator".)
 *
 * Statements are judged with the resource-policy evaluator's own pieces (conditions, wildcards), so the
 * simulator and the fakes' queue and bus policies read a condition the same way. Not modelled: managed
 * policies, permissions boundaries, SCPs, session policies, NotAction / NotResource (they throw).
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';
import type { FakeIam } from './iam.ts';
import { conditionsMatch, evaluateResourcePolicy, wildcardMatch, type PolicyDocument, type PolicyStatement } from './policy.ts';
import { FAKE_ACCOUNT_ID } from './sts.ts';

/** One role as the fake keeps it. */
export interface FakeRole {
  readonly name: string;
  readonly arn: string;
  readonly id: string;
  readonly trustPolicy: PolicyDocument;
  /** Inline policies by name. */
  readonly policies: ReadonlyMap<string, PolicyDocument>;
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/** A statement of an identity policy applies to the action, the resource and the context. */
function identityStatementMatches(s: PolicyStatement, action: string, resource: string, context: Readonly<Record<string, string>>): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error(`NotAction / NotResource not understood by the fake simulator (${s.Sid ?? 'statement'})`);
  if (!list(s.Action).some((a) => wildcardMatch(a, action, true))) return false;
  if (!list(s.Resource).some((r) => wildcardMatch(r, resource))) return false;
  return conditionsMatch(s.Condition, context);
}

/** The condition keys a statement reads that the context lacks (what the simulator reports as missing). */
function missingKeys(s: PolicyStatement, context: Readonly<Record<string, string>>): string[] {
  const have = new Set(Object.keys(context).map((k) => k.toLowerCase()));
  return Object.values(s.Condition ?? {}).flatMap((keys) => Object.keys(keys)).filter((k) => !have.has(k.toLowerCase()));
}

export class FakeIamApi implements FakeService {
  readonly signingName = 'iam';
  readonly #iam: FakeIam;
  #roles = new Map<string, FakeRole>();

  constructor(_clock: FakeClock, iam: FakeIam) {
    this.#iam = iam;
  }

  reset(): void {
    this.#roles = new Map();
  }

  /** Adds (or replaces) a role with its trust policy and inline policies; returns its ARN. */
  putRole(arnOrName: string, trustPolicy: PolicyDocument, policies: Readonly<Record<string, PolicyDocument>> = {}): string {
    const name = arnOrName.slice(arnOrName.lastIndexOf('/') + 1);
    const arn = arnOrName.startsWith('arn:') ? arnOrName : `arn:aws:iam::${FAKE_ACCOUNT_ID}:role/${name}`;
    this.#roles.set(arn, { name, arn, id: this.#iam.roleIdOf(name), trustPolicy, policies: new Map(Object.entries(policies)) });
    return arn;
  }

  /** A role by ARN, or undefined. */
  role(arn: string): FakeRole | undefined {
    return this.#roles.get(arn);
  }

  /** Replaces one inline policy of a role (a test's planted fault: a policy that no longer allows a write). */
  putRolePolicy(roleArn: string, policyName: string, document: PolicyDocument): void {
    const role = this.#roles.get(roleArn);
    if (!role) throw new FakeAwsError('NoSuchEntity', `The role with name ${roleArn} cannot be found.`, 404);
    this.#roles.set(roleArn, { ...role, policies: new Map([...role.policies, [policyName, document]]) });
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetRole':
        return this.#getRole(input);
      case 'SimulatePrincipalPolicy':
        return this.#simulate(input);
      default:
        throw new UnknownOperationError('InvalidAction', `${operation} is not supported by the fake IAM`, 400);
    }
  }

  #getRole(input: Record<string, unknown>): unknown {
    const name = String(input.RoleName ?? '');
    const role = [...this.#roles.values()].find((r) => r.name === name);
    if (!role) throw new FakeAwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    return { Role: { Path: '/', RoleName: role.name, RoleId: role.id, Arn: role.arn, CreateDate: new Date(0), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(role.trustPolicy)) } };
  }

  #simulate(input: Record<string, unknown>): unknown {
    const source = String(input.PolicySourceArn ?? '');
    const role = this.#roles.get(source);
    if (!role) throw new FakeAwsError('NoSuchEntity', `The role with name ${source.slice(source.lastIndexOf('/') + 1)} cannot be found.`, 404);
    const actions = list(input.ActionNames as string[] | undefined);
    if (actions.length === 0) throw new FakeAwsError('InvalidInput', 'ActionNames must not be empty.', 400);
    const resources = list(input.ResourceArns as string[] | undefined);
    const context: Record<string, string> = {};
    for (const e of list(input.ContextEntries as { ContextKeyName?: string; ContextKeyValues?: string[] }[] | undefined)) {
      if (e.ContextKeyName && e.ContextKeyValues?.[0] !== undefined) context[e.ContextKeyName] = e.ContextKeyValues[0];
    }
    const resourcePolicy = typeof input.ResourcePolicy === 'string' ? (JSON.parse(input.ResourcePolicy) as PolicyDocument) : undefined;
    const callerArn = typeof input.CallerArn === 'string' ? input.CallerArn : role.arn;
    const results = actions.flatMap((action) =>
      (resources.length > 0 ? resources : ['*']).map((resource) => {
        const matched: { SourcePolicyId: string; SourcePolicyType: string }[] = [];
        const missing = new Set<string>();
        let deny = false;
        let allow = false;
        for (const [name, doc] of role.policies) {
          for (const s of list(doc.Statement)) {
            if (!list(s.Action).some((a) => wildcardMatch(a, action, true)) || !list(s.Resource).some((r) => wildcardMatch(r, resource))) continue;
            for (const k of missingKeys(s, context)) missing.add(k);
            if (!identityStatementMatches(s, action, resource, context)) continue;
            matched.push({ SourcePolicyId: name, SourcePolicyType: 'IAM Policy' });
            if (s.Effect === 'Deny') deny = true;
            else allow = true;
          }
        }
        if (resourcePolicy) {
          const verdict = evaluateResourcePolicy(resourcePolicy, { action, resource, principal: { kind: 'aws', arn: callerArn, account: FAKE_ACCOUNT_ID }, context });
          if (verdict.decision === 'deny') deny = true;
          if (verdict.decision === 'allow') allow = true;
          if (verdict.decision !== 'no-match') matched.push({ SourcePolicyId: 'ResourcePolicy', SourcePolicyType: 'Resource Policy' });
        }
        const decision = deny ? 'explicitDeny' : allow ? 'allowed' : 'implicitDeny';
        return { EvalActionName: action, EvalResourceName: resource, EvalDecision: decision, MatchedStatements: matched, MissingContextValues: decision === 'allowed' ? [] : [...missing] };
      }),
    );
    const max = Number(input.MaxItems ?? 1000);
    const start = Number(input.Marker ?? 0);
    const page = results.slice(start, start + max);
    const truncated = start + max < results.length;
    return { EvaluationResults: page, IsTruncated: truncated, ...(truncated ? { Marker: String(start + max) } : {}) };
  }
}
