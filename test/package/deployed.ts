/**
 * The stack as deployed, for the policy checks and the scenarios that run with the deployed policies in
 * place: the packaged template (packaged once per run: packaged.ts) rendered for the fake AWS's account and
 * Region (render.ts), the node-signal queue's policy and the quiesce bus's (all its EventBusPolicy
 * statements as one document), and `installDeployed`, which creates that queue and bus in the fake with
 * those policies and gives each role of the stack credentials (a session, as Lambda, Scheduler or EKS Pod
 * Identity would), so the fake judges every send and put as AWS would.
 */
import { readFileSync } from 'node:fs';
import type { FakeAws } from '../fakes/aws/index.ts';
import type { PolicyDocument, PolicyStatement } from '../fakes/aws/policy.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from '../fakes/aws/sts.ts';
import { packaged } from './packaged.ts';
import { renderTemplate, type RenderedStack } from './render.ts';

/** The rendered stack and the policies the checks read. */
export interface DeployedStack {
  readonly stack: RenderedStack;
  readonly queuePolicy: PolicyDocument;
  readonly busPolicy: PolicyDocument;
  readonly queueName: string;
  readonly queueArn: string;
  readonly busName: string;
  readonly busArn: string;
  /** A role's ARN by logical id. */
  roleArn(logicalId: string): string;
  /** A rule's ARN by logical id. */
  ruleArn(logicalId: string): string;
  /** A function's environment by logical id prefix (`SpotInterruption`). */
  environment(functionId: string): Record<string, string>;
}

/** The packaged template, rendered with `parameters` for the fake's account and Region. */
export async function deployedStack(fake: Pick<FakeAws, 'iam'>, parameters: Readonly<Record<string, string>> = {}): Promise<DeployedStack> {
  const template = JSON.parse(readFileSync((await packaged()).templatePath, 'utf8'));
  const stack = renderTemplate(template, { accountId: FAKE_ACCOUNT_ID, region: FAKE_REGION, parameters, roleIdOf: (name) => fake.iam.roleIdOf(name) });
  const props = (id: string): Record<string, unknown> => {
    const r = stack.resources[id];
    if (!r) throw new Error(`no resource ${id} in the rendered stack`);
    return r.Properties;
  };
  const busStatements = Object.values(stack.resources)
    .filter((r) => r.Type === 'AWS::Events::EventBusPolicy')
    .map((r) => ({ Sid: r.Properties['StatementId'], ...(r.Properties['Statement'] as PolicyStatement) }) as PolicyStatement);
  return {
    stack,
    queuePolicy: props('NodeSignalQueuePolicy')['PolicyDocument'] as PolicyDocument,
    busPolicy: { Version: '2012-10-17', Statement: busStatements },
    queueName: stack.attribute('NodeSignalQueue', 'QueueName'),
    queueArn: stack.attribute('NodeSignalQueue', 'Arn'),
    busName: stack.attribute('QuiesceBus', 'Name'),
    busArn: stack.attribute('QuiesceBus', 'Arn'),
    roleArn: (id) => stack.attribute(id, 'Arn'),
    ruleArn: (id) => stack.attribute(id, 'Arn'),
    environment: (id) => (props(`${id}LambdaFunction`)['Environment'] as { Variables: Record<string, string> }).Variables,
  };
}

/** What `installDeployed` made in the fake. */
export interface InstalledStack {
  readonly queueUrl: string;
  readonly busName: string;
  /** Access key id of a session of the role (logical id), as its function or service signs. */
  keyOf(roleLogicalId: string): string;
}

/** Session names as each role's user signs: Lambda names the session after the function (iam.ts). */
const SESSIONS: Readonly<Record<string, string>> = {
  SpotInterruptionRole: 'quiesce-prod-spot-interruption',
  SweeperRole: 'quiesce-prod-sweeper',
  PodEventsRole: 'quiesce-prod-pod-events',
  DeployWebhookRole: 'quiesce-prod-deploy-webhook',
  TrafficShiftRole: 'quiesce-prod-traffic-shift',
  SchedulerInvokeRole: 'scheduler',
  ScheduledChangeSchedulerRole: 'scheduler',
  PodForwarderRole: 'eks-prod-pod-forwarder',
};

/**
 * Creates the deployed node-signal queue and bus in the (reset) fake with their rendered policies, and a
 * session for each role of the stack.
 */
export function installDeployed(fake: FakeAws, deployed: DeployedStack): InstalledStack {
  const queueUrl = fake.sqs.seedQueue(deployed.queueName, { VisibilityTimeout: '540', Policy: JSON.stringify(deployed.queuePolicy) });
  fake.events.handle('CreateEventBus', { Name: deployed.busName });
  fake.events.setBusPolicy(deployed.busName, deployed.busPolicy);
  const keys = new Map<string, string>();
  for (const [role, session] of Object.entries(SESSIONS)) keys.set(role, fake.iam.assumeRole(deployed.roleArn(role), session));
  return {
    queueUrl,
    busName: deployed.busName,
    keyOf: (role) => {
      const key = keys.get(role);
      if (!key) throw new Error(`no session for ${role}`);
      return key;
    },
  };
}
