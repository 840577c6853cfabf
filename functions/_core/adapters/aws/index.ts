/**
 * The AWS adapters in one import: the budget, the clients, and one SDK-backed implementation per port.
 * Handlers wire them once per container; tests wire the same classes against the fake AWS.
 */
export { ApiBudget, API_FAMILIES, DEFAULT_LIMITS, DEFAULT_RETRY, EMERGENCY_ELB_SHARE } from './budget.ts';
export type { ApiBudgetOptions, ApiFamily, BudgetClock, FamilyStats, RateLimit, RetryPolicy } from './budget.ts';
export { createAwsClients, sdkClientConfig } from './clients.ts';
export type { AwsClients, AwsClientsOptions } from './clients.ts';
export { AwsEc2 } from './ec2.ts';
export { AwsElbv2, MAX_TARGETS_PER_DEREGISTER } from './elbv2.ts';
export { AwsCloudMap } from './cloudmap.ts';
export { AwsAutoScaling } from './autoscaling.ts';
export { AwsEventBus, MAX_ENTRIES_PER_PUT, MAX_PUT_BYTES, putEventsEntrySize } from './event-bus.ts';
export type { AwsEventBusOptions } from './event-bus.ts';
export { AwsDelayQueue, MAX_DELAY_SECONDS } from './delay-queue.ts';
export { AwsQueueVisibility, queueUrlOf, MAX_VISIBILITY_SECONDS } from './queue-visibility.ts';
