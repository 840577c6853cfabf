/**
 * The candidates stage's pure decisions where a batch mixes a new warning with re-checks of other nodes
 * (review of issue 14): the groups a re-check carries are described whatever the cluster says, and a hook a
 * re-check carries keeps the batch on the full scan, as a hook of a new signal does.
 */
import { describe, expect, it } from 'vitest';
import type { TargetGroup } from '#core/domain/registration.ts';
import { carriedGroups, chooseCandidates, groupsToDescribe, type CandidateChoice } from '../../../functions/spot-interruption/stages/candidates.ts';

const group = (arn: string, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({ arn, name: arn, targetType, vpcId: 'vpc-1', port: 80, loadBalancerArns: [] });
const cluster = (groups: string[], bound: string[]): CandidateChoice => ({ mode: 'cluster', candidates: { groups: new Map(groups.map((g) => [g, 'test'])), bound: new Set(bound) } });

describe('groups a batch describes on the fast path', () => {
  const inScope = [group('arn:node'), group('arn:elsewhere'), group('arn:held'), group('arn:unbound'), group('arn:instance', 'instance')];

  it('the candidates, the unbound groups and every instance group; not a bound group of other nodes', () => {
    const chosen = groupsToDescribe(inScope, cluster(['arn:node'], ['arn:node', 'arn:elsewhere', 'arn:held', 'arn:instance'])).map((g) => g.arn);
    expect(chosen).toEqual(['arn:node', 'arn:unbound', 'arn:instance']);
  });

  it('plus the groups a re-check of the batch carries (a registration a guard kept there, named by no binding)', () => {
    const carried = carriedGroups({ liveRechecks: [{ message: { targetGroupArns: ['arn:held'] } }] as never });
    const chosen = groupsToDescribe(inScope, cluster(['arn:node'], ['arn:node', 'arn:elsewhere', 'arn:held', 'arn:instance']), carried).map((g) => g.arn);
    expect(chosen).toEqual(['arn:node', 'arn:held', 'arn:unbound', 'arn:instance']);
  });

  it('every group when the batch scans in full', () => {
    expect(groupsToDescribe(inScope, { mode: 'full-scan' }, new Set(['arn:held']))).toHaveLength(inScope.length);
  });
});

describe('the fast path and a re-check that carries a lifecycle hook', () => {
  const deps = {
    config: { clusterCandidates: true, dryRun: false, guardDeadlineSeconds: 120, guardIntervalSeconds: 15, clusterTimeoutMs: 2000 },
    cluster: { connect: async () => Promise.reject(new Error('the cluster must not be asked')) },
    delayQueue: {},
    logger: { warn: () => undefined, info: () => undefined },
  };
  const scope = (lifecycle: unknown[]) =>
    ({
      active: [{ signal: { kind: 'interruption', instanceId: 'i-a' } }],
      liveRechecks: [{ message: { instanceIds: ['i-b'], targetGroupArns: ['arn:held'], lifecycle } }],
      nodes: new Map([['i-a', { instanceId: 'i-a', state: 'running' }]]),
      planNodes: [{ instanceId: 'i-a' }],
    }) as never;

  it('keeps the whole batch on the full scan: the hook is completed on its word that the node is clear', async () => {
    const choice = await chooseCandidates(scope([{ autoScalingGroupName: 'asg', lifecycleHookName: 'quiesce-drain', lifecycleActionToken: 'tok' }]), deps as never);
    expect(choice).toEqual({ mode: 'full-scan', reason: expect.stringMatching(/re-check of i-b carries an Auto Scaling lifecycle hook/) });
  });
});
