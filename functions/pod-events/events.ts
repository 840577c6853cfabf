/**
 * The two inputs of the pod-events trigger, parsed once into a typed signal:
 *
 * 1. quiesce's own "Pod Terminating" / "Pod Not Ready" (source `quiesce.kubernetes`), validated with the
 *    forwarder's own validator, so producer and consumer reject exactly the same things.
 * 2. kubernetes-event-exporter's EventBridge sink: a core/v1 Event (the exporter's EnhancedEvent: the Event's
 *    fields inline, plus `clusterName` and `involvedObject` with labels) as `detail`, under a `source` and
 *    `detail-type` the operator configures (EXPORTER_SOURCES). Only reason `Killing` on a Pod is acted on;
 *    it carries no pod IP, so the workflow resolves the pod through the cluster API. See docs/pod-events.md.
 *
 * A malformed event is an `InvalidEventError` naming the field; nothing has been read or written yet.
 */
import { InvalidEventError, OutOfScopeError } from '#core/errors.ts';
import { parseEnvelope } from '#core/contracts/node-events.ts';
import { isDns1123Label, isDns1123Subdomain, isUid, quoted } from '#core/contracts/names.ts';
import {
  DETAIL_TYPE_POD_NOT_READY,
  DETAIL_TYPE_POD_TERMINATING,
  POD_EVENT_SOURCE,
  validatePodTerminatingDetail,
  type PodTerminatingDetail,
} from '#core/contracts/pod-terminating.ts';

/** A pod-level signal: what told us, and what we know about the pod so far. */
export type PodSignal =
  | { readonly kind: 'forwarder'; readonly detail: PodTerminatingDetail; readonly eventId?: string }
  | {
      readonly kind: 'exporter-killing';
      readonly namespace: string;
      readonly name: string;
      /** involvedObject.uid: the pod incarnation the event is about (StatefulSet pods reuse names). */
      readonly uid: string | undefined;
      readonly message: string;
      readonly eventId?: string;
    }
  | { readonly kind: 'exporter-ignored'; readonly reason: string; readonly eventId?: string };

/** How many validator findings a rejection message lists (the rest are counted): a log line stays a line. */
const MAX_LISTED_ERRORS = 10;

function str(o: Record<string, unknown>, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new InvalidEventError(`${field} must be a non-empty string`, field);
  return v;
}

/**
 * Parses a raw input (an EventBridge envelope or an SQS body holding one) into a `PodSignal`. Events of
 * another cluster are an `OutOfScopeError` (a shared bus must not let one cluster act on another's IPs).
 */
export function parsePodSignal(raw: unknown, config: { clusterName: string; exporterSources: readonly string[] }): PodSignal {
  const envelope = parseEnvelope(raw);
  const base = envelope.id === undefined ? {} : { eventId: envelope.id };
  const detailType = envelope['detail-type'];
  if (envelope.source === POD_EVENT_SOURCE) {
    if (detailType !== DETAIL_TYPE_POD_TERMINATING && detailType !== DETAIL_TYPE_POD_NOT_READY) {
      throw new InvalidEventError(`unknown ${POD_EVENT_SOURCE} detail-type ${quoted(detailType)}`, 'detail-type');
    }
    const checked = validatePodTerminatingDetail(envelope.detail);
    if (!checked.ok) {
      const first = checked.errors[0];
      const listed = checked.errors.slice(0, MAX_LISTED_ERRORS).map((e) => `${e.field.slice(0, 80) || 'detail'} ${e.message}`);
      const more = checked.errors.length - listed.length;
      throw new InvalidEventError(
        `invalid pod event: ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
        first?.field ? `detail.${first.field.slice(0, 80)}` : 'detail',
      );
    }
    const expected = checked.detail.reason === 'deletion' ? DETAIL_TYPE_POD_TERMINATING : DETAIL_TYPE_POD_NOT_READY;
    if (detailType !== expected) throw new InvalidEventError(`detail.reason "${checked.detail.reason}" does not go with detail-type "${detailType}"`, 'detail.reason');
    if (checked.detail.cluster !== config.clusterName) {
      throw new OutOfScopeError(`pod event of cluster ${quoted(checked.detail.cluster)}, this deployment serves "${config.clusterName}"`);
    }
    return { kind: 'forwarder', detail: checked.detail, ...base };
  }
  if (config.exporterSources.includes(envelope.source)) {
    const d = envelope.detail;
    const involved = d['involvedObject'];
    if (involved === null || typeof involved !== 'object' || Array.isArray(involved)) {
      throw new InvalidEventError('detail.involvedObject must be an object (a core/v1 Event)', 'detail.involvedObject');
    }
    const obj = involved as Record<string, unknown>;
    const reason = str(d, 'reason', 'detail.reason');
    const cluster = d['clusterName'];
    if (cluster !== undefined && cluster !== null && typeof cluster !== 'string') {
      throw new InvalidEventError('detail.clusterName must be a string when present', 'detail.clusterName');
    }
    if (typeof cluster === 'string' && cluster !== '' && cluster !== config.clusterName) {
      throw new OutOfScopeError(`exporter event of cluster ${quoted(cluster)}, this deployment serves "${config.clusterName}"`);
    }
    if (reason !== 'Killing' || obj['kind'] !== 'Pod') {
      return { kind: 'exporter-ignored', reason: `event ${quoted(obj['kind'], 63)} ${quoted(reason, 63)}: only Killing on a Pod is acted on`, ...base };
    }
    const namespace = str(obj, 'namespace', 'detail.involvedObject.namespace');
    const name = str(obj, 'name', 'detail.involvedObject.name');
    // As the API server validates them: namespace a DNS-1123 label (63), pod name a DNS-1123 subdomain (253).
    if (!isDns1123Label(namespace)) throw new InvalidEventError(`not a namespace name: ${quoted(namespace)}`, 'detail.involvedObject.namespace');
    if (!isDns1123Subdomain(name)) throw new InvalidEventError(`not a pod name: ${quoted(name)}`, 'detail.involvedObject.name');
    const uid = obj['uid'];
    if (uid !== undefined && uid !== '' && !isUid(uid)) {
      throw new InvalidEventError('detail.involvedObject.uid must be at most 128 printable characters when present', 'detail.involvedObject.uid');
    }
    const message = typeof d['message'] === 'string' ? d['message'].slice(0, 1024) : '';
    return { kind: 'exporter-killing', namespace, name, uid: typeof uid === 'string' && uid !== '' ? uid : undefined, message, ...base };
  }
  throw new InvalidEventError(`unknown event: source "${envelope.source}", detail-type "${detailType}"`, 'source');
}
