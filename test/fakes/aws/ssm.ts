/**
 * Fake AWS Systems Manager Parameter Store (signing name `ssm`, awsJson1_1, target `AmazonSSM.*`): the
 * webhook's shared token lives here as a SecureString, the traffic plans as String parameters under a path.
 *
 * Follows the API reference:
 * - GetParameter: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 *   (ParameterNotFound for a missing name; a SecureString is returned decrypted only WithDecryption=true,
 *   otherwise its encrypted value; String / StringList ignore WithDecryption)
 * - PutParameter: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 *   (ParameterAlreadyExists unless Overwrite; Version starts at 1 and increments on overwrite; a name is at
 *   most 15 levels deep, HierarchyLevelLimitExceededException otherwise)
 * - Tiers: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
 *   (a Standard value holds at most 4 KB, an Advanced one 8 KB: ValidationException past that, with AWS's
 *   message; Intelligent-Tiering picks Standard when the value fits; 10,000 Standard parameters per account
 *   and Region, ParameterLimitExceeded past that; an Advanced parameter never goes back to Standard)
 * - GetParametersByPath: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
 *   (the parameters below Path, only one level without Recursive; MaxResults 1..10, default 10;
 *   NextToken pages; Path must start with "/")
 *
 * Simplifications: no KMS (the "ciphertext" is a deterministic base64 of the value), no version or label
 * selectors (`name:3`), no ParameterFilters, tags or policies; sizes are counted in characters.
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
  tier: 'Standard' | 'Advanced';
}

const TYPES: ReadonlySet<string> = new Set(['String', 'StringList', 'SecureString']);
/** Value size limits of the two tiers (the user guide's 4 KB and 8 KB). */
export const STANDARD_VALUE_MAX = 4096;
export const ADVANCED_VALUE_MAX = 8192;
/** Standard parameters per account and Region. */
export const STANDARD_PARAMETERS_MAX = 10_000;
/** GetParametersByPath's MaxResults bound. */
export const BY_PATH_MAX_RESULTS = 10;
const MAX_LEVELS = 15;

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

  /** Seeds (or overwrites) a parameter without a call, with PutParameter's checks. */
  putParameter(name: string, value: string, type: ParameterType = 'SecureString', tier?: 'Standard' | 'Advanced' | 'Intelligent-Tiering'): void {
    this.handle('PutParameter', { Name: name, Value: value, Type: type, Overwrite: true, ...(tier ? { Tier: tier } : {}) });
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetParameter':
        return this.#get(input);
      case 'GetParametersByPath':
        return this.#byPath(input);
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
    return { Parameter: view(p, input.WithDecryption === true) };
  }

  #byPath(input: Record<string, unknown>): unknown {
    const path = String(input.Path ?? '');
    if (!path.startsWith('/')) throw validation('The parameter path must begin with a forward slash (/).');
    const max = input.MaxResults === undefined ? BY_PATH_MAX_RESULTS : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > BY_PATH_MAX_RESULTS) {
      throw validation(`1 validation error detected: Value '${String(input.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${BY_PATH_MAX_RESULTS}`);
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const below = [...this.#params.values()]
      .filter((p) => p.name.startsWith(prefix) && (input.Recursive === true || !p.name.slice(prefix.length).includes('/')))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    let start = 0;
    if (input.NextToken !== undefined) {
      const m = /^fake-ssm:(\d+):(.*)$/.exec(String(input.NextToken));
      if (!m || m[2] !== path) throw new FakeAwsError('InvalidNextToken', 'The specified token is not valid.', 400);
      start = Number(m[1]);
    }
    const page = below.slice(start, start + max);
    const next = start + max < below.length ? `fake-ssm:${start + max}:${path}` : undefined;
    return { Parameters: page.map((p) => view(p, input.WithDecryption === true)), ...(next ? { NextToken: next } : {}) };
  }

  #put(input: Record<string, unknown>): unknown {
    const name = String(input.Name ?? '');
    const value = input.Value;
    const type = String(input.Type ?? 'String');
    if (name === '' || name.length > 2048) throw validation('Parameter name must be 1-2048 characters');
    if (typeof value !== 'string') throw validation('Value must not be null');
    if (!TYPES.has(type)) throw validation(`Type must be one of String, StringList, SecureString`);
    if (name.split('/').filter((part) => part !== '').length > MAX_LEVELS) {
      throw new FakeAwsError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_LEVELS} levels.`, 400);
    }
    const existing = this.#params.get(name);
    if (existing && input.Overwrite !== true) {
      throw new FakeAwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.', 400);
    }
    const asked = String(input.Tier ?? 'Standard');
    if (!['Standard', 'Advanced', 'Intelligent-Tiering'].includes(asked)) throw validation('Tier must be one of Standard, Advanced, Intelligent-Tiering');
    if (value.length > ADVANCED_VALUE_MAX) {
      throw validation(`1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${ADVANCED_VALUE_MAX}`);
    }
    const tier: Parameter['tier'] = existing?.tier === 'Advanced' || asked === 'Advanced' || (asked === 'Intelligent-Tiering' && value.length > STANDARD_VALUE_MAX) ? 'Advanced' : 'Standard';
    if (tier === 'Standard' && value.length > STANDARD_VALUE_MAX) {
      throw validation(
        `Standard tier parameters support a maximum parameter value of ${STANDARD_VALUE_MAX} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
      );
    }
    if (!existing && tier === 'Standard' && [...this.#params.values()].filter((p) => p.tier === 'Standard').length >= STANDARD_PARAMETERS_MAX) {
      throw new FakeAwsError('ParameterLimitExceeded', 'You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.', 400);
    }
    const version = (existing?.version ?? 0) + 1;
    this.#params.set(name, { name, type: type as ParameterType, value, version, modifiedAt: this.#clock.now(), tier });
    return { Version: version, Tier: tier };
  }
}

/** A parameter as GetParameter and GetParametersByPath return it. */
function view(p: Parameter, decrypt: boolean): Record<string, unknown> {
  return {
    Name: p.name,
    Type: p.type,
    Value: p.type === 'SecureString' && !decrypt ? Buffer.from(`kms:${p.value}`).toString('base64') : p.value,
    Version: p.version,
    LastModifiedDate: p.modifiedAt / 1000,
    ARN: `arn:aws:ssm:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:parameter/${p.name.replace(/^\//, '')}`,
    DataType: 'text',
  };
}

function notFound(name: string): FakeAwsError {
  return new FakeAwsError('ParameterNotFound', `Parameter ${name} not found.`, 400);
}

function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message, 400);
}
