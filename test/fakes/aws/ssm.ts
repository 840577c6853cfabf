/**
 * Fake AWS Systems Manager Parameter Store (signing name `ssm`, awsJson1_1, target `AmazonSSM.*`): the
 * webhook's shared token lives here as a SecureString.
 *
 * Follows the API reference:
 * - GetParameter: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 *   (ParameterNotFound for a missing name; a SecureString is returned decrypted only WithDecryption=true,
 *   otherwise its encrypted value; String / StringList ignore WithDecryption)
 * - PutParameter: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 *   (ParameterAlreadyExists unless Overwrite; Version starts at 1 and increments on overwrite)
 *
 * Simplifications: no KMS (the "ciphertext" is a deterministic base64 of the value), no version or label
 * selectors (`name:3`), no hierarchies, tags or policies.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

type ParameterType = 'String' | 'StringList' | 'SecureString';

interface Parameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  modifiedAt: number;
}

const TYPES: ReadonlySet<string> = new Set(['String', 'StringList', 'SecureString']);

/** Fake Parameter Store. */
export class FakeSsm implements FakeService {
  readonly signingName = 'ssm';
  readonly #clock: FakeClock;
  #params = new Map<string, Parameter>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#params.clear();
  }

  /** Seeds (or overwrites) a parameter without a call. */
  putParameter(name: string, value: string, type: ParameterType = 'SecureString'): void {
    this.handle('PutParameter', { Name: name, Value: value, Type: type, Overwrite: true });
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetParameter':
        return this.#get(input);
      case 'PutParameter':
        return this.#put(input);
      case 'DeleteParameter': {
        const name = String(input.Name ?? '');
        if (!this.#params.delete(name)) throw notFound(name);
        return {};
      }
      default:
        throw new UnknownOperationError('InvalidAction', `${operation} is not supported by the fake SSM`, 400);
    }
  }

  #get(input: Record<string, unknown>): unknown {
    const name = String(input.Name ?? '');
    const p = this.#params.get(name);
    if (!p) throw notFound(name);
    const decrypt = input.WithDecryption === true;
    const value = p.type === 'SecureString' && !decrypt ? Buffer.from(`kms:${p.value}`).toString('base64') : p.value;
    return {
      Parameter: {
        Name: p.name,
        Type: p.type,
        Value: value,
        Version: p.version,
        LastModifiedDate: p.modifiedAt / 1000,
        ARN: `arn:aws:ssm:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:parameter/${p.name.replace(/^\//, '')}`,
        DataType: 'text',
      },
    };
  }

  #put(input: Record<string, unknown>): unknown {
    const name = String(input.Name ?? '');
    const value = input.Value;
    const type = String(input.Type ?? 'String');
    if (name === '' || name.length > 2048) throw validation('Parameter name must be 1-2048 characters');
    if (typeof value !== 'string') throw validation('Value must not be null');
    if (!TYPES.has(type)) throw validation(`Type must be one of String, StringList, SecureString`);
    const existing = this.#params.get(name);
    if (existing && input.Overwrite !== true) {
      throw new FakeAwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.', 400);
    }
    const version = (existing?.version ?? 0) + 1;
    this.#params.set(name, { name, type: type as ParameterType, value, version, modifiedAt: this.#clock.now() });
    return { Version: version, Tier: 'Standard' };
  }
}

function notFound(name: string): FakeAwsError {
  return new FakeAwsError('ParameterNotFound', `Parameter ${name} not found.`, 400);
}

function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message, 400);
}
