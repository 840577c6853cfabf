/**
 * The name of a target group from its ARN, for logs, plans and the `targetGroupName` the ELBv2 port wants.
 * A target group ARN is `arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancingv2.html),
 * so the name is the path segment after `targetgroup/`. One rule instead of five hand-split copies that
 * disagreed on which segment to take.
 */

const TARGET_GROUP_RESOURCE = /:targetgroup\/([^/]+)\/[^/]+$/;

/**
 * The target group's name, or the whole ARN when it is not a target group ARN (so a log line still names it).
 *
 * @example
 * targetGroupNameOf('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web/0123456789abcdef') // 'k8s-shop-web'
 */
export function targetGroupNameOf(arn: string): string {
  return TARGET_GROUP_RESOURCE.exec(arn)?.[1] ?? arn;
}
