/**
 * The resource policies a stage's inputs depend on, as docs/security.md lists them, judged with the
 * evaluator the fake AWS enforces them with (functions/_core/policy/resource-policy.ts):
 *
 * - the node-signal queue: EventBridge for the stack's rules and the spot and Scheduler roles get in; no other
 *   principal of the account (an explicit Deny: its IAM policies cannot undo it), of another account, or a
 *   service for another resource does. A policy that lets another principal in lets a forged spot warning in.
 * - the quiesce bus: each function may publish its own records, and `Pod Terminating` / `Pod Not Ready` are
 *   taken from the forwarder's role only (a forged one would start a deregistration).
 *
 * A statement the evaluator does not model (NotPrincipal, set operators) fails its line, with the reason:
 * a policy nobody can judge is not a policy anybody has checked.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ApiBudget } from '../adapters/aws/budget.ts';
import { evaluateResourcePolicy, resourcePolicyAdmits, type PolicyDocument, type PolicyPrincipal, type PolicyRequest } from '../policy/resource-policy.ts';
import { errorText, fail, pass, type Check, type PreflightFunction } from './checklist.ts';
import type { PreflightTarget } from './target.ts';

/** What the policy checks use. */
export interface PolicyCheckDeps {
  readonly sqs: Pick<SQSClient, 'send'>;
  readonly events: Pick<EventBridgeClient, 'send'>;
  readonly budget: ApiBudget;
}

/** The detail-types each function publishes on the bus (its IAM statement and the bus policy name the same). */
export const PUBLISHES: Readonly<Record<PreflightFunction, readonly string[]>> = {
  'spot-interruption': ['Deregistration Plan Applied', 'Event Rejected', 'Preflight Checked'],
  sweeper: ['Deregistration Plan Applied', 'Event Rejected', 'Preflight Checked'],
  'pod-events': ['Deregistration Plan Applied', 'Event Rejected', 'Preflight Checked'],
  'traffic-shift': ['Traffic Shift Started', 'Traffic Shift Step Applied', 'Traffic Shift Completed', 'Traffic Shift Aborted', 'Traffic Shift Refused', 'Deregistration Plan Applied', 'Event Rejected'],
};

/** The forwarder's detail-types. */
const POD_EVENTS = ['Pod Terminating', 'Pod Not Ready'];

/** A principal that is nobody the stage names: what must be kept out. */
function probes(partition: string, accountId: string): { what: string; principal: PolicyPrincipal; sameAccount: boolean }[] {
  return [
    { what: `a role of the account that is no sender (arn:${partition}:iam::${accountId}:role/quiesce-doctor-probe)`, principal: { kind: 'aws', arn: `arn:${partition}:iam::${accountId}:role/quiesce-doctor-probe`, account: accountId }, sameAccount: true },
    { what: 'a principal of another account', principal: { kind: 'aws', arn: `arn:${partition}:iam::999999999999:role/outsider`, account: '999999999999' }, sameAccount: false },
    { what: 'anyone (anonymous)', principal: { kind: 'anonymous' }, sameAccount: false },
  ];
}

/** Whether a request gets through the policy (throws when the evaluator cannot judge it). */
const admits = (policy: PolicyDocument | undefined, request: PolicyRequest, account: string): boolean => resourcePolicyAdmits(policy, request, account);

/** The node-signal queue's policy: its senders in, everyone else out. */
export async function checkQueuePolicy(fn: PreflightFunction, deps: PolicyCheckDeps, target: PreflightTarget): Promise<Check> {
  const title = 'the node-signal queue takes signals from its senders only';
  const id = 'policy.node-signal-queue';
  const fix = 'deploy the stack again: the queue\'s policy is NodeSignalQueuePolicy (infra/serverless/messaging.yml, trust.yml); a statement added by hand lets a forged spot warning in (docs/security.md#who-may-send-to-the-node-signal-queue)';
  if (!target.nodeSignalQueueUrl || !target.queueSenders) return fail(fn, id, title, 'the node-signal queue of the stage was not found', fix);
  let policy: PolicyDocument | undefined;
  let queueArn: string;
  try {
    const out = await deps.budget.call('sqs', 'GetQueueAttributes', () => deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: target.nodeSignalQueueUrl, AttributeNames: ['Policy', 'QueueArn'] })));
    policy = out.Attributes?.Policy ? (JSON.parse(out.Attributes.Policy) as PolicyDocument) : undefined;
    queueArn = out.Attributes?.QueueArn ?? '';
  } catch (err) {
    return fail(fn, id, title, `GetQueueAttributes: ${errorText(err)}`, 'the caller needs sqs:GetQueueAttributes on the queue');
  }
  if (!policy) return fail(fn, id, title, 'the queue has no policy: every principal of the account that IAM allows may send, and EventBridge may not', fix);
  const send = (principal: PolicyPrincipal, context: Record<string, string>): PolicyRequest => ({ action: 'sqs:SendMessage', resource: queueArn, principal, context: { 'aws:SecureTransport': 'true', 'aws:SourceAccount': target.accountId, ...context } });
  try {
    const refused = [
      ...target.queueSenders.ruleArns.filter((rule) => !admits(policy, send({ kind: 'service', service: 'events.amazonaws.com' }, { 'aws:SourceArn': rule }), target.accountId)).map((r) => `EventBridge for ${r}`),
      ...target.queueSenders.roleArns.filter((role) => !admits(policy, send({ kind: 'aws', arn: role, account: target.accountId }, { 'aws:PrincipalArn': role }), target.accountId)),
    ];
    if (refused.length > 0) return fail(fn, id, title, `refuses its own senders: ${refused.join(', ')}`, fix);
    const outsiders = [
      ...probes(target.partition, target.accountId).filter((p) => {
        const request = send(p.principal, p.principal.kind === 'aws' ? { 'aws:PrincipalArn': p.principal.arn } : {});
        // A principal of the account gets in unless the policy denies it: its own IAM policy may allow the send.
        return p.sameAccount ? evaluateResourcePolicy(policy, request).decision !== 'deny' : admits(policy, request, target.accountId);
      }).map((p) => p.what),
      ...(admits(policy, send({ kind: 'service', service: 'sns.amazonaws.com' }, { 'aws:SourceArn': `arn:${target.partition}:sns:${target.region}:${target.accountId}:quiesce-doctor-probe` }), target.accountId) ? ['SNS for a topic that is no lifecycle-hook topic'] : []),
    ];
    if (outsiders.length > 0) return fail(fn, id, title, `lets another principal in: ${outsiders.join('; ')}`, fix);
  } catch (err) {
    return fail(fn, id, title, `the policy cannot be judged: ${(err as Error).message}`, fix);
  }
  return pass(fn, id, title, `${target.queueSenders.ruleArns.length} rule(s) and ${target.queueSenders.roleArns.length} role(s) in; another role of the account, another account, anonymous, another topic out`);
}

/** The bus's policy: the function's own records accepted; for pod-events, pod events from the forwarder only. */
export async function checkBusPolicy(fn: PreflightFunction, deps: PolicyCheckDeps, target: PreflightTarget, role: string): Promise<Check> {
  const bus = target.config.auditEventBus;
  const id = 'policy.bus';
  const title = fn === 'pod-events' ? 'the bus takes pod events from the forwarder only, and this function\'s records' : 'the bus takes this function\'s records';
  const fix = 'deploy the stack again: the bus\'s policy is trust.yml\'s (docs/security.md#who-may-put-what-on-the-quiesce-bus)';
  if (!bus) return fail(fn, id, title, 'AUDIT_EVENT_BUS is not set: the function publishes nothing', 'set it (the stack does: the quiesce bus)');
  let policy: PolicyDocument | undefined;
  let busArn: string;
  try {
    const out = await deps.budget.call('events', 'DescribeEventBus', () => deps.events.send(new DescribeEventBusCommand({ Name: bus })));
    policy = out.Policy ? (JSON.parse(out.Policy) as PolicyDocument) : undefined;
    busArn = out.Arn ?? '';
  } catch (err) {
    return fail(fn, id, title, `DescribeEventBus: ${errorText(err)}`, 'the caller needs events:DescribeEventBus on the bus');
  }
  const put = (arn: string, detailType: string): PolicyRequest => ({ action: 'events:PutEvents', resource: busArn, principal: { kind: 'aws', arn, account: target.accountId }, context: { 'aws:PrincipalArn': arn, 'events:detail-type': detailType, 'events:source': detailType.startsWith('Pod ') ? 'quiesce.kubernetes' : 'quiesce' } });
  try {
    const ownRefused = PUBLISHES[fn].filter((dt) => !admits(policy, put(role, dt), target.accountId));
    if (ownRefused.length > 0) return fail(fn, id, title, `refuses ${role}'s ${ownRefused.join(', ')}: its audit records are lost`, fix);
    if (fn !== 'pod-events') return pass(fn, id, title, `${PUBLISHES[fn].length} detail-type(s) of ${role} accepted`);
    if (!policy) return fail(fn, id, title, 'the bus has no policy: any principal of the account that IAM allows may put a Pod Terminating', fix);
    const forwarder = target.forwarderRoleArn;
    const forwarderRefused = forwarder ? POD_EVENTS.filter((dt) => !admits(policy, put(forwarder, dt), target.accountId)) : POD_EVENTS;
    if (forwarderRefused.length > 0) return fail(fn, id, title, `refuses the forwarder's ${forwarderRefused.join(', ')}${forwarder ? ` (${forwarder})` : ''}`, fix);
    const probe = `arn:${target.partition}:iam::${target.accountId}:role/quiesce-doctor-probe`;
    const forged = POD_EVENTS.filter((dt) => evaluateResourcePolicy(policy, put(probe, dt)).decision !== 'deny');
    if (forged.length > 0) return fail(fn, id, title, `lets another principal of the account put ${forged.join(', ')} (${probe}): a forged pod event would start a deregistration`, fix);
  } catch (err) {
    return fail(fn, id, title, `the policy cannot be judged: ${(err as Error).message}`, fix);
  }
  return pass(fn, id, title, `pod events from ${target.forwarderRoleArn} only; ${PUBLISHES[fn].length} detail-type(s) of ${role} accepted`);
}
