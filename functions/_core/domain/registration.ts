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

/** States in which a target no longer receives new connections from a deregistration of ours. */
export const GONE_OR_GOING: ReadonlySet<TargetState> = new Set(['draining', 'unused', 'unhealthy.draining']);
