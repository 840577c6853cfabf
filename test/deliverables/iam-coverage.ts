/**
 * Holds each function's IAM role against the AWS calls its code can make (sdk-calls.ts), both ways:
 * an action the code sends that the role does not allow fails in production with AccessDenied, and an
 * action the role allows that no code sends is privilege nobody needs. Pure: takes the packaged
 * CloudFormation template and the per-function calls, returns what is missing and what is unused.
 *
 * What a role may hold without the code sending it is derived from the template, never listed by hand:
 * the actions the Lambda service itself performs with the function's role (logs, the SQS event source,
 * an SQS on-failure destination, the network interfaces of a function in a VPC) and the actions AWS checks on
 * behalf of another call (IMPLIED). A statement or a VpcConfig under `Fn::If` counts in either branch.
 */
import { statementsOf, variants } from '../package/template.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
}
/** The parts of a CloudFormation template the check reads. */
export interface Template {
  Resources: Record<string, Resource>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const getAtt = (v: unknown): string | undefined => ((v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'] ?? [])[0];
const ref = (v: unknown): string | undefined => (v as { Ref?: string } | undefined)?.Ref;

/**
 * Actions IAM evaluates as part of another call, so the role needs them though no code sends them.
 * Service Authorization Reference: scheduler:CreateSchedule lists iam:PassRole as a dependent action (the
 * schedule's target role); ssm:GetParameter of a SecureString with WithDecryption needs kms:Decrypt on its key.
 */
export const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  'scheduler:CreateSchedule': ['iam:PassRole'],
  'ssm:GetParameter': ['kms:Decrypt'],
};

/**
 * API operations IAM authorizes under another action's name. SQS batch operations need the permission of
 * the single one ("ChangeMessageVisibilityBatch: ... the permission is sqs:ChangeMessageVisibility", SQS
 * Developer Guide, "Amazon SQS API permissions: Actions and resource reference"); there is no
 * sqs:ChangeMessageVisibilityBatch action to grant.
 */
export const AUTHORIZED_AS: Readonly<Record<string, string>> = {
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
};

/** What Lambda does with the role of a function in a VPC (AWSLambdaVPCAccessExecutionRole minus logs). */
export const VPC_ACTIONS: readonly string[] = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * The actions the Lambda service performs with a function's execution role, read from the template:
 * - CloudWatch Logs for the function's log group (CreateLogGroup only if the stack does not create it);
 * - an SQS event source mapping polls with the role: sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes
 *   (Lambda DG, "Execution role permissions" for SQS); ChangeMessageVisibility is NOT among them;
 * - an SQS on-failure destination of an asynchronous invocation is written with the role: sqs:SendMessage;
 * - a function with a VpcConfig has Lambda create and remove its network interfaces with the role (Lambda DG,
 *   "Giving Lambda functions access to resources in an Amazon VPC": the actions of the managed policy
 *   AWSLambdaVPCAccessExecutionRole besides logs).
 */
export function lambdaServiceActions(template: Template, functionId: string): Set<string> {
  const out = new Set(['logs:CreateLogStream', 'logs:PutLogEvents']);
  const resources = Object.entries(template.Resources);
  const logGroup = (template.Resources[functionId]?.Properties['LoggingConfig'] as Json | undefined)?.['LogGroup'];
  if (!logGroup && !resources.some(([id, r]) => r.Type === 'AWS::Logs::LogGroup' && functionId.startsWith(id.replace(/LogGroup$/, '')))) {
    out.add('logs:CreateLogGroup');
  }
  if (variants(template.Resources[functionId]?.Properties['VpcConfig']).length > 0) {
    for (const a of VPC_ACTIONS) out.add(a);
  }
  const isQueue = (id: string | undefined): boolean => id !== undefined && template.Resources[id]?.Type === 'AWS::SQS::Queue';
  for (const [, r] of resources) {
    const fn = getAtt(r.Properties['FunctionName']) ?? ref(r.Properties['FunctionName']);
    if (fn !== functionId) continue;
    if (r.Type === 'AWS::Lambda::EventSourceMapping' && isQueue(getAtt(r.Properties['EventSourceArn']))) {
      for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) out.add(a);
    }
    if (r.Type === 'AWS::Lambda::EventInvokeConfig') {
      const onFailure = ((r.Properties['DestinationConfig'] as Json | undefined)?.['OnFailure'] as Json | undefined)?.['Destination'];
      if (isQueue(getAtt(onFailure))) out.add('sqs:SendMessage');
    }
  }
  return out;
}

/** The Allow actions of a role's inline policies. */
export function roleActions(template: Template, roleId: string): Set<string> {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not an AWS::IAM::Role in the template`);
  const policies = (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? [];
  return new Set(policies.flatMap((p) => statementsOf<Statement>(p.PolicyDocument).filter((s) => s.Effect === 'Allow').flatMap((s) => asList(s.Action))));
}

/** The logical id of the role a function runs with (its `Role: !GetAtt X.Arn`). */
export function roleOf(template: Template, functionId: string): string {
  const role = getAtt(template.Resources[functionId]?.Properties['Role']);
  if (!role) throw new Error(`${functionId} has no Role: !GetAtt <role>.Arn`);
  return role;
}

/** A call the code can make that the function never makes as deployed, with the reason (see {@link check}). */
export interface NotSent {
  readonly action: string;
  /** The module the call comes from: only calls from this module are excused. */
  readonly module: string;
  readonly why: string;
}

/** What {@link check} found for one function. */
export interface Coverage {
  /** Sent by the code (module listed), not allowed by the role: AccessDenied in production. */
  readonly missing: readonly { action: string; modules: readonly string[] }[];
  /** Allowed by the role, sent by no code and needed by no service: privilege to remove. */
  readonly unused: readonly string[];
}

/**
 * Compares a function's calls (action -> modules that send it) with its role. `notSent` excuses a call
 * only from the module named, so the same action sent from anywhere else is still reported.
 */
export function check(template: Template, functionId: string, calls: ReadonlyMap<string, readonly string[]>, notSent: readonly NotSent[] = []): Coverage {
  const granted = roleActions(template, roleOf(template, functionId));
  const service = lambdaServiceActions(template, functionId);
  const needed = new Set<string>();
  const missing: { action: string; modules: string[] }[] = [];
  for (const [operation, modules] of calls) {
    const action = AUTHORIZED_AS[operation] ?? operation;
    const sending = modules.filter((m) => !notSent.some((n) => (n.action === operation || n.action === action) && n.module === m));
    if (sending.length === 0) continue;
    needed.add(action);
    for (const implied of IMPLIED[action] ?? []) needed.add(implied);
    if (!granted.has(action)) missing.push({ action, modules: sending });
  }
  for (const action of service) if (action !== 'logs:CreateLogGroup') needed.add(action);
  for (const action of needed) {
    if (!granted.has(action) && !missing.some((m) => m.action === action)) missing.push({ action, modules: ['(needed by another call or by the Lambda service)'] });
  }
  const unused = [...granted].filter((a) => !needed.has(a) && !service.has(a)).sort();
  return { missing: missing.sort((a, b) => a.action.localeCompare(b.action)), unused };
}
