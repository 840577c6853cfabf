/**
 * One-time schedules: the durable pause between two steps of a traffic shift. The state of the shift
 * travels inside the schedule, so nothing waits in a billed Lambda, a cold start loses nothing, and an
 * operator sees the next step (and can delete it) in the EventBridge Scheduler console.
 */

/** A step to deliver later, as an event on the bus quiesce listens to. */
export interface OneTimeSchedule {
  /** Unique per step: a second create with the same name is the same step (idempotent). */
  readonly name: string;
  /** When to deliver (rounded up to the next second: Scheduler's `at()` has second granularity). */
  readonly at: Date;
  readonly detailType: string;
  readonly detail: unknown;
  readonly description?: string;
}

/**
 * Where one-time schedules go and what they may do: a schedule group and exactly one target, the event bus
 * quiesce listens to or the node-signal queue.
 */
export interface ScheduleTarget {
  /** Schedule group (default `default`). */
  readonly groupName?: string;
  /** ARN of the event bus the schedule puts its event on, or of the SQS queue it sends the envelope to. */
  readonly eventBusArn?: string;
  readonly queueArn?: string;
  /** Role Scheduler assumes to call events:PutEvents on that bus or sqs:SendMessage to that queue (and to send to the dead-letter queue). */
  readonly roleArn: string;
  /**
   * SQS queue for a schedule whose delivery failed every retry: a step that could not be delivered must be
   * seen (its alarm), not lost. Unset = Scheduler's own retries only.
   */
  readonly deadLetterArn?: string;
}

/** Creates and cancels one-time schedules. */
export interface OneTimeSchedulerPort {
  /** Creates the schedule; `exists` when one of that name is already there (a duplicate delivery). */
  scheduleOnce(schedule: OneTimeSchedule): Promise<'created' | 'exists'>;
  /** Deletes a pending schedule; a schedule that is already gone is not an error. */
  cancel(name: string): Promise<void>;
}
