/**
 * Fake Amazon EKS (signing name `eks`, restJson1): DescribeCluster, for the endpoint and CA a Lambda needs
 * to reach the cluster's API server, and access entries (Create / Describe / List / Delete), which decide who
 * the cluster's API server lets in and as which Kubernetes groups (the fake Kubernetes API asks `accessEntry`,
 * see test/fakes/kube). Access entries count only in authenticationMode API or API_AND_CONFIG_MAP
 * (docs/aws-facts.md#access-entries).
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

/** One access entry, as DescribeAccessEntry answers it. */
export interface AccessEntry {
  readonly clusterName: string;
  readonly principalArn: string;
  readonly kubernetesGroups: readonly string[];
  readonly username: string;
  readonly type: string;
}

export class FakeEks implements FakeService {
  readonly signingName = 'eks';
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html (GET /clusters/{name}); the
  // server fills the input's `name` from the label (core.ts RestRoute: Smithy label syntax).
  readonly restRoutes: readonly RestRoute[] = [{ method: 'GET', path: '/clusters/{name}', operation: 'DescribeCluster' }];

  readonly #clock: FakeClock;
  #clusters = new Map<string, Cluster>();
  /** Access entries by cluster, then principal ARN. */
  #entries = new Map<string, Map<string, AccessEntry>>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#clusters = new Map();
    this.#entries = new Map();
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeCluster':
        return this.#describeCluster(input);
      case 'CreateAccessEntry':
        return { accessEntry: this.#describe(this.createAccessEntry(String(input.clusterName ?? ''), String(input.principalArn ?? ''), (input.kubernetesGroups as string[] | undefined) ?? [], input.username as string | undefined)) };
      case 'DescribeAccessEntry': {
        const entry = this.#entriesOf(String(input.clusterName ?? '')).get(String(input.principalArn ?? ''));
        if (!entry) throw new FakeAwsError('ResourceNotFoundException', `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`, 404);
        return { accessEntry: this.#describe(entry) };
      }
      case 'ListAccessEntries':
        return { accessEntries: [...this.#entriesOf(String(input.clusterName ?? '')).keys()].sort() };
      case 'DeleteAccessEntry': {
        const entries = this.#entriesOf(String(input.clusterName ?? ''));
        if (!entries.delete(String(input.principalArn ?? ''))) throw new FakeAwsError('ResourceNotFoundException', 'The specified principalArn could not be found.', 404);
        return {};
      }
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

  /**
   * Creates an access entry (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html):
   * type STANDARD, username the role's assumed-role ARN with `{{SessionName}}` unless given. A second entry for
   * the same principal is ResourceInUseException (409); a cluster in CONFIG_MAP mode refuses access entries.
   */
  createAccessEntry(clusterName: string, principalArn: string, kubernetesGroups: readonly string[], username?: string): AccessEntry {
    const c = this.#clusters.get(clusterName);
    if (!c) throw new FakeAwsError('ResourceNotFoundException', `No cluster found for name: ${clusterName}.`, 404);
    if (c.authenticationMode === 'CONFIG_MAP') throw new FakeAwsError('InvalidRequestException', 'The cluster authentication mode must be set to API or API_AND_CONFIG_MAP to use access entries.', 400);
    const entries = this.#entriesOf(clusterName);
    if (entries.has(principalArn)) throw new FakeAwsError('ResourceInUseException', 'The specified access entry resource is already in use on this cluster.', 409);
    const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
    const entry: AccessEntry = { clusterName, principalArn, kubernetesGroups: [...kubernetesGroups], username: username ?? (role ? `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/{{SessionName}}` : principalArn), type: 'STANDARD' };
    entries.set(principalArn, entry);
    return entry;
  }

  /**
   * Who the cluster's API server takes a principal (a role's or user's ARN) to be: its access entry's user
   * name (`{{SessionName}}` filled in) and groups; undefined without an entry, or when the cluster does not
   * use access entries (then the API server answers 401).
   */
  accessEntry(clusterName: string, principalArn: string, session = ''): { username: string; groups: readonly string[] } | undefined {
    const c = this.#clusters.get(clusterName);
    if (!c || c.authenticationMode === 'CONFIG_MAP') return undefined;
    const entry = this.#entriesOf(clusterName).get(principalArn);
    return entry ? { username: entry.username.replace('{{SessionName}}', session), groups: entry.kubernetesGroups } : undefined;
  }

  #entriesOf(clusterName: string): Map<string, AccessEntry> {
    let entries = this.#entries.get(clusterName);
    if (!entries) this.#entries.set(clusterName, (entries = new Map()));
    return entries;
  }

  #describe(e: AccessEntry): Record<string, unknown> {
    return { clusterName: e.clusterName, principalArn: e.principalArn, kubernetesGroups: e.kubernetesGroups, username: e.username, type: e.type, accessEntryArn: `arn:aws:eks:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:access-entry/${e.clusterName}/role/${FAKE_ACCOUNT_ID}/${e.principalArn.slice(e.principalArn.lastIndexOf('/') + 1)}/fake`, createdAt: this.#clock.now() / 1000, modifiedAt: this.#clock.now() / 1000, tags: {} };
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
