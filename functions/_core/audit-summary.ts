/**
 * The audit trail, summarised for the on-call engineer who has to decide whether dry run can be turned off
 * ("watch the plans for a few days"), or who wants to know what quiesce did last night: per trigger and per
 * target group (or Cloud Map service), what was deregistered, what would have been (dry run), what a guard
 * held back and why, what failed; the rejections, the traffic shifts, the preflight results. Pure: it reads
 * the events audit.ts publishes (a plan split into parts joined again by `planId`), as `quiesce audit` gets
 * them from the audit log group.
 */

/** An EventBridge event as the audit trail keeps it. */
export interface AuditEnvelope {
  readonly 'detail-type'?: unknown;
  readonly source?: unknown;
  readonly time?: unknown;
  readonly detail?: unknown;
}

/** Counts of one trigger, or one group. */
export interface AuditCounts {
  /** Actions applied (deregistered, submitted to Cloud Map, weights written). */
  applied: number;
  /** Actions a dry run would have applied. */
  wouldApply: number;
  /** Actions a guard held back (at planning, or under the lease at apply time). */
  heldBack: number;
  failed: number;
}

/** The summary. */
export interface AuditSummary {
  readonly from: string;
  readonly to: string;
  readonly events: number;
  readonly plans: { readonly total: number; readonly dryRun: number; readonly live: number };
  readonly byTrigger: Readonly<Record<string, AuditCounts & { plans: number }>>;
  /** Per target group (`target <group>`), Cloud Map service (`cloudmap <service>`) or rule (`weights <rule>`). */
  readonly byGroup: Readonly<Record<string, AuditCounts>>;
  /** What the guards held back: per guard, how many, and the first few reasons (each names its target). */
  readonly guards: Readonly<Record<string, { count: number; examples: readonly string[] }>>;
  readonly failures: readonly { readonly action: string; readonly error: string; readonly count: number }[];
  readonly rejected: number;
  readonly shifts: Readonly<Record<string, number>>;
  readonly preflights: readonly { readonly function: string; readonly time: string; readonly ok: boolean; readonly failed: readonly string[] }[];
}

interface PlanPart {
  planId: string;
  trigger: string;
  dryRun: boolean;
  outcomes: { action: string; status: string; error?: string }[];
  heldBack: { action: string; guard: string; reason: string }[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(obj) : []);

/** The group an action key names: `target k8s-web 10.0.1.5:8080` -> `target k8s-web`. */
export function groupOfAction(action: string): string {
  const [kind = '', name = ''] = action.split(' ');
  return kind === 'target' || kind === 'cloudmap' || kind === 'weights' ? `${kind} ${name}` : action;
}

const APPLIED = new Set(['deregistered', 'submitted', 'applied']);
const zero = (): AuditCounts => ({ applied: 0, wouldApply: 0, heldBack: 0, failed: 0 });

/** Summarises the audit events of a window (any order; parts of one plan anywhere in it). */
export function summariseAudit(events: readonly AuditEnvelope[], window: { from: Date; to: Date }): AuditSummary {
  const plans = new Map<string, PlanPart>();
  let rejected = 0;
  const shifts: Record<string, number> = {};
  const preflights: AuditSummary['preflights'][number][] = [];
  for (const e of events) {
    const type = str(e['detail-type']);
    const d = obj(e.detail);
    if (type === 'Deregistration Plan Applied') {
      const id = str(d['planId']);
      const plan = plans.get(id) ?? { planId: id, trigger: str(d['trigger']) || 'unknown', dryRun: d['dryRun'] === true, outcomes: [], heldBack: [] };
      plan.outcomes.push(...arr(d['outcomes']).map((o) => ({ action: str(o['action']), status: str(o['status']), ...(typeof o['error'] === 'string' ? { error: o['error'] } : {}) })));
      plan.heldBack.push(...arr(d['heldBack']).map((h) => ({ action: str(h['action']), guard: str(h['guard']), reason: str(h['reason']) })));
      plans.set(id, plan);
    } else if (type === 'Event Rejected') rejected += 1;
    else if (type.startsWith('Traffic Shift ')) shifts[type.slice('Traffic Shift '.length).toLowerCase()] = (shifts[type.slice('Traffic Shift '.length).toLowerCase()] ?? 0) + 1;
    else if (type === 'Preflight Checked') {
      preflights.push({ function: str(d['function']), time: str(e.time), ok: d['ok'] === true, failed: arr(d['checks']).filter((c) => c['status'] === 'fail').map((c) => `${str(c['title'])}: ${str(c['detail'])}`) });
    }
  }
  const byTrigger: Record<string, AuditCounts & { plans: number }> = {};
  const byGroup: Record<string, AuditCounts> = {};
  const guards: Record<string, { count: number; examples: string[] }> = {};
  const failures = new Map<string, { action: string; error: string; count: number }>();
  for (const p of plans.values()) {
    const t = (byTrigger[p.trigger] ??= { plans: 0, ...zero() });
    t.plans += 1;
    for (const o of p.outcomes) {
      const g = (byGroup[groupOfAction(o.action)] ??= zero());
      const field: keyof AuditCounts | undefined = o.status === 'dry-run' ? 'wouldApply' : APPLIED.has(o.status) ? 'applied' : o.status === 'failed' ? 'failed' : o.status === 'refused' ? 'heldBack' : undefined;
      if (!field) continue;
      t[field] += 1;
      g[field] += 1;
      if (o.status === 'failed') {
        const key = `${groupOfAction(o.action)}\n${o.error ?? ''}`;
        const f = failures.get(key) ?? { action: groupOfAction(o.action), error: o.error ?? 'unknown', count: 0 };
        f.count += 1;
        failures.set(key, f);
      }
    }
    for (const h of p.heldBack) {
      t.heldBack += 1;
      (byGroup[groupOfAction(h.action)] ??= zero()).heldBack += 1;
      const guard = (guards[h.guard || 'unknown'] ??= { count: 0, examples: [] });
      guard.count += 1;
      if (guard.examples.length < 3 && !guard.examples.includes(h.reason)) guard.examples.push(h.reason);
    }
  }
  const dryRun = [...plans.values()].filter((p) => p.dryRun).length;
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    events: events.length,
    plans: { total: plans.size, dryRun, live: plans.size - dryRun },
    byTrigger,
    byGroup,
    guards,
    failures: [...failures.values()].sort((a, b) => b.count - a.count),
    rejected,
    shifts,
    preflights,
  };
}

/** The summary as text: the totals, a table per trigger, per group, the guards, the failures. */
export function formatAuditSummary(s: AuditSummary): string {
  const out: string[] = [`quiesce audit: ${s.from} .. ${s.to}: ${s.events} event(s), ${s.plans.total} plan(s) (${s.plans.dryRun} dry run, ${s.plans.live} live)`];
  const row = (name: string, c: AuditCounts, extra = ''): string => `  ${name.padEnd(40)} ${String(c.applied).padStart(8)} ${String(c.wouldApply).padStart(12)} ${String(c.heldBack).padStart(9)} ${String(c.failed).padStart(7)}${extra}`;
  const head = `  ${''.padEnd(40)} ${'applied'.padStart(8)} ${'would apply'.padStart(12)} ${'held back'.padStart(9)} ${'failed'.padStart(7)}`;
  if (Object.keys(s.byTrigger).length > 0) {
    out.push('', 'per trigger', head);
    for (const [t, c] of Object.entries(s.byTrigger).sort()) out.push(row(`${t} (${c.plans} plan(s))`, c));
    out.push('', 'per target group / Cloud Map service / rule', head);
    for (const [g, c] of Object.entries(s.byGroup).sort((a, b) => b[1].applied + b[1].wouldApply - (a[1].applied + a[1].wouldApply) || a[0].localeCompare(b[0]))) out.push(row(g, c));
  }
  if (Object.keys(s.guards).length > 0) {
    out.push('', 'held back by a guard');
    for (const [g, v] of Object.entries(s.guards)) {
      out.push(`  ${g}: ${v.count}${v.count > v.examples.length ? `, e.g.` : ''}`);
      for (const r of v.examples) out.push(`    ${r}`);
    }
  }
  if (s.failures.length > 0) {
    out.push('', 'failed');
    for (const f of s.failures) out.push(`  ${f.count} x ${f.action}: ${f.error}`);
  }
  if (Object.keys(s.shifts).length > 0) out.push('', `traffic shifts: ${Object.entries(s.shifts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  out.push('', `rejected inputs: ${s.rejected}`);
  for (const p of s.preflights) out.push(`preflight ${p.function} at ${p.time}: ${p.ok ? 'passed' : `FAILED (${p.failed.join('; ')})`}`);
  return `${out.join('\n')}\n`;
}
