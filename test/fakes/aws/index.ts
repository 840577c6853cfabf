/**
 * The fake AWS facade: one loopback server speaking the real wire protocols, one stateful fake per API, one
 * explicit clock, a call log and a fault injector. Point SDK v3 clients at `endpoint` (see shared.ts).
 *
 *   const aws = new FakeAws();
 *   const { endpoint } = await aws.start();
 *   const tg = aws.elbv2.seedTargetGroup({ name: 'web', targets: [{ id: '10.0.1.5' }] });
 *   ...
 *   aws.clock.advance(300_000);        // draining ends
 *   aws.calls.count('elasticloadbalancing', 'DeregisterTargets');
 *   await aws.stop();
 */
import { FakeClock } from './core.ts';
import type { FakeService } from './core.ts';
import { FakeAwsServer, inProcessHandler } from './server.ts';
import type { CallLog, FaultInjector } from './server.ts';
import type { ScheduleInvocation } from './scheduler.ts';
import { FakeElbv2 } from './elbv2.ts';
import { FakeEc2 } from './ec2.ts';
import { FakeCloudMap } from './cloud-map.ts';
import { FakeEventBridge } from './events.ts';
import { FakeSqs } from './sqs.ts';
import { FakeAutoScaling } from './autoscaling.ts';
import { FakeEks } from './eks.ts';
import { FakeSts } from './sts.ts';
import { FakeSsm } from './ssm.ts';
import { FakeScheduler } from './scheduler.ts';
import { FakeDynamoDb } from './dynamodb.ts';
import { FakeIam } from './iam.ts';
import { FakeIamApi } from './iam-api.ts';
import { FakeLogs } from './logs.ts';
import { FakeEventRouting } from './event-rules.ts';

export { FakeAwsError, FakeClock, UnknownOperationError } from './core.ts';
export { OPERATIONS, isWriteOperation } from './operations.ts';
export type { OperationKind } from './operations.ts';
export type { FakeService, RequestCaller, RestRoute } from './core.ts';
export { FakeIam, SNS_SENDER_ID, EVENTBRIDGE_SENDER_ID, DEFAULT_ROLE } from './iam.ts';
export { FakeIamApi, type FakeRole } from './iam-api.ts';
export { FakeLogs } from './logs.ts';
export { FakeEventRouting, patternMatches } from './event-rules.ts';
export type { FakePrincipal, FakeServiceSender } from './iam.ts';
export { FakeAwsServer, CallLog, FaultInjector, inProcessHandler, throttlingErrorFor } from './server.ts';
export type { CallRecord, FaultScope } from './server.ts';
export type { ScheduleInvocation, ScheduleTarget } from './scheduler.ts';

export class FakeAws {
  readonly clock: FakeClock;
  readonly elbv2: FakeElbv2;
  readonly ec2: FakeEc2;
  readonly cloudMap: FakeCloudMap;
  readonly events: FakeEventBridge;
  readonly sqs: FakeSqs;
  readonly autoscaling: FakeAutoScaling;
  readonly eks: FakeEks;
  readonly sts: FakeSts;
  readonly ssm: FakeSsm;
  readonly scheduler: FakeScheduler;
  readonly dynamodb: FakeDynamoDb;
  /** Who signs: access key ids -> IAM principals (SQS SenderId, resource policies). */
  readonly iam: FakeIam;
  /** The IAM API: roles as the stack deploys them, and the policy simulator. */
  readonly iamApi: FakeIamApi;
  /** CloudWatch Logs: the audit log group EventBridge delivers to, read by `quiesce audit`. */
  readonly logs: FakeLogs;
  /** The event buses' rules, targets and archives (EventBridge API operations, and `archived(name)`). */
  readonly eventRouting: FakeEventRouting;
  readonly #server = new FakeAwsServer();
  readonly #services: FakeService[];

  constructor(clock: FakeClock = new FakeClock()) {
    this.clock = clock;
    this.iam = new FakeIam();
    this.iamApi = new FakeIamApi(clock, this.iam);
    this.logs = new FakeLogs(clock);
    this.eventRouting = new FakeEventRouting(clock, this.logs);
    this.elbv2 = new FakeElbv2(clock);
    this.ec2 = new FakeEc2(clock);
    this.cloudMap = new FakeCloudMap(clock);
    this.events = new FakeEventBridge(clock, this.iam);
    this.events.routeWith(this.eventRouting);
    this.sqs = new FakeSqs(clock, this.iam);
    this.autoscaling = new FakeAutoScaling(clock);
    this.eks = new FakeEks(clock);
    this.sts = new FakeSts(clock, this.iam, this.iamApi);
    this.ssm = new FakeSsm(clock);
    this.scheduler = new FakeScheduler(clock);
    this.dynamodb = new FakeDynamoDb(clock);
    this.#services = [this.elbv2, this.ec2, this.cloudMap, this.events, this.sqs, this.autoscaling, this.eks, this.sts, this.ssm, this.scheduler, this.dynamodb, this.iamApi, this.logs];
    for (const s of this.#services) this.#server.register(s);
  }

  /**
   * Fires the due one-time schedules (`scheduler.fireDue`) and delivers those whose target is an SQS queue
   * of this fake as Scheduler does: SendMessage of the target's Input, signed with a session of the
   * target's RoleArn (so the message's SenderId is that role's; the session name Scheduler uses is not
   * documented, the fake says `scheduler`). Returns the other invocations (EventBridge targets) for the
   * caller to deliver; a send the queue's policy refuses throws AccessDenied.
   */
  deliverDueSchedules(): ScheduleInvocation[] {
    const others: ScheduleInvocation[] = [];
    for (const inv of this.scheduler.fireDue()) {
      const queue = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]{1,80})$/.exec(inv.target.Arn)?.[1];
      if (queue === undefined) {
        others.push(inv);
        continue;
      }
      this.sqs.sendAs(this.iam.assumeRole(inv.target.RoleArn, 'scheduler'), `${this.sqs.urlBase}/${queue}`, inv.target.Input ?? '{}');
    }
    return others;
  }

  /** Every API call the server answered (service = signing name). */
  get calls(): CallLog {
    return this.#server.calls;
  }

  get faults(): FaultInjector {
    return this.#server.faults;
  }

  /** An SDK `requestHandler` that reaches this fake without a socket (see `inProcessHandler`). */
  requestHandler(): ReturnType<typeof inProcessHandler> {
    return inProcessHandler(this.#server);
  }

  /** `http://127.0.0.1:<port>`; throws before start(). */
  get endpoint(): string {
    return this.#server.endpoint;
  }

  /** Starts the loopback server on a random port (idempotent). */
  async start(): Promise<{ endpoint: string }> {
    const started = await this.#server.start();
    // Queue URLs name the host the SDK sends to (it prefers the QueueUrl host over the client endpoint),
    // so they must point at this server, as LocalStack's do.
    this.sqs.urlBase = `${started.endpoint}/123456789012`;
    return started;
  }

  async stop(): Promise<void> {
    await this.#server.stop();
  }

  /** Loads the SDK schemas of the given APIs now (client-ec2 is big) so the first call is not slow. */
  async preload(...signingNames: string[]): Promise<void> {
    for (const n of signingNames) await this.#server.preload(n);
  }

  /** Empties every service, rewinds the clock, clears faults and the call log. */
  reset(): void {
    for (const s of this.#services) s.reset();
    this.iam.reset();
    this.eventRouting.reset();
    this.clock.reset();
    this.#server.faults.reset();
    this.#server.calls.clear();
  }
}
