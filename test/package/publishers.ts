/**
 * Who may put what on the quiesce bus: one table, read from the code, that both the packaged template's IAM
 * conditions (package.test.ts) and the handlers' real behaviour (test/integration/publishers.test.ts) are
 * checked against. Kept apart from the handlers so the package test does not load them.
 */
import { AuditDetailType, QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import { DETAIL_TYPE_POD_NOT_READY, DETAIL_TYPE_POD_TERMINATING, POD_EVENT_SOURCE } from '#core/contracts/pod-terminating.ts';
import { TrafficDetailType } from '#core/contracts/traffic.ts';

/** One (source, detail-type) pair a principal may put on the quiesce bus. */
export type PublishedKind = readonly [source: string, detailType: string];

const AUDIT: PublishedKind[] = [
  [QUIESCE_SOURCE, AuditDetailType.planApplied],
  [QUIESCE_SOURCE, AuditDetailType.eventRejected],
];

/** The deregistering functions also publish their preflight on a cold start in dry run (preflight/cold-start.ts). */
const DEREGISTERING: PublishedKind[] = [...AUDIT, [QUIESCE_SOURCE, AuditDetailType.preflightChecked]];

/**
 * What each deployed principal publishes, read from the code (audit.ts, webhook.ts, traffic-shift/shift.ts,
 * adapters/aws/one-time-scheduler.ts, the forwarder): the template's PutEvents conditions must allow exactly
 * this (test/package), and the handlers must publish nothing else (test/integration/publishers.test.ts).
 * Keyed by IAM role logical id.
 */
export const PUBLISHES: Readonly<Record<string, readonly PublishedKind[]>> = {
  SpotInterruptionRole: DEREGISTERING,
  SweeperRole: DEREGISTERING,
  PodEventsRole: DEREGISTERING,
  DeployWebhookRole: [[QUIESCE_SOURCE, TrafficDetailType.deploymentSynced]],
  TrafficShiftRole: [
    ...[TrafficDetailType.started, TrafficDetailType.stepApplied, TrafficDetailType.completed, TrafficDetailType.aborted, TrafficDetailType.refused].map((d): PublishedKind => [QUIESCE_SOURCE, d]),
    ...AUDIT,
  ],
  // Scheduler puts the shift's own step and failover-check events with this role.
  SchedulerInvokeRole: [
    [QUIESCE_SOURCE, TrafficDetailType.stepDue],
    [QUIESCE_SOURCE, TrafficDetailType.failoverCheck],
  ],
  // The in-cluster forwarder, under the role the stack gives it through EKS Pod Identity (cluster.yml).
  PodForwarderRole: [
    [POD_EVENT_SOURCE, DETAIL_TYPE_POD_TERMINATING],
    [POD_EVENT_SOURCE, DETAIL_TYPE_POD_NOT_READY],
  ],
};
