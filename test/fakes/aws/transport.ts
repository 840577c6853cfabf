/**
 * How the SDK clients of a test worker reach the fake AWS: in process (the default) or over the loopback
 * socket (`QUIESCE_TEST_TRANSPORT=socket`, which `npm run test:deep` sets; and the files that call
 * {@link useSocketTransport}).
 *
 * In process, a request the SDK addressed to the fake's own `127.0.0.1:<port>` is handed to the fake's
 * `respond` directly (`inProcessHandler`, server.ts) instead of being written to a socket. Everything before
 * the socket still runs for every call of every client, however the code under test built it: the
 * endpoint resolution from AWS_ENDPOINT_URL and its per-service variants (a client pointed elsewhere still
 * goes to the network and fails there), the serializers, SigV4, the retry strategy, the deserializers.
 * What is skipped is TCP and HTTP framing, which was a fifth of the suite's CPU and much of its system
 * time (docs/testing.md, "Where the time goes"). The socket path stays tested on every run: the contract
 * suite against the fake (test/contract/fake.test.ts) and the CLI launched as a process go over it.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { FakeAws } from './index.ts';

/** Which way the worker's SDK calls to the fake go. */
export type FakeTransport = 'in-process' | 'socket';

const INSTALLED = Symbol.for('quiesce.fakeAwsTransport');

interface Installed {
  /** The way calls go now; a file may change it and put it back (test/contract/fake.test.ts does not need to: its own fake has its own port). */
  mode: FakeTransport;
  /** Calls handed to the fake in process so far (the rest of the worker's calls to it went over the socket). */
  direct: number;
}

type Handle = NodeHttpHandler['handle'];

/**
 * Routes the worker's SDK calls to `fake` as the mode says (once per worker; later calls only return the
 * state). The default mode is QUIESCE_TEST_TRANSPORT's, else in process.
 */
export function installTransport(fake: FakeAws, env: NodeJS.ProcessEnv = process.env): Installed {
  const g = globalThis as { [INSTALLED]?: Installed };
  const existing = g[INSTALLED];
  if (existing) return existing;
  const state: Installed = { mode: transportModeOf(env), direct: 0 };
  const original: Handle = NodeHttpHandler.prototype.handle;
  const direct = fake.requestHandler();
  NodeHttpHandler.prototype.handle = function handle(this: NodeHttpHandler, request, options) {
    if (state.mode === 'in-process' && addressesFake(fake, request.hostname, request.port)) {
      if (options?.abortSignal?.aborted) return Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      state.direct++;
      return direct.handle(request) as ReturnType<Handle>;
    }
    return original.call(this, request, options);
  };
  g[INSTALLED] = state;
  return state;
}

/** QUIESCE_TEST_TRANSPORT: `in-process` (the default when unset or empty) or `socket`; anything else is an error. */
export function transportModeOf(env: NodeJS.ProcessEnv): FakeTransport {
  const raw = env.QUIESCE_TEST_TRANSPORT || 'in-process';
  if (raw !== 'in-process' && raw !== 'socket') throw new Error(`QUIESCE_TEST_TRANSPORT must be in-process or socket, got "${raw}"`);
  return raw;
}

/** Whether host:port is the fake's own listener (exactly: a prefixed host such as data-127.0.0.1 is not). */
function addressesFake(fake: FakeAws, hostname: string, port: number | undefined): boolean {
  let endpoint: URL;
  try {
    endpoint = new URL(fake.endpoint);
  } catch {
    return false;
  }
  return hostname === endpoint.hostname && String(port ?? '') === endpoint.port;
}

/** The worker's transport state (installed by test/setup.ts); a file may set `mode` and put it back. */
export function transportState(): Installed {
  const state = (globalThis as { [INSTALLED]?: Installed })[INSTALLED];
  if (!state) throw new Error('the fake AWS transport is not installed (test/setup.ts installs it)');
  return state;
}
