/**
 * The sweeper doubts an empty world (issue 9, item 8): a pod list that is empty, or lost most pods, while
 * this cluster's nodes run with registered addresses is missing evidence, like an unreachable API.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeInstance } from '#core/domain/endpoint.ts';
import type { TargetGroup, TargetRegistration, TargetState } from '#core/domain/registration.ts';
import { indexPods, type ClusterPod } from '#core/domain/cluster-pods.ts';
import { EniIndex, type VpcEni } from '#core/domain/eni-index.ts';
import { doubtPodList } from '#core/domain/planners/pod-list-doubt.ts';
import { instanceIdsToLookUp, planSweep, type SweepInput } from '#core/domain/planners/sweep.ts';

const VPC = 'vpc-1';
const NOW = new Date('2026-11-21T12:00:00Z');
const web: TargetGroup = { arn: 'arn:tg/web', name: 'web', targetType: 'ip', vpcId: VPC, port: 80, loadBalancerArns: [], tags: {} };
const target = (id: string, state: TargetState = 'healthy'): TargetRegistration => ({ kind: 'target', targetGroupArn: web.arn, targetGroupName: web.name, id, port: 80, state });
const node = (instanceId: string, state = 'running', cluster = 'prod'): NodeInstance => ({ instanceId, vpcId: VPC, state, tags: { 'eks:cluster-name': cluster }, privateIp: undefined });
const eni = (id: string, instanceId: string, ips: string[], tags: Record<string, string> = {}): VpcEni => ({ networkInterfaceId: id, instanceId, vpcId: VPC, privateIps: ips, ipv4Prefixes: [], tags });
const pod = (name: string, ip: string): ClusterPod => ({ namespace: 'shop', name, ips: [ip], phase: 'Running', startTime: '2026-11-21T10:00:00Z' });

/** Node i-a (running, prod) holds 10.0.0.1-10.0.0.9; 10.0.5.5 is on no ENI. */
function world(over: Partial<SweepInput> = {}): SweepInput {
  const ips = Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1}`);
  return {
    planId: 'p',
    clusterName: 'prod',
    now: NOW,
    graceSeconds: 120,
    targetGroups: [web],
    targets: [...ips.slice(0, 6).map((ip) => target(ip)), target('10.0.0.7', 'unhealthy'), target('10.0.5.5', 'unhealthy')],
    cloudMap: [],
    ownerAttributes: {},
    clusterVpcId: VPC,
    pods: new Map(),
    enis: new EniIndex([VPC], [eni('eni-a', 'i-a', ips)]),
    instances: new Map([['i-a', node('i-a')]]),
    instancesLookedUp: new Set(['i-a']),
    ...over,
  };
}
const ids = (input: SweepInput): string[] => planSweep(input).plan.actions.map((a) => (a.kind === 'deregister-target' ? a.target.id : ''));

describe('doubtPodList', () => {
  it('an empty pod list while a running node of this cluster holds registered addresses: not evidence', () => {
    expect(doubtPodList(world())).toEqual({ code: 'no-live-pod', text: 'the pod list holds no live pod while 1 running node(s) of prod hold the addresses of 7 registration(s)' });
    const out = planSweep(world());
    // Only the VPC truth acts: the address on no ENI goes, the free-looking one on the running node stays.
    expect(ids(world())).toEqual(['10.0.5.5']);
    expect(out.podListDoubt).toMatchObject({ code: 'no-live-pod', text: expect.stringMatching(/holds no live pod/) });
    expect(out.plan.warnings.filter((w) => w.code === 'pod-list-doubted').map((w) => w.text)).toEqual([expect.stringMatching(/pod list not trusted .*nothing removed on pod-list evidence/)]);
    expect(out.reported).toBe(0);
  });

  it('believes an empty list when no node of this cluster runs (stopped, another cluster, not looked up)', () => {
    for (const instances of [new Map([['i-a', node('i-a', 'stopped')]]), new Map([['i-a', node('i-a', 'running', 'blue')]]), new Map<string, NodeInstance>()]) {
      expect(doubtPodList(world({ instances }))).toBeUndefined();
    }
    expect(ids(world({ instances: new Map([['i-a', node('i-a', 'stopped')]]) }))).toEqual(['10.0.0.7', '10.0.5.5']);
  });

  it('knows the node by the CNI cluster tag on its ENI as well', () => {
    const ips = ['10.0.0.1', '10.0.0.7'];
    const untaggedNode: NodeInstance = { ...node('i-a'), tags: {} };
    const tagged = world({ enis: new EniIndex([VPC], [eni('eni-a', 'i-a', ips, { 'cluster.k8s.amazonaws.com/name': 'prod' })]), instances: new Map([['i-a', untaggedNode]]) });
    expect(doubtPodList(tagged)).toMatchObject({ code: 'no-live-pod', text: expect.stringMatching(/holds no live pod while 1 running node/) });
  });

  it('a list that lost most pods: more healthy targets on our running nodes without a pod than with one', () => {
    // 6 healthy targets: 2 with a pod, 4 without.
    expect(doubtPodList(world({ pods: indexPods([pod('a', '10.0.0.1'), pod('b', '10.0.0.2')]) }))).toEqual({
      code: 'most-healthy-unheld',
      text: 'the pod list has no live pod for 4 of the 6 healthy ip targets on running nodes of prod: it looks incomplete',
    });
    expect(ids(world({ pods: indexPods([pod('a', '10.0.0.1'), pod('b', '10.0.0.2')]) }))).toEqual(['10.0.5.5']);
    // 3 of 6 with a pod: half is not most; the healthy ones without a pod are reported, the unhealthy free address goes.
    const half = world({ pods: indexPods([pod('a', '10.0.0.1'), pod('b', '10.0.0.2'), pod('c', '10.0.0.3')]) });
    expect(doubtPodList(half)).toBeUndefined();
    expect(ids(half)).toEqual(['10.0.0.7', '10.0.5.5']);
    expect(planSweep(half).reported).toBe(3);
  });

  it('asks EC2 about the instances behind CNI-tagged ENIs too (it needs their state)', () => {
    const tagged = world({ enis: new EniIndex([VPC], [eni('eni-a', 'i-a', ['10.0.0.7'], { 'cluster.k8s.amazonaws.com/name': 'prod' })]) });
    expect(instanceIdsToLookUp(tagged)).toEqual(['i-a']);
  });

  it('property: with a doubted list, nothing on a running node of this cluster is ever planned', () => {
    const addr = fc.integer({ min: 1, max: 12 }).map((n) => `10.0.0.${n}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ ip: addr, state: fc.constantFrom<TargetState>('healthy', 'unhealthy', 'draining', 'initial') }), { maxLength: 20 }),
        fc.subarray(Array.from({ length: 12 }, (_, i) => `10.0.0.${i + 1}`)),
        (targets, podIps) => {
          const input = world({ targets: targets.map((t) => target(t.ip, t.state)), pods: indexPods(podIps.map((ip, i) => pod(`p${i}`, ip))) });
          if (doubtPodList(input) === undefined) return;
          // i-a holds 10.0.0.1-9 and runs: only 10.0.0.10-12 (on no ENI) may be removed.
          for (const id of ids(input)) expect(['10.0.0.10', '10.0.0.11', '10.0.0.12']).toContain(id);
        },
      ),
      { numRuns: 500 },
    );
  });
});
