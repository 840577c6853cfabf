/**
 * What the traffic-shift and failover workflows need. The handler builds it once per container; tests and
 * the demo build it against the fake AWS through the same wiring.
 */
import type { AuditSink } from '#core/audit.ts';
import type { Executor } from '#core/executor/executor.ts';
import type { Elbv2Port, EventBusPort } from '#core/ports/index.ts';
import type { OneTimeSchedulerPort } from '#core/ports/scheduler.ts';
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { Logger } from '#core/telemetry.ts';
import type { TrafficConfig } from './config.ts';
import type { TrafficPlanSource } from './plans.ts';

/** Dependencies of the traffic workflows. */
export interface TrafficDeps {
  readonly config: TrafficConfig;
  /** The traffic plans, read when an event needs them (SSM, cached; or fixed at cold start). */
  readonly plans: TrafficPlanSource;
  readonly elbv2: Elbv2Port;
  readonly executor: Executor;
  readonly audit: AuditSink;
  /** Lifecycle events (Started, Completed, Aborted, ...); undefined = logged only. */
  readonly bus: EventBusPort | undefined;
  readonly store: StateStorePort;
  readonly scheduler: OneTimeSchedulerPort;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Waits between verification reads (tests advance the fake clock instead). */
  readonly sleep: (ms: number) => Promise<void>;
}
