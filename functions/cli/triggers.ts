/**
 * Which trigger an input is for, and the read-only plans of the triggers that are not node signals: a pod
 * termination (the pod-events workflow on the recording write port, no audit published), and a Deployment Synced, an
 * ArgoCD webhook body or a shift step (the shift's steps: the rule, its weights now, each step's weights
 * and its health gate, as the traffic-shift function would write them; nothing locked, claimed, scheduled
 * or written; the checks are the function's own: planOfSync, shiftableRule). A scheduled sweep is the sweeper's dry run (main.ts). Node signals go to the spot workflow
 * as before; anything unrecognised does too, whose parser names the field that is wrong.
 */
import { randomUUID } from 'node:crypto';
import { QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import { POD_EVENT_SOURCE } from '#core/contracts/pod-terminating.ts';
import { parseDeploymentSynced, parseTrafficEvent, TrafficDetailType, type DeploymentSynced, type ShiftState } from '#core/contracts/traffic.ts';
import type { HealthGate } from '#core/domain/health-gate.ts';
import type { Plan, WeightedTargetGroup } from '#core/domain/plan.ts';
import { uniqueWarnings, type PlanWarning } from '#core/domain/warnings.ts';
import { currentPercent, planShiftStep, remainingSteps } from '#core/domain/planners/traffic-shift.ts';
import { describeWeights, listenerArnOfRule } from '#core/domain/planners/traffic-weights.ts';
import type { Elbv2Port } from '#core/ports/index.ts';
import type { TrafficPlanConfig } from '../traffic-shift/config.ts';
import { planOfSync, readHealthGate, shiftableRule } from '../traffic-shift/shift.ts';
import { table } from './format.ts';

/** The trigger an input belongs to. */
export type Trigger = 'node' | 'pod' | 'sweep' | 'traffic' | 'argocd';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The trigger of one input, by its envelope: a scheduled event is the sweeper's, `quiesce.kubernetes` and
 * kubernetes-event-exporter events are pod-events', the shift's own events and ArgoCD's webhook body (no
 * envelope, an app and a revision) are the traffic shift's; everything else is read as a node signal.
 */
export function triggerOf(input: unknown, exporterSources: readonly string[]): Trigger {
  if (!isRecord(input)) return 'node';
  const source = input['source'];
  const detailType = input['detail-type'];
  if ((source === 'aws.events' || source === 'aws.scheduler') && detailType === 'Scheduled Event') return 'sweep';
  if (source === POD_EVENT_SOURCE || (typeof source === 'string' && exporterSources.includes(source))) return 'pod';
  if (source === QUIESCE_SOURCE && Object.values(TrafficDetailType).includes(detailType as never)) return 'traffic';
  if (source === undefined && detailType === undefined && 'app' in input && 'revision' in input) return 'argocd';
  return 'node';
}

/** One step of a planned shift, as the function would take it. */
export interface PlannedStep {
  readonly step: number;
  readonly of: number;
  readonly percent: number;
  /** When it would run, counted from now: the first at once, then one pause apart. */
  readonly at: string;
  readonly plan: Plan;
  /** The gate as it stands now (the function checks it again before each step). */
  readonly gate: HealthGate;
}

/** What a shift would do, or why it would not start. */
export type ShiftPlan =
  | { readonly status: 'ignored' | 'refused'; readonly app: string; readonly reason: string }
  | { readonly status: 'planned'; readonly app: string; readonly ruleArn: string; readonly weightsNow: readonly WeightedTargetGroup[]; readonly steps: readonly PlannedStep[]; readonly warnings: readonly PlanWarning[] };

/** What planning a shift reads: the ELBv2 port (reads only) and the traffic plans. */
export interface ShiftPlanDeps {
  readonly elbv2: Elbv2Port;
  readonly plans: ReadonlyMap<string, TrafficPlanConfig>;
  readonly now: () => Date;
}

/** The steps of a shift of `pair` from the rule as it is now (reads: DescribeRules, DescribeTags, DescribeTargetHealth). */
async function planSteps(
  deps: ShiftPlanDeps,
  shift: { app: string; subject: string; ruleArn: string; from: string; to: string; steps: readonly number[]; pauseSeconds: number; minHealthyTargets: number; running?: { original: readonly WeightedTargetGroup[]; stepIndex: number } },
): Promise<ShiftPlan> {
  const shiftable = await shiftableRule(deps.elbv2, shift);
  if ('refused' in shiftable) return { status: 'refused', app: shift.app, reason: shiftable.refused };
  const { rule, weights: weightsNow } = shiftable;
  const listenerArn = listenerArnOfRule(shift.ruleArn);
  // A running shift goes on from its own step, computed from the weights it started with.
  const original = shift.running?.original ?? weightsNow;
  const percents = shift.running ? shift.steps.slice(shift.running.stepIndex) : remainingSteps(shift.steps, currentPercent(shift, weightsNow));
  if (percents.length === 0) return { status: 'ignored', app: shift.app, reason: `already at ${shift.steps.at(-1)}% or more: nothing to shift` };
  const gate = await readHealthGate(deps.elbv2, shift);
  const now = deps.now();
  const offset = shift.steps.length - percents.length;
  const steps = percents.map((percent, i): PlannedStep => {
    const plan = planShiftStep({ planId: randomUUID(), now, pair: shift, listenerArn, actions: rule.actions, original, subject: shift.subject, percent, step: offset + i + 1, of: shift.steps.length });
    return {
      step: offset + i + 1,
      of: shift.steps.length,
      percent,
      at: new Date(now.getTime() + i * shift.pauseSeconds * 1000).toISOString(),
      plan,
      gate,
    };
  });
  return { status: 'planned', app: shift.app, ruleArn: shift.ruleArn, weightsNow, steps, warnings: uniqueWarnings(steps.flatMap((s) => s.plan.warnings)) };
}

/** The shift a sync would start (startShift's checks, without its claim, lock or writes). */
export async function planDeploymentSynced(deps: ShiftPlanDeps, synced: DeploymentSynced): Promise<ShiftPlan> {
  const planned = planOfSync(deps.plans, synced);
  if ('cfg' in planned) return planSteps(deps, { ...planned.cfg, subject: `${synced.app}@${synced.revision}` });
  const where = planned.ignored.code === 'no-plan' ? ' (TRAFFIC_PLANS_PATH, TRAFFIC_PLANS, TRAFFIC_PLANS_FILE or --traffic-plans)' : '';
  return { status: 'ignored', app: synced.app, reason: planned.ignored.text + where };
}

/** The rest of a running shift, from the step an event says is due. */
export function planShiftState(deps: ShiftPlanDeps, state: ShiftState): Promise<ShiftPlan> {
  return planSteps(deps, { ...state, subject: `${state.app}@${state.revision}`, running: { original: state.original, stepIndex: state.stepIndex } });
}

/**
 * Plans one traffic input: a shift event (Deployment Synced, Step Due) or ArgoCD's webhook body (as the
 * webhook would publish it). A failover check is not planned here: it is the failover's re-check.
 */
export async function planTraffic(deps: ShiftPlanDeps, input: unknown, trigger: 'traffic' | 'argocd'): Promise<ShiftPlan | { readonly status: 'unavailable'; readonly reason: string }> {
  const receivedAt = deps.now().toISOString();
  if (trigger === 'argocd') return planDeploymentSynced(deps, parseDeploymentSynced(input, receivedAt));
  const event = parseTrafficEvent(input, receivedAt);
  switch (event.kind) {
    case 'deployment-synced':
      return planDeploymentSynced(deps, event.synced);
    case 'step-due':
      return planShiftState(deps, event.state);
    case 'failover-check':
      return { status: 'unavailable', reason: 'a Weighted Rule Failover Check is the failover\'s own re-check: quiesce plan does not plan it (the traffic-shift function runs it)' };
    case 'watchdog':
      return { status: 'unavailable', reason: 'a Traffic Shift Watchdog takes over stranded shifts (it writes): quiesce plan does not plan it; plan the shift step it would run instead (aws dynamodb get-item on the rule\'s lock shows its state)' };
  }
}

/** The shift plan as an operator reads it. */
export function formatShiftPlan(p: ShiftPlan): string {
  if (p.status !== 'planned') return `${p.status.toUpperCase()} shift of ${p.app}: ${p.reason}\n`;
  let out = `Shift of ${p.app} on ${p.ruleArn}\nWeights now: ${describeWeights(p.weightsNow)}\n\nSteps (${p.steps.length}):\n`;
  out += table(
    ['STEP', 'TO NEW', 'WEIGHTS', 'AT', 'GATE NOW'],
    p.steps.map((s) => {
      const action = s.plan.actions[0];
      return [`${s.step}/${s.of}`, `${s.percent}%`, action?.kind === 'set-weights' ? describeWeights(action.weights) : '-', s.at, `${s.gate.healthy} healthy of ${s.gate.required} needed${s.gate.passes ? '' : ': WOULD ABORT (rolled back to the weights now)'}`];
    }),
  );
  if (p.warnings.length > 0) out += `\nWarnings:\n${p.warnings.map((w) => `  ! ${w.text}`).join('\n')}\n`;
  return out + 'Nothing was written: no lock, no claim, no schedule, no ModifyRule.\n';
}
