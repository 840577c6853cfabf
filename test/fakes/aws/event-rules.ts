/**
 * What the fake EventBridge does with an event once a bus accepted it: rules that match it deliver it to
 * their targets, and archives whose pattern matches keep it. Enough for the audit trail the stack builds
 * (infra/serverless/audit.yml): the quiesce bus's archive, and a rule delivering to a CloudWatch Logs group
 * that `quiesce audit` reads.
 *
 * - PutRule / PutTargets / DescribeRule / ListTargetsByRule (EventBridge API reference): a rule on a bus
 *   (`EventBusName`, default `default`) with an `EventPattern` (JSON) and state ENABLED / DISABLED; targets
 *   by `Id` and `Arn`. Targets the fake delivers: CloudWatch Logs groups (`arn:aws:logs:...:log-group:NAME`,
 *   one log event per event, the event as JSON, timestamped with the event's time). A delivery to a group
 *   that does not exist fails (kept in `failedDeliveries`: AWS counts it in FailedInvocations). Other target
 *   kinds are recorded, not delivered.
 * - CreateArchive / DescribeArchive: an archive of a bus (`EventSourceArn`) keeps the events matching its
 *   `EventPattern` (all when absent); `archived(name)` reads them back. StartReplay is not modelled.
 * - Event patterns (EventBridge UG, "Event patterns"): a field's array of values matches when one does
 *   (strings, numbers, booleans, null: exact); an object descends; `{prefix}`, `{anything-but}` (a value or
 *   a list) and `{exists}` are supported. Any other operator throws, so a pattern that needs more is noticed.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock } from './core.ts';
import type { FakeLogs } from './logs.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** An event as EventBridge hands it to targets. */
type Envelope = { readonly time: string };

interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly pattern: Record<string, unknown>;
  state: 'ENABLED' | 'DISABLED';
  targets: Map<string, { Id: string; Arn: string }>;
}

interface Archive {
  readonly name: string;
  readonly bus: string;
  readonly pattern: Record<string, unknown> | undefined;
  readonly retentionDays: number;
  readonly events: Envelope[];
  readonly createdAt: number;
}

const OPERATIONS = new Set(['PutRule', 'PutTargets', 'DescribeRule', 'ListTargetsByRule', 'CreateArchive', 'DescribeArchive']);

/** Whether one pattern value (an array of alternatives, or a nested object) matches an event value. */
function valueMatches(pattern: unknown, value: unknown, present: boolean): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(value) ? value : [value];
    return pattern.some((alt) => {
      if (alt !== null && typeof alt === 'object') {
        const [op, arg] = Object.entries(alt as Record<string, unknown>)[0] ?? [];
        if (op === 'exists') return arg === present;
        if (!present) return false;
        if (op === 'prefix') return values.some((v) => typeof v === 'string' && typeof arg === 'string' && v.startsWith(arg));
        if (op === 'anything-but') {
          const banned = Array.isArray(arg) ? arg : [arg];
          return values.some((v) => !banned.includes(v));
        }
        throw new Error(`the fake EventBridge does not model the pattern operator ${JSON.stringify(alt)}`);
      }
      return present && values.some((v) => v === alt);
    });
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (!present || value === null || typeof value !== 'object') return false;
    return patternMatches(pattern as Record<string, unknown>, value as Record<string, unknown>);
  }
  throw new Error(`an event pattern's leaves must be arrays, got ${JSON.stringify(pattern)}`);
}

/** Whether an event matches a pattern (every field of the pattern). */
export function patternMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([k, p]) => valueMatches(p, event[k], Object.prototype.hasOwnProperty.call(event, k)));
}

const busOf = (nameOrArn: unknown): string => {
  if (nameOrArn === undefined || nameOrArn === null || nameOrArn === '') return 'default';
  const s = String(nameOrArn);
  return /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(s)?.[1] ?? s;
};

/** Rules, targets and archives of the fake EventBridge (see the module comment). */
export class FakeEventRouting {
  readonly #clock: FakeClock;
  readonly #logs: FakeLogs;
  #rules = new Map<string, Rule>();
  #archives = new Map<string, Archive>();
  /** Deliveries that failed (a target that does not exist). */
  failedDeliveries: { rule: string; target: string; reason: string }[] = [];

  constructor(clock: FakeClock, logs: FakeLogs) {
    this.#clock = clock;
    this.#logs = logs;
  }

  reset(): void {
    this.#rules = new Map();
    this.#archives = new Map();
    this.failedDeliveries = [];
  }

  /** Whether this module answers the operation. */
  handles(operation: string): boolean {
    return OPERATIONS.has(operation);
  }

  /** The events an archive kept, oldest first. */
  archived(name: string): readonly Envelope[] {
    const a = this.#archives.get(name);
    if (!a) throw new Error(`no archive ${name}`);
    return a.events;
  }

  /** Routes an event a bus accepted: archives, then rules' targets. */
  route(bus: string, event: Envelope): void {
    const fields = event as unknown as Record<string, unknown>;
    for (const a of this.#archives.values()) if (a.bus === bus && (!a.pattern || patternMatches(a.pattern, fields))) a.events.push(structuredClone(event));
    for (const r of this.#rules.values()) {
      if (r.bus !== bus || r.state !== 'ENABLED' || !patternMatches(r.pattern, fields)) continue;
      for (const t of r.targets.values()) {
        const group = /^arn:aws[a-z-]*:logs:[^:]+:\d{12}:log-group:(.+?)(?::\*)?$/.exec(t.Arn)?.[1];
        if (group === undefined) continue;
        if (!this.#logs.append(group, Date.parse(event.time), JSON.stringify(event))) this.failedDeliveries.push({ rule: r.name, target: t.Arn, reason: 'log group does not exist' });
      }
    }
  }

  handle(operation: string, input: Record<string, unknown>, busExists: (name: string) => boolean): unknown {
    switch (operation) {
      case 'PutRule': {
        const name = String(input.Name ?? '');
        if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name)) throw new FakeAwsError('ValidationException', `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint`, 400);
        const bus = busOf(input.EventBusName);
        if (!busExists(bus)) throw new FakeAwsError('ResourceNotFoundException', `Event bus ${bus} does not exist.`, 400);
        if (typeof input.EventPattern !== 'string') throw new FakeAwsError('ValidationException', 'the fake EventBridge models rules with an EventPattern only', 400);
        let pattern: Record<string, unknown>;
        try {
          pattern = JSON.parse(input.EventPattern) as Record<string, unknown>;
        } catch {
          throw new FakeAwsError('InvalidEventPatternException', 'Event pattern is not valid. Reason: not JSON', 400);
        }
        const key = `${bus}/${name}`;
        const existing = this.#rules.get(key);
        this.#rules.set(key, { name, bus, pattern, state: input.State === 'DISABLED' ? 'DISABLED' : 'ENABLED', targets: existing?.targets ?? new Map() });
        return { RuleArn: this.#ruleArn(bus, name) };
      }
      case 'PutTargets': {
        const rule = this.#rule(input.Rule, input.EventBusName);
        const targets = (input.Targets ?? []) as { Id?: string; Arn?: string }[];
        for (const t of targets) rule.targets.set(String(t.Id ?? ''), { Id: String(t.Id ?? ''), Arn: String(t.Arn ?? '') });
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'DescribeRule': {
        const rule = this.#rule(input.Name, input.EventBusName);
        return { Name: rule.name, Arn: this.#ruleArn(rule.bus, rule.name), EventPattern: JSON.stringify(rule.pattern), State: rule.state, EventBusName: rule.bus };
      }
      case 'ListTargetsByRule':
        return { Targets: [...this.#rule(input.Rule, input.EventBusName).targets.values()] };
      case 'CreateArchive': {
        const name = String(input.ArchiveName ?? '');
        if (this.#archives.has(name)) throw new FakeAwsError('ResourceAlreadyExistsException', `Archive ${name} already exists.`, 400);
        const bus = busOf(input.EventSourceArn);
        if (!busExists(bus)) throw new FakeAwsError('ResourceNotFoundException', `Event bus ${bus} does not exist.`, 400);
        const pattern = typeof input.EventPattern === 'string' ? (JSON.parse(input.EventPattern) as Record<string, unknown>) : undefined;
        this.#archives.set(name, { name, bus, pattern, retentionDays: Number(input.RetentionDays ?? 0), events: [], createdAt: this.#clock.now() });
        return { ArchiveArn: this.#archiveArn(name), State: 'ENABLED', CreationTime: this.#clock.now() / 1000 };
      }
      case 'DescribeArchive': {
        const a = this.#archives.get(String(input.ArchiveName ?? ''));
        if (!a) throw new FakeAwsError('ResourceNotFoundException', `Archive ${String(input.ArchiveName)} does not exist.`, 400);
        return {
          ArchiveArn: this.#archiveArn(a.name),
          ArchiveName: a.name,
          EventSourceArn: `arn:aws:events:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:event-bus/${a.bus}`,
          ...(a.pattern ? { EventPattern: JSON.stringify(a.pattern) } : {}),
          State: 'ENABLED',
          RetentionDays: a.retentionDays,
          EventCount: a.events.length,
          SizeBytes: a.events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0),
          CreationTime: a.createdAt / 1000,
        };
      }
      default:
        throw new UnknownOperationError('UnknownOperationException', `${operation} is not supported by the fake EventBridge`, 400);
    }
  }

  #rule(name: unknown, bus: unknown): Rule {
    const rule = this.#rules.get(`${busOf(bus)}/${String(name ?? '')}`);
    if (!rule) throw new FakeAwsError('ResourceNotFoundException', `Rule ${String(name)} does not exist on EventBus ${busOf(bus)}.`, 400);
    return rule;
  }

  #ruleArn(bus: string, name: string): string {
    return `arn:aws:events:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
  }

  #archiveArn(name: string): string {
    return `arn:aws:events:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:archive/${name}`;
  }
}
