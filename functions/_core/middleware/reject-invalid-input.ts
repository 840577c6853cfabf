/**
 * Middy middleware: bad input gets a clear, typed, logged rejection and touches nothing. An
 * `InvalidEventError` or `OutOfScopeError` escaping the handler becomes a `{ status: 'rejected' }` result
 * instead of an error, so Lambda and EventBridge do not retry it into a crash loop; it is logged at WARN and
 * published on the audit bus. Every other error propagates (and is retried) as it should.
 */
import type { MiddlewareObj } from '@middy/core';
import type { AuditSink } from '../audit.ts';
import { InvalidEventError, OutOfScopeError } from '../errors.ts';
import type { Logger } from '../telemetry.ts';

/** What a rejected invocation returns. */
export interface RejectedResult {
  readonly status: 'rejected';
  readonly error: string;
  readonly message: string;
  readonly field?: string;
}

/** Creates the middleware; `audit` is resolved lazily because dependencies are built on first use. */
export function rejectInvalidInput(logger: Logger, audit: () => AuditSink | undefined): MiddlewareObj<unknown, unknown> {
  return {
    onError: async (request) => {
      const err = request.error;
      if (!(err instanceof InvalidEventError) && !(err instanceof OutOfScopeError)) return;
      const result: RejectedResult = {
        status: 'rejected',
        error: err.name,
        message: err.message,
        ...(err instanceof InvalidEventError && err.field ? { field: err.field } : {}),
      };
      // `reason`, not `message`: the Logger drops its reserved keys (telemetry.ts), and with it the why.
      logger.warn('event rejected', { error: result.error, reason: result.message, ...(result.field ? { field: result.field } : {}) });
      await audit()?.rejected({ ...result });
      request.response = result;
      request.error = null;
    },
  };
}
