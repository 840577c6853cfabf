/**
 * The VPC truth: "which ENI holds this address?", for whole VPCs and both families. An address the VPC's
 * ENIs do not hold is gone (nothing can answer on it), which is the one piece of evidence that never depends
 * on the cluster's word; so the sweeper builds this index once per run from DescribeNetworkInterfaces and
 * judges every registration's address against it. What EC2 never lists on an ENI cannot be judged here at
 * all ({@link unverifiableAddress}).
 */
import { eniAddresses, type NetworkInterface } from './endpoint.ts';
import { ipv4ToInt, parseCidr, type Ipv4Cidr } from './ipv4.ts';
import { addressKey, ipFamily, ipv6NetworkKey, parseIpCidr, parseIpv6 } from './ip.ts';

/** One ENI as the VPC truth needs it. */
export type VpcEni = NetworkInterface;

/**
 * "Which ENI holds this IP?" for whole VPCs, both families: listed addresses (private IPv4s, IPv6
 * addresses) by exact match of their canonical form, delegated prefixes (VPC CNI prefix delegation: pod
 * IPs come from /28s, and on an IPv6 cluster from the node's /80, listed nowhere as addresses) by network,
 * one hash lookup per prefix length. Built once per run: 50,000 lookups against thousands of prefixes stay
 * linear. Branch ENIs (security groups for pods) are ENIs of the VPC like any other.
 */
export class EniIndex {
  readonly vpcIds: ReadonlySet<string>;
  readonly #byIp = new Map<string, VpcEni>();
  readonly #byPrefix = new Map<number, Map<number, VpcEni>>();
  readonly #byIpv6Prefix = new Map<number, Map<string, VpcEni>>();

  constructor(vpcIds: Iterable<string>, enis: readonly VpcEni[]) {
    this.vpcIds = new Set(vpcIds);
    for (const e of enis) {
      for (const ip of eniAddresses(e)) this.#byIp.set(addressKey(ip), e);
      for (const text of e.ipv6Prefixes ?? []) {
        const cidr = parseIpCidr(text);
        if (cidr?.family !== 6) continue;
        let m = this.#byIpv6Prefix.get(cidr.length);
        if (!m) this.#byIpv6Prefix.set(cidr.length, (m = new Map()));
        m.set(cidr.groups.join(':'), e);
      }
      for (const text of e.ipv4Prefixes) {
        const cidr: Ipv4Cidr | undefined = parseCidr(text);
        if (!cidr) continue;
        const len = Number(text.split('/')[1]);
        let m = this.#byPrefix.get(len);
        if (!m) this.#byPrefix.set(len, (m = new Map()));
        m.set(cidr.network, e);
      }
    }
  }

  /** Whether the VPC truth covers this VPC (it was scanned). */
  covers(vpcId: string | undefined): boolean {
    return vpcId !== undefined && this.vpcIds.has(vpcId);
  }

  /** The ENI holding `ip` (either family, any spelling) as a listed address or inside a delegated prefix, if any. */
  eniOf(ip: string): VpcEni | undefined {
    const key = addressKey(ip);
    const direct = this.#byIp.get(key);
    if (direct) return direct;
    if (key.includes(':')) {
      const g = parseIpv6(key);
      if (!g) return undefined;
      for (const [len, m] of this.#byIpv6Prefix) {
        const hit = m.get(ipv6NetworkKey(g, len));
        if (hit) return hit;
      }
      return undefined;
    }
    const n = ipv4ToInt(key);
    if (n === undefined) return undefined;
    for (const [len, m] of this.#byPrefix) {
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      const hit = m.get((n & mask) >>> 0);
      if (hit) return hit;
    }
    return undefined;
  }
}

/**
 * Why quiesce cannot judge an address against the VPC's ENIs at all, or undefined when it can: text that
 * is no IPv4 / IPv6 address, and IPv6 kinds EC2 never lists on an ENI (IPv4-mapped `::ffff:0:0/96`,
 * link-local `fe80::/10`, loopback, unspecified). Such a registration is unverified, never "gone".
 */
export function unverifiableAddress(ip: string): string | undefined {
  const family = ipFamily(ip);
  if (family === undefined) return `${ip} is no IPv4 or IPv6 address quiesce can read`;
  if (family === 4) return undefined;
  const g = parseIpv6(ip) as number[];
  const first = g[0] as number;
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return `${ip} is an IPv4-mapped, loopback or unspecified IPv6 address: no ENI lists one`;
  if ((first & 0xffc0) === 0xfe80) return `${ip} is a link-local IPv6 address: no ENI lists one`;
  return undefined;
}
