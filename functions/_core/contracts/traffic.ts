/**
 * The event contracts of the traffic shift: what the deploy webhook publishes ("Deployment Synced"), the
 * shift's own step and failover-check events (delivered by EventBridge Scheduler), and the lifecycle events
 * it publishes for operators ("Traffic Shift Started / Step Applied / Completed / Aborted / Refused").
 * Parsed here, once, so a malformed event is an `InvalidEventError` naming the field before anything runs.
 */
import { createHash } from 'node:crypto';
import { InvalidEventError } from '#core/errors.ts';
import type { WeightedTargetGroup } from '#core/domain/plan.ts';
import { hasControlCharacter, isDns1123Label, quoted } from './names.ts';
import { parseEnvelope, QUIESCE_SOURCE } from './node-events.ts';

/** Detail-types of the traffic shift (source `quiesce`). */
export const TrafficDetailType = {
  deploymentSynced: 'Deployment Synced',
  stepDue: 'Traffic Shift Step Due',
  failoverCheck: 'Weighted Rule Failover Check',
  /** The watchdog's round (a constant event on a 2-minute schedule): finish or roll back stranded shifts. */
  watchdog: 'Traffic Shift Watchdog',
  started: 'Traffic Shift Started',
  stepApplied: 'Traffic Shift Step Applied',
  completed: 'Traffic Shift Completed',
  aborted: 'Traffic Shift Aborted',
  refused: 'Traffic Shift Refused',
} as const;

/**
 * The state-table key of a rule's shift lock: held by a traffic shift for as long as it runs, and read by the
 * weighted-rule failover, which leaves a rule a shift holds to the shift.
 */
export const lockKey = (ruleArn: string): string => `lock#${ruleArn}`;

/** Where ArgoCD deployed the application. */
export interface DeploymentDestination {
  readonly name?: string;
  readonly server?: string;
  readonly namespace?: string;
}

/**
 * The normalized "Deployment Synced" detail: one ArgoCD sync of one revision, succeeded and healthy.
 * `revision` identifies the sync for every kind of Application: a single-source app's revision, or for a
 * multi-source app (`spec.sources`, which leaves `syncResult.revision` "" and fills `syncResult.revisions`)
 * the identity of its revisions ({@link revisionIdentity}), with the list itself in `revisions`.
 */
export interface DeploymentSynced {
  readonly app: string;
  readonly project: string;
  readonly revision: string;
  /** A multi-source app's revisions, one per source, in source order. */
  readonly revisions?: readonly string[];
  readonly phase: string;
  readonly syncStatus: string;
  readonly health: string;
  readonly finishedAt: string;
  readonly destination: DeploymentDestination;
  readonly receivedAt: string;
}

/**
 * The whole state of a running shift. It travels inside each step's schedule, so the pause between steps
 * needs no Lambda and no database read to know what comes next (the lock record only says whose turn it is).
 */
export interface ShiftState {
  readonly shiftId: string;
  readonly app: string;
  readonly revision: string;
  readonly ruleArn: string;
  readonly listenerArn: string;
  readonly from: string;
  readonly to: string;
  /** The percentages still to apply when the shift started (the configured steps above where it was). */
  readonly steps: readonly number[];
  /** Index into `steps` of the step this event applies. */
  readonly stepIndex: number;
  readonly original: readonly WeightedTargetGroup[];
  readonly pauseSeconds: number;
  readonly minHealthyTargets: number;
  readonly startedAt: string;
}

/** The failover re-check: look at these target groups' weighted rules again. */
export interface FailoverCheck {
  readonly targetGroupArns: readonly string[];
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidEventError(`${field} must be an object`, field);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, field: string, pattern?: RegExp, max = 1024): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new InvalidEventError(`${field} must be a non-empty string`, field);
  if (v.length > max) throw new InvalidEventError(`${field} must be at most ${max} characters`, field);
  if (pattern && !pattern.test(v)) throw new InvalidEventError(`${field} is not valid: ${quoted(v)}`, field);
  return v;
}

/** An optional string; by default any text without control characters (it reaches logs and events as it came). */
function optStr(o: Record<string, unknown>, key: string, field: string, max = 1024, valid: (v: string) => boolean = (v) => !hasControlCharacter(v)): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw new InvalidEventError(`${field} must be a string of at most ${max} characters`, field);
  if (!valid(v)) throw new InvalidEventError(`${field} is not valid: ${quoted(v)}`, field);
  return v;
}

/** An ISO 8601 time as JSON carries it (Date.parse accepts it), at most 64 characters. */
function time(o: Record<string, unknown>, key: string, field: string): string {
  const v = str(o, key, field, undefined, 64);
  if (Number.isNaN(Date.parse(v))) throw new InvalidEventError(`${field} must be an ISO 8601 time`, field);
  return v;
}

const ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]*:\d{12}:[a-z-]+\/\S+$/;
/** ArgoCD application names (DNS-1123 subdomain, optionally `namespace/name` for apps in any namespace). */
export const APP_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(\/[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)?$/;
/** A git SHA, a tag, a chart version: printable, no whitespace. */
export const REVISION = /^[\x21-\x7e]{1,200}$/;
/** Most sources one multi-source Application may list (Argo CD documents none; a bound against forged bodies). */
export const MAX_SOURCES = 20;

/**
 * What identifies a multi-source sync: its revisions joined by commas (readable, and what a REVISION may
 * hold), or `sha256:<hex>` of that when it is longer than 200 characters. The same revisions in the same
 * order give the same identity, so a replay of the sync is recognised as one.
 */
export function revisionIdentity(revisions: readonly string[]): string {
  const joined = revisions.join(',');
  return joined.length <= 200 ? joined : `sha256:${createHash('sha256').update(joined).digest('hex')}`;
}

/**
 * The sync's revision as ArgoCD reports it (docs/aws-facts.md#argo-cd-multi-source-revisions):
 * `revision` for a single-source app; for a multi-source app `revision` is "" (no omitempty) and
 * `revisions` holds one per source (null or absent for single-source apps, as the template renders it).
 */
function syncRevision(o: Record<string, unknown>, prefix: string): { revision: string; revisions?: string[] } {
  const list = o['revisions'];
  let revisions: string[] | undefined;
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SOURCES || !list.every((r) => typeof r === 'string' && REVISION.test(r))) {
      throw new InvalidEventError(`${prefix}revisions must be a list of 1-${MAX_SOURCES} revisions (printable, no whitespace, at most 200 characters each)`, `${prefix}revisions`);
    }
    revisions = list as string[];
  }
  const single = o['revision'];
  if ((single === '' || single === undefined || single === null) && revisions) return { revision: revisionIdentity(revisions), revisions };
  return { revision: str(o, 'revision', `${prefix}revision`, REVISION, 200), ...(revisions ? { revisions } : {}) };
}

/** Parses the payload ArgoCD sends (or the detail of the event we published from it). `prefix` names fields. */
export function parseDeploymentSynced(raw: unknown, receivedAt: string, prefix = ''): DeploymentSynced {
  const o = obj(raw, prefix === '' ? 'body' : prefix.slice(0, -1));
  const finishedAt = time(o, 'finishedAt', `${prefix}finishedAt`);
  const d = obj(o['destination'], `${prefix}destination`);
  const destination: DeploymentDestination = {
    ...(optStr(d, 'name', `${prefix}destination.name`, 253) !== undefined ? { name: d['name'] as string } : {}),
    ...(optStr(d, 'server', `${prefix}destination.server`, 2048) !== undefined ? { server: d['server'] as string } : {}),
    // A Kubernetes namespace: a DNS-1123 label, as the API server validates it.
    ...(optStr(d, 'namespace', `${prefix}destination.namespace`, 63, isDns1123Label) !== undefined ? { namespace: d['namespace'] as string } : {}),
  };
  if (destination.name === undefined && destination.server === undefined) {
    throw new InvalidEventError(`${prefix}destination needs a name or a server`, `${prefix}destination`);
  }
  return {
    app: str(o, 'app', `${prefix}app`, APP_NAME, 507),
    project: str(o, 'project', `${prefix}project`, APP_NAME, 253),
    ...syncRevision(o, prefix),
    phase: str(o, 'phase', `${prefix}phase`, /^(Succeeded|Failed|Error|Running|Terminating)$/),
    syncStatus: str(o, 'syncStatus', `${prefix}syncStatus`, /^(Synced|OutOfSync|Unknown)$/),
    health: str(o, 'health', `${prefix}health`, /^(Healthy|Progressing|Degraded|Suspended|Missing|Unknown)$/),
    finishedAt,
    destination,
    receivedAt: o['receivedAt'] === undefined ? receivedAt : time(o, 'receivedAt', `${prefix}receivedAt`),
  };
}

function weights(v: unknown, field: string): WeightedTargetGroup[] {
  if (!Array.isArray(v) || v.length === 0) throw new InvalidEventError(`${field} must be a non-empty list`, field);
  return v.map((w, i) => {
    const o = obj(w, `${field}[${i}]`);
    const weight = o['weight'];
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 999) throw new InvalidEventError(`${field}[${i}].weight must be 0..999`, `${field}[${i}].weight`);
    return { targetGroupArn: str(o, 'targetGroupArn', `${field}[${i}].targetGroupArn`, ARN), weight };
  });
}

/** Parses a step event's detail (our own, but it crossed a durable boundary: trust nothing). */
export function parseShiftState(detail: Record<string, unknown>): ShiftState {
  const steps = detail['steps'];
  if (!Array.isArray(steps) || steps.length === 0 || !steps.every((s) => typeof s === 'number' && s > 0 && s <= 100)) {
    throw new InvalidEventError('detail.steps must be a non-empty list of percentages', 'detail.steps');
  }
  const int = (key: string, min: number, max: number): number => {
    const v = detail[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidEventError(`detail.${key} must be an integer in ${min}..${max}`, `detail.${key}`);
    return v;
  };
  const stepIndex = int('stepIndex', 0, steps.length - 1);
  return {
    shiftId: str(detail, 'shiftId', 'detail.shiftId', /^[A-Za-z0-9-]{1,64}$/),
    app: str(detail, 'app', 'detail.app', APP_NAME),
    revision: str(detail, 'revision', 'detail.revision', REVISION),
    ruleArn: str(detail, 'ruleArn', 'detail.ruleArn', ARN),
    listenerArn: str(detail, 'listenerArn', 'detail.listenerArn', ARN),
    from: str(detail, 'from', 'detail.from', ARN),
    to: str(detail, 'to', 'detail.to', ARN),
    steps: steps as number[],
    stepIndex,
    original: weights(detail['original'], 'detail.original'),
    pauseSeconds: int('pauseSeconds', 0, 86_400),
    minHealthyTargets: int('minHealthyTargets', 1, 1000),
    startedAt: time(detail, 'startedAt', 'detail.startedAt'),
  };
}

/** Parses a failover re-check's detail. */
export function parseFailoverCheck(detail: Record<string, unknown>): FailoverCheck {
  const tgs = detail['targetGroupArns'];
  if (!Array.isArray(tgs) || tgs.length === 0 || !tgs.every((t) => typeof t === 'string' && ARN.test(t))) {
    throw new InvalidEventError('detail.targetGroupArns must be a non-empty list of target group ARNs', 'detail.targetGroupArns');
  }
  return { targetGroupArns: tgs as string[] };
}

/** One parsed traffic event: which workflow it is for, with its validated detail. */
export type TrafficEvent =
  | { readonly kind: 'deployment-synced'; readonly synced: DeploymentSynced }
  | { readonly kind: 'step-due'; readonly state: ShiftState }
  | { readonly kind: 'failover-check'; readonly targetGroupArns: readonly string[] }
  | { readonly kind: 'watchdog' };

/**
 * Parses an incoming event before anything runs (an `InvalidEventError` naming the field otherwise).
 * Shared by the traffic-shift function and `quiesce plan`, and judged on its own (the fuzz suite checks that
 * what it rejects writes nothing). `receivedAt` stamps a "Deployment Synced" that carries no receipt time.
 */
export function parseTrafficEvent(raw: unknown, receivedAt: string): TrafficEvent {
  const envelope = parseEnvelope(raw);
  // Every event of the shift is quiesce's own (the webhook, Scheduler on our behalf): the rule matches only
  // that source, and a direct invocation must not get further with another.
  if (envelope.source !== QUIESCE_SOURCE) throw new InvalidEventError(`source must be ${QUIESCE_SOURCE}, got ${quoted(envelope.source)}`, 'source');
  switch (envelope['detail-type']) {
    case TrafficDetailType.deploymentSynced:
      return { kind: 'deployment-synced', synced: parseDeploymentSynced(envelope.detail, receivedAt, 'detail.') };
    case TrafficDetailType.stepDue:
      return { kind: 'step-due', state: parseShiftState(envelope.detail) };
    case TrafficDetailType.failoverCheck:
      return { kind: 'failover-check', targetGroupArns: parseFailoverCheck(envelope.detail).targetGroupArns };
    case TrafficDetailType.watchdog:
      return { kind: 'watchdog' };
    default:
      throw new InvalidEventError(`unknown detail-type ${quoted(envelope['detail-type'])}`, 'detail-type');
  }
}
