/**
 * Cluster truth for the sweeper: which pods are alive (and on which IPs), which target groups this cluster's
 * TargetGroupBindings name, and the cluster's VPC. Read through adapters/kube (`createEksClusterPort`:
 * DescribeCluster for endpoint + CA, a fresh presigned-STS bearer token per run, a small node:https client).
 *
 * Why results instead of exceptions: an unreachable cluster API must not stop the sweep's other truth (a
 * registration whose IP is on no ENI of the VPC is dead whatever the cluster says), but it must stop every
 * removal that rests on the pod list. Callers get either the value or the error, and decide per rule.
 */
import type { DescribeClusterCommand, DescribeClusterCommandOutput, EKSClient } from '@aws-sdk/client-eks';
import type { ApiBudget } from '../adapters/aws/budget.ts';
import { createEksClusterPort, reuseConnection, type ClusterConnection, type EksTokenCredentials, type KubePod } from '../adapters/kube/index.ts';
import { awsErrorName } from '../errors.ts';

/** A read that either produced a value or failed with a reportable error. */
export type Observed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/** One sweep run's connection to the cluster: the port plus what DescribeCluster said about its network. */
export interface ClusterSession {
  readonly connection: ClusterConnection;
  /** resourcesVpcConfig.vpcId of the cluster (where its pod IPs live); undefined if EKS did not say. */
  readonly vpcId: string | undefined;
}

/** Connects once per run; the sweeper's only way into the cluster. */
export interface ClusterSource {
  connect(): Promise<ClusterSession>;
}

/** Options of {@link createClusterSource}. */
export interface ClusterSourceOptions {
  /** An EKS client built with `new EKSClient(sdkClientConfig())`: the SDK's standard endpoint config applies. */
  readonly eks: Pick<EKSClient, 'send'>;
  /** DescribeCluster spends the `eks` family of the shared budget like every other AWS call. */
  readonly budget: ApiBudget;
  readonly clusterName: string;
  /** The region the STS token is signed for (the cluster's). */
  readonly region: string;
  /** Default: the SDK default chain (the Lambda role). */
  readonly credentials?: EksTokenCredentials;
  readonly timeoutMs?: number;
  readonly pageSize?: number;
}

/**
 * Builds the cluster source. No I/O until `connect()`, which is called per run, never at init: the token is
 * valid 15 minutes and the CA may rotate, so the connection is kept at most 10 minutes (and dropped on a
 * failed call), and `close()` of a session is then a no-op.
 *
 * @example
 * const cluster = createClusterSource({ eks: new EKSClient(sdkClientConfig()), budget, clusterName: 'prod', region });
 * const session = await cluster.connect();
 * try { const pods = await observePods(session); } finally { session.connection.close(); }
 */
export function createClusterSource(options: ClusterSourceOptions): ClusterSource {
  // One connection per container for up to 10 minutes (reuseConnection): a sweep every 2 minutes then costs
  // no DescribeCluster, token or TLS handshake but the first; a failed call drops it.
  let vpcId: string | undefined;
  // The port asks DescribeCluster for endpoint + CA; the same answer names the VPC, so it is read here
  // rather than with a second call. Every attempt goes through the budget.
  const eks = {
    send: async (command: DescribeClusterCommand): Promise<DescribeClusterCommandOutput> => {
      const out = await options.budget.call('eks', 'DescribeCluster', () => options.eks.send(command));
      vpcId = out.cluster?.resourcesVpcConfig?.vpcId ?? undefined;
      return out;
    },
  };
  const factory = reuseConnection(
    createEksClusterPort({
      eks: eks as unknown as Pick<EKSClient, 'send'>,
      clusterName: options.clusterName,
      region: options.region,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    }),
  );
  return {
    async connect(): Promise<ClusterSession> {
      const connection = await factory.connect();
      return { connection, vpcId };
    },
  };
}

/** Name and message of any error, for logs and the run result. */
export function describeError(err: unknown): { name: string; message: string } {
  return { name: awsErrorName(err), message: err instanceof Error ? err.message : String(err) };
}

/** Connects, or reports why not (DescribeCluster failed, no endpoint, no credentials for the token). */
export async function connectCluster(source: ClusterSource): Promise<Observed<ClusterSession>> {
  try {
    return { ok: true, value: await source.connect() };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

/** The target group ARNs this cluster's TargetGroupBindings name (all namespaces, all pages). */
export async function observeBindingArns(session: Observed<ClusterSession>): Promise<Observed<Set<string>>> {
  if (!session.ok) return session;
  try {
    const bindings = await session.value.connection.listTargetGroupBindings();
    return { ok: true, value: new Set(bindings.map((b) => b.targetGroupArn).filter((a) => a !== '')) };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

/** Every pod of all namespaces (paged with limit/continue, one consistent snapshot). */
export async function observePods(session: Observed<ClusterSession>): Promise<Observed<KubePod[]>> {
  if (!session.ok) return session;
  try {
    return { ok: true, value: await session.value.connection.listPods() };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
