/**
 * The decision "does this pod change deserve an event?", kept pure (previous memory + next pod -> signal +
 * next memory) so the once-per-pod rules are unit-tested without a watch stream. The memory is tiny on
 * purpose: the forwarder holds one per pod, and 5,000 pods must fit well under 150 MB.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { deletionTimestampOf, isPodReady } from './pod.ts';
import type { PodEventReason } from '../_core/contracts/pod-terminating.ts';

/** What the forwarder remembers about one pod between observations (keyed by uid elsewhere). */
export interface PodMemory {
  readonly namespace: string;
  readonly name: string;
  /** Ready condition at the last observation; a true -> false flip is the not-ready signal. */
  readonly ready: boolean;
  /** A deletion signal was already produced (or is not needed): never produce a second one. */
  readonly terminationSignalled: boolean;
}

/** The detector's verdict: the signal to forward (if any) and the memory to keep for next time. */
export interface Detection {
  readonly signal: PodEventReason | undefined;
  readonly memory: PodMemory;
}

/** Options of the detector; only the opt-in for not-ready signals today. */
export interface DetectorOptions {
  readonly forwardNotReady: boolean;
}

/**
 * Decides on one observation of a pod (from a list, or an ADDED/MODIFIED/DELETED watch event).
 *
 * - `deletion` the first time the pod is seen with a deletionTimestamp, whether that is a MODIFIED event, the
 *   initial list after a restart, a re-list after 410 Gone, or a DELETED event we never saw coming (force
 *   delete, or a watch gap): late is still earlier than the controllers.
 * - `not-ready` (opt-in) when the pod was Ready at the previous observation, is not Ready now and is not
 *   being deleted (a deleted pod already got its `deletion`). A pod seen for the first time has no "before",
 *   so it never yields not-ready: we cannot tell a flip from a pod that was never Ready.
 */
export function detect(prev: PodMemory | undefined, pod: V1Pod, options: DetectorOptions): Detection {
  const deleting = deletionTimestampOf(pod) !== null;
  const ready = isPodReady(pod);
  const alreadySignalled = prev?.terminationSignalled ?? false;
  let signal: PodEventReason | undefined;
  if (deleting && !alreadySignalled) signal = 'deletion';
  else if (!deleting && options.forwardNotReady && prev?.ready === true && !ready) signal = 'not-ready';
  return {
    signal,
    memory: {
      namespace: pod.metadata?.namespace ?? prev?.namespace ?? '',
      name: pod.metadata?.name ?? prev?.name ?? '',
      ready,
      terminationSignalled: alreadySignalled || deleting,
    },
  };
}
