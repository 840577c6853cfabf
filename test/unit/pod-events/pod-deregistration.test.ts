import { describe, expect, it } from 'vitest';
import { guardPlan } from '#core/domain/guards.ts';
import { matchPodInstance, planPodDeregistration, type TerminatingPod } from '#core/domain/planners/pod-deregistration.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '#core/domain/registration.ts';

const pod: TerminatingPod = { namespace: 'shop', name: 'web-1', uid: 'u1', ips: ['10.0.1.5'] };
const group = (arn: string, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({ arn, name: arn, targetType, vpcId: 'vpc-1', port: 80, loadBalancerArns: [] });
const target = (tg: string, id: string, port: number, state: TargetRegistration['state'] = 'healthy'): TargetRegistration => ({ kind: 'target', targetGroupArn: tg, targetGroupName: tg, id, port, state });
const instance = (id: string, attributes: Record<string, string>): CloudMapRegistration => ({ kind: 'cloudmap', namespaceId: 'ns', namespaceName: 'mesh', serviceId: 'svc', serviceName: 'svc', instanceId: id, attributes });
const now = new Date('2026-11-21T12:00:00Z');
const plan = (targets: TargetRegistration[], cloudMap: CloudMapRegistration[] = [], groups = [group('a'), group('b')], owner: Record<string, string> = {}) =>
  planPodDeregistration({ planId: 'p', trigger: 'pod-events', pod, reason: 'terminating', targetGroups: groups, targets, cloudMap, ownerAttributes: owner, now });

describe('planPodDeregistration', () => {
  it('plans the pod IP on every port in every ip group, and nothing else', () => {
    const p = plan([target('a', '10.0.1.5', 80), target('a', '10.0.1.5', 8081), target('a', '10.0.1.6', 80), target('b', '10.0.1.5', 9090), target('b', '10.0.1.50', 9090)]);
    expect(p.actions.map((a) => (a.kind === 'deregister-target' ? `${a.target.targetGroupArn} ${a.target.id}:${a.target.port}` : a.kind))).toEqual(['a 10.0.1.5:80', 'a 10.0.1.5:8081', 'b 10.0.1.5:9090']);
    expect(p.subject).toBe('pod shop/web-1');
    expect(p.census['a']).toEqual({ registered: 3, healthy: 3 });
  });

  it('skips instance groups (an instance id is never a pod IP) and targets already draining', () => {
    const p = plan([target('i', '10.0.1.5', 80), target('a', '10.0.1.5', 80, 'draining')], [], [group('a'), group('i', 'instance')]);
    expect(p.actions).toEqual([]);
    expect(p.warnings).toEqual([{ code: 'already-going', count: 1, text: expect.stringMatching(/1 target\(s\) of pod shop\/web-1 were already draining/) }]);
  });

  it('matches Cloud Map by IP or by k8s.io/pod, holds back conflicting and foreign records', () => {
    const p = plan([], [
      instance('by-ip', { AWS_INSTANCE_IPV4: '10.0.1.5' }),
      instance('by-name', { 'k8s.io/pod': 'web-1', 'k8s.io/namespace': 'shop' }),
      instance('both', { AWS_INSTANCE_IPV4: '10.0.1.5', 'k8s.io/pod': 'web-1', 'k8s.io/namespace': 'shop', ver: 'v1' }),
      instance('reused-ip', { AWS_INSTANCE_IPV4: '10.0.1.5', 'k8s.io/pod': 'other', 'k8s.io/namespace': 'shop' }),
      instance('new-incarnation', { AWS_INSTANCE_IPV4: '10.0.1.99', 'k8s.io/pod': 'web-1', 'k8s.io/namespace': 'shop' }),
      instance('same-name-other-ns', { 'k8s.io/pod': 'web-1', 'k8s.io/namespace': 'pay' }),
      instance('unrelated', { AWS_INSTANCE_IPV4: '10.0.1.6' }),
    ], undefined, {});
    expect(p.actions.map((a) => (a.kind === 'deregister-instance' ? a.instance.instanceId : ''))).toEqual(['by-ip', 'by-name', 'both']);
    expect(p.heldBack.map((h) => [h.guard, h.action.kind === 'deregister-instance' ? h.action.instance.instanceId : ''])).toEqual([
      ['evidence', 'reused-ip'],
      ['evidence', 'new-incarnation'],
    ]);
  });

  it('a host-network pod owns only its own ports of the node IP, and only Cloud Map records that name it', () => {
    const hostPod: TerminatingPod = { namespace: 'kube-system', name: 'ingress-1', uid: 'u2', ips: ['10.0.1.10'], hostNetwork: true, ports: [443] };
    const p = planPodDeregistration({
      planId: 'p',
      trigger: 'pod-events',
      pod: hostPod,
      reason: 'terminating',
      targetGroups: [group('a')],
      // 10.0.1.10 is the node's IP: port 443 is this pod's, 9100 another host-network pod's (node exporter).
      targets: [target('a', '10.0.1.10', 443), target('a', '10.0.1.10', 9100), target('a', '10.0.1.11', 443)],
      cloudMap: [
        instance('named', { AWS_INSTANCE_IPV4: '10.0.1.10', 'k8s.io/pod': 'ingress-1', 'k8s.io/namespace': 'kube-system' }),
        instance('anonymous', { AWS_INSTANCE_IPV4: '10.0.1.10' }),
      ],
      ownerAttributes: {},
      now,
    });
    expect(p.actions.map((a) => (a.kind === 'deregister-target' ? `${a.target.id}:${a.target.port}` : a.kind === 'deregister-instance' ? a.instance.instanceId : ''))).toEqual(['10.0.1.10:443', 'named']);
    expect(p.heldBack.map((h) => h.guard)).toEqual(['evidence', 'evidence']);
    expect(p.heldBack[0]?.reason).toMatch(/host-network pod: 10\.0\.1\.10 is the node's IP and port 9100 is not one of the pod's ports \(443\)/);
  });

  it('respects owner attributes', () => {
    const p = plan([], [instance('mine', { AWS_INSTANCE_IPV4: '10.0.1.5', ver: 'v2' }), instance('theirs', { AWS_INSTANCE_IPV4: '10.0.1.5', ver: 'v1' })], undefined, { ver: 'v2' });
    expect(p.actions).toHaveLength(1);
    expect(p.heldBack).toEqual([expect.objectContaining({ guard: 'ownership' })]);
  });

  it('passes through guardPlan: the last healthy target stays', () => {
    const guarded = guardPlan(plan([target('a', '10.0.1.5', 80), target('a', '10.0.1.6', 80, 'unhealthy')]), { minHealthy: 1, maxFraction: undefined, subject: 'pod shop/web-1' });
    expect(guarded.actions).toEqual([]);
    expect(guarded.heldBack).toEqual([expect.objectContaining({ guard: 'min-healthy' })]);
  });

  it('matchPodInstance: no attributes at all is no match', () => {
    expect(matchPodInstance(pod, instance('x', {}))).toEqual({ match: 'none' });
  });
});
