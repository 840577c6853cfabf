/**
 * The write port (ports/writes.ts) on the AWS adapters: live, the adapters over the container's clients;
 * recording, the same adapters over the recording twins of those clients (recording.ts). Either way every
 * write spends the container's one budget, so a dry run paces its writes as the live run would.
 *
 * Sections are built on first use and kept (one adapter per queue, schedule target, table and bus), and a
 * client only when its first section is: a container that never schedules never builds a Scheduler client.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AutoScalingPort, DelayQueuePort, EventBusPort } from '../../ports/index.ts';
import type { OneTimeSchedulerPort, ScheduleTarget } from '../../ports/scheduler.ts';
import type { GroupLeasePort, StateStorePort } from '../../ports/state-store.ts';
import type { CloudMapWrites, ElbWrites, RecordedWrite, WriteMode, WritePort } from '../../ports/writes.ts';
import { AwsAutoScaling } from './autoscaling.ts';
import type { ApiBudget } from './budget.ts';
import { AwsCloudMap } from './cloudmap.ts';
import { AwsDelayQueue } from './delay-queue.ts';
import { AwsDynamoGroupLeases, DRY_RUN_LEDGER } from './dynamo-group-leases.ts';
import { AwsDynamoStateStore } from './dynamo-state-store.ts';
import { AwsElbv2 } from './elbv2.ts';
import { AwsEventBus } from './event-bus.ts';
import { AwsOneTimeScheduler } from './one-time-scheduler.ts';
import { clientForWrites, WriteRecorder } from './recording.ts';

/** The clients writes can go through (an `AwsClients` has them all; Scheduler is read only on first use). */
export interface WriteClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly serviceDiscovery: ServiceDiscoveryClient;
  readonly autoScaling: AutoScalingClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
  readonly scheduler: SchedulerClient;
}

/** Options of {@link createWritePort}. */
export interface WritePortOptions {
  readonly mode: WriteMode;
  readonly clients: WriteClients;
  readonly budget: ApiBudget;
  /** Where recorded writes go (recording mode; one is made when absent). */
  readonly recorder?: WriteRecorder;
  /**
   * Recording mode only: the group leases are not recorded but taken for real, in the dry-run ledger
   * (its own keys in the state table: dynamo-group-leases.ts DRY_RUN_LEDGER). What a deployed dry run
   * (DRY_RUN) gets; `quiesce plan` and the CLI's --dry-run do not (they write nothing at all).
   */
  readonly dryRunLedger?: boolean;
}

/** Memoises one section per key. */
function perKey<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let v = made.get(key);
    if (v === undefined) {
      v = make(key);
      made.set(key, v);
    }
    return v;
  };
}

/** Builds the write port of a container. */
export function createWritePort(options: WritePortOptions): WritePort {
  const { mode, clients, budget } = options;
  const recorder = options.recorder ?? new WriteRecorder();
  const through = <C extends { send(command: never, ...rest: never[]): Promise<unknown> }>(live: () => C, service: string): (() => C) => {
    let c: C | undefined;
    return () => (c ??= clientForWrites(mode, recorder, live(), service));
  };
  const elbClient = through(() => clients.elbv2, 'elasticloadbalancing');
  const cloudMapClient = through(() => clients.serviceDiscovery, 'servicediscovery');
  const autoScalingClient = through(() => clients.autoScaling, 'autoscaling');
  const sqsClient = through(() => clients.sqs, 'sqs');
  const dynamoClient = through(() => clients.dynamodb, 'dynamodb');
  const eventsClient = through(() => clients.eventBridge, 'events');
  const schedulerClient = through(() => clients.scheduler, 'scheduler');

  let elbv2: ElbWrites | undefined;
  let cloudMap: CloudMapWrites | undefined;
  let autoscaling: AutoScalingPort | undefined;
  // Each maker is named as its callers name the section (`store.get`, `scheduler.cancel`, `bus.publish`):
  // test/deliverables/sdk-calls.ts attributes a method with a common name by its receiver's name.
  const queue = (url: string): DelayQueuePort => new AwsDelayQueue(sqsClient(), budget, url);
  const scheduler = (key: string): OneTimeSchedulerPort => new AwsOneTimeScheduler(schedulerClient(), budget, JSON.parse(key) as ScheduleTarget);
  const store = (table: string): StateStorePort => new AwsDynamoStateStore(dynamoClient(), budget, table);
  const lease = (table: string): GroupLeasePort =>
    mode === 'recording' && options.dryRunLedger ? new AwsDynamoGroupLeases(clients.dynamodb, budget, table, DRY_RUN_LEDGER) : new AwsDynamoGroupLeases(dynamoClient(), budget, table);
  // The shared ELB budget's leases and pod-events' claims: live, the state store; recording, the dry-run
  // ledger's keys, written for real by a deployed dry run (dryRunLedger) and recorded by the CLI's runs.
  const coordinating = (table: string): StateStorePort =>
    mode === 'recording' ? new AwsDynamoStateStore(options.dryRunLedger ? clients.dynamodb : dynamoClient(), budget, table, DRY_RUN_LEDGER) : stores(table);
  const bus = (name: string): EventBusPort => new AwsEventBus(eventsClient(), budget, name);
  const queues = perKey(queue);
  const schedulers = perKey(scheduler);
  const stores = perKey(store);
  const leases = perKey(lease);
  const coordination = perKey(coordinating);
  const buses = perKey(bus);
  return {
    mode,
    get elbv2(): ElbWrites {
      return (elbv2 ??= new AwsElbv2(elbClient(), budget));
    },
    get cloudMap(): CloudMapWrites {
      return (cloudMap ??= new AwsCloudMap(cloudMapClient(), budget));
    },
    get autoscaling(): AutoScalingPort {
      return (autoscaling ??= new AwsAutoScaling(autoScalingClient(), budget));
    },
    queue: queues,
    scheduler: (target) => schedulers(JSON.stringify(target, Object.keys(target).sort())),
    stateStore: stores,
    leases,
    coordination,
    bus: buses,
    recorded: (): readonly RecordedWrite[] => (mode === 'recording' ? recorder.records() : []),
  };
}
