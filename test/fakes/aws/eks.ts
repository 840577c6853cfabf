/**
 * Fake Amazon EKS (signing name `eks`, restJson1): DescribeCluster only, for the endpoint and CA a Lambda
 * needs to reach the cluster's API server.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService, RestRoute } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

export interface ClusterSeed {
  name: string;
  /** The API server URL, e.g. a loopback fake Kubernetes API. */
  endpoint: string;
  /** certificateAuthority.data: base64 of the PEM CA bundle. */
  caData: string;
  version?: string;
  authenticationMode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
  /** resourcesVpcConfig.vpcId: the VPC of the cluster (its pod IPs are addresses of that VPC). */
  vpcId?: string;
}

interface Cluster extends Required<Omit<ClusterSeed, 'vpcId'>> {
  vpcId?: string;
  createdAt: number;
}

export class FakeEks implements FakeService {
  readonly signingName = 'eks';
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html (GET /clusters/{name}); the
  // server fills the input's `name` from the label (core.ts RestRoute: Smithy label syntax).
  readonly restRoutes: readonly RestRoute[] = [{ method: 'GET', path: '/clusters/{name}', operation: 'DescribeCluster' }];

  readonly #clock: FakeClock;
  #clusters = new Map<string, Cluster>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#clusters = new Map();
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeCluster':
        return this.#describeCluster(input);
      default:
        throw new UnknownOperationError('InvalidRequestException', `${operation} is not supported by the fake EKS`, 400);
    }
  }

  /** Adds (or replaces) an ACTIVE cluster. */
  seedCluster(seed: ClusterSeed): void {
    this.#clusters.set(seed.name, {
      version: '1.33',
      authenticationMode: 'API_AND_CONFIG_MAP',
      ...seed,
      createdAt: this.#clock.now(),
    });
  }

  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
  #describeCluster(input: Record<string, unknown>): unknown {
    const name = String(input.name ?? '');
    const c = this.#clusters.get(name);
    if (!c) {
      // ResourceNotFoundException, HTTP 404 (the message AWS returns).
      throw new FakeAwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404);
    }
    return {
      cluster: {
        name: c.name,
        arn: `arn:aws:eks:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:cluster/${c.name}`,
        createdAt: c.createdAt / 1000,
        version: c.version,
        endpoint: c.endpoint,
        certificateAuthority: { data: c.caData },
        status: 'ACTIVE',
        platformVersion: 'eks.1',
        accessConfig: { authenticationMode: c.authenticationMode },
        ...(c.vpcId === undefined ? {} : { resourcesVpcConfig: { vpcId: c.vpcId } }),
        tags: {},
      },
    };
  }
}
