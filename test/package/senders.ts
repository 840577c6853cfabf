/**
 * Who the deployed stack lets speak to quiesce: the principals the node-signal queue accepts and the
 * producer of each detail-type on the quiesce bus, as docs/security.md lists them. The package test checks
 * the rendered template against this statement by statement (test/package/trust.test.ts), and that the docs
 * name the same; the deployed-policy scenarios install the rendered policies into the fake AWS
 * (deployed.ts).
 */
import { AuditDetailType, DetailType } from '#core/contracts/node-events.ts';
import { DETAIL_TYPE_POD_NOT_READY, DETAIL_TYPE_POD_TERMINATING } from '#core/contracts/pod-terminating.ts';
import { TrafficDetailType } from '#core/contracts/traffic.ts';

/** Who may send to the node-signal queue: roles and rules of the stack, and the parameters that add more. */
export const QUEUE_SENDERS = {
  /** Role logical ids (aws:PrincipalArn). */
  roles: ['SpotInterruptionRole', 'ScheduledChangeSchedulerRole'],
  /** EventBridge rule logical ids (EventBridge with aws:SourceArn). */
  rules: ['SpotSignalsRule', 'InstanceStateRule', 'LifecycleHookRule', 'HealthScheduledChangeRule'],
  /** Parameters listing more roles (comma-separated ARNs). */
  roleParameters: ['LifecycleNotificationRoleArns', 'NodeSignalRedriveRoleArns'],
  /** Parameters listing SNS topics (SNS with aws:SourceArn). */
  topicParameters: ['LifecycleNotificationTopicArns'],
} as const;

/** The kubernetes-event-exporter's detail-type (the pod-events rule's pattern). */
export const KUBERNETES_EVENT = 'Kubernetes Event';

/**
 * Each detail-type quiesce reads or writes on its bus, and who alone may put it there: role logical ids,
 * plus parameters listing roles. An empty list: nobody (it never travels on the bus).
 */
export const BUS_PRODUCERS: Readonly<Record<string, { readonly roles: readonly string[]; readonly roleParameters?: readonly string[] }>> = {
  [DETAIL_TYPE_POD_TERMINATING]: { roles: ['PodForwarderRole'] },
  [DETAIL_TYPE_POD_NOT_READY]: { roles: ['PodForwarderRole'] },
  [KUBERNETES_EVENT]: { roles: [], roleParameters: ['EventExporterRoleArns'] },
  [TrafficDetailType.deploymentSynced]: { roles: ['DeployWebhookRole'] },
  [TrafficDetailType.stepDue]: { roles: ['SchedulerInvokeRole'] },
  [TrafficDetailType.failoverCheck]: { roles: ['SchedulerInvokeRole'] },
  ...Object.fromEntries([TrafficDetailType.started, TrafficDetailType.stepApplied, TrafficDetailType.completed, TrafficDetailType.aborted, TrafficDetailType.refused].map((d) => [d, { roles: ['TrafficShiftRole'] }])),
  [AuditDetailType.planApplied]: { roles: ['SpotInterruptionRole', 'SweeperRole', 'PodEventsRole', 'TrafficShiftRole'] },
  [AuditDetailType.eventRejected]: { roles: ['SpotInterruptionRole', 'SweeperRole', 'PodEventsRole', 'TrafficShiftRole'] },
  [TrafficDetailType.watchdog]: { roles: [] },
  [DetailType.recheck]: { roles: [] },
  [DetailType.scheduledChangeDue]: { roles: [] },
};
