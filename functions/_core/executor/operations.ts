/**
 * Following Cloud Map operations to their end. DeregisterInstance only submits an operation
 * (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html); the instance stays until
 * it succeeds, and it may end in FAIL. An outcome that stopped at "submitted" would report a registration
 * as gone that is not, and nothing would retry a failed one. So the executor asks GetOperation, with a
 * growing pause, until every operation reached SUCCESS or FAIL or the wait (bounded by the invocation's
 * time) is over; what is still in flight then stays `submitted` and is handed on (the spot trigger's delayed
 * re-check lists the service again; the sweeper's next run sees the instance if it stayed).
 */
import { awsErrorName, CloudMapOperationFailedError, isRetryableAwsError } from '../errors.ts';
import type { CloudMapPort } from '../ports/index.ts';
import type { ActionOutcome } from './executor.ts';

/** How long and how to wait. */
export interface OperationWait {
  /** Stop asking at this epoch ms (the executor bounds it by the invocation's remaining time). */
  readonly until: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** First pause (ms), doubled up to 2 s. */
  readonly firstPauseMs?: number;
}

/** Turns `submitted` outcomes into `deregistered` (SUCCESS), `failed` (FAIL) or leaves them `submitted`. */
export async function followOperations(
  outcomes: readonly ActionOutcome[],
  cloudMap: Pick<CloudMapPort, 'getOperation'>,
  wait: OperationWait,
): Promise<ActionOutcome[]> {
  const out = [...outcomes];
  let open = out.map((o, i) => (o.status === 'submitted' && o.operationId ? i : -1)).filter((i) => i >= 0);
  let pause = wait.firstPauseMs ?? 250;
  // Bounded by the clock AND by the time slept: a clock that does not move (a frozen test clock) must not
  // turn the wait into a loop.
  const budget = wait.until - wait.now();
  let slept = 0;
  while (open.length > 0 && wait.now() + pause <= wait.until && slept + pause <= budget) {
    await wait.sleep(pause);
    slept += pause;
    pause = Math.min(pause * 2, 2000);
    const still: number[] = [];
    for (const i of open) {
      const o = out[i] as ActionOutcome;
      try {
        const op = await cloudMap.getOperation(o.operationId as string);
        if (op.status === 'SUCCESS') out[i] = { ...o, status: 'deregistered' };
        else if (op.status === 'FAIL') {
          const err = new CloudMapOperationFailedError(o.operationId as string, op.errorCode ?? 'UNKNOWN', op.errorMessage ?? '');
          out[i] = { ...o, status: 'failed', error: { name: err.name, message: err.message, retryable: false } };
        } else still.push(i);
      } catch (err) {
        // Cannot ask now (throttled past the budget's retries): it stays in flight, handed on like a slow one.
        // Not allowed to ask (AccessDenied): the outcome is unknown, which is a failure an operator must see.
        if (isRetryableAwsError(err)) still.push(i);
        else out[i] = { ...o, status: 'failed', error: { name: awsErrorName(err), message: `GetOperation ${o.operationId}: ${(err as Error).message}`, retryable: false } };
      }
    }
    open = still;
  }
  return out;
}
