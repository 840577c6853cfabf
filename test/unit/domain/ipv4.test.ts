import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipv4ToInt, parseCidr } from '#core/domain/ipv4.ts';
import { nodeAddresses, nodeHasIp } from '#core/domain/endpoint.ts';

describe('ipv4', () => {
  it('parses dotted quads and rejects everything else', () => {
    expect(ipv4ToInt('10.0.1.33')).toBe(167772449);
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['10.0.1', '10.0.1.256', '10.0.1.a', '', '1.2.3.4.5', '01234.1.1.1']) expect(ipv4ToInt(bad)).toBeUndefined();
  });

  it('matches /28 prefixes by containment (VPC CNI prefix delegation)', () => {
    const p = parseCidr('10.0.1.32/28');
    expect(p).toBeDefined();
    expect(['10.0.1.32', '10.0.1.33', '10.0.1.47'].every((ip) => cidrContains(p!, ip))).toBe(true);
    expect(['10.0.1.31', '10.0.1.48', '10.0.2.33'].some((ip) => cidrContains(p!, ip))).toBe(false);
    expect(parseCidr('10.0.1.32/33')).toBeUndefined();
    expect(parseCidr('10.0.1.32')).toBeUndefined();
  });

  it('containment agrees with integer arithmetic for any address and prefix length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (net, addr, len) => {
        const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
        const cidr = parseCidr(`${toIp(net)}/${len}`)!;
        const size = 2 ** (32 - len);
        const base = Math.floor(net / size) * size;
        expect(cidrContains(cidr, toIp(addr))).toBe(addr >= base && addr < base + size);
      }),
    );
  });

  it('a node has its listed IPs and everything inside its prefixes', () => {
    const node = nodeAddresses('i-1', [
      { privateIps: ['10.0.1.10', '10.0.1.11'], ipv4Prefixes: [] },
      { privateIps: ['10.0.1.20'], ipv4Prefixes: ['10.0.1.32/28', 'garbage'] },
    ]);
    expect(nodeHasIp(node, '10.0.1.11')).toBe(true);
    expect(nodeHasIp(node, '10.0.1.40')).toBe(true);
    expect(nodeHasIp(node, '10.0.1.12')).toBe(false);
    expect(node.prefixes).toHaveLength(1);
  });
});
