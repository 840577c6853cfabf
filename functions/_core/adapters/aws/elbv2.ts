/**
 * ELBv2 port over the SDK: target groups, tags, target health, deregistration and listener rules.
 */
import {
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyRuleCommand,
  type Action,
  type DescribeRulesCommandOutput,
  type DescribeTargetGroupsCommandOutput,
  type ElasticLoadBalancingV2Client,
  type TargetDescription,
  type TargetGroup as SdkTargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetGroup, TargetRegistration, TargetState } from '../../domain/registration.ts';
import type { Elbv2Port, ListenerRule } from '../../ports/index.ts';
import { awsErrorName, QuiesceError } from '../../errors.ts';
import { chunk, mapWithConcurrency } from '../../concurrency.ts';
import type { ApiBudget } from './budget.ts';

/** DescribeTargetGroups / DescribeRules maximum page size. */
const PAGE_SIZE = 400;
/** DescribeTags maximum ARNs per call. */
const TAGS_PER_CALL = 20;
/**
 * Targets per DeregisterTargets call. AWS documents no maximum; the Load Balancer Controller never sends
 * more than 200, and neither do we, so one call's blast radius and request size stay bounded.
 */
export const MAX_TARGETS_PER_DEREGISTER = 200;

const STATES: ReadonlySet<string> = new Set<TargetState>([
  'initial',
  'healthy',
  'unhealthy',
  'unhealthy.draining',
  'unused',
  'draining',
  'unavailable',
]);
const TARGET_TYPES = new Set(['ip', 'instance', 'lambda', 'alb']);

/** A target group as DescribeTargetGroups spells it, as the core reads it. */
function toTargetGroup(tg: SdkTargetGroup): TargetGroup {
  const type = tg.TargetType ?? 'instance';
  return {
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? tg.TargetGroupArn ?? '',
    targetType: (TARGET_TYPES.has(type) ? type : 'instance') as TargetGroup['targetType'],
    ...(tg.IpAddressType === 'ipv6' ? { ipAddressType: 'ipv6' as const } : {}),
    vpcId: tg.VpcId,
    port: tg.Port,
    loadBalancerArns: tg.LoadBalancerArns ?? [],
  };
}

/**
 * {@link Elbv2Port} on the SDK. Every call goes through the `elb-*` budgets, which quiesce shares with the
 * Load Balancer Controller on the account's per-Region ELB throttling buckets.
 */
export class AwsElbv2 implements Elbv2Port {
  readonly #client: ElasticLoadBalancingV2Client;
  readonly #budget: ApiBudget;

  constructor(client: ElasticLoadBalancingV2Client, budget: ApiBudget) {
    this.#client = client;
    this.#budget = budget;
  }

  /** All target groups in pages of 400; the VPC filter is applied here because the API has none. */
  async listTargetGroups(options: { vpcId?: string } = {}): Promise<TargetGroup[]> {
    const out: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeTargetGroupsCommandOutput = await this.#budget.call('elb-describe', 'DescribeTargetGroups', () =>
        this.#client.send(new DescribeTargetGroupsCommand({ PageSize: PAGE_SIZE, Marker: marker })),
      );
      for (const tg of page.TargetGroups ?? []) {
        if (!tg.TargetGroupArn) continue;
        if (options.vpcId !== undefined && tg.VpcId !== options.vpcId) continue;
        out.push(toTargetGroup(tg));
      }
      marker = page.NextMarker || undefined;
    } while (marker);
    return out;
  }

  /**
   * Groups by ARN, 20 to a DescribeTargetGroups call (the miss path of a cached scope: a few groups the
   * cluster names). One deleted group fails the whole call with TargetGroupNotFound
   * (docs/aws-facts.md#describing-target-groups-by-arn), so such a batch is asked again one ARN at a time,
   * and the gone ones are left out.
   */
  async describeTargetGroups(arns: readonly string[]): Promise<TargetGroup[]> {
    const one = async (batch: readonly string[]): Promise<TargetGroup[]> => {
      try {
        const page: DescribeTargetGroupsCommandOutput = await this.#budget.call('elb-describe', 'DescribeTargetGroups', () =>
          this.#client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...batch] })),
        );
        return (page.TargetGroups ?? []).flatMap((tg) => (tg.TargetGroupArn ? [toTargetGroup(tg)] : []));
      } catch (err) {
        if (awsErrorName(err) !== 'TargetGroupNotFound' && awsErrorName(err) !== 'TargetGroupNotFoundException') throw err;
        if (batch.length === 1) return [];
        return (await Promise.all(batch.map((a) => one([a])))).flat();
      }
    };
    return (await Promise.all(chunk([...new Set(arns)], TAGS_PER_CALL).map(one))).flat();
  }

  /** Tags of many resources, 20 ARNs per DescribeTags call; every asked ARN that AWS answered is a key. */
  async tagsOf(resourceArns: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    const batches = chunk([...new Set(resourceArns)], TAGS_PER_CALL);
    const pages = await mapWithConcurrency(batches, 4, (arns) =>
      this.#budget.call('elb-describe', 'DescribeTags', () => this.#client.send(new DescribeTagsCommand({ ResourceArns: arns }))),
    );
    for (const page of pages) {
      for (const d of page.TagDescriptions ?? []) {
        if (!d.ResourceArn) continue;
        const tags: Record<string, string> = {};
        for (const t of d.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
        out.set(d.ResourceArn, tags);
      }
    }
    return out;
  }

  /**
   * Every target of one group with its health. The port is kept exactly as AWS reports it: it is half of the
   * target's identity, and a deregistration without the right port silently does nothing.
   */
  async targetHealth(targetGroupArn: string, targetGroupName: string): Promise<TargetRegistration[]> {
    const res = await this.#budget.call('elb-describe', 'DescribeTargetHealth', () =>
      this.#client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    const out: TargetRegistration[] = [];
    for (const d of res.TargetHealthDescriptions ?? []) {
      const id = d.Target?.Id;
      if (!id) continue;
      const rawState = d.TargetHealth?.State ?? 'unavailable';
      const reason = d.TargetHealth?.Reason;
      const az = d.Target?.AvailabilityZone;
      out.push({
        kind: 'target',
        targetGroupArn,
        targetGroupName,
        id,
        port: d.Target?.Port,
        ...(az !== undefined ? { availabilityZone: az } : {}),
        state: (STATES.has(rawState) ? rawState : 'unavailable') as TargetState,
        ...(reason !== undefined ? { reason } : {}),
      });
    }
    return out;
  }

  /**
   * DeregisterTargets for up to {@link MAX_TARGETS_PER_DEREGISTER} targets; more is a caller bug (the executor
   * batches), refused before any call. A target's port is sent whenever known, as AWS requires for port
   * overrides. Deregistering an absent target succeeds on AWS.
   */
  async deregisterTargets(targetGroupArn: string, targets: readonly { id: string; port: number | undefined }[]): Promise<void> {
    if (targets.length === 0) return;
    if (targets.length > MAX_TARGETS_PER_DEREGISTER) {
      throw new QuiesceError(
        `DeregisterTargets: ${targets.length} targets for ${targetGroupArn} exceeds ${MAX_TARGETS_PER_DEREGISTER} per call; batch them`,
        { retryable: false },
      );
    }
    const Targets: TargetDescription[] = targets.map((t) => (t.port === undefined ? { Id: t.id } : { Id: t.id, Port: t.port }));
    await this.#budget.call('elb-register', 'DeregisterTargets', () =>
      this.#client.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets })),
    );
  }

  /** The rules of a listener (or the named rules), all pages of 400. */
  async describeRules(input: { listenerArn?: string; ruleArns?: readonly string[] }): Promise<ListenerRule[]> {
    if (input.listenerArn === undefined && (input.ruleArns === undefined || input.ruleArns.length === 0)) {
      throw new QuiesceError('DescribeRules needs a listenerArn or ruleArns', { retryable: false });
    }
    const out: ListenerRule[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeRulesCommandOutput = await this.#budget.call('elb-describe', 'DescribeRules', () =>
        this.#client.send(
          new DescribeRulesCommand({
            ...(input.listenerArn !== undefined ? { ListenerArn: input.listenerArn } : { RuleArns: [...(input.ruleArns ?? [])] }),
            PageSize: PAGE_SIZE,
            Marker: marker,
          }),
        ),
      );
      for (const r of page.Rules ?? []) {
        if (!r.RuleArn) continue;
        out.push({ ruleArn: r.RuleArn, priority: r.Priority ?? '', isDefault: r.IsDefault ?? false, actions: r.Actions ?? [] });
      }
      marker = page.NextMarker || undefined;
    } while (marker);
    return out;
  }

  /** ModifyRule with the complete Actions list (the API replaces all of a rule's actions). */
  async modifyRuleActions(ruleArn: string, actions: readonly unknown[]): Promise<void> {
    await this.#budget.call('elb-modify', 'ModifyRule', () =>
      this.#client.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [...actions] as Action[] })),
    );
  }
}
