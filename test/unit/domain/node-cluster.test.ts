import { describe, expect, it } from 'vitest';
import { clustersInTagKeys, clustersOfNode, isNodeOfCluster } from '#core/domain/node-cluster.ts';

const node = (tags: Record<string, string>) => ({ tags });

describe('a node\'s cluster by its tags', () => {
  it('reads every tag EKS, eksctl and Karpenter put on a node', () => {
    const everyTag: Record<string, string>[] = [
      { 'kubernetes.io/cluster/prod': 'owned' },
      { 'kubernetes.io/cluster/prod': 'shared' },
      { 'kubernetes.io/cluster/prod': '' },
      { 'eks:cluster-name': 'prod' },
      { 'aws:eks:cluster-name': 'prod' },
      { 'alpha.eksctl.io/cluster-name': 'prod' },
      { 'karpenter.k8s.aws/cluster': 'prod' },
    ];
    for (const tags of everyTag) {
      expect(clustersOfNode(node(tags))).toEqual(new Set(['prod']));
      expect(isNodeOfCluster(node(tags), 'prod')).toBe(true);
      expect(isNodeOfCluster(node(tags), 'blue')).toBe(false);
    }
  });

  it('names every cluster a node claims, and none for an untagged instance or empty values', () => {
    expect(clustersOfNode(node({ 'eks:cluster-name': 'prod', 'kubernetes.io/cluster/blue': 'owned', Name: 'x' }))).toEqual(new Set(['prod', 'blue']));
    expect(clustersOfNode(node({ Name: 'bastion', 'eks:cluster-name': '' }))).toEqual(new Set());
    expect(isNodeOfCluster(node({ 'eks:cluster-name': '' }), '')).toBe(false);
    // A cluster tag that names no cluster is some other (unknown) cluster's: never this one's.
    expect(clustersOfNode(node({ 'kubernetes.io/cluster/': 'owned' }))).toEqual(new Set(['']));
    expect(isNodeOfCluster(node({ 'kubernetes.io/cluster/': 'owned' }), 'prod')).toBe(false);
  });

  it('reads the cluster from the key alone for ENI tags too', () => {
    expect(clustersInTagKeys({ 'kubernetes.io/cluster/prod': 'owned', 'cluster.k8s.amazonaws.com/name': 'blue' })).toEqual(new Set(['prod']));
  });
});
