/**
 * Fake Amazon EC2 Auto Scaling (signing name `autoscaling`, awsQuery; the server parses the query into the
 * PascalCase input): pending lifecycle actions (instances in Terminating:Wait) and their completion.
 * A pending action ends by CompleteLifecycleAction or, as the FakeClock advances, by its heartbeat timeout
 * (then with the hook's default result).
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';

export interface LifecycleActionSeed {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  instanceId: string;
  /** Seconds until the action times out without a heartbeat; default 3600 (the hook default). */
  heartbeatTimeoutSeconds?: number;
  /** The result applied on timeout; default ABANDON (the hook default). */
  defaultResult?: 'CONTINUE' | 'ABANDON';
}

export interface CompletedLifecycleAction {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  instanceId: string;
  result: 'CONTINUE' | 'ABANDON';
  /** Fake epoch milliseconds. */
  completedAt: number;
  /** True when the heartbeat timeout ended the action, not a CompleteLifecycleAction call. */
  timedOut: boolean;
}

interface Pending extends Required<LifecycleActionSeed> {
  expiresAt: number;
  heartbeats: number;
}

function validationError(message: string): FakeAwsError {
  // awsQuery services report input problems as ValidationError (HTTP 400).
  return new FakeAwsError('ValidationError', message, 400);
}

export class FakeAutoScaling implements FakeService {
  readonly signingName = 'autoscaling';

  readonly #clock: FakeClock;
  #pending: Pending[] = [];
  #completed: CompletedLifecycleAction[] = [];

  constructor(clock: FakeClock) {
    this.#clock = clock;
    clock.onAdvance((now) => this.#expire(now));
  }

  reset(): void {
    this.#pending = [];
    this.#completed = [];
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    this.#expire(this.#clock.now());
    switch (operation) {
      case 'CompleteLifecycleAction':
        return this.#complete(input);
      case 'RecordLifecycleActionHeartbeat':
        return this.#heartbeat(input);
      default:
        throw new UnknownOperationError('InvalidAction', `The action ${operation} is not valid for this web service.`, 400);
    }
  }

  // ---- JS helpers ----------------------------------------------------------------------------------------

  /** An instance waits in Terminating:Wait for this lifecycle action. */
  seedLifecycleAction(seed: LifecycleActionSeed): void {
    const heartbeatTimeoutSeconds = seed.heartbeatTimeoutSeconds ?? 3600;
    this.#pending.push({
      ...seed,
      heartbeatTimeoutSeconds,
      defaultResult: seed.defaultResult ?? 'ABANDON',
      expiresAt: this.#clock.now() + heartbeatTimeoutSeconds * 1000,
      heartbeats: 0,
    });
  }

  /** Lifecycle actions that ended, in order, with their results. */
  completed(): CompletedLifecycleAction[] {
    this.#expire(this.#clock.now());
    return [...this.#completed];
  }

  /** Lifecycle actions still waiting. */
  pendingActions(): Array<LifecycleActionSeed & { heartbeats: number; expiresAt: number }> {
    this.#expire(this.#clock.now());
    return this.#pending.map((p) => ({ ...p }));
  }

  // ---- operations ----------------------------------------------------------------------------------------

  #find(input: Record<string, unknown>): Pending {
    const group = input.AutoScalingGroupName;
    const hook = input.LifecycleHookName;
    if (typeof group !== 'string' || group === '') throw validationError('AutoScalingGroupName is required');
    if (typeof hook !== 'string' || hook === '') throw validationError('LifecycleHookName is required');
    const token = typeof input.LifecycleActionToken === 'string' ? input.LifecycleActionToken : undefined;
    const instanceId = typeof input.InstanceId === 'string' ? input.InstanceId : undefined;
    // "You must specify either LifecycleActionToken or InstanceId."
    if (token === undefined && instanceId === undefined) {
      throw validationError('Either the lifecycle action token or the instance ID must be specified');
    }
    const found = this.#pending.find(
      (p) =>
        p.autoScalingGroupName === group &&
        p.lifecycleHookName === hook &&
        (token === undefined || p.lifecycleActionToken === token) &&
        (instanceId === undefined || p.instanceId === instanceId),
    );
    if (!found) {
      // The message AWS returns, e.g. "No active Lifecycle Action found with token f66c3d47-..." or
      // "... with instance ID i-09c7205a117f0d09a".
      throw validationError(
        token !== undefined
          ? `No active Lifecycle Action found with token ${token}`
          : `No active Lifecycle Action found with instance ID ${instanceId ?? ''}`,
      );
    }
    return found;
  }

  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
  #complete(input: Record<string, unknown>): unknown {
    const result = input.LifecycleActionResult;
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw validationError(`Invalid LifecycleActionResult ${String(result)}: must be CONTINUE or ABANDON`);
    }
    const p = this.#find(input);
    this.#end(p, result, false, this.#clock.now());
    return {};
  }

  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html
  #heartbeat(input: Record<string, unknown>): unknown {
    const p = this.#find(input);
    p.heartbeats += 1;
    p.expiresAt = this.#clock.now() + p.heartbeatTimeoutSeconds * 1000;
    return {};
  }

  #end(p: Pending, result: 'CONTINUE' | 'ABANDON', timedOut: boolean, at: number): void {
    this.#pending = this.#pending.filter((x) => x !== p);
    this.#completed.push({
      autoScalingGroupName: p.autoScalingGroupName,
      lifecycleHookName: p.lifecycleHookName,
      lifecycleActionToken: p.lifecycleActionToken,
      instanceId: p.instanceId,
      result,
      completedAt: at,
      timedOut,
    });
  }

  /** https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (heartbeat timeout) */
  #expire(now: number): void {
    for (const p of [...this.#pending].sort((a, b) => a.expiresAt - b.expiresAt)) {
      if (p.expiresAt <= now) this.#end(p, p.defaultResult, true, p.expiresAt);
    }
  }
}
