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
