/**
 * Audit: every plan quiesce applies (or, in dry run, would apply) and its result are logged and published
 * as EventBridge events, so an operator can subscribe, archive and replay them. A large plan is split into
 * parts that each stay well under PutEvents' 256 KB limit; the parts share the plan id.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Plan } from './domain/plan.ts';
import { actionKey, planSummary } from './domain/plan.ts';
import type { ApplyResult } from './executor/executor.ts';
import { AuditDetailType, QUIESCE_SOURCE } from './contracts/node-events.ts';
import type { BusEvent, EventBusPort } from './ports/index.ts';

/** Budget for one audit event's detail: PutEvents allows 256 KB for the whole call; leave headroom. */
const PART_BYTES = 200 * 1024;

/** The outcome of one action, flattened for the audit record. */
interface AuditOutcome {
  action: string;
  status: string;
  why?: string;
  operationId?: string;
  error?: string;
}

/** Builds the audit events for a plan and its result (pure: exported for tests). */
export function auditEvents(plan: Plan, result: ApplyResult): BusEvent[] {
  const outcomes: AuditOutcome[] = result.outcomes.map((o) => ({
    action: o.key,
    status: o.status,
    ...(o.action.kind !== 'set-weights' || o.action.why ? { why: o.action.why } : {}),
    ...(o.operationId ? { operationId: o.operationId } : {}),
    ...(o.error ? { error: `${o.error.name}: ${o.error.message}` } : {}),
  }));
  const heldBack = plan.heldBack.map((h) => ({ action: h.action.kind === 'set-weights' ? h.action.ruleArn : actionKey(h.action), guard: h.guard, reason: h.reason }));
  const head = {
    planId: plan.id,
    trigger: plan.trigger,
    subject: plan.subject,
    createdAt: plan.createdAt,
    dryRun: result.dryRun,
    summary: planSummary(plan),
    counts: result.counts,
    retryableFailures: result.retryableFailures,
    permanentFailures: result.permanentFailures,
    // The text as it always was, and each warning's code beside it (same order): consumers select by code.
    warnings: plan.warnings.map((w) => w.text),
    warningCodes: plan.warnings.map((w) => w.code),
    ...(plan.candidates ? { candidates: plan.candidates } : {}),
  };
  const parts: { outcomes: AuditOutcome[]; heldBack: typeof heldBack }[] = [];
  let current: (typeof parts)[number] = { outcomes: [], heldBack: [] };
  let size = Buffer.byteLength(JSON.stringify(head));
  const push = (kind: 'outcomes' | 'heldBack', item: AuditOutcome | (typeof heldBack)[number]): void => {
    const n = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (size + n > PART_BYTES && (current.outcomes.length > 0 || current.heldBack.length > 0)) {
      parts.push(current);
      current = { outcomes: [], heldBack: [] };
      size = Buffer.byteLength(JSON.stringify(head));
    }
    (current[kind] as unknown[]).push(item);
    size += n;
  };
  for (const o of outcomes) push('outcomes', o);
  for (const h of heldBack) push('heldBack', h);
  parts.push(current);
  return parts.map((p, i) => ({
    source: QUIESCE_SOURCE,
    detailType: AuditDetailType.planApplied,
    detail: { ...head, part: i + 1, parts: parts.length, ...p },
  }));
}

/** Where audit events go: a bus (published) or nowhere but the log (when no bus is configured). */
export interface AuditSink {
  /** Publishes; returns how many events could not be published (already logged as errors). */
  record(plan: Plan, result: ApplyResult): Promise<number>;
  /** Publishes a rejection of an input event. */
  rejected(detail: Record<string, unknown>): Promise<number>;
}

/** Creates the audit sink. Publishing failures are logged loudly and counted, never thrown. */
export function createAuditSink(bus: EventBusPort | undefined, logger: Logger): AuditSink {
  const publish = async (events: BusEvent[]): Promise<number> => {
    if (!bus) return 0;
    try {
      const { failed } = await bus.publish(events);
      for (const f of failed) logger.error('audit event not published', { errorCode: f.errorCode, errorMessage: f.errorMessage, detailType: f.event.detailType });
      return failed.length;
    } catch (err) {
      logger.error('audit events not published', { error: err as Error, events: events.length });
      return events.length;
    }
  };
  return {
    async record(plan, result) {
      const events = auditEvents(plan, result);
      logger.info('plan applied', { audit: events.map((e) => e.detail) });
      return publish(events);
    },
    async rejected(detail) {
      return publish([{ source: QUIESCE_SOURCE, detailType: AuditDetailType.eventRejected, detail }]);
    },
  };
}
