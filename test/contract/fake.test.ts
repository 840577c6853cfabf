/**
 * The adapter contract suite against the project's own fake AWS. A private instance (not the shared one the
 * setup file resets before every test), because the suite seeds a VPC once and keeps state across its tests
 * exactly as it does against moto or a real account. The fake must show AWS's behaviour: no deviations.
 */
import { afterAll, beforeAll } from 'vitest';
import { FakeAws } from '../fakes/aws/index.ts';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAwsClients, type AwsClients } from '../../functions/_core/adapters/aws/clients.ts';
import { defineContractSuite } from './suite.ts';

const fake = new FakeAws();
let clients: AwsClients | undefined;
let ssm: SSMClient | undefined;

beforeAll(async () => {
  const { endpoint } = await fake.start();
  const overrides = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  clients = createAwsClients({ overrides });
  ssm = new SSMClient(overrides);
});

afterAll(async () => {
  clients?.destroy();
  ssm?.destroy();
  await fake.stop();
});

defineContractSuite('fake', () => {
  if (!clients || !ssm) throw new Error('the fake AWS did not start');
  return {
    clients,
    ssm,
    advance: async (ms) => {
      fake.clock.advance(ms);
    },
  };
});
