/**
 * Human output of the CLI: plain aligned tables (no colours, no box drawing), so the output reads the same
 * in a terminal, a CI log and a ticket. `--json` bypasses all of this.
 */
import type { Plan, PlanAction } from '#core/domain/plan.ts';
import { actionKey } from '#core/domain/plan.ts';
import { withPort } from '#core/domain/ip.ts';
import { targetGroupNameOf } from '#core/domain/target-group-arn.ts';
import type { ApplyResult } from '#core/executor/executor.ts';
import type { PlanDifference } from './confirmed.ts';

/** Renders rows as an aligned table with a header line; empty rows give "(none)". */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** One row per action: what, where, current state, why. */
function actionRow(a: PlanAction): string[] {
  switch (a.kind) {
    case 'deregister-target':
      return ['target', a.target.targetGroupName, withPort(a.target.id, a.target.port ?? '-'), a.target.state, a.why];
    case 'deregister-instance':
      return ['cloudmap', `${a.instance.namespaceName}/${a.instance.serviceName}`, a.instance.instanceId, '-', a.why];
    case 'set-weights':
      return ['weights', a.ruleArn, a.weights.map((w) => `${targetGroupNameOf(w.targetGroupArn)}=${w.weight}`).join(','), '-', a.why];
  }
}

/** The plan as an operator reads it: actions, held-back actions with the guard's reason, warnings. */
export function formatPlan(plan: Plan): string {
  let out = `Plan ${plan.id} (${plan.trigger}) for ${plan.subject}\n\n`;
  out += `Actions (${plan.actions.length}):\n`;
  out += table(['KIND', 'GROUP / SERVICE', 'TARGET', 'STATE', 'WHY'], plan.actions.map(actionRow));
  out += `\nHeld back by a guard (${plan.heldBack.length}):\n`;
  out += table(['GUARD', 'ACTION', 'REASON'], plan.heldBack.map((h) => [h.guard, actionKey(h.action), h.reason]));
  if (plan.warnings.length > 0) out += `\nWarnings:\n${plan.warnings.map((w) => `  ! ${w.text}`).join('\n')}\n`;
  return out;
}

/** What changed between the plan shown and a fresh look: `+` new actions, `-` actions no longer planned. */
export function formatPlanDifference(difference: PlanDifference): string {
  const rows = [...difference.added.map((a) => ['+', ...actionRow(a)]), ...difference.gone.map((a) => ['-', ...actionRow(a)])];
  return table(['', 'KIND', 'GROUP / SERVICE', 'TARGET', 'STATE', 'WHY'], rows);
}

/** What the executor did, per action, with counts. */
export function formatResult(result: ApplyResult): string {
  const counts = Object.entries(result.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ');
  let out = `Result${result.dryRun ? ' (dry run: nothing written)' : ''}: ${counts || 'nothing to do'}\n`;
  out += table(
    ['STATUS', 'ACTION', 'ATTEMPTS', 'ERROR'],
    result.outcomes.map((o) => [o.status, o.key, String(o.attempts), o.error ? `${o.error.name}: ${o.error.message}` : '']),
  );
  return out;
}
