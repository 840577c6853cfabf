/**
 * Reading the EKS cluster from a Lambda: the `ClusterPort` the core depends on, and the EKS-backed factory
 * that implements it with DescribeCluster + a presigned STS token + a small HTTPS client. The port lives
 * here for now (the lead moves it to ports/); handlers depend on `ClusterPort`, tests pass a KubeClient
 * pointed at the fake API server.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import { clusterAccess, type EksDescribeClient } from './cluster-access.ts';
import { eksToken, type EksTokenCredentials } from './eks-token.ts';
import { KubeClient, type KubeListOptions } from './kube-client.ts';
import type { KubeEndpointSlice, KubePod, KubeService, KubeTargetGroupBinding } from './kube-objects.ts';

export { clusterAccess } from './cluster-access.ts';
export type { ClusterAccess, EksDescribeClient } from './cluster-access.ts';
export { eksToken, EKS_TOKEN_PREFIX } from './eks-token.ts';
export type { EksTokenCredentials, EksTokenOptions } from './eks-token.ts';
export { KubeClient } from './kube-client.ts';
export type { AccessAttributes, AccessReview, KubeClientOptions, KubeList, KubeListOptions } from './kube-client.ts';
export { ClusterAccessError, KubeApiError } from './kube-api-error.ts';
export type { KubeTransportReason } from './kube-api-error.ts';
export { toKubeEndpointSlice, toKubePod, toKubeService, toKubeTargetGroupBinding } from './kube-objects.ts';
export type { KubeContainerPort, KubeEndpointSlice, KubePod, KubeService, KubeSliceEndpoint, KubeTargetGroupBinding } from './kube-objects.ts';

/**
 * What the core reads from Kubernetes. Read-only on purpose: quiesce never changes the cluster, so the
 * Lambda's access entry maps to a read-only ClusterRole (infra/k8s/cluster-access).
 */
export interface ClusterPort {
  /** Every pod of all namespaces (or one), all pages, from one consistent snapshot. */
  listPods(options?: KubeListOptions): Promise<KubePod[]>;
  /** Every TargetGroupBinding: maps target groups to Services for ownership checks. */
  listTargetGroupBindings(options?: KubeListOptions): Promise<KubeTargetGroupBinding[]>;
  /** Every Service: a binding's serviceRef, resolved to the pods its selector names (the spot trigger's candidates). */
  listServices(options?: KubeListOptions): Promise<KubeService[]>;
  /** Every EndpointSlice: each endpoint names its node, so a node's endpoints are found without its pods. */
  listEndpointSlices(options?: KubeListOptions): Promise<KubeEndpointSlice[]>;
  /** One pod, or undefined when it no longer exists. */
  getPod(namespace: string, name: string): Promise<KubePod | undefined>;
}

/** A `ClusterPort` bound to one token; `close()` frees its sockets at the end of the run. */
export interface ClusterConnection extends ClusterPort {
  close(): void;
}

/** Options of `createEksClusterPort`. */
export interface EksClusterPortOptions {
  eks: EKSClient | EksDescribeClient;
  clusterName: string;
  region: string;
  /** Default: the SDK default credential chain (the Lambda role). */
  credentials?: EksTokenCredentials;
  timeoutMs?: number;
  pageSize?: number;
}

/** Connects to the cluster once per handler run. */
export interface EksClusterPortFactory {
  /** DescribeCluster + a fresh token -> a connection. Call per handler run, never at module init. */
  connect(): Promise<ClusterConnection>;
}

/**
 * Builds the EKS-backed `ClusterPort` factory. Safe to create at module init (it does no I/O); each
 * `connect()` asks EKS for the endpoint and CA and signs a new token, so a warm Lambda never reuses an
 * expired token or a rotated CA.
 *
 * @example
 * const cluster = createEksClusterPort({ eks: new EKSClient({}), clusterName: 'prod', region: 'eu-west-1' });
 * export const handler = async () => {
 *   const kube = await cluster.connect();
 *   try { return await kube.listPods(); } finally { kube.close(); }
 * };
 */
export function createEksClusterPort(options: EksClusterPortOptions): EksClusterPortFactory {
  return {
    async connect(): Promise<ClusterConnection> {
      const [access, token] = await Promise.all([
        clusterAccess(options.eks, options.clusterName),
        eksToken(options.clusterName, {
          region: options.region,
          ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        }),
      ]);
      const client = new KubeClient({
        endpoint: access.endpoint,
        caPem: access.caPem,
        token,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      });
      return {
        listPods: (o) => client.listPods(o),
        listTargetGroupBindings: (o) => client.listTargetGroupBindings(o),
        listServices: (o) => client.listServices(o),
        listEndpointSlices: (o) => client.listEndpointSlices(o),
        getPod: (ns, name) => client.getPod(ns, name),
        close: () => client.close(),
      };
    },
  };
}

/**
 * Keeps one cluster connection per container for `maxAgeMs` (default 10 minutes, inside the EKS token's 15),
 * so a warm Lambda answers a pod event without a DescribeCluster, a token and a TLS handshake each time: the
 * identity check sits on the path of an early deregistration, where milliseconds count. A connection whose
 * call failed is dropped, so the next event connects afresh (a rotated CA, an expired token).
 * `close()` of a connection handed out is a no-op; `closeAll()` ends the kept one.
 */
export function reuseConnection(factory: EksClusterPortFactory, options: { maxAgeMs?: number; now?: () => number } = {}): EksClusterPortFactory & { closeAll(): void } {
  const maxAge = options.maxAgeMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  let kept: { conn: ClusterConnection; at: number } | undefined;
  const drop = (): void => {
    kept?.conn.close();
    kept = undefined;
  };
  const guarded = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await f(...a);
    } catch (err) {
      drop();
      throw err;
    }
  };
  return {
    async connect(): Promise<ClusterConnection> {
      if (!kept || now() - kept.at > maxAge) {
        drop();
        kept = { conn: await factory.connect(), at: now() };
      }
      const c = kept.conn;
      return {
        listPods: guarded((o?: KubeListOptions) => c.listPods(o)),
        listTargetGroupBindings: guarded((o?: KubeListOptions) => c.listTargetGroupBindings(o)),
        listServices: guarded((o?: KubeListOptions) => c.listServices(o)),
        listEndpointSlices: guarded((o?: KubeListOptions) => c.listEndpointSlices(o)),
        getPod: guarded((ns: string, name: string) => c.getPod(ns, name)),
        close: () => undefined,
      };
    },
    closeAll: drop,
  };
}
