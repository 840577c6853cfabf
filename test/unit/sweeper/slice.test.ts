import { describe, expect, it } from 'vitest';
import type { TargetGroup, TargetRegistration } from '#core/domain/registration.ts';
import { readSlice, recheckOwnership, sliceOf } from '../../../functions/sweeper/slice.ts';
import { expectedSweepSeconds, sweepOverdue } from '../../../functions/sweeper/sweep-cursor.ts';
import type { Plan } from '#core/domain/plan.ts';

const group = (n: number, tags: Record<string, string> = { 'elbv2.k8s.aws/cluster': 'prod' }): TargetGroup => ({ arn: `arn:tg/${String(n).padStart(3, '0')}`, name: `g${n}`, targetType: 'ip', vpcId: 'vpc-1', port: 80, loadBalancerArns: [], tags });
const groups = Array.from({ length: 10 }, (_, i) => group(i));

describe('sliceOf', () => {
  it('takes the next owned groups after the cursor, in ARN order, and says whether more follow', () => {
    expect(sliceOf([...groups].reverse(), undefined, 4)).toMatchObject({ groups: groups.slice(0, 4), more: true });
    expect(sliceOf(groups, 'arn:tg/005', 4)).toMatchObject({ groups: groups.slice(6, 10), more: false });
    expect(sliceOf(groups, 'arn:tg/009', 4)).toEqual({ groups: [], more: false });
  });
});

describe('readSlice', () => {
  const health = (arn: string): TargetRegistration[] => [{ kind: 'target', targetGroupArn: arn, targetGroupName: arn, id: '10.0.0.1', port: 80, state: 'healthy' }];

  it('starts no read after readUntil: what was read is a prefix, and the cursor stops at its end', async () => {
    let t = 0;
    const elbv2 = { targetHealth: async (arn: string) => { t += 10; return health(arn); } };
    const out = await readSlice(elbv2, groups.slice(0, 6), true, { concurrency: 1, readUntil: 25, now: () => t });
    expect(out.groups.map((g) => g.name)).toEqual(['g0', 'g1', 'g2']);
    expect(out.lastArn).toBe('arn:tg/002');
    expect(out.done).toBe(false);
    expect(out.reads.map((r) => [r.arn, r.readAt, r.ids])).toEqual([['arn:tg/000', 10, ['10.0.0.1']], ['arn:tg/001', 20, ['10.0.0.1']], ['arn:tg/002', 30, ['10.0.0.1']]]);
  });

  it('is done when it read the last owned group; a group deleted meanwhile is skipped, any other failure fails the slice', async () => {
    const gone = Object.assign(new Error('gone'), { name: 'TargetGroupNotFoundException' });
    const elbv2 = { targetHealth: async (arn: string) => { if (arn === 'arn:tg/001') throw gone; return health(arn); } };
    const out = await readSlice(elbv2, groups.slice(0, 3), false, { concurrency: 4, readUntil: Infinity, now: () => 0 });
    expect(out).toMatchObject({ done: true, lastArn: 'arn:tg/002', gone: ['g1'] });
    expect(out.groups.map((g) => g.name)).toEqual(['g0', 'g2']);
    const denied = { targetHealth: async () => { throw Object.assign(new Error('no'), { name: 'AccessDenied' }); } };
    await expect(readSlice(denied, groups.slice(0, 2), false, { concurrency: 1, readUntil: Infinity, now: () => 0 })).rejects.toThrow('no');
  });
});

describe('recheckOwnership', () => {
  it('holds back the writes to a group whose tags, read now, no longer make it ours', async () => {
    const action = (g: TargetGroup) => ({ kind: 'deregister-target' as const, target: { kind: 'target' as const, targetGroupArn: g.arn, targetGroupName: g.name, id: '10.0.0.1', port: 80, state: 'unhealthy' as const }, why: 'stale' });
    const plan = { id: 'p', trigger: 'sweeper', subject: 's', createdAt: '', actions: [action(groups[0]!), action(groups[1]!)], heldBack: [], warnings: [], census: {} } as unknown as Plan;
    const asked: string[][] = [];
    const elbv2 = {
      tagsOf: async (arns: readonly string[]) => {
        asked.push([...arns]);
        const theirs: Record<string, string> = { team: 'other' };
        const ours: Record<string, string> = { 'elbv2.k8s.aws/cluster': 'prod' };
        return new Map(arns.map((a) => [a, a === 'arn:tg/001' ? theirs : ours]));
      },
    };
    const out = await recheckOwnership(elbv2, plan, groups, { clusterName: 'prod', tagSelector: {}, bindingArns: new Set() });
    expect(asked).toEqual([['arn:tg/000', 'arn:tg/001']]); // one DescribeTags for the groups written, nothing else
    expect(out.changed).toEqual(['g1']);
    expect(out.plan.actions.map((a) => (a.kind === 'deregister-target' ? a.target.targetGroupName : ''))).toEqual(['g0']);
    expect(out.plan.heldBack).toMatchObject([{ guard: 'ownership', reason: expect.stringMatching(/no longer this cluster's/) }]);
  });
});

describe('how long a full sweep takes, and when it is overdue', () => {
  it('is its Describe calls over the share of the refill, at least a tick per slice', () => {
    expect(expectedSweepSeconds({ ownedGroups: 3000, allGroups: 3000, share: 0.1, refillPerSecond: 10, tickSeconds: 120, groupsPerRun: 400 })).toBe(3158);
    expect(expectedSweepSeconds({ ownedGroups: 1000, allGroups: 1000, share: 0.1, refillPerSecond: 10, tickSeconds: 120, groupsPerRun: 400 })).toBe(1053);
    expect(expectedSweepSeconds({ ownedGroups: 20, allGroups: 20, share: 0.1, refillPerSecond: 10, tickSeconds: 120, groupsPerRun: 5 })).toBe(480);
  });

  it('is overdue past factor times that', () => {
    const current = { sweepId: 's', startedAt: 0, slices: 1, groupsRead: 1, describeCalls: 1, cloudMapDone: true, expectedSeconds: 100 };
    expect(sweepOverdue(current, 300_000, 3)).toBe(false);
    expect(sweepOverdue(current, 300_001, 3)).toBe(true);
    expect(sweepOverdue(undefined, 1e12, 3)).toBe(false);
  });
});
