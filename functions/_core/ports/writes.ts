/**
 * The write side: every AWS write quiesce makes goes through one port, so "dry run" is not a flag each
 * stage checks but a choice the wiring makes once, per container: the live port (the AWS adapters, through
 * the container's one `ApiBudget`) or the recording port (the same adapters over clients that record each
 * write's request and answer as a successful write would, sending nothing). Stages never ask which one they
 * have: a stage that schedules a re-check, completes a lifecycle hook or remembers a scheduled change does
 * so in both, and in a dry run that write is recorded instead of sent.
 *
 * What is a write here (through this port):
 * - ELB DeregisterTargets and ModifyRule; Cloud Map DeregisterInstance; Auto Scaling CompleteLifecycleAction;
 * - SQS SendMessage to the node-signal queue (re-check rounds, a scheduled change's due message);
 * - EventBridge Scheduler CreateSchedule / DeleteSchedule of one-time schedules;
 * - DynamoDB PutItem / UpdateItem / DeleteItem of the state table: the state store (claims, locks, remembered
 *   weights and scheduled changes, the sweeper's pace and cursor, the cached scope, the registration index,
 *   the node scan log), the group leases with their ledgers, and the other records that coordinate
 *   concurrent invocations (pod-events' claims by pod uid, the shared ELB budget's leases);
 * - EventBridge PutEvents of events that start or announce work: "Deployment Synced" (it starts a shift) and
 *   the traffic shift's lifecycle events (Started, Step Applied, Completed, Aborted, Refused): published in a
 *   dry run, they would start a shift or announce a weight change that never happened.
 *
 * What is not:
 * - The audit records ("Deregistration Plan Applied", "Event Rejected") are telemetry: they say what was
 *   planned and done, including `dryRun: true`, and change nothing. A trigger in dry run still publishes
 *   them (that is how operators watch dry-run plans). `quiesce plan` publishes nothing at all: the CLI wires
 *   the recording port and an audit sink that only logs.
 * - Two items of the state table are telemetry too, written live in a dry run: pod-events' heartbeat of the
 *   forwarder's last publish (`forwarder#<cluster>`, adapters/aws/forwarder-heartbeat.ts) and the sweeper's
 *   deadline for its next completed sweep (`sweep-done#<cluster>`, sweeper/completion.ts). Recorded instead,
 *   `quiesce doctor` would find a dry-run stage's forwarder silent and its sweeper overdue: the two things
 *   they exist to tell would be false exactly while the stage is being proved. The CLI writes neither.
 * - SQS ChangeMessageVisibility of the record being processed (the retry delay of a failed input): that is
 *   the function's handling of its own input, like the event source's DeleteMessage, not an effect of a
 *   plan. A dry-run function still has to pace the retries of the inputs it failed, and `quiesce plan` has
 *   no queue input, so it stays on the live SQS client (functions/_core/adapters/aws/queue-visibility.ts).
 *
 * The recording port answers the reads that confirm its own writes from what it recorded: where a Cloud
 * Map operation it "submitted" stands (SUCCESS), a rule it "modified" (the recorded actions), an item of the
 * state table it "wrote" (and so the group leases). A workflow that writes and then confirms (follows the
 * operation, verifies the weights, finds its own lock) therefore runs its live path in a dry run too. Every
 * other read is live, so a dry run sees the account as it is, not as its own deregistrations would leave it.
 *
 * The group leases are a section of their own (`leases(table)`) so that the wiring can give a dry run a
 * ledger of its own in the state table (under its own keys, so that a dry run proves its IAM grants and
 * cannot block a live writer) without touching the rest of the recording port. The other records by which
 * concurrent invocations coordinate (pod-events' claims by pod uid, the shared ELB budget's leases) are a
 * section too (`coordination(table)`), kept in the same ledger: a dry run's claims and leases never meet a
 * live invocation's, in either direction.
 */
import type { AutoScalingPort, CloudMapPort, DelayQueuePort, Elbv2Port, EventBusPort } from './index.ts';
import type { OneTimeSchedulerPort, ScheduleTarget } from './scheduler.ts';
import type { GroupLeasePort, StateStorePort } from './state-store.ts';

/** Which implementation the wiring chose: writes sent to AWS, or recorded and answered as successful. */
export type WriteMode = 'live' | 'recording';

/**
 * ELB writes, and the read that confirms a rule write: `describeRules` shows a rule as this port left it
 * (live: as ELB shows it now; recording: with the actions it recorded).
 */
export type ElbWrites = Pick<Elbv2Port, 'deregisterTargets' | 'modifyRuleActions' | 'describeRules'>;

/**
 * Cloud Map writes, and where the operations they submitted stand (an operation id is the write's receipt:
 * live, Cloud Map answers; recording, the operations it recorded have succeeded).
 */
export type CloudMapWrites = Pick<CloudMapPort, 'deregisterInstance' | 'getOperation' | 'recentOperationStatuses'>;

/** One write the recording port did not send: the AWS operation and the request it would have sent. */
export interface RecordedWrite {
  /** The API, by its SigV4 signing name (`elasticloadbalancing`, `servicediscovery`, `dynamodb`, ...). */
  readonly service: string;
  /** The AWS operation (`DeregisterTargets`, `UpdateItem`, ...). */
  readonly operation: string;
  /** The request, in the SDK's shape, exactly as the adapter built it. */
  readonly request: unknown;
  readonly at: Date;
}

/**
 * Every AWS write quiesce makes, by API. The per-resource sections (`queue`, `scheduler`, `stateStore`,
 * `leases`, `bus`) are built for the resource the wiring names (a queue URL, a schedule target, a table, a
 * bus), on the container's one client of that API.
 *
 * A function wires only the sections it writes with: its dependencies take `Pick<WritePort, ...>`, so the
 * signature says what it may change.
 */
export interface WritePort {
  /** Which implementation this is; results and audit records say `dryRun` from it, never from configuration. */
  readonly mode: WriteMode;
  readonly elbv2: ElbWrites;
  readonly cloudMap: CloudMapWrites;
  /** CompleteLifecycleAction. */
  readonly autoscaling: AutoScalingPort;
  /** SendMessage (with a delay) to one queue. */
  queue(queueUrl: string): DelayQueuePort;
  /** CreateSchedule / DeleteSchedule of one-time schedules in one group, delivering to one target. */
  scheduler(target: ScheduleTarget): OneTimeSchedulerPort;
  /** The conditional store on one table; its reads see this port's writes. */
  stateStore(table: string): StateStorePort;
  /** The group leases and ledgers of the guard across writers, on one table. */
  leases(table: string): GroupLeasePort;
  /**
   * The records by which concurrent invocations coordinate, besides the group leases, on one table: the
   * shared ELB budget's leases (state/account-share.ts) and pod-events' claims by pod uid
   * (pod-events/duplicates.ts). Live: the state store. Recording: the state store under the dry-run
   * ledger's keys (`dry-run#share#<bucket>`, `dry-run#podsignal#<uid>#<kind>`), written for real by a
   * deployed dry run (so dry-run invocations coordinate among themselves) and recorded by `quiesce plan`
   * and --dry-run. A dry run therefore never reads a live invocation's lease or claim and never leaves one
   * a live invocation reads: it neither holds back nor is held back by a live one.
   */
  coordination(table: string): StateStorePort;
  /** PutEvents of events that start or announce work (not the audit records: see the module comment). */
  bus(eventBusName: string): EventBusPort;
  /** The writes recorded so far, oldest first (the most recent ones, bounded); always empty when live. */
  recorded(): readonly RecordedWrite[];
}
