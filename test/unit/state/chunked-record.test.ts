/**
 * A record larger than one DynamoDB item, through the real state-store adapter against the fake DynamoDB,
 * which refuses items over 400 KB as DynamoDB does (docs/aws-facts.md#dynamodb-item-size).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { ChunkedRecord, MAX_PART_BYTES, OversizedItemError, partKey, splitBySize } from '#core/state/chunked-record.ts';
import { fakeAws } from '../../fakes/aws/shared.ts';

const clients = createAwsClients();
afterAll(() => clients.destroy());
const store = (): AwsDynamoStateStore => new AwsDynamoStateStore(clients.dynamodb, new ApiBudget(), 'quiesce-state');
const now = new Date('2026-11-21T12:00:00Z');
/** ~185 bytes an item, like a cached target group: 3,000 of them are ~554 KB. */
const groups = (n: number): { arn: string; tags: Record<string, string> }[] =>
  Array.from({ length: n }, (_, i) => ({ arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web-${i}/${i.toString(16).padStart(16, '0')}`, tags: { 'elbv2.k8s.aws/cluster': 'prod', 'quiesce.io/deregister-by': ':prod:' } }));

beforeEach(() => fakeAws.dynamodb.seedTable('quiesce-state'));

describe('splitBySize', () => {
  it('keeps order and puts as many items in a part as its JSON allows', () => {
    expect(splitBySize(['aa', 'bb', 'cc'], 12)).toEqual([['aa', 'bb'], ['cc']]);
    expect(splitBySize([], 12)).toEqual([[]]);
    for (const part of splitBySize(groups(3000))) expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThanOrEqual(MAX_PART_BYTES);
  });

  it('refuses an item no part can hold', () => {
    expect(() => splitBySize(['x'.repeat(20)], 12)).toThrow(OversizedItemError);
  });
});

describe('ChunkedRecord', () => {
  it('stores 3,000 groups (~554 KB, more than one item may hold) in parts, and reads them back whole', async () => {
    const items = groups(3000);
    expect(Buffer.byteLength(JSON.stringify(items))).toBeGreaterThan(400 * 1024);
    // One item would not do: the fake refuses it as DynamoDB does.
    await expect(store().putIfAbsent({ key: 'whole', owner: 'x', expiresAt: new Date(now.getTime() + 60_000), data: { items } }, now)).rejects.toThrow(/Item size has exceeded/);
    const record = new ChunkedRecord<(typeof items)[number]>(store(), 'scope#prod', { retentionMs: 3600_000 });
    const written = await record.write(items, { groups: 3000 }, now, undefined);
    expect(written).toMatchObject({ written: true, parts: 2 }); // ~554 KB of JSON: two parts of at most 300,000 bytes
    const read = await record.read(now);
    expect(read?.items).toEqual(items);
    expect(read?.meta).toEqual({ groups: 3000 });
    expect(read?.version).toBe(written.version);
  });

  it('replaces only the version the writer read: a writer that read an older one loses, and readers see one whole version', async () => {
    const record = new ChunkedRecord<string>(store(), 'scope#prod', { retentionMs: 3600_000, maxPartBytes: 40 });
    const first = await record.write(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], {}, now, undefined);
    const second = await record.write(['x', 'y'], {}, now, first.version);
    expect(second.written).toBe(true);
    const late = await record.write(['stale'], {}, now, first.version);
    expect(late.written).toBe(false);
    expect((await record.read(now))?.items).toEqual(['x', 'y']);
    // A head naming a part that is gone (expired) reads as no record, never as a partial one.
    await store().deleteIfOwner(partKey('scope#prod', second.version, 0), second.version);
    expect(await record.read(now)).toBeUndefined();
  });
});
