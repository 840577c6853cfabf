/**
 * The SDK v3 clients quiesce uses, built once per Lambda container.
 *
 * Why there is no endpoint, region or credential code here: every client is left to the SDK's standard
 * configuration (AWS_REGION, the default credentials chain, AWS_ENDPOINT_URL and the per-service
 * AWS_ENDPOINT_URL_<SERVICE> variables such as AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2). That is what
 * lets the same code run on Lambda, against moto, and against the project's fake AWS without a single
 * quiesce-specific variable. Tests that cannot use the environment pass `overrides` explicitly.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElasticLoadBalancingV2Client, type ElasticLoadBalancingV2ClientConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * One client per AWS API quiesce talks to, per container: every adapter, the write port, the failover and
 * the cluster source are handed these, so a container never holds two clients (two socket pools, two
 * credential resolutions) of one API.
 */
export interface AwsClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly serviceDiscovery: ServiceDiscoveryClient;
  readonly eventBridge: EventBridgeClient;
  readonly autoScaling: AutoScalingClient;
  readonly sqs: SQSClient;
  /** The state table: group leases of the guard across writers (only called when STATE_TABLE is set). */
  readonly dynamodb: DynamoDBClient;
  /**
   * EventBridge Scheduler (one-time schedules: a scheduled change's due message, the failover's re-check),
   * built on first use: a container that never schedules never pays for it.
   */
  readonly scheduler: SchedulerClient;
  /** EKS (DescribeCluster, the way into the cluster API), built on first use. */
  readonly eks: EKSClient;
  /**
   * IAM (the policy simulator of a function's preflight on a cold start in dry run: preflight/cold-start.ts),
   * built on first use: a live container never builds it.
   */
  readonly iam: IAMClient;
  /** Closes every client's sockets (those built so far): tests call it in afterAll so the worker can exit. */
  destroy(): void;
}

/** Options of {@link createAwsClients}. */
export interface AwsClientsOptions {
  /**
   * Explicit overrides for tests (a loopback emulator on a random port). Never read from custom
   * environment names: production configuration is the SDK's own.
   */
  readonly overrides?: {
    readonly endpoint?: string;
    readonly region?: string;
    readonly credentials?: NonNullable<ElasticLoadBalancingV2ClientConfig['credentials']>;
    /** A request handler of the SDK's own interface (an in-process emulator); replaces the HTTP handler. */
    readonly requestHandler?: unknown;
  };
  /**
   * Sockets per host and client (default 64): enough for the fan-out (16 concurrent DescribeTargetHealth
   * plus Cloud Map and EC2 in parallel) without queueing behind the SDK's default of 50.
   */
  readonly maxSockets?: number;
  /** Per-request timeout in ms (default 10 s): a hung connection must not eat the spot warning. */
  readonly requestTimeoutMs?: number;
}

/**
 * The configuration every SDK client of quiesce gets.
 *
 * `maxAttempts` is 1 unless the operator set the SDK's own AWS_MAX_ATTEMPTS: retries belong to
 * {@link import('./budget.ts').ApiBudget}, where every attempt takes a token from the client-side rate
 * limit. SDK-internal retries would be invisible to that limit and would multiply (SDK attempts times
 * budget attempts) exactly when the account is already being throttled.
 *
 * The HTTP handler keeps connections alive (a TLS handshake per call would dominate a 20 ms Describe) and
 * allows `maxSockets` per host. It is passed as NodeHttpHandler options, which the SDK turns into its own
 * NodeHttpHandler, so quiesce does not depend on `@smithy/node-http-handler` directly.
 *
 * `cacheMiddleware`: each client resolves its middleware stack once per command class instead of on every
 * send (the SDK's documented option; safe because quiesce never changes a client's or a command's middleware
 * and passes no per-call options). A sweep or a reclaim wave makes thousands of calls from one container.
 *
 * @example
 * const clients = createAwsClients();
 * const elbv2 = new AwsElbv2(clients.elbv2, new ApiBudget());
 */
export function sdkClientConfig(options: AwsClientsOptions = {}): Record<string, unknown> & { maxAttempts?: number } {
  const maxSockets = options.maxSockets ?? 64;
  const agent = { keepAlive: true, maxSockets };
  const config = {
    ...(process.env.AWS_MAX_ATTEMPTS === undefined || process.env.AWS_MAX_ATTEMPTS === '' ? { maxAttempts: 1 } : {}),
    cacheMiddleware: true,
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent,
      connectionTimeout: 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
    },
    ...(options.overrides?.endpoint !== undefined ? { endpoint: options.overrides.endpoint } : {}),
    ...(options.overrides?.region !== undefined ? { region: options.overrides.region } : {}),
    ...(options.overrides?.credentials !== undefined ? { credentials: options.overrides.credentials } : {}),
    ...(options.overrides?.requestHandler !== undefined ? { requestHandler: options.overrides.requestHandler } : {}),
  };
  return config;
}

/**
 * Builds the clients of a deregistering trigger's container (ELBv2, EC2, Cloud Map, EventBridge, Auto Scaling,
 * SQS, DynamoDB for the guard across writers; Scheduler and EKS on first use), all with the same SDK
 * configuration. The traffic-shift and webhook functions, which need few APIs, build just theirs with
 * {@link sdkClientConfig}, so their bundles do not carry EC2.
 */
export function createAwsClients(options: AwsClientsOptions = {}): AwsClients {
  const config = sdkClientConfig(options);
  const clients = {
    elbv2: new ElasticLoadBalancingV2Client(config),
    ec2: new EC2Client(config),
    serviceDiscovery: new ServiceDiscoveryClient(config),
    eventBridge: new EventBridgeClient(config),
    autoScaling: new AutoScalingClient(config),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
  };
  let scheduler: SchedulerClient | undefined;
  let eks: EKSClient | undefined;
  let iam: IAMClient | undefined;
  return {
    ...clients,
    get scheduler(): SchedulerClient {
      return (scheduler ??= new SchedulerClient(config));
    },
    get eks(): EKSClient {
      return (eks ??= new EKSClient(config));
    },
    get iam(): IAMClient {
      return (iam ??= new IAMClient(config));
    },
    destroy() {
      for (const c of [...Object.values(clients), scheduler, eks, iam]) c?.destroy();
    },
  };
}
