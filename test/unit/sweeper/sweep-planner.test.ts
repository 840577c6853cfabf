import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '#core/errors.ts';
import { guardPlan } from '#core/domain/guards.ts';
import type { NodeInstance } from '#core/domain/endpoint.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration, TargetState } from '#core/domain/registration.ts';
import { indexPods, type ClusterPod } from '#core/domain/cluster-pods.ts';
import { EniIndex, type VpcEni } from '#core/domain/eni-index.ts';
import { targetGroupOwnership } from '#core/domain/ownership.ts';
import { planSweep, type SweepInput } from '#core/domain/planners/sweep.ts';
import { loadSweeperConfig } from '../../../functions/sweeper/config.ts';
import { parseScheduledEvent } from '../../../functions/sweeper/handler.ts';

const VPC = 'vpc-1';
const NOW = new Date('2026-11-21T12:00:00Z');
const group = (name: string, tags: Record<string, string> = {}, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({
  arn: `arn:tg/${name}`, name, targetType, vpcId: VPC, port: 80, loadBalancerArns: [], tags,
});
const target = (g: TargetGroup, id: string, state: TargetState = 'healthy'): TargetRegistration => ({
  kind: 'target', targetGroupArn: g.arn, targetGroupName: g.name, id, port: 80, state,
});
const eni = (id: string, ips: string[], prefixes: string[] = [], tags: Record<string, string> = {}, instanceId = 'i-1'): VpcEni => ({
  networkInterfaceId: id, instanceId, vpcId: VPC, privateIps: ips, ipv4Prefixes: prefixes, tags,
});
const pod = (name: string, ip: string, startTime = '2026-11-21T10:00:00Z', phase = 'Running'): ClusterPod => ({ namespace: 'shop', name, ips: [ip], phase, startTime });
const cm = (id: string, attributes: Record<string, string>): CloudMapRegistration => ({
  kind: 'cloudmap', namespaceId: 'ns', namespaceName: 'mesh', serviceId: 'svc', serviceName: 'payments', instanceId: id, attributes,
});

function input(over: Partial<SweepInput>): SweepInput {
  return {
    planId: 'p', clusterName: 'prod', now: NOW, graceSeconds: 120, targetGroups: [], targets: [], cloudMap: [], ownerAttributes: {},
    clusterVpcId: VPC, pods: new Map(), enis: new EniIndex([VPC], []), instances: new Map(), instancesLookedUp: new Set(), ...over,
  };
}

describe('ownership', () => {
  it('owns a group by LBC tag, tag selector or TargetGroupBinding, and nothing else', () => {
    const rules = { clusterName: 'prod', tagSelector: { team: 'shop' }, bindingArns: new Set(['arn:tg/bound']) };
    expect(targetGroupOwnership(group('a', { 'elbv2.k8s.aws/cluster': 'prod' }), rules)).toBe('lbc-tag');
    expect(targetGroupOwnership(group('b', { team: 'shop' }), rules)).toBe('tag-selector');
    expect(targetGroupOwnership(group('bound', { 'elbv2.k8s.aws/cluster': 'blue' }), rules)).toBe('target-group-binding');
    expect(targetGroupOwnership(group('c', { 'elbv2.k8s.aws/cluster': 'blue' }), rules)).toBeUndefined();
    expect(targetGroupOwnership(group('d', { 'elbv2.k8s.aws/cluster': 'prod' }), { ...rules, bindingArns: undefined })).toBe('lbc-tag');
  });
});

describe('planSweep', () => {
  const g = group('web');
  it('finds a target dead by the VPC truth even without a pod list', () => {
    const out = planSweep(input({ targetGroups: [g], targets: [target(g, '10.0.0.9')], pods: undefined }));
    expect(out.plan.actions.map((a) => a.why)).toEqual(['target web 10.0.0.9 is on no ENI of vpc-1: the address is gone']);
  });

  it('uses delegated prefixes as addresses of the VPC', () => {
    // The CNI's cluster tag makes the ENI prod's: a free address is stale only on an ENI that is provably ours.
    const enis = new EniIndex([VPC], [eni('eni-1', ['10.0.0.1'], ['10.0.1.16/28'], { 'cluster.k8s.amazonaws.com/name': 'prod' })]);
    const out = planSweep(input({ targetGroups: [g], targets: [target(g, '10.0.1.20', 'unhealthy'), target(g, '10.0.1.40', 'unhealthy')], enis }));
    expect(out.plan.actions.map((a) => (a.kind === 'deregister-target' ? a.target.id : ''))).toEqual(['10.0.1.20', '10.0.1.40']);
    expect(out.plan.actions[0]?.why).toMatch(/no live pod of prod/);
    expect(out.plan.actions[1]?.why).toMatch(/on no ENI/);
  });

  it('never plans an initial or draining target, reports a healthy one the pod list lacks', () => {
    const enis = new EniIndex([VPC], [eni('eni-1', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]);
    const out = planSweep(input({ targetGroups: [g], targets: [target(g, '10.0.0.1', 'initial'), target(g, '10.0.0.2', 'draining'), target(g, '10.0.0.3')], enis }));
    expect(out.plan.actions).toEqual([]);
    expect(out.reported).toBe(1);
    expect(out.plan.heldBack.map((h) => h.guard)).toEqual(['evidence']);
  });

  it("holds back a target on another cluster's ENI or node", () => {
    const enis = new EniIndex([VPC], [eni('eni-b', ['10.0.9.1'], [], { 'cluster.k8s.amazonaws.com/name': 'blue' }), eni('eni-c', ['10.0.9.2'], [], {}, 'i-blue')]);
    const blueNode: NodeInstance = { instanceId: 'i-blue', vpcId: VPC, state: 'running', tags: { 'eks:cluster-name': 'blue' }, privateIp: undefined };
    const out = planSweep(input({ targetGroups: [g], targets: [target(g, '10.0.9.1', 'unhealthy'), target(g, '10.0.9.2', 'unhealthy')], enis, instances: new Map([['i-blue', blueNode]]) }));
    expect(out.plan.actions).toEqual([]);
    expect(out.plan.heldBack.map((h) => h.guard)).toEqual(['ownership', 'ownership']);
  });

  it('judges instance targets by the instance state', () => {
    const n = group('nodes', {}, 'instance');
    const stopped: NodeInstance = { instanceId: 'i-s', vpcId: VPC, state: 'stopped', tags: { 'eks:cluster-name': 'prod' }, privateIp: undefined };
    const out = planSweep(input({ targetGroups: [n], targets: [target(n, 'i-s', 'unhealthy'), target(n, 'i-gone', 'unhealthy'), target(n, 'i-unlooked')], instances: new Map([['i-s', stopped]]), instancesLookedUp: new Set(['i-s', 'i-gone']) }));
    expect(out.plan.actions.map((a) => a.why)).toEqual(['instance target i-s is stopped', 'instance target i-gone no longer exists']);
    expect(out.unverified).toBe(1);
  });

  it('Cloud Map: only owned records, IP reuse caught, a fresh pod never swept, nothing without owner attributes', () => {
    const enis = new EniIndex([VPC], [eni('eni-1', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]);
    const pods = indexPods([pod('a', '10.0.0.1'), pod('other', '10.0.0.2'), pod('fresh', '10.0.0.3', '2026-11-21T11:59:30Z'), pod('done', '10.0.0.4', undefined, 'Succeeded')]);
    const rec = (ip: string, podName: string, ver = 'v2', id = ip) => cm(id, { AWS_INSTANCE_IPV4: ip, 'k8s.io/pod': podName, 'k8s.io/namespace': 'shop', ver });
    const records = [rec('10.0.0.1', 'a'), rec('10.0.0.2', 'old'), rec('10.0.0.3', 'gone'), rec('10.0.0.9', 'x', 'v2', '10.0.0.9-3'), rec('10.0.0.9', 'y', 'v1')];
    const out = planSweep(input({ cloudMap: records, pods, enis, ownerAttributes: { ver: 'v2' } }));
    expect(out.plan.actions.map((a) => a.why)).toEqual([
      'Cloud Map payments/10.0.0.2: IP 10.0.0.2 was reused by shop/other; the record names shop/old',
      'Cloud Map payments/10.0.0.9-3 at 10.0.0.9 is on no ENI of vpc-1: the address is gone',
    ]);
    expect(out.plan.heldBack.map((h) => h.guard)).toEqual(['grace-period']);
    expect(out.notOwnedInstances).toBe(1);
    expect(planSweep(input({ cloudMap: records, pods, enis, ownerAttributes: {} })).plan.actions).toEqual([]);
  });

  it('property: nothing outside the owned groups and owner attributes is ever planned, and guards keep a healthy target', () => {
    const ips = fc.integer({ min: 1, max: 40 }).map((n) => `10.0.0.${n}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ ip: ips, state: fc.constantFrom<TargetState>('healthy', 'unhealthy', 'initial', 'draining') }), { maxLength: 30 }),
        fc.array(ips, { maxLength: 20 }),
        fc.array(ips, { maxLength: 20 }),
        fc.array(fc.record({ ip: ips, ver: fc.constantFrom('v1', 'v2') }), { maxLength: 20 }),
        (ts, eniIps, podIps, recs) => {
          const plan = planSweep(input({
            targetGroups: [g],
            targets: ts.map((t) => target(g, t.ip, t.state)),
            enis: new EniIndex([VPC], [eni('eni-1', eniIps)]),
            pods: indexPods(podIps.map((ip, i) => pod(`p${i}`, ip))),
            cloudMap: recs.map((r, i) => cm(`${r.ip}-${i}`, { AWS_INSTANCE_IPV4: r.ip, ver: r.ver })),
            ownerAttributes: { ver: 'v2' },
          })).plan;
          for (const a of plan.actions) {
            if (a.kind === 'deregister-instance') expect(a.instance.attributes['ver']).toBe('v2');
            if (a.kind === 'deregister-target') {
              expect(['initial', 'draining']).not.toContain(a.target.state);
              // A live pod's address is never removed while the VPC still has it.
              if (eniIps.includes(a.target.id)) expect(podIps).not.toContain(a.target.id);
            }
          }
          const guarded = guardPlan(plan, { minHealthy: 1, maxFraction: 0.5, subject: 'sweep' });
          const c = plan.census[g.arn];
          const removedHealthy = guarded.actions.filter((a) => a.kind === 'deregister-target' && a.target.state === 'healthy').length;
          if (c && c.healthy > 0) expect(c.healthy - removedHealthy).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });
});

describe('config and event', () => {
  const env = { CLUSTER_NAME: 'prod', AWS_REGION: 'us-east-1' };
  it('defaults: 120 s grace, half a group per run, all namespaces once owner attributes are set', () => {
    expect(loadSweeperConfig(env)).toMatchObject({ graceSeconds: 120, maxFraction: 0.5, cloudMapNamespaces: [] });
    expect(loadSweeperConfig({ ...env, CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30' }).cloudMapNamespaces).toEqual(['*']);
    expect(loadSweeperConfig({ ...env, SWEEP_OWNER_TAG_SELECTOR: 'team=shop' }).ownerTagSelector).toEqual({ team: 'shop' });
    // A sweep that spans invocations: 400 groups and 60 s of reads at most per invocation, overdue at 3x.
    expect(loadSweeperConfig(env)).toMatchObject({ groupsPerRun: 400, readSeconds: 60, sweepOverdueFactor: 3 });
  });
  it.each([
    ['SWEEP_MAX_FRACTION', '0'],
    ['SWEEP_MAX_FRACTION', '1.5'],
    ['SWEEP_GRACE_SECONDS', 'soon'],
    ['SWEEP_OWNER_TAG_SELECTOR', 'team'],
    ['CLOUDMAP_OWNER_ATTRIBUTES', 'ver='],
    ['SWEEP_GROUPS_PER_RUN', '0'],
    ['SWEEP_READ_SECONDS', '1'],
    ['SWEEP_OVERDUE_FACTOR', 'x'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadSweeperConfig({ ...env, [name]: value })).toThrow(ConfigError);
    expect(() => loadSweeperConfig({ ...env, [name]: value })).toThrow(name);
  });
  it('accepts only scheduled events', () => {
    expect(parseScheduledEvent({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {}, id: 'e1' })).toEqual({ id: 'e1', time: undefined });
    expect(() => parseScheduledEvent({ source: 'aws.events', 'detail-type': 'Other', detail: {} })).toThrow(/detail-type/);
  });
});
