// Through the real SDK v3 clients and the loopback server: the wire shapes of the fakes in this folder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeregisterInstanceCommand,
  GetOperationCommand,
  ListInstancesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { FakeAws } from '../../fakes/aws/index.ts';

const aws = new FakeAws();
let cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };

beforeAll(async () => {
  const { endpoint } = await aws.start();
  cfg = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
});
afterAll(() => aws.stop());

describe('fakes through the SDK', () => {
  it('Cloud Map: async register, DuplicateRequest, InstanceNotFound', async () => {
    const sd = new ServiceDiscoveryClient(cfg);
    const svc = aws.cloudMap.seedService(aws.cloudMap.seedNamespace('sdk.local'), 'web');
    const { OperationId } = await sd.send(
      new RegisterInstanceCommand({ ServiceId: svc, InstanceId: '10.1.0.1', Attributes: { AWS_INSTANCE_IPV4: '10.1.0.1' } }),
    );
    await expect(sd.send(new DeregisterInstanceCommand({ ServiceId: svc, InstanceId: '10.1.0.1' }))).rejects.toMatchObject({
      name: 'InstanceNotFound',
    });
    expect((await sd.send(new GetOperationCommand({ OperationId }))).Operation?.Status).toBe('SUBMITTED');
    aws.clock.advance(2000);
    const op = await sd.send(new GetOperationCommand({ OperationId }));
    expect(op.Operation?.Status).toBe('SUCCESS');
    expect(op.Operation?.CreateDate).toBeInstanceOf(Date);
    expect((await sd.send(new ListInstancesCommand({ ServiceId: svc }))).Instances?.map((i) => i.Id)).toEqual(['10.1.0.1']);
    await sd.send(new DeregisterInstanceCommand({ ServiceId: svc, InstanceId: '10.1.0.1' }));
    await expect(sd.send(new DeregisterInstanceCommand({ ServiceId: svc, InstanceId: '10.1.0.1' }))).rejects.toMatchObject({
      name: 'DuplicateRequest',
      $metadata: { httpStatusCode: 409 },
    });
  });

  it('SQS, EventBridge, EKS and Auto Scaling speak the SDK shapes', async () => {
    const url = aws.sqs.seedQueue('sdk-q');
    const sqs = new SQSClient(cfg);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hi', DelaySeconds: 5 }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages ?? []).toEqual([]);
    aws.clock.advance(5000);
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.map((m) => m.Body)).toEqual(['hi']);

    const eb = new EventBridgeClient(cfg);
    const put = await eb.send(
      new PutEventsCommand({ Entries: [{ Source: 'quiesce', DetailType: 't', Detail: '{}' }, { Source: 'quiesce', DetailType: 't', Detail: 'x' }] }),
    );
    expect([put.FailedEntryCount, put.Entries?.[1]?.ErrorCode]).toEqual([1, 'MalformedDetail']);

    aws.eks.seedCluster({ name: 'c1', endpoint: 'https://127.0.0.1:1', caData: 'Q0E=' });
    const eks = new EKSClient(cfg);
    expect((await eks.send(new DescribeClusterCommand({ name: 'c1' }))).cluster?.certificateAuthority?.data).toBe('Q0E=');
    await expect(eks.send(new DescribeClusterCommand({ name: 'c2' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const asg = new AutoScalingClient(cfg);
    await expect(
      asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'g',
          LifecycleHookName: 'h',
          LifecycleActionToken: 't',
          LifecycleActionResult: 'CONTINUE',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: 'No active Lifecycle Action found with token t' });
  });
});
