/**
 * Event-bus port over EventBridge PutEvents: audit and step events, batched the way the API allows.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEvent, EventBusPort } from '../../ports/index.ts';
import { awsErrorName } from '../../errors.ts';
import type { ApiBudget } from './budget.ts';

/** PutEvents accepts 1-10 entries per call. */
export const MAX_ENTRIES_PER_PUT = 10;
/** PutEvents requires the total entry size to be below 256 KB. */
export const MAX_PUT_BYTES = 256 * 1024;

/** Per-entry error codes worth sending again; anything else (malformed detail, access) will fail again. */
const RETRYABLE_ENTRY_ERRORS = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

/**
 * The size EventBridge charges an entry against the 256 KB limit ("Calculating PutEvents event entry
 * size"): 14 bytes for Time if set, plus the UTF-8 bytes of Source, DetailType, Detail and each Resource.
 * Exported so tests and the bench can reason about batching without guessing.
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  size += Buffer.byteLength(entry.Source ?? '', 'utf8');
  size += Buffer.byteLength(entry.DetailType ?? '', 'utf8');
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8');
  for (const r of entry.Resources ?? []) size += Buffer.byteLength(r, 'utf8');
  return size;
}

/** Options of {@link AwsEventBus}. */
export interface AwsEventBusOptions {
  /** Rounds of resending failed entries, the first send included (default 4). */
  readonly maxRounds?: number;
}

type Failure = { event: BusEvent; errorCode: string; errorMessage: string };
interface Pending {
  readonly event: BusEvent;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
}

/**
 * {@link EventBusPort} on EventBridge. Why it is more than one PutEvents: the API takes at most 10 entries
 * and 256 KB per call and can accept part of a call (FailedEntryCount); only the failed entries are sent
 * again, so a consumer never sees an accepted event twice because of us, and what never got in is
 * returned rather than thrown, because an audit event must not fail the deregistration it describes.
 */
export class AwsEventBus implements EventBusPort {
  readonly #client: EventBridgeClient;
  readonly #budget: ApiBudget;
  readonly #busName: string;
  readonly #maxRounds: number;

  constructor(client: EventBridgeClient, budget: ApiBudget, eventBusName: string, options: AwsEventBusOptions = {}) {
    this.#client = client;
    this.#budget = budget;
    this.#busName = eventBusName;
    this.#maxRounds = Math.max(1, options.maxRounds ?? 4);
  }

  /** Publishes every event, in order of the input within each call; returns the events that never got in. */
  async publish(events: readonly BusEvent[]): Promise<{ failed: Failure[] }> {
    const failed: Failure[] = [];
    let pending: Pending[] = [];
    for (const event of events) {
      const entry: PutEventsRequestEntry = {
        EventBusName: this.#busName,
        Source: event.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail ?? {}),
        ...(event.resources !== undefined && event.resources.length > 0 ? { Resources: [...event.resources] } : {}),
      };
      const size = putEventsEntrySize(entry);
      if (size >= MAX_PUT_BYTES) {
        failed.push({ event, errorCode: 'EntryTooLarge', errorMessage: `entry is ${size} bytes; PutEvents takes less than ${MAX_PUT_BYTES}` });
      } else {
        pending.push({ event, entry, size });
      }
    }
    for (let round = 1; pending.length > 0; round++) {
      const retry: Pending[] = [];
      for (const batch of batches(pending)) {
        const last = round >= this.#maxRounds;
        let res;
        try {
          res = await this.#budget.call('events', 'PutEvents', () =>
            this.#client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) })),
          );
        } catch (err) {
          // The budget already retried what was retryable; the whole call is lost.
          const message = err instanceof Error ? err.message : String(err);
          for (const p of batch) failed.push({ event: p.event, errorCode: awsErrorName(err), errorMessage: message });
          continue;
        }
        const results = res.Entries ?? [];
        batch.forEach((p, i) => {
          const r = results[i];
          if (r?.EventId && !r.ErrorCode) return;
          const errorCode = r?.ErrorCode ?? 'NoResult';
          const errorMessage = r?.ErrorMessage ?? 'PutEvents returned no result for this entry';
          if (!last && (RETRYABLE_ENTRY_ERRORS.has(errorCode) || errorCode === 'NoResult')) retry.push(p);
          else failed.push({ event: p.event, errorCode, errorMessage });
        });
      }
      pending = retry;
    }
    return { failed };
  }
}

/** Groups entries in order into calls of at most 10 entries and under 256 KB. */
function batches(items: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const p of items) {
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_PUT || bytes + p.size >= MAX_PUT_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
