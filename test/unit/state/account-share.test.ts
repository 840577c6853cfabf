/**
 * One ELB budget for the stage: instances that wait for tokens lease a part of the stage's share in the state
 * table (the real adapter against the fake DynamoDB), and scale their budgets to it.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { AccountShare, partOf } from '#core/state/account-share.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';

const clients = createAwsClients();
afterAll(() => clients.destroy());
const store = (): AwsDynamoStateStore => new AwsDynamoStateStore(clients.dynamodb, new ApiBudget(), 'quiesce-state');

beforeEach(() => fakeAws.dynamodb.seedTable('quiesce-state'));

describe('partOf', () => {
  it('leaves a lone holder its whole share, and divides the largest share among several', () => {
    expect(partOf([{ id: 'a', share: 0.6, until: 10 }], 0)).toBe(1);
    expect(partOf([{ id: 'a', share: 0.6, until: 10 }, { id: 'b', share: 0.6, until: 10 }], 0)).toBe(0.5);
    // spot (60%) and pod-events (40%): 0.6 of each one's share, 36% + 24% = the largest share.
    expect(partOf([{ id: 'a', share: 0.6, until: 10 }, { id: 'b', share: 0.4, until: 10 }], 0)).toBeCloseTo(0.6);
    // A lapsed lease does not count.
    expect(partOf([{ id: 'a', share: 0.6, until: 10 }, { id: 'b', share: 0.6, until: 5 }], 5)).toBe(1);
  });
});

describe('AccountShare', () => {
  it('two instances that wait take half each; once the other lapses, the one left takes its whole share back', async () => {
    let now = Date.parse('2026-11-21T12:00:00Z');
    const budgets = [new ApiBudget(), new ApiBudget()];
    const shares = budgets.map((b, i) => new AccountShare(store(), b, { shares: { describe: 0.6 }, holder: `spot-${i}`, now: () => now, leaseMs: 6000 }));
    expect(await shares[0]!.renew('elb-describe', 'describe', 0.6)).toBe(1);
    expect(await shares[1]!.renew('elb-describe', 'describe', 0.6)).toBe(0.5);
    expect(await shares[0]!.renew('elb-describe', 'describe', 0.6)).toBe(0.5);
    expect(budgets.map((b) => b.scaleOf('elb-describe'))).toEqual([0.5, 0.5]);
    now += 7000; // instance 1 stopped renewing (finished, or frozen)
    expect(await shares[0]!.renew('elb-describe', 'describe', 0.6)).toBe(1);
    expect(budgets[0]!.scaleOf('elb-describe')).toBe(1);
    // Two writes per renewal at most (read, conditional put), nothing else.
    expect(fakeAws.calls.count('dynamodb', 'PutItem')).toBe(4);
  });

  it('joins only when the budget waits for a token, renews at most every renewMs, and keeps its share if the table fails', async () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    const budget = new ApiBudget({ limits: { 'elb-describe': { ratePerSecond: 1000, burst: 2 } } });
    const warnings: string[] = [];
    const share = new AccountShare(store(), budget, { shares: { describe: 0.4 }, holder: 'pod-events', now: () => now, warn: (m) => warnings.push(m) });
    await budget.call('elb-describe', 'DescribeTargetHealth', async () => 1);
    expect(share.writes).toBe(0); // within the burst: nothing to share
    for (let i = 0; i < 5; i++) await budget.call('elb-describe', 'DescribeTargetHealth', async () => i);
    await share.settled();
    expect(share.writes).toBe(1); // waited several times, renewed once (same instant)
    fakeAws.dynamodb.reset(); // the table is gone: the next renewal fails
    const broken = new AccountShare(store(), budget, { shares: { describe: 0.4 }, holder: 'pod-events', now: () => now + 10_000, warn: (m) => warnings.push(m) });
    await expect(broken.renew('elb-describe', 'describe', 0.4)).rejects.toThrow();
    expect(budget.scaleOf('elb-describe')).toBe(1);
  });
});
