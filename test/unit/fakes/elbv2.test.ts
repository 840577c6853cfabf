import { describe, expect, it } from 'vitest';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientConfig, fakeAws } from '../../fakes/aws/shared.ts';

const elb = (): ElasticLoadBalancingV2Client => new ElasticLoadBalancingV2Client({ ...clientConfig(), maxAttempts: 1 });

async function health(tg: string, targets?: { Id: string; Port?: number }[]) {
  const out = await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg, Targets: targets }));
  return (out.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id,
    port: d.Target?.Port,
    state: d.TargetHealth?.State,
    reason: d.TargetHealth?.Reason,
  }));
}

describe('FakeElbv2 through the real SDK client', () => {
  it('creates a target group and answers its wire shape', async () => {
    const out = await elb().send(
      new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'ip' }),
    );
    const tg = out.TargetGroups![0]!;
    expect(tg.TargetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/web\/[0-9a-f]{16}$/);
    expect(tg).toMatchObject({ TargetGroupName: 'web', Port: 8080, TargetType: 'ip', HealthCheckEnabled: true, LoadBalancerArns: [] });
    const attrs = await elb().send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }));
    expect(attrs.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
  });

  it('pages DescribeTargetGroups by 400 and validates PageSize and filters', async () => {
    for (let i = 0; i < 450; i++) fakeAws.elbv2.seedTargetGroup({ name: `tg-${i}` });
    const pages: number[] = [];
    for await (const p of paginateDescribeTargetGroups({ client: elb() }, {})) pages.push(p.TargetGroups?.length ?? 0);
    expect(pages).toEqual([400, 50]);
    await expect(elb().send(new DescribeTargetGroupsCommand({ PageSize: 401 }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      elb().send(new DescribeTargetGroupsCommand({ Names: ['tg-1'], TargetGroupArns: ['arn:x'] })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    const err = await elb()
      .send(new DescribeTargetGroupsCommand({ Names: ['nope'] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetGroupNotFoundException);
    expect((err as Error).name).toBe('TargetGroupNotFoundException');
  });

  it('keys targets by (Id, Port): the override-port trap', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web', port: 80 });
    await elb().send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5', Port: 8080 }, { Id: '10.0.1.5' }] }));
    expect((await health(tg)).map((h) => `${h.id}:${h.port}`).sort()).toEqual(['10.0.1.5:80', '10.0.1.5:8080']);
    // Without the port, deregistration defaults to the TG port: only :80 starts draining.
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5' }] }));
    const h = await health(tg);
    expect(h.find((x) => x.port === 80)?.state).toBe('draining');
    expect(h.find((x) => x.port === 8080)?.state).toBe('initial');
    // Deregistering something never registered succeeds.
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.9.9.9' }] }));
    expect(await health(tg, [{ Id: '10.9.9.9' }])).toEqual([{ id: '10.9.9.9', port: 80, state: 'unused', reason: 'Target.NotRegistered' }]);
  });

  it('moves targets through initial -> healthy -> draining -> gone on the fake clock', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web', port: 80, deregistrationDelaySeconds: 30 });
    await elb().send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5' }] }));
    expect(await health(tg)).toEqual([{ id: '10.0.1.5', port: 80, state: 'initial', reason: 'Elb.RegistrationInProgress' }]);
    fakeAws.clock.advance(10_000);
    expect((await health(tg))[0]?.state).toBe('healthy');
    const seen: string[] = [];
    fakeAws.elbv2.onDeregister((e) => seen.push(...e.targets.map((t) => `${t.id}:${t.port}`)));
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5', Port: 80 }] }));
    expect(seen).toEqual(['10.0.1.5:80']);
    expect((await health(tg))[0]).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
    // Re-registering a draining target starts it over.
    await elb().send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5' }] }));
    expect((await health(tg))[0]?.state).toBe('initial');
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.5' }] }));
    fakeAws.clock.advance(29_999);
    expect(await health(tg)).toHaveLength(1);
    fakeAws.clock.advance(1);
    expect(await health(tg)).toEqual([]);
    expect(fakeAws.elbv2.maxDeregisterBatch).toBe(1);
  });

  it('forces target states and rejects invalid targets and groups', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web', targets: [{ id: '10.0.1.5' }, { id: '10.0.1.6', state: 'initial' }] });
    fakeAws.elbv2.setTargetHealth(tg, '10.0.1.5', 80, 'unhealthy');
    const h = await health(tg);
    expect(h).toContainEqual({ id: '10.0.1.5', port: 80, state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
    await expect(elb().send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: 'i-0123456789abcdef0' }] }))).rejects.toMatchObject({
      name: 'InvalidTargetException',
    });
    await expect(elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: `${tg}x` }))).rejects.toBeInstanceOf(TargetGroupNotFoundException);
    await expect(
      elb().send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }] })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('accepts large deregistration batches and records the largest', async () => {
    const targets = Array.from({ length: 1000 }, (_, i) => ({ id: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'big', targets });
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: targets.map((t) => ({ Id: t.id })) }));
    expect(fakeAws.elbv2.maxDeregisterBatch).toBe(1000);
    expect((await health(tg)).every((h) => h.state === 'draining')).toBe(true);
  });

  it('tags, listeners and rules: DescribeTags limit, ModifyRule replaces actions, stale reads', async () => {
    const client = elb();
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'alb', Subnets: ['subnet-1'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    const a = fakeAws.elbv2.seedTargetGroup({ name: 'a' });
    const b = fakeAws.elbv2.seedTargetGroup({ name: 'b' });
    await client.send(new AddTagsCommand({ ResourceArns: [a], Tags: [{ Key: 'elbv2.k8s.aws/cluster', Value: 'prod' }] }));
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [a, b] }));
    expect(tags.TagDescriptions?.[0]?.Tags).toEqual([{ Key: 'elbv2.k8s.aws/cluster', Value: 'prod' }]);
    await expect(client.send(new DescribeTagsCommand({ ResourceArns: Array(21).fill(a) as string[] }))).rejects.toMatchObject({ name: 'ValidationError' });

    const listener = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: a }] }))
    ).Listeners![0]!.ListenerArn!;
    const rule = (
      await client.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 10,
          Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
          Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 50 }, { TargetGroupArn: b, Weight: 50 }] } }],
        }),
      )
    ).Rules![0]!.RuleArn!;
    await client.send(
      new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: b, Weight: 1 }] } }] }),
    );
    const tooMany = Array.from({ length: 6 }, () => ({ TargetGroupArn: a, Weight: 1 }));
    await expect(client.send(new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: tooMany } }] }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(
      client.send(new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 1000 }] } }] })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(client.send(new DescribeRulesCommand({}))).rejects.toMatchObject({ name: 'ValidationError' });

    const groups = async () =>
      (await client.send(new DescribeRulesCommand({ RuleArns: [rule] }))).Rules![0]!.Actions![0]!.ForwardConfig!.TargetGroups!.map((g) => [g.TargetGroupArn, g.Weight]);
    expect(await groups()).toEqual([[b, 1]]);
    fakeAws.elbv2.staleRuleReads(rule, 1);
    expect(await groups()).toEqual([[a, 50], [b, 50]]);
    expect(await groups()).toEqual([[b, 1]]);

    const rules = await client.send(new DescribeRulesCommand({ ListenerArn: listener, PageSize: 1 }));
    expect(rules.Rules).toHaveLength(1);
    expect(rules.NextMarker).toBeDefined();
    const tgs = await client.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb }));
    expect(tgs.TargetGroups?.map((t) => t.TargetGroupName).sort()).toEqual(['a', 'b']);
  });

  it('ipv6 target groups take IPv6 ids only; an ipv4 group refuses them with ValidationError (docs/aws-facts.md#ipv6-target-groups)', async () => {
    const v4 = fakeAws.elbv2.seedTargetGroup({ name: 'v4', targets: [{ id: '10.0.1.5' }] });
    const v6 = fakeAws.elbv2.seedTargetGroup({ name: 'v6', ipAddressType: 'ipv6', targets: [{ id: '2600:1F18::5' }] });
    await expect(elb().send(new RegisterTargetsCommand({ TargetGroupArn: v4, Targets: [{ Id: '2600:1f18::6' }] }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: "The IP address '2600:1f18::6' is not a valid IPv4 address",
    });
    await expect(elb().send(new RegisterTargetsCommand({ TargetGroupArn: v6, Targets: [{ Id: '10.0.1.6' }] }))).rejects.toMatchObject({ name: 'ValidationError' });
    const groups = await elb().send(new DescribeTargetGroupsCommand({ TargetGroupArns: [v6] }));
    expect(groups.TargetGroups?.[0]?.IpAddressType).toBe('ipv6');
    // The Id comes back as registered; another spelling of the same address is the same target.
    expect(await health(v6)).toEqual([{ id: '2600:1F18::5', port: 80, state: 'healthy', reason: undefined }]);
    await elb().send(new DeregisterTargetsCommand({ TargetGroupArn: v6, Targets: [{ Id: '2600:1f18:0:0::5', Port: 80 }] }));
    expect((await health(v6))[0]?.state).toBe('draining');
    await expect(elb().send(new CreateTargetGroupCommand({ Name: 'ds', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip', IpAddressType: 'dualstack' as never }))).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
