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
 */
import { InvalidEventError } from '../errors.ts';
import { isAutoScalingGroupName, isLifecycleActionToken, isLifecycleHookName, quoted } from './names.ts';

/** Source of every event quiesce publishes. */
export const QUIESCE_SOURCE = 'quiesce';

/** Detail-types quiesce publishes on the audit bus. */
export const AuditDetailType = {
  planApplied: 'Deregistration Plan Applied',
  eventRejected: 'Event Rejected',
} as const;

export const DetailType = {
  spotWarning: 'EC2 Spot Instance Interruption Warning',
  rebalance: 'EC2 Instance Rebalance Recommendation',
  stateChange: 'EC2 Instance State-change Notification',
  lifecycle: 'EC2 Instance-terminate Lifecycle Action',
  recheck: 'Quiesce Re-registration Check',
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
export const INSTANCE_STATES: ReadonlySet<string> = new Set(['pending', 'running', ...DYING_STATES]);

/**
 * Most nodes and target groups one re-check may name. The guard writes one re-check per batch (an SQS batch
 * of at most 10 signals) naming the groups that pointed at those nodes; the bounds leave room for that and
 * keep a forged message from fanning out over a whole account.
 */
export const MAX_RECHECK_NODES = 100;
export const MAX_RECHECK_TARGET_GROUPS = 5000;

/** A node-level signal: "this instance is going away", with what told us. */
export type NodeSignal =
  | ({ readonly kind: 'spot-interruption'; readonly instanceId: string; readonly action: 'terminate' | 'stop' | 'hibernate' } & SignalOrigin)
  | ({ readonly kind: 'rebalance'; readonly instanceId: string } & SignalOrigin)
  | ({ readonly kind: 'state-change'; readonly instanceId: string; readonly state: string } & SignalOrigin)
  | ({ readonly kind: 'lifecycle'; readonly test: boolean } & PendingLifecycleAction & SignalOrigin);

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

/** An optional envelope field: absent, or a string EventBridge could have written. */
function envelopeText(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
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

/** Turns an EC2 / Auto Scaling envelope into a `NodeSignal`; anything else is an `InvalidEventError`. */
export function parseNodeSignal(envelope: EventBridgeEnvelope): NodeSignal {
  const { source, detail } = envelope;
  const detailType = envelope['detail-type'];
  const base = { ...(envelope.id === undefined ? {} : { eventId: envelope.id }), ...(envelope.time === undefined ? {} : { eventTime: envelope.time }) };
  if (source === 'aws.ec2') {
    switch (detailType) {
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
    const transition = detail['LifecycleTransition'] ?? detail['Event'];
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
    // Validated here, not by CompleteLifecycleAction: a name AWS rejects would fail only after the deregistrations.
    const token = detail['LifecycleActionToken'];
    if (token !== undefined && !isLifecycleActionToken(token)) {
      throw new InvalidEventError(`detail.LifecycleActionToken must be a UUID when present: ${quoted(token)}`, 'detail.LifecycleActionToken');
    }
    return {
      kind: 'lifecycle',
      instanceId: instanceId(detail, 'EC2InstanceId', 'detail.EC2InstanceId'),
      autoScalingGroupName: named(detail, 'AutoScalingGroupName', 'detail.AutoScalingGroupName', isAutoScalingGroupName, 'an Auto Scaling group name (1-255 of ASCII 33-126, no colon)'),
      lifecycleHookName: named(detail, 'LifecycleHookName', 'detail.LifecycleHookName', isLifecycleHookName, 'a lifecycle hook name (1-255 of A-Z a-z 0-9 - _ /)'),
      lifecycleActionToken: token,
      test: false,
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
  return {
    kind: 'recheck',
    instanceIds: ids,
    targetGroupArns: tgs,
    services: services as CloudMapServiceRef[],
    deadline,
    round,
    reason,
    ...(lifecycle.length > 0 ? { lifecycle } : {}),
  };
}

/** Wraps a re-check in the envelope it travels in, so the same parser handles SQS bodies of both kinds. */
export function recheckEnvelope(message: Omit<RecheckMessage, 'kind'>): EventBridgeEnvelope {
  return { source: QUIESCE_SOURCE, 'detail-type': DetailType.recheck, detail: { ...message } };
}
