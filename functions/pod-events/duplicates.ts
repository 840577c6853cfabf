/**
 * A pod termination handled once, whoever sends it. The forwarder runs two replicas and each sends every
 * termination (docs/pod-events.md), and kubernetes-event-exporter's `Killing` may arrive too: without this,
 * each copy describes the pod's groups again, twice the Describe load during a rollout on the account bucket
 * the Load Balancer Controller needs to register the replacement pods.
 *
 * The first event for a pod incarnation (its uid) and kind (terminating, or not-ready) claims it in the state
 * table (`podsignal#<uid>#<kind>`, put if absent, kept `windowMs`); a copy from another sender (another event
 * id) finds the claim and is ignored before any ELB call. The event that holds the claim is the one whose
 * outcome counts: its own retries (the same event id, Lambda's async retry) go on, and when it fails its
 * claim is released, so a copy or a retry can do the work. Without an event id nothing is claimed.
 */
import type { StateStorePort } from '#core/ports/state-store.ts';

/** The state-table key of a pod incarnation's claim. */
export const podSignalKey = (uid: string, kind: 'terminating' | 'not-ready'): string => `podsignal#${uid}#${kind}`;

/** What claiming a signal decided. */
export type Claim = { readonly first: true; readonly key: string | undefined } | { readonly first: false; readonly by: string };

/** Claims of pod signals in the state table (see the module comment). */
export class PodSignalClaims {
  readonly #store: Pick<StateStorePort, 'putIfAbsent' | 'get' | 'deleteIfOwner'>;
  readonly #windowMs: number;

  constructor(store: Pick<StateStorePort, 'putIfAbsent' | 'get' | 'deleteIfOwner'>, windowMs: number) {
    this.#store = store;
    this.#windowMs = windowMs;
  }

  /** Claims the signal for this event; `first: false` when another event holds it (a copy: ignore it). */
  async claim(signal: { readonly uid: string; readonly kind: 'terminating' | 'not-ready'; readonly eventId: string | undefined }, now: Date): Promise<Claim> {
    if (signal.eventId === undefined || this.#windowMs <= 0) return { first: true, key: undefined };
    const key = podSignalKey(signal.uid, signal.kind);
    if (await this.#store.putIfAbsent({ key, owner: signal.eventId, expiresAt: new Date(now.getTime() + this.#windowMs), data: {} }, now)) return { first: true, key };
    const held = await this.#store.get(key, now);
    // Gone meanwhile (released by a failed first): this one does the work, unclaimed (the next copy may too).
    if (!held || held.owner === signal.eventId) return { first: true, key: held ? key : undefined };
    return { first: false, by: held.owner };
  }

  /** Releases a claim after a failure, so the work is done by whichever copy or retry comes next. */
  async release(key: string, eventId: string): Promise<void> {
    await this.#store.deleteIfOwner(key, eventId);
  }
}
