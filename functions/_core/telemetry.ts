/**
 * Logging and metrics: Powertools for AWS Lambda (Logger, Metrics). Measured before taking it: both packages
 * bundled and minified add about 34 KB and about 12 ms of fresh-process import on this machine, for
 * structured JSON logs with the Lambda context and CloudWatch EMF metrics we would otherwise hand-roll.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { enterInvocation } from './invocation.ts';

export { MetricUnit };
export type { Logger, Metrics };

/**
 * Middy middleware: every line the function's logger writes during an invocation carries the Lambda context
 * (`cold_start`, `function_name`, `function_arn`, `function_memory_size`, `function_request_id`, and
 * `xray_trace_id` when tracing is on). Keys appended during an invocation are reset after it. Use it first
 * in the chain, with the one logger the handler and its dependencies share. Measured with `npm run bench --
 * bundles`: see the bundle table in docs/benchmarks.md.
 *
 * Powertools reserves the keys `level`, `message`, `sampling_rate`, `service` and `timestamp` and drops
 * them from a line's attributes (with a warning): a line's explanation goes under `reason`, never `message`.
 */
export function logLambdaContext(logger: Logger): ReturnType<typeof injectLambdaContext> {
  const inner = injectLambdaContext(logger, { resetKeys: true });
  // The invocation's remaining time, for the API budget's throttling retries (functions/_core/invocation.ts).
  const leaves = new WeakMap<object, () => void>();
  const leave = (request: unknown): void => {
    leaves.get(request as object)?.();
    leaves.delete(request as object);
  };
  return {
    ...inner,
    before: async (request: { context: unknown }) => {
      leaves.set(request, enterInvocation(request.context));
      return (inner.before as ((r: unknown) => unknown) | undefined)?.(request);
    },
    after: async (request: unknown) => {
      leave(request);
      return (inner.after as ((r: unknown) => unknown) | undefined)?.(request);
    },
    onError: async (request: unknown) => {
      leave(request);
      return (inner.onError as ((r: unknown) => unknown) | undefined)?.(request);
    },
  } as ReturnType<typeof injectLambdaContext>;
}

/** Where and how much a logger writes, when not the Lambda default (stdout/stderr, LOG_LEVEL). */
export interface LoggerOptions {
  /** Level instead of LOG_LEVEL / POWERTOOLS_LOG_LEVEL. */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Every line (one JSON object) goes here instead of stdout/stderr: the CLI's stderr, a test's array. */
  readonly write?: (line: string) => void;
}

/** One logger per function, service name = the trigger; level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL. */
export function createLogger(serviceName: string, options: LoggerOptions = {}): Logger {
  const logger = new Logger({ serviceName, logLevel: (options.logLevel ?? process.env['LOG_LEVEL'] ?? process.env['POWERTOOLS_LOG_LEVEL'] ?? 'INFO') as 'INFO' });
  const write = options.write;
  if (write) {
    const toWrite = (...args: unknown[]): void => write(args.map(String).join(' '));
    // Powertools keeps its Console in a (TypeScript-private) field; replacing it is the least invasive way.
    (logger as unknown as { console: Record<string, (...a: unknown[]) => void> }).console = { log: toWrite, info: toWrite, warn: toWrite, error: toWrite, debug: toWrite, trace: toWrite };
  }
  return logger;
}

/**
 * One metrics object per function, namespace `quiesce` (POWERTOOLS_METRICS_NAMESPACE overrides), every metric
 * with the dimensions `service` (the function) and, when QUIESCE_STAGE is set (the stack sets it), `stage`.
 * Why the stage: several stages share one account (the old and the new cluster of a migration), and a
 * stage's alarms and dashboard must read its own metrics only, not the sum of every stage's.
 */
export function createMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): Metrics {
  const stage = env['QUIESCE_STAGE'];
  return new Metrics({ namespace: env['POWERTOOLS_METRICS_NAMESPACE'] ?? 'quiesce', serviceName, ...(stage ? { defaultDimensions: { stage } } : {}) });
}
