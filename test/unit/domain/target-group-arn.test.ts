import { describe, expect, it } from 'vitest';
import { targetGroupNameOf } from '#core/domain/target-group-arn.ts';

describe('targetGroupNameOf', () => {
  it('takes the name from a target group ARN in any partition', () => {
    expect(targetGroupNameOf('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web/0123456789abcdef')).toBe('k8s-shop-web');
    expect(targetGroupNameOf('arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/a-b-1/73e2d6bc24d8a067')).toBe('a-b-1');
  });

  it('names anything else by itself', () => {
    for (const other of ['arn:tg/web', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/1/2/3', 'web', '']) expect(targetGroupNameOf(other)).toBe(other);
  });
});
