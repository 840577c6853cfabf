/**
 * The planners and the guard with the address kinds of issue 10: IPv6 nodes (/80 prefixes), addresses in
 * other spellings, Cloud Map AWS_INSTANCE_IPV6, branch ENIs, and the sweeper's positive evidence of ownership.
 */
import { describe, expect, it } from 'vitest';
import { nodeAddresses } from '#core/domain/endpoint.ts';
import { decideAcrossWriters, EMPTY_LEDGER, registrationKey } from '#core/domain/cross-writer-guard.ts';
import { actionKey, type DeregisterTargetAction } from '#core/domain/plan.ts';
import { planNodeDeregistration } from '#core/domain/planners/node-deregistration.ts';
import { matchPodInstance, planPodDeregistration } from '#core/domain/planners/pod-deregistration.ts';
import { indexPods } from '#core/domain/cluster-pods.ts';
import { EniIndex, unverifiableAddress, type VpcEni } from '#core/domain/eni-index.ts';
import { eniOwner, targetGroupOwnership } from '#core/domain/ownership.ts';
import { planSweep, type SweepInput } from '#core/domain/planners/sweep.ts';
import { optedInFor } from '#core/domain/ownership.ts';
import type { NodeInstance } from '#core/domain/endpoint.ts';
import { cm, target, tg } from './fixtures.ts';

const grpc = { ...tg('grpc'), ipAddressType: 'ipv6' as const };
const now = new Date('2026-11-21T12:00:00Z');
const P80 = '2600:1f18:4e1f:4d04:c3a5::/80';

describe('an IPv6 node (spot)', () => {
  const dual = nodeAddresses('i-dual', [{ privateIps: ['10.0.4.10'], ipv4Prefixes: [], ipv6Addresses: ['2600:1f18:4e1f:4d04::10'], ipv6Prefixes: [P80] }]);
  it('plans every target inside its /80 in any spelling, and its Cloud Map AWS_INSTANCE_IPV6 records, nothing else', () => {
    const plan = planNodeDeregistration({
      planId: 'p', trigger: 'spot-interruption', reasons: new Map([['i-dual', 'spot']]), nodes: [dual], targetGroups: [grpc], ownerAttributes: {}, now,
      targets: [target(grpc, '2600:1F18:4E1F:4D04:C3A5:0:0:1', 'healthy', 50051), target(grpc, '2600:1f18:4e1f:4d04:c3a5::2'), target(grpc, '2600:1f18:4e1f:4d05::1')],
      cloudMap: [cm('grpc', 'a', { AWS_INSTANCE_IPV6: '2600:1f18:4e1f:4d04:c3a5:0000:0000:0001' }), cm('grpc', 'b', { AWS_INSTANCE_IPV6: '2600:1f18:4e1f:4d05::1' })],
    });
    expect(plan.actions.map(actionKey)).toEqual(['target grpc [2600:1f18:4e1f:4d04:c3a5::1]:50051', 'target grpc [2600:1f18:4e1f:4d04:c3a5::2]:8080', 'cloudmap grpc a']);
    // The action keeps the Id as AWS spelled it: that is what DeregisterTargets sends back.
    expect((plan.actions[0] as DeregisterTargetAction).target.id).toBe('2600:1F18:4E1F:4D04:C3A5:0:0:1');
    expect(plan.actions[2]?.why).toMatch(/^IPv6 2600:1f18:4e1f:4d04:c3a5:0000:0000:0001 is on i-dual/);
  });
});

describe('a terminating IPv6 or dual-stack pod', () => {
  const pod = { namespace: 'shop', name: 'grpc-a', uid: 'u1', ips: ['2600:1f18:4e1f:4d04:c3a5::1'] };
  it('matches targets and records by canonical address; a dual-stack record with a foreign address is evidence of another pod', () => {
    const plan = planPodDeregistration({
      planId: 'p', trigger: 'pod-events', pod, reason: 'terminating', targetGroups: [grpc], ownerAttributes: {}, now,
      targets: [target(grpc, '2600:1F18:4E1F:4D04:C3A5::1'), target(grpc, '2600:1f18:4e1f:4d04:c3a5::2')],
      cloudMap: [cm('grpc', 'a', { AWS_INSTANCE_IPV6: '2600:1f18:4e1f:4d04:c3a5:0:0:1' })],
    });
    expect(plan.actions.map(actionKey)).toEqual(['target grpc [2600:1f18:4e1f:4d04:c3a5::1]:8080', 'cloudmap grpc a']);
    expect(matchPodInstance(pod, cm('grpc', 'x', { AWS_INSTANCE_IPV4: '10.0.4.20', AWS_INSTANCE_IPV6: '2600:1f18:4e1f:4d04:c3a5::1' }))).toMatchObject({ match: 'conflict' });
    expect(matchPodInstance({ ...pod, ips: ['10.0.4.20', '2600:1f18:4e1f:4d04:c3a5::1'] }, cm('grpc', 'x', { AWS_INSTANCE_IPV4: '10.0.4.20', AWS_INSTANCE_IPV6: '2600:1F18:4E1F:4D04:C3A5::1' }))).toMatchObject({ match: 'pod' });
  });
});

describe('the guard across writers', () => {
  it('keys an IPv6 target canonically: two spellings are one ledger entry, and the port stays apart from the address', () => {
    const a = target(grpc, '2600:1F18::1', 'healthy', 80);
    expect(registrationKey(a)).toBe('2600:1f18::1:80');
    expect(registrationKey({ ...target(grpc, '2600:1f18::1:80'), port: undefined })).toBe('2600:1f18::1:80:');
    const fresh = [target(grpc, '2600:1f18::1', 'healthy', 80), target(grpc, '2600:1f18::2', 'healthy', 80)];
    const ledger = { entries: [{ key: registrationKey(a), at: 1000, by: 'other' }] };
    const d = decideAcrossWriters({ actions: [{ kind: 'deregister-target', target: fresh[0]!, why: 'x' }], fresh, ledger, now: 2000, windowMs: 60_000, writer: 'me', options: { minHealthy: 1, maxFraction: undefined, subject: 'x' } });
    // Already committed by the other writer (in another spelling): reaffirmed, not counted twice.
    expect(d.allowed).toHaveLength(1);
    expect(d.ledger.entries).toHaveLength(1);
    expect(decideAcrossWriters({ actions: [], fresh, ledger: EMPTY_LEDGER, now: 0, windowMs: 1, writer: 'me', options: { minHealthy: 1, maxFraction: undefined, subject: 'x' } }).census).toEqual({ registered: 2, healthy: 2 });
  });
});

describe('the sweeper: whose an address is', () => {
  const VPC = 'vpc-1';
  const eni = (id: string, over: Partial<VpcEni>): VpcEni => ({ networkInterfaceId: id, instanceId: undefined, vpcId: VPC, privateIps: [], ipv4Prefixes: [], tags: {}, ...over });
  const prodNode: NodeInstance = { instanceId: 'i-prod', vpcId: VPC, state: 'running', tags: { 'eks:cluster-name': 'prod' }, privateIp: undefined };
  const enis = [
    eni('eni-v6', { instanceId: 'i-prod', privateIps: ['10.0.4.10'], ipv6Prefixes: [P80] }),
    eni('eni-branch-blue', { privateIps: ['10.0.9.30'], interfaceType: 'branch', tags: { 'kubernetes.io/cluster/blue': 'owned', 'vpcresources.k8s.aws/trunk-eni-id': 'eni-t' } }),
    eni('eni-branch-prod', { privateIps: ['10.0.4.30'], interfaceType: 'branch', tags: { 'node.k8s.amazonaws.com/instance_id': 'i-prod' } }),
    eni('eni-nat', { privateIps: ['10.0.0.5'] }),
  ];
  const instances = new Map([['i-prod', prodNode]]);
  const web = { ...tg('web'), vpcId: VPC };
  const input = (targets: SweepInput['targets'], targetGroups = [web, { ...grpc, vpcId: VPC }]): SweepInput => ({
    planId: 'p', clusterName: 'prod', now, graceSeconds: 120, targetGroups, targets, cloudMap: [], ownerAttributes: {}, clusterVpcId: VPC,
    pods: indexPods([{ namespace: 'shop', name: 'grpc-a', ips: ['2600:1f18:4e1f:4d04:c3a5::1'], phase: 'Running', startTime: '2026-11-21T10:00:00Z' }]),
    enis: new EniIndex([VPC], enis), instances, instancesLookedUp: new Set(['i-prod']),
  });

  it('finds IPv6 addresses inside an ENI prefix, and attributes ENIs only by evidence', () => {
    const index = new EniIndex([VPC], enis);
    expect(index.eniOf('2600:1F18:4E1F:4D04:C3A5::99')?.networkInterfaceId).toBe('eni-v6');
    expect(index.eniOf('2600:1f18:4e1f:4d04:c3a6::99')).toBeUndefined();
    expect(enis.map((e) => eniOwner(e, instances, 'prod').kind)).toEqual(['ours', 'other', 'ours', 'unknown']);
    expect(unverifiableAddress('fe80::1')).toMatch(/link-local/);
    expect(unverifiableAddress('::ffff:10.0.0.5')).toMatch(/IPv4-mapped/);
    expect(unverifiableAddress('2600:1f18::1')).toBeUndefined();
  });

  it("removes only what is provably this cluster's and dead; another cluster's or an unattributable address is held and reported", () => {
    const out = planSweep(input([
      target(grpc, '2600:1F18:4E1F:4D04:C3A5:0:0:1'), // a live pod of ours, spelled otherwise than in the pod list
      target(grpc, '2600:1F18:4E1F:4D04:C3A5::2', 'unhealthy'), // on our node's /80, no pod: stale
      target(grpc, '2600:1f18:4e1f:4d99::1', 'unhealthy'), // on no ENI: gone
      target(grpc, 'fe80::1', 'unhealthy'), // no ENI lists a link-local address: unverified, never "gone"
      target(web, '10.0.9.30', 'unhealthy'), // blue's branch ENI
      target(web, '10.0.4.30', 'unhealthy'), // our pod's branch ENI, no pod: stale
      target(web, '10.0.0.5', 'unhealthy'), // an ENI of no cluster
    ]));
    expect(out.plan.actions.map(actionKey)).toEqual(['target grpc [2600:1f18:4e1f:4d04:c3a5::2]:8080', 'target grpc [2600:1f18:4e1f:4d99::1]:8080', 'target web 10.0.4.30:8080']);
    expect(out.plan.heldBack.map((h) => `${actionKey(h.action)} ${h.guard}`)).toEqual(['target web 10.0.9.30:8080 ownership', 'target web 10.0.0.5:8080 evidence']);
    expect(out.plan.heldBack[1]?.reason).toMatch(/no evidence makes prod's \(no instance and no cluster tag\)/);
    expect(out).toMatchObject({ unverified: 1, reported: 1, otherClusters: 1 });
    expect(out.plan.warnings.filter((w) => w.code === 'other-cluster')).toEqual([
      { code: 'other-cluster', count: 1, text: expect.stringMatching(/^1 registration\(s\) of groups or services prod owns point at another cluster's addresses/) },
    ]);
  });
});

describe('one opt-in tag for every trigger', () => {
  it('quiesce.io/deregister-by names clusters between colons: prod opts in, prod2 does not', () => {
    const tags = (v: string) => ({ 'elbv2.k8s.aws/cluster': 'blue', 'quiesce.io/deregister-by': v });
    expect([':blue:prod:', ':prod:', ':blue:prod2:', 'prod', ''].map((v) => optedInFor(tags(v), 'prod'))).toEqual([true, true, false, false, false]);
    const rules = { clusterName: 'prod', tagSelector: {}, bindingArns: undefined };
    expect(targetGroupOwnership({ ...tg('bg'), tags: tags(':blue:prod:') }, rules)).toBe('opt-in-tag');
    expect(targetGroupOwnership({ ...tg('bg'), tags: tags(':blue:prod2:') }, rules)).toBeUndefined();
  });
});
