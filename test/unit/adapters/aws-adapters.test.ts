import { afterEach, describe, expect, it } from 'vitest';
import { ApiBudget } from '../../../functions/_core/adapters/aws/budget.ts';
import { AwsEc2 } from '../../../functions/_core/adapters/aws/ec2.ts';
import { AwsElbv2 } from '../../../functions/_core/adapters/aws/elbv2.ts';
import { AwsCloudMap } from '../../../functions/_core/adapters/aws/cloudmap.ts';
import { AwsEventBus, putEventsEntrySize } from '../../../functions/_core/adapters/aws/event-bus.ts';
import { AwsDelayQueue } from '../../../functions/_core/adapters/aws/delay-queue.ts';
import { AwsAutoScaling } from '../../../functions/_core/adapters/aws/autoscaling.ts';
import { createAwsClients } from '../../../functions/_core/adapters/aws/clients.ts';

interface Sent {
  op: string;
  input: Record<string, unknown>;
}

/** A stand-in SDK client: records each command (by class name, minus `Command`) and answers from `reply`. */
function stubClient<C>(reply: (op: string, input: Record<string, unknown>, n: number) => unknown) {
  const sent: Sent[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const op = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ op, input: cmd.input });
      const out = reply(op, cmd.input, sent.length);
      if (out instanceof Error) throw out;
      return out;
    },
  };
  return { client: client as unknown as C, sent };
}

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
}

const budget = () => new ApiBudget({ sleep: async () => {}, random: () => 0 });

describe('AwsEc2', () => {
  it('falls back to the instance-id filter when any id is unknown', async () => {
    const { client, sent } = stubClient<never>((op, input) => {
      if (input.InstanceIds) return awsError('InvalidInstanceID.NotFound');
      return { Reservations: [{ Instances: [{ InstanceId: 'i-1', VpcId: 'vpc-1', State: { Name: 'running' }, Tags: [{ Key: 'k', Value: 'v' }] }] }] };
    });
    const nodes = await new AwsEc2(client, budget()).describeInstances(['i-1', 'i-gone', 'i-1']);
    expect(nodes).toEqual([{ instanceId: 'i-1', vpcId: 'vpc-1', state: 'running', tags: { k: 'v' }, privateIp: undefined }]);
    expect(sent.map((s) => s.op)).toEqual(['DescribeInstances', 'DescribeInstances']);
    expect(sent[1]?.input).toMatchObject({ Filters: [{ Name: 'instance-id', Values: ['i-1', 'i-gone'] }], MaxResults: 1000 });
  });

  it('pages ENIs with MaxResults 1000 and 200 instance ids per filter', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `i-${i}`);
    const { client, sent } = stubClient<never>((_op, input) =>
      input.NextToken === undefined
        ? { NetworkInterfaces: [{ NetworkInterfaceId: 'eni-a', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.1' }], Ipv4Prefixes: [{ Ipv4Prefix: '10.0.8.0/28' }] }], NextToken: 't' }
        : { NetworkInterfaces: [{ NetworkInterfaceId: 'eni-b', Attachment: { InstanceId: 'i-1' }, TagSet: [{ Key: 'a', Value: 'b' }] }] },
    );
    const enis = await new AwsEc2(client, budget()).networkInterfacesOfInstances(ids);
    expect(sent).toHaveLength(4);
    const filters = sent.map((s) => (s.input.Filters as { Values: string[] }[])[0]?.Values.length);
    expect(filters.sort()).toEqual([200, 200, 50, 50]);
    expect(sent.every((s) => s.input.MaxResults === 1000)).toBe(true);
    expect(enis[0]).toEqual({ networkInterfaceId: 'eni-a', instanceId: undefined, vpcId: undefined, privateIps: ['10.0.0.1'], ipv4Prefixes: ['10.0.8.0/28'], tags: {} });
    expect(enis[1]).toMatchObject({ networkInterfaceId: 'eni-b', instanceId: 'i-1', tags: { a: 'b' } });
  });
});

describe('AwsElbv2', () => {
  it('follows NextMarker with PageSize 400 and filters VPCs client-side', async () => {
    const { client, sent } = stubClient<never>((_op, input) =>
      input.Marker === undefined
        ? { TargetGroups: [{ TargetGroupArn: 'a', TargetGroupName: 'a', VpcId: 'vpc-1', TargetType: 'ip', Port: 80 }], NextMarker: 'm' }
        : { TargetGroups: [{ TargetGroupArn: 'b', TargetGroupName: 'b', VpcId: 'vpc-2', TargetType: 'instance' }] },
    );
    const tgs = await new AwsElbv2(client, budget()).listTargetGroups({ vpcId: 'vpc-1' });
    expect(tgs).toEqual([{ arn: 'a', name: 'a', targetType: 'ip', vpcId: 'vpc-1', port: 80, loadBalancerArns: [] }]);
    expect(sent.map((s) => [s.input.PageSize, s.input.Marker])).toEqual([[400, undefined], [400, 'm']]);
  });

  it('maps target health keeping ports, AZ and reason', async () => {
    const { client } = stubClient<never>(() => ({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.1', Port: 8080, AvailabilityZone: 'us-east-1a' }, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' } },
        { Target: { Id: '10.0.0.2', Port: 80 }, TargetHealth: { State: 'healthy' } },
      ],
    }));
    const t = await new AwsElbv2(client, budget()).targetHealth('arn:tg', 'web');
    expect(t).toEqual([
      { kind: 'target', targetGroupArn: 'arn:tg', targetGroupName: 'web', id: '10.0.0.1', port: 8080, availabilityZone: 'us-east-1a', state: 'draining', reason: 'Target.DeregistrationInProgress' },
      { kind: 'target', targetGroupArn: 'arn:tg', targetGroupName: 'web', id: '10.0.0.2', port: 80, state: 'healthy' },
    ]);
  });

  it('sends ports when known, skips empty calls, refuses more than 200', async () => {
    const { client, sent } = stubClient<never>(() => ({}));
    const elb = new AwsElbv2(client, budget());
    await elb.deregisterTargets('arn:tg', []);
    await elb.deregisterTargets('arn:tg', [{ id: 'a', port: 80 }, { id: 'b', port: undefined }]);
    expect(sent).toEqual([{ op: 'DeregisterTargets', input: { TargetGroupArn: 'arn:tg', Targets: [{ Id: 'a', Port: 80 }, { Id: 'b' }] } }]);
    await expect(elb.deregisterTargets('arn:tg', Array.from({ length: 201 }, (_, i) => ({ id: `${i}`, port: 80 })))).rejects.toThrow(/exceeds 200/);
    expect(sent).toHaveLength(1);
  });

  it('asks DescribeTags 20 ARNs at a time', async () => {
    const { client, sent } = stubClient<never>((_op, input) => ({
      TagDescriptions: (input.ResourceArns as string[]).map((a) => ({ ResourceArn: a, Tags: [{ Key: 'x', Value: a }] })),
    }));
    const tags = await new AwsElbv2(client, budget()).tagsOf(Array.from({ length: 45 }, (_, i) => `arn${i}`));
    expect(sent.map((s) => (s.input.ResourceArns as string[]).length)).toEqual([20, 20, 5]);
    expect(tags.get('arn44')).toEqual({ x: 'arn44' });
  });

  it('pages DescribeRules and writes the whole action list', async () => {
    const { client, sent } = stubClient<never>((op, input) => {
      if (op === 'ModifyRule') return {};
      return input.Marker === undefined
        ? { Rules: [{ RuleArn: 'r1', Priority: '1', IsDefault: false, Actions: [{ Type: 'forward' }] }], NextMarker: 'm' }
        : { Rules: [{ RuleArn: 'r0', Priority: 'default', IsDefault: true }] };
    });
    const elb = new AwsElbv2(client, budget());
    expect(await elb.describeRules({ listenerArn: 'l' })).toEqual([
      { ruleArn: 'r1', priority: '1', isDefault: false, actions: [{ Type: 'forward' }] },
      { ruleArn: 'r0', priority: 'default', isDefault: true, actions: [] },
    ]);
    await elb.modifyRuleActions('r1', [{ Type: 'fixed-response' }]);
    expect(sent.at(-1)).toEqual({ op: 'ModifyRule', input: { RuleArn: 'r1', Actions: [{ Type: 'fixed-response' }] } });
    await expect(elb.describeRules({})).rejects.toThrow(/listenerArn or ruleArns/);
  });
});

describe('AwsCloudMap', () => {
  it('keeps paging through empty filtered pages', async () => {
    const { client, sent } = stubClient<never>((_op, input) => {
      if (input.NextToken === undefined) return { Services: [], NextToken: 't1' };
      if (input.NextToken === 't1') return { Services: [], NextToken: 't2' };
      return { Services: [{ Id: 'srv-1', Name: 'web' }] };
    });
    expect(await new AwsCloudMap(client, budget()).listServices('ns-1')).toEqual([{ id: 'srv-1', name: 'web' }]);
    expect(sent).toHaveLength(3);
    expect(sent[0]?.input).toMatchObject({ Filters: [{ Name: 'NAMESPACE_ID', Values: ['ns-1'], Condition: 'EQ' }], MaxResults: 100 });
  });

  it('maps InstanceNotFound to not-found and rethrows DuplicateRequest at once (the executor waits it out)', async () => {
    const { client, sent } = stubClient<never>((_op, input) =>
      input.InstanceId === 'gone' ? awsError('InstanceNotFound') : awsError('DuplicateRequest'),
    );
    const cm = new AwsCloudMap(client, new ApiBudget({ sleep: async () => {}, random: () => 0, retry: { maxAttempts: 3 } }));
    expect(await cm.deregisterInstance('srv', 'gone')).toEqual({ status: 'not-found' });
    await expect(cm.deregisterInstance('srv', 'busy')).rejects.toMatchObject({ name: 'DuplicateRequest' });
    // Not retried at the call level: an in-flight operation needs seconds, not a 100 ms backoff.
    expect(sent).toHaveLength(2);
  });
});

describe('AwsEventBus', () => {
  const ev = (i: number, pad = 0) => ({ source: 'quiesce', detailType: 'step', detail: { i, pad: 'x'.repeat(pad) } });

  it('computes entry size per the PutEvents rules', () => {
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'é', Detail: '{}', Resources: ['r1', 'r22'] })).toBe(2 + 2 + 2 + 5);
    expect(putEventsEntrySize({ Source: 'a', DetailType: 'b', Time: new Date() })).toBe(16);
  });

  it('resends only failed retryable entries and returns what never got in', async () => {
    const { client, sent } = stubClient<never>((_op, input) => {
      const entries = input.Entries as { Detail: string }[];
      return {
        FailedEntryCount: 0,
        Entries: entries.map((e) => {
          const i = (JSON.parse(e.Detail) as { i: number }).i;
          if (i === 1) return { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' };
          if (i === 2) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' };
          return { EventId: `e${i}` };
        }),
      };
    });
    const bus = new AwsEventBus(client, budget(), 'quiesce', { maxRounds: 3 });
    const events = Array.from({ length: 12 }, (_, i) => ev(i));
    const { failed } = await bus.publish(events);
    expect(sent.map((s) => (s.input.Entries as unknown[]).length)).toEqual([10, 2, 1, 1]);
    expect(sent.every((s) => (s.input.Entries as { EventBusName: string }[]).every((e) => e.EventBusName === 'quiesce'))).toBe(true);
    expect(failed.map((f) => [f.event, f.errorCode])).toEqual([
      [events[2], 'MalformedDetail'],
      [events[1], 'ThrottlingException'],
    ]);
  });

  it('splits by size below 256 KB', async () => {
    const { client, sent } = stubClient<never>((_op, input) => ({ Entries: (input.Entries as unknown[]).map((_, i) => ({ EventId: String(i) })) }));
    await new AwsEventBus(client, budget(), 'b').publish([ev(1, 120_000), ev(2, 120_000), ev(3, 120_000)]);
    expect(sent.map((s) => (s.input.Entries as unknown[]).length)).toEqual([2, 1]);
  });
});

describe('AwsDelayQueue and AwsAutoScaling', () => {
  it('clamps DelaySeconds to 0-900 and sends JSON', async () => {
    const { client, sent } = stubClient<never>(() => ({}));
    const q = new AwsDelayQueue(client, budget(), 'https://sqs/q');
    for (const d of [-1, 0, 12.2, 900, 901, Number.NaN, Number.POSITIVE_INFINITY]) await q.sendDelayed({ d }, d);
    expect(sent.map((s) => s.input.DelaySeconds)).toEqual([0, 0, 13, 900, 900, 0, 900]);
    expect(sent[0]?.input).toMatchObject({ QueueUrl: 'https://sqs/q', MessageBody: '{"d":-1}' });
  });

  it('completes the lifecycle action', async () => {
    const { client, sent } = stubClient<never>(() => ({}));
    await new AwsAutoScaling(client, budget()).completeLifecycleAction({
      autoScalingGroupName: 'asg', lifecycleHookName: 'hook', instanceId: 'i-1', result: 'CONTINUE',
    });
    expect(sent[0]).toEqual({
      op: 'CompleteLifecycleAction',
      input: { AutoScalingGroupName: 'asg', LifecycleHookName: 'hook', InstanceId: 'i-1', LifecycleActionResult: 'CONTINUE' },
    });
  });
});

describe('createAwsClients', () => {
  const saved = process.env.AWS_MAX_ATTEMPTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_MAX_ATTEMPTS;
    else process.env.AWS_MAX_ATTEMPTS = saved;
  });

  it('leaves retries to the budget unless AWS_MAX_ATTEMPTS is set', async () => {
    delete process.env.AWS_MAX_ATTEMPTS;
    const c = createAwsClients();
    expect(await c.elbv2.config.maxAttempts()).toBe(1);
    c.destroy();
    process.env.AWS_MAX_ATTEMPTS = '5';
    const d = createAwsClients();
    expect(await d.sqs.config.maxAttempts()).toBe(5);
    d.destroy();
  });

  it('honours AWS_ENDPOINT_URL and explicit overrides', async () => {
    const c = createAwsClients();
    const endpoint = await c.ec2.config.endpoint?.();
    expect(endpoint === undefined || typeof endpoint === 'object').toBe(true);
    c.destroy();
    const o = createAwsClients({ overrides: { endpoint: 'http://127.0.0.1:1', region: 'eu-west-1' } });
    expect(await o.serviceDiscovery.config.region()).toBe('eu-west-1');
    o.destroy();
  });
});
