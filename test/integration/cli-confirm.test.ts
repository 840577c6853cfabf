/**
 * `quiesce apply` applies exactly what was confirmed (issue 9, item 9), against the fake AWS: a target the
 * Load Balancer Controller registers on the dying node between showing the plan and applying it is never
 * applied unseen. With --yes the printed plan is the confirmed one; on a terminal a changed plan is shown
 * and asked about again, a bounded number of times.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, main, MAX_CONFIRMATIONS, type CliIo } from '../../functions/cli/main.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV, seedTopology, VPC, type Topology } from '../fakes/topology.ts';
import { startFakeKube } from './handlers.ts';
import { writeCalls } from './harness.ts';

const warning = join(new URL('../../', import.meta.url).pathname, 'events', 'spot-interruption-warning.json');

let topology: Topology;
let env: Record<string, string>;
/** Every target id any DeregisterTargets call named, in order. */
let deregistered: string[] = [];
beforeEach(() => {
  topology = seedTopology(fakeAws);
  env = { ...PROD_ENV, RECHECK_QUEUE_URL: topology.recheckQueueUrl, AWS_REGION: 'us-east-1' };
  deregistered = [];
  fakeAws.elbv2.onDeregister((e) => deregistered.push(...e.targets.map((t) => t.id)));
});

/** The LBC registers a still-Ready pod of the spot node (inside its delegated /28) in k8s-shop-web. */
let next = 35;
function podRegisters(): string {
  const ip = `10.0.1.${next++}`;
  fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: topology.tg.web, Targets: [{ Id: ip }] });
  fakeAws.elbv2.setTargetHealth(topology.tg.web, ip, 8080, 'healthy');
  return ip;
}

function io(options: { interactive: boolean; answers?: boolean[]; onAsk?: (n: number) => void; onShow?: (text: string) => void }) {
  let out = '';
  let err = '';
  const questions: string[] = [];
  const cli: CliIo = {
    stdout: {
      write: (t: string) => {
        out += t;
        options.onShow?.(t);
      },
    },
    stderr: { write: (t: string) => (err += t) },
    env,
    interactive: options.interactive,
    confirm: async (q) => {
      questions.push(q);
      options.onAsk?.(questions.length);
      return options.answers?.[questions.length - 1] ?? true;
    },
    now: () => new Date(fakeAws.clock.now()),
    sleep: (ms: number) => fakeAws.clock.sleep(ms),
  };
  return { cli, out: () => out, err: () => err, questions };
}

const web = () => fakeAws.elbv2.targets(topology.tg.web).map((t) => `${t.id}:${t.port} ${t.state}`).sort();

describe('quiesce apply --yes: the plan it printed, never a re-plan', () => {
  it('shows 7, applies 7: a target registered after the plan was printed is not applied, and is reported', async () => {
    let appeared = '';
    const t = io({ interactive: false, onShow: (text) => void (/Actions \(7\)/.test(text) && !appeared && (appeared = podRegisters())) });
    expect(await main(['apply', warning, '--yes'], t.cli)).toBe(ExitCode.ok);
    expect(appeared).not.toBe('');
    expect(t.out()).toMatch(/Actions \(7\):/);
    expect(t.out()).toMatch(/Result: deregistered=7 refused=1/);
    expect(t.err()).toMatch(new RegExp(`NOT APPLIED: 1 action\\(s\\) appeared after the plan was confirmed: target k8s-shop-web ${appeared}:8080`));
    expect(deregistered).not.toContain(appeared);
    expect(web()).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', `${appeared}:8080 healthy`, '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    // The audit record says so too.
    const outcomes = fakeAws.events.published('quiesce-audit').flatMap((p) => (p.event.detail as { outcomes?: { action: string; status: string; error?: string }[] }).outcomes ?? []);
    expect(outcomes.filter((o) => o.status !== 'deregistered' && o.status !== 'submitted')).toEqual([
      { action: `target k8s-shop-web ${appeared}:8080`, status: 'refused', why: expect.any(String), error: expect.stringMatching(/^NotConfirmed: /) },
    ]);
  });

  it('--json carries the confirmed plan and what was not confirmed', async () => {
    let appeared = '';
    const t = io({ interactive: false });
    // No human plan with --json: the change comes between the look and the apply, in the first apply write's path.
    const handle = fakeAws.elbv2.handle.bind(fakeAws.elbv2);
    let looks = 0;
    fakeAws.elbv2.handle = (operation, input) => {
      if (operation === 'DescribeTargetGroups' && ++looks === 2) appeared = podRegisters();
      return handle(operation, input);
    };
    try {
      expect(await main(['apply', warning, '--yes', '--json'], t.cli)).toBe(ExitCode.ok);
    } finally {
      fakeAws.elbv2.handle = handle;
    }
    const out = JSON.parse(t.out()) as { confirmedPlan: { actions: unknown[] }; notConfirmed: string[]; result: { counts: Record<string, number> } };
    expect(out.confirmedPlan.actions).toHaveLength(7);
    expect(out.notConfirmed).toEqual([`target k8s-shop-web ${appeared}:8080`]);
    expect(out.result.counts).toMatchObject({ deregistered: 7, submitted: 0, refused: 1 });
  });
});

describe('quiesce apply on a terminal: a changed plan is shown and asked about again', () => {
  it('asks again when it would change, and then applies what the second answer confirmed', async () => {
    let appeared = '';
    const t = io({ interactive: true, onAsk: (n) => void (n === 1 && (appeared = podRegisters())) });
    expect(await main(['apply', warning], t.cli)).toBe(ExitCode.ok);
    expect(t.questions).toEqual(['Apply 7 action(s) in cluster prod? [y/N] ', 'Apply 8 action(s) in cluster prod? [y/N] ']);
    expect(t.out()).toMatch(/The plan changed since it was shown:\n.*\n.*\n\s+\+\s+target\s+k8s-shop-web\s+10\.0\.1\.\d+:8080\s+healthy/);
    expect(t.out()).toMatch(/Result: deregistered=8\n/);
    expect(web()).toContain(`${appeared}:8080 draining`);
  });

  it('applies nothing when the changed plan is declined', async () => {
    const t = io({ interactive: true, answers: [true, false], onAsk: (n) => void (n === 1 && podRegisters()) });
    expect(await main(['apply', warning], t.cli)).toBe(ExitCode.refused);
    expect(t.questions).toHaveLength(2);
    expect(writeCalls()).toBe(0);
  });

  it(`gives up after ${MAX_CONFIRMATIONS} confirmations of a plan that keeps changing, applying nothing`, async () => {
    const t = io({ interactive: true, onAsk: () => void podRegisters() });
    expect(await main(['apply', warning], t.cli)).toBe(ExitCode.refused);
    expect(t.questions.map((q) => q.match(/Apply (\d+)/)?.[1])).toEqual(['7', '8', '9']);
    expect(t.err()).toMatch(/the plan changed after each of 3 confirmations: nothing applied/);
    expect(writeCalls()).toBe(0);
  });

  it('shows what went away too, and asks about the smaller plan', async () => {
    // Someone else deregisters 10.0.1.11 while we ask: the fresh look no longer plans it.
    const t = io({ interactive: true, onAsk: (n) => void (n === 1 && fakeAws.elbv2.handle('DeregisterTargets', { TargetGroupArn: topology.tg.web, Targets: [{ Id: '10.0.1.11', Port: 8080 }] })) });
    expect(await main(['apply', warning], t.cli)).toBe(ExitCode.ok);
    expect(t.questions).toEqual(['Apply 7 action(s) in cluster prod? [y/N] ', 'Apply 6 action(s) in cluster prod? [y/N] ']);
    expect(t.out()).toMatch(/-\s+target\s+k8s-shop-web\s+10\.0\.1\.11:8080/);
  });
});

describe('quiesce sweep applies only the dry run it showed', () => {
  const { kube, address } = startFakeKube();

  it('a stale registration that appears after "yes" waits for the next sweep', async () => {
    kube.reset();
    fakeAws.eks.seedCluster({ name: 'prod', ...address(), vpcId: VPC });
    for (const [name, ip] of [['web-a', '10.0.1.11'], ['web-c', '10.0.1.33'], ['web-b', '10.0.2.11'], ['web-d', '10.0.3.11'], ['api-a', '10.0.1.12'], ['api-b', '10.0.2.12'], ['api-c', '10.0.3.12'], ['admin', '10.0.1.34']] as const) {
      kube.addPod({ namespace: 'shop', name, ip, startTime: '2026-11-21T11:00:00Z', nodeName: 'n' });
    }
    // One dead registration the dry run finds (an address on no ENI).
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: topology.tg.web, Targets: [{ Id: '10.0.7.7' }] });
    fakeAws.elbv2.setTargetHealth(topology.tg.web, '10.0.7.7', 8080, 'unhealthy');
    const t = io({
      interactive: true,
      onAsk: () => {
        fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: topology.tg.web, Targets: [{ Id: '10.0.7.8' }] });
        fakeAws.elbv2.setTargetHealth(topology.tg.web, '10.0.7.8', 8080, 'unhealthy');
      },
    });
    expect(await main(['sweep'], t.cli)).toBe(ExitCode.ok);
    expect(t.questions).toHaveLength(1);
    expect(t.out()).toMatch(/target\s+k8s-shop-web\s+10\.0\.7\.7:8080/);
    expect(t.out().split('Result:')[0]).not.toMatch(/10\.0\.7\.8/);
    expect(deregistered).toContain('10.0.7.7');
    expect(deregistered).not.toContain('10.0.7.8');
    expect(t.err()).toMatch(/NOT APPLIED: 1 sweep action\(s\) appeared after the plan was confirmed: target k8s-shop-web 10\.0\.7\.8:8080/);
  });
});
