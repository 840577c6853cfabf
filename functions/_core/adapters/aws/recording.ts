/**
 * The recording side of the write port (ports/writes.ts): SDK clients that send every read to the live
 * client and record every write instead of sending it, answering as a successful write would.
 *
 * Why at the client, under the adapters, and not a second implementation of each port: the adapters that
 * build the requests (conditional expressions, batching, schedule definitions, lease fencing) are exactly
 * the live ones, so what is recorded is exactly what would have been sent, and every stage above runs its
 * live code. And a write is recognised by its operation, not by a list of the writes quiesce knows: any
 * operation that is not a Describe, List or Get is recorded, so a write added later cannot slip through a
 * dry run or `quiesce plan` because nobody remembered to route it.
 *
 * A successful write's answer (a Cloud Map operation id, a PutEvents entry id, the item an UpdateItem left)
 * is made up here, and the reads that confirm those writes are answered from the record: an operation it
 * "submitted" has succeeded, a rule it "modified" has the recorded actions, an item it "put" (and then
 * updated or deleted) reads back as written (its conditions are not evaluated: the write is answered as the
 * successful one; an update of an item it never put leaves the item's reads live). Everything the
 * recorder keeps is bounded, by count and by bytes, so a dry-run container that lives for days does not
 * grow without end; what it forgets first is what was written longest ago.
 */
import { randomUUID } from 'node:crypto';
import type { RecordedWrite, WriteMode } from '../../ports/writes.ts';

/** What the recorder needs of an SDK v3 client: `send(command)`. */
export interface SendingClient {
  send(command: never, ...rest: never[]): Promise<unknown>;
}

/** Options of {@link WriteRecorder}. */
export interface WriteRecorderOptions {
  /** How many recorded writes are kept for `records()` (the most recent; default 1,000). */
  readonly keep?: number;
  /**
   * How many bytes (of JSON) the recorder keeps in all: the requests of the writes `records()` returns, and
   * the state-table items it answers reads from, each the most recent first (default 16 MiB, for each).
   * At an account's quotas one write can be 300 KB (a part of the stored scope, a registration-index
   * bucket: state/chunked-record.ts), and a dry-run sweeper writes a few MB of them per slice; a count
   * alone would let a container that lives for days outgrow its memory.
   */
  readonly keepBytes?: number;
  readonly now?: () => Date;
  /** Called with every write as it is recorded (the wiring logs it). */
  readonly onRecord?: (write: RecordedWrite) => void;
}

/** The AWS operation of an SDK v3 command: its schema names it (`[kind, namespace, name, ...]`), else its class. */
export function operationOf(command: unknown): string {
  const schema = (command as { schema?: unknown } | null)?.schema;
  if (Array.isArray(schema) && typeof schema[2] === 'string') return schema[2];
  const name = (command as object | null)?.constructor?.name ?? '';
  return name.replace(/Command$/, '');
}

/** Whether an AWS operation only reads: by AWS's naming, Describe*, List* and Get* (GetQueueUrl too). */
export function isReadOperation(operation: string): boolean {
  return /^(Describe|List|Get)[A-Z]/.test(operation);
}

type Attribute = Record<string, unknown>;
type Item = Record<string, Attribute>;

/** Keeps at most `max` entries of a map, dropping the oldest inserted. */
function bound<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}

const MAX_REMEMBERED = 10_000;

/** The size of a request or an item as JSON (characters: bytes for the ASCII quiesce writes). */
const sizeOf = (value: unknown): number => JSON.stringify(value)?.length ?? 0;

/**
 * `SET a = :x, #b = :y` applied to `item` (the only update expressions quiesce writes); undefined when the
 * expression is anything else, so the caller forgets the item rather than guess.
 */
export function applySet(item: Item, expression: string, names: Record<string, string> = {}, values: Record<string, Attribute> = {}): Item | undefined {
  const m = /^\s*SET\s+(.+)$/i.exec(expression);
  if (!m) return undefined;
  const out: Item = { ...item };
  for (const part of (m[1] ?? '').split(',')) {
    const a = /^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$/.exec(part);
    if (!a) return undefined;
    const name = a[1]!.startsWith('#') ? names[a[1]!] : a[1];
    const value = values[a[2]!];
    if (name === undefined || value === undefined) return undefined;
    out[name] = value;
  }
  return out;
}

/** Records writes and answers the reads that confirm them; one per container, shared by its clients. */
export class WriteRecorder {
  readonly #records: RecordedWrite[] = [];
  readonly #keep: number;
  readonly #now: () => Date;
  readonly #onRecord: ((write: RecordedWrite) => void) | undefined;
  /** Cloud Map operations "submitted" (id -> when). */
  readonly #operations = new Map<string, Date>();
  /** Listener rules "modified" (rule ARN -> the actions written). */
  readonly #rules = new Map<string, unknown[]>();
  /** State-table items "written" (table + key -> the item, or null once deleted). */
  readonly #items = new Map<string, Item | null>();
  readonly #keepBytes: number;
  /** The JSON size of each kept record's request, and of each remembered item, and their totals. */
  readonly #recordBytes: number[] = [];
  #recordTotal = 0;
  readonly #itemBytes = new Map<string, number>();
  #itemTotal = 0;

  constructor(options: WriteRecorderOptions = {}) {
    this.#keep = Math.max(1, options.keep ?? 1000);
    this.#keepBytes = Math.max(1, options.keepBytes ?? 16 * 1024 * 1024);
    this.#now = options.now ?? (() => new Date());
    this.#onRecord = options.onRecord;
  }

  /** The writes recorded so far (the most recent `keep`), oldest first. */
  records(): readonly RecordedWrite[] {
    return [...this.#records];
  }

  /**
   * The recording twin of `live`: the same client for reads (same sockets, same credentials), with `send`
   * recording writes. `service` is the API's signing name, for the records.
   */
  wrap<C extends SendingClient>(live: C, service: string): C {
    const send = async (command: unknown, ...rest: unknown[]): Promise<unknown> => {
      const operation = operationOf(command);
      const input = ((command as { input?: unknown }).input ?? {}) as Record<string, unknown>;
      if (!isReadOperation(operation)) return this.#write(service, operation, input);
      const answered = this.#answerFromRecord(operation, input);
      if (answered !== undefined) return answered;
      const out = await (live.send as (...args: unknown[]) => Promise<unknown>).call(live, command, ...rest);
      return this.#overlay(operation, out as Record<string, unknown>);
    };
    return new Proxy(live, { get: (target, prop) => (prop === 'send' ? send : Reflect.get(target, prop, target)) });
  }

  #write(service: string, operation: string, input: Record<string, unknown>): Record<string, unknown> {
    const write: RecordedWrite = { service, operation, request: input, at: this.#now() };
    const bytes = sizeOf(input);
    this.#records.push(write);
    this.#recordBytes.push(bytes);
    this.#recordTotal += bytes;
    // The most recent write stays, whatever its size.
    while (this.#records.length > 1 && (this.#records.length > this.#keep || this.#recordTotal > this.#keepBytes)) {
      this.#records.shift();
      this.#recordTotal -= this.#recordBytes.shift() ?? 0;
    }
    this.#onRecord?.(write);
    switch (operation) {
      case 'DeregisterInstance': {
        const id = `recorded-${randomUUID()}`;
        this.#operations.set(id, this.#now());
        bound(this.#operations, MAX_REMEMBERED);
        return { OperationId: id };
      }
      case 'ModifyRule':
        if (typeof input['RuleArn'] === 'string') this.#rules.set(input['RuleArn'], [...((input['Actions'] as unknown[] | undefined) ?? [])]);
        bound(this.#rules, MAX_REMEMBERED);
        return { Rules: [] };
      case 'PutEvents':
        return { FailedEntryCount: 0, Entries: ((input['Entries'] as unknown[] | undefined) ?? []).map(() => ({ EventId: randomUUID() })) };
      case 'SendMessage':
        return { MessageId: randomUUID() };
      case 'SendMessageBatch':
      case 'ChangeMessageVisibilityBatch':
        return { Successful: ((input['Entries'] as { Id?: string }[] | undefined) ?? []).map((e) => ({ Id: e.Id, MessageId: randomUUID() })), Failed: [] };
      case 'CreateSchedule':
        return { ScheduleArn: `arn:aws:scheduler:::schedule/${String(input['GroupName'] ?? 'default')}/${String(input['Name'])}` };
      case 'PutItem':
        this.#remember(input, (input['Item'] as Item | undefined) ?? null);
        return {};
      case 'DeleteItem':
        this.#remember(input, null);
        return {};
      case 'UpdateItem': {
        const key = this.#itemKey(input);
        const known = this.#items.get(key);
        // An item it never wrote is not invented from an update of a few attributes (reads of it stay live),
        // unless the update asks for the item back (a lease: the item as this port left it).
        if (known === undefined && input['ReturnValues'] !== 'ALL_NEW') return {};
        const base: Item = known ?? { ...((input['Key'] as Item | undefined) ?? {}) };
        const next = applySet(base, String(input['UpdateExpression'] ?? ''), input['ExpressionAttributeNames'] as Record<string, string> | undefined, input['ExpressionAttributeValues'] as Record<string, Attribute> | undefined);
        if (next) this.#remember(input, next);
        else this.#forget(key);
        return input['ReturnValues'] === 'ALL_NEW' && next ? { Attributes: next } : {};
      }
      default:
        return {};
    }
  }

  #itemKey(input: Record<string, unknown>): string {
    return `${String(input['TableName'])}\u0000${JSON.stringify(input['Key'] ?? { pk: (input['Item'] as Item | undefined)?.['pk'] })}`;
  }

  /**
   * Keeps `item` as the answer to reads of its key, the most recently written last; the oldest are forgotten
   * (their reads go to AWS again) past MAX_REMEMBERED items or `keepBytes` (an old version of a record split
   * in parts is read by no one once its head names a newer one).
   */
  #remember(input: Record<string, unknown>, item: Item | null): void {
    const key = this.#itemKey(input);
    this.#forget(key);
    const bytes = item ? sizeOf(item) : 0;
    this.#items.set(key, item);
    this.#itemBytes.set(key, bytes);
    this.#itemTotal += bytes;
    while (this.#items.size > 1 && (this.#items.size > MAX_REMEMBERED || this.#itemTotal > this.#keepBytes)) this.#forget(this.#items.keys().next().value as string);
  }

  #forget(key: string): void {
    this.#items.delete(key);
    this.#itemTotal -= this.#itemBytes.get(key) ?? 0;
    this.#itemBytes.delete(key);
  }

  /** A read answered entirely from the record (it asks about a recorded write), or undefined to ask AWS. */
  #answerFromRecord(operation: string, input: Record<string, unknown>): Record<string, unknown> | undefined {
    if (operation === 'GetOperation' && typeof input['OperationId'] === 'string' && this.#operations.has(input['OperationId'])) {
      const at = this.#operations.get(input['OperationId'])!;
      return { Operation: { Id: input['OperationId'], Type: 'DEREGISTER_INSTANCE', Status: 'SUCCESS', CreateDate: at, UpdateDate: at } };
    }
    if (operation === 'GetItem') {
      const key = this.#itemKey(input);
      if (this.#items.has(key)) {
        const item = this.#items.get(key);
        return item ? { Item: item } : {};
      }
    }
    return undefined;
  }

  /** AWS's answer to a read, with this recorder's writes shown in it. */
  #overlay(operation: string, out: Record<string, unknown>): Record<string, unknown> {
    if (operation === 'DescribeRules' && Array.isArray(out['Rules'])) {
      return { ...out, Rules: (out['Rules'] as { RuleArn?: string }[]).map((r) => (r.RuleArn !== undefined && this.#rules.has(r.RuleArn) ? { ...r, Actions: this.#rules.get(r.RuleArn) } : r)) };
    }
    if (operation === 'ListOperations' && !out['NextToken'] && this.#operations.size > 0) {
      const listed = (out['Operations'] as { Id?: string }[] | undefined) ?? [];
      const seen = new Set(listed.map((o) => o.Id));
      const recorded = [...this.#operations.keys()].filter((id) => !seen.has(id)).map((Id) => ({ Id, Status: 'SUCCESS' }));
      return { ...out, Operations: [...listed, ...recorded] };
    }
    return out;
  }
}

/**
 * The client a write of `mode` goes through: `live` itself, or its recording twin on `recorder`. Functions
 * that wire only a few write adapters (traffic shift, webhook) use this directly; the others get the whole
 * port from `createWritePort`.
 */
export function clientForWrites<C extends SendingClient>(mode: WriteMode, recorder: WriteRecorder, live: C, service: string): C {
  return mode === 'live' ? live : recorder.wrap(live, service);
}
