/**
 * The shared pieces of the fake AWS: the error every fake service throws, the explicit clock that drives
 * everything AWS does "later" (draining, Cloud Map operations, SQS delays, health checks), and the contract
 * each fake service implements so the loopback server can route SDK requests to it.
 *
 * Like Karpenter's fake EC2 API: one stateful fake per AWS API, shared by every test, reset between tests.
 */

/** An AWS error, by its AWS name (the SDK v3 maps `code` to the exception class of the same name). */
export class FakeAwsError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

/**
 * The answer of a fake to an operation it does not serve (each with the code its API gives): a class of its
 * own, so a test can tell "not implemented" from "implemented, and this input is wrong" (operations.ts).
 */
export class UnknownOperationError extends FakeAwsError {}

/**
 * The fake's notion of "now". Nothing in the fake uses timers: tests move time explicitly with `advance`,
 * so draining, asynchronous Cloud Map operations and delayed messages are deterministic.
 */
export class FakeClock {
  #now: number;
  readonly #start: number;
  readonly #listeners = new Set<(now: number) => void>();
  constructor(start = Date.parse('2026-11-21T12:00:00Z')) {
    this.#start = start;
    this.#now = start;
  }
  /** Milliseconds since the epoch, fake time. */
  now(): number {
    return this.#now;
  }
  /** Moves time forward and lets every fake service settle what became due. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('the clock only moves forward');
    this.#now += ms;
    for (const l of this.#listeners) l(this.#now);
  }
  /**
   * A wait as the code under test makes it (retry backoff, a lease held by another writer): moves fake
   * time by `ms` and also lets a little real time pass (ms / 20, at most 20 ms). A bare `advance` is
   * instant, so a writer waiting on a lease would spin through its whole wait while the writer it waits
   * on is still between two in-process calls, and give up on a lease a real wait would have got.
   */
  async sleep(ms: number): Promise<void> {
    this.advance(ms);
    await new Promise((resolve) => setTimeout(resolve, Math.min(ms / 20, 20)));
  }
  /** Called on every advance; services use it to settle state that became due. */
  onAdvance(listener: (now: number) => void): void {
    this.#listeners.add(listener);
  }
  reset(): void {
    this.#now = this.#start;
  }
}

/**
 * One fake AWS API. `operation` is the AWS operation name (e.g. `DescribeTargetHealth`); `input` is the
 * request in the SDK's PascalCase shape (query protocols are parsed into it by the server, JSON protocols
 * arrive as sent); the return value is the response in the same shape. Throw `FakeAwsError` for AWS errors.
 */
export interface FakeService {
  /** The SigV4 signing name the SDK uses for this API (`elasticloadbalancing`, `servicediscovery`, ...). */
  readonly signingName: string;
  /** `caller`: who signed the request (absent for a test's direct JS call); the APIs that judge callers read it. */
  handle(operation: string, input: Record<string, unknown>, caller?: RequestCaller): unknown;
  reset(): void;
  /** restJson1 APIs only: method + path table (see `RestRoute`); optional. */
  readonly restRoutes?: readonly RestRoute[];
}

/** Who signed a request: the access key id of its SigV4 credential scope (iam.ts says whose it is). */
export interface RequestCaller {
  readonly accessKeyId: string | undefined;
}

/** A restJson1 route: `path` uses the Smithy label syntax (`/clusters/{name}`, `{key+}` for greedy). */
export interface RestRoute {
  readonly method: string;
  readonly path: string;
  readonly operation: string;
}
