/**
 * Following Cloud Map operations to their end. DeregisterInstance only submits an operation
 * (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html); the instance stays until
 * it succeeds, and it may end in FAIL. An outcome that stopped at "submitted" would report a registration
 * as gone that is not, and nothing would retry a failed one. So the executor asks, with a growing pause,
 * until every operation reached SUCCESS or FAIL or the wait (bounded by the invocation's time) is over; what
 * is still in flight then stays `submitted` and is handed on (the spot trigger's delayed re-check lists the
 * service again; the sweeper's next run sees the instance if it stayed).
 *
 * Few operations are asked one by one (GetOperation); many (a reclaim wave submits hundreds) through
 * ListOperations filtered by type and update date, a page of 100 statuses per call, and GetOperation only
 * for those that FAILed (ListOperations does not say why).
 */
import { mapWithConcurrency } from '../concurrency.ts';
import { awsErrorName, CloudMapOperationFailedError, isRetryableAwsError } from '../errors.ts';
import type { CloudMapOperation, CloudMapPort } from '../ports/index.ts';
import type { ActionOutcome } from './outcomes.ts';

/** How long and how to wait. */
export interface OperationWait {
  /** Stop asking at this epoch ms (the executor bounds it by the invocation's remaining time). */
  readonly until: number;
  /** When the first of these operations was submitted (the ListOperations date filter starts there). */
  readonly since: Date;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** First pause (ms), doubled up to 2 s. */
  readonly firstPauseMs?: number;
}

/** More open operations than this are asked through ListOperations. */
const ONE_BY_ONE = 4;

type Status = { readonly status: CloudMapOperation['status'] } | { readonly error: unknown };

async function statusOne(cloudMap: Pick<CloudMapPort, 'getOperation'>, id: string): Promise<Status & Partial<CloudMapOperation>> {
  try {
    return await cloudMap.getOperation(id);
  } catch (error) {
    return { error };
  }
}

/** Turns `submitted` outcomes into `deregistered` (SUCCESS), `failed` (FAIL) or leaves them `submitted`. */
export async function followOperations(
  outcomes: readonly ActionOutcome[],
  cloudMap: Pick<CloudMapPort, 'getOperation' | 'recentOperationStatuses'>,
  wait: OperationWait,
): Promise<ActionOutcome[]> {
  const out = [...outcomes];
  let open = out.map((o, i) => (o.status === 'submitted' && o.operationId ? i : -1)).filter((i) => i >= 0);
  let pause = wait.firstPauseMs ?? 500;
  // Bounded by the clock AND by the time slept: a clock that does not move (a frozen test clock) must not
  // turn the wait into a loop.
  const budget = wait.until - wait.now();
  let slept = 0;
  while (open.length > 0 && wait.now() + pause <= wait.until && slept + pause <= budget) {
    await wait.sleep(pause);
    slept += pause;
    pause = Math.min(pause * 2, 2000);
    let listed: Map<string, CloudMapOperation['status']> | undefined;
    if (open.length > ONE_BY_ONE) listed = await cloudMap.recentOperationStatuses('DEREGISTER_INSTANCE', wait.since).catch(() => undefined);
    const answers = await mapWithConcurrency(open, 8, async (i): Promise<Status & Partial<CloudMapOperation>> => {
      const id = (out[i] as ActionOutcome).operationId as string;
      const seen = listed?.get(id);
      // Listed and still running, or listed SUCCESS: no need to ask again; FAIL or unlisted: ask for details.
      if (seen === 'SUCCESS' || seen === 'SUBMITTED' || seen === 'PENDING') return { status: seen };
      return statusOne(cloudMap, id);
    });
    const still: number[] = [];
    open.forEach((i, k) => {
      const o = out[i] as ActionOutcome;
      const a = answers[k] as Status & Partial<CloudMapOperation>;
      if ('error' in a) {
        // Cannot ask now (throttled past the budget's retries): it stays in flight, handed on like a slow one.
        // Not allowed to ask (AccessDenied): the outcome is unknown, which is a failure an operator must see.
        if (isRetryableAwsError(a.error)) still.push(i);
        else out[i] = { ...o, status: 'failed', error: { name: awsErrorName(a.error), message: `GetOperation ${o.operationId}: ${(a.error as Error).message}`, retryable: false } };
      } else if (a.status === 'SUCCESS') out[i] = { ...o, status: 'deregistered' };
      else if (a.status === 'FAIL') {
        const err = new CloudMapOperationFailedError(o.operationId as string, a.errorCode ?? 'UNKNOWN', a.errorMessage ?? '');
        out[i] = { ...o, status: 'failed', error: { name: err.name, message: err.message, retryable: false } };
      } else still.push(i);
    });
    open = still;
  }
  return out;
}
