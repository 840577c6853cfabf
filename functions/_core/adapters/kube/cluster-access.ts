/**
 * Where the cluster is and which CA to trust, from EKS DescribeCluster. Why not configuration: the endpoint
 * and CA change when a cluster is recreated or its CA rotated; asking EKS per run keeps the Lambda correct
 * with no redeploy, at the cost of one cheap call.
 */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { ClusterAccessError } from './kube-api-error.ts';

/** The part of the EKS client this needs (tests can pass a stub). */
export type EksDescribeClient = Pick<EKSClient, 'send'>;

/** How to reach a cluster's API server. */
export interface ClusterAccess {
  readonly endpoint: string;
  /** The cluster CA as PEM (EKS returns it base64-encoded). */
  readonly caPem: string;
  /** The cluster's VPC (resourcesVpcConfig.vpcId), when EKS says. */
  readonly vpcId?: string;
}

/**
 * DescribeCluster -> endpoint + CA PEM. Throws `ClusterAccessError` when the cluster has no endpoint or CA
 * yet (still CREATING); SDK errors such as ResourceNotFoundException pass through unchanged.
 */
export async function clusterAccess(eks: EksDescribeClient, clusterName: string): Promise<ClusterAccess> {
  const out = await eks.send(new DescribeClusterCommand({ name: clusterName }));
  const endpoint = out.cluster?.endpoint;
  const data = out.cluster?.certificateAuthority?.data;
  if (!endpoint) throw new ClusterAccessError(clusterName, `DescribeCluster returned no endpoint (status ${out.cluster?.status ?? 'unknown'})`);
  if (!data) throw new ClusterAccessError(clusterName, 'DescribeCluster returned no certificateAuthority.data');
  const caPem = Buffer.from(data, 'base64').toString('utf8');
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ClusterAccessError(clusterName, 'certificateAuthority.data is not a base64 PEM certificate');
  }
  const vpcId = out.cluster?.resourcesVpcConfig?.vpcId;
  return { endpoint, caPem, ...(vpcId ? { vpcId } : {}) };
}
