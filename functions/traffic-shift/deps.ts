/**
 * What the traffic-shift and failover workflows need. The handler builds it once per container; tests and
 * the demo build it against the fake AWS through the same wiring. Everything it writes is a section of the
 * write port (ports/writes.ts), live or recording: the workflows never know which.
 */
import type { AuditSink } from '#core/audit.ts';
import type { Executor } from '#core/executor/executor.ts';
import type { Elbv2Reads, EventBusPort } from '#core/ports/index.ts';
import type { OneTimeSchedulerPort } from '#core/ports/scheduler.ts';
import type { StateStorePort } from '#core/ports/state-store.ts';
import type { WritePort } from '#core/ports/writes.ts';
import type { Logger } from '#core/telemetry.ts';
import type { TrafficConfig } from './config.ts';
import type { TrafficPlanSource } from './plans.ts';

/** Dependencies of the traffic workflows. */
export interface TrafficDeps {
  readonly config: TrafficConfig;
  /** The traffic plans, read when an event needs them (SSM, cached; or fixed at cold start). */
  readonly plans: TrafficPlanSource;
  readonly elbv2: Elbv2Reads;
  /** The write port's mode and ELB side (ModifyRule, and reading a written rule back to verify it). */
  readonly writes: Pick<WritePort, 'mode' | 'elbv2' | 'cloudMap' | 'recorded'>;
  readonly executor: Executor;
  readonly audit: AuditSink;
  /** Lifecycle events (Started, Completed, Aborted, ...), a write of the write port; undefined = logged only. */
  readonly bus: EventBusPort | undefined;
  /** Locks, claims and remembered weights (the write port's state table). */
  readonly store: StateStorePort;
  /** Step schedules (the write port's). */
  readonly scheduler: OneTimeSchedulerPort;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Waits between verification reads (tests advance the fake clock instead). */
  readonly sleep: (ms: number) => Promise<void>;
}
