/**
 * `quiesce doctor` against a stage deployed into the fake AWS and the fake cluster as the stack deploys it:
 * the packaged template rendered for the fake account (test/package/deployed.ts), its roles with their
 * policies in the fake IAM (the simulator judges them), its queue and bus with their policies, its access
 * entries in the fake EKS, the cluster's RBAC from infra/k8s/cluster-access, the topology's target groups,
 * Cloud Map and nodes. It passes there; each fault the issue names is planted on its own and named by the
 * exact line that fails. Then the same checks from inside a function: its cold start in dry run.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsForwarderHeartbeat } from '#core/adapters/aws/forwarder-heartbeat.ts';
import type { Check, Checklist } from '#core/preflight/checklist.ts';
import { createLogger } from '#core/telemetry.ts';
import { main, type CliIo } from '../../functions/cli/main.ts';
import { FakeKubeApi } from '#fakes/kube/index.ts';
import type { PolicyDocument } from '../fakes/aws/policy.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedTopology, VPC, type Topology } from '../fakes/topology.ts';
import { seedTrafficTopology } from '../fakes/traffic.ts';
import { deployedStack, installDeployed, type DeployedStack } from '../package/deployed.ts';
import { skippingBudgetClock } from './budget-clock.ts';
import { lambdaContext, spotHarness } from './harness.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'quiesce-doctor-'));
const rbac = (): unknown[] => ['clusterrole.yaml', 'clusterrolebinding.yaml'].flatMap((f) => parseAllDocuments(readFileSync(join(root, 'infra', 'k8s', 'cluster-access', f), 'utf8')).map((d) => d.toJS() as unknown));

/** The cluster: a token is whoever signed it, let in as their access entry in the fake EKS says (or 401). */
const kube = new FakeKubeApi({
  authenticate: ({ accessKeyId }) => {
    const p = fakeAws.iam.principalOf(accessKeyId);
    return fakeAws.eks.accessEntry('prod', p.arn, p.session ?? '');
  },
});
let kubeAddress = { endpoint: '', caData: '' };
beforeAll(async () => {
  kubeAddress = await kube.start();
}, 30_000);
afterAll(() => kube.stop());

let deployed: DeployedStack;
beforeAll(async () => {
  deployed = await deployedStack(fakeAws);
}, 180_000);

/** The operator running the doctor: an IAM user the function roles' trust lets assume them (or not). */
let operatorKey = '';
const savedKey = process.env.AWS_ACCESS_KEY_ID;
afterEach(() => {
  process.env.AWS_ACCESS_KEY_ID = savedKey;
  delete process.env.QUIESCE_ROLE_ARN;
});

/** The settings file of stage prod for the doctor (what infra/stages/prod.yml would hold). */
function settingsFile(extra: Record<string, unknown> = {}): string {
  const p = join(tmp, `prod-${Math.random().toString(36).slice(2)}.yml`);
  const settings = { clusterName: 'prod', region: 'us-east-1', dryRun: true, cloudMapNamespaces: ['mesh.local'], cloudMapOwnerAttributes: 'ver=v1-30', ...extra };
  writeFileSync(p, Object.entries(settings).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n'));
  return p;
}

const plansFile = (ruleArn: string): string => {
  const p = join(tmp, `plans-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify({ apps: { shop: { ruleArn, from: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/1', to: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/2', steps: [50, 100], pauseSeconds: 60 } } }));
  return p;
};

interface Stage {
  readonly topology: Topology;
  readonly spotRole: string;
  readonly ruleArn: string;
  readonly lbcRuleArn: string;
}

/**
 * Deploys stage prod into the reset fake: the rendered roles (each also trusting the operator when
 * `assumable`), queue, bus, state table, access entries, the cluster's RBAC, the topology, a listener rule
 * of a traffic plan, and the forwarder's last publish a minute ago.
 */
async function deployStage(options: { assumable?: boolean; heartbeat?: boolean } = {}): Promise<Stage> {
  operatorKey = fakeAws.iam.addUser('oncall');
  const operator = 'arn:aws:iam::123456789012:user/oncall';
  for (const [id, r] of Object.entries(deployed.stack.resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const trust = r.Properties['AssumeRolePolicyDocument'] as PolicyDocument;
    const statements = [trust.Statement].flat();
    const withOperator: PolicyDocument = options.assumable === false ? trust : { ...trust, Statement: [...statements, { Sid: 'OnCallMayAssume', Effect: 'Allow', Principal: { AWS: operator }, Action: 'sts:AssumeRole' }] };
    const policies = Object.fromEntries((r.Properties['Policies'] as { PolicyName: string; PolicyDocument: PolicyDocument }[]).map((p) => [p.PolicyName, p.PolicyDocument]));
    fakeAws.iamApi.putRole(deployed.roleArn(id), withOperator, policies);
  }
  installDeployed(fakeAws, deployed);
  fakeAws.dynamodb.seedTable('quiesce-prod-state');
  fakeAws.eks.seedCluster({ name: 'prod', ...kubeAddress, vpcId: VPC });
  for (const r of Object.values(deployed.stack.resources)) {
    if (r.Type === 'AWS::EKS::AccessEntry') fakeAws.eks.createAccessEntry('prod', String(r.Properties['PrincipalArn']), r.Properties['KubernetesGroups'] as string[]);
  }
  kube.setRbac(rbac());
  const topology = seedTopology(fakeAws);
  const traffic = seedTrafficTopology(fakeAws);
  if (options.heartbeat !== false) {
    await new AwsForwarderHeartbeat(createAwsClients().dynamodb, new ApiBudget(), 'quiesce-prod-state', { clusterName: 'prod', keepSeconds: 48 * 3600 }).heard(new Date(fakeAws.clock.now() - 60_000), '2026-11-21T11:58:59Z');
  }
  return { topology, spotRole: deployed.roleArn('SpotInterruptionRole'), ruleArn: traffic.ruleArn, lbcRuleArn: traffic.lbcRuleArn };
}

/** Runs `quiesce doctor --json` as the operator; its checklist and exit code. */
async function doctor(args: string[], options: { settings?: string; plans?: string } = {}): Promise<{ code: number; list: Checklist; text: () => Promise<string> }> {
  let out = '';
  const io: CliIo = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: {}, interactive: false, confirm: async () => false, now: () => new Date(fakeAws.clock.now()), budgetClock: skippingBudgetClock() };
  const argv = ['doctor', '--stage', 'prod', '--settings', options.settings ?? settingsFile(), ...(options.plans ? ['--traffic-plans', options.plans] : []), ...args];
  process.env.AWS_ACCESS_KEY_ID = operatorKey;
  const code = await main([...argv, '--json'], io);
  const list = JSON.parse(out) as Checklist;
  return {
    code,
    list,
    text: async () => {
      let text = '';
      await main(argv, { ...io, stdout: { write: (t: string) => (text += t) } });
      return text;
    },
  };
}

const failing = (list: Checklist): Check[] => list.checks.filter((c) => c.status === 'fail');
const line = (list: Checklist, fn: string, id: string): Check | undefined => list.checks.find((c) => c.fn === fn && c.id === id);

beforeEach(() => kube.reset());

// Each run of the doctor checks four functions over real TLS to the fake cluster: generous time on a loaded machine.
describe('quiesce doctor', { timeout: 60_000 }, () => {
  it('passes on the stage as deployed: every line of every function, checked with the function\'s own role', async () => {
    const s = await deployStage();
    const { code, list, text } = await doctor([], { plans: plansFile(s.ruleArn) });
    expect(failing(list)).toEqual([]);
    expect(code).toBe(0);
    expect(list.as['spot-interruption']).toBe(s.spotRole);
    const ids = (fn: string): string[] => list.checks.filter((c) => c.fn === fn).map((c) => `${c.status} ${c.id}`);
    expect(ids('spot-interruption')).toEqual([
      'pass identity',
      'pass cluster.access',
      'pass cluster.list.targetgroupbindings',
      'pass cluster.list.services',
      'pass cluster.list.endpointslices',
      'pass cluster.list.pods',
      'pass read.target-groups',
      'pass read.target-health',
      'pass read.cloud-map',
      'pass write.DeregisterTargets',
      'pass write.DeregisterInstance',
      'pass write.CompleteLifecycleAction',
      'pass policy.node-signal-queue',
      'pass policy.bus',
    ]);
    expect(ids('sweeper')).toContain('pass cluster.list.pods');
    expect(ids('pod-events')).toEqual(expect.arrayContaining(['pass cluster.get.pods', 'pass policy.bus', 'pass forwarder.last-publish']));
    expect(ids('traffic-shift')).toEqual(['pass identity', 'pass write.ModifyRule', 'pass policy.bus']);
    expect(line(list, 'spot-interruption', 'read.target-groups')?.detail).toMatch(/^5 in scope/);
    expect(line(list, 'spot-interruption', 'write.CompleteLifecycleAction')?.detail).toMatch(/allowed on 1 \(policy simulator/);
    // Read-only: nothing written anywhere.
    for (const [service, op] of [['elasticloadbalancing', 'DeregisterTargets'], ['servicediscovery', 'DeregisterInstance'], ['autoscaling', 'CompleteLifecycleAction'], ['elasticloadbalancing', 'ModifyRule'], ['events', 'PutEvents'], ['sqs', 'SendMessage']] as const) {
      expect(fakeAws.calls.count(service, op), `${service}:${op}`).toBe(0);
    }
    expect(await text()).toMatch(/spot-interruption \(as arn:aws:iam::123456789012:role\/quiesce-prod-spot-interruption-us-east-1\)\n {2}PASS {2}checked with the function's own role/);
  });

  it('names a missing access entry: the cluster answers 401 to that role', async () => {
    await deployStage();
    fakeAws.eks.handle('DeleteAccessEntry', { clusterName: 'prod', principalArn: deployed.roleArn('SweeperRole') });
    const { code, list } = await doctor(['--function', 'sweeper']);
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['cluster.access']);
    const c = line(list, 'sweeper', 'cluster.access')!;
    expect(c.detail).toMatch(/answers 401 Unauthorized to arn:aws:iam::123456789012:role\/quiesce-prod-sweeper-us-east-1: the cluster has no access entry for it/);
    expect(c.fix).toMatch(/clusterAccessEntries: true .* aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::123456789012:role\/quiesce-prod-sweeper-us-east-1 --kubernetes-groups quiesce:readers/);
  });

  it('names RBAC without endpointslices, for the functions that list them', async () => {
    await deployStage();
    const [role, binding] = rbac() as [{ rules: { apiGroups: string[] }[] }, unknown];
    kube.setRbac([{ ...role, rules: role.rules.filter((r) => !r.apiGroups.includes('discovery.k8s.io')) }, binding]);
    const { code, list } = await doctor([]);
    expect(code).toBe(1);
    expect(failing(list).map((c) => `${c.fn} ${c.id}`)).toEqual(['spot-interruption cluster.list.endpointslices', 'pod-events cluster.list.endpointslices']);
    expect(line(list, 'spot-interruption', 'cluster.list.endpointslices')?.detail).toMatch(/denied to .*quiesce-prod-spot-interruption-us-east-1: the function's list endpointslices\.discovery\.k8s\.io fails \(403\), and the spot fast path quietly finds a node's groups by its pods only/);
    expect(line(list, 'spot-interruption', 'cluster.list.endpointslices')?.fix).toMatch(/apply infra\/k8s\/cluster-access/);
  });

  it('names an in-scope target group without the IAM tag (in scope by its TargetGroupBinding), and the write IAM would deny on it', async () => {
    await deployStage();
    const legacy = fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-legacy', vpcId: VPC, targetType: 'ip', port: 8080, targets: [{ id: '10.0.2.20' }] });
    kube.addTargetGroupBinding({ namespace: 'shop', name: 'legacy', targetGroupARN: legacy, serviceRef: { name: 'legacy', port: 80 }, targetType: 'ip' });
    const { code, list } = await doctor(['--function', 'spot-interruption']);
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['read.target-groups', 'write.DeregisterTargets']);
    expect(line(list, 'spot-interruption', 'read.target-groups')?.detail).toMatch(/^1 of 6 in scope carry neither elbv2\.k8s\.aws\/cluster=prod nor quiesce\.io\/deregister-by naming prod, so IAM denies DeregisterTargets on them: k8s-shop-legacy \(in scope by target-group-binding\)$/);
    expect(line(list, 'spot-interruption', 'read.target-groups')?.fix).toContain(`aws elbv2 add-tags --resource-arns ${legacy} --tags Key=quiesce.io/deregister-by,Value=:prod:`);
    expect(line(list, 'spot-interruption', 'write.DeregisterTargets')?.detail).toMatch(/denied on 1 of 6: k8s-shop-legacy: implicitDeny \(no value for aws:ResourceTag\/elbv2\.k8s\.aws\/cluster, aws:ResourceTag\/quiesce\.io\/deregister-by\)/);
  });

  it('names a Cloud Map namespace whose instances lack the owner attributes', async () => {
    await deployStage();
    const legacy = fakeAws.cloudMap.seedNamespace('legacy.local');
    const orders = fakeAws.cloudMap.seedService(legacy, 'orders');
    fakeAws.cloudMap.seedInstance(orders, '10.0.2.30', { AWS_INSTANCE_IPV4: '10.0.2.30', AWS_INSTANCE_PORT: '8080' });
    const { code, list } = await doctor(['--function', 'sweeper'], { settings: settingsFile({ cloudMapNamespaces: ['mesh.local', 'legacy.local'] }) });
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['read.cloud-map.owner']);
    expect(line(list, 'sweeper', 'read.cloud-map.owner')?.detail).toBe('no instance of legacy.local (1 instance(s), none with ver=v1-30): every record there counts as another cluster\'s and is never deregistered');
  });

  it('names a denied write: the role lost its Cloud Map statement', async () => {
    const s = await deployStage();
    const role = fakeAws.iamApi.role(s.spotRole)!;
    const [name, doc] = [...role.policies][0]!;
    fakeAws.iamApi.putRolePolicy(s.spotRole, name, { ...doc, Statement: [doc.Statement].flat().filter((st) => st.Sid !== 'DeregisterCloudMapInstancesInThisAccountAndRegion') });
    const { code, list } = await doctor(['--function', 'spot-interruption']);
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['write.DeregisterInstance']);
    expect(line(list, 'spot-interruption', 'write.DeregisterInstance')?.detail).toMatch(/^denied on 3 of 3: mesh\.local\/payments: implicitDeny; mesh\.local\/ledger: implicitDeny; mesh\.local\/grpc: implicitDeny$/);
  });

  it('names a queue policy that lets another principal in', async () => {
    await deployStage();
    const url = fakeAws.sqs.handle('GetQueueUrl', { QueueName: 'quiesce-prod-node-signals' }) as { QueueUrl: string };
    // Someone "fixed" a replay by hand: the Deny that keeps the account's other principals out is gone.
    const open = { ...deployed.queuePolicy, Statement: [deployed.queuePolicy.Statement].flat().filter((st) => st.Effect !== 'Deny' || JSON.stringify(st).includes('SecureTransport')) };
    fakeAws.sqs.handle('SetQueueAttributes', { QueueUrl: url.QueueUrl, Attributes: { Policy: JSON.stringify(open) } });
    const { code, list } = await doctor(['--function', 'spot-interruption']);
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['policy.node-signal-queue']);
    expect(line(list, 'spot-interruption', 'policy.node-signal-queue')?.detail).toBe('lets another principal in: a role of the account that is no sender (arn:aws:iam::123456789012:role/quiesce-doctor-probe)');
  });

  it('names a forwarder that has not published', async () => {
    await deployStage({ heartbeat: false });
    const { code, list } = await doctor(['--function', 'pod-events']);
    expect(code).toBe(1);
    expect(failing(list).map((c) => c.id)).toEqual(['forwarder.last-publish']);
    expect(line(list, 'pod-events', 'forwarder.last-publish')?.detail).toBe('no event from the forwarder received in the last 48 h (or ever)');
    expect(line(list, 'pod-events', 'forwarder.last-publish')?.fix).toMatch(/kubectl -n quiesce get pods/);
  });

  it('checks as the caller where a role cannot be assumed, and says so: the access entry and RBAC through it', async () => {
    await deployStage({ assumable: false });
    // The operator may ask the API server about other users (a SubjectAccessReview), as a cluster admin may.
    fakeAws.eks.createAccessEntry('prod', 'arn:aws:iam::123456789012:user/oncall', ['oncall-admins']);
    kube.setRbac([...rbac(), { kind: 'ClusterRole', metadata: { name: 'reviewer' }, rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }] }, { kind: 'ClusterRoleBinding', metadata: { name: 'reviewer' }, roleRef: { name: 'reviewer' }, subjects: [{ kind: 'Group', name: 'oncall-admins' }] }]);
    const { list } = await doctor(['--function', 'sweeper']);
    expect(line(list, 'sweeper', 'identity')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/quiesce-prod-sweeper-us-east-1 could not be assumed \(AccessDenied: User: arn:aws:iam::123456789012:user\/oncall is not authorized to perform: sts:AssumeRole/) });
    expect(line(list, 'sweeper', 'cluster.access')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/has an access entry in group quiesce:readers \(read as the caller/) });
    expect(line(list, 'sweeper', 'cluster.list.pods')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/SubjectAccessReview, asked as the caller/) });
    expect(line(list, 'sweeper', 'write.DeregisterTargets')?.status).toBe('pass');
    expect(failing(list)).toEqual([]);
  });

  it('refuses without a stage, and names an unknown function', async () => {
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, interactive: false, confirm: async () => false };
    expect(await main(['doctor'], io)).toBe(2);
    expect(await main(['doctor', '--stage', 'prod', '--settings', settingsFile(), '--function', 'forwarder'], io)).toBe(2);
  });
});

describe('a function\'s own preflight, on a cold start in dry run', { timeout: 60_000 }, () => {
  it('runs after the first invocation with the function\'s credentials, logs the checklist and publishes Preflight Checked; later invocations and live stages skip it', async () => {
    const s = await deployStage();
    const role = deployed.roleArn('SpotInterruptionRole');
    // The function signs as a session of its role, as Lambda gives it.
    const h = spotHarness({ DRY_RUN: 'true' }, s.topology, { accessKeyId: fakeAws.iam.assumeRole(role, 'quiesce-prod-spot-interruption'), budgetClock: skippingBudgetClock() });
    process.env.QUIESCE_ROLE_ARN = role;
    const lines: string[] = [];
    const logger = createLogger('spot-interruption', { logLevel: 'INFO', write: (l) => lines.push(l) });
    const handler = makeSpotHandler(() => h.deps, logger);
    const warning = JSON.parse(readFileSync(join(root, 'events', 'spot-interruption-warning.json'), 'utf8')) as Record<string, unknown>;
    await handler(warning as never, lambdaContext);
    const checked = fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Preflight Checked');
    expect(checked).toHaveLength(1);
    const detail = checked[0]!.event.detail as { function: string; ok: boolean; checks: Check[] };
    expect(detail.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(detail).toMatchObject({ function: 'spot-interruption', ok: true });
    expect(detail.checks.map((c) => `${c.status} ${c.id}`)).toEqual(expect.arrayContaining(['pass cluster.list.endpointslices', 'pass read.target-groups', 'pass write.DeregisterTargets', 'pass write.DeregisterInstance', 'pass write.CompleteLifecycleAction']));
    expect(lines.some((l) => l.includes('preflight passed'))).toBe(true);
    const simulated = fakeAws.calls.count('iam', 'SimulatePrincipalPolicy');
    await handler(warning as never, lambdaContext);
    expect(fakeAws.calls.count('iam', 'SimulatePrincipalPolicy')).toBe(simulated);

    // A denied write shows in the function's own log, loudly.
    fakeAws.eks.handle('DeleteAccessEntry', { clusterName: 'prod', principalArn: role });
    const errors: string[] = [];
    await makeSpotHandler(() => h.deps, createLogger('spot-interruption', { logLevel: 'INFO', write: (l) => errors.push(l) }))(warning as never, lambdaContext);
    expect(errors.find((l) => l.includes('PREFLIGHT FAILED'))).toMatch(/the cluster has no access entry for it/);

    // Live: no preflight.
    const live = spotHarness({}, h.topology, { accessKeyId: fakeAws.iam.assumeRole(role, 'quiesce-prod-spot-interruption'), budgetClock: skippingBudgetClock() });
    const before = fakeAws.calls.count('iam', 'SimulatePrincipalPolicy');
    await makeSpotHandler(() => live.deps, createLogger('spot-interruption'))(warning as never, lambdaContext);
    expect(fakeAws.calls.count('iam', 'SimulatePrincipalPolicy')).toBe(before);
  });
});
