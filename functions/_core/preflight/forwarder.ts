/**
 * The pod forwarder's last publish, as pod-events received it (the heartbeat it records in the state
 * table: adapters/aws/forwarder-heartbeat.ts). A forwarder that cannot publish is quiet: it keeps watching,
 * and nothing in AWS moves. Its silence is judged by the same window as the `pod-events-silent` alarm.
 */
import { lastForwarderHeartbeat } from '../adapters/aws/forwarder-heartbeat.ts';
import type { StateStorePort } from '../ports/state-store.ts';
import { errorText, fail, pass, type Check, type PreflightFunction } from './checklist.ts';
import type { PreflightTarget } from './target.ts';

/** Checks that pod-events heard from the forwarder within POD_EVENT_SILENCE_HOURS. */
export async function checkForwarder(fn: PreflightFunction, store: Pick<StateStorePort, 'get'> | undefined, target: PreflightTarget, now: Date): Promise<Check> {
  const title = 'the pod forwarder published lately';
  const hours = target.config.podEventSilenceHours;
  const fix = `kubectl -n quiesce get pods (not ready: PutEvents failing, docs/operations.md#quiesceforwarderpublishfailing); kubectl -n quiesce logs deploy/pod-forwarder; a cluster that deletes no pod for ${hours} h needs a longer podEventSilenceHours`;
  if (!store) return fail(fn, 'forwarder.last-publish', title, 'STATE_TABLE is not set: pod-events records no heartbeat', 'deploy the stack (it sets STATE_TABLE)');
  try {
    const heard = await lastForwarderHeartbeat(store, target.config.clusterName, now);
    const age = heard ? (now.getTime() - Date.parse(heard.receivedAt)) / 1000 : undefined;
    if (heard && age !== undefined && age <= hours * 3600) return pass(fn, 'forwarder.last-publish', title, `last event received ${Math.round(age / 60)} min ago (${heard.receivedAt}; seen by the forwarder ${heard.observedAt ?? 'at an unknown time'})`);
    return fail(fn, 'forwarder.last-publish', title, heard ? `last event received ${heard.receivedAt}, more than ${hours} h ago` : `no event from the forwarder received in the last ${hours + 24} h (or ever)`, fix);
  } catch (err) {
    return fail(fn, 'forwarder.last-publish', title, `the state table: ${errorText(err)}`, 'the caller needs dynamodb:GetItem on the state table');
  }
}
