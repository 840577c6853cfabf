/**
 * The registration index and the node scan log through the real state-store adapter against the fake
 * DynamoDB (400 KB items, conditional writes), at the account's quota: 3,000 groups.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { bucketOf, fitBucket, RegistrationIndexStore, type GroupRead } from '#core/state/registration-index.ts';
import { groupHash, lookedForAll, NodeScanLog } from '#core/state/node-scan.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';

const clients = createAwsClients();
afterAll(() => clients.destroy());
const store = (): AwsDynamoStateStore => new AwsDynamoStateStore(clients.dynamodb, new ApiBudget(), 'quiesce-state');
const now = new Date('2026-11-21T12:00:00Z');
const arn = (i: number): string => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-g${i}/${i.toString(16).padStart(16, '0')}`;
const read = (i: number, ids: string[], at = now.getTime()): GroupRead => ({ arn: arn(i), readAt: at, ids });

beforeEach(() => fakeAws.dynamodb.seedTable('quiesce-state'));

describe('RegistrationIndexStore', () => {
  it('keeps 3,000 groups of 50 targets under the item limit (16 buckets) and gives every entry back', async () => {
    const index = new RegistrationIndexStore(store(), 'prod');
    const reads = Array.from({ length: 3000 }, (_, g) => read(g, Array.from({ length: 50 }, (_, t) => `10.${g % 200}.${Math.floor(g / 200)}.${t + 1}`)));
    expect(Buffer.byteLength(JSON.stringify(reads))).toBeGreaterThan(2 * 1024 * 1024);
    await expect(index.record(reads, now)).resolves.toEqual({ truncated: 0 });
    const view = await index.load(now);
    expect(view.entries.size).toBe(3000);
    expect(view.entries.get(arn(7))).toEqual({ readAt: now.getTime(), ids: reads[7]?.ids });
    expect(fakeAws.dynamodb.items('quiesce-state')).toHaveLength(16);
  });

  it('stores addresses canonical, keeps the newer reading, and drops groups that left the scope', async () => {
    const index = new RegistrationIndexStore(store(), 'prod');
    await index.record([read(1, ['2600:1F18:0:0::1', 'i-0abc']), read(2, ['10.0.0.2'])], now);
    await index.record([read(1, ['10.0.0.9'], now.getTime() - 60_000)], now); // older: ignored
    await index.record([read(3, ['10.0.0.3'])], now, { keep: (a) => a !== arn(2), everyBucket: true });
    const view = await index.load(now);
    expect(view.entries.get(arn(1))?.ids).toEqual(['2600:1f18::1', 'i-0abc']);
    expect(view.entries.has(arn(2))).toBe(false);
    expect(view.entries.has(arn(3))).toBe(true);
  });

  it('empties the longest lists of a bucket that would not fit, and marks them truncated (they vouch for nothing)', async () => {
    const entries = { a: [1, ['x'.repeat(50)]], b: [1, ['y']] } as Record<string, [number, string[]]>;
    expect(fitBucket(entries, 40)).toBe(1);
    expect(entries).toEqual({ a: [1, [], 1], b: [1, ['y']] });
    const index = new RegistrationIndexStore(store(), 'prod', { buckets: 1, maxBucketBytes: 400 });
    await index.record([read(1, Array.from({ length: 40 }, (_, t) => `10.0.0.${t}`)), read(2, ['10.0.1.1'])], now);
    const view = await index.load(now);
    expect(view.entries.get(arn(1))).toMatchObject({ ids: [], truncated: true });
    expect(view.entries.get(arn(2))?.ids).toEqual(['10.0.1.1']);
  });

  it('spreads groups over the buckets by ARN', () => {
    const counts = new Array<number>(16).fill(0);
    for (let g = 0; g < 3000; g++) counts[bucketOf(arn(g), 16)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(120);
    expect(Math.max(...counts)).toBeLessThan(260);
  });
});

describe('NodeScanLog', () => {
  it('remembers the groups looked at per node, merged across writers, 3,000 of them in one item', async () => {
    const log = new NodeScanLog(store());
    const until = new Date(now.getTime() + 300_000);
    const all = Array.from({ length: 3000 }, (_, g) => arn(g));
    await Promise.all([log.add(['i-0a', 'i-0b'], all.slice(0, 1600), now, until), log.add(['i-0a'], all.slice(1500), now, until)]);
    const logs = await log.load(['i-0a', 'i-0b', 'i-0c'], now);
    expect(logs.get('i-0a')?.size).toBe(3000);
    expect(logs.get('i-0b')?.size).toBe(1600);
    expect(logs.get('i-0c')?.size).toBe(0);
    expect(logs.get('i-0b')?.has(groupHash(arn(5)))).toBe(true);
    // Looked at for the whole batch only where every node's log has it.
    expect(lookedForAll([arn(5), arn(2000)], logs, ['i-0a', 'i-0b'])).toEqual(new Set([arn(5)]));
    // Gone with the guard: a node's log lives until its re-registration guard ends.
    expect((await log.load(['i-0a'], new Date(until.getTime() + 1))).get('i-0a')?.size).toBe(0);
  });
});
