/**
 * One budget and one client per API per container (issue 18, item 2): the spot-interruption container with
 * the weighted-rule failover on, and the sweeper's, built as production builds them (no clients passed in),
 * hold exactly one SDK client per API and one `ApiBudget`, which the workflow, the executor, the failover,
 * the schedulers, the cluster source, the state store and the write port all use.
 *
 * Two halves: which code can construct a client or a budget at all (read from each handler's module graph,
 * as the IAM check reads its calls: only the core's `createAwsClients` and `budgetFor`), and, running each
 * container through the paths that use every API (deregistration, leases, re-check, lifecycle hook, AWS
 * Health schedule, the cluster API, the failover's weights, originals and restore schedule), which client
 * and budget objects actually sent: one per API, each the container's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget } from '#core/adapters/aws/budget.ts';
import type { AwsClients } from '#core/adapters/aws/clients.ts';
import { loadConfig } from '#core/config.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import type { AwsDeps } from '#core/wiring.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { modulesOf } from '../deliverables/sdk-calls.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedEveryWritePath, startFakeKube } from './handlers.ts';
import { lambdaContext } from './harness.ts';

const root = new URL('../../', import.meta.url).pathname;
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(root, 'events', name), 'utf8')) as Record<string, unknown>;
const sqs = (...bodies: unknown[]) => ({ Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: JSON.stringify(b), eventSource: 'aws:sqs' })) });
const started = startFakeKube();

/** The SDK's client base class: every client's `send` is its. */
const SdkClient = Object.getPrototypeOf(ElasticLoadBalancingV2Client) as { prototype: { send: (...args: unknown[]) => unknown } };

/** Which client objects (by class) and which budgets sent while `run` ran. */
async function senders(run: () => Promise<void>): Promise<{ clients: Map<unknown, Set<object>>; budgets: Set<ApiBudget> }> {
  const clients = new Map<unknown, Set<object>>();
  const budgets = new Set<ApiBudget>();
  const send = SdkClient.prototype.send;
  const call = ApiBudget.prototype.call;
  SdkClient.prototype.send = function (this: object, ...args: unknown[]) {
    const of = clients.get(this.constructor) ?? new Set<object>();
    clients.set(this.constructor, of.add(this));
    return send.apply(this, args);
  };
  ApiBudget.prototype.call = function <T>(this: ApiBudget, ...args: Parameters<ApiBudget['call']>): Promise<T> {
    budgets.add(this);
    return call.apply(this, args) as Promise<T>;
  };
  try {
    await run();
  } finally {
    SdkClient.prototype.send = send;
    ApiBudget.prototype.call = call;
  }
  return { clients, budgets };
}

/** Every client of the container that sent, by its key in `AwsClients`: each class sent through exactly that one object. */
function sentThrough(aws: AwsDeps, seen: Map<unknown, Set<object>>): string[] {
  const keys = ['elbv2', 'ec2', 'serviceDiscovery', 'eventBridge', 'autoScaling', 'sqs', 'dynamodb', 'scheduler', 'eks'] as const satisfies readonly (keyof AwsClients)[];
  const out: string[] = [];
  for (const key of keys) {
    const client = aws.clients[key];
    const of = seen.get(client.constructor);
    if (!of) continue;
    expect([...of], `${key}: more than one client object sent, or not the container's`).toEqual([client]);
    out.push(key);
  }
  expect(out.length, 'a client of a class the container does not hold sent').toBe(seen.size);
  return out;
}

let env: Record<string, string>;

beforeEach(() => {
  ({ env } = seedEveryWritePath(started));
});

let destroy: (() => void) | undefined;
afterEach(() => {
  destroy?.();
  destroy = undefined;
});

describe('one client per API and one budget per container', () => {
  it('only the core constructs SDK clients (createAwsClients) and budgets (budgetFor) in the spot, sweeper and pod-events functions', async () => {
    for (const fn of ['spot-interruption', 'sweeper', 'pod-events']) {
      const constructing = new Map<string, string[]>();
      for (const file of await modulesOf(`functions/${fn}/handler.ts`)) {
        // The code, not its comments (TSDoc examples construct clients too).
        const source = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        const sdkClients = new Set([...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-[a-z0-9-]+'/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!).filter((n) => /Client$/.test(n))));
        const made = [...source.matchAll(/\bnew\s+(\w+)\s*\(/g)].map((m) => m[1]!).filter((n) => n === 'ApiBudget' || sdkClients.has(n));
        if (made.length > 0) constructing.set(file, [...new Set(made)].sort());
      }
      expect(Object.fromEntries(constructing), fn).toEqual({
        'functions/_core/adapters/aws/clients.ts': ['AutoScalingClient', 'DynamoDBClient', 'EC2Client', 'EKSClient', 'ElasticLoadBalancingV2Client', 'EventBridgeClient', 'IAMClient', 'SQSClient', 'SchedulerClient', 'ServiceDiscoveryClient'],
        'functions/_core/wiring.ts': ['ApiBudget'],
      });
    }
  });

  it('the spot-interruption container with the failover on: every API through its one client, every call on its one budget', async () => {
    const logger = createLogger('spot-interruption');
    const deps = buildNodeWorkflowDeps('spot-interruption', { config: loadConfig(env), env, logger, now: () => new Date(fakeAws.clock.now()), sleep: (ms) => fakeAws.clock.sleep(ms), retry: { baseDelayMs: 2, maxDelayMs: 20 } });
    destroy = () => deps.aws.clients.destroy();
    const handler = makeSpotHandler(() => deps, logger, createMetrics('spot-interruption'));
    const seen = await senders(async () => {
      expect(await handler(sample('spot-interruption-warning.json') as never, lambdaContext)).toMatchObject({ status: 'applied' });
      expect(await handler(sample('health-scheduled-change.json') as never, lambdaContext)).toMatchObject({ status: 'scheduled' });
      expect(await handler(sqs(sample('asg-lifecycle-sqs-direct.json')) as never, lambdaContext)).toEqual({ batchItemFailures: [] });
    });
    // The failover ran on this container: it moved web's weight and scheduled its restore check.
    expect(fakeAws.calls.count('elasticloadbalancing', 'ModifyRule')).toBe(1);
    expect(fakeAws.scheduler.schedules().map((s) => s.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^quiesce-failover-/), expect.stringMatching(/^quiesce-hc-/)]));
    expect(sentThrough(deps.aws, seen.clients).sort()).toEqual(['autoScaling', 'dynamodb', 'ec2', 'eks', 'elbv2', 'eventBridge', 'scheduler', 'serviceDiscovery', 'sqs']);
    expect([...seen.budgets]).toEqual([deps.aws.budget]);
    // The failover's calls were spent from that budget (ModifyRule is its family's only caller here).
    expect(deps.aws.budget.stats()['elb-modify'].calls).toBe(1);
  });

  it("the stage's shared ELB budget: a spot container that waits for Describe tokens takes its lease through the container's one DynamoDB client and budget", async () => {
    // A Describe burst of 1 (at 200/s): the warning waits for tokens, which is when the shared budget joins.
    const tight = { ...env, RATE_LIMITS: 'elb-describe=200:1,elb-register=4:10,elb-modify=2:5', FAILOVER_LISTENER_ARNS: '' };
    const logger = createLogger('spot-interruption');
    const deps = buildNodeWorkflowDeps('spot-interruption', { config: loadConfig(tight), env: tight, logger, now: () => new Date(fakeAws.clock.now()), sleep: (ms) => fakeAws.clock.sleep(ms), retry: { baseDelayMs: 2, maxDelayMs: 20 } });
    destroy = () => deps.aws.clients.destroy();
    const handler = makeSpotHandler(() => deps, logger, createMetrics('spot-interruption'));
    const seen = await senders(async () => {
      expect(await handler(sample('spot-interruption-warning.json') as never, lambdaContext)).toMatchObject({ status: 'applied' });
      await deps.aws.share?.settled();
    });
    expect(deps.aws.share).toBeDefined();
    expect(fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S)).toContain('share#describe');
    expect(sentThrough(deps.aws, seen.clients)).toContain('dynamodb');
    expect([...seen.budgets]).toEqual([deps.aws.budget]);
  });

  it('the sweeper container with the failover on: the same', async () => {
    const logger = createLogger('sweeper');
    const deps = buildSweepDeps({ config: loadSweeperConfig(env), env, logger, now: () => new Date(fakeAws.clock.now()), sleep: (ms) => fakeAws.clock.sleep(ms), retry: { baseDelayMs: 2, maxDelayMs: 20 } });
    destroy = () => deps.aws.clients.destroy();
    const handler = makeSweepHandler(() => deps, logger, createMetrics('sweeper'));
    const seen = await senders(async () => {
      expect(await handler(sample('scheduled-sweep.json') as never, lambdaContext)).toMatchObject({ status: 'applied' });
    });
    expect(fakeAws.calls.count('elasticloadbalancing', 'ModifyRule')).toBe(1);
    expect(sentThrough(deps.aws, seen.clients).sort()).toEqual(['dynamodb', 'ec2', 'eks', 'elbv2', 'eventBridge', 'scheduler', 'serviceDiscovery']);
    expect([...seen.budgets]).toEqual([deps.aws.budget]);
    expect(deps.aws.budget.stats()['elb-modify'].calls).toBe(1);
  });
});
