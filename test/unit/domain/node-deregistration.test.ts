import { describe, expect, it } from 'vitest';
import { planNodeDeregistration, targetGroupsPointingAt } from '#core/domain/planners/node-deregistration.ts';
import { actionKey } from '#core/domain/plan.ts';
import { cm, node, target, tg } from './fixtures.ts';

const web = tg('web');
const nodes = tg('nodes', 'instance');
const now = new Date('2026-11-21T12:00:00Z');
const base = {
  planId: 'p1',
  trigger: 'spot-interruption',
  reasons: new Map([['i-aaaaaaaa', 'spot interruption warning (terminate)']]),
  nodes: [node('i-aaaaaaaa', ['10.0.1.10', '10.0.1.11'], ['10.0.1.32/28'])],
  targetGroups: [web, nodes],
  cloudMap: [],
  ownerAttributes: {},
  now,
};

describe('planNodeDeregistration', () => {
  it('plans ip targets on the node (secondary IPs and prefix-delegated), each port, and the instance target', () => {
    const plan = planNodeDeregistration({
      ...base,
      targets: [
        target(web, '10.0.1.11', 'healthy', 8080),
        target(web, '10.0.1.11', 'healthy', 9091),
        target(web, '10.0.1.40'),
        target(web, '10.0.2.11'),
        target(nodes, 'i-aaaaaaaa', 'healthy', 30080),
        target(nodes, 'i-bbbbbbbb', 'healthy', 30080),
      ],
    });
    expect(plan.actions.map(actionKey)).toEqual([
      'target web 10.0.1.11:8080',
      'target web 10.0.1.11:9091',
      'target web 10.0.1.40:8080',
      'target nodes i-aaaaaaaa:30080',
    ]);
    expect(plan.actions[2]).toMatchObject({ why: 'pod IP 10.0.1.40 is on i-aaaaaaaa: spot interruption warning (terminate)' });
    expect(plan.census[web.arn]).toEqual({ registered: 4, healthy: 4 });
    expect(plan.createdAt).toBe(now.toISOString());
  });

  it('does not plan targets already draining or unused again, and says so', () => {
    const plan = planNodeDeregistration({ ...base, targets: [target(web, '10.0.1.11', 'draining'), target(web, '10.0.1.10', 'unused')] });
    expect(plan.actions).toEqual([]);
    expect(plan.warnings).toEqual([{ code: 'already-going', count: 2, text: '2 target(s) on these nodes were already draining or unused: not planned again' }]);
  });

  it('never matches an IP against instance-type groups or an instance id against ip groups', () => {
    const plan = planNodeDeregistration({ ...base, targets: [target(nodes, '10.0.1.11', 'healthy'), target(web, 'i-aaaaaaaa', 'healthy')] });
    expect(plan.actions).toEqual([]);
  });

  it('plans Cloud Map instances by AWS_INSTANCE_IPV4 or AWS_EC2_INSTANCE_ID, holding back what lacks the owner attributes', () => {
    const plan = planNodeDeregistration({
      ...base,
      targets: [],
      ownerAttributes: { ver: 'v1-30' },
      cloudMap: [
        cm('payments', '10.0.1.11', { AWS_INSTANCE_IPV4: '10.0.1.11', ver: 'v1-30' }),
        cm('payments', 'old', { AWS_INSTANCE_IPV4: '10.0.1.33', ver: 'v1-29' }),
        cm('ledger', 'by-id', { AWS_EC2_INSTANCE_ID: 'i-aaaaaaaa', ver: 'v1-30' }),
        cm('ledger', 'elsewhere', { AWS_INSTANCE_IPV4: '10.0.2.11', ver: 'v1-30' }),
      ],
    });
    expect(plan.actions.map(actionKey)).toEqual(['cloudmap payments 10.0.1.11', 'cloudmap ledger by-id']);
    expect(plan.heldBack).toEqual([expect.objectContaining({ guard: 'ownership', reason: expect.stringContaining('ver=v1-30') })]);
  });

  it('lists the groups pointing at the node whatever the state (the re-registration guard watches them)', () => {
    const other = tg('other');
    expect(
      targetGroupsPointingAt(base.nodes, [web, nodes, other], [target(web, '10.0.1.11', 'draining'), target(nodes, 'i-aaaaaaaa'), target(other, '10.0.9.9')]),
    ).toEqual([nodes.arn, web.arn].sort());
  });
});
