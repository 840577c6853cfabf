/**
 * The event contracts quiesce consumes and publishes. Incoming events are parsed into small typed signals
 * here, once, so a handler never reads `detail['instance-id']` by hand and a malformed event is an
 * `InvalidEventError` naming the field at fault before anything else happens.
 *
 * Shapes follow the EC2 and EC2 Auto Scaling user guides:
 * - Spot warning: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
 * - Rebalance: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html
 * - State change: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
 * - Lifecycle: https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html
 * - Capacity reservation warning: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-interruptible-cr.html
 * - AWS Health: https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 *   (docs/aws-facts.md#aws-health-scheduled-change: detail times are RFC 1123)
 * How the raw Auto Scaling message and SNS envelopes become one of these: delivery.ts.
 */
import { ALIVE_INSTANCE_STATES } from '../domain/instance-state.ts';
import { InvalidEventError } from '../errors.ts';
import { isAutoScalingGroupName, isLifecycleActionToken, isLifecycleHookName, quoted } from './names.ts';

/** Source of every event quiesce publishes. */
export const QUIESCE_SOURCE = 'quiesce';

/** Detail-types quiesce publishes on the audit bus. */
export const AuditDetailType = {
  planApplied: 'Deregistration Plan Applied',
  eventRejected: 'Event Rejected',
  /** A function's own preflight on a cold start in dry run (functions/_core/preflight/cold-start.ts). */
  preflightChecked: 'Preflight Checked',
} as const;

export const DetailType = {
  spotWarning: 'EC2 Spot Instance Interruption Warning',
  rebalance: 'EC2 Instance Rebalance Recommendation',
  stateChange: 'EC2 Instance State-change Notification',
  lifecycle: 'EC2 Instance-terminate Lifecycle Action',
  capacityReservation: 'EC2 Capacity Reservation Instance Interruption Warning',
  health: 'AWS Health Event',
  recheck: 'Quiesce Re-registration Check',
  /** Our own: a scheduled change's deregistration is due (from a one-time schedule or a delayed message). */
  scheduledChangeDue: 'Quiesce Scheduled Change Due',
} as const;

/** The EventBridge envelope (the parts quiesce reads). */
export interface EventBridgeEnvelope {
  readonly id?: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time?: string;
  readonly resources?: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** EC2 states after which a node's registrations must go. */
export const DYING_STATES: ReadonlySet<string> = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

/** What every node signal carries besides its kind: which event, and when AWS says it happened. */
interface SignalOrigin {
  readonly eventId?: string;
  /** The envelope's `time` (RFC 3339): judged against the instance's current state and MAX_EVENT_AGE_SECONDS. */
  readonly eventTime?: string;
}

/** An Auto Scaling lifecycle action waiting for CompleteLifecycleAction. */
export interface PendingLifecycleAction {
  readonly instanceId: string;
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly lifecycleActionToken: string | undefined;
}

/** Every state an EC2 state-change notification can carry (EC2 user guide): anything else is not from EC2. */
export const INSTANCE_STATES: ReadonlySet<string> = new Set([...ALIVE_INSTANCE_STATES, ...DYING_STATES]);

/**
 * Most nodes and target groups one re-check may name. The guard writes one re-check per batch (an SQS batch
 * of at most 10 signals) naming the groups that pointed at those nodes; the bounds leave room for that and
 * keep a forged message from fanning out over a whole account.
 */
export const MAX_RECHECK_NODES = 100;
export const MAX_RECHECK_TARGET_GROUPS = 5000;

/** An AWS Health scheduled change (EC2, category scheduledChange) as it concerns one instance. */
export interface ScheduledChange {
  readonly eventArn: string;
  readonly eventTypeCode: string;
  /** ISO 8601 (the event writes RFC 1123). */
  readonly startTime: string;
  readonly endTime?: string;
}

/** A node-level signal: "this instance is going away", with what told us. */
export type NodeSignal =
  | ({ readonly kind: 'spot-interruption'; readonly instanceId: string; readonly action: 'terminate' | 'stop' | 'hibernate' } & SignalOrigin)
  | ({ readonly kind: 'capacity-reservation-interruption'; readonly instanceId: string; readonly action: 'terminate' } & SignalOrigin)
  | ({ readonly kind: 'rebalance'; readonly instanceId: string } & SignalOrigin)
  | ({
      readonly kind: 'state-change';
      readonly instanceId: string;
      readonly state: string;
      /** Set on the second look at a state change EC2 did not confirm the first time (a delayed re-check). */
      readonly secondLook?: boolean;
    } & SignalOrigin)
  | ({
      readonly kind: 'lifecycle';
      readonly test: boolean;
      /**
       * Why CompleteLifecycleAction cannot be called for it (a field only that step needs is missing or
       * malformed): the node still leaves traffic, the completion fails loudly.
       */
      readonly unusable?: { readonly field: string; readonly reason: string };
    } & PendingLifecycleAction &
      SignalOrigin)
  /**
   * An AWS Health scheduled change whose start or event ARN is unknown (Karpenter's tests send both empty):
   * it cannot be scheduled or followed by its updates, so the node leaves traffic now.
   */
  | ({ readonly kind: 'scheduled-change-now'; readonly instanceId: string; readonly eventTypeCode: string; readonly why: string } & SignalOrigin)
  /** A Health notification (new, moved, or closed): schedules, moves or cancels a deregistration. */
  | ({
      readonly kind: 'scheduled-change';
      readonly instanceId: string;
      readonly statusCode: 'open' | 'upcoming' | 'closed';
      /** Orders the notifications of one event (`lastUpdatedTime`, else the envelope time), ISO 8601. */
      readonly updatedAt: string;
    } & ScheduledChange &
      SignalOrigin)
  /** A scheduled deregistration is due; acted on only while the state table still names `token`. */
  | ({
      readonly kind: 'scheduled-change-due';
      readonly instanceId: string;
      readonly token: string;
      /** When AWS Health told us (the current-state check: an instance launched since is not affected). */
      readonly notifiedAt: string;
    } & ScheduledChange &
      SignalOrigin);

/** A delivery that is not a signal and asks for nothing (an SNS subscription confirmation, a Health event of another service): ignored with the reason. */
export interface Notice {
  readonly kind: 'notice';
  readonly reason: string;
}

/** Most affected entities one Health event may name (bounded against forged bodies; AWS sends few). */
export const MAX_AFFECTED_ENTITIES = 100;
const HEALTH_EVENT_ARN = /^arn:aws[a-z-]*:health:[a-z0-9-]*:\d{0,12}:event\/[\x21-\x7e]{1,1000}$/;
const EVENT_TYPE_CODE = /^[A-Z0-9_]{1,100}$/;
const HEALTH_STATUS: ReadonlySet<string> = new Set(['open', 'upcoming', 'closed']);
/** Schedule names quiesce gives a scheduled change's deregistration (Scheduler: 1-64 of [0-9a-zA-Z-_.]). */
const DUE_TOKEN = /^quiesce-hc-[0-9a-f]{16}-\d{1,12}$/;

/** A Cloud Map service, named enough to list its instances again. */
export interface CloudMapServiceRef {
  readonly namespaceId: string;
  readonly namespaceName: string;
  readonly serviceId: string;
  readonly serviceName: string;
}

/**
 * The re-registration guard's own message: look again at these target groups for these nodes until
 * `deadline`, deregistering what the Load Balancer Controller registered again.
 */
export interface RecheckMessage {
  readonly kind: 'recheck';
  readonly instanceIds: readonly string[];
  readonly targetGroupArns: readonly string[];
  /** Cloud Map services that held the nodes' instances (the App Mesh controller may register them again). */
  readonly services: readonly CloudMapServiceRef[];
  /** ISO time after which the guard stops. */
  readonly deadline: string;
  readonly round: number;
  readonly reason: string;
  /**
   * Lifecycle actions not completed yet because a registration of their node was still in traffic (held
   * back by a guard, failed, or a Cloud Map operation in flight): each round completes them once it is out.
   */
  readonly lifecycle?: readonly PendingLifecycleAction[];
  /**
   * Set on the first round after a spot warning took its candidates from the cluster: the groups that fast
   * path described. This round scans every group in scope once (completeness), and a registration of the
   * nodes it finds in a group outside this list is a fast-path miss (audited, metric `fastPathMiss`).
   */
  readonly completeness?: { readonly describedArns: readonly string[] };
  /**
   * State changes to a dying state that EC2 did not confirm when they arrived (DescribeInstances is
   * eventually consistent): this round looks at them once more, acts if EC2 agrees now, else drops them.
   */
  readonly lookAgain?: readonly UnconfirmedStateChange[];
}

/** A dying state change EC2 did not confirm yet, carried to its second look. */
export interface UnconfirmedStateChange {
  readonly instanceId: string;
  readonly state: string;
  readonly eventTime?: string;
  readonly eventId?: string;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
/** Envelope ids, account ids, regions, versions: printable ASCII, bounded. */
const ENVELOPE_TEXT = /^[\x20-\x7e]{1,256}$/;
/** A target group ARN (any partition), as the re-registration guard writes it. */
const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[\x21-\x7e]{1,2000}$/;
/** Cloud Map ids and names, as the guard copies them from ListServices / ListNamespaces. */
const CLOUD_MAP_TEXT = /^[\x21-\x7e]{1,1024}$/;
const isCloudMapText = (v: unknown): boolean => typeof v === 'string' && CLOUD_MAP_TEXT.test(v);

function obj(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError(`${field} must be an object`, field);
  }
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new InvalidEventError(`${field} must be a non-empty string`, field);
  return v;
}

function instanceId(o: Record<string, unknown>, key: string, field: string): string {
  const id = str(o, key, field);
  if (!INSTANCE_ID.test(id)) throw new InvalidEventError(`${field} is not an EC2 instance id: ${quoted(id)}`, field);
  return id;
}

/** A name that must pass `valid` (an AWS or Kubernetes name rule); `rule` says which, in the error. */
function named(o: Record<string, unknown>, key: string, field: string, valid: (v: unknown) => boolean, rule: string): string {
  const v = str(o, key, field);
  if (!valid(v)) throw new InvalidEventError(`${field} is not ${rule}: ${quoted(v)}`, field);
  return v;
}

/** A time as AWS writes it (RFC 3339, or RFC 1123 in Health details), at most 64 characters, as ISO 8601. */
function timeOf(o: Record<string, unknown>, key: string, field: string): string {
  const v = str(o, key, field);
  const at = v.length <= 64 ? Date.parse(v) : NaN;
  if (Number.isNaN(at)) throw new InvalidEventError(`${field} is not a time: ${quoted(v)}`, field);
  return new Date(at).toISOString();
}

/**
 * An optional envelope field: absent, or a string EventBridge could have written. An empty string is no
 * value (NTH's tests send `"time": ""`; Go marshals unset fields so): read as absent, not a rejection.
 */
function envelopeText(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !ENVELOPE_TEXT.test(v)) throw new InvalidEventError(`${key} must be a string of at most 256 printable characters`, key);
  return v;
}

/** Parses an EventBridge envelope; a string body (SQS) is JSON-parsed first. */
export function parseEnvelope(raw: unknown): EventBridgeEnvelope {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidEventError('body is not JSON', 'body');
    }
  }
  const o = obj(value, 'event');
  const source = str(o, 'source', 'source');
  const detailType = str(o, 'detail-type', 'detail-type');
  // EventBridge writes source and detail-type as printable text of at most 256 characters (PutEvents).
  if (!ENVELOPE_TEXT.test(source)) throw new InvalidEventError(`source is not an EventBridge source: ${quoted(source)}`, 'source');
  if (!ENVELOPE_TEXT.test(detailType)) throw new InvalidEventError(`detail-type is not an EventBridge detail-type: ${quoted(detailType)}`, 'detail-type');
  const detail = obj(o['detail'], 'detail');
  // The other envelope fields are optional (our own re-checks carry none), but never of another type.
  const id = envelopeText(o, 'id');
  const time = envelopeText(o, 'time');
  for (const key of ['version', 'account', 'region']) envelopeText(o, key);
  const rawResources = o['resources'];
  if (rawResources !== undefined && (!Array.isArray(rawResources) || !rawResources.every((r) => typeof r === 'string'))) {
    throw new InvalidEventError('resources must be a list of ARNs', 'resources');
  }
  const resources = rawResources as string[] | undefined;
  return {
    source,
    'detail-type': detailType,
    detail,
    ...(id !== undefined ? { id } : {}),
    ...(time !== undefined ? { time } : {}),
    ...(resources ? { resources } : {}),
  };
}

const originOf = (envelope: EventBridgeEnvelope): SignalOrigin => ({
  ...(envelope.id === undefined ? {} : { eventId: envelope.id }),
  ...(envelope.time === undefined ? {} : { eventTime: envelope.time }),
});

/**
 * Every signal an envelope carries: one, except an AWS Health event, which names its affected entities
 * (one signal per EC2 instance among them) or is a `Notice` (another service or category: not ours, as NTH
 * and Karpenter skip it). Anything malformed is an `InvalidEventError` naming the field.
 */
export function parseNodeSignals(envelope: EventBridgeEnvelope): (NodeSignal | Notice)[] {
  if (envelope.source === 'aws.health' && (envelope['detail-type'] === DetailType.health || envelope['detail-type'] === 'AWS Health Abuse Event')) return parseHealthEvent(envelope);
  return [parseNodeSignal(envelope)];
}

/**
 * An AWS Health event: EC2 scheduled changes (any code: retirement, stop, reboot, maintenance...) become
 * one `scheduled-change` per affected instance; other services and categories are notices. Entities that
 * are not instances (a dedicated host `h-...`) are skipped.
 */
function parseHealthEvent(envelope: EventBridgeEnvelope): (NodeSignal | Notice)[] {
  const d = envelope.detail;
  const service = str(d, 'service', 'detail.service');
  const category = str(d, 'eventTypeCategory', 'detail.eventTypeCategory');
  if (envelope['detail-type'] !== DetailType.health || service !== 'EC2' || category !== 'scheduledChange') {
    return [{ kind: 'notice', reason: `AWS Health ${quoted(service, 40)} ${quoted(category, 40)} event: only EC2 scheduled changes move a node` }];
  }
  // Lenient where strictness only drops work: a field absent or empty ("" is how Go writes an unset one) is
  // unknown, not malformed. A present value must still be what AWS Health writes.
  const given = (key: string): boolean => d[key] !== undefined && d[key] !== null && d[key] !== '';
  const eventArn = given('eventArn') ? named(d, 'eventArn', 'detail.eventArn', (v) => typeof v === 'string' && HEALTH_EVENT_ARN.test(v), 'an AWS Health event ARN') : undefined;
  const eventTypeCode = given('eventTypeCode') ? named(d, 'eventTypeCode', 'detail.eventTypeCode', (v) => typeof v === 'string' && EVENT_TYPE_CODE.test(v), 'an AWS Health event type code') : undefined;
  // Without a status the change is open (NTH's sample has none): only `closed` cancels.
  const statusCode = (given('statusCode') ? named(d, 'statusCode', 'detail.statusCode', (v) => HEALTH_STATUS.has(v as string), 'open, upcoming or closed') : 'open') as 'open' | 'upcoming' | 'closed';
  const startTime = given('startTime') ? timeOf(d, 'startTime', 'detail.startTime') : undefined;
  const endTime = given('endTime') ? timeOf(d, 'endTime', 'detail.endTime') : undefined;
  const updatedAt = given('lastUpdatedTime') ? timeOf(d, 'lastUpdatedTime', 'detail.lastUpdatedTime') : envelope.time !== undefined ? timeOf(envelope as unknown as Record<string, unknown>, 'time', 'time') : startTime;
  const entities = d['affectedEntities'];
  if (!Array.isArray(entities) || entities.length > MAX_AFFECTED_ENTITIES) {
    throw new InvalidEventError(`detail.affectedEntities must be a list of at most ${MAX_AFFECTED_ENTITIES} entities`, 'detail.affectedEntities');
  }
  const instanceIds = new Set<string>();
  entities.forEach((e, i) => {
    const value = obj(e, `detail.affectedEntities[${i}]`)['entityValue'];
    if (typeof value !== 'string' || value === '' || value.length > 1600) throw new InvalidEventError(`detail.affectedEntities[${i}].entityValue must be a non-empty string`, `detail.affectedEntities[${i}].entityValue`);
    if (INSTANCE_ID.test(value)) instanceIds.add(value);
  });
  const code = eventTypeCode ?? 'scheduled change';
  if (instanceIds.size === 0) return [{ kind: 'notice', reason: `AWS Health ${code} names no EC2 instance` }];
  if (eventArn === undefined || startTime === undefined || updatedAt === undefined) {
    // Nothing to schedule against and no way to follow its updates: the node leaves traffic now (as NTH and
    // Karpenter always do). A closed one cancels nothing that was scheduled.
    if (statusCode === 'closed') return [{ kind: 'notice', reason: `AWS Health ${code} closed, without ${eventArn === undefined ? 'an event ARN' : 'a start'}: nothing was scheduled for it` }];
    const why = [eventArn === undefined ? 'no event ARN' : undefined, startTime === undefined ? 'no start' : undefined].filter((w) => w !== undefined).join(', ');
    return [...instanceIds].map((instanceId) => ({ kind: 'scheduled-change-now', instanceId, eventTypeCode: code, why, ...originOf(envelope) }));
  }
  const change = { eventArn, eventTypeCode: code, startTime, ...(endTime ? { endTime } : {}) };
  return [...instanceIds].map((instanceId) => ({ kind: 'scheduled-change', instanceId, statusCode, updatedAt, ...change, ...originOf(envelope) }));
}

/** The detail of our own "Quiesce Scheduled Change Due" (it crossed a durable boundary: trust nothing). */
function parseScheduledChangeDue(d: Record<string, unknown>): NodeSignal {
  const endTime = d['endTime'] === undefined ? undefined : timeOf(d, 'endTime', 'detail.endTime');
  return {
    kind: 'scheduled-change-due',
    instanceId: instanceId(d, 'instanceId', 'detail.instanceId'),
    eventArn: named(d, 'eventArn', 'detail.eventArn', (v) => typeof v === 'string' && HEALTH_EVENT_ARN.test(v), 'an AWS Health event ARN'),
    eventTypeCode: named(d, 'eventTypeCode', 'detail.eventTypeCode', (v) => typeof v === 'string' && EVENT_TYPE_CODE.test(v), 'an AWS Health event type code'),
    startTime: timeOf(d, 'startTime', 'detail.startTime'),
    ...(endTime ? { endTime } : {}),
    token: named(d, 'token', 'detail.token', (v) => typeof v === 'string' && DUE_TOKEN.test(v), 'a scheduled-change token'),
    notifiedAt: timeOf(d, 'notifiedAt', 'detail.notifiedAt'),
  };
}

/** Turns an EC2 / Auto Scaling envelope (or our own due message) into a `NodeSignal`; anything else is an `InvalidEventError`. */
export function parseNodeSignal(envelope: EventBridgeEnvelope): NodeSignal {
  const { source, detail } = envelope;
  const detailType = envelope['detail-type'];
  const base = originOf(envelope);
  if (source === QUIESCE_SOURCE && detailType === DetailType.scheduledChangeDue) return parseScheduledChangeDue(detail);
  if (source === 'aws.ec2') {
    switch (detailType) {
      case DetailType.capacityReservation: {
        // Sent 2 minutes before an interruptible reservation's instances are terminated; only "terminate".
        const action = str(detail, 'instance-action', 'detail.instance-action');
        if (action !== 'terminate') throw new InvalidEventError(`detail.instance-action must be terminate, got ${quoted(action)}`, 'detail.instance-action');
        if (detail['instance-termination-time'] !== undefined) timeOf(detail, 'instance-termination-time', 'detail.instance-termination-time');
        if (detail['azId'] !== undefined && (typeof detail['azId'] !== 'string' || !ENVELOPE_TEXT.test(detail['azId']))) throw new InvalidEventError('detail.azId must be a zone id', 'detail.azId');
        return { kind: 'capacity-reservation-interruption', instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'), action, ...base };
      }
      case DetailType.spotWarning: {
        const action = str(detail, 'instance-action', 'detail.instance-action');
        if (action !== 'terminate' && action !== 'stop' && action !== 'hibernate') {
          throw new InvalidEventError(`detail.instance-action must be terminate, stop or hibernate, got ${quoted(action)}`, 'detail.instance-action');
        }
        return { kind: 'spot-interruption', instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'), action, ...base };
      }
      case DetailType.rebalance:
        return { kind: 'rebalance', instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'), ...base };
      case DetailType.stateChange:
        return {
          kind: 'state-change',
          instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'),
          state: named(detail, 'state', 'detail.state', (v) => INSTANCE_STATES.has(v as string), 'an EC2 instance state'),
          ...base,
        };
    }
  }
  if (source === 'aws.autoscaling' && detailType === DetailType.lifecycle) {
    // NTH's messages carry both keys, one of them "" (Go writes unset fields): the first non-empty one.
    const transition = [detail['LifecycleTransition'], detail['Event']].find((t) => t !== undefined && t !== '');
    const test = transition === 'autoscaling:TEST_NOTIFICATION';
    if (!test && transition !== 'autoscaling:EC2_INSTANCE_TERMINATING') {
      throw new InvalidEventError(`detail.LifecycleTransition must be autoscaling:EC2_INSTANCE_TERMINATING, got ${quoted(transition)}`, 'detail.LifecycleTransition');
    }
    if (test) {
      // A test notification is ignored, but a present field still has to be what Auto Scaling would send.
      if (detail['EC2InstanceId'] !== undefined) instanceId(detail, 'EC2InstanceId', 'detail.EC2InstanceId');
      if (detail['AutoScalingGroupName'] !== undefined) named(detail, 'AutoScalingGroupName', 'detail.AutoScalingGroupName', isAutoScalingGroupName, 'an Auto Scaling group name');
      return {
        kind: 'lifecycle',
        instanceId: typeof detail['EC2InstanceId'] === 'string' ? detail['EC2InstanceId'] : '',
        autoScalingGroupName: typeof detail['AutoScalingGroupName'] === 'string' ? detail['AutoScalingGroupName'] : '',
        lifecycleHookName: '',
        lifecycleActionToken: undefined,
        test: true,
        ...base,
      };
    }
    // The instance id is what takes the node out of traffic: required. The group, hook and token only serve
    // CompleteLifecycleAction: validated here (AWS would reject them only after the deregistrations), but a
    // bad one fails that step alone (`unusable`), loudly, never the node's way out.
    const id = instanceId(detail, 'EC2InstanceId', 'detail.EC2InstanceId');
    const token = detail['LifecycleActionToken'];
    const group = detail['AutoScalingGroupName'];
    const hook = detail['LifecycleHookName'];
    const unusable = !isAutoScalingGroupName(group)
      ? { field: 'detail.AutoScalingGroupName', reason: `not an Auto Scaling group name (1-255 of ASCII 33-126, no colon): ${quoted(group)}` }
      : !isLifecycleHookName(hook)
        ? { field: 'detail.LifecycleHookName', reason: `not a lifecycle hook name (1-255 of A-Z a-z 0-9 - _ /): ${quoted(hook)}` }
        : token !== undefined && token !== '' && !isLifecycleActionToken(token)
          ? { field: 'detail.LifecycleActionToken', reason: `not a lifecycle action token (a UUID): ${quoted(token)}` }
          : undefined;
    return {
      kind: 'lifecycle',
      instanceId: id,
      autoScalingGroupName: unusable ? '' : (group as string),
      lifecycleHookName: unusable ? '' : (hook as string),
      lifecycleActionToken: unusable || token === '' ? undefined : (token as string | undefined),
      test: false,
      ...(unusable ? { unusable } : {}),
      ...base,
    };
  }
  throw new InvalidEventError(`unknown event: source ${quoted(source)}, detail-type ${quoted(detailType)}`, 'detail-type');
}

/** Parses and validates a re-check message (our own, from the delay queue). */
export function parseRecheck(envelope: EventBridgeEnvelope): RecheckMessage {
  const d = envelope.detail;
  const ids = d['instanceIds'];
  const tgs = d['targetGroupArns'];
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_RECHECK_NODES || !ids.every((i) => typeof i === 'string' && INSTANCE_ID.test(i))) {
    throw new InvalidEventError(`detail.instanceIds must be a list of 1-${MAX_RECHECK_NODES} instance ids`, 'detail.instanceIds');
  }
  if (!Array.isArray(tgs) || tgs.length > MAX_RECHECK_TARGET_GROUPS || !tgs.every((t) => typeof t === 'string' && TARGET_GROUP_ARN.test(t))) {
    throw new InvalidEventError(`detail.targetGroupArns must be a list of at most ${MAX_RECHECK_TARGET_GROUPS} target group ARNs`, 'detail.targetGroupArns');
  }
  const deadline = str(d, 'deadline', 'detail.deadline');
  if (deadline.length > 64 || Number.isNaN(Date.parse(deadline))) throw new InvalidEventError('detail.deadline must be an ISO time', 'detail.deadline');
  const round = d['round'];
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 1) {
    throw new InvalidEventError('detail.round must be a positive integer', 'detail.round');
  }
  const reason = d['reason'] ?? '';
  if (typeof reason !== 'string' || reason.length > 4096) throw new InvalidEventError('detail.reason must be a string of at most 4096 characters', 'detail.reason');
  const services = d['services'] ?? [];
  const refKeys = ['namespaceId', 'namespaceName', 'serviceId', 'serviceName'];
  if (
    !Array.isArray(services) ||
    services.length > MAX_RECHECK_TARGET_GROUPS ||
    !services.every((s) => s && typeof s === 'object' && refKeys.every((k) => isCloudMapText((s as Record<string, unknown>)[k])))
  ) {
    throw new InvalidEventError('detail.services must be a list of {namespaceId, namespaceName, serviceId, serviceName}', 'detail.services');
  }
  const lifecycle = d['lifecycle'] ?? [];
  const isPending = (l: unknown): l is PendingLifecycleAction => {
    const o = l as Record<string, unknown> | null;
    return (
      !!o &&
      typeof o === 'object' &&
      typeof o['instanceId'] === 'string' &&
      INSTANCE_ID.test(o['instanceId']) &&
      isAutoScalingGroupName(o['autoScalingGroupName']) &&
      isLifecycleHookName(o['lifecycleHookName']) &&
      (o['lifecycleActionToken'] === undefined || isLifecycleActionToken(o['lifecycleActionToken']))
    );
  };
  if (!Array.isArray(lifecycle) || lifecycle.length > MAX_RECHECK_NODES || !lifecycle.every(isPending)) {
    throw new InvalidEventError('detail.lifecycle must be a list of {instanceId, autoScalingGroupName, lifecycleHookName, lifecycleActionToken?}', 'detail.lifecycle');
  }
  const completeness = d['completeness'];
  const described = (completeness as Record<string, unknown> | null | undefined)?.['describedArns'];
  if (completeness !== undefined && (!Array.isArray(described) || described.length > MAX_RECHECK_TARGET_GROUPS || !described.every((t) => typeof t === 'string' && TARGET_GROUP_ARN.test(t)))) {
    throw new InvalidEventError(`detail.completeness.describedArns must be a list of at most ${MAX_RECHECK_TARGET_GROUPS} target group ARNs`, 'detail.completeness');
  }
  const lookAgain = d['lookAgain'];
  const isUnconfirmed = (u: unknown): u is UnconfirmedStateChange => {
    const o = u as Record<string, unknown> | null;
    return (
      !!o &&
      typeof o === 'object' &&
      typeof o['instanceId'] === 'string' &&
      ids.includes(o['instanceId']) &&
      DYING_STATES.has(o['state'] as string) &&
      (o['eventTime'] === undefined || (typeof o['eventTime'] === 'string' && o['eventTime'].length <= 64 && !Number.isNaN(Date.parse(o['eventTime'])))) &&
      (o['eventId'] === undefined || (typeof o['eventId'] === 'string' && ENVELOPE_TEXT.test(o['eventId'])))
    );
  };
  if (lookAgain !== undefined && (!Array.isArray(lookAgain) || lookAgain.length > MAX_RECHECK_NODES || !lookAgain.every(isUnconfirmed))) {
    throw new InvalidEventError('detail.lookAgain must be a list of {instanceId (one of instanceIds), state (a dying state), eventTime?, eventId?}', 'detail.lookAgain');
  }
  return {
    kind: 'recheck',
    instanceIds: ids,
    targetGroupArns: tgs,
    services: services as CloudMapServiceRef[],
    deadline,
    round,
    reason,
    ...(lifecycle.length > 0 ? { lifecycle } : {}),
    ...(completeness !== undefined ? { completeness: { describedArns: described as string[] } } : {}),
    ...(lookAgain !== undefined && lookAgain.length > 0 ? { lookAgain: lookAgain as UnconfirmedStateChange[] } : {}),
  };
}

/** Wraps a re-check in the envelope it travels in, so the same parser handles SQS bodies of both kinds. */
export function recheckEnvelope(message: Omit<RecheckMessage, 'kind'>): EventBridgeEnvelope {
  return { source: QUIESCE_SOURCE, 'detail-type': DetailType.recheck, detail: { ...message } };
}
