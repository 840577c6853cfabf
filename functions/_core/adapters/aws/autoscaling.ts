/**
 * Auto Scaling port over the SDK: finishing the terminate lifecycle hook.
 */
import { CompleteLifecycleActionCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { AutoScalingPort } from '../../ports/index.ts';
import type { ApiBudget } from './budget.ts';

/**
 * {@link AutoScalingPort} on the SDK. Completing the hook promptly is what lets the ASG finish the
 * termination once quiesce has taken the node's endpoints out, instead of waiting for the heartbeat timeout.
 */
export class AwsAutoScaling implements AutoScalingPort {
  readonly #client: AutoScalingClient;
  readonly #budget: ApiBudget;

  constructor(client: AutoScalingClient, budget: ApiBudget) {
    this.#client = client;
    this.#budget = budget;
  }

  /** CompleteLifecycleAction; the token is sent when known, the instance id always (either identifies it). */
  async completeLifecycleAction(input: {
    autoScalingGroupName: string;
    lifecycleHookName: string;
    lifecycleActionToken?: string;
    instanceId: string;
    result: 'CONTINUE' | 'ABANDON';
  }): Promise<void> {
    await this.#budget.call('autoscaling', 'CompleteLifecycleAction', () =>
      this.#client.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: input.autoScalingGroupName,
          LifecycleHookName: input.lifecycleHookName,
          InstanceId: input.instanceId,
          LifecycleActionResult: input.result,
          ...(input.lifecycleActionToken !== undefined ? { LifecycleActionToken: input.lifecycleActionToken } : {}),
        }),
      ),
    );
  }
}
