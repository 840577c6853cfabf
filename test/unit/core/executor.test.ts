import { describe, expect, it } from 'vitest';
import { auditEvents } from '#core/audit.ts';
import { createExecutor, DEREGISTER_BATCH } from '#core/executor/executor.ts';
import type { Plan, PlanAction } from '#core/domain/plan.ts';
import { cm, target, tg } from '../domain/fixtures.ts';

const web = tg('web');

function planOf(actions: PlanAction[], census: Plan['census'] = { [web.arn]: { registered: 1000, healthy: 1000 }, 'cm:srv-payments': { registered: 10, healthy: 10 } }): Plan {
  return { id: 'p', trigger: 't', subject: 's', createdAt: '2026-11-21T12:00:00.000Z', actions, heldBack: [], warnings: [], census };
}
const deregister = (i: number): PlanAction => ({ kind: 'deregister-target', target: target(web, `10.0.${Math.floor(i / 250)}.${i % 250}`), why: 'test' });
const awsError = (name: string, status = 400): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

function ports(overrides: { deregisterTargets?: (arn: string, t: readonly unknown[]) => Promise<void>; deregisterInstance?: (s: string, i: string) => Promise<{ status: 'submitted'; operationId: string } | { status: 'not-found' }> } = {}) {
  const calls = { targets: [] as number[], instances: [] as string[] };
  const elbv2 = {
    deregisterTargets: async (arn: string, t: readonly { id: string; port: number | undefined }[]) => {
      calls.targets.push(t.length);
      await overrides.deregisterTargets?.(arn, t);
    },
    modifyRuleActions: async () => undefined,
    describeRules: async () => [],
    targetHealth: async () => [],
  };
  const cloudMap = {
    deregisterInstance: async (s: string, i: string) => {
      calls.instances.push(i);
      return overrides.deregisterInstance ? overrides.deregisterInstance(s, i) : { status: 'submitted' as const, operationId: `op-${i}` };
    },
    getOperation: async () => ({ status: 'SUCCESS' as const }),
    recentOperationStatuses: async () => new Map(),
    listInstances: async () => [],
  };
  return { calls, ports: { elbv2, cloudMap, writes: { mode: 'live' as const, elbv2, cloudMap } } };
}

/** A recording write port (the dry-run wiring): records, answers as a successful write, sends nothing. */
function recordingWrites() {
  const recorded: string[] = [];
  return {
    recorded,
    writes: {
      mode: 'recording' as const,
      elbv2: {
        deregisterTargets: async (arn: string) => void recorded.push(`DeregisterTargets ${arn}`),
        modifyRuleActions: async (arn: string) => void recorded.push(`ModifyRule ${arn}`),
        describeRules: async () => [],
      },
      cloudMap: {
        deregisterInstance: async (s: string, i: string) => (recorded.push(`DeregisterInstance ${s} ${i}`), { status: 'submitted' as const, operationId: `recorded-${i}` }),
        getOperation: async () => ({ status: 'SUCCESS' as const }),
        recentOperationStatuses: async () => new Map(),
      },
    },
  };
}
const options = { concurrency: 4, minHealthy: 1, sleep: async () => undefined };

describe('executor', () => {
  it('sends DeregisterTargets in batches of at most 200 per group', async () => {
    const { ports: p, calls } = ports();
    const result = await createExecutor(p, options).apply(planOf(Array.from({ length: 450 }, (_, i) => deregister(i))));
    expect(DEREGISTER_BATCH).toBe(200);
    expect(calls.targets.sort((a, b) => b - a)).toEqual([200, 200, 50]);
    expect(result.counts.deregistered).toBe(450);
  });

  it('writes nothing in dry run and reports every action', async () => {
    const { ports: p, calls } = ports();
    const dry = recordingWrites();
    const result = await createExecutor({ ...p, writes: dry.writes }, options).apply(planOf([deregister(1), { kind: 'deregister-instance', instance: cm('payments', 'i1', {}), why: 'x' }]));
    expect(calls).toEqual({ targets: [], instances: [] });
    expect(result.counts['dry-run']).toBe(2);
    expect(dry.recorded).toEqual([`DeregisterTargets ${web.arn}`, 'DeregisterInstance srv-payments i1']);
  });

  it('waits out a Cloud Map DuplicateRequest, then takes the answer', async () => {
    let n = 0;
    const { ports: p } = ports({
      deregisterInstance: async () => {
        n++;
        if (n < 3) throw awsError('DuplicateRequest', 409);
        return { status: 'not-found' };
      },
    });
    const result = await createExecutor(p, options).apply(planOf([{ kind: 'deregister-instance', instance: cm('payments', 'i1', {}), why: 'x' }]));
    expect(result.outcomes[0]).toMatchObject({ status: 'already-gone', attempts: 3 });
  });

  it('reports a DuplicateRequest that never clears as a retryable failure', async () => {
    const { ports: p } = ports({ deregisterInstance: async () => Promise.reject(awsError('DuplicateRequest', 409)) });
    const result = await createExecutor(p, { ...options, duplicateRequestAttempts: 3 }).apply(planOf([{ kind: 'deregister-instance', instance: cm('payments', 'i1', {}), why: 'x' }]));
    expect(result).toMatchObject({ retryableFailures: 1, permanentFailures: 0 });
  });

  it('treats a deleted target group as already gone, and tells retryable from permanent failures', async () => {
    const other = tg('other');
    const census = { [web.arn]: { registered: 10, healthy: 10 }, [other.arn]: { registered: 10, healthy: 10 } };
    const { ports: p } = ports({
      deregisterTargets: async (arn) => {
        if (arn === web.arn) throw awsError('TargetGroupNotFoundException');
        throw awsError('InvalidTargetException');
      },
    });
    const result = await createExecutor(p, options).apply(planOf([deregister(1), { kind: 'deregister-target', target: target(other, '10.9.9.9'), why: 'x' }], census));
    expect(result.outcomes.map((o) => o.status).sort()).toEqual(['already-gone', 'failed']);
    expect(result).toMatchObject({ retryableFailures: 0, permanentFailures: 1 });
    const throttled = ports({ deregisterTargets: async () => Promise.reject(awsError('Throttling')) });
    expect(await createExecutor(throttled.ports, options).apply(planOf([deregister(1)]))).toMatchObject({ retryableFailures: 1 });
  });

  it('refuses, as a last line, healthy removals that would empty a group (a plan that skipped guardPlan)', async () => {
    const { ports: p, calls } = ports();
    const result = await createExecutor(p, options).apply(planOf([deregister(1), deregister(2)], { [web.arn]: { registered: 2, healthy: 2 } }));
    expect(calls.targets).toEqual([1]);
    expect(result.counts).toMatchObject({ deregistered: 1, refused: 1 });
    const noCensus = await createExecutor(p, options).apply(planOf([deregister(3)], {}));
    expect(noCensus.counts.refused).toBe(1);
  });
});

describe('audit events', () => {
  it('split a large plan into parts under the PutEvents limit, losing no outcome', () => {
    const actions = Array.from({ length: 3000 }, (_, i) => deregister(i));
    const plan = planOf(actions);
    const result = { planId: 'p', dryRun: false, outcomes: actions.map((a) => ({ key: 'k'.repeat(60), action: a, status: 'deregistered' as const, attempts: 1 })), counts: { deregistered: 3000, submitted: 0, 'already-gone': 0, applied: 0, 'dry-run': 0, refused: 0, failed: 0 }, retryableFailures: 0, permanentFailures: 0 };
    const events = auditEvents(plan, result);
    expect(events.length).toBeGreaterThan(1);
    for (const e of events) expect(Buffer.byteLength(JSON.stringify(e.detail))).toBeLessThan(256 * 1024);
    expect(events.reduce((n, e) => n + (e.detail as { outcomes: unknown[] }).outcomes.length, 0)).toBe(3000);
    expect(events.map((e) => (e.detail as { part: number }).part)).toEqual(events.map((_, i) => i + 1));
  });
});
