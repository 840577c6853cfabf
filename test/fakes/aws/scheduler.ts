/**
 * Fake Amazon EventBridge Scheduler (signing name `scheduler`, restJson1): the durable pause between the
 * steps of a traffic shift. Schedules fire on the FakeClock, never on a timer: `fireDue()` returns (once)
 * every invocation that became due, and applies ActionAfterCompletion.
 *
 * Follows the API reference:
 * - CreateSchedule: https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
 *   (Name 1-64 of [0-9a-zA-Z-_.]; FlexibleTimeWindow and Target {Arn, RoleArn} required; ConflictException
 *   (409) when the name exists in the group; ResourceNotFoundException (404) for an unknown group;
 *   ActionAfterCompletion NONE | DELETE, default NONE; State ENABLED | DISABLED)
 * - Schedule types: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 *   (one-time schedules are `at(yyyy-mm-ddThh:mm:ss)` in ScheduleExpressionTimezone, default UTC; after a
 *   one-time schedule has run, it stays unless ActionAfterCompletion is DELETE)
 * - GetSchedule / DeleteSchedule: ResourceNotFoundException (404) for a missing schedule.
 *
 * Simplifications: only `at()` expressions fire (rate/cron are refused as unsupported by the fake); only
 * UTC; flexible windows fire at their start; no retries or dead-letter queues; no schedule groups API
 * (groups are seeded with `seedGroup`).
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService, RestRoute } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

/** A schedule's target, in the API's shape (only the fields quiesce uses are typed). */
export interface ScheduleTarget {
  readonly Arn: string;
  readonly RoleArn: string;
  readonly Input?: string;
  readonly EventBridgeParameters?: { readonly DetailType: string; readonly Source: string };
  readonly [key: string]: unknown;
}

/** One invocation the fake made of a schedule's target. */
export interface ScheduleInvocation {
  readonly scheduleName: string;
  readonly groupName: string;
  readonly target: ScheduleTarget;
  /** Fake-clock ms when it was due. */
  readonly dueAt: number;
}

interface Schedule {
  name: string;
  group: string;
  arn: string;
  expression: string;
  at: number;
  timezone: string;
  target: ScheduleTarget;
  flexibleTimeWindow: Record<string, unknown>;
  state: 'ENABLED' | 'DISABLED';
  actionAfterCompletion: 'NONE' | 'DELETE';
  description?: string;
  createdAt: number;
  modifiedAt: number;
  fired: boolean;
}

const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** Fake EventBridge Scheduler. */
export class FakeScheduler implements FakeService {
  readonly signingName = 'scheduler';
  readonly restRoutes: readonly RestRoute[] = [
    { method: 'POST', path: '/schedules/{Name}', operation: 'CreateSchedule' },
    { method: 'GET', path: '/schedules/{Name}', operation: 'GetSchedule' },
    { method: 'DELETE', path: '/schedules/{Name}', operation: 'DeleteSchedule' },
    { method: 'GET', path: '/schedules', operation: 'ListSchedules' },
  ];
  readonly #clock: FakeClock;
  #groups = new Set<string>(['default']);
  #schedules = new Map<string, Schedule>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  reset(): void {
    this.#groups = new Set(['default']);
    this.#schedules.clear();
  }

  // ---- JS hooks ----------------------------------------------------------------------------------------

  /** Creates a schedule group (the fake has no CreateScheduleGroup API). */
  seedGroup(name: string): void {
    this.#groups.add(name);
  }

  /** Schedules that exist now (fired ones included unless deleted), soonest first. */
  schedules(): { name: string; group: string; at: number; state: string; fired: boolean; target: ScheduleTarget }[] {
    return [...this.#schedules.values()]
      .sort((a, b) => a.at - b.at)
      .map((s) => ({ name: s.name, group: s.group, at: s.at, state: s.state, fired: s.fired, target: s.target }));
  }

  /** When the next enabled, unfired schedule is due (fake ms), or undefined. */
  nextDueAt(): number | undefined {
    const due = [...this.#schedules.values()].filter((s) => s.state === 'ENABLED' && !s.fired).map((s) => s.at);
    return due.length === 0 ? undefined : Math.min(...due);
  }

  /**
   * Fires every enabled one-time schedule due at the current fake time, once, in due order, and applies
   * ActionAfterCompletion (DELETE removes it; NONE keeps it, fired). Returns the target invocations.
   */
  fireDue(): ScheduleInvocation[] {
    const now = this.#clock.now();
    const due = [...this.#schedules.values()].filter((s) => s.state === 'ENABLED' && !s.fired && s.at <= now).sort((a, b) => a.at - b.at);
    for (const s of due) {
      s.fired = true;
      if (s.actionAfterCompletion === 'DELETE') this.#schedules.delete(key(s.group, s.name));
    }
    return due.map((s) => ({ scheduleName: s.name, groupName: s.group, target: s.target, dueAt: s.at }));
  }

  // ---- API ---------------------------------------------------------------------------------------------

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'CreateSchedule':
        return this.#create(input);
      case 'GetSchedule':
        return this.#get(input);
      case 'DeleteSchedule':
        return this.#delete(input);
      case 'ListSchedules':
        return { Schedules: [...this.#schedules.values()].map((s) => ({ Name: s.name, GroupName: s.group, Arn: s.arn, State: s.state })) };
      default:
        throw new UnknownOperationError('ValidationException', `${operation} is not supported by the fake Scheduler`, 400);
    }
  }

  #group(input: Record<string, unknown>): string {
    const g = input.GroupName ?? input.groupName ?? 'default';
    const group = String(g);
    if (!this.#groups.has(group)) throw new FakeAwsError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
    return group;
  }

  #create(input: Record<string, unknown>): unknown {
    const name = String(input.Name ?? '');
    if (!NAME.test(name)) throw validation(`Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and length 1-64`);
    const group = this.#group(input);
    const expression = String(input.ScheduleExpression ?? '');
    const timezone = String(input.ScheduleExpressionTimezone ?? 'UTC');
    const ftw = input.FlexibleTimeWindow as Record<string, unknown> | undefined;
    if (!ftw || (ftw.Mode !== 'OFF' && ftw.Mode !== 'FLEXIBLE')) throw validation('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE');
    if (ftw.Mode === 'FLEXIBLE') {
      const m = ftw.MaximumWindowInMinutes;
      if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 1440) throw validation('MaximumWindowInMinutes must be 1-1440 when Mode is FLEXIBLE');
    }
    const target = input.Target as ScheduleTarget | undefined;
    if (!target || typeof target.Arn !== 'string' || target.Arn === '' || typeof target.RoleArn !== 'string' || target.RoleArn === '') {
      throw validation('Target.Arn and Target.RoleArn are required');
    }
    if (target.Input !== undefined && (typeof target.Input !== 'string' || target.Input.length > 8192)) throw validation('Target.Input must be a string of at most 8192 characters');
    const after = String(input.ActionAfterCompletion ?? 'NONE');
    if (after !== 'NONE' && after !== 'DELETE') throw validation('ActionAfterCompletion must be NONE or DELETE');
    const state = String(input.State ?? 'ENABLED');
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation('State must be ENABLED or DISABLED');
    if (timezone !== 'UTC' && timezone !== 'Etc/UTC') throw validation(`the fake Scheduler supports only UTC, got ${timezone}`);
    const m = AT.exec(expression);
    if (!m) {
      if (/^(rate|cron)\(.+\)$/.test(expression)) throw validation('the fake Scheduler supports only one-time at() expressions');
      throw validation(`Invalid Schedule Expression ${expression}.`);
    }
    const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 19) !== `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`) {
      throw validation(`Invalid Schedule Expression ${expression}.`);
    }
    const k = key(group, name);
    if (this.#schedules.has(k)) throw new FakeAwsError('ConflictException', `Schedule ${name} already exists.`, 409);
    const arn = `arn:aws:scheduler:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:schedule/${group}/${name}`;
    const now = this.#clock.now();
    this.#schedules.set(k, {
      name,
      group,
      arn,
      expression,
      at,
      timezone,
      target: { ...target },
      flexibleTimeWindow: { ...ftw },
      state,
      actionAfterCompletion: after,
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
      createdAt: now,
      modifiedAt: now,
      fired: false,
    });
    return { ScheduleArn: arn };
  }

  #find(input: Record<string, unknown>): Schedule {
    const name = String(input.Name ?? '');
    const group = this.#group(input);
    const s = this.#schedules.get(key(group, name));
    if (!s) throw new FakeAwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return s;
  }

  #get(input: Record<string, unknown>): unknown {
    const s = this.#find(input);
    return {
      Arn: s.arn,
      GroupName: s.group,
      Name: s.name,
      ScheduleExpression: s.expression,
      ScheduleExpressionTimezone: s.timezone,
      State: s.state,
      Target: s.target,
      FlexibleTimeWindow: s.flexibleTimeWindow,
      ActionAfterCompletion: s.actionAfterCompletion,
      CreationDate: s.createdAt / 1000,
      LastModificationDate: s.modifiedAt / 1000,
      ...(s.description !== undefined ? { Description: s.description } : {}),
    };
  }

  #delete(input: Record<string, unknown>): unknown {
    const s = this.#find(input);
    this.#schedules.delete(key(s.group, s.name));
    return {};
  }
}

const key = (group: string, name: string): string => `${group}/${name}`;

function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message, 400);
}
