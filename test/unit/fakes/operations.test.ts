/**
 * Every operation a fake serves is classified read or write (test/fakes/aws/operations.ts), and the table
 * names nothing the fakes do not serve: what "nothing was written" counts (integration/harness.ts) is derived
 * from the fakes themselves, so an operation added to a fake later cannot pass unseen as harmless.
 *
 * "Serves" is found by asking: each fake is handed every operation of its API's SDK client (the installed
 * @aws-sdk/client-* package's commands), and an operation is served unless the fake answers with its
 * UnknownOperationError.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { FakeAws, UnknownOperationError } from '../../fakes/aws/index.ts';
import { OPERATIONS } from '../../fakes/aws/operations.ts';

const require = createRequire(import.meta.url);

/** The SDK client package of each API, by signing name. */
const SDK_PACKAGE: Readonly<Record<string, string>> = {
  elasticloadbalancing: '@aws-sdk/client-elastic-load-balancing-v2',
  ec2: '@aws-sdk/client-ec2',
  servicediscovery: '@aws-sdk/client-servicediscovery',
  events: '@aws-sdk/client-eventbridge',
  sqs: '@aws-sdk/client-sqs',
  autoscaling: '@aws-sdk/client-auto-scaling',
  eks: '@aws-sdk/client-eks',
  sts: '@aws-sdk/client-sts',
  ssm: '@aws-sdk/client-ssm',
  scheduler: '@aws-sdk/client-scheduler',
  dynamodb: '@aws-sdk/client-dynamodb',
  iam: '@aws-sdk/client-iam',
  logs: '@aws-sdk/client-cloudwatch-logs',
};

/** Every operation of an API: the names of its SDK client's commands. */
function sdkOperations(pkg: string): string[] {
  const mod = require(pkg) as Record<string, unknown>;
  return Object.keys(mod)
    .filter((k) => k.endsWith('Command') && k !== 'Command' && !k.startsWith('$'))
    .map((k) => k.slice(0, -'Command'.length));
}

/** Whether the fake serves `operation` (anything but its UnknownOperationError: an answer, or a complaint about the input). */
function serves(service: { handle(operation: string, input: Record<string, unknown>): unknown }, operation: string): boolean {
  try {
    service.handle(operation, {});
    return true;
  } catch (err) {
    return !(err instanceof UnknownOperationError);
  }
}

describe('the fake AWS operation table', () => {
  const aws = new FakeAws();
  const services = [aws.elbv2, aws.ec2, aws.cloudMap, aws.events, aws.sqs, aws.autoscaling, aws.eks, aws.sts, aws.ssm, aws.scheduler, aws.dynamodb, aws.iamApi, aws.logs];

  it('covers every API the fake serves', () => {
    expect(services.map((s) => s.signingName).sort()).toEqual(Object.keys(OPERATIONS).sort());
    expect(Object.keys(SDK_PACKAGE).sort()).toEqual(Object.keys(OPERATIONS).sort());
  });

  for (const service of services) {
    it(`${service.signingName}: classifies every operation the fake serves as read or write, and nothing else`, () => {
      const served = sdkOperations(SDK_PACKAGE[service.signingName]!).filter((op) => serves(service, op)).sort();
      expect(served.length).toBeGreaterThan(0);
      expect(Object.keys(OPERATIONS[service.signingName] ?? {}).sort()).toEqual(served);
    });
  }

  it('tells a served operation from an unknown one by the fake\'s own error', () => {
    expect(serves(aws.elbv2, 'DeregisterTargets')).toBe(true);
    expect(serves(aws.elbv2, 'DeleteLoadBalancer')).toBe(false);
  });
});
