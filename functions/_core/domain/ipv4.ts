/**
 * Minimal IPv4/CIDR arithmetic. Written here rather than taken from a package: it is 30 lines, it is on the
 * hot path of matching thousands of targets, and it keeps the Lambda bundle free of a dependency.
 */

/** A parsed IPv4 CIDR block: network address and mask as unsigned 32-bit integers. */
export interface Ipv4Cidr {
  readonly text: string;
  readonly network: number;
  readonly mask: number;
}

/** Parses dotted-quad IPv4 into an unsigned 32-bit integer; undefined if it is not one. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n >>> 0;
}

/** Parses `a.b.c.d/len`; undefined if malformed. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const [addr, lenText] = text.split('/');
  if (addr === undefined || lenText === undefined || !/^\d{1,2}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  const base = ipv4ToInt(addr);
  if (base === undefined || len > 32) return undefined;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { text, network: (base & mask) >>> 0, mask };
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && ((n & cidr.mask) >>> 0) === cidr.network;
}
