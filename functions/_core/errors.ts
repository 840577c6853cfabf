/**
 * Named error classes. Every rejection quiesce makes is one of these, so that logs, audit events and tests
 * can tell "bad input, nothing was touched" from "AWS throttled us, try again" without parsing messages.
 */

/** Base class: carries whether retrying the same input could succeed. */
export class QuiesceError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** The event is not one quiesce understands (malformed JSON, missing fields, unknown detail-type). Never retried. */
export class InvalidEventError extends QuiesceError {
  /** Where in the event the problem is, e.g. `detail.instance-id`. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message, { retryable: false });
    this.field = field;
  }
}

/**
 * A message claims to be quiesce's own (a re-registration check, a scheduled change's due message) but
 * was not written by a sender allowed to write it (SQS SenderId), or arrived inside an SNS envelope, or by
 * a direct invocation. A forgery or a replay by someone else: refused, audited, never retried.
 */
export class UntrustedSenderError extends InvalidEventError {
  /** The SenderId the message carried (undefined: none, or not delivered by SQS). */
  readonly senderId: string | undefined;
  constructor(message: string, field: string, senderId?: string) {
    super(message, field);
    this.senderId = senderId;
  }
}

/** The event names an instance that does not exist, or is not a node of the configured cluster. Never retried. */
export class OutOfScopeError extends QuiesceError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** Configuration from the environment could not be parsed. Stops a run before any AWS call. */
export class ConfigError extends QuiesceError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`, { retryable: false });
    this.variable = variable;
  }
}

/** Part of a plan could not be applied. `retryable` is true when another attempt could finish it. */
export class ApplyError extends QuiesceError {
  readonly failed: number;
  constructor(message: string, failed: number, retryable: boolean) {
    super(message, { retryable });
    this.failed = failed;
  }
}

/** A guard refused a whole plan (e.g. it would empty a target group). */
export class GuardRefusedError extends QuiesceError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * The state table behind the guard across writers could not be reached (or answered nonsense). quiesce
 * fails safe: nothing is written without the lease, and the work is retried.
 */
export class CoordinationUnavailableError extends QuiesceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: true, cause });
  }
}

/** Another writer held a group's lease for longer than the executor waits: retried, never written blind. */
export class LeaseBusyError extends QuiesceError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/**
 * A Cloud Map operation ended in FAIL (GetOperation `ErrorCode`, e.g. ACCESS_DENIED, INTERNAL_FAILURE): the
 * instance is still registered. Counted as a permanent failure, so the invocation fails and alarms.
 */
export class CloudMapOperationFailedError extends QuiesceError {
  readonly errorCode: string;
  constructor(operationId: string, errorCode: string, errorMessage: string) {
    super(`Cloud Map operation ${operationId} ended in FAIL (${errorCode}): ${errorMessage}`, { retryable: false });
    this.errorCode = errorCode;
  }
}

/** The name AWS gave an error (SDK v3 sets `name` to the error code), or the JS name. */
export function awsErrorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') return err.name;
  return 'Error';
}

/** Error codes AWS uses for throttling across the APIs quiesce calls. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** True for throttling errors of any of the APIs quiesce calls. */
export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err));
}

/**
 * True for errors that a prompt retry of the same call can cure: throttling, 5xx, network. The ApiBudget
 * retries exactly these (with backoff); nothing else is retried at the call level.
 */
export function isTransientAwsError(err: unknown): boolean {
  if (isThrottling(err)) return true;
  const e = err as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e?.$retryable) return true;
  return (
    ['ServiceUnavailable', 'InternalFailure', 'InternalError', 'TimeoutError', 'RequestTimeout'].includes(awsErrorName(err)) ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e?.code ?? '')
  );
}

/**
 * True when work that failed with this error is worth another attempt later: transient errors, a Cloud Map
 * DuplicateRequest (an operation on the same instance is still in flight: the executor waits it out), and
 * quiesce's own retryable errors. Decides whether an invocation fails so that it is retried.
 */
export function isRetryableAwsError(err: unknown): boolean {
  if (err instanceof QuiesceError) return err.retryable;
  return isTransientAwsError(err) || awsErrorName(err) === 'DuplicateRequest';
}
