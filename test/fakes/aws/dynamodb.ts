/**
 * Fake Amazon DynamoDB (signing name `dynamodb`, awsJson1_0, target `DynamoDB_20120810.*`): the table behind
 * quiesce's locks, idempotency keys and remembered weights. Items use the AttributeValue wire shape
 * ({S}, {N}, {BOOL}, {NULL}, {M}, {L}).
 *
 * Follows the API reference and developer guide:
 * - PutItem / GetItem / DeleteItem / UpdateItem: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
 *   (and _GetItem, _DeleteItem, _UpdateItem): ConditionalCheckFailedException (400) when a ConditionExpression
 *   is false; ResourceNotFoundException (400) for an unknown table; ValidationException when the Key does not
 *   match the key schema; ReturnValues NONE | ALL_OLD (Put/Delete), NONE | ALL_OLD | ALL_NEW (Update).
 * - Condition expressions: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 *   (comparators = <> < <= > >=, AND / OR / NOT, parentheses, attribute_exists, attribute_not_exists,
 *   begins_with; a comparison with a missing attribute is false)
 * - "An expression attribute value/name unused in expressions" is a ValidationException:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html
 * - Update expressions: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 *   (SET path = value, ...; REMOVE path, ...; UpdateItem creates the item when it does not exist)
 * - TTL deletes expired items lazily ("typically within a few days"), so readers must treat an expired item
 *   as present until it is gone: the fake never deletes by TTL.
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 *
 * - Item size: at most 400 KB (409,600 bytes) per item, attribute names included; a partition key value at
 *   most 2,048 bytes, a sort key value at most 1,024. Sizes as the developer guide counts them (strings and
 *   names by their UTF-8 length, numbers ~1 byte per two significant digits + 1, booleans and nulls 1 byte,
 *   lists and maps 3 bytes + their elements, 1 byte more per element): a PutItem, or an UpdateItem whose
 *   result, is larger is a ValidationException and writes nothing.
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items ,
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 *
 * Simplifications: hash and optional range key only, no indexes, no Query/Scan, nested paths (a.b, a[0])
 * and arithmetic in SET are not supported (ValidationException).
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** A DynamoDB AttributeValue (wire shape). */
export type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true } | { M: Record<string, AttributeValue> } | { L: AttributeValue[] };
/** An item: attribute name -> AttributeValue. */
export type Item = Record<string, AttributeValue>;

interface Table {
  name: string;
  hashKey: string;
  rangeKey: string | undefined;
  items: Map<string, Item>;
  createdAt: number;
}

/** DynamoDB's maximum item size in bytes (400 KB), attribute names and values together. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Maximum size of a partition key value / a sort key value, in bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/** The size of one attribute value as DynamoDB counts it (developer guide, "Item sizes and formats"). */
export function attributeValueSize(v: AttributeValue): number {
  if ('S' in v) return Buffer.byteLength(v.S, 'utf8');
  if ('N' in v) {
    // Significant digits: leading and trailing zeros (and the sign and point) do not count.
    const digits = v.N.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('L' in v) return 3 + v.L.reduce((n, e) => n + attributeValueSize(e) + 1, 0);
  return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + Buffer.byteLength(k, 'utf8') + attributeValueSize(e) + 1, 0);
}

/** The size of an item: every attribute's name and value. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + attributeValueSize(v), 0);
}

/** Fake DynamoDB. */
export class FakeDynamoDb implements FakeService {
  readonly signingName = 'dynamodb';
  readonly #clock: FakeClock;
  #tables = new Map<string, Table>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#tables.clear();
  }

  /** Creates a table with a string hash key (and optional string range key). */
  seedTable(name: string, hashKey = 'pk', rangeKey?: string): void {
    this.handle('CreateTable', {
      TableName: name,
      KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }, ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' }] : [])],
      AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: 'S' }, ...(rangeKey ? [{ AttributeName: rangeKey, AttributeType: 'S' }] : [])],
      BillingMode: 'PAY_PER_REQUEST',
    });
  }

  /** Every item of a table (copies). */
  items(tableName: string): Item[] {
    return [...this.#table(tableName).items.values()].map((i) => structuredClone(i));
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'CreateTable':
        return this.#createTable(input);
      case 'DescribeTable':
        return { Table: this.#describe(this.#table(input.TableName)) };
      case 'PutItem':
        return this.#putItem(input);
      case 'GetItem':
        return this.#getItem(input);
      case 'DeleteItem':
        return this.#deleteItem(input);
      case 'UpdateItem':
        return this.#updateItem(input);
      default:
        throw new UnknownOperationError('UnknownOperationException', `${operation} is not supported by the fake DynamoDB`, 400);
    }
  }

  #createTable(input: Record<string, unknown>): unknown {
    const name = String(input.TableName ?? '');
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) throw validation('TableName must be 3-255 characters of [a-zA-Z0-9_.-]');
    if (this.#tables.has(name)) throw new FakeAwsError('ResourceInUseException', `Table already exists: ${name}`, 400);
    const schema = (input.KeySchema ?? []) as { AttributeName: string; KeyType: string }[];
    const hash = schema.find((k) => k.KeyType === 'HASH');
    if (!hash) throw validation('KeySchema needs a HASH key');
    const range = schema.find((k) => k.KeyType === 'RANGE');
    const table: Table = { name, hashKey: hash.AttributeName, rangeKey: range?.AttributeName, items: new Map(), createdAt: this.#clock.now() };
    this.#tables.set(name, table);
    return { TableDescription: this.#describe(table) };
  }

  #describe(t: Table): unknown {
    return {
      TableName: t.name,
      TableArn: `arn:aws:dynamodb:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:table/${t.name}`,
      TableStatus: 'ACTIVE',
      KeySchema: [{ AttributeName: t.hashKey, KeyType: 'HASH' }, ...(t.rangeKey ? [{ AttributeName: t.rangeKey, KeyType: 'RANGE' }] : [])],
      ItemCount: t.items.size,
      CreationDateTime: t.createdAt / 1000,
    };
  }

  #table(name: unknown): Table {
    const t = this.#tables.get(String(name ?? ''));
    if (!t) throw new FakeAwsError('ResourceNotFoundException', 'Requested resource not found', 400);
    return t;
  }

  /** The storage key of an item's key attributes; a Key with other or missing attributes is refused. */
  #keyOf(t: Table, key: Item, whole: boolean): string {
    const names = [t.hashKey, ...(t.rangeKey ? [t.rangeKey] : [])];
    if (!whole && Object.keys(key).some((k) => !names.includes(k))) throw validation('The provided key element does not match the schema');
    const parts = names.map((n, i) => {
      const v = key[n];
      if (!v || !('S' in v || 'N' in v)) throw validation('The provided key element does not match the schema');
      const limit = i === 0 ? MAX_PARTITION_KEY_BYTES : MAX_SORT_KEY_BYTES;
      if (attributeValueSize(v) > limit) throw validation(`One or more parameter values were invalid: Size of ${i === 0 ? 'hashkey' : 'rangekey'} has exceeded the maximum size limit of ${limit} bytes`);
      return JSON.stringify(v);
    });
    return parts.join('|');
  }

  #check(input: Record<string, unknown>, existing: Item | undefined, expressions: (string | undefined)[]): void {
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
    const text = expressions.filter((e): e is string => e !== undefined).join(' ');
    for (const k of Object.keys(values)) {
      if (!new RegExp(`${escape(k)}(?![A-Za-z0-9_])`).test(text)) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${k}}`);
    }
    for (const k of Object.keys(names)) {
      if (!new RegExp(`${escape(k)}(?![A-Za-z0-9_])`).test(text)) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${k}}`);
    }
    const cond = input.ConditionExpression;
    if (typeof cond === 'string' && !evaluate(cond, existing ?? {}, names, values)) {
      throw new FakeAwsError('ConditionalCheckFailedException', 'The conditional request failed', 400);
    }
  }

  #putItem(input: Record<string, unknown>): unknown {
    const t = this.#table(input.TableName);
    const item = (input.Item ?? {}) as Item;
    const k = this.#keyOf(t, item, true);
    const old = t.items.get(k);
    this.#check(input, old, [input.ConditionExpression as string | undefined]);
    tooLarge(item);
    t.items.set(k, structuredClone(item));
    return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
  }

  #getItem(input: Record<string, unknown>): unknown {
    const t = this.#table(input.TableName);
    const item = t.items.get(this.#keyOf(t, (input.Key ?? {}) as Item, false));
    return item ? { Item: structuredClone(item) } : {};
  }

  #deleteItem(input: Record<string, unknown>): unknown {
    const t = this.#table(input.TableName);
    const k = this.#keyOf(t, (input.Key ?? {}) as Item, false);
    const old = t.items.get(k);
    this.#check(input, old, [input.ConditionExpression as string | undefined]);
    t.items.delete(k);
    return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
  }

  #updateItem(input: Record<string, unknown>): unknown {
    const t = this.#table(input.TableName);
    const key = (input.Key ?? {}) as Item;
    const k = this.#keyOf(t, key, false);
    const old = t.items.get(k);
    const update = typeof input.UpdateExpression === 'string' ? input.UpdateExpression : undefined;
    this.#check(input, old, [input.ConditionExpression as string | undefined, update]);
    const next: Item = structuredClone(old ?? key);
    if (update) applyUpdate(update, next, (input.ExpressionAttributeNames ?? {}) as Record<string, string>, (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>, [t.hashKey, t.rangeKey]);
    tooLarge(next);
    t.items.set(k, next);
    if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(next) };
    if (input.ReturnValues === 'ALL_OLD' && old) return { Attributes: old };
    return {};
  }
}

/** Refuses an item over {@link MAX_ITEM_BYTES}, as DynamoDB does (nothing is written). */
function tooLarge(item: Item): void {
  if (itemSize(item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
}

function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message, 400);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- expressions ---------------------------------------------------------------------------------------

type Token = { kind: 'name' | 'value' | 'op' | 'word' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|(<>|<=|>=|=|<|>)|([(),])|([A-Za-z_][A-Za-z0-9_]*))/y;
  let i = 0;
  while (i < expr.length) {
    if (/^\s*$/.test(expr.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(expr);
    if (!m) throw validation(`Invalid expression: syntax error near "${expr.slice(i, i + 10)}" (the fake supports flat attribute paths only)`);
    i = re.lastIndex;
    if (m[1]) out.push({ kind: 'name', text: m[1] });
    else if (m[2]) out.push({ kind: 'value', text: m[2] });
    else if (m[3]) out.push({ kind: 'op', text: m[3] });
    else if (m[4]) out.push({ kind: 'punct', text: m[4] });
    else out.push({ kind: 'word', text: m[5]! });
  }
  return out;
}

/** Evaluates a condition expression against an item (missing item = empty attributes). */
function evaluate(expr: string, item: Item, names: Record<string, string>, values: Record<string, AttributeValue>): boolean {
  const tokens = tokenize(expr);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token => {
    const t = tokens[pos++];
    if (!t) throw validation('Invalid ConditionExpression: unexpected end of expression');
    return t;
  };
  const expect = (text: string): void => {
    const t = next();
    if (t.text !== text) throw validation(`Invalid ConditionExpression: expected "${text}", got "${t.text}"`);
  };
  const pathName = (t: Token): string => {
    if (t.kind === 'name') {
      const n = names[t.text];
      if (n === undefined) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${t.text}`);
      return n;
    }
    if (t.kind === 'word') return t.text;
    throw validation(`Invalid ConditionExpression: expected an attribute path, got "${t.text}"`);
  };
  const operand = (): AttributeValue | undefined => {
    const t = next();
    if (t.kind === 'value') {
      const v = values[t.text];
      if (v === undefined) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${t.text}`);
      return v;
    }
    return item[pathName(t)];
  };
  const primary = (): boolean => {
    const t = peek();
    if (!t) throw validation('Invalid ConditionExpression: unexpected end of expression');
    if (t.kind === 'word' && t.text.toUpperCase() === 'NOT') {
      pos++;
      return !primary();
    }
    if (t.text === '(') {
      pos++;
      const v = orExpr();
      expect(')');
      return v;
    }
    if (t.kind === 'word' && ['attribute_exists', 'attribute_not_exists', 'begins_with'].includes(t.text)) {
      pos++;
      expect('(');
      const name = pathName(next());
      let result: boolean;
      if (t.text === 'begins_with') {
        expect(',');
        const prefix = operand();
        const v = item[name];
        result = !!v && !!prefix && 'S' in v && 'S' in prefix && v.S.startsWith(prefix.S);
      } else {
        result = t.text === 'attribute_exists' ? item[name] !== undefined : item[name] === undefined;
      }
      expect(')');
      return result;
    }
    const left = operand();
    const op = next();
    if (op.kind !== 'op') throw validation(`Invalid ConditionExpression: expected a comparator, got "${op.text}"`);
    const right = operand();
    return compare(left, op.text, right);
  };
  const andExpr = (): boolean => {
    let v = primary();
    while (peek()?.kind === 'word' && peek()!.text.toUpperCase() === 'AND') {
      pos++;
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const orExpr = (): boolean => {
    let v = andExpr();
    while (peek()?.kind === 'word' && peek()!.text.toUpperCase() === 'OR') {
      pos++;
      const r = andExpr();
      v = v || r;
    }
    return v;
  };
  const result = orExpr();
  if (pos !== tokens.length) throw validation(`Invalid ConditionExpression: unexpected "${tokens[pos]!.text}"`);
  return result;
}

function compare(a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  let x: string | number;
  let y: string | number;
  if ('N' in a && 'N' in b) {
    x = Number(a.N);
    y = Number(b.N);
  } else if ('S' in a && 'S' in b) {
    x = a.S;
    y = b.S;
  } else {
    const same = JSON.stringify(a) === JSON.stringify(b);
    if (op === '=') return same;
    if (op === '<>') return !same;
    return false;
  }
  switch (op) {
    case '=':
      return x === y;
    case '<>':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

/** Applies `SET a = :v, #b = :w REMOVE c` to an item; key attributes cannot be updated. */
function applyUpdate(expr: string, item: Item, names: Record<string, string>, values: Record<string, AttributeValue>, keys: (string | undefined)[]): void {
  const tokens = tokenize(expr);
  let pos = 0;
  let clause: 'SET' | 'REMOVE' | undefined;
  const resolve = (t: Token | undefined): string => {
    if (!t) throw validation('Invalid UpdateExpression: unexpected end of expression');
    const n = t.kind === 'name' ? names[t.text] : t.kind === 'word' ? t.text : undefined;
    if (n === undefined) throw validation(`Invalid UpdateExpression: bad attribute path "${t.text}"`);
    if (keys.includes(n)) throw validation(`Cannot update attribute ${n}. This attribute is part of the key`);
    return n;
  };
  while (pos < tokens.length) {
    const t = tokens[pos]!;
    if (t.kind === 'word' && (t.text.toUpperCase() === 'SET' || t.text.toUpperCase() === 'REMOVE')) {
      clause = t.text.toUpperCase() as 'SET' | 'REMOVE';
      pos++;
      continue;
    }
    if (t.text === ',') {
      pos++;
      continue;
    }
    if (clause === 'SET') {
      const name = resolve(tokens[pos++]);
      if (tokens[pos++]?.text !== '=') throw validation('Invalid UpdateExpression: expected "=" (the fake supports SET path = :value)');
      const v = tokens[pos++];
      if (!v || v.kind !== 'value' || values[v.text] === undefined) throw validation('Invalid UpdateExpression: the fake supports SET path = :value');
      item[name] = structuredClone(values[v.text]!);
    } else if (clause === 'REMOVE') {
      delete item[resolve(tokens[pos++])];
    } else {
      throw validation(`Invalid UpdateExpression: unexpected "${t.text}" (the fake supports SET and REMOVE)`);
    }
  }
}
