/**
 * `quiesce doctor --stage <stage>`: proves a stage is wired right before it writes. For each function it
 * assumes the function's own role where it can (STS AssumeRole: the roles trust Lambda, so this works for an
 * operator only where the trust policy lets them in), else checks as the caller and says so, then checks:
 *
 * - the cluster reachable through the role's access entry, and RBAC allowing each list the function makes
 *   (SelfSubjectAccessReview as the role; without it, the access entry and SubjectAccessReviews);
 * - the reads it makes: the target groups in scope, found and tagged as IAM's conditions expect,
 *   DescribeTargetHealth on one, the Cloud Map namespaces and the owner attributes on their instances;
 * - the writes, without writing: the IAM policy simulator on the role for DeregisterTargets,
 *   DeregisterInstance, CompleteLifecycleAction and ModifyRule on the resources in scope;
 * - the queue and bus policies docs/security.md lists (with the caller's credentials);
 * - the pod forwarder's last publish (the heartbeat pod-events records in the state table).
 *
 * A checklist (pass / fail / skip, and the fix of each failure) on stdout, `--json` for scripts; exit 0 when
 * nothing failed, 1 when something did (for CI), 2 for usage. Read-only: it writes nothing anywhere.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { AwsCloudMap, AwsElbv2, createAwsClients, sdkClientConfig, type ApiBudget, type AwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { AwsPolicySimulator } from '#core/adapters/aws/policy-simulator.ts';
import type { Env } from '#core/config.ts';
import { clusterAutoScalingGroups } from '#core/preflight/auto-scaling-groups.ts';
import { checklist, errorText, formatChecklist, pass, PREFLIGHT_FUNCTIONS, skip, type Check, type PreflightFunction } from '#core/preflight/checklist.ts';
import { describeThroughBudget } from '#core/preflight/cluster.ts';
import { checkClusterWithoutRole } from '#core/preflight/cluster-fallback.ts';
import { checkForwarder } from '#core/preflight/forwarder.ts';
import { checkBusPolicy, checkQueuePolicy } from '#core/preflight/policies.ts';
import { preflightAsFunction, type PreflightAws } from '#core/preflight/run.ts';
import { functionRoleName, NEEDS, partitionOf, roleArn, type PreflightTarget } from '#core/preflight/target.ts';
import { loadTrafficPlans } from '../traffic-shift/config.ts';
import { cliBudget, ExitCode, UsageError, type CliIo, type Flags } from './io.ts';
import { listSetting, loadStage } from './stage.ts';

/** The flags of `doctor`. */
export interface DoctorOptions {
  readonly stage: string | undefined;
  /** A stage file elsewhere than infra/stages/<stage>.yml. */
  readonly settings?: string | undefined;
  /** Only these functions (default all). */
  readonly functions?: readonly string[];
}

/** The names of the node-signal queue's rules (infra/serverless/messaging.yml). */
const QUEUE_RULES = ['spot-signals', 'instance-state', 'lifecycle-hook', 'health-scheduled-change'];

/** Credentials as the SDK takes them. */
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** Runs the doctor and prints its checklist; returns the exit code. */
export async function doctor(io: CliIo, flags: Flags, options: DoctorOptions, env: Env): Promise<ExitCode> {
  if (!options.stage) throw new UsageError('quiesce doctor needs --stage <stage> (its settings file: infra/stages/<stage>.yml, or --settings <file>)');
  const fns = options.functions && options.functions.length > 0 ? options.functions : PREFLIGHT_FUNCTIONS;
  for (const f of fns) if (!PREFLIGHT_FUNCTIONS.includes(f as PreflightFunction)) throw new UsageError(`unknown function "${f}"; known: ${PREFLIGHT_FUNCTIONS.join(', ')}`);
  const stage = loadStage(options.stage, options.settings, flags.region);
  const region = stage.region;
  const caller: AwsClients = io.clients ?? createAwsClients({ overrides: { region } });
  const budget = cliBudget(io);
  const sts = new STSClient(sdkClientConfig({ overrides: { region } }));
  const opened: { destroy(): void }[] = [sts];
  const client = <T extends { destroy(): void }>(c: T): T => {
    opened.push(c);
    return c;
  };
  try {
    const me = await budget.call('sts', 'GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    // The caller's own credentials, for the tokens it signs when a role cannot be assumed.
    const callerCredentials = await sts.config.credentials();
    const account = me.Account ?? '';
    const callerArn = me.Arn ?? 'the caller';
    const partition = partitionOf(callerArn);
    const roleOf = (name: Parameters<typeof functionRoleName>[1]): string => roleArn(account, functionRoleName(stage.name, name, region), partition);
    let queueUrl: string | undefined;
    try {
      queueUrl = (await budget.call('sqs', 'GetQueueUrl', () => caller.sqs.send(new GetQueueUrlCommand({ QueueName: stage.names.nodeSignalQueue })))).QueueUrl;
    } catch {
      queueUrl = undefined;
    }
    const plans = loadTrafficPlans(env);
    const target: PreflightTarget = {
      stage: stage.name,
      partition,
      accountId: account,
      region,
      config: stage.config,
      roles: Object.fromEntries(fns.map((f) => [f, roleOf(f as PreflightFunction)])),
      readerGroup: stage.names.readerGroup,
      ...(queueUrl ? { nodeSignalQueueUrl: queueUrl } : {}),
      queueSenders: {
        ruleArns: QUEUE_RULES.map((r) => `arn:${partition}:events:${region}:${account}:rule/quiesce-${stage.name}-${r}`),
        roleArns: [roleOf('spot-interruption'), roleOf('scheduled-change'), ...listSetting(stage.settings['lifecycleNotificationRoleArns']), ...listSetting(stage.settings['nodeSignalRedriveRoleArns'])],
      },
      forwarderRoleArn: roleOf('pod-forwarder'),
      trafficRuleArns: [...new Set([...plans.values()].map((p) => p.ruleArn))],
    };
    const checks: Check[] = [];
    const as: Partial<Record<PreflightFunction, string>> = {};
    const callerAws = sessionAws(caller, undefined, region, budget, stage.config.clusterName, client);
    const callerStore = new AwsDynamoStateStore(caller.dynamodb, budget, stage.names.stateTable);
    for (const fn of fns as PreflightFunction[]) {
      const role = roleOf(fn);
      if (!flags.json) io.stderr.write(`checking ${fn} (${role})...\n`);
      let credentials: Credentials | undefined;
      try {
        const out = await budget.call('sts', 'AssumeRole', () => sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'quiesce-doctor', DurationSeconds: 900 })));
        const c = out.Credentials;
        if (c?.AccessKeyId && c.SecretAccessKey) credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
        checks.push(pass(fn, 'identity', 'checked with the function\'s own role', `${role}, assumed`));
        as[fn] = role;
      } catch (err) {
        checks.push(skip(fn, 'identity', 'checked with the function\'s own role', `${role} could not be assumed (${errorText(err)}): the reads below were made as ${callerArn}, the cluster checked through the role's access entry, the writes simulated for the role`));
        as[fn] = `${callerArn}, for ${role}`;
      }
      const aws = credentials ? sessionAws(createAwsClients({ overrides: { region, credentials } }), credentials, region, budget, stage.config.clusterName, client, true) : callerAws;
      const fallback = credentials
        ? undefined
        : (f: PreflightFunction, t: PreflightTarget, r: string) => checkClusterWithoutRole(f, { eks: aws.eks, budget, credentials: callerCredentials }, t, r);
      checks.push(...(await preflightAsFunction(fn, aws.preflight, target, role, fallback)));
      const policyDeps = { sqs: caller.sqs, events: caller.eventBridge, budget };
      if (NEEDS[fn].policies.includes('node-signal-queue')) checks.push(await checkQueuePolicy(fn, policyDeps, target));
      if (NEEDS[fn].policies.includes('bus')) checks.push(await checkBusPolicy(fn, policyDeps, target, role));
      if (NEEDS[fn].forwarder) checks.push(await checkForwarder(fn, callerStore, target, io.now?.() ?? new Date()));
    }
    const list = checklist(stage.name, stage.config.clusterName, as, checks);
    io.stdout.write(flags.json ? `${JSON.stringify({ command: 'doctor', ...list, exitCode: list.ok ? ExitCode.ok : ExitCode.failed })}\n` : formatChecklist(list));
    return list.ok ? ExitCode.ok : ExitCode.failed;
  } finally {
    for (const c of opened) c.destroy();
    if (!io.clients) caller.destroy();
  }
}

/** The clients and adapters of one identity (a function's assumed role, or the caller). */
function sessionAws(clients: AwsClients, credentials: Credentials | undefined, region: string, budget: ApiBudget, clusterName: string, opened: <T extends { destroy(): void }>(c: T) => T, own = false): { preflight: PreflightAws; eks: EKSClient } {
  if (own) opened(clients);
  const overrides = { region, ...(credentials ? { credentials } : {}) };
  const iam = opened(new IAMClient(sdkClientConfig({ overrides })));
  const eks = opened(new EKSClient(sdkClientConfig({ overrides })));
  return {
    eks,
    preflight: {
      elbv2: new AwsElbv2(clients.elbv2, budget),
      cloudMap: new AwsCloudMap(clients.serviceDiscovery, budget),
      simulator: new AwsPolicySimulator(iam, budget),
      cluster: { eks: describeThroughBudget(eks, budget), ...(credentials ? { credentials } : {}) },
      autoScalingGroups: () => clusterAutoScalingGroups(clients.ec2, budget, clusterName),
    },
  };
}
