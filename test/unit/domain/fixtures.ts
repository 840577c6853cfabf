/** Small builders for domain values: a planner test builds its state in a few lines. */
import type { NodeAddresses } from '#core/domain/endpoint.ts';
import { nodeAddresses } from '#core/domain/endpoint.ts';
import type { CloudMapRegistration, TargetGroup, TargetRegistration, TargetState } from '#core/domain/registration.ts';

export const tg = (name: string, targetType: TargetGroup['targetType'] = 'ip'): TargetGroup => ({
  arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`,
  name,
  targetType,
  vpcId: 'vpc-1',
  port: 8080,
  loadBalancerArns: [],
});

export const target = (group: TargetGroup, id: string, state: TargetState = 'healthy', port: number | undefined = 8080): TargetRegistration => ({
  kind: 'target',
  targetGroupArn: group.arn,
  targetGroupName: group.name,
  id,
  port,
  state,
});

export const cm = (service: string, instanceId: string, attributes: Record<string, string>): CloudMapRegistration => ({
  kind: 'cloudmap',
  namespaceId: 'ns-1',
  namespaceName: 'mesh.local',
  serviceId: `srv-${service}`,
  serviceName: service,
  instanceId,
  attributes,
});

export const node = (instanceId: string, ips: string[], prefixes: string[] = []): NodeAddresses =>
  nodeAddresses(instanceId, [{ privateIps: ips, ipv4Prefixes: prefixes }]);
