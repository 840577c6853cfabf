import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/_core/config.ts';
import { invocationRemainingMs, invocationTimeMs } from '../../../functions/_core/invocation.ts';
import { createLogger, logLambdaContext } from '../../../functions/_core/telemetry.ts';
import { budgetFor } from '../../../functions/_core/wiring.ts';

const env = (vars: Record<string, string>) => loadConfig({ CLUSTER_NAME: 'c', ...vars });

describe('ELB budgets as shares of the account buckets', () => {
  it('defaults to 40% of the documented buckets; ELB_ACCOUNT_BUCKETS and ELB_BUDGET_SHARE move them; RATE_LIMITS still wins', () => {
    expect(env({}).elbAccountBuckets).toEqual({});
    const raised = env({ ELB_ACCOUNT_BUCKETS: 'describe=400:100', ELB_BUDGET_SHARE: 'describe=0.2,register=1', RATE_LIMITS: 'elb-modify=5:5' });
    expect(raised.elbAccountBuckets).toEqual({ describe: { capacity: 400, refillPerSecond: 100 } });
    expect(raised.elbBudgetShare).toEqual({ describe: 0.2, register: 1 });
    expect(env({ ELB_BUDGET_SHARE: '0.25' }).elbBudgetShare).toEqual({ describe: 0.25, register: 0.25, modify: 0.25 });
    expect(() => budgetFor(raised)).not.toThrow();
    expect(() => budgetFor(env({ RATE_LIMITS: 'elb-scan=1:1' }))).toThrow(/RATE_LIMITS/);
  });

  it('refuses nonsense with the variable named', () => {
    expect(() => env({ ELB_BUDGET_SHARE: '1.5' })).toThrow(/ELB_BUDGET_SHARE/);
    expect(() => env({ ELB_BUDGET_SHARE: 'scan=0.5' })).toThrow(/ELB_BUDGET_SHARE/);
    expect(() => env({ ELB_ACCOUNT_BUCKETS: 'describe=40' })).toThrow(/ELB_ACCOUNT_BUCKETS/);
    expect(() => env({ ELB_ACCOUNT_BUCKETS: 'register=0:4' })).toThrow(/ELB_ACCOUNT_BUCKETS/);
  });
});

describe('the invocation in progress', () => {
  it('is known to the budget while the handler runs (logLambdaContext), and forgotten after, even on error', async () => {
    const seen: (number | undefined)[] = [];
    const handler = middy(async (event: { fail?: boolean }) => {
      seen.push(invocationRemainingMs());
      expect(invocationTimeMs()).toBe(42_000);
      if (event.fail) throw new Error('boom');
      return 'ok';
    }).use(logLambdaContext(createLogger('test', { logLevel: 'SILENT' })));
    const context = { getRemainingTimeInMillis: () => 42_000, functionName: 'f', awsRequestId: 'r' } as never;
    await handler({}, context);
    await expect(handler({ fail: true }, context)).rejects.toThrow('boom');
    expect(seen).toEqual([42_000, 42_000]);
    expect(invocationRemainingMs()).toBeUndefined();
    expect(invocationTimeMs()).toBeUndefined();
  });
});
