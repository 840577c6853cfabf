/**
 * The worker's way to the fake AWS (test/fakes/aws/transport.ts): calls the SDK addresses to the shared
 * fake's own host and port go in process by default and over the socket when asked, with the same answer;
 * a client addressed anywhere else still goes to the network.
 */
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { FakeAws } from '../../fakes/aws/index.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';
import { transportModeOf, transportState } from '../../fakes/aws/transport.ts';

const names = async (elbv2: ElasticLoadBalancingV2Client): Promise<string[]> => ((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((g) => g.TargetGroupName ?? '');

describe('the fake AWS transport', () => {
  const before = transportState().mode;
  afterEach(() => {
    transportState().mode = before;
  });

  it('reads QUIESCE_TEST_TRANSPORT: in-process by default, socket on request, anything else refused', () => {
    expect(transportModeOf({})).toBe('in-process');
    expect(transportModeOf({ QUIESCE_TEST_TRANSPORT: '' })).toBe('in-process');
    expect(transportModeOf({ QUIESCE_TEST_TRANSPORT: 'socket' })).toBe('socket');
    expect(() => transportModeOf({ QUIESCE_TEST_TRANSPORT: 'tcp' })).toThrow(/in-process or socket, got "tcp"/);
  });

  it('answers the same in process and over the socket; only the in-process call skips the socket', async () => {
    fakeAws.elbv2.seedTargetGroup({ name: 'k8s-shop-web', vpcId: 'vpc-1', targetType: 'ip', port: 8080, targets: [] });
    const { elbv2 } = createAwsClients();
    try {
      const state = transportState();
      state.mode = 'in-process';
      const direct = state.direct;
      expect(await names(elbv2)).toEqual(['k8s-shop-web']);
      expect(state.direct).toBe(direct + 1);
      state.mode = 'socket';
      expect(await names(elbv2)).toEqual(['k8s-shop-web']);
      expect(state.direct).toBe(direct + 1);
      expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(2);
    } finally {
      elbv2.destroy();
    }
  });

  it('leaves a client addressed to another host or port on the network', async () => {
    const other = new FakeAws();
    const { endpoint } = await other.start();
    other.elbv2.seedTargetGroup({ name: 'k8s-other-api', vpcId: 'vpc-2', targetType: 'ip', port: 8080, targets: [] });
    const elbv2 = new ElasticLoadBalancingV2Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const direct = transportState().direct;
      expect(await names(elbv2)).toEqual(['k8s-other-api']);
      expect(transportState().direct).toBe(direct);
      expect(fakeAws.calls.count('elasticloadbalancing', 'DescribeTargetGroups')).toBe(0);
    } finally {
      elbv2.destroy();
      await other.stop();
    }
  });
});
