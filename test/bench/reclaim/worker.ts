/**
 * A worker process of the reclaim bench: runs the jobs its parent sends (one at a time) and sends each result
 * back. A run spends most of its wall time waiting on loopback round trips (the fake AWS, the fake Kubernetes
 * API, the forwarder), not computing, so a few runs side by side finish the sweep sooner; each run has its
 * own fakes and virtual clock, so its result does not depend on which process ran it.
 */
import { runJob, type ReclaimJob } from './job.ts';

process.env['LOG_LEVEL'] ??= 'SILENT';

/** What the parent sends. */
export type WorkerMessage = { readonly job: ReclaimJob; readonly full: boolean } | { readonly stop: true };

process.on('message', (msg: WorkerMessage) => {
  if ('stop' in msg) {
    process.disconnect();
    return;
  }
  runJob(msg.job, msg.full).then(
    (result) => process.send?.({ result }),
    (err: unknown) => process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.send?.({ ready: true });
