/** Helpers shared by the fakes' unit tests. */
import { FakeAwsError } from '../../fakes/aws/core.ts';

/** Runs `fn` and returns the FakeAwsError it throws; fails the test if it throws nothing or something else. */
export function awsError(fn: () => unknown): FakeAwsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FakeAwsError) return e;
    throw e;
  }
  throw new Error('expected an AWS error');
}
