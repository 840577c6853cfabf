import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressKey, canonicalIp, formatIpv6, ipCidrContains, ipFamily, parseIpCidr, parseIpv6, withPort } from '#core/domain/ip.ts';
import { nodeAddresses, nodeHasIp } from '#core/domain/endpoint.ts';

/** An independent canonicaliser: the WHATWG URL host serializer (compresses the first longest zero run). */
const whatwg = (ip: string): string => new URL(`http://[${ip}]/`).hostname.slice(1, -1);
const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(fc.oneof(group, fc.constant(0)), { minLength: 8, maxLength: 8 });

describe('canonical addresses (RFC 5952)', () => {
  it('writes one spelling: lowercase, no leading zeros, the first longest zero run as ::, mapped IPv4 mixed', () => {
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // equal runs: the first
    expect(canonicalIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(canonicalIp('2001:db8::0:1:0:0:0')).toBe('2001:db8:0:0:1::'); // the longest run wins
    expect(canonicalIp('::ffff:c000:0201')).toBe('::ffff:192.0.2.1');
    expect(canonicalIp('::1.2.3.4')).toBe('::102:304');
    expect(canonicalIp('2600:1f18:4e1f:4d04:c3a5::')).toBe('2600:1f18:4e1f:4d04:c3a5::');
    expect(canonicalIp('10.0.1.33')).toBe('10.0.1.33');
    for (const bad of [':::', '1::2::3', 'fe80::1%eth0', '[::1]', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1::', '1::2:', '010.0.0.1', 'i-0a1b2c3d4e5f60001', '']) {
      expect(canonicalIp(bad)).toBeUndefined();
    }
    expect(ipFamily('2001:db8::1')).toBe(6);
    expect(ipFamily('10.0.0.1')).toBe(4);
    expect(addressKey('i-0a1b2c3d4e5f60001')).toBe('i-0a1b2c3d4e5f60001');
    expect(withPort('2001:db8::1', 8080)).toBe('[2001:db8::1]:8080');
    expect(withPort('10.0.0.1', 8080)).toBe('10.0.0.1:8080');
  });

  it('property: every spelling of an address has the canonical form the WHATWG serializer gives, and parses back', () => {
    fc.assert(
      fc.property(groups, fc.boolean(), (g, upper) => {
        const canonical = formatIpv6(g);
        const padded = g.map((x) => x.toString(16).padStart(4, '0')).join(':');
        const spelled = upper ? padded.toUpperCase() : padded;
        expect(canonicalIp(spelled)).toBe(canonical);
        expect(canonicalIp(canonical)).toBe(canonical);
        expect(parseIpv6(canonical)).toEqual(g);
        // RFC 5952 section 5 writes IPv4-mapped addresses in mixed notation; WHATWG keeps hex there.
        if (!(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)) expect(canonical).toBe(whatwg(spelled));
      }),
      { numRuns: 300 },
    );
  });

  it("property: agrees with node:net on what is an IPv6 address, for fast-check's generated spellings", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(isIPv6(ip)).toBe(true);
        expect(canonicalIp(ip)).toBe(canonicalIp(whatwg(ip)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('CIDR containment of both families', () => {
  const big = (g: readonly number[]): bigint => g.reduce((n, x) => (n << 16n) | BigInt(x), 0n);

  it('property: an IPv6 address is in a prefix exactly when the high bits agree (bigint arithmetic)', () => {
    fc.assert(
      fc.property(groups, groups, fc.integer({ min: 0, max: 128 }), fc.boolean(), (net, addr, len, share) => {
        // Half the cases: the address shares the network's first groups, so containment is often true.
        const a = share ? [...net.slice(0, Math.floor(len / 16)), ...addr.slice(Math.floor(len / 16))] : addr;
        const cidr = parseIpCidr(`${formatIpv6(net)}/${len}`);
        expect(cidr?.family).toBe(6);
        const shift = BigInt(128 - len);
        expect(ipCidrContains(cidr!, formatIpv6(a).toUpperCase())).toBe(big(a) >> shift === big(net) >> shift);
      }),
      { numRuns: 300 },
    );
  });

  it('never matches across families, and an EKS IPv6 node has every address of its /80', () => {
    expect(ipCidrContains(parseIpCidr('10.0.1.32/28')!, '::ffff:10.0.1.33')).toBe(false);
    expect(ipCidrContains(parseIpCidr('::/0')!, '10.0.1.33')).toBe(false);
    expect(parseIpCidr('2001:db8::/129')).toBeUndefined();
    const node = nodeAddresses('i-1', [{ privateIps: ['10.0.4.10'], ipv4Prefixes: [], ipv6Addresses: ['2600:1F18:4E1F:4D04::10'], ipv6Prefixes: ['2600:1f18:4e1f:4d04:c3a5::/80'] }]);
    expect(nodeHasIp(node, '2600:1f18:4e1f:4d04::10')).toBe(true);
    expect(nodeHasIp(node, '2600:1f18:4e1f:4d04:c3a5:0:0:7')).toBe(true);
    expect(nodeHasIp(node, '2600:1F18:4E1F:4D04:C3A5:FFFF:FFFF:FFFF')).toBe(true);
    expect(nodeHasIp(node, '2600:1f18:4e1f:4d04:c3a6::7')).toBe(false);
    expect(nodeHasIp(node, '10.0.4.10')).toBe(true);
  });
});
