// Shared test setup (vitest setupFiles): one fake AWS per worker, reset before every test, and the standard
// AWS environment pointing any SDK client created without explicit config at it.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { fakeAws } from './fakes/aws/shared.ts';
import { installTransport } from './fakes/aws/transport.ts';

// Node 20 here: the SDK's notice that its 2027 releases need Node 22 would repeat in every test file.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// SDK calls to the fake go in process unless QUIESCE_TEST_TRANSPORT=socket (fakes/aws/transport.ts).
installTransport(fakeAws);

beforeAll(async () => {
  const { endpoint } = await fakeAws.start();
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});

beforeEach(() => {
  fakeAws.reset();
});

afterAll(async () => {
  await fakeAws.stop();
});
