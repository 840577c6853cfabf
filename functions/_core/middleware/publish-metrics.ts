/**
 * Middy middleware: flushes Powertools metrics (EMF) after every invocation, success or failure, and only
 * when there is something to flush: an ignored event records no metric and should print nothing.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Metrics } from '../telemetry.ts';

/** Creates the middleware for one function's metrics object. */
export function publishMetrics(metrics: Metrics): MiddlewareObj<unknown, unknown> {
  const flush = async (): Promise<void> => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
