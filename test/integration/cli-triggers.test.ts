/**
 * `quiesce plan` plans every trigger, read-only (issue 12): each sample in events/ (node signals, a pod
 * termination, an exporter Killing event, a scheduled sweep, a Deployment Synced, ArgoCD's webhook body, a
 * shift step) prints a plan or a clear reason and exits as docs/cli.md says, and nothing is written; then a
 * pod termination and a sync that do have something to plan, and `apply` of a trigger it does not apply.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../functions/cli/main.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV, seedTopology, VPC } from '../fakes/topology.ts';
import { seedTrafficTopology, trafficPlansJson, type TrafficTopology } from '../fakes/traffic.ts';
import { anyWrites, startFakeKube } from './handlers.ts';
import { runCli } from './cli-run.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'quiesce-cli-triggers-'));
const { kube, address } = startFakeKube();

let traffic: TrafficTopology;
let env: Record<string, string>;
const uids = new Map<string, string>();
beforeEach(() => {
  const topology = seedTopology(fakeAws);
  traffic = seedTrafficTopology(fakeAws);
  kube.reset();
  fakeAws.eks.seedCluster({ name: 'prod', ...address(), vpcId: VPC });
  // Every pod of the topology is alive (the sweeper believes the list), payments' among them.
  const pods = [['web-a', '10.0.1.11'], ['web-c', '10.0.1.33'], ['web-b', '10.0.2.11'], ['web-d', '10.0.3.11'], ['api-b', '10.0.2.12'], ['api-c', '10.0.3.12'], ['admin', '10.0.1.34'], ['payments-7d9f-abcde', '10.0.1.12']] as const;
  for (const [name, ip] of pods) uids.set(name, String(kube.addPod({ namespace: 'shop', name, ip, startTime: '2026-11-21T11:00:00Z', nodeName: 'n' }).metadata?.uid));
  env = { ...PROD_ENV, RECHECK_QUEUE_URL: topology.recheckQueueUrl, AWS_REGION: 'us-east-1', TRAFFIC_PLANS: trafficPlansJson(traffic) };
});

const run = (argv: string[]): Promise<{ code: ExitCode; out: string; err: string }> => runCli(argv, env);

const file = (name: string, value: unknown): string => {
  const p = join(tmp, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
};
const sample = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } => JSON.parse(readFileSync(join(root, 'events', name), 'utf8'));

/** What each sample's plan says, and its exit code (docs/cli.md, "What plan says for each sample"). */
const EXPECTED: Record<string, { code: ExitCode; says: RegExp }> = {
  'spot-interruption-warning.json': { code: ExitCode.ok, says: /Plan \S+ \(spot-interruption\)|ignored/ },
  'pod-terminating.json': { code: ExitCode.refused, says: /REJECTED: .*prod-eu-west-1/ },
  'pod-terminating-not-ready.json': { code: ExitCode.refused, says: /REJECTED: / },
  'kubernetes-event-exporter-killing.json': { code: ExitCode.ok, says: /ignored .*: \S/ },
  'scheduled-sweep.json': { code: ExitCode.ok, says: /Sweep dry-run: \d+ stale/ },
  'deployment-synced.json': { code: ExitCode.ok, says: /Shift of shop on .*\n[\s\S]*Steps \(3\)/ },
  'argocd-webhook-body.json': { code: ExitCode.ok, says: /Shift of shop on .*\n[\s\S]*Steps \(3\)/ },
  'traffic-shift-step.json': { code: ExitCode.refused, says: /REFUSED shift of shop: rule .* not found/ },
};

describe('quiesce plan on every sample in events/', () => {
  const samples = readdirSync(join(root, 'events')).filter((f) => f.endsWith('.json'));

  it('prints a plan or a clear reason for each, exits 0 (planned, nothing to do) or 3 (refused), and writes nothing', async () => {
    expect(samples.length).toBeGreaterThanOrEqual(12);
    for (const name of samples) {
      const r = await run(['plan', join(root, 'events', name)]);
      expect([ExitCode.ok, ExitCode.refused], `${name}: exit ${r.code}\n${r.out}${r.err}`).toContain(r.code);
      expect(r.out, name).toMatch(/Plan \S+ \(|ignored|Nothing to do|REJECTED|REFUSED|IGNORED|Shift of|Sweep /);
      expect(r.out + r.err, name).not.toMatch(/unknown event|unknown detail-type/i);
      const expected = EXPECTED[name];
      if (expected) {
        expect(r.code, `${name}\n${r.out}${r.err}`).toBe(expected.code);
        expect(r.out, name).toMatch(expected.says);
      }
      expect(anyWrites(), `${name} wrote`).toBe(0);
    }
  });
});

describe('quiesce plan of the other triggers', () => {
  it('plans a pod termination of this cluster: the pod\'s registrations, in dry run', async () => {
    const now = new Date(fakeAws.clock.now());
    // The pod is terminating in the cluster, as the event says: the plan confirms it there, as pod-events does.
    kube.markTerminating('shop', 'payments-7d9f-abcde', 30);
    const pod = sample('pod-terminating.json');
    pod.detail = { ...pod.detail, cluster: 'prod', name: 'payments-7d9f-abcde', uid: uids.get('payments-7d9f-abcde'), podIPs: ['10.0.1.12'], containerPorts: [], deletionTimestamp: new Date(now.getTime() + 30_000).toISOString(), observedAt: now.toISOString() };
    const r = await run(['plan', file('pod.json', { ...pod, time: now.toISOString() }), '--json']);
    expect(r.code, r.out + r.err).toBe(ExitCode.ok);
    const out = JSON.parse(r.out) as { trigger: string; results: { status: string; plan: { trigger: string; actions: { kind: string }[] } | null }[] };
    expect(out.trigger).toBe('pod');
    expect(out.results[0]?.status, r.out).toBe('dry-run');
    expect(out.results[0]?.plan?.trigger).toBe('pod-events');
    expect(out.results[0]?.plan?.actions.length).toBeGreaterThan(0);
    expect(anyWrites()).toBe(0);
  });

  it('a pod termination the cluster contradicts (the pod Running and Ready, no deletionTimestamp) plans nothing', async () => {
    const now = new Date(fakeAws.clock.now());
    const pod = sample('pod-terminating.json');
    pod.detail = { ...pod.detail, cluster: 'prod', name: 'payments-7d9f-abcde', uid: uids.get('payments-7d9f-abcde'), podIPs: ['10.0.1.12'], containerPorts: [], deletionTimestamp: new Date(now.getTime() + 30_000).toISOString(), observedAt: now.toISOString() };
    const r = await run(['plan', file('pod.json', { ...pod, time: now.toISOString() }), '--json']);
    const out = JSON.parse(r.out) as { results: { status: string; reason: string | null; plan: unknown }[] };
    expect(out.results[0]).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/not terminating \(no deletionTimestamp\)/), plan: null });
    expect(anyWrites()).toBe(0);
  });

  it('plans each step of a shift with its weights and gate; a gate that would fail is a refusal (exit 3)', async () => {
    const ok = await run(['plan', join(root, 'events', 'deployment-synced.json'), '--json']);
    const planned = JSON.parse(ok.out) as { results: { status: string; steps: { percent: number; gate: { passes: boolean }; plan: { actions: { weights: { weight: number }[] }[] } }[] }[] };
    expect(planned.results[0]?.steps.map((s) => [s.percent, s.plan.actions[0]?.weights.map((w) => w.weight)])).toEqual([
      [10, [90, 10, 0]],
      [50, [50, 50, 0]],
      [100, [0, 100, 0]],
    ]);
    env = { ...env, TRAFFIC_PLANS: trafficPlansJson(traffic, { gate: { minHealthyTargets: 5 } }) };
    const gated = await run(['plan', join(root, 'events', 'deployment-synced.json')]);
    expect(gated.code).toBe(ExitCode.refused);
    expect(gated.out).toMatch(/3 healthy of 5 needed: WOULD ABORT/);
    // Without traffic plans: the reason says where they come from.
    env = { ...env, TRAFFIC_PLANS: '' };
    const none = await run(['plan', join(root, 'events', 'deployment-synced.json')]);
    expect([none.code, none.out]).toEqual([ExitCode.ok, expect.stringMatching(/IGNORED shift of shop: no traffic plan for app shop \(TRAFFIC_PLANS_PATH, TRAFFIC_PLANS, TRAFFIC_PLANS_FILE or --traffic-plans\)/)]);
    expect(anyWrites()).toBe(0);
  });

  it('reads traffic plans from --traffic-plans', async () => {
    const plans = file('plans.json', JSON.parse(trafficPlansJson(traffic)));
    env = { ...env, TRAFFIC_PLANS: '' };
    expect((await run(['plan', join(root, 'events', 'argocd-webhook-body.json'), '--traffic-plans', plans])).code).toBe(ExitCode.ok);
  });

  it('reads traffic plans where the deployed function does: one SSM parameter per app under TRAFFIC_PLANS_PATH', async () => {
    const path = '/quiesce/prod/traffic-plans';
    const apps = (JSON.parse(trafficPlansJson(traffic)) as { apps: Record<string, unknown> }).apps;
    for (const [app, plan] of Object.entries(apps)) fakeAws.ssm.putParameter(`${path}/${app}`, JSON.stringify(plan), 'String');
    fakeAws.ssm.putParameter(`${path}/cart`, '{"ruleArn": ', 'String');
    env = { ...env, TRAFFIC_PLANS: '', TRAFFIC_PLANS_PATH: path };
    const r = await run(['plan', join(root, 'events', 'deployment-synced.json'), '--json']);
    expect(r.code).toBe(ExitCode.ok);
    const planned = JSON.parse(r.out) as { results: { status: string; steps: { percent: number }[] }[] };
    expect(planned.results[0]?.steps.map((s) => s.percent)).toEqual([10, 50, 100]);
    // Another app's broken plan is reported, and only that app has none.
    expect(r.err).toMatch(/traffic plan of cart not valid \(no plan for it\): \/quiesce\/prod\/traffic-plans\/cart: not JSON/);
    expect(r.err.match(/not valid/g)).toHaveLength(1);
    // Both sources at once: which would count? Refused, as the function refuses it.
    env = { ...env, TRAFFIC_PLANS: trafficPlansJson(traffic) };
    const both = await run(['plan', join(root, 'events', 'deployment-synced.json')]);
    expect([both.code, both.err]).toEqual([ExitCode.usage, expect.stringMatching(/TRAFFIC_PLANS_PATH.*not both/)]);
    expect(anyWrites()).toBe(0);
  });

  it('does not apply what only its function applies, and refuses a file mixing triggers', async () => {
    const apply = await run(['apply', join(root, 'events', 'pod-terminating.json'), '--yes']);
    expect([apply.code, apply.err]).toEqual([ExitCode.usage, expect.stringMatching(/a pod termination is applied by its function/)]);
    const mixed = await run(['plan', file('mixed.json', [sample('spot-interruption-warning.json'), sample('deployment-synced.json')])]);
    expect([mixed.code, mixed.err]).toEqual([ExitCode.usage, expect.stringMatching(/mixes triggers \(node, traffic\)/)]);
    expect(anyWrites()).toBe(0);
  });
});
