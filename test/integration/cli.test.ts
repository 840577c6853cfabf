/**
 * The `quiesce` CLI against the fake AWS: in-process through `main(argv, io)` (plan, apply with and without
 * confirmation, --json, bad input with its exit codes, sweep --dry-run with the real sweeper and the fake
 * Kubernetes API), and once as a child process through bin/quiesce.mjs with AWS_ENDPOINT_URL pointing at
 * the shared fake, as an operator would run it against any endpoint the SDK's standard configuration names.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, main, type CliIo } from '../../functions/cli/main.ts';
import { FakeKubeApi } from '#fakes/kube/index.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { NODES, PROD_ENV, seedTopology, VPC, type Topology } from '../fakes/topology.ts';
import { writeCalls } from './harness.ts';

const root = new URL('../../', import.meta.url).pathname;
const sample = (name: string): string => join(root, 'events', `${name}.json`);
const tmp = mkdtempSync(join(tmpdir(), 'quiesce-cli-'));
const file = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

let topology: Topology;
let env: Record<string, string>;
beforeEach(() => {
  topology = seedTopology(fakeAws);
  env = { ...PROD_ENV, RECHECK_QUEUE_URL: topology.recheckQueueUrl, AWS_REGION: 'us-east-1' };
});

function fakeIo(options: { interactive?: boolean; answer?: boolean; env?: Record<string, string> } = {}) {
  let out = '';
  let err = '';
  const questions: string[] = [];
  const io: CliIo = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: options.env ?? env,
    interactive: options.interactive ?? false,
    confirm: async (q) => {
      questions.push(q);
      return options.answer ?? false;
    },
    now: () => new Date(fakeAws.clock.now()),
    sleep: (ms) => fakeAws.clock.sleep(ms),
  };
  return { io, out: () => out, err: () => err, questions };
}

const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const audits = () => fakeAws.events.published('quiesce-audit');

describe('quiesce plan', () => {
  it('prints the plan the spot trigger would apply, and writes nothing (not even an audit event)', async () => {
    const t = fakeIo();
    const before = targetsOf(topology.tg.web);
    expect(await main(['plan', sample('spot-interruption-warning')], t.io)).toBe(ExitCode.ok);
    expect(t.out()).toMatch(/Actions \(7\):/);
    expect(t.out()).toMatch(/target\s+k8s-shop-web\s+10\.0\.1\.11:8080\s+healthy/);
    expect(t.out()).toMatch(/min-healthy\s+target k8s-shop-admin 10\.0\.1\.34:8080/);
    expect(t.out()).toMatch(/SINGLE POINT OF FAILURE/);
    expect(writeCalls()).toBe(0);
    expect(fakeAws.calls.count('events')).toBe(0);
    expect(audits()).toEqual([]);
    expect(targetsOf(topology.tg.web)).toEqual(before);
    // Progress on stderr, naming the port calls it counted; stdout stays the plan.
    expect(t.err()).toMatch(/observed with \d+ calls: .*ec2\.\w+=\d+.*elbv2\.\w+=\d+/);
    expect(t.out()).not.toMatch(/observed with/);
  });

  it('reads a dead-lettered message as `aws sqs receive-message` prints it', async () => {
    const body = readFileSync(sample('spot-interruption-warning'), 'utf8');
    const t = fakeIo();
    expect(await main(['plan', file('dlq.json', JSON.stringify({ Messages: [{ MessageId: 'm1', Body: body }] })), '--json'], t.io)).toBe(ExitCode.ok);
    expect((JSON.parse(t.out()) as { plan: { actions: unknown[] } }).plan.actions).toHaveLength(7);
  });

  it('--json gives the plan as data', async () => {
    const t = fakeIo();
    expect(await main(['plan', sample('spot-interruption-warning'), '--json'], t.io)).toBe(ExitCode.ok);
    const out = JSON.parse(t.out()) as { command: string; applied: boolean; plan: { actions: { kind: string }[]; heldBack: { guard: string }[] }; result: { dryRun: boolean }; exitCode: number };
    expect(out).toMatchObject({ command: 'plan', applied: false, exitCode: 0, result: { dryRun: true } });
    expect(out.plan.actions.map((a) => a.kind).sort()).toEqual([...Array(5).fill('deregister-target'), 'deregister-instance', 'deregister-instance'].sort());
    expect(out.plan.heldBack.map((h) => h.guard).sort()).toEqual(['min-healthy', 'ownership']);
  });

  it('says why nothing is planned for an ignored event', async () => {
    const t = fakeIo();
    expect(await main(['plan', sample('rebalance-recommendation')], t.io)).toBe(ExitCode.ok);
    expect(t.out()).toMatch(/ignored .*REBALANCE_ACTION=ignore/);
  });

  it('refuses (exit 3) an instance that is not a node of the cluster', async () => {
    const event = JSON.parse(readFileSync(sample('spot-interruption-warning'), 'utf8')) as { detail: Record<string, string> };
    event.detail['instance-id'] = NODES.staging;
    const t = fakeIo();
    expect(await main(['plan', file('staging.json', JSON.stringify(event))], t.io)).toBe(ExitCode.refused);
    expect(t.out()).toMatch(new RegExp(`REJECTED ${NODES.staging}`));
    expect(writeCalls()).toBe(0);
  });
});

describe('quiesce apply', () => {
  it('refuses without a terminal and without --yes (exit 2), writing nothing', async () => {
    const t = fakeIo({ interactive: false });
    expect(await main(['apply', sample('spot-interruption-warning')], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toMatch(/pass --yes/);
    expect(writeCalls()).toBe(0);
  });

  it('asks on a terminal; "no" applies nothing (exit 3)', async () => {
    const t = fakeIo({ interactive: true, answer: false });
    expect(await main(['apply', sample('spot-interruption-warning')], t.io)).toBe(ExitCode.refused);
    expect(t.questions).toEqual(['Apply 7 action(s) in cluster prod? [y/N] ']);
    expect(writeCalls()).toBe(0);
  });

  it('applies after "yes", like the trigger: targets draining, lifecycle untouched, audit event published', async () => {
    const t = fakeIo({ interactive: true, answer: true });
    expect(await main(['apply', sample('spot-interruption-warning')], t.io)).toBe(ExitCode.ok);
    expect(targetsOf(topology.tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    expect(t.out()).toMatch(/Result: deregistered=7/);
    expect(audits()).toHaveLength(1);
    // The re-registration guard is the function's: its re-checks are taken only from its own role, so the
    // CLI (the operator's credentials) sends none, and says so.
    expect(fakeAws.sqs.pending(topology.recheckQueueUrl)).toHaveLength(0);
    expect(t.out()).toMatch(/re-registration guard: not run by the CLI/);
  });

  it('--yes --json applies without asking and reports the result as data', async () => {
    const t = fakeIo({ interactive: true });
    expect(await main(['apply', sample('asg-terminate-lifecycle-action'), '--yes', '--json'], t.io)).toBe(ExitCode.ok);
    expect(t.questions).toEqual([]);
    const out = JSON.parse(t.out()) as { applied: boolean; result: { counts: Record<string, number> }; lifecycleCompleted: number };
    expect(out.applied).toBe(true);
    expect(out.result.counts['failed']).toBe(0);
    expect(out.lifecycleCompleted).toBe(1);
    expect(fakeAws.autoscaling.completed()).toEqual([expect.objectContaining({ instanceId: NODES.asg, result: 'CONTINUE' })]);
  });

  it('applies nothing when DRY_RUN=true is configured (exit 3)', async () => {
    const t = fakeIo({ env: { ...env, DRY_RUN: 'true' } });
    expect(await main(['apply', sample('spot-interruption-warning'), '--yes'], t.io)).toBe(ExitCode.refused);
    expect(t.err()).toMatch(/DRY_RUN=true/);
    expect(writeCalls()).toBe(0);
  });

  it('exits 1 when deregistrations fail', async () => {
    // A permanent error (IAM denies: no backoff to wait out): reported per action, exit 1.
    fakeAws.faults.fail('DeregisterTargets', { times: 100, code: 'AccessDenied', message: 'not authorized to perform elasticloadbalancing:DeregisterTargets', status: 403 });
    const t = fakeIo();
    expect(await main(['apply', sample('spot-interruption-warning'), '--yes'], t.io)).toBe(ExitCode.failed);
    expect(t.out()).toMatch(/failed\s+target k8s-shop-web/);
  });
});

describe('bad input: exit 2 and no AWS call', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['plan', join(tmp, 'nope.json')], /cannot read/],
    ['not JSON', () => ['plan', file('bad.json', '{ nope')], /not JSON/],
    ['an invalid event', () => ['plan', file('bad-id.json', JSON.stringify({ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': 'i-; drop', 'instance-action': 'terminate' } }))], /invalid event \(field detail\.instance-id\)/],
    ['an unknown command', () => ['explode'], /unknown command/],
    ['an unknown flag', () => ['plan', sample('spot-interruption-warning'), '--force'], /Unknown option/],
    ['no event file', () => ['apply'], /missing <event\.json>/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const t = fakeIo();
      expect(await main(argv(), t.io)).toBe(ExitCode.usage);
      expect(t.err()).toMatch(message);
      expect(fakeAws.calls.count()).toBe(0);
    });
  }

  it('a configuration error names the variable', async () => {
    const t = fakeIo({ env: { ...env, CLUSTER_NAME: '' } });
    expect(await main(['plan', sample('spot-interruption-warning')], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toMatch(/CLUSTER_NAME/);
    expect(fakeAws.calls.count()).toBe(0);
  });

  it('--json reports an invalid event as data', async () => {
    const t = fakeIo();
    expect(await main(['plan', file('bad2.json', '{"source":"aws.ec2"}'), '--json'], t.io)).toBe(ExitCode.usage);
    expect(JSON.parse(t.out())).toMatchObject({ error: 'InvalidEventError', exitCode: 2 });
  });
});

describe('quiesce sweep', () => {
  const kube = new FakeKubeApi({ token: { verify: { clusterName: 'prod', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } } });
  let kubeEndpoint = '';
  let caData = '';
  beforeAll(async () => {
    ({ endpoint: kubeEndpoint, caData } = await kube.start());
  });
  afterAll(() => kube.stop());

  it('is "not available in this build" (exit 4) without the sweeper workflow', async () => {
    const t = fakeIo();
    expect(await main(['sweep', '--dry-run'], t.io, { loadSweeper: async () => undefined })).toBe(ExitCode.unavailable);
    expect(t.err()).toMatch(/not available in this build/);
  });

  it('--dry-run runs the real sweeper read-only and prints its plan', async () => {
    kube.reset();
    fakeAws.eks.seedCluster({ name: 'prod', endpoint: kubeEndpoint, caData, vpcId: VPC });
    // Every pod of the topology is alive except 10.0.1.12's (a pod that finished).
    for (const [name, ip] of [['web-a', '10.0.1.11'], ['web-c', '10.0.1.33'], ['web-b', '10.0.2.11'], ['web-d', '10.0.3.11'], ['api-b', '10.0.2.12'], ['api-c', '10.0.3.12'], ['admin', '10.0.1.34']] as const) {
      kube.addPod({ namespace: 'shop', name, ip, startTime: '2026-11-21T11:00:00Z', nodeName: 'n' });
    }
    const t = fakeIo();
    expect(await main(['sweep', '--dry-run', '--json'], t.io)).toBe(ExitCode.ok);
    const out = JSON.parse(t.out()) as { command: string; applied: boolean; status: string; plan: { trigger: string; actions: unknown[] } };
    expect(out).toMatchObject({ command: 'sweep', applied: false, status: 'dry-run' });
    expect(Array.isArray(out.plan.actions)).toBe(true);
    expect(writeCalls()).toBe(0);
    expect(audits()).toEqual([]);
  });
});

describe('bin/quiesce.mjs as a child process', () => {
  // The one test that starts the real launcher (a process with tsx's loader: ~2.5 s of CPU); everything
  // else runs main() in-process. What only a child process shows: the launcher starts the CLI, the SDK
  // clients of a fresh process find the fake through AWS_ENDPOINT_URL, --json goes to stdout and progress
  // to stderr of a real process, and main's exit code becomes the process's (a non-zero one: 3, refused).
  it('runs against the endpoint AWS_ENDPOINT_URL names: --json on stdout, progress on stderr, main\'s exit code as its own', async () => {
    // The child runs on real time: the warning is sent now (an old one would be ignored as a replay). Its
    // instance is a node of another cluster: refused (exit 3) after the EC2 call that shows it.
    const warning = JSON.parse(readFileSync(sample('spot-interruption-warning'), 'utf8')) as { time: string; detail: Record<string, string> };
    warning.time = new Date().toISOString();
    warning.detail['instance-id'] = NODES.staging;
    const child = promisify(execFile)(process.execPath, [join(root, 'bin', 'quiesce.mjs'), 'plan', file('fresh-staging-warning.json', JSON.stringify(warning)), '--json'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'SILENT' },
      timeout: 30_000,
    });
    const failed = (await child.then(() => undefined, (e: unknown) => e)) as { code?: number; stdout: string; stderr: string } | undefined;
    expect(failed?.code).toBe(ExitCode.refused);
    const out = JSON.parse(failed?.stdout ?? '') as { rejected: { instanceId: string; reason: string }[]; exitCode: number };
    expect(out).toMatchObject({ exitCode: ExitCode.refused, rejected: [{ instanceId: NODES.staging, reason: 'not-a-node-of-this-cluster' }] });
    expect(failed?.stderr).toMatch(/observed with 1 calls: ec2\.describeInstances=1/);
    expect(failed?.stdout).not.toMatch(/observed with/);
    expect(fakeAws.calls.count('ec2')).toBeGreaterThan(0);
    expect(writeCalls()).toBe(0);
  }, 40_000);
});
