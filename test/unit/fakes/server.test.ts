import { describe, expect, it } from 'vitest';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListNamespacesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { clientConfig, fakeAws } from '../../fakes/aws/shared.ts';

const elb = (maxAttempts = 1) => new ElasticLoadBalancingV2Client({ ...clientConfig(), maxAttempts });

describe('FakeAwsServer', () => {
  it('routes by signing name and counts calls', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web' });
    await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    await new EC2Client({ ...clientConfig(), maxAttempts: 1 }).send(new DescribeInstancesCommand({}));
    await new ServiceDiscoveryClient({ ...clientConfig(), maxAttempts: 1 }).send(new ListNamespacesCommand({}));
    expect(fakeAws.calls.count()).toBe(3);
    expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetHealth')).toBe(1);
    expect(fakeAws.calls.byOperation()).toEqual({
      'ec2.DescribeInstances': 1,
      'elasticloadbalancing.DescribeTargetHealth': 1,
      'servicediscovery.ListNamespaces': 1,
    });
    expect(fakeAws.calls.waves()).toBe(3);
    fakeAws.calls.clear();
    // Loopback calls take well under a millisecond: give them latency so that concurrent ones overlap.
    fakeAws.faults.latency(20);
    await Promise.all([1, 2, 3].map(() => elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))));
    await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(fakeAws.calls.count()).toBe(4);
    expect(fakeAws.calls.waves()).toBe(2);
  });

  it('injects latency with real timers', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web' });
    fakeAws.faults.latency(50, { service: 'elasticloadbalancing' });
    const t0 = performance.now();
    await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('throttles with each API\'s documented error, deterministically', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web' });
    fakeAws.faults.throttle(1, { service: 'elasticloadbalancing' });
    await expect(elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).rejects.toMatchObject({
      // The ELB user guide: "you get the ThrottlingException error code and a Rate exceeded error message".
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    fakeAws.faults.throttle(1, { service: 'ec2', operation: 'DescribeInstances' });
    const ec2Err = await new EC2Client({ ...clientConfig(), maxAttempts: 1 }).send(new DescribeInstancesCommand({})).catch((e: unknown) => e);
    expect(ec2Err).toMatchObject({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
    fakeAws.faults.throttle(1, { service: 'servicediscovery' });
    await expect(new ServiceDiscoveryClient({ ...clientConfig(), maxAttempts: 1 }).send(new ListNamespacesCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });

    // Same seed, same sequence of throttled calls; the SDK retries throttling errors.
    const run = async (): Promise<(string | undefined)[]> => {
      fakeAws.reset();
      const arn = fakeAws.elbv2.seedTargetGroup({ name: 'web' });
      fakeAws.faults.throttle(0.5, { operation: 'DescribeTargetHealth', seed: 42 });
      for (let i = 0; i < 10; i++) await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })).catch(() => undefined);
      return fakeAws.calls.records.map((r) => r.error);
    };
    const a = await run();
    expect(a).toEqual(await run());
    expect(a.filter((e) => e === 'ThrottlingException').length).toBeGreaterThan(0);
    expect(a.filter((e) => e === undefined).length).toBeGreaterThan(0);
  });

  it('fails the next N calls of an operation, then recovers; retries are logged', async () => {
    const tg = fakeAws.elbv2.seedTargetGroup({ name: 'web' });
    fakeAws.faults.fail('DescribeTargetHealth', { times: 2, code: 'InternalError', status: 500 });
    await expect(elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).rejects.toMatchObject({ name: 'InternalError' });
    await expect(elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).rejects.toMatchObject({ name: 'InternalError' });
    await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(fakeAws.calls.records.map((r) => r.error)).toEqual(['InternalError', 'InternalError', undefined]);
    fakeAws.faults.reset();
    expect(fakeAws.faults.errorFor('elasticloadbalancing', 'DescribeTargetHealth')).toBeUndefined();
  });

  it('serves restJson1 routes (EKS DescribeCluster)', async () => {
    const eks = new EKSClient({ ...clientConfig(), maxAttempts: 1 });
    await expect(eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(fakeAws.calls.count('eks', 'DescribeCluster')).toBe(1);
  });

  it('resets services, clock, faults and the log', async () => {
    fakeAws.elbv2.seedTargetGroup({ name: 'web' });
    fakeAws.clock.advance(1000);
    fakeAws.faults.throttle(1);
    fakeAws.reset();
    expect(fakeAws.elbv2.targetGroupArnByName('web')).toBeUndefined();
    expect(fakeAws.clock.now()).toBe(Date.parse('2026-11-21T12:00:00Z'));
    expect(fakeAws.calls.count()).toBe(0);
    await elb().send(new DescribeTargetHealthCommand({ TargetGroupArn: fakeAws.elbv2.seedTargetGroup({ name: 'x' }) }));
  });
});

describe('account token bucket', () => {
  it('throttles once the bucket is empty and refills at the documented rate', async () => {
    const { fakeAws, clientConfig } = await import('../../fakes/aws/shared.ts');
    const { ElasticLoadBalancingV2Client, DescribeTargetGroupsCommand } = await import('@aws-sdk/client-elastic-load-balancing-v2');
    const client = new ElasticLoadBalancingV2Client({ ...clientConfig(), maxAttempts: 1 });
    // The bucket's time is the test's: under load the five calls can span more than the 100 ms one token
    // takes to refill at 10/s (seen once in 20 runs with both cores busy), which is not what this asserts.
    let ms = 0;
    fakeAws.faults.accountBucket('elasticloadbalancing', 'Describe', 3, 10, () => ms);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.send(new DescribeTargetGroupsCommand({}))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(['ThrottlingException', 'ThrottlingException']);
    ms += 250; // 2.5 tokens at 10/s
    await expect(client.send(new DescribeTargetGroupsCommand({}))).resolves.toBeDefined();
    await expect(client.send(new DescribeTargetGroupsCommand({}))).resolves.toBeDefined();
    await expect(client.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    client.destroy();
  });
});
