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
  if (!INSTANCE_ID.test(id)) throw new InvalidEventError(`${field} is not an EC2 instance id: "${id}"`, field);
  return id;
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
  const detail = obj(o['detail'], 'detail');
  const resources = Array.isArray(o['resources']) ? (o['resources'] as unknown[]).filter((r): r is string => typeof r === 'string') : undefined;
  return {
    source,
    'detail-type': detailType,
    detail,
    ...(typeof o['id'] === 'string' ? { id: o['id'] } : {}),
    ...(typeof o['time'] === 'string' ? { time: o['time'] } : {}),
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
          throw new InvalidEventError(`detail.instance-action must be terminate, stop or hibernate, got "${action}"`, 'detail.instance-action');
        }
        return { kind: 'spot-interruption', instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'), action, ...base };
      }
      case DetailType.rebalance:
        return { kind: 'rebalance', instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'), ...base };
      case DetailType.stateChange:
        return {
          kind: 'state-change',
          instanceId: instanceId(detail, 'instance-id', 'detail.instance-id'),
          state: str(detail, 'state', 'detail.state'),
          ...base,
        };
    }
  }
  if (source === 'aws.autoscaling' && detailType === DetailType.lifecycle) {
    const transition = detail['LifecycleTransition'] ?? detail['Event'];
    const test = transition === 'autoscaling:TEST_NOTIFICATION';
    if (!test && transition !== 'autoscaling:EC2_INSTANCE_TERMINATING') {
      throw new InvalidEventError(`detail.LifecycleTransition must be autoscaling:EC2_INSTANCE_TERMINATING, got "${String(transition)}"`, 'detail.LifecycleTransition');
    }
    if (test) {
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
    const token = detail['LifecycleActionToken'];
    return {
      kind: 'lifecycle',
      instanceId: instanceId(detail, 'EC2InstanceId', 'detail.EC2InstanceId'),
      autoScalingGroupName: str(detail, 'AutoScalingGroupName', 'detail.AutoScalingGroupName'),
      lifecycleHookName: str(detail, 'LifecycleHookName', 'detail.LifecycleHookName'),
      lifecycleActionToken: typeof token === 'string' ? token : undefined,
      test: false,
      ...base,
    };
  }
  throw new InvalidEventError(`unknown event: source "${source}", detail-type "${detailType}"`, 'detail-type');
}

/** Parses and validates a re-check message (our own, from the delay queue). */
export function parseRecheck(envelope: EventBridgeEnvelope): RecheckMessage {
  const d = envelope.detail;
  const ids = d['instanceIds'];
  const tgs = d['targetGroupArns'];
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string' && INSTANCE_ID.test(i))) {
    throw new InvalidEventError('detail.instanceIds must be a non-empty list of instance ids', 'detail.instanceIds');
  }
  if (!Array.isArray(tgs) || !tgs.every((t) => typeof t === 'string' && t.startsWith('arn:'))) {
    throw new InvalidEventError('detail.targetGroupArns must be a list of ARNs', 'detail.targetGroupArns');
  }
  const deadline = str(d, 'deadline', 'detail.deadline');
  if (Number.isNaN(Date.parse(deadline))) throw new InvalidEventError('detail.deadline must be an ISO time', 'detail.deadline');
  const round = d['round'];
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 1) {
    throw new InvalidEventError('detail.round must be a positive integer', 'detail.round');
  }
  const services = d['services'] ?? [];
  const refKeys = ['namespaceId', 'namespaceName', 'serviceId', 'serviceName'];
  if (
    !Array.isArray(services) ||
    !services.every((s) => s && typeof s === 'object' && refKeys.every((k) => typeof (s as Record<string, unknown>)[k] === 'string'))
  ) {
    throw new InvalidEventError('detail.services must be a list of {namespaceId, namespaceName, serviceId, serviceName}', 'detail.services');
  }
  const lifecycle = d['lifecycle'] ?? [];
  const lifecycleKeys = ['instanceId', 'autoScalingGroupName', 'lifecycleHookName'];
  if (
    !Array.isArray(lifecycle) ||
    !lifecycle.every(
      (l) =>
        l &&
        typeof l === 'object' &&
        lifecycleKeys.every((k) => typeof (l as Record<string, unknown>)[k] === 'string' && (l as Record<string, unknown>)[k] !== '') &&
        INSTANCE_ID.test((l as PendingLifecycleAction).instanceId) &&
        ['string', 'undefined'].includes(typeof (l as Record<string, unknown>)['lifecycleActionToken']),
    )
  ) {
    throw new InvalidEventError('detail.lifecycle must be a list of {instanceId, autoScalingGroupName, lifecycleHookName, lifecycleActionToken?}', 'detail.lifecycle');
  }
  return {
    kind: 'recheck',
    instanceIds: ids,
    targetGroupArns: tgs,
    services: services as CloudMapServiceRef[],
    deadline,
    round,
    reason: typeof d['reason'] === 'string' ? d['reason'] : '',
    ...(lifecycle.length > 0 ? { lifecycle: lifecycle as PendingLifecycleAction[] } : {}),
  };
}

/** Wraps a re-check in the envelope it travels in, so the same parser handles SQS bodies of both kinds. */
export function recheckEnvelope(message: Omit<RecheckMessage, 'kind'>): EventBridgeEnvelope {
  return { source: QUIESCE_SOURCE, 'detail-type': DetailType.recheck, detail: { ...message } };
}
