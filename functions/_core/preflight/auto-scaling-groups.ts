/**
 * The Auto Scaling groups of the cluster's nodes, for the preflight's CompleteLifecycleAction check: the
 * groups the running nodes of the cluster name (`aws:autoscaling:groupName`, which Auto Scaling puts on
 * every instance it launches), with the cluster tag as those nodes carry it (a group's tags propagate to
 * its instances; the role's condition reads the group's `eks:cluster-name`). Found with DescribeInstances,
 * which the spot function's role may already call, so the check needs no Auto Scaling read permission.
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { ApiBudget } from '../adapters/aws/budget.ts';

/** One group as the check needs it. */
export interface ClusterAutoScalingGroup {
  readonly name: string;
  /** The `eks:cluster-name` its instances carry. */
  readonly clusterTag: string | undefined;
}

/** The groups of the running nodes of `clusterName` (tag `eks:cluster-name`), all pages. */
export async function clusterAutoScalingGroups(ec2: Pick<EC2Client, 'send'>, budget: ApiBudget, clusterName: string): Promise<ClusterAutoScalingGroup[]> {
  const groups = new Map<string, ClusterAutoScalingGroup>();
  let token: string | undefined;
  do {
    const page = await budget.call('ec2-describe', 'DescribeInstances', () =>
      ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:eks:cluster-name', Values: [clusterName] },
            { Name: 'instance-state-name', Values: ['pending', 'running'] },
          ],
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      const name = tags['aws:autoscaling:groupName'];
      if (name && !groups.has(name)) groups.set(name, { name, clusterTag: tags['eks:cluster-name'] });
    }
    token = page.NextToken || undefined;
  } while (token);
  return [...groups.values()];
}
