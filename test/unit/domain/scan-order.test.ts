import { describe, expect, it } from 'vitest';
import { nodeAddresses } from '#core/domain/endpoint.ts';
import type { TargetGroup } from '#core/domain/registration.ts';
import { entryNamesNode, planScan, type IndexEntry, type ScanInput } from '#core/domain/scan-order.ts';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const LAUNCH = NOW - 3600_000;
const group = (name: string, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({ arn: `arn:tg/${name}`, name, targetType, vpcId: 'vpc-1', port: 80, loadBalancerArns: [] });
const node = nodeAddresses('i-0abc', [{ privateIps: ['10.0.1.10', '10.0.1.11'], ipv4Prefixes: ['10.0.1.32/28'], ipv6Prefixes: ['2600:1f18::/80'] }]);
const entry = (ids: string[], readAgoMs = 60_000, extra: Partial<IndexEntry> = {}): IndexEntry => ({ readAt: NOW - readAgoMs, ids, ...extra });

function plan(index: Record<string, IndexEntry> | undefined, extra: Partial<ScanInput> = {}) {
  const groups = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => group(n));
  return planScan({
    groups,
    nodes: [{ addresses: node, launchedAt: LAUNCH }],
    index: index ? new Map(Object.entries(index).map(([k, v]) => [`arn:tg/${k}`, v])) : undefined,
    vouchMs: 3600_000,
    now: NOW,
    looked: new Set(),
    ...extra,
  });
}
const names = (gs: readonly TargetGroup[]): string[] => gs.map((g) => g.name);

describe('entryNamesNode', () => {
  it('finds the node by address, inside its prefixes (either family), or by instance id', () => {
    expect(entryNamesNode(entry(['10.0.1.11']), node)).toBe(true);
    expect(entryNamesNode(entry(['10.0.1.40']), node)).toBe(true); // the delegated /28
    expect(entryNamesNode(entry(['2600:1f18::5']), node)).toBe(true); // the /80
    expect(entryNamesNode(entry(['i-0abc']), node)).toBe(true); // an instance group
    expect(entryNamesNode(entry(['10.0.2.11', 'i-0def']), node)).toBe(false);
  });
});

describe('planScan', () => {
  it('describes the named groups first, vouches for fresh readings without the node, scans what it cannot vouch for', () => {
    const p = plan({
      a: entry(['10.0.1.11']), // named
      b: entry(['10.0.2.20']), // vouched: read after launch, fresh, without the node
      c: entry(['10.0.2.21'], 2 * 3600_000), // too old: unknown
      d: entry(['10.0.2.22'], 30_000, { truncated: true }), // truncated: vouches for nothing
      // e, f: never read (unknown)
    });
    expect(names(p.named)).toEqual(['a']);
    expect(p.vouched).toEqual(['arn:tg/b']);
    // Never read first (in listed order without firstSeen), then the oldest readings.
    expect(names(p.unknown)).toEqual(['e', 'f', 'c', 'd']);
  });

  it('vouches for nothing read before a node launched, nor for a node whose launch is unknown', () => {
    expect(plan({ b: entry(['10.0.2.20'], 2 * 3600_000 - 1) }, { vouchMs: 3 * 3600_000 }).vouched).toEqual([]);
    expect(plan({ b: entry(['10.0.2.20']) }, { nodes: [{ addresses: node, launchedAt: undefined }] }).vouched).toEqual([]);
  });

  it('with INDEX_VOUCH_SECONDS 0 the index only orders: every group not named is described', () => {
    const p = plan({ a: entry(['10.0.1.11']), b: entry(['10.0.2.20']) }, { vouchMs: 0 });
    expect(p.vouched).toEqual([]);
    expect(names(p.named)).toEqual(['a']);
    expect(names(p.unknown)).toEqual(['c', 'd', 'e', 'f', 'b']);
  });

  it('skips what was already looked at and what is described anyway: a redelivery continues, never repeats a prefix', () => {
    const p = plan(undefined, { looked: new Set(['arn:tg/a', 'arn:tg/b']), describedAnyway: new Set(['arn:tg/c']) });
    expect(names(p.unknown)).toEqual(['d', 'e', 'f']);
    expect(p.alreadyLooked).toBe(2);
  });

  it('scans the groups the index never read newest first, by when the cached scope first listed them', () => {
    const firstSeen = new Map([['arn:tg/e', NOW - 10_000], ['arn:tg/f', NOW - 5_000], ['arn:tg/a', NOW - 86_400_000]]);
    const p = plan({ b: entry(['x']), c: entry(['x']), d: entry(['x']) }, { firstSeen, vouchMs: 0 });
    expect(names(p.unknown).slice(0, 3)).toEqual(['f', 'e', 'a']);
  });

  it('with a salt (no log to continue from), two rounds start with different groups', () => {
    const many = Array.from({ length: 40 }, (_, i) => group(`g${i}`));
    const first = (salt: string) => planScan({ groups: many, nodes: [{ addresses: node, launchedAt: LAUNCH }], index: undefined, vouchMs: 0, now: NOW, looked: new Set(), salt }).unknown[0]?.name;
    expect(new Set(['r1', 'r2', 'r3', 'r4'].map(first)).size).toBeGreaterThan(1);
  });

  it('for a batch of nodes, names a group any of them is in and vouches only when it is clear of all', () => {
    const other = nodeAddresses('i-0def', [{ privateIps: ['10.0.9.9'], ipv4Prefixes: [] }]);
    const p = plan({ a: entry(['10.0.9.9']), b: entry(['10.0.2.20']) }, { nodes: [{ addresses: node, launchedAt: LAUNCH }, { addresses: other, launchedAt: NOW - 1000 }] });
    expect(names(p.named)).toEqual(['a']);
    // b was read a minute ago, before the second node launched: it cannot vouch for that node.
    expect(p.vouched).toEqual([]);
  });
});
