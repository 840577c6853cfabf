/**
 * Fake AWS STS (signing name `sts`, awsQuery protocol): only GetCallerIdentity, the call the EKS token is a
 * presigned form of. Also the home of the account and Region every fake service uses in its ARNs.
 */
import { UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';

/** The account every fake resource belongs to. */
export const FAKE_ACCOUNT_ID = '123456789012';
/** The Region every fake resource lives in. */
export const FAKE_REGION = 'us-east-1';

/** The GetCallerIdentity response shape. */
export interface CallerIdentity {
  UserId: string;
  Account: string;
  Arn: string;
}

const DEFAULT_IDENTITY: CallerIdentity = {
  UserId: 'AROAFAKEQUIESCEROLE01:quiesce',
  Account: FAKE_ACCOUNT_ID,
  Arn: `arn:aws:sts::${FAKE_ACCOUNT_ID}:assumed-role/quiesce-lambda/quiesce`,
};

export class FakeSts implements FakeService {
  readonly signingName = 'sts';
  /** What GetCallerIdentity returns; tests may replace it. */
  identity: CallerIdentity = { ...DEFAULT_IDENTITY };

  // The clock is unused (nothing in STS happens later) but kept for the uniform `(clock)` constructor.
  constructor(_clock?: FakeClock) {}

  handle(operation: string, _input: Record<string, unknown>): unknown {
    switch (operation) {
      // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
      case 'GetCallerIdentity':
        return { ...this.identity };
      default:
        throw new UnknownOperationError('InvalidAction', `The action ${operation} is not valid for this web service.`, 400);
    }
  }

  reset(): void {
    this.identity = { ...DEFAULT_IDENTITY };
  }
}
