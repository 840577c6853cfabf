/**
 * One-time schedules over EventBridge Scheduler: `at()` schedules whose target is the event bus, so the
 * step arrives as an ordinary event (visible, archivable, routed by the same rule as "Deployment Synced"),
 * or an SQS queue (a scheduled change's deregistration, due on the node-signal queue the spot function
 * reads): the message body is then the event's envelope (source, detail-type, detail), parsed like any other.
 * ActionAfterCompletion DELETE keeps the group from filling up with spent schedules.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html (EventBridge and SQS targets)
 */
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { awsErrorName } from '../../errors.ts';
import { QUIESCE_SOURCE } from '../../contracts/node-events.ts';
import type { OneTimeSchedule, OneTimeSchedulerPort, ScheduleTarget } from '../../ports/scheduler.ts';
import type { ApiBudget } from './budget.ts';

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next whole second. */
export function atExpression(at: Date): string {
  const ms = Math.ceil(at.getTime() / 1000) * 1000;
  return `at(${new Date(ms).toISOString().slice(0, 19)})`;
}

/** {@link OneTimeSchedulerPort} on EventBridge Scheduler. */
export class AwsOneTimeScheduler implements OneTimeSchedulerPort {
  readonly #client: SchedulerClient;
  readonly #budget: ApiBudget;
  readonly #options: ScheduleTarget;

  constructor(client: SchedulerClient, budget: ApiBudget, options: ScheduleTarget) {
    if ((options.eventBusArn === undefined) === (options.queueArn === undefined)) throw new Error('AwsOneTimeScheduler: exactly one of eventBusArn and queueArn');
    this.#client = client;
    this.#budget = budget;
    this.#options = options;
  }

  /** CreateSchedule; a ConflictException (the name exists) means this step is already scheduled. */
  async scheduleOnce(s: OneTimeSchedule): Promise<'created' | 'exists'> {
    try {
      await this.#budget.call('scheduler', 'CreateSchedule', () =>
        this.#client.send(
          new CreateScheduleCommand({
            Name: s.name,
            GroupName: this.#options.groupName ?? 'default',
            ScheduleExpression: atExpression(s.at),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            ...(s.description !== undefined ? { Description: s.description.slice(0, 512) } : {}),
            Target: {
              RoleArn: this.#options.roleArn,
              ...(this.#options.queueArn !== undefined
                ? { Arn: this.#options.queueArn, Input: JSON.stringify({ source: QUIESCE_SOURCE, 'detail-type': s.detailType, detail: s.detail }) }
                : { Arn: this.#options.eventBusArn, Input: JSON.stringify(s.detail), EventBridgeParameters: { DetailType: s.detailType, Source: QUIESCE_SOURCE } }),
              // A step is worth delivering late, not never: retry for an hour, then dead-letter it.
              RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 },
              ...(this.#options.deadLetterArn ? { DeadLetterConfig: { Arn: this.#options.deadLetterArn } } : {}),
            },
          }),
        ),
      );
      return 'created';
    } catch (err) {
      if (awsErrorName(err) === 'ConflictException') return 'exists';
      throw err;
    }
  }

  /** DeleteSchedule; ResourceNotFoundException (already fired and deleted, or never made) is fine. */
  async cancel(name: string): Promise<void> {
    try {
      await this.#budget.call('scheduler', 'DeleteSchedule', () =>
        this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#options.groupName ?? 'default' })),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
    }
  }
}
