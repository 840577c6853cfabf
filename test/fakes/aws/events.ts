/**
 * Fake Amazon EventBridge (signing name `events`, awsJson1_1, target `AWSEvents.*`): event buses and
 * PutEvents with AWS's limits and per-entry partial failures. Accepted events are stored for tests.
 *
 * A bus's resource policy (PutPermission with `Policy`, or `setBusPolicy`) is evaluated for every entry
 * (policy.ts) with the condition keys EventBridge documents for PutEvents: `events:source`,
 * `events:detail-type` (the entry's), `events:eventBusInvocation` (false for PutEvents), and the global
 * `aws:PrincipalArn` / `aws:PrincipalAccount` of the caller (iam.ts). An entry the policy denies fails alone
 * with ErrorCode AccessDeniedException, one of the codes PutEventsResultEntry lists (which code AWS gives a
 * resource-policy denial is not documented: inferred).
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService, RequestCaller } from './core.ts';
import { FakeIam, type FakePrincipal } from './iam.ts';
import type { FakeEventRouting } from './event-rules.ts';
import { resourcePolicyAdmits, type PolicyDocument } from './policy.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** An event as EventBridge delivers it to targets (the envelope a rule's Lambda target receives). */
export interface EventBridgeEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** One accepted PutEvents entry. */
export interface PublishedEvent {
  busName: string;
  event: EventBridgeEnvelope;
}

interface Bus {
  Name: string;
  Arn: string;
  Description?: string;
  createdAt: number;
  /** The resource policy (JSON), if any. */
  Policy?: string;
}

// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html (Entries: 1-10 items)
export const MAX_PUT_EVENTS_ENTRIES = 10;
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html ("less than 256KB")
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message, 400);
}

function busNameOf(nameOrArn: unknown): string {
  if (nameOrArn === undefined || nameOrArn === null || nameOrArn === '') return 'default';
  if (typeof nameOrArn !== 'string') throw validation('EventBusName must be a string');
  const m = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

/**
 * The size AWS counts for one entry: Time 14 bytes if set; Source, DetailType, Detail and each Resources
 * entry by their UTF-8 byte length.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export function putEventsEntrySize(entry: Record<string, unknown>): number {
  const bytes = (v: unknown): number => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const r of entry.Resources) size += bytes(r);
  return size;
}

export class FakeEventBridge implements FakeService {
  readonly signingName = 'events';
  /** The PutEvents request-size limit; tests may lower it. */
  maxRequestBytes = MAX_PUT_EVENTS_BYTES;

  readonly #clock: FakeClock;
  readonly #iam: FakeIam;
  #buses = new Map<string, Bus>();
  #published: PublishedEvent[] = [];
  #dropped: PublishedEvent[] = [];
  #failNext: { n: number; code: string } = { n: 0, code: 'InternalFailure' };
  #seq = 0;
  #routing: FakeEventRouting | undefined;

  constructor(clock: FakeClock, iam: FakeIam = new FakeIam()) {
    this.#clock = clock;
    this.#iam = iam;
    this.reset();
  }

  reset(): void {
    this.maxRequestBytes = MAX_PUT_EVENTS_BYTES;
    this.#buses = new Map();
    this.#published = [];
    this.#dropped = [];
    this.#failNext = { n: 0, code: 'InternalFailure' };
    this.#seq = 0;
    this.#addBus('default');
  }

  handle(operation: string, input: Record<string, unknown>, caller?: RequestCaller): unknown {
    switch (operation) {
      case 'CreateEventBus':
        return this.#createEventBus(input);
      case 'DescribeEventBus':
        return this.#describeEventBus(input);
      case 'PutPermission':
        return this.#putPermission(input);
      case 'PutEvents':
        return this.#putEvents(input, this.#iam.principalOf(caller?.accessKeyId));
      default:
        if (this.#routing?.handles(operation)) return this.#routing.handle(operation, input, (bus) => this.#buses.has(bus));
        throw new UnknownOperationError('UnknownOperationException', `${operation} is not supported by the fake EventBridge`, 400);
    }
  }

  /** Rules, targets and archives (event-rules.ts): what happens to an event a bus accepted. */
  routeWith(routing: FakeEventRouting): void {
    this.#routing = routing;
  }

  // ---- JS helpers ----------------------------------------------------------------------------------------

  /** Accepted events, oldest first; only those for `busName` (a name or ARN) if given. */
  published(busName?: string): PublishedEvent[] {
    const name = busName === undefined ? undefined : busNameOf(busName);
    return this.#published.filter((p) => name === undefined || p.busName === name);
  }

  /** Events AWS accepted for a bus that does not exist (AWS drops them silently). */
  dropped(): PublishedEvent[] {
    return [...this.#dropped];
  }

  /** Sets (or with undefined, removes) a bus's resource policy, as PutPermission with `Policy` does. */
  setBusPolicy(busName: string, policy: PolicyDocument | undefined): void {
    const bus = this.#buses.get(busNameOf(busName));
    if (!bus) throw new FakeAwsError('ResourceNotFoundException', `Event bus ${busName} does not exist.`, 400);
    if (policy === undefined) delete bus.Policy;
    else bus.Policy = JSON.stringify(policy);
  }

  /** PutEvents as the principal behind `accessKeyId` (iam.ts), as an SDK call signed with it would. */
  putEventsAs(accessKeyId: string, entries: Record<string, unknown>[]): { FailedEntryCount: number; Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[] } {
    return this.#putEvents({ Entries: entries }, this.#iam.principalOf(accessKeyId)) as never;
  }

  /** The next `n` otherwise valid entries fail with this per-entry ErrorCode (partial failure). */
  failNextEntries(n: number, code = 'InternalFailure'): void {
    this.#failNext = { n, code };
  }

  // ---- buses ---------------------------------------------------------------------------------------------

  #addBus(name: string, description?: string): Bus {
    const bus: Bus = {
      Name: name,
      Arn: `arn:aws:events:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:event-bus/${name}`,
      createdAt: this.#clock.now(),
      ...(description !== undefined ? { Description: description } : {}),
    };
    this.#buses.set(name, bus);
    return bus;
  }

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html
  #createEventBus(input: Record<string, unknown>): unknown {
    const name = input.Name;
    // Name: 1-256 characters of [/\.\-_A-Za-z0-9]; a custom bus name cannot contain "/" nor be "default".
    if (typeof name !== 'string' || !/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) {
      throw validation(`1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint`);
    }
    if (name.includes('/') && input.EventSourceName === undefined) {
      throw validation('Event bus name must not contain \'/\'.');
    }
    if (this.#buses.has(name)) {
      throw new FakeAwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`, 400);
    }
    const description = typeof input.Description === 'string' ? input.Description : undefined;
    const bus = this.#addBus(name, description);
    return { EventBusArn: bus.Arn, ...(description !== undefined ? { Description: description } : {}) };
  }

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeEventBus.html
  #describeEventBus(input: Record<string, unknown>): unknown {
    const name = busNameOf(input.Name);
    const bus = this.#buses.get(name);
    if (!bus) throw new FakeAwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`, 400);
    return {
      Name: bus.Name,
      Arn: bus.Arn,
      ...(bus.Description !== undefined ? { Description: bus.Description } : {}),
      ...(bus.Policy !== undefined ? { Policy: bus.Policy } : {}),
      CreationTime: bus.createdAt / 1000,
      LastModifiedTime: bus.createdAt / 1000,
    };
  }

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html: `Policy` (a JSON
  // string) replaces the bus's whole resource policy. The single-statement form (Principal + Action) is not
  // modelled.
  #putPermission(input: Record<string, unknown>): unknown {
    if (typeof input.Policy !== 'string') throw validation('the fake EventBridge supports PutPermission with Policy only');
    let doc: PolicyDocument;
    try {
      doc = JSON.parse(input.Policy) as PolicyDocument;
    } catch {
      throw validation('Policy is not valid JSON');
    }
    this.setBusPolicy(typeof input.EventBusName === 'string' ? input.EventBusName : 'default', doc);
    return {};
  }

  // ---- PutEvents -----------------------------------------------------------------------------------------

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
  #putEvents(input: Record<string, unknown>, caller: FakePrincipal): unknown {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
      const n = Array.isArray(entries) ? entries.length : 0;
      throw validation(
        `1 validation error detected: Value '[PutEventsRequestEntry x ${n}]' at 'entries' failed to satisfy ` +
          `constraint: Member must have length ${n < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      );
    }
    const list = entries.map((e: unknown) => (e !== null && typeof e === 'object' ? e : {}) as Record<string, unknown>);
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html: total must be < 256 KB.
    const total = list.reduce((sum, e) => sum + putEventsEntrySize(e), 0);
    if (total >= this.maxRequestBytes) {
      throw validation(`Total size of the entries in the request is over the limit (${total} bytes).`);
    }
    let failed = 0;
    const results = list.map((entry) => {
      const r = this.#putEntry(entry, caller);
      if ('ErrorCode' in r) failed += 1;
      return r;
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  /**
   * One entry: the per-entry ErrorCode values are those of
   * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
   */
  #putEntry(entry: Record<string, unknown>, caller: FakePrincipal): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const fail = (ErrorCode: string, ErrorMessage: string) => ({ ErrorCode, ErrorMessage });
    const { Source, DetailType, Detail } = entry;
    if (typeof Source !== 'string' || Source === '') {
      return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
    }
    if (typeof DetailType !== 'string' || DetailType === '') {
      return fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
    }
    if (typeof Detail !== 'string' || Detail === '') {
      return fail('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.');
    }
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      return fail('MalformedDetail', 'Detail is malformed.');
    }
    // Detail must be a JSON object.
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
      return fail('MalformedDetail', 'Detail is malformed.');
    }
    // The "aws." source prefix is reserved for AWS services: NotAuthorizedForSourceException.
    if (Source.startsWith('aws.')) {
      return fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
    }
    const target = this.#buses.get(busNameOf(entry.EventBusName));
    if (target?.Policy !== undefined) {
      const context = { 'events:source': Source, 'events:detail-type': DetailType, 'events:eventBusInvocation': 'false', 'aws:PrincipalArn': caller.arn, 'aws:PrincipalAccount': caller.account };
      const admitted = resourcePolicyAdmits(JSON.parse(target.Policy) as PolicyDocument, { action: 'events:PutEvents', resource: target.Arn, principal: { kind: 'aws', arn: caller.arn, account: caller.account }, context }, FAKE_ACCOUNT_ID);
      if (!admitted) return fail('AccessDeniedException', `${caller.arn} is not authorized to put ${DetailType} on ${target.Name} (resource policy).`);
    }
    if (this.#failNext.n > 0) {
      this.#failNext.n -= 1;
      return fail(this.#failNext.code, 'Injected failure (fake EventBridge).');
    }
    this.#seq += 1;
    const id = `00000000-0000-4000-8000-${this.#seq.toString(16).padStart(12, '0')}`;
    const time = typeof entry.Time === 'number' ? entry.Time * 1000 : this.#clock.now();
    const busName = busNameOf(entry.EventBusName);
    const published: PublishedEvent = {
      busName,
      event: {
        version: '0',
        id,
        'detail-type': DetailType,
        source: Source,
        account: FAKE_ACCOUNT_ID,
        // EventBridge event times have a resolution of one second.
        time: new Date(Math.floor(time / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        region: FAKE_REGION,
        resources: Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [],
        detail: detail as Record<string, unknown>,
      },
    };
    // PutEvents to a bus that does not exist succeeds with an EventId and the event is silently dropped
    // (https://github.com/aws/aws-cli/issues/9186, https://github.com/aws/aws-sdk/issues/186).
    if (this.#buses.has(busName)) {
      this.#published.push(published);
      this.#routing?.route(busName, published.event);
    }
    else this.#dropped.push(published);
    return { EventId: id };
  }
}
