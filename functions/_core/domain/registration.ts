/**
 * Registrations: the records that send traffic to an endpoint. quiesce never creates them; it only takes
 * them away early (spot, pod termination) or when they point at nothing alive (sweeper).
 */

/** ELBv2 target states, as DescribeTargetHealth reports them. */
export type TargetState =
  | 'initial'
  | 'healthy'
  | 'unhealthy'
  | 'unhealthy.draining'
  | 'unused'
  | 'draining'
  | 'unavailable';

/** A target group as observed (DescribeTargetGroups + DescribeTags). */
export interface TargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly targetType: 'ip' | 'instance' | 'lambda' | 'alb';
  /** `IpAddressType` (ipv4 | ipv6): which family its ip targets' Ids are; absent = ipv4 (the default). */
  readonly ipAddressType?: 'ipv4' | 'ipv6';
  readonly vpcId: string | undefined;
  readonly port: number | undefined;
  readonly loadBalancerArns: readonly string[];
  /** Filled only when tags were asked for (sweeper ownership, tag selectors). */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * One target of one target group. Identity is (targetGroupArn, id, port): "if you specified a port override
 * when you registered a target, you must specify both the target ID and the port when you deregister it"
 * (ELBv2 API reference, DeregisterTargets).
 */
export interface TargetRegistration {
  readonly kind: 'target';
  readonly targetGroupArn: string;
  readonly targetGroupName: string;
  readonly id: string;
  readonly port: number | undefined;
  readonly availabilityZone?: string;
  readonly state: TargetState;
  readonly reason?: string;
}

/** One Cloud Map service instance (ListInstances). */
export interface CloudMapRegistration {
  readonly kind: 'cloudmap';
  readonly namespaceId: string;
  readonly namespaceName: string;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly instanceId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export type Registration = TargetRegistration | CloudMapRegistration;

/**
 * The reserved Cloud Map attributes that carry an instance's address: free strings, kept as written
 * (docs/aws-facts.md#cloud-map-attributes).
 */
export type AddressAttribute = 'AWS_INSTANCE_IPV4' | 'AWS_INSTANCE_IPV6';

/** The addresses a Cloud Map instance points at, IPv4 first, as written (compare them canonicalised). */
export function instanceAddresses(instance: Pick<CloudMapRegistration, 'attributes'>): { readonly attribute: AddressAttribute; readonly address: string }[] {
  const out: { attribute: AddressAttribute; address: string }[] = [];
  const v4 = instance.attributes['AWS_INSTANCE_IPV4'];
  const v6 = instance.attributes['AWS_INSTANCE_IPV6'];
  if (v4 !== undefined) out.push({ attribute: 'AWS_INSTANCE_IPV4', address: v4 });
  if (v6 !== undefined) out.push({ attribute: 'AWS_INSTANCE_IPV6', address: v6 });
  return out;
}

/** `IPv4 10.0.0.1` / `IPv6 2001:db8::1`: how a plan's reasons name an instance's address. */
export function addressLabel(a: { readonly attribute: AddressAttribute; readonly address: string }): string {
  return `${a.attribute === 'AWS_INSTANCE_IPV4' ? 'IPv4' : 'IPv6'} ${a.address}`;
}

/** States in which a target no longer receives new connections from a deregistration of ours. */
export const GONE_OR_GOING: ReadonlySet<TargetState> = new Set(['draining', 'unused', 'unhealthy.draining']);
