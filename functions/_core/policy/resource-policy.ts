/**
 * A small evaluator of IAM resource policies (an SQS queue policy, an EventBridge bus policy), shared by
 * `quiesce doctor` (which judges a live stage's queue and bus policies with it: functions/_core/preflight/),
 * the fake SQS and the fake EventBridge (which enforce the policy a test sets, as AWS does; they re-export it
 * from test/fakes/aws/policy.ts) and the package test that checks the rendered template statement by
 * statement. One evaluator, so the preflight and the fakes cannot disagree.
 *
 * What it follows (IAM User Guide):
 * - "Policy evaluation logic": an explicit Deny in any statement wins over every Allow; a resource policy's
 *   Allow adds to what the principal's identity policies allow (same account), it restricts nothing.
 * - "Condition operators": every operator and every key of a statement's Condition must match (AND); a list
 *   of values for one key matches when any value does (OR). A key the request does not carry makes a
 *   positive operator false and a negated one (StringNotEquals, StringNotLike, ArnNotEquals, ArnNotLike)
 *   true; `...IfExists` is true when the key is absent; `Null` tests presence. Keys are case-insensitive.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * - "Principal": `"*"` and `{"AWS": "*"}` match everyone; `{"AWS": <role ARN>}` every session of that role;
 *   `{"AWS": <account id or :root ARN>}` every principal of that account; `{"Service": ...}` that service.
 *
 * What it refuses (throws, so a policy that needs more is noticed, never mis-evaluated): NotPrincipal,
 * NotAction, NotResource, ForAnyValue/ForAllValues, and operators not listed above.
 */

/** Who makes the request. */
export type PolicyPrincipal =
  /** An IAM role session or IAM user: `arn` is the role's (or user's) ARN, as a policy's Principal names it. */
  | { readonly kind: 'aws'; readonly arn: string; readonly account: string }
  /** An AWS service acting for a resource (EventBridge delivering a rule's event, SNS a topic's message). */
  | { readonly kind: 'service'; readonly service: string }
  | { readonly kind: 'anonymous' };

/** One request as a resource policy sees it. */
export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  readonly principal: PolicyPrincipal;
  /** Condition keys present in the request (`aws:SourceArn`, `aws:PrincipalArn`, `events:detail-type`...). */
  readonly context: Readonly<Record<string, string>>;
}

/** A statement as CloudFormation renders it (JSON). */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Action?: string | readonly string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | readonly string[];
  readonly NotResource?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A policy document. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[] | PolicyStatement;
}

/** The resource policy's verdict: `deny` = an explicit Deny matched; `allow` = an Allow matched and no Deny. */
export interface PolicyVerdict {
  readonly decision: 'deny' | 'allow' | 'no-match';
  /** The Sid (or index) of the deciding statement. */
  readonly statement?: string;
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/** `*` any run, `?` one character; the rest literal. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'is' : 's');
  return re.test(value);
}

/** The account a principal element value names, if it names a whole account. */
function accountOf(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(value)?.[1];
}

function principalMatches(element: unknown, principal: PolicyPrincipal): boolean {
  if (element === '*') return true;
  if (element === null || typeof element !== 'object' || Array.isArray(element)) throw new Error(`Principal not understood: ${JSON.stringify(element)}`);
  for (const [kind, values] of Object.entries(element as Record<string, unknown>)) {
    for (const value of list(values as string | string[])) {
      if (typeof value !== 'string') throw new Error(`Principal value not understood: ${JSON.stringify(value)}`);
      if (kind === 'AWS') {
        if (value === '*') return true;
        if (principal.kind !== 'aws') continue;
        const account = accountOf(value);
        if (account !== undefined ? principal.account === account : principal.arn === value) return true;
      } else if (kind === 'Service') {
        if (principal.kind === 'service' && principal.service === value) return true;
      } else throw new Error(`Principal kind ${kind} not understood by this evaluator`);
    }
  }
  return false;
}

const NEGATED = new Set(['StringNotEquals', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike']);

/** One operator over one key: `values` as written in the policy, `actual` from the request (undefined = absent). */
function operatorMatches(operator: string, values: readonly unknown[], actual: string | undefined): boolean {
  if (/^For(Any|All)Value:/.test(operator)) throw new Error(`set operator ${operator} not understood by this evaluator`);
  const ifExists = operator.endsWith('IfExists');
  const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  const strings = values.map((v) => (typeof v === 'boolean' ? String(v) : v));
  if (!strings.every((v) => typeof v === 'string')) throw new Error(`${operator}: values must be strings, got ${JSON.stringify(values)}`);
  const wanted = strings as string[];
  if (base === 'Null') {
    // "true": the key must be absent; "false": present.
    return wanted.some((w) => (w === 'true' ? actual === undefined : actual !== undefined));
  }
  if (actual === undefined) {
    if (!['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike', 'Bool'].includes(base)) {
      throw new Error(`condition operator ${operator} not understood by this evaluator`);
    }
    return ifExists || NEGATED.has(base);
  }
  switch (base) {
    case 'StringEquals':
      return wanted.includes(actual);
    case 'StringNotEquals':
      return !wanted.includes(actual);
    case 'StringEqualsIgnoreCase':
      return wanted.some((w) => w.toLowerCase() === actual.toLowerCase());
    case 'StringLike':
    case 'ArnEquals':
    case 'ArnLike':
      return wanted.some((w) => wildcardMatch(w, actual));
    case 'StringNotLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return !wanted.some((w) => wildcardMatch(w, actual));
    case 'Bool':
      return wanted.some((w) => w.toLowerCase() === actual.toLowerCase());
    default:
      throw new Error(`condition operator ${operator} not understood by this evaluator`);
  }
}

/** Whether every condition of a statement holds for the request. */
export function conditionsMatch(condition: PolicyStatement['Condition'], context: Readonly<Record<string, string>>): boolean {
  const lower = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => operatorMatches(operator, list(values as unknown), lower.get(key.toLowerCase()))),
  );
}

/** Whether a statement applies to the request (principal, action, resource, conditions). */
export function statementMatches(s: PolicyStatement, request: PolicyRequest): boolean {
  if (s.NotPrincipal !== undefined || s.NotAction !== undefined || s.NotResource !== undefined) throw new Error(`NotPrincipal / NotAction / NotResource not understood by this evaluator (${s.Sid ?? 'statement'})`);
  if (s.Principal === undefined) throw new Error(`a resource policy statement needs a Principal (${s.Sid ?? 'statement'})`);
  if (!principalMatches(s.Principal, request.principal)) return false;
  if (!list(s.Action).some((a) => wildcardMatch(a, request.action, true))) return false;
  if (!list(s.Resource).some((r) => wildcardMatch(r, request.resource))) return false;
  return conditionsMatch(s.Condition, request.context);
}

/**
 * The resource policy's verdict on one request: a matching Deny wins; else a matching Allow; else nothing
 * (then the principal's identity policies decide, for principals of the account; a service principal has
 * none, so `no-match` denies it).
 *
 * @example
 * evaluateResourcePolicy(queuePolicy, { action: 'sqs:SendMessage', resource: queueArn, principal, context: { 'aws:SourceArn': ruleArn } })
 */
export function evaluateResourcePolicy(policy: PolicyDocument, request: PolicyRequest): PolicyVerdict {
  const statements = list(policy.Statement);
  let allow: string | undefined;
  for (const [i, s] of statements.entries()) {
    if (!statementMatches(s, request)) continue;
    const id = s.Sid ?? String(i);
    if (s.Effect === 'Deny') return { decision: 'deny', statement: id };
    allow ??= id;
  }
  return allow !== undefined ? { decision: 'allow', statement: allow } : { decision: 'no-match' };
}

/**
 * Whether the request gets through: no explicit Deny, and an Allow from the resource policy or (for an IAM
 * principal of the resource's own account) from its identity policies, which the fakes assume grant the
 * call (they do not model identity policies).
 */
export function resourcePolicyAdmits(policy: PolicyDocument | undefined, request: PolicyRequest, resourceAccount: string): boolean {
  const verdict = policy ? evaluateResourcePolicy(policy, request).decision : 'no-match';
  if (verdict === 'deny') return false;
  if (verdict === 'allow') return true;
  return request.principal.kind === 'aws' && request.principal.account === resourceAccount;
}
