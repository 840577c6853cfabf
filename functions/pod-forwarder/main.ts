/**
 * Entry point of the forwarder image: read the environment (exit 1 with every problem listed if invalid),
 * start, and on SIGTERM/SIGINT stop watching and flush the queue within SHUTDOWN_TIMEOUT_MS before exiting,
 * so terminations seen during a rollout of the forwarder itself are not lost.
 */
import { ConfigError, loadConfig } from './config.ts';
import { startForwarder } from './forwarder.ts';
import { errorMessage, jsonLogger } from './log.ts';

/** Runs the forwarder until a termination signal; resolves with the process exit code. */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const log = jsonLogger();
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error(err.message, { problems: err.problems });
      return 1;
    }
    throw err;
  }
  const forwarder = await startForwarder(config, { log });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('shutting down', { signal });
  const { flushed } = await forwarder.stop();
  return flushed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    jsonLogger().error('pod forwarder crashed', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
    process.exit(1);
  },
);
