/**
 * Fake Amazon CloudWatch Logs (signing name `logs`, awsJson1_1, target `Logs_20140328.*`): log groups whose
 * events arrive from EventBridge rule targets (event-rules.ts delivers them with `append`), read back with
 * FilterLogEvents, which is what `quiesce audit` calls.
 *
 * - CreateLogGroup: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
 *   (ResourceAlreadyExistsException).
 * - FilterLogEvents: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 *   `logGroupName` or `logGroupIdentifier` (name or ARN), `startTime` / `endTime` (epoch ms; events with a
 *   timestamp earlier than startTime or later than endTime are not returned), `limit` 1-10,000 (default
 *   10,000), `nextToken`; events come in timestamp order with `eventId`, `timestamp`, `message`,
 *   `ingestionTime`, `logStreamName`. A missing group is ResourceNotFoundException.
 *
 * Simplifications: one log stream per group; `filterPattern` is not modelled (a call with one is refused,
 * so code relying on it is noticed); no retention expiry, no KMS.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** One stored log event. */
export interface FakeLogEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
  readonly eventId: string;
}

/** The largest FilterLogEvents page. */
export const MAX_FILTER_LIMIT = 10_000;

export class FakeLogs implements FakeService {
  readonly signingName = 'logs';
  readonly #clock: FakeClock;
  #groups = new Map<string, FakeLogEvent[]>();
  #seq = 0;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#groups = new Map();
    this.#seq = 0;
  }

  /** Creates a log group (idempotent for tests: `seedLogGroup`). */
  seedLogGroup(name: string): void {
    if (!this.#groups.has(name)) this.#groups.set(name, []);
  }

  /** Whether a log group exists. */
  hasLogGroup(name: string): boolean {
    return this.#groups.has(name);
  }

  /** Appends an event, as a delivery to the group does; false when the group does not exist. */
  append(name: string, timestamp: number, message: string): boolean {
    const events = this.#groups.get(name);
    if (!events) return false;
    this.#seq += 1;
    events.push({ timestamp, message, ingestionTime: this.#clock.now(), eventId: String(this.#seq).padStart(20, '0') });
    events.sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId));
    return true;
  }

  /** The events of a group (tests). */
  events(name: string): readonly FakeLogEvent[] {
    return this.#groups.get(name) ?? [];
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'CreateLogGroup': {
        const name = String(input.logGroupName ?? '');
        if (!/^[\w\-./#]{1,512}$/.test(name)) throw new FakeAwsError('InvalidParameterException', `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint`, 400);
        if (this.#groups.has(name)) throw new FakeAwsError('ResourceAlreadyExistsException', 'The specified log group already exists', 400);
        this.#groups.set(name, []);
        return {};
      }
      case 'FilterLogEvents':
        return this.#filter(input);
      default:
        throw new UnknownOperationError('UnknownOperationException', `${operation} is not supported by the fake CloudWatch Logs`, 400);
    }
  }

  #filter(input: Record<string, unknown>): unknown {
    const identifier = String(input.logGroupIdentifier ?? input.logGroupName ?? '');
    const name = /^arn:aws[a-z-]*:logs:[^:]+:\d{12}:log-group:(.+?)(?::\*)?$/.exec(identifier)?.[1] ?? identifier;
    const events = this.#groups.get(name);
    if (!events) throw new FakeAwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400);
    if (typeof input.filterPattern === 'string' && input.filterPattern !== '') throw new FakeAwsError('InvalidParameterException', 'the fake CloudWatch Logs does not model filter patterns', 400);
    const limit = input.limit === undefined ? MAX_FILTER_LIMIT : Number(input.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FILTER_LIMIT) throw new FakeAwsError('InvalidParameterException', `1 validation error detected: Value '${String(input.limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000`, 400);
    const start = input.startTime === undefined ? Number.NEGATIVE_INFINITY : Number(input.startTime);
    const end = input.endTime === undefined ? Number.POSITIVE_INFINITY : Number(input.endTime);
    const matching = events.filter((e) => e.timestamp >= start && e.timestamp <= end);
    let offset = 0;
    if (typeof input.nextToken === 'string') {
      const m = /^fake-(\d+)$/.exec(input.nextToken);
      if (!m) throw new FakeAwsError('InvalidParameterException', 'The specified nextToken is invalid.', 400);
      offset = Number(m[1]);
    }
    const page = matching.slice(offset, offset + limit);
    const more = offset + limit < matching.length;
    return {
      events: page.map((e) => ({ logStreamName: 'events', timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: e.eventId })),
      searchedLogStreams: [{ logStreamName: 'events', searchedCompletely: !more }],
      ...(more ? { nextToken: `fake-${offset + limit}` } : {}),
    };
  }

  /** A log group's ARN, as a rule target names it. */
  static arnOf(name: string): string {
    return `arn:aws:logs:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:log-group:${name}`;
  }
}
