/**
 * Addresses of both families: what quiesce compares when it asks "is this registration's address that
 * pod's, that node's, on that ENI?". Written here rather than taken from a package for the reasons ipv4.ts
 * gives (hot path, no bundle cost), and pure: no `node:net`, so planners stay plain functions.
 *
 * Why a canonical form: an IPv6 address has many spellings (`2001:DB8:0:0::1`, `2001:db8::1`,
 * `2001:0db8:0000:0000:0000:0000:0000:0001`). EC2 and Kubernetes (Go's net.IP) print the RFC 5952 form, but
 * Cloud Map attributes are free strings kept as written (its own doc example is uncompressed) and whether
 * DescribeTargetHealth echoes a target Id as registered is not documented. So every comparison of
 * addresses canonicalises both sides with {@link canonicalIp}; the registration itself keeps the spelling
 * AWS returned, which is what a deregistration must send back.
 *
 * What is an address here: a dotted-quad IPv4 without leading zeros (as Go and EC2 print them; `010.0.0.1`
 * is ambiguous, octal to some parsers) and an RFC 4291 IPv6 text (hex groups, one `::`, an optional
 * embedded IPv4 tail). Zone ids (`fe80::1%eth0`) and brackets are not: the contracts already refuse them.
 */
import type { Ipv4Cidr } from './ipv4.ts';
import { parseCidr as parseIpv4Cidr, ipv4ToInt, cidrContains as ipv4CidrContains } from './ipv4.ts';

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The family of an address text, or undefined when it is neither (an instance id, garbage). */
export function ipFamily(text: string): 4 | 6 | undefined {
  if (text.includes(':')) return parseIpv6(text) ? 6 : undefined;
  return IPV4.test(text) ? 4 : undefined;
}

/** The eight 16-bit groups of an IPv6 text (RFC 4291 section 2.2 forms), or undefined when it is not one. */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  const groups = (part: string, v4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const pieces = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] as string;
      if (v4Tail && i === pieces.length - 1 && IPV4.test(p)) {
        const n = ipv4ToInt(p) as number;
        out.push(n >>> 16, n & 0xffff);
      } else if (HEX_GROUP.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  if (gap === -1) {
    const all = groups(text, true);
    return all?.length === 8 ? all : undefined;
  }
  const head = groups(text.slice(0, gap), false);
  const tail = groups(text.slice(gap + 2), true);
  // `::` stands for at least one group of zeros.
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * RFC 5952 text of eight groups: lowercase, no leading zeros, the longest run of two or more zero groups
 * (the first of equal runs) as `::`, and IPv4-mapped addresses (`::ffff:0:0/96`) in mixed notation (5).
 */
export function formatIpv6(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const v4 = [(g[6] as number) >>> 8, (g[6] as number) & 255, (g[7] as number) >>> 8, (g[7] as number) & 255].join('.');
    return `::ffff:${v4}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt === -1) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/**
 * The one spelling of an address that comparisons use, or undefined when the text is no address (an
 * instance id, garbage, IPv4 with leading zeros). IPv4 text is returned as it is (its only form).
 *
 * @example
 * canonicalIp('2001:0DB8:0:0:0:0:0:1') === canonicalIp('2001:db8::1') // '2001:db8::1'
 */
export function canonicalIp(text: string): string | undefined {
  if (!text.includes(':')) return IPV4.test(text) ? text : undefined;
  const g = parseIpv6(text);
  return g ? formatIpv6(g) : undefined;
}

/**
 * The key an address is compared by: its canonical form, or the text itself when it is no address (so an
 * instance id or an unparseable Id still equals only itself). Cheap for IPv4 and ids: no `:`, no parse.
 */
export function addressKey(text: string): string {
  if (!text.includes(':')) return text;
  const g = parseIpv6(text);
  return g ? formatIpv6(g) : text;
}

/** An IPv6 CIDR block: the network's groups (host bits cleared) and the prefix length. */
export interface Ipv6Cidr {
  readonly text: string;
  readonly groups: readonly number[];
  readonly length: number;
}

/** A CIDR block of either family (IPv4: VPC CNI /28 prefixes; IPv6: the /80 an EKS IPv6 node gets). */
export type IpCidr = ({ readonly family: 4 } & Ipv4Cidr) | ({ readonly family: 6 } & Ipv6Cidr);

/** Clears the host bits of `g` beyond `length` (a copy). */
function maskIpv6(g: readonly number[], length: number): number[] {
  return g.map((x, i) => {
    const bits = Math.max(0, Math.min(16, length - 16 * i));
    return bits === 0 ? 0 : x & ((0xffff << (16 - bits)) & 0xffff);
  });
}

/** Parses `addr/len` of either family; undefined if malformed. */
export function parseIpCidr(text: string): IpCidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1 || !text.includes(':')) {
    const v4 = parseIpv4Cidr(text);
    return v4 ? { family: 4, ...v4 } : undefined;
  }
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > 128) return undefined;
  const g = parseIpv6(text.slice(0, slash));
  if (!g) return undefined;
  const length = Number(lenText);
  return { family: 6, text, groups: maskIpv6(g, length), length };
}

/**
 * The network key of an IPv6 address under a prefix length: equal for every address of one /`length`
 * (the sweeper's prefix index hashes by it, as it hashes IPv4 networks by integer).
 */
export function ipv6NetworkKey(g: readonly number[], length: number): string {
  return maskIpv6(g, length).join(':');
}

/** True when the IPv6 address `ip` (any spelling) lies inside `cidr`. */
export function ipv6CidrContains(cidr: Ipv6Cidr, ip: string): boolean {
  const g = parseIpv6(ip);
  if (!g) return false;
  const m = maskIpv6(g, cidr.length);
  return m.every((x, i) => x === cidr.groups[i]);
}

/** True when `ip` (either family, any spelling) lies inside `cidr`; never across families. */
export function ipCidrContains(cidr: IpCidr, ip: string): boolean {
  if (cidr.family === 4) return !ip.includes(':') && ipv4CidrContains(cidr, ip);
  return ipv6CidrContains(cidr, ip);
}

/** RFC 5952 section 6: an address with a port, `[2001:db8::1]:8080` for IPv6, `10.0.0.1:8080` otherwise. */
export function withPort(address: string, port: string | number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
