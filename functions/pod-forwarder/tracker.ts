/**
 * The forwarder's memory of pods, keyed by uid, fed by the watcher (list pages and watch events) and turning
 * the detector's verdicts into termination signals. It is where "once per pod" is enforced across watch
 * restarts: a re-list after 410 Gone runs through the same memory, so a termination already signalled is not
 * signalled again, while one that happened during the gap is signalled when the re-list shows it.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { detect, type PodMemory } from './detector.ts';
import { podToEvent } from './pod.ts';
import type { PodTerminatingDetail } from '../_core/contracts/pod-terminating.ts';
import type { Logger } from './log.ts';

/** What the watcher hands on: one pod event to publish, already in the contract's shape. */
export interface TerminationSignal {
  readonly detail: PodTerminatingDetail;
}

/** How the pod was observed; `deleted` also forgets the pod. */
export type Observation = 'list' | 'added' | 'modified' | 'deleted';

/** A re-list in progress for one scope (a namespace, or all when undefined): which uids it has shown. */
export interface RelistSession {
  readonly scope: string | undefined;
  readonly seen: Set<string>;
}

/** Dependencies of the tracker; `now` is injected so tests and the bench control observedAt. */
export interface PodTrackerOptions {
  readonly cluster: string;
  readonly forwardNotReady: boolean;
  readonly emit: (signal: TerminationSignal) => void;
  readonly log: Logger;
  readonly now?: () => Date;
  /** How many signalled-and-gone uids to remember against stale re-lists (default 10,000). */
  readonly recentCapacity?: number;
}

/**
 * Pod memory + once-per-uid enforcement. Holds a few bytes per live pod (see PodMemory), never whole pod
 * objects, so watching thousands of pods stays cheap.
 */
export class PodTracker {
  readonly #pods = new Map<string, PodMemory>();
  /** uids whose termination was signalled and which then left: guards against stale lists resurrecting them. */
  readonly #recent = new Map<string, true>();
  readonly #o: PodTrackerOptions;
  readonly #now: () => Date;
  readonly #recentCapacity: number;

  constructor(options: PodTrackerOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#recentCapacity = options.recentCapacity ?? 10_000;
  }

  /** Number of pods currently remembered (a gauge for memory questions). */
  get size(): number {
    return this.#pods.size;
  }

  /** Feeds one observation through the detector; emits at most one signal. */
  observe(pod: V1Pod, how: Observation, session?: RelistSession): void {
    const uid = pod.metadata?.uid;
    if (!uid) {
      this.#o.log.warn('pod without uid ignored', { namespace: pod.metadata?.namespace, name: pod.metadata?.name });
      return;
    }
    session?.seen.add(uid);
    let prev = this.#pods.get(uid);
    if (prev === undefined && this.#recent.has(uid)) {
      prev = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', ready: false, terminationSignalled: true };
    }
    const { signal, memory } = detect(prev, pod, { forwardNotReady: this.#o.forwardNotReady });
    if (how === 'deleted') {
      this.#pods.delete(uid);
      if (memory.terminationSignalled) this.#remember(uid);
    } else {
      this.#pods.set(uid, memory);
    }
    if (signal === undefined) return;
    const detail = podToEvent(pod, this.#o.cluster, this.#now());
    if (detail.podIPs.length === 0) {
      this.#o.log.info('pod has no IP: nothing to deregister', { namespace: detail.namespace, name: detail.name, uid, reason: signal });
      return;
    }
    this.#o.emit({ detail });
  }

  /** Starts a re-list of `scope` (a namespace, or every namespace when undefined). */
  startRelist(scope: string | undefined): RelistSession {
    return { scope, seen: new Set() };
  }

  /**
   * Ends a re-list: pods of that scope that the list did not show are gone. If their termination was never
   * signalled, they were deleted while we were not watching and their IP has already left the cluster:
   * there is nothing left to deregister *early*, so this is only logged.
   */
  finishRelist(session: RelistSession): void {
    for (const [uid, m] of this.#pods) {
      if (session.seen.has(uid)) continue;
      if (session.scope !== undefined && m.namespace !== session.scope) continue;
      this.#pods.delete(uid);
      if (m.terminationSignalled) {
        this.#remember(uid);
      } else {
        this.#o.log.warn('pod vanished while the watch was down; nothing left to deregister early', {
          namespace: m.namespace,
          name: m.name,
          uid,
        });
      }
    }
  }

  #remember(uid: string): void {
    this.#recent.delete(uid);
    this.#recent.set(uid, true);
    if (this.#recent.size > this.#recentCapacity) {
      const oldest = this.#recent.keys().next();
      if (!oldest.done) this.#recent.delete(oldest.value);
    }
  }
}
