/**
 * What a rendered NetworkPolicy lets a selected pod reach, judged the way the NetworkPolicy API defines it
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/): a connection is allowed when
 * one egress rule admits it; a rule with no `to` admits every peer, with no `ports` every port; an `ipBlock`
 * peer admits the addresses in its CIDR (IPv4 or IPv6) but not those in its `except`; a pod or namespace
 * selector peer admits pods, never a bare address. Enough to ask "can the forwarder reach the Pod Identity
 * agent on an IPv6 cluster", not a full implementation (named ports and endPort are not modelled).
 */
import { ipCidrContains, parseIpCidr } from '#core/domain/ip.ts';

/** A NetworkPolicy peer as rendered. */
interface Peer {
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
  readonly podSelector?: unknown;
  readonly namespaceSelector?: unknown;
}

/** One egress rule as rendered. */
interface EgressRule {
  readonly to?: readonly Peer[];
  readonly ports?: readonly { readonly protocol?: string; readonly port?: number | string }[];
}

/** The parts of a NetworkPolicy this evaluator reads. */
export interface NetworkPolicyObject {
  readonly spec: { readonly policyTypes?: readonly string[]; readonly egress?: readonly EgressRule[] };
}

/** A destination: an address (either family) or "a pod" (reached by selector), a protocol and a port. */
export interface Destination {
  readonly ip?: string;
  readonly pod?: true;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

function peerAdmits(peer: Peer, dest: Destination): boolean {
  if (peer.ipBlock) {
    if (dest.ip === undefined) return false;
    const cidr = parseIpCidr(peer.ipBlock.cidr);
    if (!cidr) throw new Error(`ipBlock cidr "${peer.ipBlock.cidr}" does not parse`);
    if (!ipCidrContains(cidr, dest.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((e) => {
      const x = parseIpCidr(e);
      if (!x) throw new Error(`ipBlock except "${e}" does not parse`);
      return ipCidrContains(x, dest.ip!);
    });
  }
  return dest.pod === true && (peer.podSelector !== undefined || peer.namespaceSelector !== undefined);
}

/** Whether the policy lets the selected pods open this connection. */
export function egressAllows(policy: NetworkPolicyObject, dest: Destination): boolean {
  const types = policy.spec.policyTypes ?? [];
  if (!types.includes('Egress')) return true;
  return (policy.spec.egress ?? []).some((rule) => {
    const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => (p.protocol ?? 'TCP') === dest.protocol && (p.port === undefined || Number(p.port) === dest.port));
    const peerOk = rule.to === undefined || rule.to.length === 0 || rule.to.some((peer) => peerAdmits(peer, dest));
    return portOk && peerOk;
  });
}
