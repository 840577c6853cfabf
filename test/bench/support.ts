/**
 * Shared bench plumbing: a private fake AWS, clients pointed at it explicitly, quiet telemetry.
 */
import { createAwsClients, type AwsClients } from '#core/adapters/aws/index.ts';
import { FakeAws } from '../fakes/aws/index.ts';

process.env['LOG_LEVEL'] ??= 'SILENT';
process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
process.env['AWS_REGION'] ??= 'us-east-1';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** Starts a fake AWS for one bench and returns clients that talk to it. */
export async function benchAws(): Promise<{ fake: FakeAws; clients: AwsClients; endpoint: string; stop: () => Promise<void> }> {
  const fake = new FakeAws();
  const { endpoint } = await fake.start();
  const clients = createAwsClients({
    overrides: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    maxSockets: 128,
  });
  return {
    fake,
    clients,
    endpoint,
    stop: async () => {
      clients.destroy();
      await fake.stop();
    },
  };
}

/** Formats milliseconds for a table. */
export const ms = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

/** Compact "op=count" list of the calls a run made, biggest first. */
export function callsByOp(byOperation: Record<string, number>): string {
  return Object.entries(byOperation)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k.split('.')[1]}=${n}`)
    .join(' ');
}
