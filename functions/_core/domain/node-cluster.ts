/**
 * A node's cluster by its tags: the clusters an EC2 instance says it is a node of. EKS and its node
 * provisioners tag every node they launch: `kubernetes.io/cluster/<name>` (owned|shared: the name is in the
 * key), `eks:cluster-name` (managed node groups), `aws:eks:cluster-name`, and the tags of eksctl
 * (`alpha.eksctl.io/cluster-name`) and Karpenter (`karpenter.k8s.aws/cluster`). One rule for both questions
 * quiesce asks: "is this instance a node of MY cluster?" (spot and pod triggers: a shared account must not
 * let one cluster's quiesce act on another's nodes) and "whose node is it?" (the sweeper's ownership of an
 * address: another cluster's node is not ours to clean up).
 */
import type { NodeInstance } from './endpoint.ts';

/** The tag-key prefix that names a cluster in the key itself (nodes; trunk and branch ENIs too). */
export const KUBERNETES_CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/** Tag keys whose value names the cluster of a node. */
export const NODE_CLUSTER_TAGS: readonly string[] = ['eks:cluster-name', 'aws:eks:cluster-name', 'alpha.eksctl.io/cluster-name', 'karpenter.k8s.aws/cluster'];

/**
 * The clusters named by `kubernetes.io/cluster/<name>` tag keys (whatever the value: owned or shared). A key
 * with no name after the prefix names an unknown cluster (''): never this one, so never ours to act on.
 */
export function clustersInTagKeys(tags: Readonly<Record<string, string>>): Set<string> {
  const out = new Set<string>();
  for (const k of Object.keys(tags)) if (k.startsWith(KUBERNETES_CLUSTER_TAG_PREFIX)) out.add(k.slice(KUBERNETES_CLUSTER_TAG_PREFIX.length));
  return out;
}

/**
 * The clusters an instance is a node of, by its tags (empty = not a Kubernetes node we can tell).
 *
 * @example
 * clustersOfNode({ tags: { 'eks:cluster-name': 'prod' } }) // Set { 'prod' }
 */
export function clustersOfNode(instance: Pick<NodeInstance, 'tags'>): Set<string> {
  const out = clustersInTagKeys(instance.tags);
  for (const k of NODE_CLUSTER_TAGS) {
    const v = instance.tags[k];
    if (v !== undefined && v !== '') out.add(v);
  }
  return out;
}

/** Whether an instance is a node of `clusterName` by its tags (see {@link clustersOfNode}). */
export function isNodeOfCluster(instance: Pick<NodeInstance, 'tags'>, clusterName: string): boolean {
  return clusterName !== '' && clustersOfNode(instance).has(clusterName);
}
