/**
 * The process-wide fake AWS (one per vitest worker, started by test/setup.ts) and the client configuration
 * that points an SDK v3 client at it.
 */
import { FakeAws } from './index.ts';

export const fakeAws = new FakeAws();

export interface FakeClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Cloud Map's DiscoverInstances has host prefix `data-`; `data-127.0.0.1` does not resolve. */
  disableHostPrefix: boolean;
}

/** Config for any SDK v3 client: `new ElasticLoadBalancingV2Client(clientConfig())`. */
export function clientConfig(): FakeClientConfig {
  return {
    endpoint: fakeAws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    disableHostPrefix: true,
  };
}
