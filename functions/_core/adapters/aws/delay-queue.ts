/**
 * Delay-queue port over SQS: a message to ourselves later, instead of a Lambda sleeping while it is billed.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DelayQueuePort } from '../../ports/index.ts';
import type { ApiBudget } from './budget.ts';

/** SQS DelaySeconds bounds: 0 to 900 (15 minutes). */
export const MAX_DELAY_SECONDS = 900;

/** {@link DelayQueuePort} on SQS SendMessage. The body is JSON. */
export class AwsDelayQueue implements DelayQueuePort {
  readonly #client: SQSClient;
  readonly #budget: ApiBudget;
  readonly #queueUrl: string;

  constructor(client: SQSClient, budget: ApiBudget, queueUrl: string) {
    this.#client = client;
    this.#budget = budget;
    this.#queueUrl = queueUrl;
  }

  /**
   * Sends `body` as JSON with DelaySeconds clamped to 0-900 and rounded up: SQS rejects anything outside
   * that range, and a look that comes a little late is harmless while one that never comes is not.
   */
  async sendDelayed(body: unknown, delaySeconds: number): Promise<void> {
    const delay = !Number.isNaN(delaySeconds) ? Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))) : 0;
    await this.#budget.call('sqs', 'SendMessage', () =>
      this.#client.send(new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: delay })),
    );
  }
}
